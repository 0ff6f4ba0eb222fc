/* spawner_serve.c — the spawner process: clones each linux job.
 *
 * A clone copies its parent's page tables, and the parent then takes a
 * copy-on-write fault on every page it writes while the child lives. So no
 * job is cloned from the daemon itself: at open() the daemon starts this
 * small single-threaded process, its own static executable (spawner_exe.c:
 * a few mappings, so each clone and each job init's exit handles a few page
 * tables instead of those of a dozen shared libraries). Each plan
 * (plan.h) carries exactly what the child reads; the answer is the pid and
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
 * runs as a job uid, holds a received fd only until the clone is done, and
 * has empty bounding and ambient sets (or does not start), which every
 * clone inherits.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"
#include "backends/linux/spawn/spawner.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* The received plan, which each clone reads from its own copy of this
 * memory. Only the pages a plan fills are ever touched, so a clone copies
 * the page tables of what the largest plan so far used, nothing more. */
static unsigned char rbuf[sizeof(struct sb_spawn_plan) + SB_PLAN_BLOB_MAX]
        __attribute__((aligned(16)));
static int serve_pidns = -1;

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

/* The one place a job's clone_args are built: CLONE_PARENT (the job is the
 * daemon's child: waitid(P_PIDFD), rusage), a pidfd, the namespaces but
 * pid (see serve_one) and, with network host, but net, and
 * CLONE_INTO_CGROUP when cgfd >= 0. */
static pid_t clone_job(int *pidfd, int cgfd, bool host_net)
{
        struct clone_args ca;

        memset(&ca, 0, sizeof(ca));
        ca.flags = CLONE_PARENT | CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
                   (host_net ? 0 : CLONE_NEWNET);
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

static void serve_one(int sock)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(SB_PLAN_FDS * sizeof(int))];
        } cm;
        struct iovec iov = { rbuf, sizeof(rbuf) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
        const struct sb_spawn_plan *p = (const struct sb_spawn_plan *)rbuf;
        static int slot[SB_PLAN_FDS];   /* the child's copy is its own */
        static bool no_clone_into;
        int fds[SB_PLAN_FDS], nfds = 0, pidfd = -1, err = 0, r;
        const char *step = NULL;
        sigset_t old;
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
                for (size_t i = 0; i < k && nfds < SB_PLAN_FDS; i++)
                        memcpy(&fds[nfds++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
        }
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                err = EMSGSIZE;
                step = "spawn plan size";
                goto done;
        }
        if ((r = sb_spawn_plan_check(p, (size_t)n, nfds)) < 0) {
                err = -r;
                step = "spawn plan";
                goto done;
        }
        for (int i = 0; i < SB_PLAN_FDS; i++)
                slot[i] = p->fd_index[i] >= 0 ? fds[p->fd_index[i]] : -1;
        /* Back to our own namespace for children, then a fresh one: the
         * clone below is its pid 1 (CLONE_NEWPID is refused with
         * CLONE_PARENT). unshare() alone would fail the second time, since
         * the new namespace must be a child of the active one. */
        if (setns(serve_pidns, CLONE_NEWPID) < 0) {
                err = errno;
                step = "setns pid";
                goto done;
        }
        if (unshare(CLONE_NEWPID) < 0) {
                err = errno;
                step = "unshare CLONE_NEWPID";
                goto done;
        }
        int cgfd = no_clone_into ? -1 : slot[SB_PLAN_FD_CLONE_CG];
        sb_backend_block_signals(&old);
        bool host_net = p->flags & SB_PLAN_HOST_NET;
        pid = clone_job(&pidfd, cgfd, host_net);
        if (pid < 0 && cgfd >= 0 && (errno == EINVAL || errno == EOPNOTSUPP || errno == E2BIG)) {
                /* An older kernel: the child attaches itself instead. */
                no_clone_into = true;
                cgfd = -1;
                pid = clone_job(&pidfd, -1, host_net);
        }
        if (pid == 0) {
                /* Not ours to hold: while a child that waits for its "go"
                 * kept the socket open, a spawner killed before its reply
                 * would never read as EOF and the daemon would wait forever. */
                close(sock);
                close(serve_pidns);
                sb_linux_child(p, slot, cgfd < 0);
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

int sb_linux_spawner_setup(int sock, pid_t daemon, int cap_last, const char **step)
{
        int fd, r;

        /* Dies with the daemon; a daemon that died before the prctl took
         * effect has re-parented us already. */
        *step = "PR_SET_PDEATHSIG";
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                return errno;
        *step = "daemon gone";
        if (getppid() != daemon)
                return ESRCH;
        sb_child_reset_signals();
        (void)prctl(PR_SET_NAME, "sb-spawner");
        /* Out of the daemon's process group: a terminal's ^C is the
         * daemon's to handle; we go when it goes. */
        (void)setpgid(0, 0);
        /* Keep only the socket (fd 3, the executable's), and our pid
         * namespace; stdin is /dev/null. */
        *step = "close_range";
        if (sock != 3 || syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
                return sock != 3 ? EBADF : errno;
        *step = "open /proc/self/ns/pid";
        serve_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (serve_pidns < 0)
                return errno;
        /* Our bounding and ambient sets go now, once: every clone inherits
         * them empty (caps.c checks them in each child). They limit only
         * what an execve could gain, and the spawner execs nothing, so its
         * own effective set (which its children need until they drop it)
         * stays whole. */
        if ((r = sb_linux_caps_drop_bounding(cap_last, step)) < 0)
                return -r;
        *step = "open /dev/null";
        fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        if (fd != STDIN_FILENO) {
                if (dup2(fd, STDIN_FILENO) < 0)
                        return errno;
                close(fd);
        }
        *step = "";
        return 0;
}

void sb_linux_spawner_serve(int sock)
{
        for (;;)
                serve_one(sock);
}
