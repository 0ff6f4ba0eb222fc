/* sandbox_init.c — pid 1 of a persistent sandbox: runs command after
 * command in one set of namespaces, one cgroup, one /work and /tmp.
 *
 * Reached instead of the prepared child's single start request (child.c),
 * fully confined already: the same uids (root's real and effective, the
 * sandbox's as the saved one), no capability, Landlock, seccomp. It serves
 * the daemon's exec requests (struct sb_sandbox_exec_hdr, linux.h) on its
 * start socket: each brings the command's stdio and the init's end of a
 * report socket of that command alone. The init vforks the command (its own
 * process group, the sandbox's uid whole), and when the command's main
 * process ends it sends the wait status and rusage on that command's socket
 * and closes it. A SB_SANDBOX_KILL byte on it kills the command's process
 * group; EOF on it (the daemon dropped the command) does the same. Whatever
 * a command left running in another group (setsid) runs on for the next
 * one; orphans are reaped and forgotten.
 *
 * Nothing a command does reaches the report sockets or the start socket:
 * they are close-on-exec, so no command process ever holds one, and the
 * init runs under an effective uid the commands cannot signal, trace or
 * prlimit (init.c has why). The init takes the sandbox's uid as its
 * effective one only for the kill itself; the change makes it
 * non-dumpable, and it takes root's back right after.
 *
 * EOF on the start socket (the daemon destroys the sandbox, or is gone)
 * ends the sandbox: every process in the namespace is killed and reaped.
 * Like the rest of the child: no malloc, no stdio, static room only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

struct command {
        pid_t pid;              /* 0 = free slot */
        int sock;               /* its report socket; -1 once the daemon dropped it */
        int err;                /* a step before its exec failed: errno ... */
        const char *step;       /* ... and which */
};

static struct command cmds[SB_SANDBOX_CMDS_MAX];

/* The exec request's room, like start_recv.c's. */
static struct {
        struct sb_sandbox_exec_hdr h;
        char *args[SB_LINUX_START_ENTRIES_MAX + 2];
        char strings[SB_LINUX_START_BYTES_MAX];
} req;

/* Written by a vforked command before its _exit (the memory is shared
 * until its exec), read by the init once vfork returned. */
static volatile int vfork_err;
static const char *volatile vfork_step;

static uid_t job_uid;
static sigset_t run_mask;       /* the command's: nothing blocked */

static void on_sigchld(int sig)
{
        (void)sig;      /* only to interrupt ppoll() */
}

/* Our effective uid becomes the sandbox's for a kill, then root's again
 * (the real uid, which an unprivileged setresuid may take back). */
static int kill_as_job(pid_t target, int sig)
{
        int r = 0;

        if (syscall(SYS_setresuid, -1L, (long)job_uid, -1L) < 0)
                return -errno;
        if (kill(target, sig) < 0 && errno != ESRCH)
                r = -errno;
        if (syscall(SYS_setresuid, -1L, 0L, -1L) < 0)
                _exit(127);     /* cannot be: stay out of the job's reach or stop */
        return r;
}

static __attribute__((noreturn)) void end_sandbox(int code)
{
        pid_t p;

        (void)syscall(SYS_setresuid, -1L, (long)job_uid, -1L);
        (void)kill(-1, SIGKILL);
        do
                p = waitpid(-1, NULL, __WALL);
        while (p > 0 || (p < 0 && errno == EINTR));
        _exit(code);
}

static void report(struct command *c, int wstatus, const struct rusage *ru)
{
        struct sb_sandbox_cmd_exit rec;

        memset(&rec, 0, sizeof(rec));
        rec.magic = SB_SANDBOX_EXIT_MAGIC;
        rec.wstatus = wstatus;
        rec.err = c->err;
        if (c->step)
                strncpy(rec.step, c->step, sizeof(rec.step) - 1);
        if (ru) {
                rec.cpu_user_us = (uint64_t)ru->ru_utime.tv_sec * 1000000u +
                                  (uint64_t)ru->ru_utime.tv_usec;
                rec.cpu_sys_us = (uint64_t)ru->ru_stime.tv_sec * 1000000u +
                                 (uint64_t)ru->ru_stime.tv_usec;
                rec.maxrss_kb = (uint64_t)ru->ru_maxrss;
        }
        /* One datagram into an empty socket: it fits. A daemon that went
         * away is EPIPE, which nobody is left to hear about. */
        if (c->sock >= 0) {
                (void)send(c->sock, &rec, sizeof(rec), MSG_NOSIGNAL | MSG_DONTWAIT);
                close(c->sock);
        }
        memset(c, 0, sizeof(*c));
        c->sock = -1;
}

static void reap_all(void)
{
        struct rusage ru;
        int status;
        pid_t p;

        for (;;) {
                p = wait4(-1, &status, WNOHANG | __WALL, &ru);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p <= 0)
                        return;
                for (int i = 0; i < SB_SANDBOX_CMDS_MAX; i++)
                        if (cmds[i].pid == p) {
                                report(&cmds[i], cmds[i].err ? -1 : status, &ru);
                                break;
                        }
        }
}

static void close_fds(const int *fds, int n)
{
        for (int i = 0; i < n; i++)
                close(fds[i]);
}

/* The vforked command: its own process group, the sandbox's uid whole,
 * its stdio and cwd, then exec. Shares our memory until the exec: touches
 * only the vfork_* fields and its own stack. */
