/* publish.c — skillboxctl run --publish HOSTPORT:JOBPORT: a host-side
 * listener, as the user, whose connections reach a port the job serves on
 * its own loopback.
 *
 * The CLI listens on 127.0.0.1:HOSTPORT before the exec (a port in use
 * fails the run before any job starts) and, once the job runs, forks a
 * forwarder. The forwarder accepts; for each connection a child of its own
 * asks the daemon for a socket connected to the job's port (job_connect,
 * on a connection of its own, so no job output is ever queued before the
 * reply) and copies bytes both ways until both sides are done. Only the
 * loopback: nothing is exposed beyond the host. The forwarder dies with
 * the CLI (SIGTERM from ctl_publish_stop, or the parent-death signal).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "client/publish.h"
#include "client/skillbox.h"

static int port_of(const char *s, size_t n, uint16_t *out)
{
        unsigned long v = 0;

        if (n == 0 || n > 5)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned long)(s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return -EINVAL;
        *out = (uint16_t)v;
        return 0;
}

int ctl_publish_parse(const char *v, struct ctl_publish *p)
{
        const char *colon = strchr(v, ':');

        p->listen_fd = -1;
        if (!colon)
                return port_of(v, strlen(v), &p->host_port) < 0 ? -EINVAL
                                                                : port_of(v, strlen(v), &p->job_port);
        if (port_of(v, (size_t)(colon - v), &p->host_port) < 0)
                return -EINVAL;
        return port_of(colon + 1, strlen(colon + 1), &p->job_port);
}

int ctl_publish_listen(struct ctl_publish *p)
{
        struct sockaddr_in sa;
        int fd, one = 1, r;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(p->host_port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        /* A port left in TIME_WAIT by an earlier run is free to take. */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        p->listen_fd = fd;
        return 0;
}

/* Copy a -> b until a's EOF, then pass the EOF on; 0 at EOF, 1 if more may
 * come, -1 on an error. */
static int pump(int a, int b)
{
        char buf[16384];
        ssize_t n, w;

        do
                n = read(a, buf, sizeof(buf));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        if (n == 0) {
                (void)shutdown(b, SHUT_WR);
                return 0;
        }
        for (ssize_t off = 0; off < n; off += w) {
                do
                        w = send(b, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
                while (w < 0 && errno == EINTR);
                if (w < 0)
                        return -1;
        }
        return 1;
}

static void relay(int x, int y)
{
        struct pollfd pf[2] = { { x, POLLIN, 0 }, { y, POLLIN, 0 } };
        int open = 2;

        while (open > 0) {
                if (poll(pf, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                for (int i = 0; i < 2; i++) {
                        int r;

                        if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        r = pump(pf[i].fd, pf[1 - i].fd);
                        if (r < 0)
                                return;
                        if (r == 0) {
                                pf[i].fd = -1;
                                open--;
                        }
                }
        }
}

/* One accepted connection, in a process of its own. */
static void serve(const char *socket_path, const char *job, const struct ctl_publish *p, int conn)
{
        sb_client *c = NULL;
        int fd, r;

        r = sb_connect(socket_path, &c);
        fd = r < 0 ? r : sb_job_connect(c, job, p->job_port);
        if (fd < 0) {
                fprintf(stderr, "skillboxctl: --publish %u:%u: %s\n", (unsigned)p->host_port,
                        (unsigned)p->job_port, c ? sb_errmsg(c) : strerror(-fd));
                sb_close(c);
                _exit(1);
        }
        sb_close(c);
        relay(conn, fd);
        _exit(0);
}

static void forward(const char *socket_path, const char *job, struct ctl_publish *p, size_t n)
{
        struct pollfd pf[CTL_PUBLISH_MAX];

        /* Children reap themselves: nothing of theirs is waited for. */
        signal(SIGCHLD, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        for (size_t i = 0; i < n; i++)
                pf[i] = (struct pollfd){ p[i].listen_fd, POLLIN, 0 };
        for (;;) {
                if (poll(pf, (nfds_t)n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(1);
                }
                for (size_t i = 0; i < n; i++) {
                        int conn;
                        pid_t pid;

                        if (!(pf[i].revents & POLLIN))
                                continue;
                        conn = accept4(pf[i].fd, NULL, NULL, SOCK_CLOEXEC);
                        if (conn < 0)
                                continue;
                        pid = fork();
                        if (pid == 0) {
                                for (size_t k = 0; k < n; k++)
                                        close(pf[k].fd);
                                serve(socket_path, job, &p[i], conn);
                        }
                        close(conn);
                }
        }
}

pid_t ctl_publish_start(const char *socket_path, const char *job, struct ctl_publish *p,
                        size_t n, int drop_fd)
{
        pid_t parent = getpid(), pid;

        if (n == 0 || n > CTL_PUBLISH_MAX)
                return -EINVAL;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0)
                return pid;
#ifdef __linux__
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (getppid() != parent)
                _exit(0);
        /* Not the CLI's connection: the daemon must see it close with
         * the CLI. */
        if (drop_fd >= 0)
                (void)close(drop_fd);
        forward(socket_path, job, p, n);
        _exit(0);
}

void ctl_publish_stop(pid_t pid)
{
        if (pid <= 0)
                return;
        (void)kill(pid, SIGTERM);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
