/* test_seatbelt.c — the macOS backend's policy -> Seatbelt profile
 * generator (backends/macos/seatbelt.c), on any host: the whole text and
 * its parameters against golden files in tests/unit/golden/, and the
 * properties a reviewer checks by hand in them (deny by default, writes
 * only to the job's directories, the network per mode, no host path in
 * the text). SKILLBOX_UPDATE_GOLDEN=1 rewrites the golden files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backends/backend.h"
#include "backends/macos/seatbelt.h"

static const struct sb_seatbelt_dirs dirs = {
        .work = "/var/lib/skillbox/jobs/j-1/work",
        .tmp = "/var/lib/skillbox/jobs/j-1/tmp",
        .home = "/var/lib/skillbox/jobs/j-1/tmp/home",
};

/* An allowlist job's proxy port, as the kernel might pick it on the host's
 * loopback; the other modes ignore it. */
#define PROXY_PORT 49321

static struct sb_seatbelt sbx;   /* large: not on the stack */

/* The profile and its parameters as one text, the golden files' form. */
static void render(const struct sb_seatbelt *s, char *out, size_t len)
{
        size_t used = (size_t)snprintf(out, len, "%s\n;; parameters\n", s->text);

        for (uint32_t i = 0; i < s->n_params; i++)
                used += (size_t)snprintf(out + used, len - used, ";; %s=%s\n",
                                         s->params[2 * i], s->params[2 * i + 1]);
        assert_true(used < len);
        assert_null(s->params[2 * s->n_params]);
}

static void check_golden(const char *name, const struct sb_policy *p)
{
        static char got[SB_SEATBELT_TEXT_MAX + SB_SEATBELT_STRINGS_MAX + 4096];
        static char want[sizeof(got)];
        const char *root = getenv("SKILLBOX_SOURCE_ROOT");
        char path[512], err[256] = "";
        FILE *f;
        size_t n;

        assert_int_equal(sb_seatbelt_build(p, &dirs, PROXY_PORT, &sbx, err, sizeof(err)), 0);
        render(&sbx, got, sizeof(got));
        assert_non_null(root);
        snprintf(path, sizeof(path), "%s/tests/unit/golden/seatbelt_%s.sb", root, name);
        if (getenv("SKILLBOX_UPDATE_GOLDEN")) {
                f = fopen(path, "w");
                assert_non_null(f);
                fputs(got, f);
                assert_int_equal(fclose(f), 0);
        }
        f = fopen(path, "r");
        if (!f)
                fail_msg("%s: %s (SKILLBOX_UPDATE_GOLDEN=1 writes it)", path, strerror(errno));
        n = fread(want, 1, sizeof(want) - 1, f);
        fclose(f);
        want[n] = '\0';
        if (strcmp(got, want) != 0)
                fail_msg("%s differs from the generated profile:\n%s", path, got);
}

static void test_golden_none(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_NONE };

        (void)state;
        check_golden("none", &p);
        assert_null(strstr(sbx.text, "network"));   /* a comment aside */
        assert_non_null(strstr(sbx.text, "; Network: none"));
}

static void test_golden_allowlist(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_ALLOWLIST };
        char want[64];

        (void)state;
        assert_int_equal(sb_policy_allow_host_add(&p, "pypi.org"), 0);
        check_golden("allowlist", &p);
        snprintf(want, sizeof(want), "(remote ip \"localhost:%d\")", PROXY_PORT);
        assert_non_null(strstr(sbx.text, want));
        /* The one outbound rule: the job's own proxy port, no other. */
        assert_non_null(strstr(sbx.text, "(allow network-outbound"));
        assert_null(strstr(strstr(sbx.text, "(allow network-outbound") + 1, "(allow network"));
        assert_null(strstr(sbx.text, "(allow network*)"));
        snprintf(want, sizeof(want), "localhost:%d", SB_NETWORK_PROXY_PORT);
        assert_null(strstr(sbx.text, want));
        /* The host names are the proxy's business, never the profile's. */
        assert_null(strstr(sbx.text, "pypi.org"));
}

/* Each allowlist job its own port: another job's profile names its own,
 * and a profile without a port is refused rather than left open. */
static void test_allowlist_port_per_job(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_ALLOWLIST };
        char err[256] = "";

        (void)state;
        assert_int_equal(sb_seatbelt_build(&p, &dirs, 61000, &sbx, NULL, 0), 0);
        assert_non_null(strstr(sbx.text, "(remote ip \"localhost:61000\")"));
        assert_null(strstr(sbx.text, "localhost:49321"));
        assert_int_equal(sb_seatbelt_build(&p, &dirs, 0, &sbx, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "port"));
        /* The other modes take no port. */
        p.network = SB_NETWORK_NONE;
        assert_int_equal(sb_seatbelt_build(&p, &dirs, 0, &sbx, NULL, 0), 0);
}

static void test_golden_host(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_HOST };

        (void)state;
        check_golden("host", &p);
        assert_non_null(strstr(sbx.text, "(allow network*)"));
        assert_non_null(strstr(sbx.text, "com.apple.dnssd.service"));
}

static void test_golden_read_only_paths(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_NONE };

        (void)state;
        assert_int_equal(sb_policy_bind_ro_add(&p, "/opt/homebrew"), 0);
        assert_int_equal(sb_policy_bind_ro_add(&p, "-/etc/libreoffice"), 0);
        assert_int_equal(sb_policy_bind_ro_add(&p, "/srv/t:/srv/t"), 0);
        check_golden("read_only", &p);
}

