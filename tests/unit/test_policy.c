/* test_policy.c — a job's policy: the profile merge makes it (daemon/
 * profile.c), sb_policy_equal() decides whether a prepared sandbox serves a
 * request (the daemon's pool and the linux backend's start() both ask it),
 * and sb_job_spec_init() carries it into a spec (backends/backend.c).
 */
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
#include "config/conf.h"
#include "daemon/profile.h"

/* The built-in configuration with text applied on top. */
static struct sbd_conf *conf_with(const char *text)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *c = sbd_conf_new_builtin();

        assert_non_null(c);
        if (text) {
                assert_int_equal(sbd_conf_apply_text(c, "t.conf", text, &errs), 0);
                assert_int_equal(errs.n, 0);
        }
        return c;
}

static void merge_ok(const struct sbd_conf_profile *p, const struct sbp_exec_params *req,
                     struct sbd_limits *out)
{
        struct sbp_error err;

        memset(&err, 0, sizeof(err));
        assert_int_equal(sbd_profile_merge(p, req, out, &err), 0);
}

/* The default profile as the built-in configuration has it, every field of
 * the policy from it; the daemon-side limits beside it, not in it. */
static void test_merge_makes_policy(void **state)
{
        struct sbd_conf *c = conf_with(NULL);
        const struct sbd_conf_profile *def = sbd_conf_profile_find(c, "default");
        struct sbp_exec_params req;
        struct sbd_limits l;

        (void)state;
        assert_non_null(def);
        memset(&req, 0, sizeof(req));
        merge_ok(def, &req, &l);
        assert_true(l.policy.memory_max == 512ull << 20);
        assert_true(l.policy.tasks_max == 64);
        assert_int_equal(l.policy.cpu_percent, 100);
        assert_int_equal(l.policy.network, SB_NETWORK_NONE);
        assert_int_equal(l.policy.n_allow_hosts, 0);
        assert_true(l.policy.tmp_size == 64ull << 20);
        assert_true(l.policy.tmp_inodes_max == 8192);
        assert_true(l.policy.work_size_max == 256ull << 20);
        assert_true(l.policy.work_inodes_max == 32768);
        assert_null(l.policy.syscall_allow[0]);
        assert_true(l.timeout_ms == 60000);
        assert_true(l.output_max == 16ull << 20);
        assert_false(l.output_truncate);
        assert_int_equal(l.require, def->require);

        /* A request tightens; what it leaves at 0 is the profile's. */
        req.memory_max = 64ull << 20;
        req.tasks_max = 8;
        req.cpu_percent = 25;
        req.work_size_max = 1 << 20;
        req.work_inodes_max = 100;
        merge_ok(def, &req, &l);
        assert_true(l.policy.memory_max == 64ull << 20);
        assert_true(l.policy.tasks_max == 8);
        assert_int_equal(l.policy.cpu_percent, 25);
        assert_true(l.policy.work_size_max == 1 << 20);
        assert_true(l.policy.work_inodes_max == 100);
        assert_true(l.policy.tmp_size == 64ull << 20);
        sbd_conf_free(c);
}

/* Asking for more than the profile is refused, naming the field. */
static void test_merge_refuses_looser(void **state)
{
        static const struct {
                const char *field;
                size_t off;
        } fields[] = {
                { "memory_max", offsetof(struct sbp_exec_params, memory_max) },
                { "tasks_max", offsetof(struct sbp_exec_params, tasks_max) },
                { "work_size_max", offsetof(struct sbp_exec_params, work_size_max) },
                { "work_inodes_max", offsetof(struct sbp_exec_params, work_inodes_max) },
                { "timeout_ms", offsetof(struct sbp_exec_params, timeout_ms) },
                { "output_max", offsetof(struct sbp_exec_params, output_max) },
        };
        struct sbd_conf *c = conf_with(NULL);
        const struct sbd_conf_profile *def = sbd_conf_profile_find(c, "default");
        struct sbp_exec_params req;
        struct sbd_limits l;
        struct sbp_error err;

        (void)state;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                memset(&req, 0, sizeof(req));
                *(uint64_t *)((char *)&req + fields[i].off) = 1ull << 50;
                memset(&err, 0, sizeof(err));
                assert_int_equal(sbd_profile_merge(def, &req, &l, &err), -EACCES);
                assert_int_equal(err.code, SBP_E_PERMISSION_DENIED);
                assert_non_null(strstr(err.message, fields[i].field));
        }
        memset(&req, 0, sizeof(req));
        req.cpu_percent = 101;
        assert_int_equal(sbd_profile_merge(def, &req, &l, &err), -EACCES);
        assert_non_null(strstr(err.message, "cpu_percent"));
        sbd_conf_free(c);
}

/* output_max merges like the other limits; output_truncate is the
 * profile's alone; a profile without a cap takes any request. */
