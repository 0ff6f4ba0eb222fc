/* macos.c — the macOS backend: a Seatbelt profile made from the job's
 * policy (seatbelt.c), rlimits, a session (so a process group) of its own,
 * and a uid of its own when the daemon runs as root.
 *
 * What it enforces and what not, as `enforced` and caps() say:
 *  - files and network: the Seatbelt profile, applied in the child as its
 *    last step before execve and inherited by everything the job runs; it
 *    writes only the job's work/ and tmp/. Network allowlist: the backend
 *    listens for the egress proxy on the host's loopback at a port of the
 *    job's own (egress_host.c), the profile lets the job connect to that
 *    port alone, and the job's proxy variables name it.
 *  - tasks: RLIMIT_NPROC, which counts per uid, so only with the job's
 *    own uid (root daemon).
 *  - memory: monitored, not enforced (macOS ignores RLIMIT_AS and has no
 *    cgroups): the exit kqueue wakes the daemon every MEMORY_SAMPLE_MS,
 *    reap() sums the phys_footprint of the job uid's processes and kills
 *    the job once it is past memory_max (reported as oom).
 *  - CPU share: absent.
 *  - kill: the process group, then every process of the job's uid (a
 *    process that left the group with setsid() is still the uid's).
 * The child between fork() and execve() allocates nothing of its own;
 * sandbox_init_with_parameters() allocates inside libSystem, whose malloc
 * takes its locks around fork() (libmalloc's atfork handlers), so that is
 * safe in the child of a threaded daemon. A failing step is reported on
 * the error pipe (backends/util.c), with Seatbelt's own message.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/macos/macos.h"
#include "backends/macos/seatbelt.h"

#define MACOS_NOFILE 1024
#define MEMORY_SAMPLE_MS 250

struct sb_backend {
        char state_dir[PATH_MAX];
        struct sb_backend_idpool ids;
        bool root;
};

struct sb_backend_job {
        struct sb_backend *b;
        char id[SBP_JOB_ID_MAX + 1];
        pid_t pid;
        int kq;                 /* exit handle: EVFILT_PROC and the sampling timer */
        int err_fd;
        bool uid_changed;
        uid_t uid;
        gid_t gid;
        uint64_t memory_max, tasks_max;
        uint64_t memory_peak;   /* sampled */
        bool memory_exceeded;
        bool exited;            /* the main process was collected */
        bool reaped;
        enum sb_network network;
        char **envp;            /* the spec's, HOME and TMPDIR made host paths */
        struct sb_backend_egress egress;   /* network allowlist: the proxy's listener */
        struct sb_seatbelt sbx;
};

static int macos_open(const struct sb_backend_config *cfg, struct sb_backend **out,
                      char *errbuf, size_t errlen)
{
        struct sb_backend *b;
        struct stat st;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "macos backend");
        r = snprintf(b->state_dir, sizeof(b->state_dir), "%s", cfg->state_dir);
        if (r < 0 || (size_t)r >= sizeof(b->state_dir)) {
                free(b);
                return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "state dir");
        }
        b->root = geteuid() == 0;
        if (stat(b->state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                r = sb_backend_fail(errbuf, errlen, errno ? -errno : -ENOTDIR, "state dir %s",
                                    b->state_dir);
                free(b);
                return r;
        }
        r = sb_backend_jobdir_remove_all(b->state_dir);
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "remove %s/jobs", b->state_dir);
                free(b);
                return r;
        }
        r = sb_backend_idpool_init(&b->ids, cfg->uid_first, cfg->uid_last);
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "uid range %u-%u", cfg->uid_first,
                                    cfg->uid_last);
                free(b);
                return r;
        }
        /* What a previous instance left running: with a root daemon every
         * uid of the range is ours alone. */
        if (b->root)
                for (uint64_t u = cfg->uid_first; u <= cfg->uid_last; u++)
                        if (sb_macos_uid_processes((uid_t)u) > 0)
                                (void)sb_macos_uid_sweep((uid_t)u, (gid_t)u);
        *out = b;
        return 0;
}

