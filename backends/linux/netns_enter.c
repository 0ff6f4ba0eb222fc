/* netns_enter.c — sockets the daemon makes inside a job's network
 * namespace: the egress proxy's listener (network allowlist) and a
 * connection to a published port of the job's loopback.
 *
 * A socket belongs to the network namespace of the thread that created it,
 * for its whole life; bind, listen and connect then act in that namespace
 * whichever namespace the caller is in. So the calling thread (the daemon's
 * loop thread) enters the job's namespace for socket() alone, and at once
 * goes back to its own, kept open since open(): no address, route or name is
 * looked up while it is in there, and nothing of the job runs code in the
 * daemon's process. setns(CLONE_NEWNET) changes the calling thread only, so
 * libuv's threadpool never sees the job's namespace.
 *
 * Privileged operations here, each safe because:
 *  - setns(job's netns): an fd of a namespace the backend made for this
 *    job (/proc/<pid>/ns/net of our own unreaped child, or held since the
 *    clone); the daemon has CAP_SYS_ADMIN there.
 *  - bringing lo up there (SIOCSIFFLAGS, CAP_NET_ADMIN): the same as the
 *    child does itself before it runs the job (child.c), so nothing the job
 *    would not have anyway.
 *  - setns back: to the daemon's own namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/linux/linux.h"

int sb_linux_netns_self_open(void)
{
        /* The loop thread's own: the one the daemon's sockets live in. */
        int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

/* Enter nsfd, make a TCP socket there (and with lo_up bring lo up first,
 * so that 127.0.0.1 can be bound before the child did it itself), come
 * back. Returns the socket or a negative errno with *step naming what
 * failed. */
static int socket_in(const struct sb_backend *b, int nsfd, bool lo_up, int flags,
                     const char **step)
{
        const char *sp = NULL;
        int fd = -1, r = 0;

        if (setns(nsfd, CLONE_NEWNET) < 0) {
                *step = "setns into the job's network namespace";
                return -errno;
        }
        if (lo_up && (r = sb_linux_lo_up(&sp)) < 0)
                *step = sp;
        if (r == 0) {
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
                if (fd < 0) {
                        r = -errno;
                        *step = "socket";
                }
        }
        /* Staying in the job's namespace would put every later socket of
         * the daemon's loop there (the proxy's, the next job's): no way to
         * go on safely. It cannot fail short of a kernel out of memory:
         * the fd is our own namespace's and we are privileged in it. */
        if (setns(b->netns_self, CLONE_NEWNET) < 0) {
                fprintf(stderr, "skillboxd: setns back to the daemon's network namespace: %s\n",
                        strerror(errno));
                abort();
        }
        return r < 0 ? r : fd;
}

static struct sockaddr_in loopback(uint16_t port)
{
        struct sockaddr_in sa;

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sa;
}

int sb_linux_netns_listen_lo(const struct sb_backend *b, int nsfd, uint16_t port, char *errbuf,
                             size_t errlen)
{
        struct sockaddr_in sa = loopback(port);
        const char *step = NULL;
        int fd, r;

        fd = socket_in(b, nsfd, true, 0, &step);
        if (fd < 0)
                return sb_backend_fail(errbuf, errlen, fd, "network allowlist: %s", step);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "network allowlist: bind "
                                    "127.0.0.1:%u", (unsigned)port);
                close(fd);
                return r;
        }
        if (listen(fd, SOMAXCONN) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "network allowlist: listen "
                                    "127.0.0.1:%u", (unsigned)port);
                close(fd);
                return r;
        }
        return fd;
}

int sb_linux_netns_connect_lo(const struct sb_backend *b, int nsfd, uint16_t port, int *out,
                              const char **step)
{
        struct sockaddr_in sa = loopback(port);
        int fd, r;

        /* lo up first: a call right after the exec may come before the
         * child brought it up itself. */
        fd = socket_in(b, nsfd, true, SOCK_NONBLOCK, step);
        if (fd < 0)
                return fd;
        /* Non-blocking: a job whose backlog is full would otherwise hold
         * the daemon's loop in connect() while the SYN is retried. Still
         * in progress is fine: the client's reads and writes wait for it.
         * On loopback the answer to the SYN has mostly come by the time
         * connect() returns: a refusal shows in SO_ERROR at once, and is
         * reported rather than handed over as a dead socket. */
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int soerr = 0;
                socklen_t len = sizeof(soerr);

                r = errno == EINPROGRESS ? 0 : -errno;
                if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
                        r = -errno;
                else if (r == 0 && soerr)
                        r = -soerr;
                if (r < 0) {
                        *step = "connect";
                        close(fd);
                        return r;
                }
        }
        /* The client gets an ordinary blocking socket. */
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
                r = -errno;
                *step = "fcntl O_NONBLOCK";
                close(fd);
                return r;
        }
        *out = fd;
        return 0;
}