static void test_merge_output(void **state)
{
        struct sbd_conf *c = conf_with("[Profile open]\nOutputMax=infinity\nOutputTruncate=yes\n");
        const struct sbd_conf_profile *p = sbd_conf_profile_find(c, "open");
        struct sbp_exec_params req;
        struct sbd_limits l;

        (void)state;
        assert_non_null(p);
        memset(&req, 0, sizeof(req));
        req.output_max = 1ull << 40;
        merge_ok(p, &req, &l);
        assert_true(l.output_max == 1ull << 40);
        assert_true(l.output_truncate);
        req.output_max = 0;
        merge_ok(p, &req, &l);
        assert_true(l.output_max == 0);
        sbd_conf_free(c);
}

/* The profile's network and syscall groups land in the policy: each group
 * once (the profile's list is a set), as the static spelling that outlives
 * the configuration, in the profile's order. */
static void test_merge_network_and_groups(void **state)
{
        struct sbd_conf *c = conf_with("[Profile dbg]\nPrivateNetwork=no\n"
                                       "SystemCallFilter=@debug @network-io @debug\n");
        const struct sbd_conf_profile *p = sbd_conf_profile_find(c, "dbg");
        struct sbp_exec_params req;
        struct sbd_limits l;

        (void)state;
        assert_non_null(p);
        memset(&req, 0, sizeof(req));
        merge_ok(p, &req, &l);
        assert_int_equal(l.policy.network, SB_NETWORK_HOST);
        assert_string_equal(l.policy.syscall_allow[0], "@debug");
        assert_string_equal(l.policy.syscall_allow[1], "@network-io");
        assert_null(l.policy.syscall_allow[2]);
        assert_ptr_equal(l.policy.syscall_allow[0], sbd_conf_syscall_group("@debug"));
        sbd_conf_free(c);
}

/* The network modes, from a profile and narrowed by a request: a request
 * can only go down host > allowlist > none, and its allowlist must lie
 * within the profile's; asking for more is PermissionDenied. */
static void merge_err(const struct sbd_conf_profile *p, const struct sbp_exec_params *req,
                      enum sbp_error_code code, const char *msg_part)
{
        struct sbp_error err;
        struct sbd_limits l;

        memset(&err, 0, sizeof(err));
        assert_true(sbd_profile_merge(p, req, &l, &err) < 0);
        assert_int_equal(err.code, code);
        if (!strstr(err.message, msg_part))
                fail_msg("'%s' lacks '%s'", err.message, msg_part);
}

static void test_merge_network_modes(void **state)
{
        struct sbd_conf *c = conf_with("[Profile adm]\nNetwork=host\n"
                                       "[Profile pkg]\nNetwork=allowlist\n"
                                       "AllowedHosts=pypi.org *.example.org:8443 localhost:3000\n"
                                       "[Profile shut]\nPrivateNetwork=yes\n");
        const struct sbd_conf_profile *adm = sbd_conf_profile_find(c, "adm");
        const struct sbd_conf_profile *pkg = sbd_conf_profile_find(c, "pkg");
        const struct sbd_conf_profile *shut = sbd_conf_profile_find(c, "shut");
        char *ok_hosts[] = { "pypi.org:443", "a.b.example.org:8443", "localhost:3000", NULL };
        char *sub_hosts[] = { "*.b.example.org:8443", NULL };
        char *bad_port[] = { "pypi.org:8080", NULL };
        char *bad_host[] = { "evil.org", NULL };
        char *bare_suffix[] = { "example.org:8443", NULL };
        char *not_entry[] = { "a b", NULL };
        struct sbp_exec_params req;
        struct sbd_limits l;
        const char *h;

        (void)state;
        assert_non_null(adm);
        assert_non_null(pkg);
        assert_non_null(shut);
        memset(&req, 0, sizeof(req));

        /* No request: the profile's mode and entries. */
        merge_ok(pkg, &req, &l);
        assert_int_equal(l.policy.network, SB_NETWORK_ALLOWLIST);
        assert_int_equal(l.policy.n_allow_hosts, 3);
        h = sb_policy_allow_host_next(&l.policy, NULL);
        assert_string_equal(h, "pypi.org");
        h = sb_policy_allow_host_next(&l.policy, h);
        assert_string_equal(h, "*.example.org:8443");
        h = sb_policy_allow_host_next(&l.policy, h);
        assert_string_equal(h, "localhost:3000");
        assert_null(sb_policy_allow_host_next(&l.policy, h));
        merge_ok(shut, &req, &l);
        assert_int_equal(l.policy.network, SB_NETWORK_NONE);

        /* Narrowing is allowed. */
        strcpy(req.network, "none");
        merge_ok(pkg, &req, &l);
        assert_int_equal(l.policy.network, SB_NETWORK_NONE);
        assert_int_equal(l.policy.n_allow_hosts, 0);
        strcpy(req.network, "allowlist");
        merge_ok(adm, &req, &l);
        assert_int_equal(l.policy.network, SB_NETWORK_ALLOWLIST);

        /* Widening is not. */
        strcpy(req.network, "host");
        merge_err(shut, &req, SBP_E_PERMISSION_DENIED, "network host exceeds the profile's none");
        merge_err(pkg, &req, SBP_E_PERMISSION_DENIED, "exceeds the profile's allowlist");
        strcpy(req.network, "allowlist");
        merge_err(shut, &req, SBP_E_PERMISSION_DENIED, "exceeds the profile's none");

        /* A request's entries: each within one of the profile's. */
        req.allow_hosts = ok_hosts;
        req.n_allow_hosts = 3;
        merge_ok(pkg, &req, &l);
        assert_int_equal(l.policy.n_allow_hosts, 3);
        assert_string_equal(sb_policy_allow_host_next(&l.policy, NULL), "pypi.org:443");
        req.allow_hosts = sub_hosts;
        req.n_allow_hosts = 1;
        merge_ok(pkg, &req, &l);
        req.allow_hosts = bad_port;
        merge_err(pkg, &req, SBP_E_PERMISSION_DENIED, "pypi.org:8080 is not within");
        req.allow_hosts = bad_host;
        merge_err(pkg, &req, SBP_E_PERMISSION_DENIED, "evil.org is not within");
        req.allow_hosts = bare_suffix;
        merge_err(pkg, &req, SBP_E_PERMISSION_DENIED, "not within");
        req.allow_hosts = not_entry;
        merge_err(pkg, &req, SBP_E_INVALID_ARGUMENT, "allow_hosts: entry 0");
        /* A host profile allows any entry. */
        req.allow_hosts = bad_host;
        merge_ok(adm, &req, &l);
        assert_string_equal(sb_policy_allow_host_next(&l.policy, NULL), "evil.org");
        sbd_conf_free(c);
}

