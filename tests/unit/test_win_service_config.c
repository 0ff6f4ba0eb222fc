/* test_win_service_config.c — how skillboxd --install-service registers the
 * Windows service (daemon/service_windows_config.c): golden files of the
 * configuration, and the command-line quoting (backends/windows/cmdline.c)
 * that keeps a path with spaces from being run from its first word and a
 * job's arguments from being split otherwise than its argv.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backends/windows/cmdline.h"
#include "daemon/service_windows_config.h"
#include "golden.h"

static void check(const char *golden, const char *exe, const char *config)
{
        struct sbd_win_service_config c;
        char text[4096];

        assert_int_equal(sbd_win_service_config(exe, config, &c), 0);
        assert_true(sbd_win_service_config_format(&c, text, sizeof(text)) > 0);
        golden_check(golden, text);
}

static void test_program_files(void **state)
{
        check("windows/service_program_files.txt", "C:\\Program Files\\skillbox\\skillboxd.exe",
              "C:\\ProgramData\\skillbox\\skillboxd.conf");
}

/* No space: quoted all the same. */
static void test_no_space(void **state)
{
        check("windows/service_no_space.txt", "C:\\skillbox\\skillboxd.exe", NULL);
}

static void test_refused(void **state)
{
        struct sbd_win_service_config c;
        char longpath[3000];

        assert_int_equal(sbd_win_service_config("skillboxd.exe", NULL, &c), -EINVAL);
        assert_int_equal(sbd_win_service_config("\\skillboxd.exe", NULL, &c), -EINVAL);
        assert_int_equal(sbd_win_service_config(NULL, NULL, &c), -EINVAL);
        assert_int_equal(sbd_win_service_config("C:\\s.exe", "rel.conf", &c), -EINVAL);
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[sizeof(longpath) - 1] = '\0';
        memcpy(longpath, "C:\\", 3);
        assert_int_equal(sbd_win_service_config(longpath, NULL, &c), -ENOSPC);
}

static void quote(const char *arg, const char *want)
{
        char buf[128];
        size_t pos = 0;

        assert_int_equal(sb_win_quote_arg(arg, buf, sizeof(buf), &pos), 0);
        assert_string_equal(buf, want);
        assert_int_equal(pos, strlen(want));
}

/* CommandLineToArgvW's rules: 2n backslashes before a quote are n, 2n+1
 * are n and a literal quote; elsewhere backslashes are literal. */
static void test_quote(void **state)
{
        char buf[4];
        size_t pos = 0;

        quote("plain", "plain");
        quote("C:\\a\\b", "C:\\a\\b");
        quote("", "\"\"");
        quote("a b", "\"a b\"");
        quote("tab\there", "\"tab\there\"");
        quote("say \"hi\"", "\"say \\\"hi\\\"\"");
        quote("C:\\dir with space\\", "\"C:\\dir with space\\\\\"");
        quote("a\\\"b", "\"a\\\\\\\"b\"");
        assert_int_equal(sb_win_quote_arg("a b c", buf, sizeof(buf), &pos), -ENOSPC);
        assert_true(strlen(buf) < sizeof(buf));
}

/* A job's argv as the command line CreateProcessW gets. */
static void test_cmdline(void **state)
{
        char *const argv[] = { "cmd.exe", "/c", "echo a b", "", "x\\", NULL };
        char *const empty0[] = { "", NULL };
        char buf[64], tiny[8];

        assert_int_equal(sb_win_cmdline(argv, buf, sizeof(buf)), 27);
        assert_string_equal(buf, "cmd.exe /c \"echo a b\" \"\" x\\");
        assert_int_equal(sb_win_cmdline(empty0, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(sb_win_cmdline(argv, tiny, sizeof(tiny)), -ENOSPC);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_program_files),
                cmocka_unit_test(test_no_space),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_quote),
                cmocka_unit_test(test_cmdline),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
