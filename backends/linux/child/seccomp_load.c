/* seccomp_load.c — in the child: load the job's filter (compiled by the
 * daemon, seccomp.c, and carried in the spawn plan) with the raw seccomp()
 * syscall. Allocation-free; no_new_privs must be set.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/linux/seccomp_groups.h"

int sb_linux_seccomp_load(const struct sock_filter *allow, unsigned allow_len,
                          const struct sock_filter *deny, unsigned deny_len, const char **step)
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
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &a) < 0) {
                *step = "seccomp_load";
                return -errno;
        }
        return 0;
}