/* Deny by default, and writes only under the job's own directories. */
static void test_deny_default_writes_only_job_dirs(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_HOST };
        const char *w;
        int writes = 0;

        (void)state;
        assert_int_equal(sb_seatbelt_build(&p, &dirs, PROXY_PORT, &sbx, NULL, 0), 0);
        assert_memory_equal(sbx.text, "(version 1)\n(deny default)\n", 27);
        for (w = strstr(sbx.text, "file-write"); w; w = strstr(w + 1, "file-write")) {
                const char *rule = w;

                while (rule > sbx.text && *rule != '(')
                        rule--;
                while (rule > sbx.text && strncmp(rule, "(allow", 6) != 0)
                        rule--;
                writes++;
                if (strncmp(w, "file-write-data", 15) == 0)
                        assert_non_null(strstr(rule, "(literal \"/dev/null\")"));
                else
                        assert_true(strncmp(strstr(rule, "(subpath"), "(subpath (param \"WORK_DIR\"))", 28) == 0);
        }
        assert_int_equal(writes, 2);
}

/* Paths travel as parameters: a hostile one never reaches the text. */
static void test_paths_are_parameters(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_NONE };
        struct sb_seatbelt_dirs d = {
                .work = "/x/\")(allow file-write* (subpath \"/\"))(\"",
                .tmp = "/tmp/j",
        };

        (void)state;
        assert_int_equal(sb_seatbelt_build(&p, &d, PROXY_PORT, &sbx, NULL, 0), 0);
        assert_null(strstr(sbx.text, "/x/"));
        assert_null(strstr(sbx.text, "HOME_DIR"));
        assert_string_equal(sbx.params[2 * (sbx.n_params - 1)], "TMP_DIR");
        assert_string_equal(sbx.params[2 * (sbx.n_params - 1) + 1], "/private/tmp/j");
}

static void test_canonical_paths(void **state)
{
        char out[64];

        (void)state;
        assert_int_equal(sb_seatbelt_canonical_path("/var/lib/x", out, sizeof(out)), 0);
        assert_string_equal(out, "/private/var/lib/x");
        assert_int_equal(sb_seatbelt_canonical_path("/tmp", out, sizeof(out)), 0);
        assert_string_equal(out, "/private/tmp");
        assert_int_equal(sb_seatbelt_canonical_path("/etc/hosts", out, sizeof(out)), 0);
        assert_string_equal(out, "/private/etc/hosts");
        assert_int_equal(sb_seatbelt_canonical_path("/variable", out, sizeof(out)), 0);
        assert_string_equal(out, "/variable");
        assert_int_equal(sb_seatbelt_canonical_path("/private/var", out, sizeof(out)), 0);
        assert_string_equal(out, "/private/var");
        assert_int_equal(sb_seatbelt_canonical_path("/", out, sizeof(out)), 0);
        assert_string_equal(out, "/");
        assert_int_equal(sb_seatbelt_canonical_path("var/x", out, sizeof(out)), -EINVAL);
        assert_int_equal(sb_seatbelt_canonical_path("/var/../etc", out, sizeof(out)), -EINVAL);
        assert_int_equal(sb_seatbelt_canonical_path("/var/./x", out, sizeof(out)), -EINVAL);
        assert_int_equal(sb_seatbelt_canonical_path("/var//x", out, sizeof(out)), -EINVAL);
        assert_int_equal(sb_seatbelt_canonical_path("/var/x/", out, sizeof(out)), -EINVAL);
        assert_int_equal(sb_seatbelt_canonical_path("/var/lib/x", out, 12), -ENAMETOOLONG);
}

/* A read-only path shown elsewhere needs a mount namespace: refused, named. */
static void test_moved_read_only_path_refused(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_NONE };
        char err[256] = "";

        (void)state;
        assert_int_equal(sb_policy_bind_ro_add(&p, "/srv/fonts.conf:/etc/fonts/local.conf"), 0);
        assert_int_equal(sb_seatbelt_build(&p, &dirs, PROXY_PORT, &sbx, err, sizeof(err)), -EOPNOTSUPP);
        assert_non_null(strstr(err, "/srv/fonts.conf:/etc/fonts/local.conf"));
}

static void test_relative_dir_refused(void **state)
{
        struct sb_policy p = { .network = SB_NETWORK_NONE };
        struct sb_seatbelt_dirs d = { .work = "work", .tmp = "/tmp/j" };
        char err[256] = "";

        (void)state;
        assert_int_equal(sb_seatbelt_build(&p, &d, PROXY_PORT, &sbx, err, sizeof(err)), -EINVAL);
        assert_true(err[0] != '\0');
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_golden_none),
                cmocka_unit_test(test_golden_allowlist),
                cmocka_unit_test(test_allowlist_port_per_job),
                cmocka_unit_test(test_golden_host),
                cmocka_unit_test(test_golden_read_only_paths),
                cmocka_unit_test(test_deny_default_writes_only_job_dirs),
                cmocka_unit_test(test_paths_are_parameters),
                cmocka_unit_test(test_canonical_paths),
                cmocka_unit_test(test_moved_read_only_path_refused),
                cmocka_unit_test(test_relative_dir_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
