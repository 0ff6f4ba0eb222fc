/* spawner.c — the daemon's side of the spawner (spawner_serve.c): start
 * and stop it, send it clone requests and read its answers (spawner.h).
 *
 * The spawner is required: every job is cloned by it, never by the daemon.
 * If it dies, or is stuck (no answer within SPAWNER_ANSWER_MS: it is killed
 * then), the job whose request it held fails saying so, and the next
 * request starts a new one (logged through the daemon's notice). A spawner
 * that dies at start would otherwise be restarted for every job: at most
 * SB_SPAWNER_RESTARTS_MAX starts in SB_SPAWNER_RESTART_WINDOW_S, after which jobs
 * fail with that reason until the window has passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"
#include "backends/linux/spawn/spawner.h"

/* How long the daemon waits for the spawner's hello or a reply. A clone
 * takes it well under a millisecond; one that does not answer at all is
 * stuck (stopped, or wedged) and would hold the daemon's whole loop. */
#define SPAWNER_ANSWER_MS 5000

/* In the forked child: become the spawner executable, with the socket as
 * fd 3 and nothing else open. Only async-signal-safe calls (the daemon may
 * have threads). An exec failure is told on the socket. */
static __attribute__((noreturn)) void exec_spawner(int sock, const char *exe)
{
        static char *const argv[] = { "sb-spawner", NULL };
        static char *const envp[] = { NULL };
        struct sb_spawn_reply rep = { .pid = 0 };

        if (sock == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(sock, 3) < 0)
                _exit(127);
        if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
                _exit(127);
        sb_child_reset_signals();
        execve(exe, argv, envp);
        rep.err = errno;
        memcpy(rep.step, "exec", sizeof("exec"));
        (void)send(3, &rep, sizeof(rep), MSG_NOSIGNAL);
        _exit(127);
}

/* Send the executable its hello and wait (at most 5 s) for its answer. */
static int hello(int fd, pid_t daemon, const struct sb_backend *b, const char *exe,
                 char *errbuf, size_t errlen)
{
        struct sb_spawn_hello h = {
                .magic = SB_SPAWN_HELLO_MAGIC,
                .plan_version = SB_SPAWN_PLAN_VERSION,
                .plan_size = sizeof(struct sb_spawn_plan),
                .daemon = daemon,
                .cap_last = b->cap_last,
        };
        struct sb_spawn_reply rep;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;
        int r;

        do
                n = send(fd, &h, sizeof(h), MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EPIPE)
                return sb_backend_fail(errbuf, errlen, -errno, "spawner %s: send", exe);
        do
                r = poll(&p, 1, SPAWNER_ANSWER_MS);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "spawner %s: poll", exe);
        if (r == 0)
                return sb_backend_fail(errbuf, errlen, -ETIMEDOUT, "spawner %s: no answer", exe);
        do
                n = recv(fd, &rep, sizeof(rep), 0);
        while (n < 0 && errno == EINTR);
        /* ECONNRESET: it exited before it read the hello. */
        if (n < 0 && errno != ECONNRESET)
                return sb_backend_fail(errbuf, errlen, -errno, "spawner %s: recv", exe);
        if (n != sizeof(rep))
                return sb_backend_fail(errbuf, errlen, -EPROTO,
                                       "spawner %s: exited at start (not from this build?)", exe);
        if (rep.err) {
                rep.step[sizeof(rep.step) - 1] = '\0';
                return sb_backend_fail(errbuf, errlen, -rep.err, "spawner %s: %s", exe, rep.step);
        }
        return 0;
}

/* Fork and exec b->spawner_exe on a fresh socket pair, and greet it. */
static int launch(struct sb_backend *b, char *errbuf, size_t errlen)
{
        int sv[2], big = (int)(sizeof(struct sb_spawn_plan) + SB_PLAN_BLOB_MAX + 4096);
        const char *exe = b->spawner_exe;
        pid_t daemon = getpid(), pid;
        sigset_t old;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "spawner socketpair");
        /* One request may carry 1 MiB of argv and env (SBP_ARGS_BYTES_MAX). */
        if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0 ||
            setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                return sb_backend_fail(errbuf, errlen, r, "spawner socket buffers");
        }
        sb_backend_block_signals(&old);
        pid = fork();
        if (pid == 0)
                exec_spawner(sv[1], exe);
        int r = -errno;
        sb_backend_restore_signals(&old);
        close(sv[1]);
        if (pid < 0) {
                close(sv[0]);
                return sb_backend_fail(errbuf, errlen, r, "fork spawner");
        }
        b->spawner_fd = sv[0];
        b->spawner_pid = pid;
        if ((r = hello(sv[0], daemon, b, exe, errbuf, errlen)) < 0) {
                sb_linux_spawner_stop(b);
                return r;
        }
        return 0;
}

