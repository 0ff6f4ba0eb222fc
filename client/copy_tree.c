/* copy_tree.c — skillboxctl's copy of a job's kept /work (work_fd) into a
 * directory of the user's.
 *
 * The source is what a sandboxed job made: read fd-relative, never
 * following a symlink (a link is copied as a link, its target text as it
 * is), regular files and directories only besides links, at most
 * COPY_DEPTH_MAX levels deep. The destination entries are created, never
 * replaced (O_EXCL): an existing name is an error, not an overwrite.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/copy_tree.h"

#define COPY_DEPTH_MAX 64

struct copy {
        char path[PATH_MAX];    /* relative to the tree, for messages */
        char *err;
        size_t errlen;
        unsigned skipped;
};

static int fail(struct copy *cp, int r, const char *what)
{
        snprintf(cp->err, cp->errlen, "%s %s: %s", what, cp->path[0] ? cp->path : ".",
                 strerror(-r));
        return r;
}

static int copy_file(struct copy *cp, int src, int dst, const char *name, mode_t mode)
{
        char buf[64 << 10];
        int in, out, r = 0;
        ssize_t n;

        in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (in < 0)
                return fail(cp, -errno, "open");
        out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
        if (out < 0) {
                r = fail(cp, -errno, "create");
                close(in);
                return r;
        }
        while ((n = read(in, buf, sizeof(buf))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = fail(cp, -errno, "read");
                        break;
                }
                for (ssize_t done = 0, w; done < n; done += w) {
                        w = write(out, buf + done, (size_t)(n - done));
                        if (w < 0) {
                                if (errno == EINTR) {
                                        w = 0;
                                        continue;
                                }
                                r = fail(cp, -errno, "write");
                                break;
                        }
                }
                if (r < 0)
                        break;
        }
        close(in);
        if (close(out) < 0 && r == 0)
                r = fail(cp, -errno, "write");
        return r;
}

static int copy_dir(struct copy *cp, int src, int dst, int depth)
{
        size_t base = strlen(cp->path);
        struct dirent *e;
        DIR *d;
        int fd, r = 0;

        if (depth > COPY_DEPTH_MAX)
                return fail(cp, -ELOOP, "more than 64 levels deep at");
        fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return fail(cp, -errno, "open");
        d = fdopendir(fd);
        if (!d) {
                r = fail(cp, -errno, "read directory");
                close(fd);
                return r;
        }
        while (r == 0 && (errno = 0, e = readdir(d))) {
                struct stat st;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                snprintf(cp->path + base, sizeof(cp->path) - base, "%s%s", base ? "/" : "",
                         e->d_name);
                if (fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = fail(cp, -errno, "stat");
                } else if (S_ISDIR(st.st_mode)) {
                        int s, t;

                        if (mkdirat(dst, e->d_name, 0700) < 0)
                                r = fail(cp, -errno, "mkdir");
                        s = r ? -1 : openat(src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        t = r ? -1 : openat(dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (!r && (s < 0 || t < 0))
                                r = fail(cp, -errno, "open");
                        if (!r)
                                r = copy_dir(cp, s, t, depth + 1);
                        /* Its own mode last, so a read-only one was writable while filled. */
                        if (!r && fchmod(t, st.st_mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID)) < 0)
                                r = fail(cp, -errno, "chmod");
                        if (s >= 0)
                                close(s);
                        if (t >= 0)
                                close(t);
                } else if (S_ISREG(st.st_mode)) {
                        r = copy_file(cp, src, dst, e->d_name, st.st_mode);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(src, e->d_name, target, sizeof(target) - 1);

                        if (n < 0)
                                r = fail(cp, -errno, "readlink");
                        else if ((target[n] = '\0', symlinkat(target, dst, e->d_name)) < 0)
                                r = fail(cp, -errno, "symlink");
                } else {
                        cp->skipped++;          /* fifos, sockets: no content to copy */
                }
                cp->path[base] = '\0';
        }
        if (r == 0 && errno)
                r = fail(cp, -errno, "read directory");
        closedir(d);
        return r;
}

int sbctl_copy_tree(int src, const char *dst, unsigned *skipped, char *err, size_t errlen)
{
        struct copy cp = { .path = "", .err = err, .errlen = errlen };
        int d, r;

        if (mkdir(dst, 0755) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "mkdir %s: %s", dst, strerror(errno));
                return -errno;
        }
        d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0) {
                r = -errno;
                snprintf(err, errlen, "open %s: %s", dst, strerror(-r));
                return r;
        }
        r = copy_dir(&cp, src, d, 0);
        close(d);
        if (skipped)
                *skipped = cp.skipped;
        return r;
}
