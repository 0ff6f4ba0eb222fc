/* linux.c — the linux backend's ops table: open/close with the host probe,
 * and the per-job lifecycle around spawn.c.
 *
 * open() learns everything a spawn needs (cap_last_cap, which of /bin,
 * /lib*, ... are links or dirs, which /etc files exist, the cgroup
 * version and subtree) so that a job costs: a job dir, a cgroup with its
 * limit files, one clone3 and the child's mounts.
 * Invariants: a job's uid is unique among live jobs (the daemon's promise);
 * reap() returns only when no process of the job is left; destroy() leaves
 * neither cgroup nor directory (or says why not, by leaving it to the next
 * open()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/landlock_rules.h"
#include "backends/linux/linux.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define LINUX_NS (SBP_NS_MOUNT | SBP_NS_PID | SBP_NS_NET | SBP_NS_IPC | SBP_NS_UTS | SBP_NS_CGROUP)

static const char *const top_names[SB_LINUX_TOP_MAX] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };
static const char *const etc_names[SB_LINUX_ETC_MAX] = {
        "etc/ld.so.cache", "etc/alternatives", "etc/localtime", "etc/nsswitch.conf",
        /* CA certificates (their targets are under /usr/share), what
         * TLS clients load by default. */
        "etc/ssl", "etc/ca-certificates", "etc/ca-certificates.conf",
        /* Fontconfig aborts without its config; renderers then pick wrong fonts. */
        "etc/fonts",
        /* Read by installers and runtimes to learn the platform; a link
         * to /usr/lib/os-release on most systems (followed: bound as a file). */
        "etc/os-release",
        /* Python's mimetypes, getservbyname(), getprotobyname(), setlocale(). */
        "etc/mime.types", "etc/services", "etc/protocols", "etc/locale.alias",
};

static int read_cap_last(void)
{
        char buf[16];
        int v;

        if (sb_cg_read(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) <= 0)
                return 63;      /* drop everything the kernel could know */
        v = atoi(buf);
        return v > 0 && v < 64 ? v : 63;
}

static void probe_path(struct sb_host_path *h, const char *name, bool follow)
{
        char path[300];
        struct stat st;
        ssize_t n;

        memset(h, 0, sizeof(*h));
        snprintf(h->name, sizeof(h->name), "%s", name);
        snprintf(path, sizeof(path), "/%s", name);
        if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
                return;
        if (S_ISLNK(st.st_mode)) {
                n = readlink(path, h->target, sizeof(h->target) - 1);
                if (n > 0) {
                        h->target[n] = '\0';
                        h->kind = SB_HOST_SYMLINK;
                }
        } else if (S_ISDIR(st.st_mode)) {
                h->kind = SB_HOST_DIR;
        } else if (S_ISREG(st.st_mode)) {
                h->kind = SB_HOST_FILE;
        }
}

/* A directory of the state dir's: a real, root-owned directory (job dirs
 * live under it). The daemon creates the state dir and its jobs/
 * (daemon/statedir.h); the backend only makes its own root/ and checks. */
