/* test_config.c — the skillboxd.conf parser: every key, value syntax,
 * FILE:LINE errors, layering over the built-in text, the round trip through
 * --print-config's format, and the Require= check. Pure code from config/.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"

static struct sbd_conf *builtin(void)
{
        struct sbd_conf *c = sbd_conf_new_builtin();

        assert_non_null(c);
        return c;
}

/* Apply text over the built-in; returns the result, errors in errs. */
static int apply(struct sbd_conf **c, const char *text, struct sbd_conf_errors *errs)
{
        *c = builtin();
        return sbd_conf_apply_text(*c, "t.conf", text, errs);
}

/* The only error of applying text is exactly want. */
static void expect_error(const char *text, const char *want)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *c;

        assert_int_equal(apply(&c, text, &errs), -EINVAL);
        if (errs.n != 1 || strcmp(errs.v[0], want) != 0) {
                size_t i;

                for (i = 0; i < errs.n; i++)
                        print_error("got: %s\n", errs.v[i]);
                print_error("want: %s\n", want);
                fail();
        }
        sbd_conf_errors_clear(&errs);
        sbd_conf_free(c);
}

/* A text, what parsing it returns, and on 0 the value it gives. */
struct parse_case {
        const char *text;
        int ret;
        uint64_t want;
};

static void check_cases(int (*parse)(const char *, uint64_t *), const struct parse_case *cs,
                        size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint64_t v = 0;
                int r = parse(cs[i].text, &v);

                if (r != cs[i].ret || (r == 0 && v != cs[i].want)) {
                        print_error("'%s': got %d, %llu; want %d, %llu\n", cs[i].text, r,
                                    (unsigned long long)v, cs[i].ret,
                                    (unsigned long long)cs[i].want);
                        fail();
                }
        }
}

static const struct parse_case sizes[] = {
        { "512M", 0, 512ull << 20 },
        { "1G", 0, 1ull << 30 },
        { "4K", 0, 4096 },
        { "2T", 0, 2ull << 40 },
        { "1000", 0, 1000 },
        { "1000B", 0, 1000 },
        { "infinity", 0, 0 },
        { "", -EINVAL, 0 },
        { "-1M", -EINVAL, 0 },
        { "1.5G", -EINVAL, 0 },
        { "10X", -EINVAL, 0 },
        { "10MB", -EINVAL, 0 },
        { "99999999999999999999", -EINVAL, 0 },
        { "16777216T", -EINVAL, 0 },   /* 2^64 */
};

static void test_sizes(void **state)
{
        (void)state;
        check_cases(sbd_conf_parse_size, sizes, sizeof(sizes) / sizeof(sizes[0]));
}

static const struct parse_case durations[] = {
        { "30", 0, 30000 },
        { "30s", 0, 30000 },
        { "5min", 0, 300000 },
        { "1h", 0, 3600000 },
        { "500ms", 0, 500 },
        { "1min 30s", 0, 90000 },
        { "1h30min", 0, 5400000 },
        { "2 days", 0, 172800000 },
        { "1us", 0, 1 },   /* rounded up, never to "no limit" */
        { "infinity", 0, 0 },
        { "", -EINVAL, 0 },
        { "5 parsecs", -EINVAL, 0 },
        { "-5s", -EINVAL, 0 },
        { "s", -EINVAL, 0 },
        { "99999999999999999999w", -EINVAL, 0 },
};

static void test_durations(void **state)
{
        (void)state;
        check_cases(sbd_conf_parse_time_ms, durations, sizeof(durations) / sizeof(durations[0]));
}

static void test_percent_bool(void **state)
{
        uint32_t p;
        bool b;

        (void)state;
        assert_int_equal(sbd_conf_parse_percent("50%", &p), 0);
        assert_int_equal(p, 50);
        assert_int_equal(sbd_conf_parse_percent("200%", &p), 0);
        assert_int_equal(p, 200);
        assert_int_equal(sbd_conf_parse_percent("50", &p), -EINVAL);
        assert_int_equal(sbd_conf_parse_percent("0%", &p), -EINVAL);
        assert_int_equal(sbd_conf_parse_percent("%", &p), -EINVAL);
        assert_int_equal(sbd_conf_parse_bool("yes", &b), 0);
        assert_true(b);
        assert_int_equal(sbd_conf_parse_bool("Off", &b), 0);
        assert_false(b);
        assert_int_equal(sbd_conf_parse_bool("maybe", &b), -EINVAL);
}

/* The built-in text parses without a single error and holds the values the
 * shared decisions fix for the "default" profile. */
