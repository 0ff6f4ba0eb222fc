/* compat.h — the Linux interfaces skillbox's POSIX code uses, on macOS.
 * Force-included (-include) into every file of a macOS build (meson.build),
 * so no function carries an #ifdef: what Linux does in one call is done
 * here in two, as gnulib's replacements do.
 *
 * The non-atomic ones (a flag set by fcntl() right after the call) leave a
 * window in which a fork() on another thread would inherit the new fd.
 * skillboxd forks only on its loop thread, the thread that makes these
 * calls, and libuv's threadpool never forks, so the window is not reached.
 *
 * Peer identity: SO_PEERCRED and SO_PEERGROUPS are answered from macOS's
 * LOCAL_PEERCRED (a struct xucred: uid and groups, as the kernel recorded
 * them at connect()) and LOCAL_PEERPID.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/ucred.h>
#include <sys/un.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Flags macOS lacks, in bits its own calls leave unused; the wrappers
 * below strip them before the system sees them. */
#define O_PATH 0                    /* open() for a directory: O_RDONLY */
#define SOCK_CLOEXEC 0x10000000
#define SOCK_NONBLOCK 0x20000000
#define MSG_CMSG_CLOEXEC 0x40000000
#define ST_NOEXEC 0                 /* statvfs() does not say: never reported */

static inline int sb_compat_fd_flags(int fd, int cloexec, int nonblock)
{
        if (cloexec && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -1;
        if (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return -1;
        return 0;
}

static inline int sb_compat_socket(int domain, int type, int protocol)
{
        int fd = socket(domain, type & ~(SOCK_CLOEXEC | SOCK_NONBLOCK), protocol);

        if (fd >= 0 && sb_compat_fd_flags(fd, type & SOCK_CLOEXEC, type & SOCK_NONBLOCK) < 0) {
                int e = errno;

                close(fd);
                errno = e;
                return -1;
        }
        return fd;
}
#define socket(d, t, p) sb_compat_socket((d), (t), (p))

static inline int sb_compat_socketpair(int domain, int type, int protocol, int sv[2])
{
        int c = type & SOCK_CLOEXEC, nb = type & SOCK_NONBLOCK;

        if (socketpair(domain, type & ~(SOCK_CLOEXEC | SOCK_NONBLOCK), protocol, sv) < 0)
                return -1;
        if (sb_compat_fd_flags(sv[0], c, nb) < 0 || sb_compat_fd_flags(sv[1], c, nb) < 0) {
                int e = errno;

                close(sv[0]);
                close(sv[1]);
                errno = e;
                return -1;
        }
        return 0;
}
#define socketpair(d, t, p, sv) sb_compat_socketpair((d), (t), (p), (sv))

static inline int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
        int c = accept(fd, addr, len);

        if (c >= 0 && sb_compat_fd_flags(c, flags & SOCK_CLOEXEC, flags & SOCK_NONBLOCK) < 0) {
                int e = errno;

                close(c);
                errno = e;
                return -1;
        }
        return c;
}

static inline int pipe2(int fds[2], int flags)
{
        if (pipe(fds) < 0)
                return -1;
        if (sb_compat_fd_flags(fds[0], flags & O_CLOEXEC, flags & O_NONBLOCK) < 0 ||
            sb_compat_fd_flags(fds[1], flags & O_CLOEXEC, flags & O_NONBLOCK) < 0) {
                int e = errno;

                close(fds[0]);
                close(fds[1]);
                errno = e;
                return -1;
        }
        return 0;
}

/* Every fd that came with a message becomes close-on-exec. */
static inline ssize_t sb_compat_recvmsg(int fd, struct msghdr *mh, int flags)
{
        ssize_t n = recvmsg(fd, mh, flags & ~MSG_CMSG_CLOEXEC);

        if (n < 0 || !(flags & MSG_CMSG_CLOEXEC))
                return n;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *fds = (int *)(void *)CMSG_DATA(c);

                for (size_t i = 0; i < k; i++)
                        (void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        }
        return n;
}
#define recvmsg(fd, mh, fl) sb_compat_recvmsg((fd), (mh), (fl))

/* getrandom(2) from getentropy(2), 256 bytes at a time. */
static inline ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
        size_t done = 0;

        (void)flags;
        while (done < len) {
                size_t n = len - done > 256 ? 256 : len - done;

                if (getentropy((char *)buf + done, n) < 0)
                        return done ? (ssize_t)done : -1;
                done += n;
        }
        return (ssize_t)len;
}

/* The peer of a Unix socket, as Linux's SO_PEERCRED gives it. */
struct ucred {
        pid_t pid;
        uid_t uid;
        gid_t gid;
};
#define SO_PEERCRED 0x7f01
#define SO_PEERGROUPS 0x7f02

