/* statedir.c — create and check the daemon's directories (the table of
 * modes is in statedir.h).
 *
 * Creation never changes an existing directory: a mode an administrator
 * chose stays. The private directories are checked on the open fd
 * (O_NOFOLLOW | O_DIRECTORY, then fstat), so what is checked is what is
 * used, not a path that could be swapped between the check and the use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/statedir.h"

int sbd_mkdir_parents(const char *path, mode_t mode)
{
        char buf[PATH_MAX], *p;

        if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
                return log_errno(-ENAMETOOLONG, "mkdir %s", path);
        for (p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return log_errno(-errno, "mkdir %s", buf);
                *p = '/';
        }
        return 0;
}

int sbd_private_dir_open(int dfd, const char *name, mode_t mode, const char *what)
{
        struct stat st;
        int fd, r;

        if (mkdirat(dfd, name, mode) < 0 && errno != EEXIST)
                return log_errno(-errno, "%s: mkdir %s", what, name);
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return log_errno(-errno, "%s: open %s", what, name);
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return log_errno(r, "%s: stat %s", what, name);
        }
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
                close(fd);
                log_error("%s: %s: not owned by uid %u or writable by others (mode %04o); "
                          "refusing to trust it", what, name, (unsigned)geteuid(),
                          (unsigned)(st.st_mode & 07777));
                return -EPERM;
        }
        return fd;
}

int sbd_statedir_prepare(const char *dir)
{
        char what[PATH_MAX + 16];
        int fd, jfd, r;

        r = sbd_mkdir_parents(dir, SBD_DIR_MODE_PARENT);
        if (r < 0)
                return r;
        fd = sbd_private_dir_open(AT_FDCWD, dir, SBD_DIR_MODE_STATE, "state dir");
        if (fd < 0)
                return fd;
        snprintf(what, sizeof(what), "state dir %s", dir);
        jfd = sbd_private_dir_open(fd, "jobs", SBD_DIR_MODE_JOBS, what);
        close(fd);
        if (jfd < 0)
                return jfd;
        close(jfd);
        return 0;
}