static void test_builtin(void **state)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *c = calloc(1, sizeof(*c));
        const struct sbd_conf_profile *p, *s;

        (void)state;
        assert_non_null(c);
        assert_int_equal(sbd_conf_apply_text(c, "<built-in>", sbd_conf_builtin_text, &errs), 0);
        assert_int_equal(errs.n, 0);
        assert_string_equal(c->daemon.socket, "/run/skillbox/skillboxd.sock");
        assert_string_equal(c->daemon.state_directory, "/var/lib/skillbox");
        assert_string_equal(c->daemon.backend, "auto");
        assert_string_equal(c->daemon.cgroup_name, "skillbox");
        assert_string_equal(c->daemon.socket_group, "skillbox");
        assert_int_equal(c->daemon.socket_mode, 0660);
        assert_int_equal(c->daemon.uid_first, 60000);
        assert_int_equal(c->daemon.uid_last, 60999);
        assert_int_equal(c->daemon.max_connections, 128);
        assert_int_equal(c->daemon.max_connections_per_user, 32);
        assert_int_equal(c->daemon.max_jobs, 256);
        assert_int_equal(c->daemon.max_jobs_per_user, 64);
        assert_int_equal(c->daemon.retain_ms, 300000);
        assert_int_equal(c->daemon.max_retained, 1000);
        assert_int_equal(c->daemon.max_retained_per_user, 200);
        assert_int_equal(c->daemon.jobs_memory_max.percent, 75);
        assert_int_equal(c->daemon.jobs_memory_max_per_user.percent, 50);
        assert_int_equal(c->daemon.stdin_queue_max, 1 << 20);
        assert_string_equal(c->daemon.log_level, "info");
        assert_int_equal(c->admins.n, 1);
        assert_string_equal(c->admins.v[0], "root");
        assert_int_equal(c->clients.n, 1);
        assert_string_equal(c->clients.v[0], "@skillbox");

        p = sbd_conf_profile_find(c, "");
        assert_non_null(p);
        assert_string_equal(p->p.name, "default");
        assert_int_equal(p->p.memory_max, 512ull << 20);
        assert_int_equal(p->p.tasks_max, 64);
        assert_int_equal(p->p.cpu_percent, 100);
        assert_int_equal(p->p.timeout_ms, 60000);
        assert_int_equal(p->p.tmp_size, 64ull << 20);
        assert_int_equal(p->p.tmp_inodes_max, 8192);
        assert_int_equal(p->p.work_size_max, 256ull << 20);
        assert_int_equal(p->p.work_inodes_max, 32768);
        assert_string_equal(p->p.network, "none");
        assert_int_equal(p->p.output_max, 16ull << 20);
        assert_false(p->p.output_truncate);
        assert_int_equal(p->require, SBD_REQ(RLIMITS));
        assert_int_equal(p->allowed_users.n, 0);

        s = sbd_conf_profile_find(c, "strict");
        assert_non_null(s);
        assert_int_equal(s->require, (1u << SBD_REQ__COUNT) - 1);
        assert_int_equal(s->p.cpu_percent, 50);

        /* Office conversions (LibreOffice): room above 8.5 s and 302 MiB. */
        s = sbd_conf_profile_find(c, "office");
        assert_non_null(s);
        assert_int_equal(s->p.memory_max, 1ull << 30);
        assert_int_equal(s->p.tasks_max, 256);
        assert_int_equal(s->p.timeout_ms, 120000);
        assert_int_equal(s->p.tmp_size, 512ull << 20);
        assert_int_equal(s->p.work_size_max, 1ull << 30);
        assert_int_equal(s->require, SBD_REQ(RLIMITS));
        assert_int_equal(c->n_profiles, 3);
        sbd_conf_free(c);
}

/* The example file in the source tree is the built-in text, byte for byte. */
static void test_builtin_is_example(void **state)
{
        const char *root = getenv("SKILLBOX_SOURCE_ROOT");
        char path[4096], *buf;
        size_t n;
        FILE *f;

        (void)state;
        if (!root)
                skip();
        snprintf(path, sizeof(path), "%s/config/skillboxd.conf", root);
        f = fopen(path, "re");
        assert_non_null(f);
        buf = calloc(1, 1 << 20);
        assert_non_null(buf);
        n = fread(buf, 1, (1 << 20) - 1, f);
        fclose(f);
        assert_int_equal(n, strlen(sbd_conf_builtin_text));
        assert_memory_equal(buf, sbd_conf_builtin_text, n);
        free(buf);
}

