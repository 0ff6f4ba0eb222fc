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
 *  - the depth is bounded, so a job cannot exhaust the daemon's fds or stack.
 * For a linux job it runs once no process of the job is left (reap's cgroup
 * kill); a posix job's kill reaches only its process group, so something
 * that called setsid() may still race the walk: hence the fd discipline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/internal.h"

#define CHOWN_DEPTH_MAX 128u

struct walk {
        dev_t dev;
        uid_t from_uid, to_uid;
        gid_t from_gid, to_gid;
        int first_error;
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

static void walk_dir(struct walk *w, int dfd, unsigned depth)
{
        struct dirent *de;
        DIR *dir;

        dir = fdopendir(dfd);
        if (!dir) {
                note(w, -errno);
                close(dfd);
                return;
        }
        while ((errno = 0, de = readdir(dir))) {
                struct stat st, sub_st;
                int sub;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                /* Examine and change the same inode through one O_PATH fd
                 * (a symlink's own): a posix job that outlived its group
                 * could otherwise swap the name, between a stat and a
                 * chown by name, for a hard link to a file it may not
                 * own. */
                int efd = openat(dirfd(dir), de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (efd < 0) {
                        note(w, -errno);
                        continue;
                }
                if (fstat(efd, &st) < 0) {
                        note(w, -errno);
                        close(efd);
                        continue;
                }
                if (st.st_dev != w->dev) {
                        close(efd);
                        continue;       /* a mount point: not ours to change */
                }
                if (st.st_uid == w->from_uid &&
                    fchownat(efd, "", w->to_uid, st.st_gid == w->from_gid ? w->to_gid : (gid_t)-1,
                             AT_EMPTY_PATH) < 0)
                        note(w, -errno);
                close(efd);
                if (!S_ISDIR(st.st_mode))
                        continue;
                if (depth >= CHOWN_DEPTH_MAX) {
                        note(w, -ELOOP);
                        continue;
                }
                sub = open_subdir(dirfd(dir), de->d_name);
                if (sub < 0) {
                        note(w, sub);
                        continue;
                }
                /* The name may have been swapped since fstatat: only the
                 * directory we examined is entered. */
                if (fstat(sub, &sub_st) < 0 || sub_st.st_dev != st.st_dev ||
                    sub_st.st_ino != st.st_ino) {
                        note(w, -ESTALE);
                        close(sub);
                        continue;
                }
                walk_dir(w, sub, depth + 1);
        }
        if (errno)
                note(w, -errno);
        closedir(dir);
}

int sb_backend_chown_tree(int dirfd, uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid)
{
        struct walk w = {
                .from_uid = from_uid, .to_uid = to_uid,
                .from_gid = from_gid, .to_gid = to_gid,
        };
        struct stat st;
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
        walk_dir(&w, fd, 0);
        return w.first_error;
}