static void macos_close(struct sb_backend *b)
{
        if (!b)
                return;
        sb_backend_idpool_free(&b->ids);
        free(b);
}

static int macos_identity_take(struct sb_backend *b, uint32_t *out)
{
        return sb_backend_idpool_take(&b->ids, out);
}

static void macos_identity_give(struct sb_backend *b, uint32_t id)
{
        sb_backend_idpool_give(&b->ids, id);
}

static void macos_caps(struct sb_backend_caps *out)
{
        memset(out, 0, sizeof(*out));
        out->memory = SB_BACKEND_LIMIT_MONITORED;
        out->tasks = geteuid() == 0 ? SB_BACKEND_LIMIT_ENFORCED : SB_BACKEND_LIMIT_ABSENT;
        out->cpu = SB_BACKEND_LIMIT_ABSENT;
        out->fd_mounts = false;
        out->prepared = false;
        out->needs_delegated_cgroup = false;
        out->profile_confined = true;
        out->kill_by_uid = true;
        /* Seatbelt: no network, only the proxy's port, or the host's. */
        out->network_modes = SBP_NETWORK_MODE_NONE | SBP_NETWORK_MODE_ALLOWLIST |
                             SBP_NETWORK_MODE_HOST;
}

static void macos_probe(const struct sb_backend_config *cfg, struct sb_backend_probe *out)
{
        (void)cfg;
        out->unusable[0] = '\0';
}

static void macos_fill(struct sbp_enforced *e)
{
        memset(e, 0, sizeof(*e));
        snprintf(e->backend, sizeof(e->backend), "macos");
        snprintf(e->cgroup, sizeof(e->cgroup), "none");
        e->rlimits = true;
        e->process_group = true;
        e->uid = -1;
        e->gid = -1;
}

static const char *network_name(enum sb_network n)
{
        switch (n) {
        case SB_NETWORK_NONE:
                return "none";
        case SB_NETWORK_ALLOWLIST:
                return "allowlist";
        case SB_NETWORK_HOST:
                return "host";
        }
        return "";
}

static void macos_host_caps(struct sb_backend *b, struct sbp_enforced *out)
{
        macos_fill(out);
        /* Seatbelt confines every job's network. */
        snprintf(out->network, sizeof(out->network), "none");
        if (b->root) {
                out->uid = b->ids.first;
                out->gid = b->ids.first;
        }
}

/* The spec's environment with HOME and TMPDIR set to the job's host
 * directories (the daemon names /work and /tmp, which exist in a linux
 * job's own root, not here). One allocation: the pointers, then the two
 * new strings. */
static char **job_env(char *const *envp, const char *home, const char *tmp)
{
        size_t n = 0, hl = strlen(home) + sizeof("HOME="), tl = strlen(tmp) + sizeof("TMPDIR=");
        char **env, *h, *t;
        size_t k = 0;

        while (envp && envp[n])
                n++;
        env = malloc((n + 3) * sizeof(char *) + hl + tl);
        if (!env)
                return NULL;
        h = (char *)(env + n + 3);
        t = h + hl;
        snprintf(h, hl, "HOME=%s", home);
        snprintf(t, tl, "TMPDIR=%s", tmp);
        for (size_t i = 0; i < n; i++)
                if (strncmp(envp[i], "HOME=", 5) != 0 && strncmp(envp[i], "TMPDIR=", 7) != 0)
                        env[k++] = envp[i];
        env[k++] = h;
        env[k++] = t;
        env[k] = NULL;
        return env;
}