static uint64_t now_s(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec;
}

int sb_linux_spawner_start(struct sb_backend *b, const char *exe, char *errbuf, size_t errlen)
{
        b->spawner_fd = -1;
        b->spawner_pid = 0;
        b->spawner_lost[0] = '\0';
        b->spawner_starts_n = 0;
        if (snprintf(b->spawner_exe, sizeof(b->spawner_exe), "%s", exe) >= (int)sizeof(b->spawner_exe))
                return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "spawner %s", exe);
        return launch(b, errbuf, errlen);
}

/* The spawner is gone: every request it held is lost. */
static void fail_pending(struct sb_backend *b)
{
        while (b->pending_head) {
                struct sb_backend_job *j = b->pending_head;

                b->pending_head = j->pending_next;
                j->pending_next = NULL;
                j->pending = false;
                j->pending_err = EPIPE;
                snprintf(j->pending_step, sizeof(j->pending_step), "spawner died");
        }
        b->pending_tail = NULL;
}

/* Close our end, kill the spawner and wait for it (so that it is no
 * zombie); how it ended goes into b->spawner_lost, for the notice when a
 * new one starts and for the job that was waiting for it. */
static void reap(struct sb_backend *b, bool stuck)
{
        int status = 0;
        pid_t r = 0;

        if (b->spawner_fd >= 0) {
                close(b->spawner_fd);   /* it exits on EOF */
                b->spawner_fd = -1;
        }
        if (b->spawner_pid > 0) {
                /* Already dead, or dying (its socket reads EOF): the
                 * kill changes nothing then, and ends a stuck one. */
                (void)kill(b->spawner_pid, SIGKILL);
                while ((r = waitpid(b->spawner_pid, &status, 0)) < 0 && errno == EINTR)
                        ;
                b->spawner_pid = 0;
        }
        if (stuck)
                snprintf(b->spawner_lost, sizeof(b->spawner_lost),
                         "was stuck (no answer in %d s) and was killed", SPAWNER_ANSWER_MS / 1000);
        else if (r > 0 && WIFSIGNALED(status))
                snprintf(b->spawner_lost, sizeof(b->spawner_lost), "died (signal %s)",
                         sigabbrev_np(WTERMSIG(status)) ?: "?");
        else if (r > 0 && WIFEXITED(status))
                snprintf(b->spawner_lost, sizeof(b->spawner_lost), "died (exit status %d)",
                         WEXITSTATUS(status));
        else
                snprintf(b->spawner_lost, sizeof(b->spawner_lost), "died");
        fail_pending(b);
}

void sb_linux_spawner_stop(struct sb_backend *b)
{
        reap(b, false);
}

/* A spawner to send to: the running one, or a new one if it died (at most
 * SB_SPAWNER_RESTARTS_MAX starts within SB_SPAWNER_RESTART_WINDOW_S). */
