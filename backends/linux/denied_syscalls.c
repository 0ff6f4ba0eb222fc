/* denied_syscalls.c — the system calls a job's filter refused, by name.
 *
 * With spec->denied_report the job's filter answers a refusal with
 * SECCOMP_RET_USER_NOTIF instead of EPERM (seccomp.c), and the child sends
 * the filter's listener up its sync socket once it loaded it
 * (child/seccomp_load.c). Here, in the daemon: an epoll set per job holds
 * that socket until the listener came, then the listener; the daemon polls
 * the set (denied_handle) and calls denied_read, which takes each
 * notification, answers it EPERM (what the kernel answered before, so a job
 * sees the same errno) and names it: "mount", "socket(AF_NETLINK)".
 *
 * Invariants:
 *   - the listener is only ever in this process (the child closed its copy
 *     right after sending it): when it closes, by destroy() or on an error
 *     here, the kernel answers every refusal ENOSYS from then on, so a job
 *     never waits on a daemon that is gone or has stopped reading;
 *   - a job refused nothing costs one message and one epoll set, no
 *     wake-up of the daemon after the listener came;
 *   - what a job sends is read as hostile: only the one byte and one fd of
 *     our child are accepted, and the fd must answer as a seccomp listener.
 */
#include <errno.h>
#include <stdbool.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

enum { EP_SOCK = 1, EP_LISTENER = 2 };

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

void sb_linux_denied_close(struct sb_backend_job *j)
{
        close_fd(&j->listener_sock);
        close_fd(&j->listener);
        close_fd(&j->denied_ep);
}

sb_handle sb_linux_denied_handle(struct sb_backend_job *j)
{
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EP_SOCK };

        if (j->denied_ep >= 0)
                return j->denied_ep;
        if (j->listener_sock < 0)
                return SB_HANDLE_NONE;
        j->denied_ep = epoll_create1(EPOLL_CLOEXEC);
        if (j->denied_ep < 0)
                return -errno;
        if (epoll_ctl(j->denied_ep, EPOLL_CTL_ADD, j->listener_sock, &ev) < 0) {
                int r = -errno;
                close_fd(&j->denied_ep);
                return r;
        }
        return j->denied_ep;
}

static bool is_listener(int fd)
{
        static const char want[] = "anon_inode:seccomp notify";
        char path[64], link[sizeof(want) + 1];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, link, sizeof(link));
        return n == (ssize_t)sizeof(want) - 1 && memcmp(link, want, sizeof(want) - 1) == 0;
}

/* The listener from the sync socket; the socket goes either way. */
static int take_listener(struct sb_backend_job *j)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * 2)];
        } cm;
        char tag;
        struct iovec iov = { &tag, 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = sizeof(cm.buf) };
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EP_LISTENER };
        struct cmsghdr *c;
        int fds[2] = { -1, -1 }, nfds = 0;
        ssize_t n;
        int r;

        do
                n = recvmsg(j->listener_sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
        for (c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < k && nfds < 2; i++)
                                memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                }
        /* The socket has done its work (or the child ended without a
         * listener: its setup failed, or a prepared one never started). */
        (void)epoll_ctl(j->denied_ep, EPOLL_CTL_DEL, j->listener_sock, NULL);
        close_fd(&j->listener_sock);
        if (n <= 0)
                return n < 0 ? -errno : -ENODATA;
        r = -EPROTO;
        /* Exactly one fd, and a seccomp listener (what the kernel calls
         * one, whatever its version numbers the ioctls). */
        if (tag == 'L' && nfds == 1 && !(mh.msg_flags & MSG_CTRUNC) && is_listener(fds[0])) {
                j->listener = fds[0];
                fds[0] = -1;
                r = epoll_ctl(j->denied_ep, EPOLL_CTL_ADD, j->listener, &ev) < 0 ? -errno : 0;
        }
        for (int i = 0; i < nfds; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return r;
}