__attribute__((noreturn))
static void macos_child(const struct sb_backend_job *j, const struct sb_job_spec *spec,
                        const char *work, int errfd)
{
        const char *step = NULL;
        char *sberr = NULL;
        int r;

        if (setsid() < 0)
                sb_child_fail(errfd, errno, "setsid", NULL);
        sb_child_rlimit(errfd, RLIMIT_CORE, 0, "RLIMIT_CORE");
        sb_child_rlimit(errfd, RLIMIT_NOFILE, MACOS_NOFILE, "RLIMIT_NOFILE");
        if (j->uid_changed && spec->policy.tasks_max)
                sb_child_rlimit(errfd, RLIMIT_NPROC, spec->policy.tasks_max, "RLIMIT_NPROC");
        if (chdir(work) < 0)
                sb_child_fail(errfd, errno, "chdir", work);
        if (j->uid_changed) {
                if (setgroups(0, NULL) < 0)
                        sb_child_fail(errfd, errno, "setgroups", NULL);
                if (setgid(j->gid) < 0)
                        sb_child_fail(errfd, errno, "setgid", NULL);
                if (setuid(j->uid) < 0)
                        sb_child_fail(errfd, errno, "setuid", NULL);
        }
        if (spec->cwd && strcmp(spec->cwd, "/work") != 0) {
                if (strncmp(spec->cwd, "/work/", 6) != 0)
                        sb_child_fail(errfd, ENOTSUP, "chdir", spec->cwd);
                if (chdir(spec->cwd + 6) < 0)
                        sb_child_fail(errfd, errno, "chdir", spec->cwd);
        }
        if ((r = sb_child_fd_above_stdio(&errfd)) < 0)
                sb_child_fail(errfd, -r, "move error pipe", NULL);
        r = sb_child_stdio(spec->stdin_fd, spec->stdout_fd, spec->stderr_fd, &errfd, 1, &step);
        if (r < 0)
                sb_child_fail(errfd, -r, step, NULL);
        /* Last: from here on the profile confines this process too. */
        if (sandbox_init_with_parameters(j->sbx.text, 0, j->sbx.params, &sberr) != 0)
                sb_child_fail(errfd, EPERM, "sandbox_init_with_parameters",
                              sberr ? sberr : "refused");
        sb_child_exec(spec->argv, j->envp);
        sb_child_fail(errfd, errno, "execve", spec->argv[0]);
}

/* <jobdir>/tmp beside work/, the job's; the job dir itself becomes 0711
 * so the job reaches both by path (Seatbelt rules and TMPDIR are paths):
 * it lists nothing there, and work/ and tmp/ stay 0700, each job's own. */
static int make_tmp(const char *work, uid_t uid, gid_t gid, char *tmp, size_t len,
                    char *errbuf, size_t errlen)
{
        char jobdir[PATH_MAX];
        const char *slash = strrchr(work, '/');
        size_t n = slash ? (size_t)(slash - work) : 0;

        if (n == 0 || n >= sizeof(jobdir))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "job dir of %s", work);
        memcpy(jobdir, work, n);
        jobdir[n] = '\0';
        if (snprintf(tmp, len, "%s/tmp", jobdir) >= (int)len)
                return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "%s/tmp", jobdir);
        if (chmod(jobdir, 0711) < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "chmod %s", jobdir);
        if (mkdir(tmp, 0700) < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "mkdir %s", tmp);
        if (lchown(tmp, uid, gid) < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "chown %s", tmp);
        return 0;
}

static void job_free(struct sb_backend_job *j)
{
        if (j->kq >= 0)
                close(j->kq);
        if (j->err_fd >= 0)
                close(j->err_fd);
        free(j->envp);
        sb_backend_egress_close(&j->egress);   /* after envp, which points into its envp */
        free(j);
}

