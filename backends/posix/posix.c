/* posix.c — the fallback backend: rlimits, a session (and so a process
 * group) of its own, a dedicated uid when the daemon is root, and a job
 * directory as cwd. Nothing else.
 *
 * It reports exactly that in `enforced` (no namespaces, no cgroup, network
 * not isolated), so a profile that needs more fails closed in the daemon.
 * A job of network allowlist gets its egress proxy's listener on the
 * host's loopback and its proxy variables naming it (egress_host.c), as on
 * macOS: tools that honour HTTP_PROXY go through the allowlist, but nothing
 * stops a direct connection, so `enforced.network` stays empty and hello
 * does not list allowlist among the modes it gives as they say.
 * Portable POSIX apart from the exit fd (posix/exitfd.c). The child between
 * fork() and execve() allocates nothing (the daemon is multi-threaded) and
 * reports a failing step on an O_CLOEXEC pipe (see backends/util.c).
 * The session is what keeps a job off any terminal: without a controlling
 * terminal, /dev/tty cannot be opened (ENXIO) and there is nothing to
 * TIOCSTI into, whatever terminal the daemon was started from. A tty job
 * (spec.tty) gets a pty of the host's as its stdio and controlling
 * terminal instead: there is no devpts of its own without a mount
 * namespace, and nothing here hides the host's /dev/pts from it anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/posix/posix.h"
#ifdef __linux__
#include "backends/linux/chown_tree.h"
#endif

#define POSIX_NOFILE 1024

struct sb_backend {
        char state_dir[PATH_MAX];
        uint32_t uid_first, uid_last;
        struct sb_backend_idpool ids;   /* the job uids handed out */
        bool root;
};

struct sb_backend_job {
        struct sb_backend *b;
        char id[SBP_JOB_ID_MAX + 1];
        pid_t pid;
        int exit_fd;
        int err_fd;             /* read end of the child's error pipe */
        bool uid_changed;
        uid_t uid;
        gid_t gid;
        uint64_t memory_max, tasks_max;
        bool reaped;
        /* Files by descriptor: the client's directory becomes the cwd (no
         * mounts here); a dup kept for the ownership fix after the job. */
        int workdir_fd;         /* -1 = the fresh job dir */
        uid_t owner_uid;
        gid_t owner_gid;
        bool files_given;       /* the ownership fix-up ran */
        int tty_master;         /* a tty job's pty master until tty_take; -1 = none */
        struct sb_backend_egress egress;   /* network allowlist: the proxy's listener */
};

static int posix_open(const struct sb_backend_config *cfg, struct sb_backend **out,
                      char *errbuf, size_t errlen)
{
        struct sb_backend *b;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "posix backend");
        r = snprintf(b->state_dir, sizeof(b->state_dir), "%s", cfg->state_dir);
        if (r < 0 || (size_t)r >= sizeof(b->state_dir)) {
                free(b);
                return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "state dir");
        }
        b->uid_first = cfg->uid_first;
        b->uid_last = cfg->uid_last;
        b->root = geteuid() == 0;
        /* The caller made it (daemon/statedir.h); a job's dir goes under it. */
        struct stat st;
        if (stat(b->state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                r = sb_backend_fail(errbuf, errlen, errno ? -errno : -ENOTDIR, "state dir %s",
                                    b->state_dir);
                free(b);
                return r;
        }
        /* Job dirs of a previous instance. Its processes are not hunted
         * down here: without cgroups a job may have left its process group,
         * which is part of what "posix" does not enforce. */
        r = sb_backend_jobdir_remove_all(b->state_dir);
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "remove %s/jobs", b->state_dir);
                free(b);
                return r;
        }
        /* Taken from even when not root (every job then runs as the
         * daemon's uid): the daemon counts its jobs by them alike. */
        r = sb_backend_idpool_init(&b->ids, cfg->uid_first, cfg->uid_last);
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "uid range %u-%u", cfg->uid_first,
                                    cfg->uid_last);
                free(b);
                return r;
        }
        *out = b;
        return 0;
}

static void posix_close(struct sb_backend *b)
{
        if (!b)
                return;
        sb_backend_idpool_free(&b->ids);
        free(b);
}

