/* sb-win-statedir — the daemon's state dir on Windows
 * (daemon/statedir_windows.c) under Wine. Built, not installed.
 *
 *   sb-win-statedir DIR     (DIR must not exist)
 *
 * Prints "fresh: 0" (made with the private descriptor, and trusted),
 * "again: 0" (an existing one of ours is trusted again), "everyone: -N"
 * (a directory everyone may write to is refused: -EPERM) and "user-owned:
 * -N" (one owned by a user is refused), each with the errno value, and
 * "world: -N" for DIR\world when the caller made one that all may write.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <windows.h>
#include <sddl.h>

#include "daemon/log.h"
#include "daemon/statedir.h"

/* Make path with the descriptor sddl; false when Wine or Windows refused. */
static bool make_dir(const char *path, const char *sddl)
{
        SECURITY_ATTRIBUTES sa = { .nLength = sizeof(sa) };
        bool ok;

        if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1,
                                                                  &sa.lpSecurityDescriptor, NULL))
                return false;
        ok = CreateDirectoryA(path, &sa);
        LocalFree(sa.lpSecurityDescriptor);
        return ok;
}

int main(int argc, char **argv)
{
        char path[MAX_PATH];

        if (argc != 2) {
                fprintf(stderr, "usage: sb-win-statedir DIR\n");
                return 2;
        }
        sbd_log_init();
        snprintf(path, sizeof(path), "%s\\state", argv[1]);
        printf("fresh: %d\n", sbd_statedir_prepare(path));
        printf("again: %d\n", sbd_statedir_prepare(path));
        snprintf(path, sizeof(path), "%s\\everyone", argv[1]);
        if (make_dir(path, "O:BAG:SYD:P(A;OICI;FA;;;WD)"))
                printf("everyone: %d\n", sbd_statedir_prepare(path));
        else
                printf("everyone: not made (%lu)\n", (unsigned long)GetLastError());
        snprintf(path, sizeof(path), "%s\\user-owned", argv[1]);
        if (make_dir(path, "O:S-1-5-21-1-2-3-1001G:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"))
                printf("user-owned: %d\n", sbd_statedir_prepare(path));
        else
                printf("user-owned: not made (%lu)\n", (unsigned long)GetLastError());
        /* Made by the caller, on the host, writable by all: Wine shows the
         * mode bits as entries (S_IRWXO as Everyone), which it keeps. */
        snprintf(path, sizeof(path), "%s\\world", argv[1]);
        if (GetFileAttributesA(path) != INVALID_FILE_ATTRIBUTES)
                printf("world: %d\n", sbd_statedir_prepare(path));
        printf("EPERM=%d\n", EPERM);
        return 0;
}