static void test_every_key(void **state)
{
        static const char text[] =
                "[Daemon]\n"
                "Socket=/tmp/x/s.sock\n"
                "SocketGroup=wheel\n"
                "SocketMode=0666\n"
                "StateDirectory=/var/tmp/sb\n"
                "Backend=posix\n"
                "CgroupName=sb-test\n"
                "UidRange=70000-70099\n"
                "MaxConnections=10\n"
                "MaxConnectionsPerUser=3\n"
                "MaxJobs=20\n"
                "MaxJobsPerUser=2\n"
                "RetainSec=90\n"
                "MaxRetainedJobs=7\n"
                "MaxRetainedJobsPerUser=4\n"
                "MaxJobsMemory=16G\n"
                "MaxJobsMemoryPerUser=infinity\n"
                "StdinQueueMax=256K\n"
                "LogLevel=debug\n"
                "[Access]\n"
                "Admins=root @wheel\n"
                "Clients=alice @skillbox\n"
                "Clients=bob\n"
                "[Profile small]\n"
                "MemoryMax=64M\n"
                "TasksMax=8\n"
                "CPUQuota=25%\n"
                "RuntimeMaxSec=1min 30s\n"
                "PrivateNetwork=no\n"
                "TmpSize=1M\n"
                "OutputMax=infinity\n"
                "OutputTruncate=yes\n"
                "ReadOnlyPaths=\n"
                "SystemCallFilter=@debug @network-io\n"
                "Require=namespaces seccomp\n"
                "AllowedUsers=alice @staff\n";
        struct sbd_conf_errors errs = { 0 };
        const struct sbd_conf_profile *p;
        struct sbd_conf *c;

        (void)state;
        assert_int_equal(apply(&c, text, &errs), 0);
        assert_int_equal(errs.n, 0);
        assert_string_equal(c->daemon.socket, "/tmp/x/s.sock");
        assert_string_equal(c->daemon.socket_group, "wheel");
        assert_int_equal(c->daemon.socket_mode, 0666);
        assert_string_equal(c->daemon.state_directory, "/var/tmp/sb");
        assert_string_equal(c->daemon.backend, "posix");
        assert_string_equal(c->daemon.cgroup_name, "sb-test");
        assert_int_equal(c->daemon.uid_first, 70000);
        assert_int_equal(c->daemon.uid_last, 70099);
        assert_int_equal(c->daemon.max_connections, 10);
        assert_int_equal(c->daemon.max_connections_per_user, 3);
        assert_int_equal(c->daemon.max_jobs, 20);
        assert_int_equal(c->daemon.max_jobs_per_user, 2);
        assert_int_equal(c->daemon.retain_ms, 90000);
        assert_int_equal(c->daemon.max_retained, 7);
        assert_int_equal(c->daemon.max_retained_per_user, 4);
        assert_int_equal(c->daemon.jobs_memory_max.bytes, 16ull << 30);
        assert_int_equal(c->daemon.jobs_memory_max.percent, 0);
        assert_int_equal(c->daemon.jobs_memory_max_per_user.bytes, 0);
        assert_int_equal(c->daemon.jobs_memory_max_per_user.percent, 0);
        assert_int_equal(c->daemon.stdin_queue_max, 256 << 10);
        assert_string_equal(c->daemon.log_level, "debug");
        assert_int_equal(c->admins.n, 2);
        assert_string_equal(c->admins.v[1], "@wheel");
        /* The file's first Clients= replaces the built-in list, the second appends. */
        assert_int_equal(c->clients.n, 3);
        assert_string_equal(c->clients.v[0], "alice");
        assert_string_equal(c->clients.v[1], "@skillbox");
        assert_string_equal(c->clients.v[2], "bob");

        p = sbd_conf_profile_find(c, "small");
        assert_non_null(p);
        assert_int_equal(p->p.memory_max, 64ull << 20);
        assert_int_equal(p->p.tasks_max, 8);
        assert_int_equal(p->p.cpu_percent, 25);
        assert_int_equal(p->p.timeout_ms, 90000);
        assert_string_equal(p->p.network, "host");
        assert_int_equal(p->p.tmp_size, 1ull << 20);
        assert_int_equal(p->p.output_max, 0);
        assert_true(p->p.output_truncate);
        assert_int_equal(p->syscall_filter.n, 2);
        assert_string_equal(p->syscall_filter.v[0], "@debug");
        assert_int_equal(p->require, SBD_REQ(NAMESPACES) | SBD_REQ(SECCOMP));
        assert_int_equal(p->allowed_users.n, 2);
        assert_string_equal(p->allowed_users.v[1], "@staff");
        assert_int_equal(p->line, 24);
        /* The file's profiles replace the built-in ones; "default" stays. */
        assert_null(sbd_conf_profile_find(c, "strict"));
        assert_non_null(sbd_conf_profile_find(c, "default"));
        assert_int_equal(c->n_profiles, 2);
        sbd_conf_free(c);
}