static int check_dir(const char *path)
{
        struct stat st;

        if (lstat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
                return -ENOTDIR;
        return 0;
}

static int mkdir_mode(const char *path, mode_t mode)
{
        if (mkdir(path, mode) == 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        return check_dir(path);
}

static int linux_open(const struct sb_backend_config *cfg, struct sb_backend **out,
                      char *errbuf, size_t errlen)
{
        struct sb_backend *b;
        char path[PATH_MAX];
        int r;

        if (geteuid() != 0)
                return sb_backend_fail(errbuf, errlen, -EPERM, "linux backend needs root");
        if (cfg->uid_first == 0 || cfg->uid_first > cfg->uid_last)
                return sb_backend_fail(errbuf, errlen, -EINVAL, "uid range %u-%u",
                                       cfg->uid_first, cfg->uid_last);
        b = calloc(1, sizeof(*b));
        if (!b)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "linux backend");
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                b->cg.base[i].fd = -1;
        b->netns_self = -1;
        b->uid_first = cfg->uid_first;
        b->uid_last = cfg->uid_last;
        r = sb_backend_idpool_init(&b->ids, cfg->uid_first, cfg->uid_last);
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "uid range %u-%u", cfg->uid_first,
                                    cfg->uid_last);
                goto fail;
        }
        r = snprintf(b->state_dir, sizeof(b->state_dir), "%s", cfg->state_dir);
        if (r < 0 || (size_t)r >= sizeof(b->state_dir) - 64) {
                r = sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "state dir");
                goto fail;
        }
        if (snprintf(b->root_mnt, sizeof(b->root_mnt), "%s/root", b->state_dir) >= (int)sizeof(b->root_mnt) ||
            snprintf(path, sizeof(path), "%s/jobs", b->state_dir) >= (int)sizeof(path)) {
                r = sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "state dir");
                goto fail;
        }
        if ((r = check_dir(b->state_dir)) < 0 || (r = check_dir(path)) < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "state dir %s (and its jobs/)",
                                    b->state_dir);
                goto fail;
        }
        if ((r = mkdir_mode(b->root_mnt, 0755)) < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "mkdir %s", b->root_mnt);
                goto fail;
        }
        r = sb_linux_netns_self_open();
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "open /proc/thread-self/ns/net");
                goto fail;
        }
        b->netns_self = r;
        b->cap_last = read_cap_last();
        /* Without it (kernels before 5.0) the kernel answers refusals
         * itself and none is reported. */
        uint32_t notify = SECCOMP_RET_USER_NOTIF;
        b->seccomp_notify = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0U, &notify) == 0;
        b->landlock_abi = sb_linux_landlock_abi();
        if (b->landlock_abi > SB_LANDLOCK_ABI_MAX)
                b->landlock_abi = SB_LANDLOCK_ABI_MAX;
        for (int i = 0; i < SB_LINUX_TOP_MAX; i++)
                probe_path(&b->top[i], top_names[i], false);
        /* /etc entries are bound, so what counts is what the link points to. */
        for (int i = 0; i < SB_LINUX_ETC_MAX; i++)
                probe_path(&b->etc[i], etc_names[i], true);

        r = sb_cgroup_open(&b->cg, 0, NULL, NULL, cfg->linux_cfg.cgroup_name, false, errbuf,
                           errlen);
        if (r < 0)
                goto fail;
        r = sb_linux_reap_leftovers(b, errbuf, errlen);
        if (r < 0)
                goto fail;
        /* Every job is cloned by the spawner: no spawner, no backend. */
        const char *exe = sb_linux_spawner_find(cfg->linux_cfg.spawner_path, path, sizeof(path));
        if (!exe) {
                r = sb_backend_fail(errbuf, errlen, -ENOENT,
                                    "skillbox-spawner, which clones every job, is neither at %s "
                                    "nor at %s", path, SKILLBOX_SPAWNER_PATH);
                goto fail;
        }
        b->notice = cfg->linux_cfg.notice;
        r = sb_linux_spawner_start(b, exe, errbuf, errlen);
        if (r < 0)
                goto fail;
        *out = b;
        return 0;
fail:
        if (b->netns_self >= 0)
                close(b->netns_self);
        sb_cgroup_close(&b->cg);
        sb_backend_idpool_free(&b->ids);
        free(b);
        return r;
}

static void linux_close(struct sb_backend *b)
{
        if (!b)
                return;
        sb_linux_spawner_stop(b);
        sb_cgroup_close(&b->cg);
        sb_linux_seccomp_cache_free(&b->seccomp);
        sb_backend_idpool_free(&b->ids);
        if (b->netns_self >= 0)
                close(b->netns_self);
        free(b);
}

static int linux_identity_take(struct sb_backend *b, uint32_t *out)
{
        return sb_backend_idpool_take(&b->ids, out);
}

static void linux_identity_give(struct sb_backend *b, uint32_t id)
{
        sb_backend_idpool_give(&b->ids, id);
}