static int macos_spawn_job(struct sb_backend *b, const struct sb_job_spec *spec,
                           struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        struct sb_backend_job *j;
        char work[PATH_MAX], tmp[PATH_MAX];
        struct sb_seatbelt_dirs dirs;
        char *const *envp = spec->envp;
        int errp[2] = { -1, -1 }, r;
        sigset_t oldmask;
        pid_t pid;

        if (!spec->argv || !spec->argv[0])
                return sb_backend_fail(errbuf, errlen, -EINVAL, "argv");
        if (!sb_backend_job_id_valid(spec->job_id))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "job id");
        if (spec->nmounts > 0)
                return sb_backend_fail(errbuf, errlen, -EOPNOTSUPP,
                                       "mounts: not supported by the macos backend");
        /* The job would write the client's directory as its own uid, and
         * no safe ownership hand-back exists here yet. */
        if (spec->workdir_fd >= 0)
                return sb_backend_fail(errbuf, errlen, -EOPNOTSUPP,
                                       "workdir_fd: not supported by the macos backend");
        j = calloc(1, sizeof(*j));
        if (!j)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "job");
        j->b = b;
        j->kq = -1;
        j->err_fd = -1;
        j->egress = SB_BACKEND_EGRESS_NONE;
        snprintf(j->id, sizeof(j->id), "%s", spec->job_id);
        j->uid_changed = b->root;
        j->uid = b->root ? spec->uid : getuid();
        j->gid = b->root ? spec->gid : getgid();
        j->memory_max = spec->policy.memory_max;
        j->tasks_max = j->uid_changed ? spec->policy.tasks_max : 0;
        j->network = spec->policy.network;

        r = sb_backend_jobdir_create(b->state_dir, j->id, j->uid, j->gid, work, sizeof(work),
                                     errbuf, errlen);
        if (r < 0) {
                job_free(j);
                return r;
        }
        r = make_tmp(work, j->uid, j->gid, tmp, sizeof(tmp), errbuf, errlen);
        if (r < 0)
                goto fail_dir;
        /* Before the program runs, so its first connection already queues. */
        if (spec->policy.network == SB_NETWORK_ALLOWLIST) {
                r = sb_backend_egress_open(&j->egress, spec->envp, errbuf, errlen);
                if (r < 0)
                        goto fail_dir;
                envp = j->egress.envp;
        }
        dirs = (struct sb_seatbelt_dirs){ .work = work, .tmp = tmp, .home = NULL };
        r = sb_seatbelt_build(&spec->policy, &dirs, j->egress.port, &j->sbx, errbuf, errlen);
        if (r < 0)
                goto fail_dir;
        j->envp = job_env(envp, work, tmp);
        if (!j->envp) {
                r = sb_backend_fail(errbuf, errlen, -ENOMEM, "environment");
                goto fail_dir;
        }
        if (pipe(errp) < 0 || fcntl(errp[0], F_SETFD, FD_CLOEXEC) < 0 ||
            fcntl(errp[1], F_SETFD, FD_CLOEXEC) < 0 || fcntl(errp[0], F_SETFL, O_NONBLOCK) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "pipe");
                goto fail_pipe;
        }
        sb_backend_block_signals(&oldmask);
        pid = fork();
        if (pid == 0) {
                sb_child_reset_signals();
                close(errp[0]);
                macos_child(j, spec, work, errp[1]);
        }
        r = -errno;
        sb_backend_restore_signals(&oldmask);
        if (pid < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "fork");
                goto fail_pipe;
        }
        j->pid = pid;
        close(errp[1]);
        j->err_fd = errp[0];
        r = sb_macos_exit_kqueue(pid, j->memory_max ? MEMORY_SAMPLE_MS : 0);
        if (r < 0) {
                sb_backend_fail(errbuf, errlen, r, "kqueue EVFILT_PROC");
                (void)kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                goto fail_dir;
        }
        j->kq = r;
        *out = j;
        return 0;
fail_pipe:
        if (errp[0] >= 0)
                close(errp[0]);
        if (errp[1] >= 0)
                close(errp[1]);
fail_dir:
        sb_backend_jobdir_remove(b->state_dir, j->id);
        job_free(j);
        return r;
}

static sb_handle macos_exit_handle(struct sb_backend_job *j)
{
        return j->kq;
}

static int macos_pid(struct sb_backend_job *j)
{
        return j->pid;
}

/* The group while the main process pins the pgid, then the uid. */
static int kill_all(struct sb_backend_job *j)
{
        int r = 0;

        if (!j->exited) {
                if (kill(-j->pid, SIGKILL) < 0 && errno != ESRCH)
                        r = -errno;
                if (kill(j->pid, SIGKILL) < 0 && errno != ESRCH && r == 0)
                        r = -errno;
        }
        if (j->uid_changed) {
                int s = sb_macos_uid_sweep(j->uid, j->gid);

                if (s < 0 && r == 0)
                        r = s;
        }
        return r;
}

