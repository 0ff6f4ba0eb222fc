/* instance.c — one daemon per cgroup subtree, uid range and state dir.
 *
 * A second skillboxd that shared any of them would reap the first's running
 * jobs at start (its cgroups, its uids, its job dirs) and remove the
 * subtree at exit. So every daemon registers in a host-wide directory under
 * /run (never the socket's directory: sockets move, the host does not): one
 * file per daemon, named by its pid, holding its cgroup name, uid range and
 * canonical state dir, and write-locked with fcntl(F_SETLK) for as long as
 * the daemon lives. The kernel drops the lock when the process dies however
 * it dies, so a locked file is a live instance (F_GETLK names its pid) and
 * an unlocked one is the remains of a crash: removed, and the start goes on
 * to reap what that instance left. A flock() on the directory makes the
 * scan and the registration one step, so two daemons starting together
 * cannot both see the other's place free.
 * Nothing here depends on the cgroup version or the backend.
 * The lock is a POSIX record lock: closing any fd of our own file would drop
 * it, so the file is opened once, at registration, and never again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/instance.h"
#include "daemon/log.h"
#include "daemon/statedir.h"

#define ENTRY_MAX 8192

struct entry {
        long pid;
        char cgroup[256];
        uint32_t uid_first, uid_last;
        char state_dir[PATH_MAX];
        unsigned fields;
};

/* The registry directory: our own, not a link, writable by nobody else (a
 * file in it decides whether a daemon may start). */
static int open_registry(const char *dir)
{
        return sbd_private_dir_open(AT_FDCWD, dir, SBD_DIR_MODE_REGISTRY, "instance registry");
}

static void parse_entry(char *text, struct entry *e)
{
        char *line, *save = NULL;

        memset(e, 0, sizeof(*e));
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                const char *v;

                if (!eq)
                        continue;
                *eq = '\0';
                v = eq + 1;
                if (strcmp(line, "pid") == 0) {
                        e->pid = strtol(v, NULL, 10);
                        e->fields |= 1;
                } else if (strcmp(line, "cgroup") == 0) {
                        snprintf(e->cgroup, sizeof(e->cgroup), "%s", v);
                        e->fields |= 2;
                } else if (strcmp(line, "uids") == 0) {
                        if (sscanf(v, "%" SCNu32 "-%" SCNu32, &e->uid_first, &e->uid_last) == 2)
                                e->fields |= 4;
                } else if (strcmp(line, "state_dir") == 0) {
                        snprintf(e->state_dir, sizeof(e->state_dir), "%s", v);
                        e->fields |= 8;
                }
        }
}

/* 0 when the live instance in e shares nothing with us, else -EBUSY, said. */
static int check_entry(const struct entry *me, const struct entry *e, long holder,
                       const char *dir, const char *name)
{
        const char *what;

        if (e->fields != 15)
                what = "an entry this daemon cannot read";
        else if (strcmp(e->cgroup, me->cgroup) == 0)
                what = "the same cgroup name";
        else if (e->uid_first <= me->uid_last && me->uid_first <= e->uid_last)
                what = "an overlapping uid range";
        else if (strcmp(e->state_dir, me->state_dir) == 0)
                what = "the same state dir";
        else
                return 0;
        log_error("another skillboxd (pid %ld) runs with %s: cgroup %s, uids %" PRIu32 "-%" PRIu32
                  ", state dir %s (%s/%s); refusing to start: it would reap that daemon's jobs. "
                  "Give this one its own --cgroup, --uid-range and --state-dir",
                  holder, what, e->fields & 2 ? e->cgroup : "?", e->uid_first, e->uid_last,
                  e->fields & 8 ? e->state_dir : "?", dir, name);
        return -EBUSY;
}

/* One registry file: 0 if dead (then removed) or not in our way. */
static int scan_one(int dfd, const char *dir, const char *name, const struct entry *me)
{
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        char buf[ENTRY_MAX];
        struct entry e;
        struct stat st;
        ssize_t n;
        int fd, r;

        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : log_errno(-errno, "instance registry: open %s/%s",
                                                       dir, name);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                log_error("instance registry: %s/%s is not a regular file; refusing to start",
                          dir, name);
                return -EBUSY;
        }
        if (fcntl(fd, F_GETLK, &fl) < 0) {
                r = -errno;
                close(fd);
                return log_errno(r, "instance registry: F_GETLK %s/%s", dir, name);
        }
        if (fl.l_type == F_UNLCK) {
                /* Its daemon is gone (the kernel dropped the lock with it). */
                close(fd);
                if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                        return log_errno(-errno, "instance registry: remove stale %s/%s",
                                         dir, name);
                log_info("instance registry: removed %s/%s of a daemon that is gone", dir, name);
                return 0;
        }
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        r = n < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return log_errno(r, "instance registry: read %s/%s", dir, name);
        buf[n] = '\0';
        parse_entry(buf, &e);
        /* The lock's holder as this pid namespace sees it (0: invisible). */
        return check_entry(me, &e, fl.l_pid ? (long)fl.l_pid : e.pid, dir, name);
}