static void fill_common(struct sb_backend *b, struct sbp_enforced *e)
{
        memset(e, 0, sizeof(*e));
        snprintf(e->backend, sizeof(e->backend), "linux");
        e->namespaces = LINUX_NS;
        snprintf(e->cgroup, sizeof(e->cgroup), "%s", b->cg.ops->name);
        /* Every job gets them (or fails to start, saying which step). */
        e->seccomp = true;
        e->landlock = (uint32_t)b->landlock_abi;
        e->securebits = true;
        snprintf(e->syscall_filter, sizeof(e->syscall_filter), "@skillbox-service");
        e->no_new_privs = true;
        e->capabilities_dropped = true;
        e->rlimits = true;
        e->process_group = true;
        snprintf(e->network, sizeof(e->network), "none");
}

static void linux_host_caps(struct sb_backend *b, struct sbp_enforced *out)
{
        fill_common(b, out);
        out->uid = b->uid_first;
        out->gid = b->uid_first;
}

/* A job, or with `prepared` a prepared sandbox: everything but the program
 * (argv, envp and stdio come with start()). */
static int create_job(struct sb_backend *b, const struct sb_job_spec *spec, bool prepared,
                      bool sandbox, struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        struct sb_backend_job *j;
        int r;

        if (!prepared && (!spec->argv || !spec->argv[0]))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "argv");
        if (!sb_backend_job_id_valid(spec->job_id))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "job id");
        if (spec->uid < b->uid_first || spec->uid > b->uid_last ||
            spec->gid < b->uid_first || spec->gid > b->uid_last)
                return sb_backend_fail(errbuf, errlen, -EINVAL, "uid %u outside the job range",
                                       (unsigned)spec->uid);
        /* A mode this backend does not know: refuse rather than run with
         * something else than asked. */
        if (spec->policy.network > SB_NETWORK_HOST)
                return sb_backend_fail(errbuf, errlen, -EOPNOTSUPP, "network");
        /* A prepared sandbox is the same for every request it may serve:
         * nothing passed by fd. */
        if (prepared && (spec->workdir_fd >= 0 || spec->nmounts))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "files by descriptor in a prepared sandbox");
        j = calloc(1, sizeof(*j));
        if (!j)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "job");
        j->b = b;
        sb_linux_job_fds_init(j);
        j->denied_report = spec->denied_report && b->seccomp_notify;
        j->prepared = prepared;
        j->sandbox = sandbox;
        snprintf(j->id, sizeof(j->id), "%s", spec->job_id);
        j->uid = spec->uid;
        j->gid = spec->gid;
        j->policy = spec->policy;
        j->work_tmpfs = spec->workdir_fd < 0;
        /* Compiled here (cached): the child must not allocate. */
        r = sb_linux_seccomp_get(&b->seccomp, spec->policy.network, spec->policy.syscall_allow,
                                 &j->seccomp, errbuf, errlen);
        if (r < 0)
                goto fail;
        snprintf(j->syscall_filter, sizeof(j->syscall_filter), "%s", j->seccomp->name);

        r = sb_cgroup_job_create(&b->cg, j->id, &spec->policy, &j->cgj, errbuf, errlen);
        if (r < 0)
                goto fail;
        j->cg_created = true;
        /* Its commands share it: one of them over the limit must not end
         * them all and the sandbox (cgroup.h). */
        if (sandbox && (r = sb_cgroup_job_oom_one(&j->cgj)) < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "write memory.oom.group");
                goto fail_cg;
        }
        r = sb_linux_binds_prepare(&j->binds, spec, errbuf, errlen);
        if (r == 0 && !prepared)
                r = sb_linux_work_keep_prepare(j, spec, errbuf, errlen);
        if (r < 0) {
                sb_linux_binds_release(&j->binds, false);
                goto fail_cg;
        }
        /* A terminal: its slave is the job's stdio (a prepared sandbox's
         * stdio comes with the start request: never a tty). */
        struct sb_job_spec s = *spec;
        if (spec->tty && !prepared) {
                r = sb_linux_pty_open(&j->pty, spec->uid, spec->gid, spec->rows, spec->cols,
                                      errbuf, errlen);
                if (r < 0) {
                        sb_linux_binds_release(&j->binds, false);
                        goto fail_cg;
                }
                s.stdin_fd = s.stdout_fd = s.stderr_fd = j->pty.slave;
        }
        r = sb_linux_spawn(b, &s, j, errbuf, errlen);
        /* The child holds its copies of the detached mounts now, and of
         * the slave: ours would keep the master from seeing the job's end
         * (EIO). */
        sb_linux_binds_release(&j->binds, r == 0);
        if (j->pty.slave >= 0)
                close(j->pty.slave);
        if (j->pty.tree >= 0)
                close(j->pty.tree);
        j->pty.slave = j->pty.tree = -1;
        if (r < 0) {
                sb_linux_pty_release(&j->pty);
                goto fail_cg;
        }
        *out = j;
        return 0;
