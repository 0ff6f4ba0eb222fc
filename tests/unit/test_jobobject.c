/* test_jobobject.c — a job's policy as Windows job-object limits
 * (backends/windows/jobobject.c), checked against golden files: what the
 * Windows backend hands to SetInformationJobObject for the policies a
 * profile makes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backends/windows/jobobject.h"
#include "config/conf.h"
#include "golden.h"

static void check(const char *golden, const struct sb_policy *p, uint32_t ncpus)
{
        struct sb_win_job_limits l;
        char text[2048];

        assert_int_equal(sb_win_job_limits_from_policy(p, ncpus, &l), 0);
        assert_true(sb_win_job_limits_format(&l, text, sizeof(text)) > 0);
        golden_check(golden, text);
}

/* No limit in the policy: still kill-on-close, no error dialogs and every
 * UI restriction, and no CPU rate control. */
static void test_unlimited(void **state)
{
        struct sb_policy p;

        memset(&p, 0, sizeof(p));
        check("jobobject/unlimited.txt", &p, 4);
}

/* The built-in default profile's limits (config/skillboxd.conf [default]):
 * 512M, 64 tasks, one CPU on a 4-CPU machine = a quarter of its cycles. */
static void test_default_profile(void **state)
{
        struct sb_policy p;

        memset(&p, 0, sizeof(p));
        p.memory_max = 512ull << 20;
        p.tasks_max = 64;
        p.cpu_percent = 100;
        check("jobobject/limited.txt", &p, 4);
}

/* Past the machine: capped at all of it, never left without a cap. */
static void test_cpu_above_machine(void **state)
{
        struct sb_policy p;
        struct sb_win_job_limits l;

        memset(&p, 0, sizeof(p));
        p.cpu_percent = 800;
        assert_int_equal(sb_win_job_limits_from_policy(&p, 4, &l), 0);
        assert_int_equal(l.cpu_rate, SB_WIN_CPU_RATE_FULL);
        assert_true(l.cpu_rate_flags & SB_WIN_CPU_RATE_CONTROL_HARD_CAP);
        check("jobobject/cpu_above_machine.txt", &p, 4);
}

/* 1% of one CPU on 256 CPUs rounds to 0 units: 1, not "no limit". */
static void test_cpu_tiny_share(void **state)
{
        struct sb_policy p;
        struct sb_win_job_limits l;

        memset(&p, 0, sizeof(p));
        p.cpu_percent = 1;
        assert_int_equal(sb_win_job_limits_from_policy(&p, 256, &l), 0);
        assert_int_equal(l.cpu_rate, 1);
        assert_int_equal(l.cpu_rate_flags,
                         SB_WIN_CPU_RATE_CONTROL_ENABLE | SB_WIN_CPU_RATE_CONTROL_HARD_CAP);
}

static void test_refused(void **state)
{
        struct sb_policy p;
        struct sb_win_job_limits l;

        memset(&p, 0, sizeof(p));
        assert_int_equal(sb_win_job_limits_from_policy(&p, 0, &l), -EINVAL);
        p.tasks_max = (uint64_t)UINT32_MAX + 1;
        assert_int_equal(sb_win_job_limits_from_policy(&p, 1, &l), -EINVAL);
}

static void test_format_too_small(void **state)
{
        struct sb_policy p;
        struct sb_win_job_limits l;
        char text[32];

        memset(&p, 0, sizeof(p));
        assert_int_equal(sb_win_job_limits_from_policy(&p, 1, &l), 0);
        assert_int_equal(sb_win_job_limits_format(&l, text, sizeof(text)), -ENOSPC);
        assert_true(strlen(text) < sizeof(text));
}

/* What a Windows job reports it has: the job object's limits and a tree
 * that ends as one; no uid, namespaces, cgroup, seccomp, Landlock or
 * network isolation. */
static void test_enforced_record(void **state)
{
        struct sb_policy p;
        struct sb_win_job_limits l;
        struct sbp_enforced e;

        memset(&p, 0, sizeof(p));
        p.memory_max = 256ull << 20;
        p.tasks_max = 8;
        p.cpu_percent = 50;
        assert_int_equal(sb_win_job_limits_from_policy(&p, 2, &l), 0);
        sb_win_enforced(&l, &p, &e);
        assert_string_equal(e.backend, "windows");
        assert_int_equal(e.memory_max, 256ull << 20);
        assert_int_equal(e.tasks_max, 8);
        assert_int_equal(e.cpu_percent, 50);
        assert_true(e.process_group);
        assert_true(e.rlimits);
        assert_string_equal(e.network, "");
        assert_int_equal(e.uid, -1);
        assert_int_equal(e.namespaces, 0);
        assert_false(e.seccomp);
}

/* A profile that requires what Windows does not give fails closed: the
 * daemon's Require= check (config/require.c) finds each guarantee
 * missing, and the network one too for a job that asked for none. */
static void test_require_fails_closed(void **state)
{
        struct sb_policy p;
        struct sbp_enforced host;
        char missing[256];
        uint32_t all = SBD_REQ(NAMESPACES) | SBD_REQ(CGROUP) | SBD_REQ(SECCOMP) |
                       SBD_REQ(LANDLOCK) | SBD_REQ(NO_NEW_PRIVS) | SBD_REQ(CAPABILITIES) |
                       SBD_REQ(UID) | SBD_REQ(NETWORK);

        memset(&p, 0, sizeof(p));
        sb_win_enforced(NULL, NULL, &host);
        assert_int_equal(sbd_conf_require_missing(all, &host, true, missing, sizeof(missing)), 8);
        assert_non_null(strstr(missing, "network"));
        assert_non_null(strstr(missing, "uid"));
        /* The built-in default profile's Require=rlimits: the job
         * object's limits stand for setrlimit's, so it runs. */
        assert_int_equal(sbd_conf_require_missing(SBD_REQ(RLIMITS), &host, true, missing,
                                                  sizeof(missing)), 0);
        /* Nothing required: nothing missing. */
        assert_int_equal(sbd_conf_require_missing(0, &host, true, missing, sizeof(missing)), 0);
        /* A host-network job does not ask for a network of its own. */
        p.network = SB_NETWORK_HOST;
        sb_win_enforced(NULL, &p, &host);
        assert_int_equal(sbd_conf_require_missing(SBD_REQ(NETWORK), &host, false, missing,
                                                  sizeof(missing)), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unlimited),
                cmocka_unit_test(test_default_profile),
                cmocka_unit_test(test_cpu_above_machine),
                cmocka_unit_test(test_cpu_tiny_share),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_format_too_small),
                cmocka_unit_test(test_enforced_record),
                cmocka_unit_test(test_require_fails_closed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
