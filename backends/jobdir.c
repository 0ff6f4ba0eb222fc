/* jobdir.c — the job directory <state_dir>/jobs/<id> and its removal.
 *
 * <state_dir>/jobs/<id> is root-owned 0700; work/ inside it belongs to the
 * job uid, 0700, and is the job's cwd (/work in a linux job). An empty
 * work/ and its parent go by rmdir of their paths, which needs no
 * descriptor. Everything in work/ was written by the job and is hostile:
 * its removal is fd-relative (openat/unlinkat with O_NOFOLLOW|O_DIRECTORY),
 * never follows a symlink,
 * never crosses into another mount (st_dev check) and holds only two
 * directory fds however deep the tree is, so a deep tree cannot exhaust fds
 * or the stack. For a linux job it runs after every process of the job is
 * dead; a posix job may have left a process behind, so every climb back up
 * is checked against the directory we came down from.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/internal.h"

static int open_dir_at(int dfd, const char *name)
{
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* mkdir + open, tolerating EEXIST only when the existing entry is a real
 * directory (O_NOFOLLOW|O_DIRECTORY). */
static int mkdir_open(int dfd, const char *name, mode_t mode)
{
        if (mkdirat(dfd, name, mode) < 0 && errno != EEXIST)
                return -errno;
        return open_dir_at(dfd, name);
}

int sb_backend_jobdir_create(const char *state_dir, const char *job_id, uid_t uid, gid_t gid,
                             char *work_path, size_t work_len, char *errbuf, size_t errlen)
{
        int sfd = -1, jfd = -1, idfd = -1, wfd = -1, r;
        bool made = false;

        if (!sb_backend_job_id_valid(job_id))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "job id");
        sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "open %s", state_dir);
                goto out;
        }
        jfd = mkdir_open(sfd, "jobs", 0700);
        if (jfd < 0) {
                r = sb_backend_fail(errbuf, errlen, jfd, "mkdir %s/jobs", state_dir);
                goto out;
        }
        /* A fresh id: an existing directory is an error, not something to reuse. */
        if (mkdirat(jfd, job_id, 0700) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "mkdir %s/jobs/%s", state_dir, job_id);
                goto out;
        }
        made = true;
        idfd = open_dir_at(jfd, job_id);
        if (idfd < 0) {
                r = sb_backend_fail(errbuf, errlen, idfd, "open %s/jobs/%s", state_dir, job_id);
                goto out;
        }
        if (mkdirat(idfd, "work", 0700) < 0 || (wfd = open_dir_at(idfd, "work")) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "mkdir %s/jobs/%s/work", state_dir, job_id);
                goto out;
        }
        /* fchown/fchmod on the fd we created: no path lookup to race with. */
        if (fchown(wfd, uid, gid) < 0 || fchmod(wfd, 0700) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "chown %s/jobs/%s/work", state_dir, job_id);
                goto out;
        }
        r = snprintf(work_path, work_len, "%s/jobs/%s/work", state_dir, job_id);
        if (r < 0 || (size_t)r >= work_len)
                r = sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "job dir path");
        else
                r = 0;
out:
        if (wfd >= 0)
                close(wfd);
        if (idfd >= 0)
                close(idfd);
        if (jfd >= 0)
                close(jfd);
        if (sfd >= 0)
                close(sfd);
        /* After the closes: a step that failed for want of a descriptor
         * (EMFILE) leaves the removal the ones we held. */
        if (r < 0 && made)
                (void)sb_backend_jobdir_remove(state_dir, job_id);
        return r;
}

/* A directory stream over a duplicate of dfd (dfd stays ours), from the
 * start: readdir() on a dup shares the offset, hence the rewind. */
static int dir_stream(int dfd, DIR **out)
{
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
        int r;

        if (fd < 0)
                return -errno;
        *out = fdopendir(fd);
        if (!*out) {
                r = -errno;
                close(fd);
                return r;
        }
        rewinddir(*out);
        return 0;
}

