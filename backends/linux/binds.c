/* binds.c — directories a client passed by fd, mounted into a linux job.
 *
 * The parent (daemon thread, before clone3) turns each received fd into a
 * detached mount: open_tree(fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE) clones
 * exactly the mount under that directory (not its submounts), and
 * mount_setattr() on the detached copy sets nosuid, nodev, read-only where
 * asked and, where the kernel and file system allow it, an idmap that shows
 * the client's files as the job uid's and writes the job's files as the
 * client's. The child attaches the copies with move_mount() inside its own
 * mount namespace, on the /work directory of its tmpfs root (which then gets
 * no tmpfs of its own) and on directories it creates there.
 *
 * Privileged operations, each safe because:
 *  - no path a client or a job names is ever resolved: the sources are the
 *    received fds (AT_EMPTY_PATH), the targets are fixed prefixes the protocol
 *    checked (absolute, normalized, no "..") created in the job's own tmpfs;
 *  - a directory fd can only be passed by a peer that could open it, and it
 *    is checked again here: a directory (or, for a mount, one regular file,
 *    bound onto a file made at its target), not on procfs/sysfs or another
 *    kernel pseudo file system;
 *  - the idmap's user namespace maps exactly one uid and one gid (job ->
 *    client), so the job gains no other identity on the files;
 *  - without the idmap, the job writes as itself and sb_backend_chown_tree()
 *    gives what it wrote to the client after the job (never following links).
 * The child allocates nothing: targets are copied into the job struct here.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/chown_tree.h"
#include "backends/linux/linux.h"

void sb_linux_binds_init(struct sb_linux_binds *bd)
{
        memset(bd, 0, sizeof(*bd));
        bd->work_tree = -1;
        bd->chown_fd = -1;
        for (size_t i = 0; i < SBP_MOUNTS_MAX; i++)
                bd->trees[i] = -1;
        snprintf(bd->workdir, sizeof(bd->workdir), "fresh");
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

void sb_linux_binds_release(struct sb_linux_binds *bd, bool keep_chown_fd)
{
        close_fd(&bd->work_tree);
        for (size_t i = 0; i < SBP_MOUNTS_MAX; i++)
                close_fd(&bd->trees[i]);
        if (!keep_chown_fd)
                close_fd(&bd->chown_fd);
}

/* The protocol checked the target (sbp_mount_target_valid); the backend
 * links no codec, so it re-checks what matters here: absolute, bounded, no
 * empty, "." or ".." component, and not "/" itself. */
static bool target_ok(const char *t)
{
        size_t n;

        if (!t || t[0] != '/')
                return false;
        n = strnlen(t, SBP_TARGET_MAX + 1);
        if (n < 2 || n > SBP_TARGET_MAX)
                return false;
        for (const char *c = t + 1; ; ) {
                const char *e = strchr(c, '/');
                size_t len = e ? (size_t)(e - c) : strlen(c);

                if (len == 0 || (len == 1 && c[0] == '.') ||
                    (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (!e)
                        return true;
                c = e + 1;
        }
}

/* A user namespace whose only mapping is job uid/gid <-> client uid/gid, as
 * an fd. The namespace is created by a throw-away child (raw clone: the
 * daemon is multi-threaded; the child only blocks on a pipe and exits), whose
 * maps are written from here, as root, to /proc/<that child>/. */
static int make_userns(uid_t job_uid, gid_t job_gid, uid_t to_uid, gid_t to_gid)
{
        char path[64], map[64];
        int p[2], fd = -1, r = 0;
        pid_t pid;
        int n;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = (pid_t)syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L);
        if (pid < 0) {
                r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                char c;

                close(p[1]);
                while (read(p[0], &c, 1) < 0 && errno == EINTR)
                        ;
                _exit(0);
        }
        close(p[0]);
        /* Inside the namespace the client's ids; outside, the job's: files
         * the client owns show as the job's, the job's writes land as the
         * client's. */
        const struct { const char *file; unsigned long in, out; } maps[] = {
                { "uid_map", (unsigned long)to_uid, (unsigned long)job_uid },
                { "gid_map", (unsigned long)to_gid, (unsigned long)job_gid },
        };
        for (size_t i = 0; i < 2 && r == 0; i++) {
                int mfd;

                snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, maps[i].file);
                n = snprintf(map, sizeof(map), "%lu %lu 1\n", maps[i].in, maps[i].out);
                mfd = open(path, O_WRONLY | O_CLOEXEC);
                if (mfd < 0) {
                        r = -errno;
                        break;
                }
                if (write(mfd, map, (size_t)n) != n)
                        r = errno ? -errno : -EIO;
                close(mfd);
        }
        if (r == 0) {
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = -errno;
        }
        close(p[1]);    /* the child exits */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return r < 0 ? r : fd;
}

/* Clone the mount under fd and set its attributes; *idmapped tells whether
 * the idmap took (userns_fd < 0: not tried). */
