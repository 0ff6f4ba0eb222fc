/* exitfd_kqueue.c — the posix backend's exit fd where there is kqueue
 * (macOS, FreeBSD, OpenBSD): a kqueue holding the child's EVFILT_PROC
 * NOTE_EXIT, readable once it exited (a kqueue is pollable). A child that
 * is already a zombie gets a pipe that is readable at once instead. */
#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include "backends/posix/posix.h"

static int ready_pipe(void)
{
        int p[2];

        if (pipe(p) < 0)
                return -errno;
        if (fcntl(p[0], F_SETFD, FD_CLOEXEC) < 0 || write(p[1], "x", 1) != 1) {
                int r = -errno;

                close(p[0]);
                close(p[1]);
                return r;
        }
        close(p[1]);
        return p[0];
}

int sb_posix_exit_fd_open(pid_t pid)
{
        struct kevent ev;
        int kq, r;

        kq = kqueue();
        if (kq < 0)
                return -errno;
        if (fcntl(kq, F_SETFD, FD_CLOEXEC) < 0)
                goto fail;
        EV_SET(&ev, (uintptr_t)pid, EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0, NULL);
        if (kevent(kq, &ev, 1, NULL, 0, NULL) < 0) {
                if (errno != ESRCH)
                        goto fail;
                close(kq);
                return ready_pipe();
        }
        return kq;
fail:
        r = -errno;
        close(kq);
        return r;
}