static inline int sb_compat_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
        struct xucred xu;
        socklen_t xl = sizeof(xu);

        if (level != SOL_SOCKET || (name != SO_PEERCRED && name != SO_PEERGROUPS))
                return getsockopt(fd, level, name, val, len);
        if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERCRED, &xu, &xl) < 0)
                return -1;
        if (xu.cr_version != XUCRED_VERSION || xu.cr_ngroups < 1) {
                errno = EPROTO;
                return -1;
        }
        if (name == SO_PEERCRED) {
                struct ucred *u = val;
                socklen_t pl = sizeof(pid_t);

                if (*len < sizeof(*u)) {
                        errno = EINVAL;
                        return -1;
                }
                u->uid = xu.cr_uid;
                u->gid = (gid_t)xu.cr_groups[0];   /* the effective group */
                if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &u->pid, &pl) < 0)
                        u->pid = 0;
                *len = sizeof(*u);
                return 0;
        }
        /* The supplementary groups after the effective one; capped at
         * NGROUPS (16) by the kernel, which can only deny, never grant. */
        {
                size_t n = (size_t)xu.cr_ngroups - 1;

                if (*len < n * sizeof(gid_t)) {
                        errno = ERANGE;
                        return -1;
                }
                memcpy(val, &xu.cr_groups[1], n * sizeof(gid_t));
                *len = (socklen_t)(n * sizeof(gid_t));
                return 0;
        }
}
#define getsockopt(fd, l, n, v, len) sb_compat_getsockopt((fd), (l), (n), (v), (len))

/* glibc's name of an errno value; NULL for one it does not know. */
static inline const char *strerrorname_np(int e)
{
#define SB_COMPAT_NAME(x) case x: return #x
        switch (e) {
        SB_COMPAT_NAME(EPERM); SB_COMPAT_NAME(ENOENT); SB_COMPAT_NAME(ESRCH);
        SB_COMPAT_NAME(EINTR); SB_COMPAT_NAME(EIO); SB_COMPAT_NAME(ENXIO);
        SB_COMPAT_NAME(E2BIG); SB_COMPAT_NAME(ENOEXEC); SB_COMPAT_NAME(EBADF);
        SB_COMPAT_NAME(ECHILD); SB_COMPAT_NAME(EAGAIN); SB_COMPAT_NAME(ENOMEM);
        SB_COMPAT_NAME(EACCES); SB_COMPAT_NAME(EFAULT); SB_COMPAT_NAME(EBUSY);
        SB_COMPAT_NAME(EEXIST); SB_COMPAT_NAME(EXDEV); SB_COMPAT_NAME(ENODEV);
        SB_COMPAT_NAME(ENOTDIR); SB_COMPAT_NAME(EISDIR); SB_COMPAT_NAME(EINVAL);
        SB_COMPAT_NAME(ENFILE); SB_COMPAT_NAME(EMFILE); SB_COMPAT_NAME(ENOTTY);
        SB_COMPAT_NAME(ETXTBSY); SB_COMPAT_NAME(EFBIG); SB_COMPAT_NAME(ENOSPC);
        SB_COMPAT_NAME(ESPIPE); SB_COMPAT_NAME(EROFS); SB_COMPAT_NAME(EMLINK);
        SB_COMPAT_NAME(EPIPE); SB_COMPAT_NAME(ERANGE); SB_COMPAT_NAME(EDEADLK);
        SB_COMPAT_NAME(ENAMETOOLONG); SB_COMPAT_NAME(ENOLCK); SB_COMPAT_NAME(ENOSYS);
        SB_COMPAT_NAME(ENOTEMPTY); SB_COMPAT_NAME(ELOOP); SB_COMPAT_NAME(EPROTO);
        SB_COMPAT_NAME(EOVERFLOW); SB_COMPAT_NAME(ENOTSOCK); SB_COMPAT_NAME(EOPNOTSUPP);
        SB_COMPAT_NAME(ENOTSUP); SB_COMPAT_NAME(EAFNOSUPPORT); SB_COMPAT_NAME(EADDRINUSE);
        SB_COMPAT_NAME(ECONNRESET); SB_COMPAT_NAME(ENOTCONN); SB_COMPAT_NAME(ETIMEDOUT);
        SB_COMPAT_NAME(ECONNREFUSED); SB_COMPAT_NAME(EALREADY); SB_COMPAT_NAME(EINPROGRESS);
        SB_COMPAT_NAME(ENOPROTOOPT); SB_COMPAT_NAME(EDQUOT);
        default:
                return NULL;
        }
#undef SB_COMPAT_NAME
}

/* macOS declares the groups as int. */
#include <unistd.h>
#define getgrouplist(name, base, groups, n) \
        getgrouplist((name), (int)(base), (int *)(void *)(groups), (n))
