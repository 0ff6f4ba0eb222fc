/* cgroup_self.c — reading a cgroup file, and which cgroup the calling
 * process is in: what the linux backend's cgroup code and the daemon's
 * systemd seam (service_systemd.c, its delegated scope) both need. Built on
 * every Linux host, with or without the linux backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backends/linux/cgroup/cgroup.h"

ssize_t sb_cg_read(int dfd, const char *file, char *buf, size_t len)
{
        size_t got = 0;
        ssize_t n;
        int fd;

        fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        while (got + 1 < len) {
                n = read(fd, buf + got, len - 1 - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        buf[got] = '\0';
        close(fd);
        return (ssize_t)got;
}

int sb_cg_own_path(const char *ctrl, char *out, size_t len)
{
        char buf[8192];
        int dfd = AT_FDCWD;
        ssize_t n = sb_cg_read(dfd, "/proc/self/cgroup", buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        /* Lines "ID:CONTROLLERS:PATH"; v2 is "0::PATH". */
        for (char *line = buf; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (c2) {
                        *c2 = '\0';
                        const char *ctrls = c1 + 1, *path = c2 + 1;
                        bool match = false;
                        if (!ctrl) {
                                match = *ctrls == '\0';
                        } else {
                                size_t cl = strlen(ctrl);
                                for (const char *p = ctrls; *p;) {
                                        const char *e = strchr(p, ',');
                                        size_t l = e ? (size_t)(e - p) : strlen(p);
                                        if (l == cl && !strncmp(p, ctrl, l))
                                                match = true;
                                        p = e ? e + 1 : p + l;
                                }
                        }
                        if (match) {
                                int r = snprintf(out, len, "%s", path);
                                return (r < 0 || (size_t)r >= len) ? -ENAMETOOLONG : 0;
                        }
                }
                line = next;
        }
        return -ENOENT;
}
