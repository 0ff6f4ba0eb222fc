/* spawner_serve.c — the spawner process: clones each linux job.
 *
 * A clone copies its parent's page tables, and the parent then takes a
 * copy-on-write fault on every page it writes while the child lives. So no
 * job is cloned from the daemon itself: at open() the daemon starts this
 * small single-threaded process, its own static executable (spawner_exe.c:
 * a few mappings, so each clone and each job init's exit handles a few page
 * tables instead of those of a dozen shared libraries). Each request
 * (spawner.h) carries the child's whole context; the answer is the pid and
 * a pidfd, or the failed step and errno.
 *
 * The job must stay the daemon's child (waitid(P_PIDFD), rusage): clone3
 * with CLONE_PARENT. The kernel refuses CLONE_PARENT|CLONE_NEWPID, so before
 * each clone the spawner goes back to its own pid namespace for children
 * (setns) and unshares a fresh one: the clone is then pid 1 there.
 *
 * Invariants: the spawner serves only its end of the socket pair (it closes
 * every other fd it inherited), dies with the daemon (PR_SET_PDEATHSIG,
 * then a getppid() check for a daemon that died before the prctl), never
 * runs as a job uid, and holds a received fd only until the clone is done.
 * What the child reads from struct sb_backend (root_mnt, top, etc,
 * cap_last, landlock_abi, cg.nbase, cg.fake) is fixed once open() probed the
 * host, so the spawner's copy (from the hello) is the daemon's.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/spawner.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define SPAWN_NS_FLAGS (CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

static unsigned char rbuf[sizeof(struct sb_spawn_req) + SB_SPAWN_BLOB_MAX] __attribute__((aligned(16)));
static char *arg_store[SB_SPAWN_ARGS_MAX + 2];
static bool bounding_clear;     /* our bounding and ambient sets are empty */
static struct sb_seccomp_prog seccomp_prog;

static void reply(int sock, int err, pid_t pid, const char *step, int pidfd)
{
        struct sb_spawn_reply rep;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        struct iovec iov = { &rep, sizeof(rep) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        memset(&rep, 0, sizeof(rep));
        rep.err = err;
        rep.pid = pid;
        snprintf(rep.step, sizeof(rep.step), "%s", step ? step : "");
        if (pidfd >= 0) {
                memset(&cm, 0, sizeof(cm));
                mh.msg_control = cm.buf;
                mh.msg_controllen = sizeof(cm.buf);
                cm.h.cmsg_level = SOL_SOCKET;
                cm.h.cmsg_type = SCM_RIGHTS;
                cm.h.cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(&cm.h), &pidfd, sizeof(int));
        }
        while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0) {
                if (errno != EINTR)
                        _exit(1);       /* the daemon is gone */
        }
}

static int slot(const struct sb_spawn_req *q, const int *fds, int nfds, int s)
{
        int k = q->slot_fd[s];

        return k >= 0 && k < nfds ? fds[k] : -1;
}

/* Rebuild pointers and fds of the request in place; -EINVAL if it does not
 * add up (the daemon is trusted, this only guards against a bug). */