static int ensure(struct sb_backend *b, char *errbuf, size_t errlen)
{
        uint64_t now = now_s();
        int r;

        if (b->spawner_fd >= 0)
                return 0;
        if (b->spawner_starts_n == SB_SPAWNER_RESTARTS_MAX &&
            now - b->spawner_starts[0] < SB_SPAWNER_RESTART_WINDOW_S)
                return sb_backend_fail(errbuf, errlen, -EAGAIN,
                                       "spawner %s %d times within %d s; no new one for %d s",
                                       b->spawner_lost, SB_SPAWNER_RESTARTS_MAX,
                                       SB_SPAWNER_RESTART_WINDOW_S,
                                       (int)(SB_SPAWNER_RESTART_WINDOW_S - (now - b->spawner_starts[0])));
        if (b->spawner_starts_n == SB_SPAWNER_RESTARTS_MAX) {
                memmove(b->spawner_starts, b->spawner_starts + 1,
                        (SB_SPAWNER_RESTARTS_MAX - 1) * sizeof(b->spawner_starts[0]));
                b->spawner_starts_n--;
        }
        b->spawner_starts[b->spawner_starts_n++] = now;
        char why[sizeof(b->spawner_lost)];
        memcpy(why, b->spawner_lost, sizeof(why));
        if ((r = launch(b, errbuf, errlen)) < 0) {
                char msg[320];

                snprintf(msg, sizeof(msg), "spawner %s; no new one: %s", why, errbuf);
                if (b->notice)
                        b->notice(msg);
                snprintf(errbuf, errlen, "%s", msg);
                return r;
        }
        if (b->notice) {
                char msg[320];
                snprintf(msg, sizeof(msg), "spawner %s; spawner restarted (pid %d)", why,
                         (int)b->spawner_pid);
                b->notice(msg);
        }
        return 0;
}

/* Send one plan: 0, -errno with errbuf set (nothing sent), or 1 when the
 * spawner is gone (nothing delivered: it is reaped then). */
static int send_request(struct sb_backend *b, const struct sb_spawn_plan *p, const int *fds,
                        int nfds, char *errbuf, size_t errlen)
{
        ssize_t n;
        int r;

        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(SB_PLAN_FDS * sizeof(int))];
        } cm;
        struct iovec iov = { (void *)p, p->size };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
        memset(&cm, 0, sizeof(cm));
        cm.h.cmsg_level = SOL_SOCKET;
        cm.h.cmsg_type = SCM_RIGHTS;
        cm.h.cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(&cm.h), fds, nfds * sizeof(int));
        do
                n = sendmsg(b->spawner_fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        r = n < 0 ? -errno : 0;
        if (r == -EMSGSIZE || r == -ENOBUFS)
                return sb_backend_fail(errbuf, errlen, r, "send the spawn plan");
        if (r < 0) {
                reap(b, false);
                return 1;
        }
        return 0;
}

/* Read the answer to the oldest request: 0 with the pidfd and pid, or
 * -errno with errbuf set: the spawner's failed step, or a spawner that died,
 * was stuck or sent a reply we cannot read (it is reaped then). */
static int read_reply(struct sb_backend *b, int *pidfd, pid_t *pid, char *errbuf, size_t errlen)
{
        struct sb_spawn_reply rep;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(SB_PLAN_FDS * sizeof(int))];
        } cm;
        ssize_t n;
        int got = -1;
        struct iovec riov = { &rep, sizeof(rep) };
        struct msghdr rmh = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = cm.buf,
                              .msg_controllen = sizeof(cm.buf) };
        struct pollfd p = { .fd = b->spawner_fd, .events = POLLIN };
        int pr;

        do
                pr = poll(&p, 1, SPAWNER_ANSWER_MS);
        while (pr < 0 && errno == EINTR);
        if (pr == 0) {
                /* No answer in time: a stuck spawner is killed. */
                reap(b, true);
                return sb_backend_fail(errbuf, errlen, -ETIMEDOUT, "spawner %s", b->spawner_lost);
        }
        if (pr < 0)
                goto lost;
        do
                n = recvmsg(b->spawner_fd, &rmh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
                /* Delivered, then no reply: the spawner may have cloned a
                 * child before it died, which now waits on this job's sync
                 * socket and reads EOF when the job's pipes are closed. */
                goto lost;
        }
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&rmh); h; h = CMSG_NXTHDR(&rmh, h)) {
                if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
                    h->cmsg_len >= CMSG_LEN(sizeof(int)))
                        memcpy(&got, CMSG_DATA(h), sizeof(int));
        }
        if (n != sizeof(rep) || (rep.err == 0 && (got < 0 || rep.pid <= 0))) {
                /* The whole reply, only its pidfd dropped: the daemon is at
                 * its descriptor limit (MSG_CTRUNC). The stream is intact
                 * (one reply per datagram), so the spawner stays. */
                bool truncated = n == sizeof(rep) && rep.err == 0 && rep.pid > 0 && got < 0 &&
                                 (rmh.msg_flags & MSG_CTRUNC);
                if (got >= 0)
                        close(got);
                /* A clone without its pidfd is still our unreaped child
                 * (CLONE_PARENT), so its pid cannot be reused yet: end it
                 * rather than leave it waiting for the "go" and then a
                 * zombie. */
                siginfo_t si;
                if (n == sizeof(rep) && rep.err == 0 && rep.pid > 0 &&
                    waitid(P_PID, (id_t)rep.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
                        (void)kill(rep.pid, SIGKILL);
                        while (waitpid(rep.pid, NULL, 0) < 0 && errno == EINTR)
                                ;
                }
                if (truncated)
                        return sb_backend_fail(errbuf, errlen, -EMFILE, "receive the child's pidfd");
                /* A reply we cannot read leaves the stream unusable. */
                reap(b, false);
                return sb_backend_fail(errbuf, errlen, -EPROTO, "spawner reply");
        }
        if (rep.err) {
                if (got >= 0)
                        close(got);
                rep.step[sizeof(rep.step) - 1] = '\0';
                return sb_backend_fail(errbuf, errlen, -rep.err, "%s", rep.step);
        }
        *pidfd = got;
        *pid = rep.pid;
        return 0;
lost:
        reap(b, false);
        return sb_backend_fail(errbuf, errlen, -EPIPE, "spawner %s", b->spawner_lost);
}