fail_cg:
        if (j->kept_work >= 0)
                close(j->kept_work);
        (void)sb_cgroup_job_kill_wait(&j->cgj, 1000);
        (void)sb_cgroup_job_destroy(&j->cgj);
fail:
        free(j);
        return r;
}

static int linux_spawn_job(struct sb_backend *b, const struct sb_job_spec *spec,
                           struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        return create_job(b, spec, false, false, out, errbuf, errlen);
}

void sb_linux_job_fds_init(struct sb_backend_job *j)
{
        j->pidfd = -1;
        j->err_fd = -1;
        j->start_fd = -1;
        j->listener_sock = -1;
        j->listener = -1;
        j->denied_ep = -1;
        j->kept_work = -1;
        j->mntns_fd = -1;
        j->netns_fd = -1;
        j->egress_fd = -1;
        sb_linux_pty_init(&j->pty);
}

static int prepare_job(struct sb_backend *b, const struct sb_job_spec *spec, bool sandbox,
                       struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        struct sb_job_spec s = *spec;
        int null_fd, r;

        /* Its stdio until the start request brings the job's. */
        null_fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (null_fd < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "open /dev/null");
        s.argv = NULL;
        s.envp = NULL;
        s.stdin_fd = s.stdout_fd = s.stderr_fd = null_fd;
        r = create_job(b, &s, true, sandbox, out, errbuf, errlen);
        close(null_fd);
        return r;
}

static int linux_prepare(struct sb_backend *b, const struct sb_job_spec *spec,
                         struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        return prepare_job(b, spec, false, out, errbuf, errlen);
}

/* A persistent sandbox is built like a prepared one; its init then serves
 * commands instead of one start request (sandbox.c). */
static int linux_sandbox_create(struct sb_backend *b, const struct sb_job_spec *spec,
                                struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        return prepare_job(b, spec, true, out, errbuf, errlen);
}

/* A prepared sandbox whose clone is still unanswered: read the answer, so
 * that it has a pid to signal and wait for. */
static void settle(struct sb_backend_job *j)
{
        if (j->pending)
                sb_linux_spawner_settle(j->b, j);
}

static int linux_start(struct sb_backend_job *j, const struct sb_job_spec *spec, char *errbuf,
                       size_t errlen)
{
        int r;

        if (!j->prepared || j->sandbox || j->start_fd < 0 || j->reaped)
                return sb_backend_fail(errbuf, errlen, -EINVAL, "not a prepared sandbox");
        settle(j);
        if (j->pending_err)
                return sb_backend_fail(errbuf, errlen, -j->pending_err, "%s", j->pending_step);
        /* The daemon only hands a request to a sandbox built for exactly
         * this policy; check rather than run with another. */
        if (strcmp(spec->job_id, j->id) != 0 || spec->uid != j->uid || spec->gid != j->gid ||
            !sb_policy_equal(&spec->policy, &j->policy) || spec->workdir_fd >= 0 ||
            spec->nmounts || spec->tty)
                return sb_backend_fail(errbuf, errlen, -EINVAL,
                                       "the request does not match the prepared sandbox");
        /* Its proxy's listener before its program can run (spawn.c does
         * the same before the "go" of a job built for its request). */
        if (j->policy.network == SB_NETWORK_ALLOWLIST && j->egress_fd < 0) {
                r = sb_linux_egress_listen(j, errbuf, errlen);
                if (r < 0)
                        return r;
        }
        r = sb_linux_start_send(j->start_fd, spec, errbuf, errlen);
        /* The seccomp listener comes up on it (sent before the child
         * waited for the start request), if it has not already. */
        if (r == 0 && j->denied_report)
                j->listener_sock = j->start_fd;
        else
                close(j->start_fd);
        j->start_fd = -1;
        j->prepared = false;
        return r;
}