/* One pass over dfd that unlinks every non-directory in it, reading the
 * directory once (unlinking what readdir already returned is safe): a
 * directory of n files costs O(n), not a rescan per file. Returns 1 with
 * sub set to a subdirectory that is left, 0 when the pass found no
 * subdirectory (*removed: how many entries it unlinked; a pass that
 * removed some runs again, in case the directory changed under it), <0 on
 * the first error. */
static int sweep(int dfd, char sub[NAME_MAX + 1], unsigned long *removed)
{
        DIR *d;
        struct dirent *de;
        struct stat st;
        bool found = false;
        int r = dir_stream(dfd, &d);

        *removed = 0;
        if (r < 0)
                return r;
        for (;;) {
                bool is_dir;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = errno ? -errno : 0;
                        break;
                }
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                is_dir = de->d_type == DT_DIR;
                if (de->d_type == DT_UNKNOWN) {
                        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (errno == ENOENT)
                                        continue;
                                r = -errno;
                                break;
                        }
                        is_dir = S_ISDIR(st.st_mode);
                }
                if (is_dir) {
                        if (!found)
                                snprintf(sub, NAME_MAX + 1, "%s", de->d_name);
                        found = true;
                        continue;
                }
                /* Without AT_REMOVEDIR: a directory swapped in fails EISDIR. */
                if (unlinkat(dfd, de->d_name, 0) < 0) {
                        if (errno == ENOENT)
                                continue;
                        r = -errno;
                        break;
                }
                (*removed)++;
        }
        closedir(d);
        if (r < 0)
                return r;
        return found ? 1 : 0;
}

/* First entry of dfd other than . and ..; 1 found, 0 empty, <0 error. */
static int first_entry(int dfd, char name[NAME_MAX + 1])
{
        DIR *d;
        struct dirent *de;
        int r = dir_stream(dfd, &d);

        if (r < 0)
                return r;
        errno = 0;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                snprintf(name, NAME_MAX + 1, "%s", de->d_name);
                r = 1;
                break;
        }
        if (!de && errno)
                r = -errno;
        closedir(d);
        return r;
}

/* Find the entry of dfd whose inode is ino; 1 found (name set), 0 not. */
static int name_of_ino(int dfd, ino_t ino, char name[NAME_MAX + 1])
{
        DIR *d;
        struct dirent *de;
        int r = dir_stream(dfd, &d);

        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                if (de->d_ino == ino && strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                        snprintf(name, NAME_MAX + 1, "%s", de->d_name);
                        r = 1;
                        break;
                }
        }
        closedir(d);
        return r;
}

/* Passes over one directory that still found files to remove, in a row. */
#define SWEEPS_MAX 16

struct dir_id {
        dev_t dev;
        ino_t ino;
};

/* Depth-first, iterative: sweep a directory's files in one pass, walk
 * down into a subdirectory left, and when a directory is empty climb to its
 * parent through ".." and rmdir it by inode. Each climb is checked against
 * the identity of the directory we came down from, so a directory that was
 * moved away meanwhile (a posix job may still run) never lets the walk
 * escape the tree. The first error (including a mount point met on the
 * way, -EBUSY, or such an escape, -ESTALE) stops the walk and is
 * returned; what is left stays for the next attempt or for an operator. */
