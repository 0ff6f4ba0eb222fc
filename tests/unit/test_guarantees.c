/* test_guarantees.c — sb_backend_guarantees(): each guarantee of an
 * `enforced` record read off its mechanisms and the backend's caps; a
 * mechanism the record does not show never counts. The macOS backend's
 * caps are written out here (it is not built on Linux). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "backends/backend.h"

/* As backends/macos/macos.c says for a root daemon. */
static const struct sb_backend_caps macos_caps = {
        .memory = SB_BACKEND_LIMIT_MONITORED,
        .tasks = SB_BACKEND_LIMIT_ENFORCED,
        .cpu = SB_BACKEND_LIMIT_ABSENT,
        .profile_confined = true,
        .kill_by_uid = true,
};

static struct sbp_enforced record(const char *backend, int64_t uid, const char *network)
{
        struct sbp_enforced e;

        memset(&e, 0, sizeof(e));
        strcpy(e.backend, backend);
        strcpy(e.cgroup, "none");
        strcpy(e.network, network);
        strcpy(e.workdir, "fresh");
        e.uid = e.gid = uid;
        e.rlimits = e.process_group = true;
        return e;
}

static void test_macos_job(void **state)
{
        struct sbp_enforced e = record("macos", 60001, "none");

        (void)state;
        e.tasks_max = 64;
        sb_backend_guarantees(&macos_caps, false, &e);
        assert_string_equal(e.guarantees.files, "enforced");
        assert_string_equal(e.guarantees.network, "enforced");
        assert_string_equal(e.guarantees.memory, "monitored");
        assert_string_equal(e.guarantees.tasks, "enforced");
        assert_string_equal(e.guarantees.cpu, "absent");
        assert_string_equal(e.guarantees.identity, "enforced");
        assert_string_equal(e.guarantees.syscalls, "absent");
        assert_string_equal(e.guarantees.privileges, "absent");
        assert_string_equal(e.guarantees.kill_tree, "enforced");
}

/* A macOS daemon that is not root: no uid of the job's own, so neither
 * the per-uid task limit nor the uid sweep holds. */
static void test_macos_job_without_own_uid(void **state)
{
        struct sbp_enforced e = record("macos", -1, "host");

        (void)state;
        sb_backend_guarantees(&macos_caps, false, &e);
        assert_string_equal(e.guarantees.identity, "absent");
        assert_string_equal(e.guarantees.tasks, "absent");
        assert_string_equal(e.guarantees.kill_tree, "absent");
        assert_string_equal(e.guarantees.network, "absent");   /* granted the host's */
}

static void test_posix_job(void **state)
{
        struct sb_backend_caps caps;
        struct sbp_enforced e = record("posix", 60001, "");

        (void)state;
        sb_backend_posix_ops.caps(&caps);
        e.memory_max = 1 << 20;
        sb_backend_guarantees(&caps, false, &e);
        assert_string_equal(e.guarantees.files, "absent");
        assert_string_equal(e.guarantees.network, "absent");
        assert_string_equal(e.guarantees.memory, "enforced");
        assert_string_equal(e.guarantees.cpu, "absent");
        assert_string_equal(e.guarantees.kill_tree, "absent");
}

/* A limit the backend enforces but did not apply to this job is absent;
 * hello's host record carries no limits and says what the caps say. */
static void test_unapplied_limit_absent_host_from_caps(void **state)
{
        struct sb_backend_caps caps = { .memory = SB_BACKEND_LIMIT_ENFORCED };
        struct sbp_enforced e = record("x", -1, "");

        (void)state;
        sb_backend_guarantees(&caps, false, &e);
        assert_string_equal(e.guarantees.memory, "absent");
        sb_backend_guarantees(&caps, true, &e);
        assert_string_equal(e.guarantees.memory, "enforced");
}

static void test_linux_shaped_record(void **state)
{
        struct sb_backend_caps caps = {
                .memory = SB_BACKEND_LIMIT_ENFORCED,
                .tasks = SB_BACKEND_LIMIT_ENFORCED,
                .cpu = SB_BACKEND_LIMIT_ENFORCED,
        };
        struct sbp_enforced e = record("linux", 60001, "allowlist");

        (void)state;
        strcpy(e.cgroup, "v2");
        e.namespaces = SBP_NS_MOUNT | SBP_NS_PID | SBP_NS_NET;
        e.seccomp = e.no_new_privs = true;
        e.memory_max = 1 << 20;
        e.tasks_max = 64;
        e.cpu_percent = 100;
        sb_backend_guarantees(&caps, false, &e);
        assert_string_equal(e.guarantees.files, "enforced");
        assert_string_equal(e.guarantees.network, "enforced");
        assert_string_equal(e.guarantees.cpu, "enforced");
        assert_string_equal(e.guarantees.syscalls, "enforced");
        assert_string_equal(e.guarantees.privileges, "enforced");
        assert_string_equal(e.guarantees.kill_tree, "enforced");
}

/* A Windows job: an AppContainer confines its files (and, without the
 * host's network, its network); a low-integrity token claims neither. */
static void test_windows_token(void **state)
{
        static const struct sb_backend_caps caps = {
                .memory = SB_BACKEND_LIMIT_ENFORCED,
                .tasks = SB_BACKEND_LIMIT_ENFORCED,
                .cpu = SB_BACKEND_LIMIT_ENFORCED,
        };
        struct sbp_enforced e = record("windows", -1, "none");

        (void)state;
        strcpy(e.token, "appcontainer");
        sb_backend_guarantees(&caps, false, &e);
        assert_string_equal(e.guarantees.files, "enforced");
        assert_string_equal(e.guarantees.network, "enforced");
        assert_string_equal(e.guarantees.identity, "absent");

        e = record("windows", -1, "");
        strcpy(e.token, "low_integrity");
        sb_backend_guarantees(&caps, false, &e);
        assert_string_equal(e.guarantees.files, "absent");
        assert_string_equal(e.guarantees.network, "absent");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_macos_job),
                cmocka_unit_test(test_macos_job_without_own_uid),
                cmocka_unit_test(test_posix_job),
                cmocka_unit_test(test_unapplied_limit_absent_host_from_caps),
                cmocka_unit_test(test_linux_shaped_record),
                cmocka_unit_test(test_windows_token),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
