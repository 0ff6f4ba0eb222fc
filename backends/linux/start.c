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
 * sandboxed child and reads into static buffers only. Nothing in the
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
/* argv and env counts and bytes as the protocol bounds them, plus the
 * entries the daemon adds to the environment itself. */
#define START_ARGS_MAX (SBP_ARGV_COUNT_MAX + SBP_ENV_COUNT_MAX + 32u)
#define START_STRINGS_MAX (SBP_ARGS_BYTES_MAX + (64u << 10))

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
        if (argc + envc > START_ARGS_MAX || slen > START_STRINGS_MAX)
                return sb_backend_fail(errbuf, errlen, -E2BIG, "start request");
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
        /* Room for all of it at once when it is large, so that the loop
         * does not wait for a child that is still building its sandbox. */
        if (len > (64u << 10)) {
                int big = (int)len + (64 << 10);
                (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
        }
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

static char start_strings[START_STRINGS_MAX];
static char *start_args[START_ARGS_MAX + 2];

static void close_fds(const int *fds, int n)
{
        for (int i = 0; i < n; i++)
                close(fds[i]);
}

int sb_linux_start_recv(int fd, char ***argv, char ***envp, int stdio[3], const char **step)
{
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
            h.magic != START_MAGIC || h.argc == 0 || h.argc + h.envc > START_ARGS_MAX ||
            h.strings_len > START_STRINGS_MAX) {
                close_fds(fds, nfds);
                /* EOF: the daemon dropped this sandbox unused. */
                return n == 0 ? -EPIPE : -EPROTO;
        }
        for (got = 0; got < h.strings_len; got += (size_t)n) {
                n = recv(fd, start_strings + got, h.strings_len - got, MSG_WAITALL);
                if (n < 0 && errno == EINTR) {
                        n = 0;
                        continue;
                }
                if (n <= 0) {
                        close_fds(fds, nfds);
                        return n < 0 ? -errno : -EPROTO;
                }
        }
        if (sb_linux_strv_unpack(start_strings, h.strings_len, h.argc, h.envc, start_args) < 0) {
                close_fds(fds, nfds);
                return -EPROTO;
        }
        *argv = start_args;
        *envp = start_args + h.argc + 1;
        memcpy(stdio, fds, sizeof(fds));
        return 0;
}