/* The error pipe, not the pidfd: the init's exit record arrives on it as
 * soon as nothing of the job runs any more (init.c), before the init's own
 * exit; EOF on it means the init is gone without one. */
static sb_handle linux_exit_handle(struct sb_backend_job *j)
{
        /* A command's: its report socket (sandbox.c). */
        return j->err_fd;
}

static int linux_pid(struct sb_backend_job *j)
{
        return j->pid;
}

static int linux_kill(struct sb_backend_job *j)
{
        int r = 0;

        if (j->command)
                return sb_linux_cmd_kill(j);
        settle(j);
        if (j->reaped || j->pidfd < 0)
                return 0;
        /* The main process is the pid namespace's init: its death takes
         * every other process of the namespace with it. */
        if (syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                r = -errno;
        /* And the cgroup, in case anything got out of the namespace. */
        int k = j->b->cg.ops->job_kill(&j->cgj);
        return r < 0 ? r : k;
}

static int linux_reap(struct sb_backend_job *j, struct sb_backend_exit *out)
{
        struct sb_cgroup_stats st;
        siginfo_t si;
        int r;

        if (j->command)
                return sb_linux_cmd_reap(j, out);
        memset(out, 0, sizeof(*out));
        out->exit_code = -1;
        out->tasks_peak = -1;
        settle(j);
        if (j->reaped)
                return -ECHILD;
        if (j->pidfd < 0 && j->pending_err) {
                /* The spawner never cloned it (or died before saying so). */
                j->reaped = true;
                out->setup_failed = true;
                snprintf(out->error, sizeof(out->error), "%s: %s", j->pending_step,
                         strerrorname_np(j->pending_err) ?: "?");
                return 0;
        }
        /* Woken by the error pipe (exit_handle): a record, or EOF once the init
         * is gone. Whether the init has exited is asked first, so that a
         * record it wrote just before is read below, not missed. */
        memset(&si, 0, sizeof(si));
        do
                r = waitid((idtype_t)P_PIDFD, (id_t)j->pidfd, &si, WEXITED | WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r < 0 && errno != EAGAIN)
                return -errno;
        bool exited = r == 0 && si.si_pid != 0;
        /* The namespace's init reports the program's own status; without
         * that record the init itself was killed (kill, timeout, OOM). */
        int wstatus, failed;
        failed = sb_backend_read_child_error(j->err_fd, out->error, sizeof(out->error), &wstatus);
        if (!exited && !failed && wstatus < 0)
                return -EAGAIN;         /* nothing to report yet */
        j->reaped = true;
        /* A record with the init still there: it wrote it after it had
         * killed and reaped everything else in the namespace (init.c), or
         * the sandbox was never built. Only the init's own exit is left,
         * which destroy() waits for; the job is over now. */
        j->init_exiting = !exited;
        if (failed) {
                out->setup_failed = true;
        } else if (wstatus >= 0) {
                if (WIFEXITED(wstatus))
                        out->exit_code = WEXITSTATUS(wstatus);
                else
                        out->signal = WTERMSIG(wstatus);
        } else if (si.si_code == CLD_EXITED) {
                out->exit_code = si.si_status;
        } else {
                out->signal = si.si_status;
        }
        /* Nothing of the job may outlive reap(). */
        if (exited) {
                r = sb_cgroup_job_kill_wait(&j->cgj, 2000);
                if (r < 0)
                        return r;
                j->cg_empty = true;     /* and nothing can enter it again */
        }
        /* No job process is left: what it wrote goes to the client (only
         * when the workdir could not be idmapped), off the loop. */
        out->files_pending = j->binds.chown_fd >= 0 || j->kept_work >= 0;
        r = j->b->cg.ops->job_stats(&j->cgj, &st);
        if (r < 0)
                return r;
        out->cpu_user_ms = st.cpu_user_us / 1000;
        out->cpu_sys_ms = st.cpu_sys_us / 1000;
        out->memory_peak = st.memory_peak;
        j->memory_peak = st.memory_peak;
        out->tasks_peak = st.tasks_peak;
        out->oom = st.oom_kills > 0;
        return 0;
}

static void linux_enforced(struct sb_backend_job *j, struct sbp_enforced *out)
{
        static const char *const network_names[] = {
                [SB_NETWORK_NONE] = "none",
                [SB_NETWORK_ALLOWLIST] = "allowlist",
                [SB_NETWORK_HOST] = "host",
        };

        if (j->command) {
                *out = *j->cmd_enforced;
                return;
        }
        fill_common(j->b, out);
        out->uid = j->uid;
        out->gid = j->gid;
        /* create_job() admits no other value. */
        snprintf(out->network, sizeof(out->network), "%s", network_names[j->policy.network]);
        if (j->policy.network == SB_NETWORK_HOST)
                out->namespaces &= ~(uint32_t)SBP_NS_NET;
        out->memory_max = j->policy.memory_max;
        out->tasks_max = j->policy.tasks_max;
        out->cpu_percent = j->policy.cpu_percent;
        snprintf(out->syscall_filter, sizeof(out->syscall_filter), "%s", j->syscall_filter);
        snprintf(out->workdir, sizeof(out->workdir), "%s", j->binds.workdir);
        if (j->work_tmpfs) {
                out->work_size_max = j->policy.work_size_max ? j->policy.work_size_max
                                                             : SB_BACKEND_WORK_SIZE_DEFAULT;
                out->work_inodes_max = j->policy.work_inodes_max ? j->policy.work_inodes_max
                                                                 : SB_BACKEND_WORK_INODES_DEFAULT;
        }
}

static sb_handle linux_tty_take(struct sb_backend_job *j)
{
        int fd = j->pty.master;

        j->pty.master = -1;
        return fd;
}

static sb_handle linux_egress_listener(struct sb_backend_job *j)
{
        return j->egress_fd >= 0 ? j->egress_fd : SB_HANDLE_NONE;
}

static int linux_connect_port(struct sb_backend_job *j, uint16_t port, sb_handle *out,
                              char *errbuf, size_t errlen)
{
        const char *step = "connect";
        char ns[64];
        int nsfd, fd = -1, r;

        settle(j);
        if (j->reaped || j->pidfd < 0 || j->prepared)
                return sb_backend_fail(errbuf, errlen, -ESRCH, "the job is not running");
        if (j->policy.network == SB_NETWORK_HOST)
                return sb_backend_fail(errbuf, errlen, -EOPNOTSUPP,
                                       "network host: the job has no loopback of its own");
        /* Held since the clone; else our unreaped child's, still its own. */
        nsfd = j->netns_fd;
        if (nsfd < 0) {
                snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)j->pid);
                nsfd = open(ns, O_RDONLY | O_CLOEXEC);
                if (nsfd < 0)
                        return sb_backend_fail(errbuf, errlen, -errno, "open %s", ns);
        }
        r = sb_linux_netns_connect_lo(j->b, nsfd, port, &fd, &step);
        if (nsfd != j->netns_fd)
                close(nsfd);
        if (r < 0)
                return sb_backend_fail(errbuf, errlen, r, "%s 127.0.0.1:%u in the job", step,
                                       (unsigned)port);
        *out = fd;
        return 0;
}

