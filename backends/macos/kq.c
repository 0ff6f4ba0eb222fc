/* kq.c — the macOS backend's exit handle: a kqueue with the job's main
 * process (EVFILT_PROC NOTE_EXIT) and the memory sampling timer. The
 * daemon polls the kqueue's fd like any other exit handle (a kqueue is
 * itself pollable); reap() drains it. */
#include <errno.h>
#include <stdbool.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>
#include <fcntl.h>

#include "backends/macos/macos.h"

#define EXIT_IDENT 1   /* EVFILT_USER ident: "already exited" */
#define TIMER_IDENT 2

int sb_macos_exit_kqueue(pid_t pid, uint32_t interval_ms)
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
                /* Exited before we looked: wake the daemon at once. */
                EV_SET(&ev, EXIT_IDENT, EVFILT_USER, EV_ADD | EV_ONESHOT, NOTE_TRIGGER, 0, NULL);
                if (kevent(kq, &ev, 1, NULL, 0, NULL) < 0)
                        goto fail;
        }
        if (interval_ms > 0) {
                EV_SET(&ev, TIMER_IDENT, EVFILT_TIMER, EV_ADD, 0, (intptr_t)interval_ms, NULL);
                if (kevent(kq, &ev, 1, NULL, 0, NULL) < 0)
                        goto fail;
        }
        return kq;
fail:
        r = -errno;
        close(kq);
        return r;
}

int sb_macos_exit_kqueue_drain(int kq)
{
        const struct timespec zero = { 0, 0 };
        struct kevent evs[8];
        bool exited = false;
        int n;

        do {
                n = kevent(kq, NULL, 0, evs, 8, &zero);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < n; i++)
                        if (evs[i].filter == EVFILT_PROC || evs[i].filter == EVFILT_USER)
                                exited = true;
        } while (n == 8);
        return exited;
}
