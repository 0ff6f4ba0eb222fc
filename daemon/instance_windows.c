/* instance_windows.c — one daemon per state dir on Windows (instance.h).
 *
 * Windows has no cgroups or uid ranges a second daemon could take over:
 * each job is a job object that dies with the daemon that holds it
 * (kill-on-close). What two daemons could still share is the state dir,
 * whose job directories each would clean up as leftovers. So the claim is
 * a file in the state dir (private: statedir_windows.c checked it first),
 * opened with no sharing for as long as the daemon lives: a second open
 * fails with a sharing violation, and the system closes it, and deletes it
 * (FILE_FLAG_DELETE_ON_CLOSE), when the daemon exits however it exits. The
 * registry directory, cgroup name and uid range are not used.
 */
#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <windows.h>

#include "daemon/instance.h"
#include "daemon/log.h"

#define LOCK_NAME "instance.lock"

int sbd_instance_claim(struct sbd_instance *in, const char *registry_dir, const char *cgroup_name,
                       uint32_t uid_first, uint32_t uid_last, const char *state_dir)
{
        char path[MAX_PATH], pid[32];
        wchar_t w[MAX_PATH];
        DWORD e, n;
        HANDLE h;
        int fd, len;

        *in = SBD_INSTANCE_NONE;
        if (snprintf(path, sizeof(path), "%s\\%s", state_dir, LOCK_NAME) >= (int)sizeof(path))
                return log_errno(-ENAMETOOLONG, "instance: state dir %s", state_dir);
        if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, MAX_PATH))
                return log_errno(-EINVAL, "instance: %s: not UTF-8", path);
        h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_ALWAYS,
                        FILE_ATTRIBUTE_NORMAL | FILE_FLAG_DELETE_ON_CLOSE, NULL);
        if (h == INVALID_HANDLE_VALUE) {
                e = GetLastError();
                if (e == ERROR_SHARING_VIOLATION) {
                        log_error("instance: another skillboxd uses the state dir %s (%s is "
                                  "open)", state_dir, path);
                        return -EBUSY;
                }
                return log_errno(e == ERROR_ACCESS_DENIED ? -EACCES : -EIO,
                                 "instance: open %s: Win32 error %lu", path, (unsigned long)e);
        }
        /* For whoever looks: which process holds it. */
        len = snprintf(pid, sizeof(pid), "%lu\n", (unsigned long)GetCurrentProcessId());
        if (!SetEndOfFile(h) || !WriteFile(h, pid, (DWORD)len, &n, NULL))
                log_warning("instance: %s: writing the pid: Win32 error %lu", path,
                            (unsigned long)GetLastError());
        fd = _open_osfhandle((intptr_t)h, 0);
        if (fd < 0) {
                CloseHandle(h);
                return log_errno(-EMFILE, "instance: %s", path);
        }
        in->fd = fd;
        snprintf(in->name, sizeof(in->name), "%s", LOCK_NAME);
        return 0;
}

void sbd_instance_release(struct sbd_instance *in)
{
        if (in->fd >= 0)
                _close(in->fd);
        *in = SBD_INSTANCE_NONE;
}