static int posix_identity_take(struct sb_backend *b, uint32_t *out)
{
        return sb_backend_idpool_take(&b->ids, out);
}

static void posix_identity_give(struct sb_backend *b, uint32_t id)
{
        sb_backend_idpool_give(&b->ids, id);
}

static void posix_caps(struct sb_backend_caps *out)
{
        memset(out, 0, sizeof(*out));
        out->memory = SB_BACKEND_LIMIT_ENFORCED;   /* RLIMIT_AS */
        /* RLIMIT_NPROC counts per uid: only a uid of the job's own. */
        out->tasks = geteuid() == 0 ? SB_BACKEND_LIMIT_ENFORCED : SB_BACKEND_LIMIT_ABSENT;
        out->cpu = SB_BACKEND_LIMIT_ABSENT;
        /* No mount namespace: a client's directory can only be the cwd. */
        out->fd_mounts = false;
        out->tty = true;        /* a host pty (open_pty) */
        /* Nothing confines a job's network: whatever the mode, it has the
         * host's (an allowlist job's proxy is there for tools that use it). */
        out->network_modes = SBP_NETWORK_MODE_HOST;
        out->prepared = false;
        out->needs_delegated_cgroup = false;
}

/* Nothing of the host decides whether rlimits and a session work. */
static void posix_probe(const struct sb_backend_config *cfg, struct sb_backend_probe *out)
{
        out->unusable[0] = '\0';
}

static void posix_fill(struct sbp_enforced *e)
{
        memset(e, 0, sizeof(*e));
        snprintf(e->backend, sizeof(e->backend), "posix");
        snprintf(e->cgroup, sizeof(e->cgroup), "none");
        e->network[0] = '\0';
        e->rlimits = true;
        e->process_group = true;
        e->uid = -1;
        e->gid = -1;
}

static void posix_host_caps(struct sb_backend *b, struct sbp_enforced *out)
{
        posix_fill(out);
        if (b->root) {
                out->uid = b->uid_first;
                out->gid = b->uid_first;
        }
}