/* A key a profile leaves out has the built-in default profile's value. */
static void test_profile_inherits_default(void **state)
{
        struct sbd_conf_errors errs = { 0 };
        const struct sbd_conf_profile *p;
        struct sbd_conf *c;

        (void)state;
        assert_int_equal(apply(&c, "[Profile tiny]\nMemoryMax=32M\n", &errs), 0);
        p = sbd_conf_profile_find(c, "tiny");
        assert_non_null(p);
        assert_int_equal(p->p.memory_max, 32ull << 20);
        assert_int_equal(p->p.tasks_max, 64);
        assert_int_equal(p->p.timeout_ms, 60000);
        assert_int_equal(p->require, SBD_REQ(RLIMITS));
        sbd_conf_free(c);

        /* Redefining default replaces it; empty Require= clears the list. */
        assert_int_equal(apply(&c, "[Profile default]\nTasksMax=infinity\nRequire=\n", &errs), 0);
        p = sbd_conf_profile_find(c, "default");
        assert_int_equal(p->p.tasks_max, 0);
        assert_int_equal(p->p.memory_max, 512ull << 20);
        assert_int_equal(p->require, 0);
        assert_int_equal(c->n_profiles, 1);
        sbd_conf_free(c);
}

static void test_errors(void **state)
{
        (void)state;
        expect_error("[Daemon]\nBogus=1\n", "t.conf:2: Bogus: unknown key in [Daemon]");
        expect_error("[Access]\nAdmin=root\n", "t.conf:2: Admin: unknown key in [Access]");
        expect_error("[Profile x]\nMemoryLimit=1G\n",
                     "t.conf:2: MemoryLimit: unknown key in [Profile]");
        expect_error("\n[Nope]\nA=b\n",
                     "t.conf:2: [Nope]: unknown section (expected [Daemon], [Access] or "
                     "[Profile NAME])");
        expect_error("Socket=/x\n", "t.conf:1: Socket: key outside of any section");
        expect_error("[Profile a]\n[Profile a]\n",
                     "t.conf:2: [Profile a]: duplicate profile (first defined at line 1)");
        expect_error("[Profile a/b]\n",
                     "t.conf:1: [Profile a/b]: invalid profile name (1 to 63 of A-Z a-z 0-9 "
                     "- _ .)");
        expect_error("[Daemon]\n\nthis is not ini\n",
                     "t.conf:3: syntax error (expected KEY=VALUE, [SECTION] or a comment)");
        expect_error("[Daemon\n", "t.conf:1: syntax error: section header without ']'");
        expect_error("[Profile x]\nMemoryMax=lots\n",
                     "t.conf:2: MemoryMax: not a size of at least 1M (e.g. 512M, 2G) or "
                     "infinity \"lots\"");
        expect_error("[Profile x]\nMemoryMax=0\n",
                     "t.conf:2: MemoryMax: not a size of at least 1M (e.g. 512M, 2G) or "
                     "infinity \"0\"");
        expect_error("[Profile x]\nCPUQuota=50\n",
                     "t.conf:2: CPUQuota: not a percentage of one CPU (e.g. 50%, 200%) or "
                     "empty \"50\"");
        expect_error("[Profile x]\nRuntimeMaxSec=0\n",
                     "t.conf:2: RuntimeMaxSec: not a positive time span (e.g. 30, 30s, 5min, "
                     "500ms) or infinity \"0\"");
        expect_error("[Profile x]\nPrivateNetwork=perhaps\n",
                     "t.conf:2: PrivateNetwork: not a boolean (yes/no) \"perhaps\"");
        expect_error("[Profile x]\nNetwork=yes\n",
                     "t.conf:2: Network: not none, allowlist or host \"yes\"");
        /* The proxy's parser decides: a bare IPv6 literal, a port out of
         * range, a character no host name has. */
        expect_error("[Profile x]\nAllowedHosts=pypi.org ::1\n",
                     "t.conf:2: AllowedHosts: not an allowlist entry (host, host:port, "
                     "*.suffix[:port], [v6][:port]) \"::1\"");
        expect_error("[Profile x]\nAllowedHosts=a.org:70000\n",
                     "t.conf:2: AllowedHosts: not an allowlist entry (host, host:port, "
                     "*.suffix[:port], [v6][:port]) \"a.org:70000\"");
        expect_error("[Profile x]\nAllowedHosts=http://a.org\n",
                     "t.conf:2: AllowedHosts: not an allowlist entry (host, host:port, "
                     "*.suffix[:port], [v6][:port]) \"http://a.org\"");
        expect_error("[Profile x]\nReadOnlyPaths=/srv\n",
                     "t.conf:2: ReadOnlyPaths: not supported: the job's file system is fixed "
                     "(system directories read-only, /work and /tmp private); leave it empty "
                     "\"/srv\"");
        expect_error("[Profile x]\nSystemCallFilter=@debug @nonsense\n",
                     "t.conf:2: SystemCallFilter: unknown syscall group (e.g. @debug, "
                     "@network-io) \"@nonsense\"");
        expect_error("[Profile x]\nSystemCallFilter=@debug @keyring\n",
                     "t.conf:2: SystemCallFilter: @keyring is not offered: the kernel keeps one "
                     "user keyring per uid for as long as the host runs, not per job, so a key "
                     "one job adds would be read by the next job given the same uid "
                     "\"@debug @keyring\"");
        expect_error("[Profile x]\nSystemCallFilter=~@mount\n",
                     "t.conf:2: SystemCallFilter: deny lists (~) are not supported; list the "
                     "groups to allow \"~@mount\"");
        expect_error("[Profile x]\nRequire=seccomp magic\n",
                     "t.conf:2: Require: unknown guarantee (namespaces cgroup seccomp landlock "
                     "no-new-privileges capabilities rlimits uid network files memory "
                     "kill-tree) \"magic\"");
        expect_error("[Profile x]\nTmpSize=infinity\n",
                     "t.conf:2: TmpSize: not a size of at least 4K (e.g. 64M) \"infinity\"");
        expect_error("[Profile x]\nWorkInodesMax=infinity\n",
                     "t.conf:2: WorkInodesMax: not a number between 16 and 16777216 \"infinity\"");
        expect_error("[Profile x]\nTmpInodesMax=15\n",
                     "t.conf:2: TmpInodesMax: not a number between 16 and 16777216 \"15\"");
        expect_error("[Profile x]\nWorkSizeMax=0\n",
                     "t.conf:2: WorkSizeMax: not a size of at least 4K (e.g. 64M) \"0\"");
        expect_error("[Daemon]\nUidRange=0-10\n",
                     "t.conf:2: UidRange: not a range FIRST-LAST with 0 < FIRST <= LAST and at "
                     "most 1048576 ids \"0-10\"");
        expect_error("[Daemon]\nUidRange=100\n",
                     "t.conf:2: UidRange: not a range FIRST-LAST \"100\"");
        expect_error("[Daemon]\nSocket=relative.sock\n",
                     "t.conf:2: Socket: not an absolute path of at most 107 bytes without "
                     "\"..\" \"relative.sock\"");
        expect_error("[Daemon]\nStateDirectory=/var/../etc\n",
                     "t.conf:2: StateDirectory: not an absolute path without \"..\" "
                     "\"/var/../etc\"");
        expect_error("[Daemon]\nBackend=docker\n",
                     "t.conf:2: Backend: unknown backend (auto, linux, macos or posix) \"docker\"");
        expect_error("[Daemon]\nCgroupName=../x\n",
                     "t.conf:2: CgroupName: invalid cgroup name (A-Z a-z 0-9 - _ ., not "
                     "starting with '.') \"../x\"");
        expect_error("[Daemon]\nMaxJobsMemory=0%\n",
                     "t.conf:2: MaxJobsMemory: not a percentage of the host's memory "
                     "between 1% and 100% \"0%\"");
        expect_error("[Daemon]\nMaxJobsMemoryPerUser=150%\n",
                     "t.conf:2: MaxJobsMemoryPerUser: not a percentage of the host's memory "
                     "between 1% and 100% \"150%\"");
        expect_error("[Daemon]\nMaxJobsMemory=lots\n",
                     "t.conf:2: MaxJobsMemory: not a share of the host's memory (e.g. 75%), "
                     "a size of at least 1M (e.g. 16G) or infinity \"lots\"");
        expect_error("[Daemon]\nStdinQueueMax=1K\n",
                     "t.conf:2: StdinQueueMax: not a size between 64K and 1G (e.g. 1M) "
                     "\"1K\"");
        expect_error("[Daemon]\nMaxJobs=0\n",
                     "t.conf:2: MaxJobs: not a number between 1 and 1000000 \"0\"");
        expect_error("[Daemon]\nRetainSec=infinity\n",
                     "t.conf:2: RetainSec: not a time span of at most a year (e.g. 300, 5min) "
                     "\"infinity\"");
        expect_error("[Daemon]\nLogLevel=loud\n",
                     "t.conf:2: LogLevel: unknown level (debug, info, warning, error) \"loud\"");
        expect_error("[Daemon]\nSocketMode=0999\n",
                     "t.conf:2: SocketMode: not an octal mode between 0000 and 0777 \"0999\"");
        expect_error("[Access]\nClients=alice b:ob\n",
                     "t.conf:2: Clients: not a user name or @group name \"b:ob\"");
        expect_error("  [Daemon]\n",
                     "t.conf:1: section header must start at the beginning of the line");
}