/* Send to a running spawner; once more to a new one if it was found gone
 * (the request was not delivered, so nothing of it was cloned). */
static int send_or_restart(struct sb_backend *b, const struct sb_spawn_plan *p, const int *fds,
                           int nfds, char *errbuf, size_t errlen)
{
        int r;

        for (int attempt = 0; attempt < 2; attempt++) {
                if ((r = ensure(b, errbuf, errlen)) < 0)
                        return r;
                if ((r = send_request(b, p, fds, nfds, errbuf, errlen)) <= 0)
                        return r;
        }
        return sb_backend_fail(errbuf, errlen, -EPIPE, "spawner %s", b->spawner_lost);
}

int sb_linux_spawner_clone(struct sb_backend *b, const struct sb_spawn_plan *p, const int *fds,
                           int nfds, int *pidfd, pid_t *pid, char *errbuf, size_t errlen)
{
        int r;

        /* The spawner answers in order: earlier requests first. */
        sb_linux_spawner_settle(b, NULL);
        if ((r = send_or_restart(b, p, fds, nfds, errbuf, errlen)) < 0)
                return r;
        return read_reply(b, pidfd, pid, errbuf, errlen);
}

int sb_linux_spawner_clone_async(struct sb_backend *b, const struct sb_spawn_plan *p,
                                 const int *fds, int nfds, struct sb_backend_job *j, char *errbuf,
                                 size_t errlen)
{
        int r = send_or_restart(b, p, fds, nfds, errbuf, errlen);

        if (r < 0)
                return r;
        j->pending = true;
        j->pending_next = NULL;
        if (b->pending_tail)
                b->pending_tail->pending_next = j;
        else
                b->pending_head = j;
        b->pending_tail = j;
        return 0;
}

void sb_linux_spawner_settle(struct sb_backend *b, struct sb_backend_job *until)
{
        while (b->pending_head) {
                struct sb_backend_job *j = b->pending_head;
                char err[sizeof(j->pending_step)];
                int pidfd = -1, r;
                pid_t pid = 0;

                b->pending_head = j->pending_next;
                if (!b->pending_head)
                        b->pending_tail = NULL;
                j->pending_next = NULL;
                j->pending = false;
                err[0] = '\0';
                /* Pending only while the spawner that got the request runs:
                 * reap() fails the rest. */
                if (b->spawner_fd >= 0)
                        r = read_reply(b, &pidfd, &pid, err, sizeof(err));
                else
                        r = sb_backend_fail(err, sizeof(err), -EPIPE, "spawner died");
                if (r == 0) {
                        sb_linux_spawn_done(j, pid, pidfd);
                } else {
                        /* No child we know of: a clone the spawner made
                         * before it died reads EOF on its sync socket when
                         * this job is destroyed, and runs nothing. */
                        j->pending_err = -r;
                        /* Without the errno's name, which reap() adds. */
                        char *tail = strrchr(err, ':');
                        if (tail)
                                *tail = '\0';
                        snprintf(j->pending_step, sizeof(j->pending_step), "%s", err);
                }
                if (j == until)
                        break;
        }
}
