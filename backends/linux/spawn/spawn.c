/* spawn.c — create a linux job's main process.
 *
 * The spawner (spawner.c) clones it: clone3() with CLONE_PIDFD and new
 * mount, pid, net, ipc and uts namespaces, and CLONE_INTO_CGROUP where the
 * kernel and cgroup version allow it, so the child is born in the job
 * cgroup. Otherwise the child moves itself into the job cgroup(s) as its
 * first step after the parent's "go" (child.c): it runs no code of the job
 * before it is accounted and limited, and a failure there ends the job
 * `failed` with the step and errno. The child then unshares its cgroup
 * namespace itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

/* The sync socket pair (parent -> child "go") and the error pipe (child
 * -> parent record, O_CLOEXEC). The sync channel is a socket pair so that
 * releasing a child that died meanwhile is EPIPE (MSG_NOSIGNAL), not
 * SIGPIPE. */
static int open_pipes(int syncp[2], int errp[2])
{
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, syncp) < 0 ||
            pipe2(errp, O_CLOEXEC) < 0)
                return -errno;
        return 0;
}

_Static_assert(SB_LINUX_TOP_MAX == SB_PLAN_TOP_MAX, "the plan holds every top entry");
_Static_assert(SB_LINUX_ETC_MAX == SB_PLAN_ETC_MAX, "the plan holds every /etc entry");
_Static_assert(SB_CGROUP_BASES_MAX <= SB_PLAN_CG_MAX, "the plan holds every hierarchy");

static void plan_fd(struct sb_spawn_plan *p, int *fds, int *nfds, int slot, int fd)
{
        if (fd < 0)
                return;
        p->fd_index[slot] = (int8_t)*nfds;
        fds[(*nfds)++] = fd;
}

/* The directory under /sys/fs/cgroup where hierarchy i is shown to the
 * job: the hierarchy's controllers, as the host names its v1 mounts
 * ("cpu,cpuacct"); "" on v2, whose one hierarchy is the whole of it. */
static void cg_mount_name(const struct sb_cgroup *cg, int i, char *out, size_t len)
{
        static const char *const names[] = { "memory", "pids", "cpu", "cpuacct", "freezer" };
        size_t n = 0;

        out[0] = '\0';
        if (cg->ops == &sb_cgroup_v2_ops)
                return;
        for (size_t c = 0; c < sizeof(names) / sizeof(names[0]); c++) {
                if (!(cg->base[i].ctrls & (1u << c)))
                        continue;
                n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "", names[c]);
                if (n >= len)
                        break;
        }
        /* No controller of ours (not made by sb_cgroup_open) or too long:
         * still a name of its own, as the plan wants one per hierarchy. */
        if (n == 0 || n >= len)
                snprintf(out, len, "hierarchy%d", i);
}

static struct sb_plan_host plan_host(struct sb_plan_builder *pb, const struct sb_host_path *h)
{
        struct sb_plan_host ph = { .kind = SB_PLAN_HOST_ABSENT };

        switch (h->kind) {
        case SB_HOST_SYMLINK:
                ph.kind = SB_PLAN_HOST_SYMLINK;
                break;
        case SB_HOST_DIR:
                ph.kind = SB_PLAN_HOST_DIR;
                break;
        case SB_HOST_FILE:
                ph.kind = SB_PLAN_HOST_FILE;
                break;
        default:
                return ph;
        }
        ph.name = sb_plan_add_str(pb, h->name);
        ph.target = sb_plan_add_str(pb, ph.kind == SB_PLAN_HOST_SYMLINK ? h->target : "");
        return ph;
}

/* The policy's "[-]SRC[:DST]" entries (checked by the config parser) as
 * the plan's src, dst and optional. */
static int plan_bind_ro(struct sb_plan_builder *pb, const struct sb_policy *pol)
{
        struct sb_spawn_plan *p = pb->p;
        uint32_t n = 0;

        for (const char *e = sb_policy_bind_ro_next(pol, NULL); e;
             e = sb_policy_bind_ro_next(pol, e)) {
                char src[SB_PLAN_BIND_PATH_MAX + 1];
                bool optional = e[0] == '-';
                const char *s = e + optional, *colon = strchr(s, ':');
                size_t slen = colon ? (size_t)(colon - s) : strlen(s);

                if (n >= SB_PLAN_BIND_RO_MAX || slen >= sizeof(src))
                        return -E2BIG;
                memcpy(src, s, slen);
                src[slen] = '\0';
                p->bind_ro[n].src = sb_plan_add_str(pb, src);
                p->bind_ro[n].dst = sb_plan_add_str(pb, colon ? colon + 1 : src);
                p->bind_ro[n].optional = optional;
                n++;
        }
        p->nbind_ro = n;
        return pb->err;
}