int sb_backend_remove_tree(int dirfd, const char *name)
{
        char ent[NAME_MAX + 1];
        struct stat top, st;
        struct dir_id *stack = NULL;
        size_t depth = 0, cap = 0;
        unsigned refills = 0;
        int fd, r;

        if (fstatat(dirfd, name, &top, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISDIR(top.st_mode))
                return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
        fd = open_dir_at(dirfd, name);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || st.st_dev != top.st_dev || st.st_ino != top.st_ino) {
                close(fd);
                return -ESTALE;
        }
        for (;;) {
                unsigned long removed;

                r = sweep(fd, ent, &removed);
                if (r < 0)
                        break;
                /* Confirm it is empty with one more pass; a directory that
                 * keeps filling (a process the posix backend could not
                 * kill) is given up on, not chased forever. */
                if (r == 0 && removed > 0 && ++refills > SWEEPS_MAX) {
                        r = -EAGAIN;
                        break;
                }
                if (r == 0 && removed > 0)
                        continue;
                refills = 0;
                if (r > 0) {
                        if (fstatat(fd, ent, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                r = -errno;
                                break;
                        }
                        if (!S_ISDIR(st.st_mode))
                                continue;       /* changed under us: the next pass sees it */
                        if (st.st_dev != top.st_dev) {
                                r = -EBUSY;     /* a mount point: never cross it */
                                break;
                        }
                        if (depth == cap) {
                                size_t ncap = cap ? cap * 2 : 64;
                                struct dir_id *ns = realloc(stack, ncap * sizeof(*ns));
                                if (!ns) {
                                        r = -ENOMEM;
                                        break;
                                }
                                stack = ns;
                                cap = ncap;
                        }
                        struct stat here;
                        if (fstat(fd, &here) < 0) {
                                r = -errno;
                                break;
                        }
                        int cfd = open_dir_at(fd, ent);
                        if (cfd < 0) {
                                r = cfd;
                                break;
                        }
                        stack[depth].dev = here.st_dev;
                        stack[depth].ino = here.st_ino;
                        depth++;
                        close(fd);
                        fd = cfd;
                        continue;
                }
                /* fd is empty. */
                if (depth == 0)
                        break;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        break;
                }
                int pfd = open_dir_at(fd, "..");
                if (pfd < 0) {
                        r = pfd;
                        break;
                }
                close(fd);
                fd = pfd;
                depth--;
                struct stat up;
                if (fstat(fd, &up) < 0) {
                        r = -errno;
                        break;
                }
                if (up.st_dev != stack[depth].dev || up.st_ino != stack[depth].ino) {
                        r = -ESTALE;    /* moved under us: do not follow */
                        break;
                }
                r = name_of_ino(fd, st.st_ino, ent);
                if (r == 0)
                        r = -ENOENT;
                if (r < 0)
                        break;
                if (unlinkat(fd, ent, AT_REMOVEDIR) < 0) {
                        r = -errno;
                        break;
                }
        }
        close(fd);
        free(stack);
        if (r < 0)
                return r;
        return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int sb_backend_jobdir_remove(const char *state_dir, const char *job_id)
{
        char path[PATH_MAX];
        int jfd, r;

        if (!sb_backend_job_id_valid(job_id))
                return -EINVAL;
        r = snprintf(path, sizeof(path), "%s/jobs", state_dir);
        if (r < 0 || (size_t)r >= sizeof(path))
                return -ENAMETOOLONG;
        /* The usual case first: work/ is empty (or gone) and nothing else
         * is there. rmdir removes only an empty directory and never follows
         * a symlink, so this needs no walk; anything else fails it
         * (ENOTEMPTY, ENOTDIR) and takes the walk. By path, so that it
         * needs no descriptor and still works when the daemon has none
         * left (EMFILE): every component but the last is the daemon's own
         * root-owned directory, and the job cannot write in jobs/<id>. */
        char work[PATH_MAX];
        r = snprintf(work, sizeof(work), "%s/%s/work", path, job_id);
        if (r < 0 || (size_t)r >= sizeof(work))
                return -ENAMETOOLONG;
        if (rmdir(work) == 0 || errno == ENOENT) {
                work[strlen(work) - strlen("/work")] = '\0';
                if (rmdir(work) == 0)
                        return 0;
        }
        jfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (jfd < 0)
                return -errno;
        r = sb_backend_remove_tree(jfd, job_id);
        close(jfd);
        return r;
}

int sb_backend_jobdir_remove_all(const char *state_dir)
{
        char path[PATH_MAX], ent[NAME_MAX + 1];
        int jfd, r, result = 0;

        r = snprintf(path, sizeof(path), "%s/jobs", state_dir);
        if (r < 0 || (size_t)r >= sizeof(path))
                return -ENAMETOOLONG;
        jfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (jfd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* Each pass removes the first entry; stop at the first failure so a
         * stubborn entry cannot make this spin. */
        while ((r = first_entry(jfd, ent)) > 0) {
                r = sb_backend_remove_tree(jfd, ent);
                if (r < 0) {
                        result = r;
                        break;
                }
        }
        if (r < 0 && result == 0)
                result = r;
        close(jfd);
        return result;
}
