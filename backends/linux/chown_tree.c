/* chown_tree.c — the post-job ownership fix for a client's directory.
 *
 * When a client's directory could not be idmapped, the job wrote into it
 * with its own uid; afterwards every entry the job uid owns is given to the
 * client. The walk runs as root over a tree the job controlled, so:
 *  - every step is relative to an open directory fd, never a path string;
 *  - each entry is opened O_PATH|O_NOFOLLOW, examined with fstat and changed
 *    with fchownat(AT_EMPTY_PATH) on that fd: a symlink is changed itself, its
 *    target never (a planted link to /etc/shadow stays a link), and a name
 *    swapped meanwhile cannot redirect the change;
 *  - a subdirectory is entered with openat2(RESOLVE_BENEATH |
 *    RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV) and must be the same inode the
 *    fstat saw and on the same device: no link, no mount is crossed;
 *  - only entries owned by the job uid change; anything else (a root file
 *    hard-linked in, which protected_hardlinks forbids anyway) is left;
 *  - the walk is iterative and holds one directory open at a time: it
 *    climbs back through ".." (checked to be the directory it came down
 *    from, else it stops) and resumes where it was; so no depth, however
 *    great, exhausts the daemon's fds or stack. What it keeps per level is
 *    a few words on the heap, and the levels are bounded by the directories
 *    the file system let the job make.
 * For a linux job it runs once no process of the job is left (reap's cgroup
 * kill); a posix job's kill reaches only its session's process group, so
 * something that escaped it may still race the walk: hence the fd
 * discipline. It may take long: the daemon runs it on its threadpool.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/chown_tree.h"

/* A directory the walk went down from: where to resume it. */
struct level {
        dev_t dev;
        ino_t ino;
        long pos;               /* telldir() just past the entry descended into */
};

struct walk {
        dev_t dev;
        uid_t from_uid, to_uid;
        gid_t from_gid, to_gid;
        int first_error;
        struct level *stack;
        size_t depth, cap;
};

static void note(struct walk *w, int r)
{
        if (r < 0 && w->first_error == 0)
                w->first_error = r;
}

/* Open a subdirectory of dfd without following a link or crossing a mount. */
static int open_subdir(int dfd, const char *name)
{
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
                           RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dfd, name, &how, sizeof(how));

        if (fd < 0 && errno == ENOSYS)
                fd = openat(dfd, name, (int)how.flags);
        return fd < 0 ? -errno : (int)fd;
}

/* Change one entry of dir if the job uid owns it. Returns 1 with *st set
 * when it is a directory on the walk's device (to enter), 0 otherwise. */
static int change_entry(struct walk *w, DIR *dir, const char *name, struct stat *st)
{
        /* Examine and change the same inode through one O_PATH fd (a
         * symlink's own): a posix job that outlived its group could
         * otherwise swap the name, between a stat and a chown by name, for
         * a hard link to a file it may not own. */
        int efd = openat(dirfd(dir), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (efd < 0) {
                note(w, -errno);
                return 0;
        }
        if (fstat(efd, st) < 0) {
                note(w, -errno);
                close(efd);
                return 0;
        }
        if (st->st_dev != w->dev) {
                close(efd);
                return 0;       /* a mount point: not ours to change */
        }
        if (st->st_uid == w->from_uid &&
            fchownat(efd, "", w->to_uid, st->st_gid == w->from_gid ? w->to_gid : (gid_t)-1,
                     AT_EMPTY_PATH) < 0)
                note(w, -errno);
        close(efd);
        return S_ISDIR(st->st_mode);
}

/* Enter the subdirectory name of *dir (examined as st): push where *dir
 * resumes and make the subdirectory the current one. 0, or <0 with the
 * walk stopped (*dir then untouched). */
static int descend(struct walk *w, DIR **dir, const char *name, const struct stat *st,
                   dev_t here_dev, ino_t here_ino)
{
        struct stat sub_st;
        DIR *sub_dir;
        int sub;

        if (w->depth == w->cap) {
                size_t ncap = w->cap ? w->cap * 2 : 64;
                struct level *ns = realloc(w->stack, ncap * sizeof(*ns));

                if (!ns)
                        return -ENOMEM;
                w->stack = ns;
                w->cap = ncap;
        }
        sub = open_subdir(dirfd(*dir), name);
        if (sub < 0) {
                note(w, sub);
                return 1;       /* skip it, go on with the rest */
        }
        /* The name may have been swapped since the fstat: only the
         * directory we examined is entered. */
        if (fstat(sub, &sub_st) < 0 || sub_st.st_dev != st->st_dev ||
            sub_st.st_ino != st->st_ino) {
                note(w, -ESTALE);
                close(sub);
                return 1;
        }
        sub_dir = fdopendir(sub);
        if (!sub_dir) {
                note(w, -errno);
                close(sub);
                return 1;
        }
        w->stack[w->depth].dev = here_dev;
        w->stack[w->depth].ino = here_ino;
        w->stack[w->depth].pos = telldir(*dir);
        w->depth++;
        closedir(*dir);
        *dir = sub_dir;
        return 0;
}

/* Back to the parent of *dir, where it was left. 0, or <0: stop (a
 * directory moved meanwhile must not lead the walk out of the tree). */
static int climb(struct walk *w, DIR **dir)
{
        struct stat st;
        DIR *up_dir;
        int up;

        up = openat(dirfd(*dir), "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC |
                    O_NONBLOCK);
        if (up < 0)
                return -errno;
        w->depth--;
        if (fstat(up, &st) < 0 || st.st_dev != w->stack[w->depth].dev ||
            st.st_ino != w->stack[w->depth].ino) {
                close(up);
                return -ESTALE;
        }
        up_dir = fdopendir(up);
        if (!up_dir) {
                int r = -errno;
                close(up);
                return r;
        }
        seekdir(up_dir, w->stack[w->depth].pos);
        closedir(*dir);
        *dir = up_dir;
        return 0;
}

static void walk(struct walk *w, DIR *dir, ino_t root_ino)
{
        dev_t here_dev = w->dev;
        ino_t here_ino = root_ino;
        struct dirent *de;
        int r;

        for (;;) {
                struct stat st;

                errno = 0;
                de = readdir(dir);
                if (!de) {
                        if (errno)
                                note(w, -errno);
                        if (w->depth == 0)
                                break;
                        r = climb(w, &dir);
                        if (r < 0) {
                                note(w, r);
                                break;
                        }
                        here_dev = w->stack[w->depth].dev;
                        here_ino = w->stack[w->depth].ino;
                        continue;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (!change_entry(w, dir, de->d_name, &st))
                        continue;
                r = descend(w, &dir, de->d_name, &st, here_dev, here_ino);
                if (r < 0) {
                        note(w, r);
                        break;
                }
                if (r == 0) {
                        here_dev = st.st_dev;
                        here_ino = st.st_ino;
                }
        }
        closedir(dir);
}

int sb_backend_chown_tree(int dirfd, uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid)
{
        struct walk w = {
                .from_uid = from_uid, .to_uid = to_uid,
                .from_gid = from_gid, .to_gid = to_gid,
        };
        struct stat st;
        DIR *dir;
        int fd;

        /* The root itself is the client's directory: its owner is left as it
         * is (the job cannot have changed it unless it owned it already). */
        if (fstat(dirfd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        w.dev = st.st_dev;
        /* dirfd may be O_PATH: reopen "." for reading (no path leaves it). */
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        dir = fdopendir(fd);
        if (!dir) {
                int r = -errno;
                close(fd);
                return r;
        }
        walk(&w, dir, st.st_ino);
        free(w.stack);
        return w.first_error;
}