__attribute__((noreturn))
static void posix_child(const struct sb_backend_job *j, const struct sb_job_spec *spec,
                        const char *work, int errfd)
{
        const char *step = NULL;
        int r;

        /* Also a process group of its own (pgid = pid), which kill()
         * signals as a whole. */
        if (setsid() < 0)
                sb_child_fail(errfd, errno, "setsid", NULL);
        sb_child_rlimit(errfd, RLIMIT_CORE, 0, "RLIMIT_CORE");
        sb_child_rlimit(errfd, RLIMIT_NOFILE, POSIX_NOFILE, "RLIMIT_NOFILE");
        if (spec->policy.memory_max)
                sb_child_rlimit(errfd, RLIMIT_AS, spec->policy.memory_max, "RLIMIT_AS");
#ifdef RLIMIT_NPROC
        /* Per real uid: meaningful only when the uid is the job's own. */
        if (j->uid_changed && spec->policy.tasks_max)
                sb_child_rlimit(errfd, RLIMIT_NPROC, spec->policy.tasks_max, "RLIMIT_NPROC");
#endif
        /* chdir while still root: the path above work/ is root-only (0700).
         * A client's directory is entered by its fd, never by a path. */
        if (spec->workdir_fd >= 0) {
                if (fchdir(spec->workdir_fd) < 0)
                        sb_child_fail(errfd, errno, "fchdir", "workdir_fd");
        } else if (chdir(work) < 0) {
                sb_child_fail(errfd, errno, "chdir", work);
        }
        if (j->uid_changed) {
                /* As root, setgid/setuid set real, effective and saved ids. */
                if (setgroups(0, NULL) < 0)
                        sb_child_fail(errfd, errno, "setgroups", NULL);
                if (setgid(j->gid) < 0)
                        sb_child_fail(errfd, errno, "setgid", NULL);
                if (setuid(j->uid) < 0)
                        sb_child_fail(errfd, errno, "setuid", NULL);
        }
        /* No root of its own here: only a cwd under /work has a meaning,
         * entered relative to the job's directory, as the job. */
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
        /* The session's leader (setsid above) takes its pty as its
         * controlling terminal: ^C and SIGWINCH reach its foreground group. */
        if (spec->tty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                sb_child_fail(errfd, errno, "TIOCSCTTY", "the job's terminal");
        sb_child_exec(spec->argv, j->egress.envp ? j->egress.envp : spec->envp);
        sb_child_fail(errfd, errno, "execve", spec->argv[0]);
}

/* A pty of the host's for a tty job: the master (ours) and the slave
 * (the job's stdio, owned by its uid when it has one of its own), sized
 * before the job runs. 0, or -errno with errbuf naming the step. */
static int open_pty(const struct sb_backend_job *j, const struct sb_job_spec *spec, int *master,
                    int *slave, char *errbuf, size_t errlen)
{
        struct winsize ws = { .ws_row = (unsigned short)spec->rows,
                              .ws_col = (unsigned short)spec->cols };
        const char *step = "posix_openpt", *name;
        int m, s = -1, r;

        m = posix_openpt(O_RDWR | O_NOCTTY);
        if (m < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "tty: %s", step);
        if (fcntl(m, F_SETFD, FD_CLOEXEC) < 0)
                goto fail;
        step = "grantpt";
        if (grantpt(m) < 0)
                goto fail;
        step = "unlockpt";
        if (unlockpt(m) < 0)
                goto fail;
        /* The daemon's loop is its one thread that calls it. */
        step = "ptsname";
        name = ptsname(m);
        if (!name)
                goto fail;
        step = "open the job's pty";
        s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (s < 0)
                goto fail;
        step = "chown the job's pty";
        if (j->uid_changed && fchown(s, j->uid, j->gid) < 0)
                goto fail;
        step = "set the job's window size";
        if (ioctl(m, TIOCSWINSZ, &ws) < 0)
                goto fail;
        *master = m;
        *slave = s;
        return 0;
fail:
        r = -errno;
        if (s >= 0)
                close(s);
        close(m);
        return sb_backend_fail(errbuf, errlen, r ? r : -EIO, "tty: %s", step);
}

static int posix_spawn_job(struct sb_backend *b, const struct sb_job_spec *spec,
                           struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        struct sb_backend_job *j;
        char work[PATH_MAX];
        struct sb_job_spec ts;
        int errp[2] = { -1, -1 }, tty_slave = -1, r;
        pid_t pid;

        if (!spec->argv || !spec->argv[0])
                return sb_backend_fail(errbuf, errlen, -EINVAL, "argv");
        if (!sb_backend_job_id_valid(spec->job_id))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "job id");
        /* No mount namespace here: extra directories cannot be shown. */
        if (spec->nmounts > 0)
                return sb_backend_fail(errbuf, errlen, -EOPNOTSUPP,
                                       "mounts: not supported by the posix backend");
        if (spec->policy.n_bind_ro > 0)
                return sb_backend_fail(errbuf, errlen, -EOPNOTSUPP,
                                       "BindReadOnlyPaths: not supported by the posix backend");
        j = calloc(1, sizeof(*j));
        if (!j)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "job");
        j->b = b;
        j->workdir_fd = -1;
        j->tty_master = -1;
        j->egress = SB_BACKEND_EGRESS_NONE;
        if (spec->workdir_fd >= 0) {
                struct stat st;

                if (fstat(spec->workdir_fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        free(j);
                        return sb_backend_fail(errbuf, errlen, -ENOTDIR, "workdir_fd");
                }
                j->workdir_fd = fcntl(spec->workdir_fd, F_DUPFD_CLOEXEC, 3);
                if (j->workdir_fd < 0) {
                        free(j);
                        return sb_backend_fail(errbuf, errlen, -errno, "dup workdir_fd");
                }
                j->owner_uid = spec->owner_uid;
                j->owner_gid = spec->owner_gid;
        }
        j->exit_fd = -1;
        j->err_fd = -1;
        snprintf(j->id, sizeof(j->id), "%s", spec->job_id);
        j->uid_changed = b->root;
        j->uid = b->root ? spec->uid : getuid();
        j->gid = b->root ? spec->gid : getgid();
        j->memory_max = spec->policy.memory_max;
        j->tasks_max = j->uid_changed ? spec->policy.tasks_max : 0;

        r = sb_backend_jobdir_create(b->state_dir, j->id, j->uid, j->gid, work, sizeof(work),
                                     errbuf, errlen);
        if (r < 0) {
                if (j->workdir_fd >= 0)
                        close(j->workdir_fd);
                free(j);
                return r;
        }
        /* Before the program runs, so its first connection already queues. */
        if (spec->policy.network == SB_NETWORK_ALLOWLIST) {
                r = sb_backend_egress_open(&j->egress, spec->envp, errbuf, errlen);
                if (r < 0)
                        goto fail;
        }
        /* A terminal: its slave is the job's stdio. */
        if (spec->tty) {
                ts = *spec;
                r = open_pty(j, spec, &j->tty_master, &tty_slave, errbuf, errlen);
                if (r < 0)
                        goto fail;
                ts.stdin_fd = ts.stdout_fd = ts.stderr_fd = tty_slave;
                spec = &ts;
        }
        if (pipe(errp) < 0 || fcntl(errp[0], F_SETFD, FD_CLOEXEC) < 0 ||
            fcntl(errp[1], F_SETFD, FD_CLOEXEC) < 0 || fcntl(errp[0], F_SETFL, O_NONBLOCK) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "pipe");
                goto fail;
        }
        sigset_t oldmask;
        /* No signal may reach the child before it reset the handlers. */
        sb_backend_block_signals(&oldmask);
        pid = fork();
        if (pid == 0) {
                sb_child_reset_signals();
                close(errp[0]);
                posix_child(j, spec, work, errp[1]);
        }
        r = -errno;
        sb_backend_restore_signals(&oldmask);
        /* The job has its copy: ours would keep the master from seeing the
         * job's end (EIO). */
        if (tty_slave >= 0)
                close(tty_slave);
        tty_slave = -1;
        if (pid < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "fork");
                goto fail;
        }
        /* Not setpgid() from here too: the child would then lead a group
         * already, and its setsid() would fail. Until its setsid() the
         * group does not exist; kill() signals the process itself then. */
        j->pid = pid;
        close(errp[1]);
        errp[1] = -1;
        j->err_fd = errp[0];
        r = sb_posix_exit_fd_open(pid);
        if (r < 0) {
                sb_backend_fail(errbuf, errlen, r, "pidfd_open");
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                close(j->err_fd);
                j->err_fd = -1;
                goto fail_dir;
        }
        j->exit_fd = r;
        *out = j;
        return 0;
