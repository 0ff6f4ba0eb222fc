/* caps.c — dropping every capability in the pre-exec child.
 *
 * Raw syscalls only (no libcap: it allocates). Order matters:
 *   1. bounding set: PR_CAPBSET_DROP needs CAP_SETPCAP, so before setresuid;
 *   2. ambient set cleared (also before, harmless either way);
 *   3. setresuid to the job uid clears permitted/effective (no KEEP_CAPS);
 *   4. capset() to all-zero afterwards clears the inheritable set too.
 * After exec nothing can come back: no bounding caps, no ambient, and
 * no_new_privs stops setuid/file-capability binaries.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/linux/linux.h"

int sb_linux_caps_drop_bounding(int cap_last, const char **step)
{
        for (int cap = 0; cap <= cap_last; cap++) {
                /* EINVAL: a cap this kernel does not know (cap_last read at
                 * open() is authoritative, so only if it changed). */
                if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0UL, 0UL, 0UL) < 0 && errno != EINVAL) {
                        *step = "prctl PR_CAPBSET_DROP";
                        return -errno;
                }
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0 && errno != EINVAL) {
                *step = "prctl PR_CAP_AMBIENT_CLEAR_ALL";
                return -errno;
        }
        return 0;
}

int sb_linux_caps_clear(const char **step)
{
        struct __user_cap_header_struct hdr;
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

        memset(&hdr, 0, sizeof(hdr));
        memset(data, 0, sizeof(data));
        hdr.version = _LINUX_CAPABILITY_VERSION_3;
        hdr.pid = 0;
        if (syscall(SYS_capset, &hdr, data) < 0) {
                *step = "capset";
                return -errno;
        }
        return 0;
}

int sb_linux_no_new_privs(const char **step)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0) {
                *step = "prctl PR_SET_NO_NEW_PRIVS";
                return -errno;
        }
        return 0;
}