int sb_linux_spawn_plan(struct sb_plan_builder *pb, const struct sb_backend *b,
                        const struct sb_job_spec *spec, const struct sb_backend_job *j,
                        int sync_r, int err_w, int *fds, int *nfds, char *errbuf, size_t errlen)
{
        const struct sb_seccomp_prog *sp = j->seccomp;
        const struct sb_policy *pol = &spec->policy;
        unsigned long long tmp = pol->tmp_size ? pol->tmp_size : SB_BACKEND_TMP_SIZE_DEFAULT;
        unsigned long long tmp_inodes = pol->tmp_inodes_max ? pol->tmp_inodes_max
                                                            : SB_BACKEND_TMP_INODES_DEFAULT;
        unsigned long long work = pol->work_size_max ? pol->work_size_max
                                                     : SB_BACKEND_WORK_SIZE_DEFAULT;
        unsigned long long work_inodes = pol->work_inodes_max ? pol->work_inodes_max
                                                              : SB_BACKEND_WORK_INODES_DEFAULT;
        char passwd[320], group[160], opts[128];
        uint32_t argc = 0, envc = 0;
        size_t slen = j->prepared ? 0 : sb_linux_strv_measure(spec->argv, spec->envp, &argc, &envc);
        size_t bpf_len = ((size_t)sp->allow.len + sp->deny.len) * sizeof(struct sock_filter);
        struct sb_spawn_plan *p;
        int r;

        if (argc + envc > SB_PLAN_ARGS_MAX || sp->allow.len > SB_PLAN_BPF_MAX ||
            sp->deny.len > SB_PLAN_BPF_MAX)
                return sb_backend_fail(errbuf, errlen, -E2BIG, "spawn plan");
        /* The strings, the BPF and room for every fixed string below. */
        if ((r = sb_plan_begin(pb, slen + bpf_len + 8 + 8192 + (SBP_CWD_MAX + 1) +
                                           SBP_MOUNTS_MAX * (SBP_TARGET_MAX + 1) +
                                           2 * SB_POLICY_BIND_RO_BYTES +
                                           (SB_LINUX_TOP_MAX + SB_LINUX_ETC_MAX) * 300 +
                                           SB_PLAN_CG_MAX * (SB_PLAN_CG_NAME_MAX + 1 + PATH_MAX))) < 0)
                return sb_backend_fail(errbuf, errlen, r, "spawn plan");
        p = pb->p;
        p->flags = (j->prepared ? SB_PLAN_PREPARED : 0) | (j->policy.network ? SB_PLAN_NETWORK : 0) |
                   /* A kept /work is made here (work_keep.c) and comes as a tree. */
                   (j->work_tmpfs && j->kept_work < 0 ? SB_PLAN_WORK_TMPFS : 0) |
                   (b->cg.fake ? SB_PLAN_CG_FAKE : 0) |
                   (j->pty.tree >= 0 ? SB_PLAN_TTY : 0) |
                   (j->policy.network == SB_NETWORK_HOST ? SB_PLAN_HOST_NET : 0) |
                   (j->sandbox ? SB_PLAN_SANDBOX : 0) |
                   (j->denied_report ? SB_PLAN_SECCOMP_NOTIFY : 0);
        p->uid = (uint32_t)spec->uid;
        p->gid = (uint32_t)spec->gid;
        p->landlock_abi = (uint32_t)(b->landlock_abi > 0 ? b->landlock_abi : 0);
        p->tasks_max = pol->tasks_max;

        p->root_mnt = sb_plan_add_str(pb, b->root_mnt);
        for (int i = 0; i < SB_LINUX_TOP_MAX && i < SB_PLAN_TOP_MAX; i++)
                p->top[i] = plan_host(pb, &b->top[i]);
        for (int i = 0; i < SB_LINUX_ETC_MAX && i < SB_PLAN_ETC_MAX; i++)
                p->etc[i] = plan_host(pb, &b->etc[i]);
        snprintf(passwd, sizeof(passwd),
                 "root:x:0:0:root:/root:/bin/sh\n"
                 "skillbox:x:%u:%u:skillbox:" SB_LINUX_HOME ":/bin/sh\n"
                 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                 (unsigned)spec->uid, (unsigned)spec->gid);
        p->passwd = sb_plan_add_str(pb, passwd);
        snprintf(group, sizeof(group), "root:x:0:\nskillbox:x:%u:\nnogroup:x:65534:\n",
                 (unsigned)spec->gid);
        p->group = sb_plan_add_str(pb, group);
        /* nr_inodes counts the root directory too, and on /tmp the job's
         * HOME (mounts.c): so many more, so that the job can make exactly
         * as many entries as the bound says. */
        snprintf(opts, sizeof(opts), "size=%llu,nr_inodes=%llu,mode=1777", tmp, tmp_inodes + 1);
        p->shm_opts = sb_plan_add_str(pb, opts);
        snprintf(opts, sizeof(opts), "size=%llu,nr_inodes=%llu,mode=1777", tmp, tmp_inodes + 2);
        p->tmp_opts = sb_plan_add_str(pb, opts);
        /* The job's own /work: owned by its uid like the job directory it
         * replaces, so that nothing of it is on the host's disk. */
        snprintf(opts, sizeof(opts), "size=%llu,nr_inodes=%llu,mode=0700,uid=%u,gid=%u", work,
                 work_inodes + 1, (unsigned)spec->uid, (unsigned)spec->gid);
        p->work_opts = sb_plan_add_str(pb, opts);
        p->nbinds = j->binds.n;
        for (uint32_t i = 0; i < j->binds.n && i < SBP_MOUNTS_MAX; i++) {
                p->binds[i].target = sb_plan_add_str(pb, j->binds.targets[i]);
                p->binds[i].read_only = j->binds.read_only[i];
                p->binds[i].is_file = j->binds.is_file[i];
        }

        if ((r = plan_bind_ro(pb, pol)) < 0)
                return sb_backend_fail(errbuf, errlen, r, "spawn plan: BindReadOnlyPaths=");

        p->cwd = sb_plan_add_str(pb, spec->cwd ? spec->cwd : "/work");
        p->argc = argc;
        p->envc = envc;
        p->strv_off = sb_plan_add(pb, NULL, slen, 1);
        p->strv_len = (uint32_t)slen;
        if (!pb->err && slen)
                sb_linux_strv_pack((char *)(p + 1) + p->strv_off, spec->argv, argc, spec->envp, envc);
        p->allow_len = sp->allow.len;
        p->deny_len = sp->deny.len;
        p->bpf_off = sb_plan_add(pb, sp->allow.filter, sp->allow.len * sizeof(struct sock_filter), 8);
        if (sp->deny.len)       /* usually chained into allow (seccomp.c) */
                (void)sb_plan_add(pb, sp->deny.filter, sp->deny.len * sizeof(struct sock_filter), 1);
        /* The plan's copy only: the cached program stays the kernel's
         * answer for a caller that reads no listener. */
        if (!pb->err && j->denied_report)
                (void)sb_linux_seccomp_to_notify((struct sock_filter *)(void *)
                                                 ((char *)(p + 1) + p->bpf_off), sp->allow.len);

        plan_fd(p, fds, nfds, SB_PLAN_FD_SYNC_R, sync_r);
        plan_fd(p, fds, nfds, SB_PLAN_FD_ERR_W, err_w);
        plan_fd(p, fds, nfds, SB_PLAN_FD_STDIN, spec->stdin_fd);
        plan_fd(p, fds, nfds, SB_PLAN_FD_STDOUT, spec->stdout_fd);
        plan_fd(p, fds, nfds, SB_PLAN_FD_STDERR, spec->stderr_fd);
        plan_fd(p, fds, nfds, SB_PLAN_FD_CLONE_CG, sb_cgroup_job_clone_fd(&j->cgj));
        plan_fd(p, fds, nfds, SB_PLAN_FD_WORK_TREE, j->binds.work_tree);
        plan_fd(p, fds, nfds, SB_PLAN_FD_PTS_TREE, j->pty.tree);
        for (uint32_t i = 0; i < j->binds.n && i < SBP_MOUNTS_MAX; i++)
                plan_fd(p, fds, nfds, SB_PLAN_FD_TREES + (int)i, j->binds.trees[i]);
        /* Always: the spawner falls back to the child attaching itself on
         * a kernel without CLONE_INTO_CGROUP. */
        p->ncg = (uint32_t)b->cg.nbase;
        for (int i = 0; i < b->cg.nbase && i < SB_PLAN_CG_MAX; i++) {
                char name[SB_PLAN_CG_NAME_MAX + 1], src[PATH_MAX];

                plan_fd(p, fds, nfds, SB_PLAN_FD_CG + i, j->cgj.fd[i]);
                cg_mount_name(&b->cg, i, name, sizeof(name));
                p->cg_name[i] = sb_plan_add_str(pb, name);
                if (snprintf(src, sizeof(src), "%s/%s", b->cg.base[i].path, j->cgj.id) >=
                    (int)sizeof(src))
                        return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "spawn plan: "
                                               "job cgroup path");
                p->cg_src[i] = sb_plan_add_str(pb, src);
        }
        if ((r = sb_plan_finish(pb)) < 0)
                return sb_backend_fail(errbuf, errlen, r, "spawn plan");
        return 0;
}