/* The allowlist's bounds: entries and bytes. */
static void test_policy_allow_hosts_bounds(void **state)
{
        struct sb_policy p;
        char entry[300];
        unsigned i;

        (void)state;
        memset(&p, 0, sizeof(p));
        for (i = 0; i < SB_POLICY_ALLOW_HOSTS_MAX; i++)
                assert_int_equal(sb_policy_allow_host_add(&p, "a.org"), 0);
        assert_int_equal(sb_policy_allow_host_add(&p, "a.org"), -E2BIG);
        memset(&p, 0, sizeof(p));
        memset(entry, 'a', 250);
        entry[250] = '\0';
        for (i = 0; i < SB_POLICY_ALLOW_HOSTS_BYTES / 251; i++)
                assert_int_equal(sb_policy_allow_host_add(&p, entry), 0);
        assert_int_equal(sb_policy_allow_host_add(&p, entry), -E2BIG);
        assert_int_equal(p.n_allow_hosts, SB_POLICY_ALLOW_HOSTS_BYTES / 251);
}

/* BindReadOnlyPaths= goes from the profile into the policy as written,
 * whatever the request; 16 entries at most. */
static void test_merge_bind_ro(void **state)
{
        struct sbd_conf *c = conf_with("[Profile b]\nBindReadOnlyPaths=/opt/a -/srv/x:/etc/x\n");
        const struct sbd_conf_profile *p = sbd_conf_profile_find(c, "b");
        struct sbp_exec_params req;
        struct sb_policy pol;
        struct sbd_limits l;
        const char *e;

        (void)state;
        assert_non_null(p);
        memset(&req, 0, sizeof(req));
        merge_ok(p, &req, &l);
        assert_int_equal(l.policy.n_bind_ro, 2);
        e = sb_policy_bind_ro_next(&l.policy, NULL);
        assert_string_equal(e, "/opt/a");
        e = sb_policy_bind_ro_next(&l.policy, e);
        assert_string_equal(e, "-/srv/x:/etc/x");
        assert_null(sb_policy_bind_ro_next(&l.policy, e));
        merge_ok(sbd_conf_profile_find(c, "default"), &req, &l);
        assert_int_equal(l.policy.n_bind_ro, 0);
        sbd_conf_free(c);

        memset(&pol, 0, sizeof(pol));
        for (int i = 0; i < SB_POLICY_BIND_RO_MAX; i++)
                assert_int_equal(sb_policy_bind_ro_add(&pol, "/a"), 0);
        assert_int_equal(sb_policy_bind_ro_add(&pol, "/a"), -E2BIG);
}

static struct sb_policy base_policy(void)
{
        struct sb_policy p;

