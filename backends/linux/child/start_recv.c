/* start_recv.c — in a prepared sandbox's child: receive the start request
 * (start.c has the message and the daemon's side). Static buffers only;
 * argv and envp point into them, stdio gets the three fds.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

/* The child's room for the start request: the argv and envp arrays and
 * their strings. */
static struct {
        char *args[SB_LINUX_START_ENTRIES_MAX + 2];
        char strings[SB_LINUX_START_BYTES_MAX];
} start_area;

static void close_fds(const int *fds, int n)
{
        for (int i = 0; i < n; i++)
                close(fds[i]);
}

int sb_linux_start_recv(int fd, char ***argv, char ***envp, int stdio[3], const char **step)
{
        __typeof__(start_area) *a = &start_area;
        struct sb_start_hdr h;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(3 * sizeof(int))];
        } cm;
        struct iovec iov = { &h, sizeof(h) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = sizeof(cm.buf) };
        int fds[3], nfds = 0;
        ssize_t n;
        size_t got;

        *step = "wait for the start request";
        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k && nfds < 3; i++)
                        memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        }
        *step = "start request";
        if (n != (ssize_t)sizeof(h) || (mh.msg_flags & MSG_CTRUNC) || nfds != 3 ||
            h.magic != SB_START_MAGIC || h.argc == 0 ||
            h.argc + h.envc > SB_LINUX_START_ENTRIES_MAX || h.strings_len > sizeof(a->strings)) {
                close_fds(fds, nfds);
                /* EOF: the daemon dropped this sandbox unused. */
                return n == 0 ? -EPIPE : -EPROTO;
        }
        for (got = 0; got < h.strings_len; got += (size_t)n) {
                n = recv(fd, a->strings + got, h.strings_len - got, MSG_WAITALL);
                if (n < 0 && errno == EINTR) {
                        n = 0;
                        continue;
                }
                if (n <= 0) {
                        close_fds(fds, nfds);
                        return n < 0 ? -errno : -EPROTO;
                }
        }
        if (sb_linux_strv_unpack(a->strings, h.strings_len, h.argc, h.envc, a->args) < 0) {
                close_fds(fds, nfds);
                return -EPROTO;
        }
        *argv = a->args;
        *envp = a->args + h.argc + 1;
        memcpy(stdio, fds, sizeof(fds));
        return 0;
}
