/* test_proxy_seatbelt.c — skillbox-proxy's own Seatbelt profile
 * (daemon/proxy/seatbelt_profile.c), on any host: the whole text against
 * tests/unit/golden/proxy_seatbelt.sb, and what a reviewer checks in it:
 * deny by default; no rule that allows writing a file, forking, executing
 * or signalling; the network allowed; a short buffer refused whole.
 * SKILLBOX_UPDATE_GOLDEN=1 rewrites the golden file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/proxy/seatbelt_profile.h"
#include "golden.h"

static char text[PROXY_SEATBELT_TEXT_MAX];

static void test_golden(void **state)
{
        (void)state;
        assert_int_equal(proxy_seatbelt_profile(text, sizeof(text)), 0);
        golden_check("proxy_seatbelt.sb", text);
}

/* Each "(allow ...)" rule's operations: none may write, fork, exec or
 * signal, whatever the filters after them. */
static void test_allows_nothing_that_changes_the_host(void **state)
{
        static const char *const never[] = {
                "file-write", "process-fork", "process-exec", "process*", "signal",
                "file*", "default", "mach-register", "iokit-open", "system-",
        };

        (void)state;
        assert_int_equal(proxy_seatbelt_profile(text, sizeof(text)), 0);
        assert_non_null(strstr(text, "(version 1)\n(deny default)\n"));
        for (const char *at = strstr(text, "(allow "); at; at = strstr(at + 1, "(allow ")) {
                const char *ops = at + strlen("(allow ");
                size_t n = strcspn(ops, "(\n)");

                for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
                        const char *hit = strstr(ops, never[i]);

                        if (hit && hit < ops + n)
                                fail_msg("rule allows %s: %.*s", never[i], (int)n, ops);
                }
        }
        assert_non_null(strstr(text, "\n(allow network*)\n"));
}

static void test_short_buffer(void **state)
{
        char small[64];
        size_t full;

        (void)state;
        assert_int_equal(proxy_seatbelt_profile(text, sizeof(text)), 0);
        full = strlen(text);
        memset(small, 'x', sizeof(small));
        assert_int_equal(proxy_seatbelt_profile(small, sizeof(small)), -E2BIG);
        assert_true(strlen(small) < sizeof(small));
        assert_int_equal(proxy_seatbelt_profile(text, full), -E2BIG);
        assert_int_equal(proxy_seatbelt_profile(text, full + 1), 0);
        assert_int_equal(proxy_seatbelt_profile(text, 0), -E2BIG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden),
                cmocka_unit_test(test_allows_nothing_that_changes_the_host),
                cmocka_unit_test(test_short_buffer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
