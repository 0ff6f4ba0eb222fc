/* start.c — the message that turns a prepared sandbox into a running job.
 *
 * A prepared child has done everything of child.c that does not
 * depend on the request: namespaces, cgroup, mounts, pivot_root, rlimits,
 * the uid change, capabilities, no_new_privs, Landlock and the seccomp
 * filter. It waits on its sync socket for one message from the daemon:
 *
 *   struct sb_start_hdr, with the job's stdin, stdout and stderr attached
 *   by SCM_RIGHTS, then argv and envp as NUL-terminated strings.
 *
 * This file is the daemon side (send), which may allocate; the child side
 * (child/start_recv.c) allocates nothing and reads into static room of
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


/* A stream socket: the fds ride on the first part, the rest may take
 * more writes (the reader reads as long as it needs). A dead reader is
 * EPIPE, without SIGPIPE. */
int sb_linux_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(4 * sizeof(int))];
        } cm;
        struct iovec iov = { (void *)buf, len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
        size_t done;
        ssize_t n;

        if (nfds == 0 || nfds > 4)
                return -EINVAL;
        memset(&cm, 0, sizeof(cm));
        cm.h.cmsg_level = SOL_SOCKET;
        cm.h.cmsg_type = SCM_RIGHTS;
        cm.h.cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(&cm.h), fds, nfds * sizeof(int));
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        for (done = n > 0 ? (size_t)n : 0; n >= 0 && done < len; done += n > 0 ? (size_t)n : 0) {
                n = send(sock, (const char *)buf + done, len - done, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        n = 0;
        }
        return n < 0 ? -errno : 0;
}

int sb_linux_start_send(int fd, const struct sb_job_spec *spec, char *errbuf, size_t errlen)
{
        struct sb_start_hdr *h;
        size_t slen, len;
        uint32_t argc = 0, envc = 0;
        int fds[3] = { spec->stdin_fd, spec->stdout_fd, spec->stderr_fd };
        int r;

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
        h->magic = SB_START_MAGIC;
        h->argc = argc;
        h->envc = envc;
        h->strings_len = (uint32_t)slen;
        sb_linux_strv_pack((char *)(h + 1), spec->argv, argc, spec->envp, envc);

        r = sb_linux_send_with_fds(fd, h, len, fds, 3);
        free(h);
        if (r < 0)
                return sb_backend_fail(errbuf, errlen, r, "start the prepared sandbox");
        return 0;
}