/* Network allowlist: the egress proxy's listener on the job's loopback,
 * in its network namespace (held since spawn_done, else our unreaped
 * child's, whose pid is still its own). Called before the job's program
 * can run, so that its first connection to the proxy already queues. */
int sb_linux_egress_listen(struct sb_backend_job *j, char *errbuf, size_t errlen)
{
        char ns[64];
        int nsfd = j->netns_fd, fd;

        if (nsfd < 0) {
                snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)j->pid);
                nsfd = open(ns, O_RDONLY | O_CLOEXEC);
                if (nsfd < 0)
                        return sb_backend_fail(errbuf, errlen, -errno,
                                               "network allowlist: open %s", ns);
        }
        fd = sb_linux_netns_listen_lo(j->b, nsfd, SB_NETWORK_PROXY_PORT, errbuf, errlen);
        if (nsfd != j->netns_fd)
                close(nsfd);
        if (fd < 0)
                return fd;
        j->egress_fd = fd;
        return 0;
}

void sb_linux_spawn_done(struct sb_backend_job *j, pid_t pid, int pidfd)
{
        char ns[64];

        j->pid = pid;
        j->pidfd = pidfd;
        /* Our unreaped child (CLONE_PARENT), so the pid is still its. Only
         * an optimisation (struct sb_backend_job): without the fds the
         * namespaces go with the init. */
        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
        j->mntns_fd = open(ns, O_RDONLY | O_CLOEXEC);
        snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)pid);
        j->netns_fd = open(ns, O_RDONLY | O_CLOEXEC);
}

