/* start.c — the message that turns a prepared sandbox into a running job.
 *
 * A prepared ("held") child has done everything of child.c that does not
 * depend on the request: namespaces, cgroup, mounts, pivot_root, rlimits,
 * the uid change, capabilities, no_new_privs, Landlock and the seccomp
 * filter. It waits on its sync socket for one message from the daemon:
 *
 *   struct sb_start_hdr, with the job's stdin, stdout and stderr attached
 *   by SCM_RIGHTS, then argv and envp as NUL-terminated strings.
 *
 * The daemon side (send) may allocate; the child side (recv) runs in the
 * sandboxed child, which allocates nothing, and reads into static room of
 * fixed size. Hence the size limit SB_LINUX_START_*_MAX, which the daemon
 * checks before it hands a request to a prepared sandbox. Nothing in the
 * message can widen the sandbox: it names the program and its
 * environment, and the fds become the program's stdio.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

struct sb_start_hdr {
        uint32_t magic;
        uint32_t argc, envc;
        uint32_t strings_len;
};

#define START_MAGIC 0x5b5a0002u

/* ---- daemon side ---- */

int sb_linux_start_send(int fd, const struct sb_job_spec *spec, char *errbuf, size_t errlen)
{
        struct sb_start_hdr *h;
        size_t slen, len, done;
        uint32_t argc = 0, envc = 0;
        int fds[3] = { spec->stdin_fd, spec->stdout_fd, spec->stderr_fd };
        ssize_t n;

        if (!spec->argv || !spec->argv[0])
                return sb_backend_fail(errbuf, errlen, -EINVAL, "argv");
        for (int i = 0; i < 3; i++)
                if (fds[i] < 0)
                        return sb_backend_fail(errbuf, errlen, -EBADF, "stdio");
        slen = sb_linux_strv_measure(spec->argv, spec->envp, &argc, &envc);
        if (argc + envc > SB_LINUX_START_ENTRIES_MAX || slen > SB_LINUX_START_BYTES_MAX)
                return sb_backend_fail(errbuf, errlen, -E2BIG, "argv and environment too large "
                                       "for a prepared sandbox");
        len = sizeof(*h) + slen;
        h = malloc(len);
        if (!h)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "start request");
        h->magic = START_MAGIC;
        h->argc = argc;
        h->envc = envc;
        h->strings_len = (uint32_t)slen;
        sb_linux_strv_pack((char *)(h + 1), spec->argv, argc, spec->envp, envc);

        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(fds))];
        } cm;
        struct iovec iov = { h, len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = sizeof(cm.buf) };
        memset(&cm, 0, sizeof(cm));
        cm.h.cmsg_level = SOL_SOCKET;
        cm.h.cmsg_type = SCM_RIGHTS;
        cm.h.cmsg_len = CMSG_LEN(sizeof(fds));
        memcpy(CMSG_DATA(&cm.h), fds, sizeof(fds));
        /* A stream socket: the fds ride on the first part, the rest may
         * take more writes (the child reads as long as it needs). A dead
         * child is EPIPE, without SIGPIPE. */
        do
                n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        for (done = n > 0 ? (size_t)n : 0; n >= 0 && done < len; done += n > 0 ? (size_t)n : 0) {
                n = send(fd, (char *)h + done, len - done, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        n = 0;
        }
        int r = n < 0 ? -errno : 0;
        free(h);
        if (r < 0)
                return sb_backend_fail(errbuf, errlen, r, "start the prepared sandbox");
        return 0;
}

/* ---- child side ---- */

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
            h.magic != START_MAGIC || h.argc == 0 ||
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
