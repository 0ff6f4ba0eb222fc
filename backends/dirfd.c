/* dirfd.c — the one check for a directory fd a client passed in.
 *
 * The daemon runs it when the request arrives (to answer InvalidArgument
 * precisely) and the linux backend again right before it clones the tree
 * into a job (it trusts no caller): same rules in both places. POSIX, with
 * Linux's kernel file systems refused on top; it stays beside the contract
 * because the daemon calls it for every backend.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/stat.h>
#ifdef __linux__
#include <linux/magic.h>
#include <sys/statfs.h>
#endif

#include "backends/backend.h"

static int check_fd(sb_handle fd, bool file_ok)
{
        struct stat st;
        int fl;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) && !(file_ok && S_ISREG(st.st_mode)))
                return -ENOTDIR;
#ifdef __linux__
        struct statfs sfs;

        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        /* Kernel interfaces, never job input: a writable bind of one would
         * hand the job the host's knobs. */
        switch ((unsigned long)sfs.f_type) {
        case PROC_SUPER_MAGIC:
        case SYSFS_MAGIC:
        case CGROUP_SUPER_MAGIC:
        case CGROUP2_SUPER_MAGIC:
        case DEBUGFS_MAGIC:
        case TRACEFS_MAGIC:
        case SECURITYFS_MAGIC:
        case BPF_FS_MAGIC:
                return -EPERM;
        default:
                break;
        }
#endif
        fl = fcntl(fd, F_GETFL);
        if (fl < 0)
                return -errno;
        if (!(fl & O_PATH) && (fl & O_ACCMODE) == O_WRONLY)
                return -EBADF;
        return 0;
}

int sb_backend_check_dir_fd(sb_handle fd)
{
        return check_fd(fd, false);
}

/* A mount's source may also be one regular file (bound onto a file). */
int sb_backend_check_mount_fd(sb_handle fd)
{
        return check_fd(fd, true);
}