static int make_tree(int fd, bool ro, int userns_fd, bool *idmapped, const char **what)
{
        struct mount_attr attr = { 0 };
        int tree, r;

        *idmapped = false;
        tree = (int)syscall(SYS_open_tree, fd, "",
                            AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0) {
                *what = "open_tree";
                return -errno;
        }
        attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0);
        if (userns_fd >= 0) {
                struct mount_attr ia = attr;

                ia.attr_set |= MOUNT_ATTR_IDMAP;
                ia.userns_fd = (uint64_t)userns_fd;
                if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &ia, sizeof(ia)) == 0) {
                        *idmapped = true;
                        return tree;
                }
                /* EINVAL/EPERM/EOPNOTSUPP: the file system or kernel does
                 * not idmap this mount; go on without. */
        }
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
                r = -errno;
                close(tree);
                *what = "mount_setattr";
                return r;
        }
        return tree;
}

int sb_linux_binds_prepare(struct sb_linux_binds *bd, const struct sb_job_spec *spec,
                           char *errbuf, size_t errlen)
{
        const char *what = NULL;
        bool idmapped;
        int userns = -1, r;

        sb_linux_binds_init(bd);
        if (spec->workdir_fd < 0 && spec->nmounts == 0)
                return 0;
        if (spec->nmounts > SBP_MOUNTS_MAX)
                return sb_backend_fail(errbuf, errlen, -E2BIG, "more than %u mounts",
                                       SBP_MOUNTS_MAX);
        bd->job_uid = spec->uid;
        bd->job_gid = spec->gid;
        bd->owner_uid = spec->owner_uid;
        bd->owner_gid = spec->owner_gid;

        if (spec->workdir_fd >= 0 && (r = sb_backend_check_dir_fd(spec->workdir_fd)) < 0)
                return sb_backend_fail(errbuf, errlen, r, "workdir_fd: %s", strerror(-r));
        for (uint32_t i = 0; i < spec->nmounts; i++) {
                const struct sb_job_mount *m = &spec->mounts[i];

                if (!target_ok(m->target))
                        return sb_backend_fail(errbuf, errlen, -EINVAL, "mount %u: bad target", i);
                if ((r = sb_backend_check_mount_fd(m->fd)) < 0)
                        return sb_backend_fail(errbuf, errlen, r, "mount %s: %s", m->target,
                                               strerror(-r));
        }

        /* One namespace serves every mount of the job: same client. */
        userns = make_userns(bd->job_uid, bd->job_gid, bd->owner_uid, bd->owner_gid);
        if (userns < 0)
                userns = -1;    /* no user namespaces here: plain binds, chown after */

        if (spec->workdir_fd >= 0) {
                r = make_tree(spec->workdir_fd, false, userns, &idmapped, &what);
                if (r < 0)
                        goto fail_what;
                bd->work_tree = r;
                if (idmapped) {
                        snprintf(bd->workdir, sizeof(bd->workdir), "idmap");
                } else {
                        snprintf(bd->workdir, sizeof(bd->workdir), "chown");
                        bd->chown_fd = fcntl(spec->workdir_fd, F_DUPFD_CLOEXEC, 3);
                        if (bd->chown_fd < 0) {
                                r = -errno;
                                what = "dup";
                                goto fail_what;
                        }
                }
        }
        for (uint32_t i = 0; i < spec->nmounts; i++) {
                const struct sb_job_mount *m = &spec->mounts[i];

                /* A writable extra mount without an idmap would leave job-owned
                 * files behind in the client's tree: refuse rather than run
                 * with less than asked. */
                r = make_tree(m->fd, m->read_only, userns, &idmapped, &what);
                if (r < 0)
                        goto fail_what;
                bd->trees[i] = r;
                bd->n = i + 1;
                snprintf(bd->targets[i], sizeof(bd->targets[i]), "%s", m->target);
                bd->read_only[i] = m->read_only;
                {
                        struct stat st;

                        if (fstat(m->fd, &st) < 0) {
                                r = -errno;
                                what = "fstat";
                                goto fail_what;
                        }
                        bd->is_file[i] = S_ISREG(st.st_mode);
                }
                if (!m->read_only && !idmapped) {
                        r = sb_backend_fail(errbuf, errlen, -EOPNOTSUPP,
                                            "mount %s: writable needs an idmapped mount",
                                            m->target);
                        goto fail;
                }
        }
        if (userns >= 0)
                close(userns);
        return 0;
fail_what:
        r = sb_backend_fail(errbuf, errlen, r, "%s: %s", what ? what : "mount",
                            strerror(-r));
fail:
        if (userns >= 0)
                close(userns);
        sb_linux_binds_release(bd, false);
        return r;
}

int sb_linux_binds_after_job(struct sb_linux_binds *bd)
{
        int r = 0;

        if (bd->chown_fd >= 0)
                r = sb_backend_chown_tree(bd->chown_fd, bd->job_uid, bd->job_gid, bd->owner_uid,
                                          bd->owner_gid);
        close_fd(&bd->chown_fd);
        return r;
}
