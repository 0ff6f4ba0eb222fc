/* work_keep.c — a fresh /work that outlives its job (spec->keep_work).
 *
 * Without it the job's /work is a tmpfs its child mounts in the job's own
 * mount namespace, gone with the namespace. With it the parent makes that
 * tmpfs itself, detached (fsopen/fsmount: the same size, inode bound, mode
 * and owner), hands it to the child as the /work tree (binds_attach moves
 * it into place) and keeps its own reference: a mount stays readable
 * through an open descriptor after its namespace is gone. After the job the
 * tree is given to the client (finish_files, chown, never following a link)
 * and handed to the caller (work_take) as a directory descriptor, which is
 * all there is of it: closing the last one frees the tmpfs.
 *
 * Privileged operations, each safe because: the tmpfs is new and empty,
 * nosuid and nodev; nothing in it is resolved by a name a client or the job
 * chose (the walk is fd-relative, chown_tree.c); the files go to the client
 * that ran the job, nobody else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/chown_tree.h"
#include "backends/linux/linux.h"

int sb_linux_work_keep_prepare(struct sb_backend_job *j, const struct sb_job_spec *spec,
                               char *errbuf, size_t errlen)
{
        const struct sb_policy *pol = &spec->policy;
        unsigned long long size = pol->work_size_max ? pol->work_size_max
                                                     : SB_BACKEND_WORK_SIZE_DEFAULT;
        unsigned long long inodes = pol->work_inodes_max ? pol->work_inodes_max
                                                         : SB_BACKEND_WORK_INODES_DEFAULT;
        char v[32];
        const char *step;
        int fs, mnt, r;

        if (!spec->keep_work || spec->workdir_fd >= 0)
                return 0;
        fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "keep_work: fsopen tmpfs");
        /* As the child's own /work (spawn.c's work_opts): nr_inodes counts
         * the root directory too. */
        step = "size";
        snprintf(v, sizeof(v), "%llu", size);
        r = fsconfig(fs, FSCONFIG_SET_STRING, "size", v, 0);
        if (r == 0) {
                step = "nr_inodes";
                snprintf(v, sizeof(v), "%llu", inodes + 1);
                r = fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", v, 0);
        }
        if (r == 0) {
                step = "mode";
                r = fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0);
        }
        if (r == 0) {
                step = "uid";
                snprintf(v, sizeof(v), "%u", (unsigned)spec->uid);
                r = fsconfig(fs, FSCONFIG_SET_STRING, "uid", v, 0);
        }
        if (r == 0) {
                step = "gid";
                snprintf(v, sizeof(v), "%u", (unsigned)spec->gid);
                r = fsconfig(fs, FSCONFIG_SET_STRING, "gid", v, 0);
        }
        if (r == 0) {
                step = "create";
                r = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
        }
        if (r < 0) {
                r = -errno;
                close(fs);
                return sb_backend_fail(errbuf, errlen, r, "keep_work: tmpfs %s", step);
        }
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        r = mnt < 0 ? -errno : 0;
        close(fs);
        if (r < 0)
                return sb_backend_fail(errbuf, errlen, r, "keep_work: fsmount");
        /* The child's copy goes with the other trees (binds_release). */
        j->binds.work_tree = fcntl(mnt, F_DUPFD_CLOEXEC, 3);
        if (j->binds.work_tree < 0) {
                r = -errno;
                close(mnt);
                return sb_backend_fail(errbuf, errlen, r, "keep_work: dup");
        }
        j->kept_work = mnt;
        j->keep_owner_uid = spec->owner_uid;
        j->keep_owner_gid = spec->owner_gid;
        return 0;
}

/* The whole tmpfs read-only (its superblock, so every mount of it). */
static int make_read_only(int mnt)
{
        int fs = fspick(mnt, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC | FSPICK_NO_AUTOMOUNT |
                                 FSPICK_SYMLINK_NOFOLLOW);
        int r = 0;

        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
                r = -errno;
        close(fs);
        return r;
}

/* After the job: everything in it, and the root, to the client. */
int sb_linux_work_keep_finish(struct sb_backend_job *j)
{
        int dir, r;

        if (j->kept_work < 0 || j->kept_chowned)
                return 0;
        dir = openat(j->kept_work, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        r = sb_backend_chown_tree(dir, j->uid, j->gid, j->keep_owner_uid, j->keep_owner_gid);
        if (fchown(dir, j->keep_owner_uid, j->keep_owner_gid) < 0 && r == 0)
                r = -errno;
        close(dir);
        /* Read-only from now on, for everyone: what the job left is what
         * the client gets, and it cannot grow while the daemon holds it. */
        if (r == 0)
                r = make_read_only(j->kept_work);
        /* A tree not wholly the client's is not handed out (work_take). */
        j->kept_chowned = r == 0;
        return r;
}

sb_handle sb_linux_work_take(struct sb_backend_job *j)
{
        int fd;

        if (j->kept_work < 0 || !j->reaped || !j->kept_chowned)
                return SB_HANDLE_NONE;
        fd = openat(j->kept_work, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return SB_HANDLE_NONE;
        close(j->kept_work);
        j->kept_work = -1;
        return fd;
}