static int unpack(struct sb_spawn_req *q, size_t len, const int *fds, int nfds, struct sb_backend *b)
{
        struct sb_seccomp_prog *sp = &seccomp_prog;
        char **args = arg_store;
        char *s = (char *)(q + 1);
        size_t off;

        /* No argv only for a prepared sandbox: its comes with the start. */
        if (len < sizeof(*q) || q->magic != SB_SPAWN_MAGIC || (q->argc == 0 && !q->c.held) ||
            q->argc + q->envc > SB_SPAWN_ARGS_MAX || q->strings_len > len - sizeof(*q) ||
            q->allow_len > SB_SPAWN_BPF_MAX || q->deny_len > SB_SPAWN_BPF_MAX)
                return -EINVAL;
        off = (q->strings_len + 7u) & ~7u;
        if (sizeof(*q) + off + (size_t)(q->allow_len + q->deny_len) * sizeof(struct sock_filter) != len)
                return -EINVAL;
        if (sb_linux_strv_unpack(s, q->strings_len, q->argc, q->envc, args) < 0)
                return -EINVAL;

        struct sock_filter *bpf = (struct sock_filter *)((char *)(q + 1) + off);
        *sp = (struct sb_seccomp_prog){ 0 };
        sp->allow.len = (unsigned short)q->allow_len;
        sp->allow.filter = bpf;
        sp->deny.len = (unsigned short)q->deny_len;
        sp->deny.filter = bpf + q->allow_len;

        q->spec.argv = args;
        q->spec.envp = args + q->argc + 1;
        q->spec.job_id = q->j.id;
        q->spec.mounts = NULL;          /* read by binds_prepare (parent) only */
        q->spec.syscall_allow = NULL;   /* compiled into sp by the parent */
        q->spec.stdin_fd = slot(q, fds, nfds, SB_SPAWN_STDIN);
        q->spec.stdout_fd = slot(q, fds, nfds, SB_SPAWN_STDOUT);
        q->spec.stderr_fd = slot(q, fds, nfds, SB_SPAWN_STDERR);
        q->spec.workdir_fd = -1;

        q->j.b = b;
        q->j.seccomp = sp;
        q->j.pidfd = -1;
        q->j.err_fd = -1;
        q->j.start_fd = -1;             /* the daemon's end */
        q->j.mntns_fd = -1;
        q->j.netns_fd = -1;
        q->j.pending = false;           /* the daemon's bookkeeping */
        q->j.pending_next = NULL;
        q->j.cgj.cg = &b->cg;
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                q->j.cgj.fd[i] = slot(q, fds, nfds, SB_SPAWN_CG + i);
        q->j.binds.work_tree = slot(q, fds, nfds, SB_SPAWN_WORK_TREE);
        for (uint32_t i = 0; i < SBP_MOUNTS_MAX; i++)
                q->j.binds.trees[i] = slot(q, fds, nfds, SB_SPAWN_TREES + (int)i);
        q->j.binds.chown_fd = -1;       /* the parent's, after the job */

        q->c.b = b;
        q->c.spec = &q->spec;
        q->c.j = &q->j;
        q->c.sync_r = slot(q, fds, nfds, SB_SPAWN_SYNC_R);
        q->c.err_w = slot(q, fds, nfds, SB_SPAWN_ERR_W);
        q->c.sync_w = -1;
        q->c.err_r = -1;
        q->c.attach = q->attach ? &q->j.cgj : NULL;
        /* Every handler was reset when we started and none set since. */
        q->c.signals_default = true;
        q->c.bounding_clear = bounding_clear;
        if (q->c.sync_r < 0 || q->c.err_w < 0 || q->spec.stdin_fd < 0 ||
            q->spec.stdout_fd < 0 || q->spec.stderr_fd < 0)
                return -EINVAL;
        return 0;
}

static pid_t clone_job(int *pidfd, int cgfd)
{
        struct clone_args ca;

        memset(&ca, 0, sizeof(ca));
        ca.flags = CLONE_PARENT | CLONE_PIDFD | SPAWN_NS_FLAGS;
        ca.pidfd = (uint64_t)(uintptr_t)pidfd;
        /* Must be 0 with CLONE_PARENT (else EINVAL): the child inherits
         * the spawner's own exit signal, SIGCHLD from its fork. */
        ca.exit_signal = 0;
        if (cgfd >= 0) {
                ca.flags |= CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)cgfd;
        }
        return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