static __attribute__((noreturn)) void run_command(const int io[3])
{
        if (syscall(SYS_setresuid, (long)job_uid, (long)job_uid, (long)job_uid) < 0) {
                vfork_step = "setresuid";
                goto fail;
        }
        if (setpgid(0, 0) < 0) {
                vfork_step = "setpgid";
                goto fail;
        }
        for (int i = 0; i < 3; i++)
                if (dup2(io[i], i) < 0) {
                        vfork_step = "stdio";
                        goto fail;
                }
        if (req.h.cwd[0] && chdir(req.h.cwd) < 0) {
                vfork_step = "chdir";
                goto fail;
        }
        if (sigprocmask(SIG_SETMASK, &run_mask, NULL) < 0) {
                vfork_step = "sigprocmask";
                goto fail;
        }
        sb_child_exec(req.args, req.args + req.h.argc + 1);
        vfork_step = "execve";
fail:
        vfork_err = errno ? errno : EIO;
        _exit(127);
}

/* One exec request; <0 when the start socket is done (EOF, or the daemon
 * broke the protocol, which ends the sandbox). */
static int serve_request(int startfd)
{
        struct sb_sandbox_exec_hdr *h = &req.h;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(4 * sizeof(int))];
        } cm;
        struct iovec iov = { h, sizeof(*h) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = sizeof(cm.buf) };
        int fds[4], nfds = 0;
        ssize_t n;
        size_t got;

        do
                n = recvmsg(startfd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return -EPIPE;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k && nfds < 4; i++)
                        memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        }
        if (n != (ssize_t)sizeof(*h) || (mh.msg_flags & MSG_CTRUNC) || nfds != 4 ||
            h->magic != SB_SANDBOX_EXEC_MAGIC || h->argc == 0 ||
            h->argc + h->envc > SB_LINUX_START_ENTRIES_MAX ||
            h->strings_len > sizeof(req.strings) || h->cwd[SB_SANDBOX_CWD_MAX] != '\0') {
                close_fds(fds, nfds);
                return -EPROTO;
        }
        for (got = 0; got < h->strings_len; got += (size_t)n) {
                n = recv(startfd, req.strings + got, h->strings_len - got, MSG_WAITALL);
                if (n < 0 && errno == EINTR) {
                        n = 0;
                        continue;
                }
                if (n <= 0) {
                        close_fds(fds, nfds);
                        return -EPROTO;
                }
        }
        if (sb_linux_strv_unpack(req.strings, h->strings_len, h->argc, h->envc, req.args) < 0) {
                close_fds(fds, nfds);
                return -EPROTO;
        }

        struct command *c = NULL;
        for (int i = 0; i < SB_SANDBOX_CMDS_MAX && !c; i++)
                if (cmds[i].pid == 0)
                        c = &cmds[i];
        if (!c) {
                /* The daemon keeps fewer running; say so rather than hang. */
                struct command full = { .sock = fds[3], .err = EAGAIN, .step = "sandbox: commands" };
                close_fds(fds, 3);
                report(&full, -1, NULL);
                return 0;
        }
        vfork_err = 0;
        vfork_step = NULL;
        pid_t pid = vfork();
        if (pid == 0)
                run_command(fds);
        close_fds(fds, 3);
        c->sock = fds[3];
        if (pid < 0) {
                c->err = errno;
                c->step = "fork";
                report(c, -1, NULL);
                return 0;
        }
        c->pid = pid;
        c->err = vfork_err;
        c->step = vfork_step;
        return 0;
}

/* A byte (or EOF) on command c's report socket. */
static void serve_command(struct command *c)
{
        char buf[16];
        ssize_t n;

        do
                n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN)
                return;
        /* A kill, or EOF: the daemon no longer wants it either way. */
        (void)kill_as_job(-c->pid, SIGKILL);
        if (n <= 0) {
                close(c->sock);
                c->sock = -1;
        }
}

void sb_linux_sandbox_init(int errfd, int startfd, uid_t uid)
{
        struct pollfd pf[1 + SB_SANDBOX_CMDS_MAX];
        struct command *who[1 + SB_SANDBOX_CMDS_MAX];
        struct sigaction sa;
        sigset_t chld, wait_mask;

        job_uid = uid;
        for (int i = 0; i < SB_SANDBOX_CMDS_MAX; i++)
                cmds[i].sock = -1;
        /* No command may inherit either (the error pipe is the daemon's
         * "the sandbox is gone": only our exit may close it). */
        if (fcntl(startfd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(errfd, F_SETFD, FD_CLOEXEC) < 0)
                sb_child_fail(errfd, errno, "sandbox: close-on-exec", NULL);
        /* SIGCHLD only inside ppoll(), so that none is lost between a
         * reap and the wait. */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &chld, &run_mask) < 0)
                sb_child_fail(errfd, errno, "sandbox: sigprocmask", NULL);
        wait_mask = run_mask;
        sigdelset(&wait_mask, SIGCHLD);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigchld;
        sa.sa_flags = SA_NOCLDSTOP;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGCHLD, &sa, NULL) < 0)
                sb_child_fail(errfd, errno, "sandbox: sigaction", NULL);

        for (;;) {
                nfds_t n = 0;

                reap_all();
                pf[n] = (struct pollfd){ .fd = startfd, .events = POLLIN };
                who[n++] = NULL;
                for (int i = 0; i < SB_SANDBOX_CMDS_MAX; i++)
                        if (cmds[i].pid && cmds[i].sock >= 0) {
                                pf[n] = (struct pollfd){ .fd = cmds[i].sock, .events = POLLIN };
                                who[n++] = &cmds[i];
                        }
                int r = ppoll(pf, n, NULL, &wait_mask);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        end_sandbox(127);
                for (nfds_t i = 1; i < n; i++)
                        if (pf[i].revents)
                                serve_command(who[i]);
                if (pf[0].revents && serve_request(startfd) < 0)
                        end_sandbox(0);
        }
}