        memset(&p, 0, sizeof(p));
        p.memory_max = 512ull << 20;
        p.tasks_max = 64;
        p.cpu_percent = 100;
        p.tmp_size = 64ull << 20;
        p.tmp_inodes_max = 8192;
        p.work_size_max = 256ull << 20;
        p.work_inodes_max = 32768;
        p.syscall_allow[0] = "@debug";
        return p;
}

/* Every field counts: a sandbox built for one value never serves another. */
static void test_equal_every_field(void **state)
{
        struct sb_policy a = base_policy(), b;
        char debug[] = "@debug";   /* the same name, another pointer */

        (void)state;
        b = base_policy();
        assert_true(sb_policy_equal(&a, &b));
        b.syscall_allow[0] = debug;
        assert_true(sb_policy_equal(&a, &b));

#define DIFFERS(stmt)                                          \
        do {                                                   \
                b = base_policy();                             \
                stmt;                                          \
                assert_false(sb_policy_equal(&a, &b));         \
                assert_false(sb_policy_equal(&b, &a));         \
        } while (0)
        DIFFERS(b.memory_max--);
        DIFFERS(b.tasks_max++);
        DIFFERS(b.cpu_percent = 50);
        DIFFERS(b.network = SB_NETWORK_HOST);
        DIFFERS(b.network = SB_NETWORK_ALLOWLIST);
        DIFFERS(assert_int_equal(sb_policy_allow_host_add(&b, "pypi.org"), 0));
        DIFFERS(assert_int_equal(sb_policy_bind_ro_add(&b, "/opt/x"), 0));
        DIFFERS(b.tmp_size = 0);
        DIFFERS(b.tmp_inodes_max = 1);
        DIFFERS(b.work_size_max = 1);
        DIFFERS(b.work_inodes_max = 1);
        DIFFERS(b.syscall_allow[0] = "@network-io");
        DIFFERS(b.syscall_allow[0] = NULL);
        DIFFERS(b.syscall_allow[1] = "@network-io");
        /* Same count, another entry. */
        assert_int_equal(sb_policy_bind_ro_add(&a, "/opt/x"), 0);
        DIFFERS(assert_int_equal(sb_policy_bind_ro_add(&b, "-/opt/x"), 0));
#undef DIFFERS
}

/* Groups compare as lists: order and length matter; every slot may be
 * used. */
static void test_equal_groups(void **state)
{
        struct sb_policy a, b;
        static char names[SB_POLICY_SYSCALL_GROUPS_MAX][16];

        (void)state;
        memset(&a, 0, sizeof(a));
        b = a;
        assert_true(sb_policy_equal(&a, &b));
        a.syscall_allow[0] = "@debug";
        a.syscall_allow[1] = "@network-io";
        b.syscall_allow[0] = "@network-io";
        b.syscall_allow[1] = "@debug";
        assert_false(sb_policy_equal(&a, &b));

        memset(&a, 0, sizeof(a));
        for (size_t i = 0; i < SB_POLICY_SYSCALL_GROUPS_MAX; i++) {
                snprintf(names[i], sizeof(names[i]), "@g%zu", i);
                a.syscall_allow[i] = names[i];
        }
        b = a;
        assert_true(sb_policy_equal(&a, &b));
        b.syscall_allow[SB_POLICY_SYSCALL_GROUPS_MAX - 1] = "@other";
        assert_false(sb_policy_equal(&a, &b));
}

/* A spec for a prepared sandbox: the policy copied, nothing passed. */
static void test_spec_init(void **state)
{
        struct sb_policy p = base_policy();
        struct sb_job_spec spec;

        (void)state;
        memset(&spec, 0xa5, sizeof(spec));
        sb_job_spec_init(&spec, "job-1", 60042, &p);
        assert_string_equal(spec.job_id, "job-1");
        assert_int_equal(spec.uid, 60042);
        assert_int_equal(spec.gid, 60042);
        assert_true(sb_policy_equal(&spec.policy, &p));
        assert_null(spec.argv);
        assert_null(spec.envp);
        assert_int_equal(spec.stdin_fd, SB_HANDLE_NONE);
        assert_int_equal(spec.stdout_fd, SB_HANDLE_NONE);
        assert_int_equal(spec.stderr_fd, SB_HANDLE_NONE);
        assert_int_equal(spec.workdir_fd, SB_HANDLE_NONE);
        assert_null(spec.mounts);
        assert_int_equal(spec.nmounts, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merge_makes_policy),
                cmocka_unit_test(test_merge_refuses_looser),
                cmocka_unit_test(test_merge_output),
                cmocka_unit_test(test_merge_network_and_groups),
                cmocka_unit_test(test_merge_network_modes),
                cmocka_unit_test(test_policy_allow_hosts_bounds),
                cmocka_unit_test(test_merge_bind_ro),
                cmocka_unit_test(test_equal_every_field),
                cmocka_unit_test(test_equal_groups),
                cmocka_unit_test(test_spec_init),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