static void serve_one(int sock, int pidns, struct sb_backend *b)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(SB_SPAWN_SLOTS * sizeof(int))];
        } cm;
        struct iovec iov = { rbuf, sizeof(rbuf) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
        struct sb_spawn_req *q = (struct sb_spawn_req *)rbuf;
        int fds[SB_SPAWN_SLOTS], nfds = 0, pidfd = -1, err = 0;
        const char *step = NULL;
        ssize_t n;
        pid_t pid = -1;

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                _exit(0);               /* the daemon closed its end (or is gone) */
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
                if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k && nfds < SB_SPAWN_SLOTS; i++)
                        memcpy(&fds[nfds++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
        }
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || unpack(q, (size_t)n, fds, nfds, b) < 0) {
                err = EINVAL;
                step = "spawner request";
                goto done;
        }
        /* Back to our own namespace for children, then a fresh one: the
         * clone below is its pid 1 (CLONE_NEWPID is refused with
         * CLONE_PARENT). unshare() alone would fail the second time, since
         * the new namespace must be a child of the active one. */
        if (setns(pidns, CLONE_NEWPID) < 0) {
                err = errno;
                step = "setns pid";
                goto done;
        }
        if (unshare(CLONE_NEWPID) < 0) {
                err = errno;
                step = "unshare CLONE_NEWPID";
                goto done;
        }
        static bool no_clone_into;
        int cgfd = no_clone_into ? -1 : slot(q, fds, nfds, SB_SPAWN_CLONE_CG);
        sigset_t old;
        if (slot(q, fds, nfds, SB_SPAWN_CLONE_CG) >= 0 && cgfd < 0)
                q->c.attach = &q->j.cgj;
        sb_backend_block_signals(&old);
        pid = clone_job(&pidfd, cgfd);
        if (pid < 0 && cgfd >= 0 && (errno == EINVAL || errno == EOPNOTSUPP || errno == E2BIG)) {
                /* An older kernel: the child attaches itself instead. */
                no_clone_into = true;
                q->c.attach = &q->j.cgj;
                pid = clone_job(&pidfd, -1);
        }
        if (pid == 0) {
                /* Not ours to hold: while a child that waits for its "go"
                 * kept the socket open, a spawner killed before its reply
                 * would never read as EOF and the daemon would wait forever. */
                close(sock);
                close(pidns);
                sb_linux_child(&q->c);
        }
        err = pid < 0 ? errno : 0;
        sb_backend_restore_signals(&old);
        if (pid < 0)
                step = "clone3";
done:
        for (int i = 0; i < nfds; i++)
                close(fds[i]);
        reply(sock, err, pid, step, err ? -1 : pidfd);
        if (pidfd >= 0)
                close(pidfd);
}

void sb_linux_spawner_serve(int sock, pid_t daemon, struct sb_backend *b)
{
        int pidns, fd;

        /* Dies with the daemon; a daemon that died before the prctl took
         * effect has re-parented us already. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != daemon)
                _exit(1);
        sb_child_reset_signals();
        (void)prctl(PR_SET_NAME, "sb-spawner");
        /* Out of the daemon's process group: a terminal's ^C is the
         * daemon's to handle; we go when it goes. */
        (void)setpgid(0, 0);
        /* Keep only the socket (as fd 3) and our pid namespace. */
        if (sock != 3) {
                if (dup3(sock, 3, O_CLOEXEC) < 0)
                        _exit(1);
                sock = 3;
        }
        if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
                _exit(1);
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                b->cg.base[i].fd = -1;  /* closed above; the child uses the job's */
        pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (pidns < 0)
                _exit(1);
        /* Our bounding and ambient sets go now, once: every clone inherits
         * them empty (caps.c). They limit only what an execve could gain,
         * and the spawner execs nothing, so its own effective set (which
         * its children need until they drop it) stays whole. Should this
         * fail, each child drops its own. */
        const char *step;
        bounding_clear = sb_linux_caps_drop_bounding(b->cap_last, &step) == 0;
        fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0 && fd != STDIN_FILENO) {
                (void)dup2(fd, STDIN_FILENO);
                close(fd);
        }
        for (;;)
                serve_one(sock, pidns, b);
}

