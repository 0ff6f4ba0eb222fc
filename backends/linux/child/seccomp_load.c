/* seccomp_load.c — in the child: load the job's filter (compiled by the
 * daemon, seccomp.c, and carried in the spawn plan) with the raw seccomp()
 * syscall, and hand its notification listener to the daemon when the
 * refusals are reported (SB_PLAN_SECCOMP_NOTIFY). Allocation-free;
 * no_new_privs must be set.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/linux/seccomp_groups.h"

static int load(const struct sock_filter *allow, unsigned allow_len,
                const struct sock_filter *deny, unsigned deny_len, unsigned allow_flags,
                long *ret, const char **step)
{
        struct sock_fprog a = { (unsigned short)allow_len, (struct sock_filter *)allow };
        struct sock_fprog d = { (unsigned short)deny_len, (struct sock_filter *)deny };

        /* Deny program first: once the allowlist is in, seccomp() itself
         * still passes (@sandbox), but no need to depend on that. Usually
         * it is chained into the allow program already (chain()). */
        if (deny_len && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &d) < 0) {
                *step = "seccomp_load deny";
                return -errno;
        }
        *ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, allow_flags, &a);
        if (*ret < 0) {
                *step = "seccomp_load";
                return -errno;
        }
        return 0;
}

int sb_linux_seccomp_load(const struct sock_filter *allow, unsigned allow_len,
                          const struct sock_filter *deny, unsigned deny_len, const char **step)
{
        long ret = -1;

        return load(allow, allow_len, deny, deny_len, 0U, &ret, step);
}

int sb_linux_seccomp_load_listen(const struct sock_filter *allow, unsigned allow_len,
                                 const struct sock_filter *deny, unsigned deny_len,
                                 int *listener, const char **step)
{
        long ret = -1;
        int r = load(allow, allow_len, deny, deny_len, SECCOMP_FILTER_FLAG_NEW_LISTENER, &ret,
                     step);

        if (r < 0)
                return r;
        *listener = (int)ret;
        return 0;
}

int sb_linux_seccomp_send_listener(int sock, int listener, const char **step)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        char tag = 'L';
        struct iovec iov = { &tag, 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = sizeof(cm.buf) };
        ssize_t n;

        memset(&cm, 0, sizeof(cm));
        cm.h.cmsg_level = SOL_SOCKET;
        cm.h.cmsg_type = SCM_RIGHTS;
        cm.h.cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(&cm.h), &listener, sizeof(int));
        /* sendmsg is in @network-io: the filter just loaded lets it pass. A
         * daemon gone is EPIPE here, without SIGPIPE. */
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n != 1) {
                *step = "send the seccomp listener";
                return n < 0 ? -errno : -EIO;
        }
        return 0;
}