fail:
        if (errp[0] >= 0)
                close(errp[0]);
        if (errp[1] >= 0)
                close(errp[1]);
        if (tty_slave >= 0)
                close(tty_slave);
fail_dir:
        sb_backend_jobdir_remove(b->state_dir, j->id);
        if (j->workdir_fd >= 0)
                close(j->workdir_fd);
        if (j->tty_master >= 0)
                close(j->tty_master);
        sb_backend_egress_close(&j->egress);
        free(j);
        return r;
}

static sb_handle posix_exit_handle(struct sb_backend_job *j)
{
        return j->exit_fd;
}

static int posix_pid(struct sb_backend_job *j)
{
        return j->pid;
}

static int posix_kill(struct sb_backend_job *j)
{
        /* Until reap() the main process (alive or zombie) holds the pgid, so
         * it cannot name some other group. */
        if (j->reaped)
                return 0;
        if (kill(-j->pid, SIGKILL) < 0 && errno != ESRCH)
                return -errno;
        /* Before its setsid() there is no group yet (and no other process
         * of the job either). */
        if (kill(j->pid, SIGKILL) < 0 && errno != ESRCH)
                return -errno;
        return 0;
}

static int posix_reap(struct sb_backend_job *j, struct sb_backend_exit *out)
{
        struct rusage ru;
        int status;
        pid_t p;

        memset(out, 0, sizeof(*out));
        out->exit_code = -1;
        out->tasks_peak = -1;
        if (j->reaped)
                return -ECHILD;
        /* Kill what is left of the group while the main process still pins
         * the pgid, then collect the main process. */
        (void)kill(-j->pid, SIGKILL);
        do
                p = wait4(j->pid, &status, 0, &ru);
        while (p < 0 && errno == EINTR);
        if (p < 0)
                return -errno;
        j->reaped = true;
        /* The group is dead: what the job uid wrote into the client's
         * directory goes to the client (finish_files, off the loop). */
        out->files_pending = j->workdir_fd >= 0 && j->uid_changed;
        if (sb_backend_read_child_error(j->err_fd, out->error, sizeof(out->error), NULL)) {
                out->setup_failed = true;
        } else if (WIFEXITED(status)) {
                out->exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
                out->signal = WTERMSIG(status);
        }
        out->cpu_user_ms = (uint64_t)ru.ru_utime.tv_sec * 1000 + (uint64_t)ru.ru_utime.tv_usec / 1000;
        out->cpu_sys_ms = (uint64_t)ru.ru_stime.tv_sec * 1000 + (uint64_t)ru.ru_stime.tv_usec / 1000;
#ifdef __APPLE__
        out->memory_peak = (uint64_t)ru.ru_maxrss;            /* bytes there */
#else
        out->memory_peak = (uint64_t)ru.ru_maxrss * 1024;     /* KiB on Linux and BSD */
#endif
        out->oom = false;       /* not detectable with rlimits alone */
        return 0;
}