int sb_linux_spawn(struct sb_backend *b, const struct sb_job_spec *spec, struct sb_backend_job *j,
                   char *errbuf, size_t errlen)
{
        struct sb_plan_builder pb = { NULL, 0, 0 };
        int syncp[2] = { -1, -1 }, errp[2] = { -1, -1 };
        int fds[SB_PLAN_FDS], nfds = 0;
        int pidfd = -1, r;
        pid_t pid;

        if ((r = open_pipes(syncp, errp)) < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "sync pipes");
                goto out;
        }
        if ((r = sb_linux_spawn_plan(&pb, b, spec, j, syncp[0], errp[1], fds, &nfds, errbuf,
                                       errlen)) < 0)
                goto out;
        if (j->prepared) {
                /* A prepared sandbox: ask, and read the answer later
                 * (sb_linux_spawner_settle). The child does not wait for a
                 * "go": it builds its sandbox and then waits for the start
                 * request, which only a tracked job ever gets. */
                r = sb_linux_spawner_clone_async(b, pb.p, fds, nfds, j, errbuf, errlen);
                if (r < 0)
                        goto out;
                goto ends;      /* the spawner holds its own copies */
        }
        r = sb_linux_spawner_clone(b, pb.p, fds, nfds, &pidfd, &pid, errbuf, errlen);
        if (r < 0)
                goto out;

        j->pid = pid;
        r = j->policy.network == SB_NETWORK_ALLOWLIST ? sb_linux_egress_listen(j, errbuf, errlen)
                                                      : 0;
        /* Go: the child runs nothing of the job before it. */
        if (r == 0) {
                while ((r = (int)send(syncp[1], "g", 1, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                        ;
                r = r == 1 ? 0 : sb_backend_fail(errbuf, errlen, r < 0 ? -errno : -EIO,
                                                 "release child");
        }
        if (r < 0) {
                if (j->egress_fd >= 0)
                        close(j->egress_fd);
                j->egress_fd = -1;
                (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                close(pidfd);
                goto out;
        }
        sb_linux_spawn_done(j, pid, pidfd);
ends:
        /* Our copies of the child's ends go. */
        close(syncp[0]);
        syncp[0] = -1;
        close(errp[1]);
        errp[1] = -1;
        /* reap() reads it when it is readable, while the init may still
         * hold the write end (init.c writes its record before it exits). */
        (void)fcntl(errp[0], F_SETFL, O_NONBLOCK);
        j->err_fd = errp[0];
        errp[0] = -1;
        if (j->prepared) {
                /* The start request goes on it later (start.c). */
                j->start_fd = syncp[1];
                syncp[1] = -1;
        } else if (j->denied_report) {
                /* The seccomp listener comes up on it (denied_syscalls.c). */
                j->listener_sock = syncp[1];
                syncp[1] = -1;
        }
        r = 0;
out:
        free(pb.p);
        for (int i = 0; i < 2; i++) {
                if (syncp[i] >= 0)
                        close(syncp[i]);
                if (errp[i] >= 0)
                        close(errp[i]);
        }
        return r;
}