/* Every error is reported, each with its own line. */
static void test_many_errors(void **state)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *c;

        (void)state;
        assert_int_equal(apply(&c, "[Daemon]\nMaxJobs=x\nMaxJobs=10\nFoo=1\n"
                               "[Profile p]\nTasksMax=-1\n[Profile p]\n", &errs), -EINVAL);
        assert_int_equal(errs.n, 4);
        assert_true(strncmp(errs.v[0], "t.conf:2: MaxJobs:", 18) == 0);
        assert_true(strncmp(errs.v[1], "t.conf:4: Foo:", 14) == 0);
        assert_true(strncmp(errs.v[2], "t.conf:6: TasksMax:", 19) == 0);
        assert_true(strncmp(errs.v[3], "t.conf:7: [Profile p]: duplicate", 32) == 0);
        sbd_conf_errors_clear(&errs);
        sbd_conf_free(c);
}

static void test_file(void **state)
{
        struct sbd_conf_errors errs = { 0 };
        char path[] = "/tmp/test_config_XXXXXX";
        struct sbd_conf *c;
        FILE *f;
        int fd;

        (void)state;
        assert_int_equal(sbd_conf_load("/nonexistent/skillboxd.conf", &c, &errs), -EINVAL);
        assert_null(c);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.v[0], "/nonexistent/skillboxd.conf: No such file or directory");
        sbd_conf_errors_clear(&errs);

        fd = mkstemp(path);
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        fputs("# comment\n[Daemon]\nMaxJobs=3\n[Profile x]\nMemoryMax=1Q\n", f);
        fclose(f);
        assert_int_equal(sbd_conf_load(path, &c, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_true(strncmp(errs.v[0], path, strlen(path)) == 0);
        assert_true(strncmp(errs.v[0] + strlen(path), ":5: MemoryMax:", 14) == 0);
        sbd_conf_errors_clear(&errs);

        f = fopen(path, "w");
        assert_non_null(f);
        fputs("[Daemon]\nMaxJobs=3\n", f);
        fclose(f);
        assert_int_equal(sbd_conf_load(path, &c, &errs), 0);
        assert_int_equal(c->daemon.max_jobs, 3);
        assert_non_null(sbd_conf_profile_find(c, "strict"));   /* no profiles: built-in kept */
        sbd_conf_free(c);
        unlink(path);
}

static void assert_conf_equal(const struct sbd_conf *a, const struct sbd_conf *b)
{
        char *ta = sbd_conf_format(a), *tb = sbd_conf_format(b);

        assert_non_null(ta);
        assert_non_null(tb);
        assert_string_equal(ta, tb);
        free(ta);
        free(tb);
}

/* AllowedHosts= is bounded as a job's policy is: 64 entries, 4096 bytes;
 * Network=allowlist without entries is allowed (every host refused). */
static void test_allowed_hosts_bounds(void **state)
{
        struct sbd_conf_errors errs = { 0 };
        char text[8192];
        size_t used;
        struct sbd_conf *c;
        unsigned i;

        (void)state;
        /* A line holds at most 198 bytes: the key repeated appends. */
        used = (size_t)snprintf(text, sizeof(text), "[Profile x]");
        for (i = 0; i < 64; i++)
                used += (size_t)snprintf(text + used, sizeof(text) - used, "%sh%u.org",
                                         i % 16 ? " " : "\nAllowedHosts=", i);
        assert_int_equal(apply(&c, text, &errs), 0);
        assert_int_equal(sbd_conf_profile_find(c, "x")->allowed_hosts.n, 64);
        sbd_conf_free(c);
        snprintf(text + used, sizeof(text) - used, "\nAllowedHosts=one-more.org\n");
        expect_error(text, "t.conf:6: AllowedHosts: more than 64 entries or 4096 bytes in all "
                           "\"...\"");
        assert_int_equal(apply(&c, "[Profile x]\nNetwork=allowlist\n", &errs), 0);
        assert_string_equal(sbd_conf_profile_find(c, "x")->p.network, "allowlist");
        assert_int_equal(sbd_conf_profile_find(c, "x")->allowed_hosts.n, 0);
        sbd_conf_free(c);
}

/* BindReadOnlyPaths=: "[-]SRC[:DST]", both absolute and normalized, DST
 * not / nor the job's own mounts; each bad word refused with its reason;
 * 16 entries at most. */
static void test_bind_read_only_paths(void **state)
{
        struct sbd_conf_errors errs = { 0 };
        const struct sbd_conf_profile *p;
        char text[2048];
        size_t used;
        struct sbd_conf *c;
        unsigned i;

        (void)state;
        assert_int_equal(apply(&c, "[Profile x]\nBindReadOnlyPaths=/opt/a -/etc/lo "
                               "/srv/f.conf:/etc/f.conf\n", &errs), 0);
        p = sbd_conf_profile_find(c, "x");
        assert_int_equal(p->bind_ro.n, 3);
        assert_string_equal(p->bind_ro.v[1], "-/etc/lo");
        assert_string_equal(p->bind_ro.v[2], "/srv/f.conf:/etc/f.conf");
        assert_int_equal(sbd_conf_profile_find(c, "default")->bind_ro.n, 0);
        sbd_conf_free(c);

        expect_error("[Profile x]\nBindReadOnlyPaths=/ok opt\n",
                     "t.conf:2: BindReadOnlyPaths: not an absolute path \"opt\"");
        expect_error("[Profile x]\nBindReadOnlyPaths=/a:b\n",
                     "t.conf:2: BindReadOnlyPaths: not an absolute path \"/a:b\"");
        expect_error("[Profile x]\nBindReadOnlyPaths=/a/./b\n",
                     "t.conf:2: BindReadOnlyPaths: not normalized (empty, . or .. component, "
                     "or trailing /) \"/a/./b\"");
        expect_error("[Profile x]\nBindReadOnlyPaths=-/a:/\n",
                     "t.conf:2: BindReadOnlyPaths: DST is / \"-/a:/\"");
        expect_error("[Profile x]\nBindReadOnlyPaths=/a:/work\n",
                     "t.conf:2: BindReadOnlyPaths: DST is /proc, /dev, /sys, /work or /tmp or "
                     "under one (the job's own mounts) \"/a:/work\"");
        expect_error("[Profile x]\nBindReadOnlyPaths=/a:/b:ro\n",
                     "t.conf:2: BindReadOnlyPaths: options after DST (SRC:DST:OPTIONS) are not "
                     "supported \"/a:/b:ro\"");
        expect_error("[Profile x]\nBindReadOnlyPaths=/a\\x20b\n",
                     "t.conf:2: BindReadOnlyPaths: escapes are not supported \"/a\\x20b\"");
        /* Names that only start like a refused place are fine. */
        assert_int_equal(apply(&c, "[Profile x]\nBindReadOnlyPaths=/a:/workspace /b:/tmpl "
                               "/c:/device\n", &errs), 0);
        sbd_conf_free(c);

        used = (size_t)snprintf(text, sizeof(text), "[Profile x]");
        for (i = 0; i < 16; i++)
                used += (size_t)snprintf(text + used, sizeof(text) - used, "%s/opt/e%u",
                                         i % 8 ? " " : "\nBindReadOnlyPaths=", i);
        assert_int_equal(apply(&c, text, &errs), 0);
        assert_int_equal(sbd_conf_profile_find(c, "x")->bind_ro.n, 16);
        sbd_conf_free(c);
        snprintf(text + used, sizeof(text) - used, "\nBindReadOnlyPaths=/one-more\n");
        expect_error(text, "t.conf:4: BindReadOnlyPaths: more than 16 entries or 4096 bytes in "
                           "all \"...\"");
}

/* The printed configuration parses to the same configuration. */
static void test_round_trip(void **state)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *c, *again;
        char *text;

        (void)state;
        assert_int_equal(apply(&c, "[Daemon]\nRetainSec=1500ms\nSocketGroup=\n"
                               "[Access]\nClients=\n"
                               "[Profile odd]\nMemoryMax=1536K\nOutputMax=1000\nCPUQuota=\n"
                               "RuntimeMaxSec=90s\nSystemCallFilter=@basic-io\n"
                               "AllowedUsers=@x y\nNetwork=allowlist\n"
                               "AllowedHosts=pypi.org *.example.org:8443 [::1]:3000\n", &errs), 0);
        text = sbd_conf_format(c);
        assert_non_null(text);
        assert_non_null(strstr(text, "MemoryMax=1536K\n"));
        assert_non_null(strstr(text, "RuntimeMaxSec=90s\n"));
        assert_non_null(strstr(text, "RetainSec=1500ms\n"));
        assert_non_null(strstr(text, "CPUQuota=\n"));
        assert_non_null(strstr(text, "Network=allowlist\n"
                                     "AllowedHosts=pypi.org *.example.org:8443 [::1]:3000\n"));
        again = builtin();
        assert_int_equal(sbd_conf_apply_text(again, "printed", text, &errs), 0);
        assert_int_equal(errs.n, 0);
        assert_conf_equal(c, again);
        assert_int_equal(again->clients.n, 0);
        free(text);
        sbd_conf_free(again);
        sbd_conf_free(c);

        /* And the built-in configuration itself. */
        c = builtin();
        text = sbd_conf_format(c);
        again = builtin();
        assert_int_equal(sbd_conf_apply_text(again, "printed", text, &errs), 0);
        assert_conf_equal(c, again);
        free(text);
        sbd_conf_free(again);
        sbd_conf_free(c);
}

