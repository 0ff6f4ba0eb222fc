/* syscalls.c — the macOS calls skillbox's backend and launchd seam make,
 * in one program that scripts/build-macos.sh links for x86_64 and arm64:
 * proof that zig's macOS libSystem stubs resolve them all (Seatbelt's
 * are declared by backends/macos/macos.h, as the SDK has no header). Run
 * on a Mac as root, it applies a profile, spawns /usr/bin/true, waits for
 * its exit by kqueue, and says what launchd passed. */
#include <errno.h>
#include <launch.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/event.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/macos/macos.h"

extern char **environ;

int main(void)
{
        const char *params[] = { "SYSTEM_0", "/usr", NULL };
        char *argv[] = { "/usr/bin/true", NULL };
        char *sberr = NULL;
        int *fds = NULL, kq, r, status;
        size_t nfds = 0;
        struct kevent ev;
        pid_t pid;

        r = launch_activate_socket("Listeners", &fds, &nfds);
        printf("launch_activate_socket: %s, %zu fds\n", r ? strerror(r) : "ok", nfds);
        free(fds);
        if (sandbox_init_with_parameters("(version 1)\n(allow default)\n"
                                         "(allow file-read* (subpath (param \"SYSTEM_0\")))\n",
                                         0, params, &sberr) != 0) {
                fprintf(stderr, "sandbox_init_with_parameters: %s\n", sberr ? sberr : "?");
                sandbox_free_error(sberr);
                return 1;
        }
        r = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
        if (r != 0) {
                fprintf(stderr, "posix_spawn: %s\n", strerror(r));
                return 1;
        }
        kq = kqueue();
        if (kq < 0)
                return 1;
        EV_SET(&ev, (uintptr_t)pid, EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0, NULL);
        if (kevent(kq, &ev, 1, &ev, 1, NULL) < 0 && errno != ESRCH)
                return 1;
        if (waitpid(pid, &status, 0) != pid)
                return 1;
        printf("exit %d\n", WEXITSTATUS(status));
        return 0;
}