static int macos_kill(struct sb_backend_job *j)
{
        if (j->reaped)
                return 0;
        return kill_all(j);
}

static void sample_memory(struct sb_backend_job *j)
{
        uint64_t m = sb_macos_memory_sample(j->uid, j->uid_changed, j->pid);

        if (m > j->memory_peak)
                j->memory_peak = m;
        if (j->memory_max && m > j->memory_max && !j->memory_exceeded) {
                j->memory_exceeded = true;
                (void)kill_all(j);
        }
}

static int macos_reap(struct sb_backend_job *j, struct sb_backend_exit *out)
{
        struct rusage ru;
        int status, r;
        pid_t p;

        memset(out, 0, sizeof(*out));
        out->exit_code = -1;
        out->tasks_peak = -1;
        if (j->reaped)
                return -ECHILD;
        r = sb_macos_exit_kqueue_drain(j->kq);
        if (r < 0)
                return r;
        do
                p = wait4(j->pid, &status, WNOHANG, &ru);
        while (p < 0 && errno == EINTR);
        if (p < 0)
                return -errno;
        if (p == 0) {
                /* A timer tick: the job runs on. */
                sample_memory(j);
                return -EAGAIN;
        }
        j->exited = true;
        (void)kill_all(j);   /* what it left behind, by uid */
        j->reaped = true;
        if (sb_backend_read_child_error(j->err_fd, out->error, sizeof(out->error), NULL)) {
                out->setup_failed = true;
        } else if (WIFEXITED(status)) {
                out->exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
                out->signal = WTERMSIG(status);
        }
        out->cpu_user_ms = (uint64_t)ru.ru_utime.tv_sec * 1000 + (uint64_t)ru.ru_utime.tv_usec / 1000;
        out->cpu_sys_ms = (uint64_t)ru.ru_stime.tv_sec * 1000 + (uint64_t)ru.ru_stime.tv_usec / 1000;
        out->memory_peak = (uint64_t)ru.ru_maxrss;   /* bytes on macOS */
        if (j->memory_peak > out->memory_peak)
                out->memory_peak = j->memory_peak;
        out->oom = j->memory_exceeded;
        return 0;
}

static void macos_enforced(struct sb_backend_job *j, struct sbp_enforced *out)
{
        macos_fill(out);
        if (j->uid_changed) {
                out->uid = j->uid;
                out->gid = j->gid;
        }
        snprintf(out->network, sizeof(out->network), "%s", network_name(j->network));
        /* memory_max stays 0: monitored, not enforced. */
        out->tasks_max = j->tasks_max;
        snprintf(out->workdir, sizeof(out->workdir), "fresh");
}

static sb_handle macos_egress_listener(struct sb_backend_job *j)
{
        return j->egress.fd >= 0 ? j->egress.fd : SB_HANDLE_NONE;
}

static void macos_destroy(struct sb_backend_job *j)
{
        if (!j)
                return;
        if (!j->reaped && j->pid > 0) {
                (void)kill_all(j);
                while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        (void)sb_backend_jobdir_remove(j->b->state_dir, j->id);
        job_free(j);
}

const struct sb_backend_ops sb_backend_macos_ops = {
        .name = "macos",
        .caps = macos_caps,
        .probe = macos_probe,
        .open = macos_open,
        .close = macos_close,
        .identity_take = macos_identity_take,
        .identity_give = macos_identity_give,
        .host_caps = macos_host_caps,
        .spawn = macos_spawn_job,
        .exit_handle = macos_exit_handle,
        .pid = macos_pid,
        .kill = macos_kill,
        .reap = macos_reap,
        .enforced = macos_enforced,
        .egress_listener = macos_egress_listener,
        .destroy = macos_destroy,
};