static const char *family_name(uint32_t af)
{
        static const struct { uint32_t af; const char *name; } t[] = {
                { AF_UNIX, "AF_UNIX" }, { AF_INET, "AF_INET" }, { AF_INET6, "AF_INET6" },
                { AF_NETLINK, "AF_NETLINK" }, { AF_PACKET, "AF_PACKET" },
                { AF_VSOCK, "AF_VSOCK" }, { AF_BLUETOOTH, "AF_BLUETOOTH" },
                { AF_ALG, "AF_ALG" }, { AF_KEY, "AF_KEY" }, { AF_XDP, "AF_XDP" },
                { AF_CAN, "AF_CAN" }, { AF_TIPC, "AF_TIPC" }, { AF_RDS, "AF_RDS" },
                { AF_APPLETALK, "AF_APPLETALK" }, { AF_X25, "AF_X25" }, { AF_AX25, "AF_AX25" },
                { AF_IPX, "AF_IPX" }, { AF_LLC, "AF_LLC" }, { AF_QIPCRTR, "AF_QIPCRTR" },
                { AF_SMC, "AF_SMC" }, { AF_MCTP, "AF_MCTP" },
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                if (t[i].af == af)
                        return t[i].name;
        return NULL;
}

static const char *sock_type_name(uint32_t type)
{
        switch (type & 0xf) {
        case SOCK_STREAM: return "SOCK_STREAM";
        case SOCK_DGRAM: return "SOCK_DGRAM";
        case SOCK_RAW: return "SOCK_RAW";
        case SOCK_RDM: return "SOCK_RDM";
        case SOCK_SEQPACKET: return "SOCK_SEQPACKET";
        case SOCK_DCCP: return "SOCK_DCCP";
        case SOCK_PACKET: return "SOCK_PACKET";
        default: return NULL;
        }
}

/* The argument that decided, where one did: socket's family (and the type,
 * for the families whose stream and datagram sockets pass), clone's
 * namespace flags, ioctl's command, personality's persona. */
static void name_args(const char *name, const struct seccomp_data *d, char *out, size_t len)
{
        uint32_t a0 = (uint32_t)d->args[0], a1 = (uint32_t)d->args[1];

        if (strcmp(name, "socket") == 0 || strcmp(name, "socketpair") == 0) {
                const char *af = family_name(a0), *type = sock_type_name(a1);
                char num[24];

                if (!af) {
                        snprintf(num, sizeof(num), "family %u", a0);
                        af = num;
                }
                if ((a0 == AF_INET || a0 == AF_INET6 || a0 == AF_UNIX) && type)
                        snprintf(out, len, "%s(%s,%s)", name, af, type);
                else
                        snprintf(out, len, "%s(%s)", name, af);
        } else if (strcmp(name, "clone") == 0) {
                static const struct { unsigned long flag; const char *name; } t[] = {
                        { CLONE_NEWUSER, "CLONE_NEWUSER" }, { CLONE_NEWNS, "CLONE_NEWNS" },
                        { CLONE_NEWPID, "CLONE_NEWPID" }, { CLONE_NEWNET, "CLONE_NEWNET" },
                        { CLONE_NEWIPC, "CLONE_NEWIPC" }, { CLONE_NEWUTS, "CLONE_NEWUTS" },
                        { CLONE_NEWCGROUP, "CLONE_NEWCGROUP" },
                };
                size_t n = (size_t)snprintf(out, len, "clone(");
                bool any = false;

                for (size_t i = 0; i < sizeof(t) / sizeof(t[0]) && n < len; i++)
                        if (d->args[0] & t[i].flag) {
                                n += (size_t)snprintf(out + n, len - n, "%s%s", any ? "|" : "",
                                                      t[i].name);
                                any = true;
                        }
                if (n < len)
                        snprintf(out + n, len - n, ")");
                if (!any)
                        snprintf(out, len, "clone");
        } else if (strcmp(name, "ioctl") == 0) {
                if (a1 == TIOCSTI)
                        snprintf(out, len, "ioctl(TIOCSTI)");
                else if (a1 == TIOCLINUX)
                        snprintf(out, len, "ioctl(TIOCLINUX)");
                else if (a1 == TIOCSETD)
                        snprintf(out, len, "ioctl(TIOCSETD)");
                else
                        snprintf(out, len, "ioctl(0x%x)", a1);
        } else if (strcmp(name, "personality") == 0) {
                snprintf(out, len, "personality(0x%x)", a0);
        } else {
                snprintf(out, len, "%s", name);
        }
}

static void name_call(const struct seccomp_data *d, char *out, size_t len)
{
        char *name = NULL;

        if (d->arch == (uint32_t)seccomp_arch_native())
                name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, d->nr);
        if (name)
                name_args(name, d, out, len);
        else
                snprintf(out, len, "syscall %d", d->nr);
        free(name);
}

/* One notification: answered EPERM, named into out. 1: one taken; 0: none
 * (its task died meanwhile); <0: the listener is unusable. */
static int take_one(struct sb_backend_job *j, struct sb_backend_denied *out)
{
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;

        /* The kernel refuses a request that is not all zero. */
        memset(&req, 0, sizeof(req));
        if (ioctl(j->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
                return errno == ENOENT || errno == EINTR ? 0 : -errno;
        memset(&resp, 0, sizeof(resp));
        resp.id = req.id;
        resp.error = -EPERM;
        /* ENOENT: the task was killed meanwhile; it was refused all the
         * same, so it still counts. */
        if (ioctl(j->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
                return -errno;
        snprintf(out->kind, sizeof(out->kind), "syscall");
        name_call(&req.data, out->what, sizeof(out->what));
        return 1;
}

int sb_linux_denied_read(struct sb_backend_job *j, struct sb_backend_denied *out, unsigned max)
{
        struct epoll_event ev[2];
        unsigned taken = 0;
        int n, r;

        if (j->denied_ep < 0)
                return -EBADF;
        do
                n = epoll_wait(j->denied_ep, ev, 2, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                r = -errno;
                goto fail;
        }
        for (int i = 0; i < n; i++) {
                if (ev[i].data.u32 == EP_SOCK && j->listener_sock >= 0) {
                        if ((r = take_listener(j)) < 0)
                                goto fail;
                        continue;
                }
                if (ev[i].data.u32 != EP_LISTENER || j->listener < 0)
                        continue;
                /* Every task of the filter is gone: nothing more comes. */
                if (!(ev[i].events & EPOLLIN) && (ev[i].events & (EPOLLHUP | EPOLLERR))) {
                        r = -EPIPE;
                        goto fail;
                }
                /* RECV blocks when nothing is pending: poll before each. */
                for (struct pollfd pfd = { j->listener, POLLIN, 0 }; taken < max;) {
                        r = take_one(j, out + taken);
                        if (r < 0)
                                goto fail;
                        taken += (unsigned)r;
                        pfd.revents = 0;
                        if (r == 0 || poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
                                break;
                }
        }
        return (int)taken;
fail:
        /* Closed: the kernel answers from now on (ENOSYS), nobody waits. */
        sb_linux_denied_close(j);
        return taken ? (int)taken : r;
}
