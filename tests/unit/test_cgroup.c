/* test_cgroup.c — the cgroup layer's file-level behaviour against plain
 * temporary directories laid out like a cgroup v2 tree and a v1 tree
 * (limit files and their syntax, subtree_control, accounting parsers,
 * removal), plus the hostile-input rules of job directory removal.
 * Nothing here touches /sys/fs/cgroup or signals a process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#if HAVE_BACKEND_LINUX
#include "backends/internal.h"
#include "backends/linux/cgroup/cgroup.h"

static char tmpdir[PATH_MAX];

static void put(const char *rel, const char *content)
{
        char p[PATH_MAX * 2];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void mk(const char *rel)
{
        char p[PATH_MAX * 2];

        snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
        assert_int_equal(mkdir(p, 0755), 0);
}

/* Content of a file, trailing newline stripped; "<absent>" if missing. */
static const char *get(const char *rel)
{
        static char buf[4096];
        char p[PATH_MAX * 2];
        ssize_t n;
        int fd;

        snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
        fd = open(p, O_RDONLY);
        if (fd < 0)
                return "<absent>";
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        assert_true(n >= 0);
        buf[n] = '\0';
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        return buf;
}

static bool exists(const char *rel)
{
        char p[PATH_MAX * 2];
        struct stat st;

        snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
        return lstat(p, &st) == 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st; (void)flag; (void)ftw;
        return remove(path);
}

