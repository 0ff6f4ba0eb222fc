/* caps.c — dropping every capability in the pre-exec child.
 *
 * Raw syscalls only (no libcap: it allocates). Order matters:
 *   1. bounding set: PR_CAPBSET_DROP needs CAP_SETPCAP, so before setresuid
 *      (the spawner drops its own once at start, which every clone of it
 *      inherits, so its children skip this: 41 prctl calls fewer per job);
 *   2. ambient set cleared (also before, harmless either way);
 *   3. securebits set and locked (needs CAP_SETPCAP, so before the uid
 *      change): no root magic at exec (NOROOT), no capability juggling
 *      on uid changes (NO_SETUID_FIXUP), KEEP_CAPS locked off, no ambient
 *      raise ever; inherited by every task and kept across exec;
 *   4. setresuid to the job uid (with NO_SETUID_FIXUP it keeps the sets);
 *   5. capset() to all-zero clears effective, permitted and inheritable;
 *      sb_linux_caps_verify() then reads all five sets back, from the
 *      kernel's own account in /proc/self/status (one read, not a prctl
 *      per capability and set).
 * After exec nothing can come back: no bounding caps, no ambient, and
 * no_new_privs stops setuid/file-capability binaries.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
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

/* Set and lock. SECBIT_KEEP_CAPS itself stays off (locked off). */
#define JOB_SECUREBITS (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | \
                        SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | \
                        SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

int sb_linux_securebits_lock(const char **step)
{
        int got;

        if (prctl(PR_SET_SECUREBITS, (unsigned long)JOB_SECUREBITS, 0UL, 0UL, 0UL) < 0) {
                *step = "prctl PR_SET_SECUREBITS";
                return -errno;
        }
        got = prctl(PR_GET_SECUREBITS, 0UL, 0UL, 0UL, 0UL);
        if (got < 0) {
                *step = "prctl PR_GET_SECUREBITS";
                return -errno;
        }
        if (got != JOB_SECUREBITS) {
                *step = "securebits not as set";
                return -EPERM;
        }
        return 0;
}

/* After capset: all five sets must read back empty. /proc is the job's
 * own by now (mounts.c); its status file lists each set as 16 hex digits. */
int sb_linux_caps_verify(const char **step)
{
        static const char *const sets[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };
        char buf[4096];
        ssize_t n;
        int fd, found = 0;

        fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                *step = "open /proc/self/status";
                return -errno;
        }
        do
                n = read(fd, buf, sizeof(buf) - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                int r = -errno;
                close(fd);
                *step = "read /proc/self/status";
                return r;
        }
        close(fd);
        buf[n] = '\0';
        for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
                        size_t len = strlen(sets[i]);
                        if (strncmp(line, sets[i], len) != 0)
                                continue;
                        const char *v = line + len;
                        while (*v == '\t' || *v == ' ')
                                v++;
                        size_t digits = strspn(v, "0");
                        if (digits == 0 || (v[digits] != '\n' && v[digits] != '\0')) {
                                *step = "capabilities left after capset";
                                return -EPERM;
                        }
                        found |= 1 << i;
                }
        }
        if (found != (1 << (sizeof(sets) / sizeof(sets[0]))) - 1) {
                *step = "capability sets missing from /proc/self/status";
                return -EPROTO;
        }
        return 0;
}