static int linux_finish_files(struct sb_backend_job *j)
{
        if (j->command)
                return 0;
        int r = sb_linux_binds_after_job(&j->binds), k = sb_linux_work_keep_finish(j);

        return r < 0 ? r : k;
}

static void linux_destroy(struct sb_backend_job *j)
{
        if (!j)
                return;
        if (j->command) {
                sb_linux_cmd_destroy(j);
                return;
        }
        /* Only a prepared sandbox can be pending, and those are destroyed
         * on the daemon's loop (never the threadpool), like every other use
         * of the spawner's socket; a persistent sandbox is killed on the
         * loop first, which settles it, and then destroyed off it. */
        settle(j);
        if ((!j->reaped || j->init_exiting) && j->pidfd >= 0) {
                siginfo_t si;
                (void)syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
                while (waitid((idtype_t)P_PIDFD, (id_t)j->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                        ;
        }
        if (j->cg_created && !j->cg_empty)
                (void)sb_cgroup_job_kill_wait(&j->cgj, 2000);
        /* Reaped, but finish_files() never ran: nothing of the job runs
         * now, the ownership fix-up is still owed. */
        if (j->reaped)
                (void)sb_linux_binds_after_job(&j->binds);
        /* The job's mounts go here, its /work and /tmp among them: their
         * pages and inodes are freed by the kernel, no walk of ours. Before
         * the cgroup goes, so that it goes without charges left in it. */
        if (j->mntns_fd >= 0)
                close(j->mntns_fd);
        j->mntns_fd = -1;
        if (j->netns_fd >= 0)
                close(j->netns_fd);
        j->netns_fd = -1;
        if (j->egress_fd >= 0)
                close(j->egress_fd);
        j->egress_fd = -1;
        /* Left for the next open() if it fails. */
        if (j->cg_created)
                (void)sb_cgroup_job_destroy(&j->cgj);
        if (j->pidfd >= 0)
                close(j->pidfd);
        if (j->err_fd >= 0)
                close(j->err_fd);
        if (j->start_fd >= 0)
                close(j->start_fd);
        sb_linux_denied_close(j);
        if (j->kept_work >= 0)
                close(j->kept_work);
        sb_linux_binds_release(&j->binds, false);
        sb_linux_pty_release(&j->pty);
        /* Last: the removal may need descriptors, and the daemon may have
         * just run out of them. */
        (void)sb_backend_jobdir_remove(j->b->state_dir, j->id);
        free(j);
}

/* What the job's file systems may hold for destroy() to run on the loop:
 * the last close of its mount namespace frees their pages and inodes on
 * the closing thread. Their pages and inodes are charged to the job's
 * memory cgroup, so its peak bounds them: the program's own memory counts
 * too, which errs towards the threadpool. */
#define QUICK_MEMORY_PEAK_MAX (16ull << 20)

static int linux_destroy_quick(struct sb_backend_job *j)
{
        if (j->command) {
                sb_linux_cmd_destroy(j);
                return 0;
        }
        if (!j->reaped || j->memory_peak > QUICK_MEMORY_PEAK_MAX || j->binds.chown_fd >= 0)
                return -EAGAIN;
        linux_destroy(j);
        return 0;
}

/* The sandbox's totals so far: its cgroup's counters. */
static int linux_sandbox_stats(struct sb_backend_job *j, struct sb_backend_exit *out)
{
        struct sb_cgroup_stats st;
        int r;

        memset(out, 0, sizeof(*out));
        out->exit_code = -1;
        out->tasks_peak = -1;
        if (!j->sandbox || j->command)
                return -EINVAL;
        r = j->b->cg.ops->job_stats(&j->cgj, &st);
        if (r < 0)
                return r;
        out->cpu_user_ms = st.cpu_user_us / 1000;
        out->cpu_sys_ms = st.cpu_sys_us / 1000;
        out->memory_peak = st.memory_peak;
        out->tasks_peak = st.tasks_peak;
        out->oom = st.oom_kills > 0;
        return 0;
}

const struct sb_backend_ops sb_backend_linux_ops = {
        .name = "linux",
        .caps = sb_linux_backend_caps,
        .probe = sb_linux_probe,
        .open = linux_open,
        .close = linux_close,
        .identity_take = linux_identity_take,
        .identity_give = linux_identity_give,
        .host_caps = linux_host_caps,
        .spawn = linux_spawn_job,
        .exit_handle = linux_exit_handle,
        .pid = linux_pid,
        .kill = linux_kill,
        .reap = linux_reap,
        .enforced = linux_enforced,
        .egress_listener = linux_egress_listener,
        .connect_port = linux_connect_port,
        .finish_files = linux_finish_files,
        .destroy = linux_destroy,
        .tty_take = linux_tty_take,
        .destroy_quick = linux_destroy_quick,
        .prepare = linux_prepare,
        .start = linux_start,
        .sandbox_create = linux_sandbox_create,
        .sandbox_exec = sb_linux_sandbox_exec,
        .sandbox_stats = linux_sandbox_stats,
        .denied_handle = sb_linux_denied_handle,
        .denied_read = sb_linux_denied_read,
        .work_take = sb_linux_work_take,
};