/* Never following a link (linux/chown_tree.c). Elsewhere no walk is safe
 * enough yet (it needs openat2's RESOLVE_BENEATH): the files stay the job
 * uid's, and the daemon reports the error. */
static int posix_finish_files(struct sb_backend_job *j)
{
        if (!j->reaped || j->workdir_fd < 0 || !j->uid_changed || j->files_given)
                return 0;
        j->files_given = true;
#ifdef __linux__
        return sb_backend_chown_tree(j->workdir_fd, j->uid, j->gid, j->owner_uid, j->owner_gid);
#else
        return -EOPNOTSUPP;
#endif
}

static void posix_enforced(struct sb_backend_job *j, struct sbp_enforced *out)
{
        posix_fill(out);
        if (j->uid_changed) {
                out->uid = j->uid;
                out->gid = j->gid;
        }
        out->memory_max = j->memory_max;
        out->tasks_max = j->tasks_max;
        snprintf(out->workdir, sizeof(out->workdir), "%s", j->workdir_fd >= 0 ? "cwd" : "fresh");
}

static sb_handle posix_tty_take(struct sb_backend_job *j)
{
        int fd = j->tty_master;

        j->tty_master = -1;
        return fd;
}

static sb_handle posix_egress_listener(struct sb_backend_job *j)
{
        return j->egress.fd >= 0 ? j->egress.fd : SB_HANDLE_NONE;
}

static void posix_destroy(struct sb_backend_job *j)
{
        if (!j)
                return;
        if (j->tty_master >= 0)
                close(j->tty_master);
        sb_backend_egress_close(&j->egress);
        if (!j->reaped && j->pid > 0) {
                (void)kill(-j->pid, SIGKILL);
                (void)kill(j->pid, SIGKILL);
                while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        (void)posix_finish_files(j);   /* if the daemon never asked for it */
        (void)sb_backend_jobdir_remove(j->b->state_dir, j->id);
        if (j->exit_fd >= 0)
                close(j->exit_fd);
        if (j->err_fd >= 0)
                close(j->err_fd);
        if (j->workdir_fd >= 0)
                close(j->workdir_fd);
        free(j);
}

const struct sb_backend_ops sb_backend_posix_ops = {
        .name = "posix",
        .caps = posix_caps,
        .probe = posix_probe,
        .open = posix_open,
        .close = posix_close,
        .identity_take = posix_identity_take,
        .identity_give = posix_identity_give,
        .host_caps = posix_host_caps,
        .spawn = posix_spawn_job,
        .exit_handle = posix_exit_handle,
        .pid = posix_pid,
        .kill = posix_kill,
        .reap = posix_reap,
        .finish_files = posix_finish_files,
        .enforced = posix_enforced,
        .destroy = posix_destroy,
        .tty_take = posix_tty_take,
        .egress_listener = posix_egress_listener,
};