static int scan(int dfd, const char *dir, const struct entry *me)
{
        int fd = dup(dfd);
        struct dirent *de;
        DIR *dh;
        int r = 0;

        if (fd < 0)
                return log_errno(-errno, "instance registry: dup");
        dh = fdopendir(fd);
        if (!dh) {
                r = -errno;
                close(fd);
                return log_errno(r, "instance registry: read %s", dir);
        }
        while (r == 0 && (errno = 0, de = readdir(dh)))
                if (de->d_name[0] != '.')
                        r = scan_one(dfd, dir, de->d_name, me);
        if (r == 0 && errno)
                r = log_errno(-errno, "instance registry: read %s", dir);
        closedir(dh);
        return r;
}

static int register_self(struct sbd_instance *in, int dfd, const char *dir, const struct entry *me)
{
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        char text[ENTRY_MAX];
        ssize_t w;
        int fd, n, r;

        snprintf(in->name, sizeof(in->name), "%ld", me->pid);
        fd = openat(dfd, in->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
        if (fd < 0)
                return log_errno(-errno, "instance registry: create %s/%s", dir,
                                 in->name);
        if (fcntl(fd, F_SETLK, &fl) < 0) {
                r = log_errno(-errno, "instance registry: lock %s/%s", dir, in->name);
                goto fail;
        }
        n = snprintf(text, sizeof(text), "pid=%ld\ncgroup=%s\nuids=%" PRIu32 "-%" PRIu32
                     "\nstate_dir=%s\n", me->pid, me->cgroup, me->uid_first, me->uid_last,
                     me->state_dir);
        if (n < 0 || (size_t)n >= sizeof(text)) {
                r = log_errno(-ENAMETOOLONG, "instance registry: entry");
                goto fail;
        }
        /* A few hundred bytes into a new file: one write, and a short one
         * (a full /run) is an error like any other. */
        w = write(fd, text, (size_t)n);
        r = w < 0 ? -errno : w != n ? -ENOSPC : 0;
        if (r < 0) {
                log_errno(r, "instance registry: write %s/%s", dir, in->name);
                goto fail;
        }
        in->fd = fd;
        return 0;
fail:
        (void)unlinkat(dfd, in->name, 0);
        close(fd);
        in->name[0] = '\0';
        return r;
}

int sbd_instance_claim(struct sbd_instance *in, const char *dir, const char *cgroup_name,
                       uint32_t uid_first, uint32_t uid_last, const char *state_dir)
{
        struct entry me = {
                .pid = (long)getpid(),
                .uid_first = uid_first,
                .uid_last = uid_last,
        };
        int dfd, r;

        *in = SBD_INSTANCE_NONE;
        if (snprintf(me.cgroup, sizeof(me.cgroup), "%s", cgroup_name) >= (int)sizeof(me.cgroup))
                return log_errno(-ENAMETOOLONG, "cgroup name %s", cgroup_name);
        if (!realpath(state_dir, me.state_dir))
                return log_errno(-errno, "state dir %s", state_dir);
        if (strchr(me.state_dir, '\n') || strchr(me.cgroup, '\n')) {
                log_error("state dir or cgroup name with a newline: refusing to start");
                return -EINVAL;
        }
        dfd = open_registry(dir);
        if (dfd < 0)
                return dfd;
        /* Scan and registration as one step against other starting daemons
         * (held a moment only; the kernel drops it if we die). */
        if (flock(dfd, LOCK_EX) < 0) {
                r = log_errno(-errno, "instance registry: flock %s", dir);
                close(dfd);
                return r;
        }
        r = scan(dfd, dir, &me);
        if (r == 0)
                r = register_self(in, dfd, dir, &me);
        if (r == 0)
                in->dirfd = dfd;
        else
                close(dfd);     /* drops the flock */
        if (r == 0 && flock(dfd, LOCK_UN) < 0)
                log_errno(-errno, "instance registry: unlock %s", dir);
        return r;
}

void sbd_instance_release(struct sbd_instance *in)
{
        if (in->fd < 0)
                return;
        /* Remove the name while the lock still stands: a scanner that sees
         * the file unlocked would remove it by that name too. */
        if (unlinkat(in->dirfd, in->name, 0) < 0)
                log_errno(-errno, "instance registry: remove %s", in->name);
        close(in->fd);
        close(in->dirfd);
        *in = SBD_INSTANCE_NONE;
}
