/* exitfd.c — the one non-portable piece of the posix backend: a pollable fd
 * that becomes readable when a child exits. Linux has pidfd_open(2); other
 * systems get -ENOSYS here until they grow their own (a process handle on
 * Windows); kqueue systems build exitfd_kqueue.c instead. */
#include <errno.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include "backends/posix/posix.h"

int sb_posix_exit_fd_open(pid_t pid)
{
#if defined(__linux__) && defined(SYS_pidfd_open)
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        /* pidfds are always close-on-exec. */
        return fd < 0 ? -errno : fd;
#else
        (void)pid;
        return -ENOSYS;
#endif
}
