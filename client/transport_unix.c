/* transport_unix.c — libskillbox's connection over a Unix stream socket
 * (transport.h): non-blocking, close-on-exec, fds as SCM_RIGHTS with a
 * request's first byte, MSG_NOSIGNAL so a closed daemon is -EPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/transport.h"
#include "config.h"
#include "protocol/sbp.h"

/* sb_events() promises poll()'s values. */
_Static_assert(CLIENT_EV_IN == POLLIN && CLIENT_EV_OUT == POLLOUT, "sb_events() values");

const char *client_transport_default(void)
{
        const char *env = getenv("SKILLBOX_SOCKET");

        if (env && *env)
                return env;
        return SKILLBOX_DEFAULT_SOCKET;
}

int client_transport_connect(const char *path, int *out)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* A local stream socket connects at once or fails; EAGAIN is a full
         * backlog, as refused as ECONNREFUSED for a client. */
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *out = fd;
        return 0;
}

void client_transport_close(int fd)
{
        close(fd);
}

static ssize_t send_with_fds(int fd, const char *data, size_t len, const int *fds, size_t nfds)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * SBP_FDS_MAX)];
        } cbuf;
        struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct cmsghdr *cm;

        if (nfds > SBP_FDS_MAX)
                return -EINVAL;
        memset(&cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
        return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

ssize_t client_transport_send(int fd, const char *data, size_t len, const int *fds, size_t nfds)
{
        ssize_t n;

        do
                n = nfds > 0 ? send_with_fds(fd, data, len, fds, nfds)
                             : send(fd, data, len, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        return n;
}

ssize_t client_transport_recv(int fd, char *buf, size_t len, int *fds, size_t *nfds,
                              size_t fds_max)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(CLIENT_TRANSPORT_FDS_MAX * sizeof(int))];
        } cm;
        struct iovec iov = { buf, len };
        struct msghdr mh;
        ssize_t n;

        *nfds = 0;
        do {
                memset(&mh, 0, sizeof(mh));
                mh.msg_iov = &iov;
                mh.msg_iovlen = 1;
                mh.msg_control = cm.buf;
                mh.msg_controllen = sizeof(cm.buf);
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        /* Keep what there is room for; the rest would leak in this
         * process, so it is closed. */
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
                if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int rfd;

                        memcpy(&rfd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
                        if (*nfds < fds_max)
                                fds[(*nfds)++] = rfd;
                        else
                                close(rfd);
                }
        }
        return n;
}

int client_transport_wait(int fd, bool want_write, int timeout_ms)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN | (want_write ? POLLOUT : 0) };
        int r = poll(&pfd, 1, timeout_ms);

        if (r < 0)
                return -errno;
        if (r == 0)
                return 0;
        return ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) ? CLIENT_EV_IN : 0) |
               ((pfd.revents & POLLOUT) ? CLIENT_EV_OUT : 0);
}

int client_transport_fd_dup(int fd)
{
        int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);

        return r < 0 ? -errno : r;
}

void client_transport_fd_close(int fd)
{
        close(fd);
}