static void test_require(void **state)
{
        struct sbp_enforced e;
        char buf[128];

        (void)state;
        memset(&e, 0, sizeof(e));
        e.rlimits = true;
        e.uid = -1;
        snprintf(e.cgroup, sizeof(e.cgroup), "none");
        /* posix-like: rlimits only. */
        assert_int_equal(sbd_conf_require_missing(SBD_REQ(RLIMITS), &e, true, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        assert_int_equal(sbd_conf_require_missing((1u << SBD_REQ__COUNT) - 1, &e, true, buf,
                                                  sizeof(buf)), 11);
        assert_string_equal(buf, "namespaces cgroup seccomp landlock no-new-privileges "
                            "capabilities uid network files memory kill-tree");
        /* The guarantees map: only "enforced" counts (macOS monitors memory). */
        snprintf(e.guarantees.files, sizeof(e.guarantees.files), "enforced");
        snprintf(e.guarantees.memory, sizeof(e.guarantees.memory), "monitored");
        snprintf(e.guarantees.kill_tree, sizeof(e.guarantees.kill_tree), "absent");
        assert_int_equal(sbd_conf_require_missing(SBD_REQ(FILES) | SBD_REQ(MEMORY) |
                                                  SBD_REQ(KILL_TREE), &e, true, buf,
                                                  sizeof(buf)), 2);
        assert_string_equal(buf, "memory kill-tree");
        snprintf(e.guarantees.memory, sizeof(e.guarantees.memory), "enforced");
        snprintf(e.guarantees.kill_tree, sizeof(e.guarantees.kill_tree), "enforced");
        /* linux-like without seccomp and landlock. */
        e.namespaces = 0x3f;
        snprintf(e.cgroup, sizeof(e.cgroup), "v1");
        e.no_new_privs = e.capabilities_dropped = true;
        e.uid = 60001;
        snprintf(e.network, sizeof(e.network), "none");
        assert_int_equal(sbd_conf_require_missing((1u << SBD_REQ__COUNT) - 1, &e, true, buf,
                                                  sizeof(buf)), 2);
        assert_string_equal(buf, "seccomp landlock");
        e.seccomp = true;
        e.landlock = 3;
        assert_int_equal(sbd_conf_require_missing((1u << SBD_REQ__COUNT) - 1, &e, true, NULL, 0),
                         0);
        /* network counts only when the profile asked for a private one. */
        snprintf(e.network, sizeof(e.network), "host");
        assert_int_equal(sbd_conf_require_missing(SBD_REQ(NETWORK), &e, true, NULL, 0), 1);
        assert_int_equal(sbd_conf_require_missing(SBD_REQ(NETWORK), &e, false, NULL, 0), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_percent_bool),
                cmocka_unit_test(test_builtin),
                cmocka_unit_test(test_builtin_is_example),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_profile_inherits_default),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_many_errors),
                cmocka_unit_test(test_file),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_allowed_hosts_bounds),
                cmocka_unit_test(test_bind_read_only_paths),
                cmocka_unit_test(test_require),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