static int setup_tmp(void **state)
{
        (void)state;
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cgroup.XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
        (void)state;
        return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- v2 ---- */

static void v2_tree(void)
{
        put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put("cgroup.subtree_control", "");
}

static void test_v2_open_enables_controllers(void **state)
{
        struct sb_cgroup cg;
        char err[256] = "";

        (void)state;
        v2_tree();
        assert_int_equal(sb_cgroup_open(&cg, 2, tmpdir, "/", "skillbox", true, err, sizeof(err)), 0);
        assert_string_equal(cg.ops->name, "v2");
        assert_int_equal(cg.nbase, 1);
        assert_string_equal(get("cgroup.subtree_control"), "+memory +pids +cpu");
        assert_string_equal(get("skillbox/cgroup.subtree_control"), "+memory +pids +cpu");
        assert_false(cg.clone_into);    /* a plain dir cannot be a CLONE_INTO_CGROUP target */
        sb_cgroup_close(&cg);
}

static void test_v2_open_missing_controller(void **state)
{
        struct sb_cgroup cg;
        char err[256] = "";

        (void)state;
        put("cgroup.controllers", "cpu io\n");
        put("cgroup.subtree_control", "");
        assert_int_equal(sb_cgroup_open(&cg, 2, tmpdir, "/", "skillbox", true, err, sizeof(err)),
                         -EOPNOTSUPP);
        assert_non_null(strstr(err, "lacks memory"));
}

static void test_v2_own_path(void **state)
{
        struct sb_cgroup cg;
        char err[256] = "";

        (void)state;
        mk("system.slice");
        mk("system.slice/skillboxd.service");
        put("system.slice/skillboxd.service/cgroup.controllers", "cpu memory pids\n");
        put("system.slice/skillboxd.service/cgroup.subtree_control", "");
        assert_int_equal(sb_cgroup_open(&cg, 2, tmpdir, "/system.slice/skillboxd.service", "sb",
                                        true, err, sizeof(err)), 0);
        assert_true(exists("system.slice/skillboxd.service/sb"));
        assert_string_equal(get("system.slice/skillboxd.service/cgroup.subtree_control"),
                            "+memory +pids +cpu");
        sb_cgroup_close(&cg);
}

static void test_v2_limits(void **state)
{
        struct sb_cgroup cg;
        struct sb_cgroup_job job;
        struct sb_policy lim = { .memory_max = 512ull << 20, .tasks_max = 64, .cpu_percent = 50 };
        char err[256] = "";

        (void)state;
        v2_tree();
        assert_int_equal(sb_cgroup_open(&cg, 2, tmpdir, "/", "skillbox", true, err, sizeof(err)), 0);
        assert_int_equal(sb_cgroup_job_create(&cg, "3f9a0c12be47", &lim, &job, err, sizeof(err)), 0);
        assert_string_equal(get("skillbox/3f9a0c12be47/memory.max"), "536870912");
        assert_string_equal(get("skillbox/3f9a0c12be47/memory.swap.max"), "0");
        assert_string_equal(get("skillbox/3f9a0c12be47/memory.oom.group"), "1");
        assert_string_equal(get("skillbox/3f9a0c12be47/pids.max"), "64");
        assert_string_equal(get("skillbox/3f9a0c12be47/cpu.max"), "50000 100000");
        assert_int_equal(sb_cgroup_job_clone_fd(&job), -1);

        /* 250% = two and a half CPUs. */
        struct sb_cgroup_job job2;
        lim.cpu_percent = 250;
        assert_int_equal(sb_cgroup_job_create(&cg, "job2", &lim, &job2, err, sizeof(err)), 0);
        assert_string_equal(get("skillbox/job2/cpu.max"), "250000 100000");

        /* Unlimited. */
        struct sb_cgroup_job job3;
        struct sb_policy none = { 0 };
        assert_int_equal(sb_cgroup_job_create(&cg, "job3", &none, &job3, err, sizeof(err)), 0);
        assert_string_equal(get("skillbox/job3/memory.max"), "max");
        assert_string_equal(get("skillbox/job3/memory.swap.max"), "0");
        assert_string_equal(get("skillbox/job3/pids.max"), "max");
        assert_string_equal(get("skillbox/job3/cpu.max"), "max");

        /* An id that is not [a-z0-9-] never reaches the file system. */
        struct sb_cgroup_job bad;
        assert_int_equal(sb_cgroup_job_create(&cg, "../x", &none, &bad, err, sizeof(err)), -EINVAL);
        /* A duplicate id is an error, not a reuse. */
        assert_int_equal(sb_cgroup_job_create(&cg, "job3", &none, &bad, err, sizeof(err)), -EEXIST);
        assert_non_null(strstr(err, "job3: EEXIST"));

        assert_int_equal(sb_cgroup_job_destroy(&job), 0);
        assert_int_equal(sb_cgroup_job_destroy(&job2), 0);
        assert_int_equal(sb_cgroup_job_destroy(&job3), 0);
        assert_false(exists("skillbox/3f9a0c12be47"));
        assert_false(exists("skillbox/job3"));
        sb_cgroup_close(&cg);
}

static void test_v2_stats(void **state)
{
        struct sb_cgroup cg;
        struct sb_cgroup_job job;
        struct sb_policy lim = { .memory_max = 1 << 20, .tasks_max = 8, .cpu_percent = 100 };
        struct sb_cgroup_stats st;
        char err[256] = "";

        (void)state;
        v2_tree();
        assert_int_equal(sb_cgroup_open(&cg, 2, tmpdir, "/", "skillbox", true, err, sizeof(err)), 0);
        assert_int_equal(sb_cgroup_job_create(&cg, "j1", &lim, &job, err, sizeof(err)), 0);
        put("skillbox/j1/cpu.stat", "usage_usec 3500123\nuser_usec 2000456\nsystem_usec 1499667\n"
                                    "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
        put("skillbox/j1/memory.peak", "1048576\n");
        put("skillbox/j1/memory.events", "low 0\nhigh 0\nmax 17\noom 2\noom_kill 1\noom_group_kill 0\n");
        put("skillbox/j1/pids.peak", "7\n");
        assert_int_equal(cg.ops->job_stats(&job, &st), 0);
        assert_int_equal(st.cpu_user_us, 2000456);
        assert_int_equal(st.cpu_sys_us, 1499667);
        assert_int_equal(st.memory_peak, 1048576);
        assert_int_equal(st.oom_kills, 1);
        assert_int_equal(st.tasks_peak, 7);

        /* No OOM; older kernels without memory.peak / pids.peak. */
        put("skillbox/j1/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        assert_int_equal(unlink(strcat(strcpy((char[PATH_MAX * 2]){ 0 }, tmpdir), "/skillbox/j1/pids.peak")), 0);
        assert_int_equal(unlink(strcat(strcpy((char[PATH_MAX * 2]){ 0 }, tmpdir), "/skillbox/j1/memory.peak")), 0);
        assert_int_equal(cg.ops->job_stats(&job, &st), 0);
        assert_int_equal(st.oom_kills, 0);
        assert_int_equal(st.tasks_peak, -1);
        assert_int_equal(st.memory_peak, 0);

        /* A garbled file is an error, not a zero. */
        put("skillbox/j1/cpu.stat", "user_usec banana\nsystem_usec 1\n");
        assert_int_equal(cg.ops->job_stats(&job, &st), -EINVAL);

        /* Emptiness comes from cgroup.procs. */
        put("skillbox/j1/cgroup.procs", "");
        assert_int_equal(sb_cgroup_job_empty(&job), 1);
        put("skillbox/j1/cgroup.procs", "4242\n");
        assert_int_equal(sb_cgroup_job_empty(&job), 0);
        put("skillbox/j1/cgroup.procs", "");
        assert_int_equal(sb_cgroup_job_destroy(&job), 0);
        sb_cgroup_close(&cg);
}

static void test_v2_leftovers(void **state)
{
        struct sb_cgroup cg;
        char err[256] = "";

        (void)state;
        v2_tree();
        assert_int_equal(sb_cgroup_open(&cg, 2, tmpdir, "/", "skillbox", true, err, sizeof(err)), 0);
        mk("skillbox/0123456789ab");
        put("skillbox/0123456789ab/cgroup.procs", "");
        put("skillbox/0123456789ab/cgroup.kill", "");
        put("skillbox/cgroup.procs", "");
        assert_int_equal(sb_cgroup_reap_leftovers(&cg, err, sizeof(err)), 0);
        assert_false(exists("skillbox/0123456789ab"));
        assert_true(exists("skillbox/cgroup.procs"));
        sb_cgroup_close(&cg);
}

/* ---- v1 ---- */

static void v1_tree(bool comount)
{
        mk("memory");
        mk("pids");
        mk("freezer");
        if (comount) {
                mk("cpu,cpuacct");
                char p[PATH_MAX * 2];
                snprintf(p, sizeof(p), "%s/cpu", tmpdir);
                assert_int_equal(symlink("cpu,cpuacct", p), 0);
                snprintf(p, sizeof(p), "%s/cpuacct", tmpdir);
                assert_int_equal(symlink("cpu,cpuacct", p), 0);
        } else {
                mk("cpu");
                mk("cpuacct");
        }
}

static void test_v1_limits_and_stats(void **state)
{
        struct sb_cgroup cg;
        struct sb_cgroup_job job;
        struct sb_policy lim = { .memory_max = 64ull << 20, .tasks_max = 16, .cpu_percent = 50 };
        struct sb_cgroup_stats st;
        char err[256] = "";

        (void)state;
        v1_tree(false);
        assert_int_equal(sb_cgroup_open(&cg, 1, tmpdir, "/", "skillbox", true, err, sizeof(err)), 0);
        assert_string_equal(cg.ops->name, "v1");
        assert_int_equal(cg.nbase, 5);
        assert_int_equal(sb_cgroup_job_create(&cg, "abc", &lim, &job, err, sizeof(err)), 0);
        assert_string_equal(get("memory/skillbox/abc/memory.limit_in_bytes"), "67108864");
        assert_string_equal(get("memory/skillbox/abc/memory.memsw.limit_in_bytes"), "67108864");
        assert_string_equal(get("pids/skillbox/abc/pids.max"), "16");
        assert_string_equal(get("cpu/skillbox/abc/cpu.cfs_period_us"), "100000");
        assert_string_equal(get("cpu/skillbox/abc/cpu.cfs_quota_us"), "50000");
        assert_true(exists("cpuacct/skillbox/abc"));
        assert_true(exists("freezer/skillbox/abc"));

        struct sb_cgroup_job j2;
        struct sb_policy none = { 0 };
        assert_int_equal(sb_cgroup_job_create(&cg, "def", &none, &j2, err, sizeof(err)), 0);
        assert_string_equal(get("pids/skillbox/def/pids.max"), "max");
        assert_string_equal(get("cpu/skillbox/def/cpu.cfs_quota_us"), "-1");
        assert_string_equal(get("memory/skillbox/def/memory.limit_in_bytes"), "<absent>");

        put("cpuacct/skillbox/abc/cpuacct.usage_user", "2000000000\n");
        put("cpuacct/skillbox/abc/cpuacct.usage_sys", "500000\n");
        put("memory/skillbox/abc/memory.max_usage_in_bytes", "67108864\n");
        put("memory/skillbox/abc/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        assert_int_equal(cg.ops->job_stats(&job, &st), 0);
        assert_int_equal(st.cpu_user_us, 2000000);
        assert_int_equal(st.cpu_sys_us, 500);
        assert_int_equal(st.memory_peak, 67108864);
        assert_int_equal(st.oom_kills, 3);
        assert_int_equal(st.tasks_peak, -1);

        /* Old kernels: cpuacct.stat in clock ticks; pids.peak when present. */
        unlink(strcat(strcpy((char[PATH_MAX * 2]){ 0 }, tmpdir), "/cpuacct/skillbox/abc/cpuacct.usage_user"));
        long hz = sysconf(_SC_CLK_TCK);
        char ticks[64];
        snprintf(ticks, sizeof(ticks), "user %ld\nsystem %ld\n", hz * 2, hz / 2);
        put("cpuacct/skillbox/abc/cpuacct.stat", ticks);
        put("pids/skillbox/abc/pids.peak", "9\n");
        put("memory/skillbox/abc/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        assert_int_equal(cg.ops->job_stats(&job, &st), 0);
        assert_int_equal(st.cpu_user_us, 2000000);
        assert_int_equal(st.cpu_sys_us, 500000);
        assert_int_equal(st.tasks_peak, 9);
        assert_int_equal(st.oom_kills, 0);

        /* Kill on a fake tree with nobody inside: freeze then thaw. */
        put("freezer/skillbox/abc/cgroup.procs", "");
        assert_int_equal(cg.ops->job_kill(&job), 0);
        assert_string_equal(get("freezer/skillbox/abc/freezer.state"), "THAWED");

        assert_int_equal(sb_cgroup_job_destroy(&job), 0);
        assert_int_equal(sb_cgroup_job_destroy(&j2), 0);
        assert_false(exists("memory/skillbox/abc"));
        assert_false(exists("cpu/skillbox/abc"));
        assert_false(exists("freezer/skillbox/def"));
        sb_cgroup_close(&cg);
}

static void test_v1_comounted(void **state)
{
        struct sb_cgroup cg;
        struct sb_cgroup_job job;
        struct sb_policy lim = { .cpu_percent = 100 };
        char err[256] = "";

        (void)state;
        v1_tree(true);
        assert_int_equal(sb_cgroup_open(&cg, 1, tmpdir, "/", "skillbox", true, err, sizeof(err)), 0);
        /* cpu and cpuacct are one hierarchy behind two names. */
        assert_int_equal(cg.nbase, 4);
        assert_int_equal(cg.ctrl_base[2], cg.ctrl_base[3]);
        assert_int_equal(sb_cgroup_job_create(&cg, "abc", &lim, &job, err, sizeof(err)), 0);
        assert_string_equal(get("cpu,cpuacct/skillbox/abc/cpu.cfs_quota_us"), "100000");
        assert_int_equal(sb_cgroup_job_destroy(&job), 0);
        assert_false(exists("cpu,cpuacct/skillbox/abc"));
        sb_cgroup_close(&cg);
}

/* The clone3 child moves itself: "0" to cgroup.procs of every hierarchy,
 * and a hierarchy without its job fd is an error, never skipped. */
static void test_v1_attach_self(void **state)
{
        struct sb_cgroup cg;
        struct sb_cgroup_job job;
        struct sb_policy lim = { 0 };
        char err[256] = "";

        (void)state;
        v1_tree(false);
        assert_int_equal(sb_cgroup_open(&cg, 1, tmpdir, "/", "skillbox", true, err, sizeof(err)), 0);
        assert_int_equal(sb_cgroup_job_create(&cg, "abc", &lim, &job, err, sizeof(err)), 0);
        assert_int_equal(sb_cgroup_attach_self(job.fd, cg.nbase, cg.fake), 0);
        assert_string_equal(get("memory/skillbox/abc/cgroup.procs"), "0");
        assert_string_equal(get("pids/skillbox/abc/cgroup.procs"), "0");
        assert_string_equal(get("cpu/skillbox/abc/cgroup.procs"), "0");
        assert_string_equal(get("cpuacct/skillbox/abc/cgroup.procs"), "0");
        assert_string_equal(get("freezer/skillbox/abc/cgroup.procs"), "0");
        int saved = job.fd[1];
        job.fd[1] = -1;
        assert_int_equal(sb_cgroup_attach_self(job.fd, cg.nbase, cg.fake), -EBADF);
        job.fd[1] = saved;
        /* Nobody is really inside: empty again so destroy() can remove it. */
        put("memory/skillbox/abc/cgroup.procs", "");
        put("pids/skillbox/abc/cgroup.procs", "");
        put("cpu/skillbox/abc/cgroup.procs", "");
        put("cpuacct/skillbox/abc/cgroup.procs", "");
        put("freezer/skillbox/abc/cgroup.procs", "");
        assert_int_equal(sb_cgroup_job_destroy(&job), 0);
        sb_cgroup_close(&cg);
}

static void test_v1_missing_required(void **state)
{
        struct sb_cgroup cg;
        char err[256] = "";

        (void)state;
        mk("memory");
        assert_int_equal(sb_cgroup_open(&cg, 1, tmpdir, "/", "skillbox", true, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "pids"));
}

static void test_bad_name(void **state)
{
        struct sb_cgroup cg;
        char err[256] = "";

        (void)state;
        assert_int_equal(sb_cgroup_open(&cg, 2, tmpdir, "/", "..", true, err, sizeof(err)), -EINVAL);
        assert_int_equal(sb_cgroup_open(&cg, 2, tmpdir, "/", "a/b", true, err, sizeof(err)), -EINVAL);
}

static void test_read_key(void **state)
{
        uint64_t v = 99;
        int dfd;

        (void)state;
        put("memory.events", "oom 5\noom_kill 2\n");
        dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
        assert_true(dfd >= 0);
        assert_int_equal(sb_cg_read_key(dfd, "memory.events", "oom_kill", &v), 0);
        assert_int_equal(v, 2);
        assert_int_equal(sb_cg_read_key(dfd, "memory.events", "oom", &v), 0);
        assert_int_equal(v, 5);
        assert_int_equal(sb_cg_read_key(dfd, "memory.events", "oom_group_kill", &v), -ENOENT);
        put("memory.max", "max\n");
        assert_int_equal(sb_cg_read_u64(dfd, "memory.max", &v), 0);
        assert_true(v == UINT64_MAX);
        close(dfd);
}

/* ---- job directory removal (hostile content) ---- */

static void test_jobdir_hostile(void **state)
{
        char state_dir[PATH_MAX * 2], work[PATH_MAX], err[256] = "", p[PATH_MAX * 2];

        (void)state;
        snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
        mk("state");
        mk("outside");
        put("outside/precious", "keep me");
        assert_int_equal(sb_backend_jobdir_create(state_dir, "abc", getuid(), getgid(), work,
                                                  sizeof(work), err, sizeof(err)), 0);
        assert_true(exists("state/jobs/abc/work"));
        /* An existing job dir is not reused. */
        assert_int_equal(sb_backend_jobdir_create(state_dir, "abc", getuid(), getgid(), work,
                                                  sizeof(work), err, sizeof(err)), -EEXIST);
        /* Links planted by the job, to a directory and to a file outside. */
        snprintf(p, sizeof(p), "%s/outside", tmpdir);
        assert_int_equal(symlink(p, strcat(strcpy((char[PATH_MAX * 2]){ 0 }, work), "/dirlink")), 0);
        snprintf(p, sizeof(p), "%s/outside/precious", tmpdir);
        assert_int_equal(symlink(p, strcat(strcpy((char[PATH_MAX * 2]){ 0 }, work), "/filelink")), 0);
        /* A deep tree: far more levels than fds allowed during removal. */
        assert_int_equal(chdir(work), 0);
        for (int i = 0; i < 400; i++) {
                assert_int_equal(mkdir("d", 0700), 0);
                assert_int_equal(chdir("d"), 0);
                if (i % 100 == 0) {
                        int fd = open("f", O_CREAT | O_WRONLY, 0600);
                        assert_true(fd >= 0);
                        close(fd);
                        assert_int_equal(symlink("/", "rootlink"), 0);
                }
        }
        assert_int_equal(chdir("/"), 0);
        struct rlimit saved, few = { 32, 32 };
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        few.rlim_max = saved.rlim_max;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &few), 0);
        int removed = sb_backend_jobdir_remove(state_dir, "abc");
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        assert_int_equal(removed, 0);
        assert_false(exists("state/jobs/abc"));
        assert_string_equal(get("outside/precious"), "keep me");
        assert_int_equal(sb_backend_jobdir_remove(state_dir, "abc"), -ENOENT);
        assert_int_equal(sb_backend_jobdir_remove(state_dir, "../outside"), -EINVAL);

        /* remove_all clears every leftover. */
        assert_int_equal(sb_backend_jobdir_create(state_dir, "x1", getuid(), getgid(), work,
                                                  sizeof(work), err, sizeof(err)), 0);
        assert_int_equal(sb_backend_jobdir_create(state_dir, "x2", getuid(), getgid(), work,
                                                  sizeof(work), err, sizeof(err)), 0);
        assert_int_equal(sb_backend_jobdir_remove_all(state_dir), 0);
        assert_false(exists("state/jobs/x1"));
        assert_false(exists("state/jobs/x2"));
        assert_true(exists("state/jobs"));
        assert_true(exists("outside/precious"));
}

/* A wide tree: big flat directories (one pass each), files beside
 * subdirectories at every level, empty directories, and a FIFO. */
static void test_jobdir_wide(void **state)
{
        char state_dir[PATH_MAX * 2], work[PATH_MAX], err[256] = "", name[64];

        (void)state;
        snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
        mk("state");
        assert_int_equal(sb_backend_jobdir_create(state_dir, "wide", getuid(), getgid(), work,
                                                  sizeof(work), err, sizeof(err)), 0);
        assert_int_equal(chdir(work), 0);
        for (int d = 0; d < 3; d++) {
                snprintf(name, sizeof(name), "d%d", d);
                assert_int_equal(mkdir(name, 0700), 0);
                assert_int_equal(chdir(name), 0);
                for (int i = 0; i < 3000; i++) {
                        snprintf(name, sizeof(name), "f%d", i);
                        int fd = open(name, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
                        assert_true(fd >= 0);
                        close(fd);
                        if (i % 1000 == 0) {
                                snprintf(name, sizeof(name), "empty%d", i);
                                assert_int_equal(mkdir(name, 0700), 0);
                        }
                }
                assert_int_equal(mkfifo("fifo", 0600), 0);
                assert_int_equal(symlink("/", "rootlink"), 0);
        }
        assert_int_equal(chdir("/"), 0);
        assert_int_equal(sb_backend_jobdir_remove(state_dir, "wide"), 0);
        assert_false(exists("state/jobs/wide"));
}

static void test_errname(void **state)
{
        char buf[64];

        (void)state;
        assert_string_equal(sb_backend_errname(EPERM), "EPERM");
        assert_string_equal(sb_backend_errname(-ENOENT), "ENOENT");
        assert_int_equal(sb_backend_fail(buf, sizeof(buf), -EINVAL, "pivot_root"), -EINVAL);
        assert_string_equal(buf, "pivot_root: EINVAL");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)
                T(test_v2_open_enables_controllers),
                T(test_v2_open_missing_controller),
                T(test_v2_own_path),
                T(test_v2_limits),
                T(test_v2_stats),
                T(test_v2_leftovers),
                T(test_v1_limits_and_stats),
                T(test_v1_comounted),
                T(test_v1_attach_self),
                T(test_v1_missing_required),
                T(test_bad_name),
                T(test_read_key),
                T(test_jobdir_hostile),
                T(test_jobdir_wide),
                T(test_errname),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* !HAVE_BACKEND_LINUX */

static void skipped(void **state)
{
        (void)state;
        skip();         /* the cgroup layer is part of the linux backend only */
}

int main(void)
{
        const struct CMUnitTest tests[] = { cmocka_unit_test(skipped) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
