/* mounts.c — the job's file system view, built in the pre-exec child inside
 * its fresh mount namespace, then pivot_root'ed into.
 *
 *   /            tmpfs (read-only after setup) mounted on <state_dir>/root;
 *                the mount point is shared by all jobs, each mount lives
 *                only in its job's namespace
 *   /usr         host /usr, bind, ro nosuid nodev
 *   /bin /sbin /lib /lib32 /lib64 /libx32
 *                a host symlink becomes the same symlink, a directory a
 *                ro nosuid nodev bind; absent ones are skipped
 *   /etc         passwd, group, hosts, hostname generated; ld.so.cache,
 *                alternatives, localtime, nsswitch.conf, ssl, ca-certificates,
 *                ca-certificates.conf, fonts, os-release, mime.types,
 *                services, protocols, locale.alias bound ro noexec if present.
 *                hosts is the job's own (localhost only): the host's may
 *                name internal machines a job has no business learning, and
 *                the job's network namespace could not reach them anyway
 *   BindReadOnlyPaths=
 *                the profile's host paths, each bound ro nosuid nodev at its
 *                target (never under /proc /dev /sys /work /tmp)
 *   /proc        fresh proc of the job's pid ns (nosuid nodev noexec,
 *                hidepid=2: the init is not the job's to see);
 *                proc_ro[] bound read-only over
 *                themselves, proc_masked[] hidden (/dev/null over a file, an
 *                empty read-only tmpfs over a directory; only the first of
 *                each kind is made, the others are binds of it, which copy
 *                its flags); absent ones skipped
 *   /sys         only /sys/fs/cgroup: directories in the root tmpfs, and
 *                the job's own cgroup directory (the path the daemon made,
 *                never a client's) bound ro nosuid nodev noexec: on v2 at
 *                /sys/fs/cgroup, on v1 each hierarchy at
 *                /sys/fs/cgroup/<controllers>, so runtimes read their
 *                memory limit where they look for it; the rest of /sys
 *                (devices, firmware, the host's other cgroups) stays absent
 *   /dev         read-only tmpfs with the null zero full random urandom
 *                tty nodes made in it, fd/stdin/stdout/stderr links,
 *                /dev/shm tmpfs
 *   /dev/pts     a devpts instance of the job's own (newinstance: the host's
 *                ptys and other jobs' are not in it), ptmxmode=0666,
 *                mode=0620 gid=<job gid>, max=64 ptys, nosuid noexec; /dev/ptmx a link
 *                to pts/ptmx, so openpty() works in every job; a tty job's
 *                instance is made by the daemon (linux/pty.c) with its
 *                terminal in it and moved here
 *   /tmp         tmpfs size=tmp_size nr_inodes=tmp_inodes mode 1777 nosuid nodev
 *                (/dev/shm the same)
 *   /work        tmpfs size=work_size nr_inodes=work_inodes mode 0700 owned
 *                by the job uid, nosuid nodev: in the job's mount namespace
 *                only, its pages charged to the job's memory cgroup, gone
 *                with the namespace (nothing on the host's disk, nothing to
 *                walk at cleanup); or the client's directory (binds.c)
 *
 * Privileged operations, each safe because: every mount happens in the
 * job's private mount namespace (propagation made private first, so
 * nothing leaks to the host); sources are fixed host system paths chosen
 * at open() or the admin's BindReadOnlyPaths= (checked when the
 * configuration is read), never a client-named path (the client's
 * directories come as detached mounts made from its fds, binds.c);
 * binds are read-only except /work (the client's own directory), which is
 * nosuid nodev like the tmpfs /work, /tmp and /dev/shm.
 * Flags are added with mount_setattr() (never cleared, except the root's
 * own read-only and noexec until the end), AT_RECURSIVE where one call covers
 * several binds made just before: fewer syscalls than a bind remount each,
 * and no statfs() to learn which flags to keep.
 * Work is done relative to the cwd (the new root) so no path buffers are
 * built; the child allocates nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/linux/linux.h"

/* step = a b c d (NULLs skipped), truncated to len. */
static void set_step(char *step, size_t len, const char *a, const char *b, const char *c,
                     const char *d)
{
        const char *parts[4] = { a, b, c, d };
        size_t n = 0;

        for (int i = 0; i < 4; i++)
                for (const char *p = parts[i]; p && *p && n + 1 < len; p++)
                        step[n++] = *p;
        step[n] = '\0';
}

#define FAIL(a, b, c, d) do { \
                int e_ = errno; \
                set_step(step, steplen, a, b, c, d); \
                return -e_; \
        } while (0)

#define ATTR_RO_NOSUID_NODEV (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

/* Add (never clear) per-mount flags on the mount at path (relative to the
 * cwd), with AT_RECURSIVE on every mount below it too. Unlike a bind
 * remount, it keeps what it is not asked to change (atime, a noexec or
 * read-only the source already had): no statfs() first. */
static int set_attr(const char *path, unsigned int flags, uint64_t set)
{
        struct mount_attr a = { .attr_set = set };

        return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &a, sizeof(a));
}

/* Bind src on dst (relative to the new root), then add the flags set. */
static int bind_mount(const char *src, const char *dst, uint64_t set, char *step,
                      size_t steplen, const char *shown)
{
        /* Not MS_REC: a host submount below src would keep its own (maybe
         * writable) flags, untouched by mount_setattr below. */
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                FAIL("mount ", src, " on /", shown);
        if (set && set_attr(dst, 0, set) < 0)
                FAIL("remount /", shown, NULL, NULL);
        return 0;
}

static int make_file(const char *path, const char *content, char *step, size_t steplen)
{
        size_t len = content ? strlen(content) : 0;
        int fd;

        /* An empty file (a mount point): one syscall, no fd. */
        if (!len) {
                if (mknod(path, S_IFREG | 0644, 0) < 0)
                        FAIL("create /", path, NULL, NULL);
                return 0;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                FAIL("create /", path, NULL, NULL);
        if (write(fd, content, len) != (ssize_t)len) {
                int e = errno ? errno : EIO;
                close(fd);
                errno = e;
                FAIL("write /", path, NULL, NULL);
        }
        close(fd);
        return 0;
}

static int make_dir(const char *path, mode_t mode, char *step, size_t steplen)
{
        if (mkdir(path, mode) < 0)
                FAIL("mkdir /", path, NULL, NULL);
        return 0;
}

/* A host entry of the root, first step: the same symlink, or the empty
 * directory or file its bind (host_bind) is made on. All mount points are
 * made before any flag is set: the root is read-only in between. */
static int host_entry(const struct sb_spawn_plan *p, const struct sb_plan_host *h, char *step,
                      size_t steplen)
{
        const char *name = sb_plan_s(p, h->name);

        switch (h->kind) {
        case SB_PLAN_HOST_SYMLINK:
                if (symlink(sb_plan_s(p, h->target), name) < 0)
                        FAIL("symlink /", name, NULL, NULL);
                return 0;
        case SB_PLAN_HOST_DIR:
                return make_dir(name, 0755, step, steplen);
        case SB_PLAN_HOST_FILE:
                return make_file(name, NULL, step, steplen);
        default:
                return 0;
        }
}

/* Second step: the host path bound on its mount point, no flags yet (the
 * recursive mount_setattr calls in sb_linux_mounts add them). */
static int host_bind(const struct sb_spawn_plan *p, const struct sb_plan_host *h, char *step,
                     size_t steplen)
{
        const char *name = sb_plan_s(p, h->name);
        char src[300];

        if (h->kind != SB_PLAN_HOST_DIR && h->kind != SB_PLAN_HOST_FILE)
                return 0;
        if (h->name.len + 2 > sizeof(src)) {
                errno = ENAMETOOLONG;
                FAIL("path /", name, NULL, NULL);
        }
        src[0] = '/';
        memcpy(src + 1, name, h->name.len + 1);
        return bind_mount(src, name, 0, step, steplen, name);
}

/* path exists and is not a symlink: a link in the root (made from the
 * host's, maybe absolute) would be followed against the host's root here,
 * before pivot_root. */
static bool no_link(const char *path)
{
        struct stat st;

        if (lstat(path, &st) < 0)
                return false;
        if (S_ISLNK(st.st_mode)) {
                errno = ELOOP;
                return false;
        }
        return true;
}

/* mkdir -p of dst's parents relative to the cwd (the new root), in a stack
 * buffer; an existing directory is fine, a symlink is refused. Inside host
 * binds that are read-only by now (/usr...) a missing parent fails EROFS:
 * a host directory is never written. */
static int make_parents(const char *dst, char *step, size_t steplen)
{
        char path[SB_PLAN_BIND_PATH_MAX + 1];
        size_t n = strlen(dst);

        if (n < 2 || n >= sizeof(path)) {
                errno = ENAMETOOLONG;
                FAIL("bind ", dst, NULL, NULL);
        }
        memcpy(path, dst + 1, n);       /* without the leading '/', NUL included */
        for (char *c = path; *c; c++) {
                if (*c != '/')
                        continue;
                *c = '\0';
                if (mkdir(path, 0755) < 0 && (errno != EEXIST || !no_link(path)))
                        FAIL("mkdir /", path, " for ", dst);
                *c = '/';
        }
        return 0;
}

/* BindReadOnlyPaths=: each host path (the profile's, never a client's)
 * bound read-only nosuid nodev at its target, made on the root tmpfs as a
 * directory or an empty file like the source (an existing one is reused).
 * A missing source fails the job ("bind /opt/x: ENOENT") unless the entry
 * is optional. Done after the host binds are read-only, so a target's
 * parents are only ever made on the job's own tmpfs. */
static int make_bind_ro(const struct sb_spawn_plan *p, char *step, size_t steplen)
{
        for (uint32_t i = 0; i < p->nbind_ro && i < SB_PLAN_BIND_RO_MAX; i++) {
                const char *src = sb_plan_s(p, p->bind_ro[i].src);
                const char *dst = sb_plan_s(p, p->bind_ro[i].dst);
                struct stat st;
                int r;

                if (stat(src, &st) < 0) {
                        if (errno == ENOENT && p->bind_ro[i].optional)
                                continue;
                        FAIL("bind ", src, NULL, NULL);
                }
                if ((r = make_parents(dst, step, steplen)) < 0)
                        return r;
                if (S_ISDIR(st.st_mode)) {
                        if (mkdir(dst + 1, 0755) < 0 && (errno != EEXIST || !no_link(dst + 1)))
                                FAIL("mkdir ", dst, NULL, NULL);
                } else if (mknod(dst + 1, S_IFREG | 0644, 0) < 0 &&
                           (errno != EEXIST || !no_link(dst + 1))) {
                        FAIL("create ", dst, NULL, NULL);
                }
                /* Not MS_REC (see bind_mount): a host submount below src
                 * stays out of the job. */
                if (mount(src, dst + 1, NULL, MS_BIND, NULL) < 0)
                        FAIL("bind ", src, " on ", dst);
                if (set_attr(dst + 1, 0, ATTR_RO_NOSUID_NODEV) < 0)
                        FAIL("remount ", dst, " read-only", NULL);
        }
        return 0;
}

/* The job's cgroup directories at /sys/fs/cgroup (see the top). Bound from
 * the paths the daemon created for this job (under its own subtree, only
 * root may write there): the job sees its limits and usage, nothing of its parents or
 * siblings, and writes none of it (read-only mount; the files are root's
 * anyway). With bind true the directories are made already and each tree
 * is bound on its own; the flags come from the recursive mount_setattr
 * over the root that follows (sb_linux_mounts). */
static int make_sys_cgroup(const struct sb_spawn_plan *p, bool bind, char *step,
                           size_t steplen)
{
        char dst[64];
        int r;

        if (!p->ncg || (p->flags & SB_PLAN_CG_FAKE))
                return 0;
        if (!bind && ((r = make_dir("sys", 0555, step, steplen)) < 0 ||
                      (r = make_dir("sys/fs", 0555, step, steplen)) < 0 ||
                      (r = make_dir("sys/fs/cgroup", 0555, step, steplen)) < 0))
                return r;
        for (uint32_t i = 0; i < p->ncg && i < SB_PLAN_CG_MAX; i++) {
                const char *name = sb_plan_s(p, p->cg_name[i]);
                const char *src = sb_plan_s(p, p->cg_src[i]);

                /* The plan checked the name: one component of at most
                 * SB_PLAN_CG_NAME_MAX bytes, "" only for a lone hierarchy. */
                set_step(dst, sizeof(dst), "sys/fs/cgroup", *name ? "/" : NULL, name, NULL);
                if (!bind) {
                        if (*name && (r = make_dir(dst, 0555, step, steplen)) < 0)
                                return r;
                } else if ((r = bind_mount(src, dst, 0, step, steplen, dst)) < 0) {
                        return r;
                }
        }
        return 0;
}

/* Kernel tunables and triggers: readable, never writable. */
static const char *const proc_ro[] = {
        "proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus", "proc/fs",
};
/* Kernel memory, keys, symbols, timers and hardware: not even readable.
 * /proc/pressure shows the whole host's CPU, memory and I/O pressure (and,
 * world-writable, takes PSI triggers): nothing a job needs. dir: what the
 * entry is on the kernels we know (tried first; the other kind on ENOTDIR). */
static const struct {
        const char *path;
        bool dir;
} proc_masked[] = {
        { "proc/kcore", false }, { "proc/keys", false }, { "proc/key-users", false },
        { "proc/timer_list", false }, { "proc/kallsyms", false }, { "proc/sched_debug", false },
        { "proc/acpi", true }, { "proc/latency_stats", false }, { "proc/scsi", true },
        { "proc/kmsg", false }, { "proc/kpagecount", false }, { "proc/kpageflags", false },
        { "proc/kpagecgroup", false }, { "proc/config.gz", false }, { "proc/pressure", true },
};

#define MASK_ATTR (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

/* Hide p: /dev/null over a file, an empty read-only tmpfs over a directory.
 * Only the first mask of each kind is made so; the next ones are binds of
 * it, which copy its flags (and share the empty tmpfs: read-only, one
 * inode). -ENOENT: p does not exist; -ENOTDIR: p is of the other kind. */
static int mask_one(const char *p, bool dir, const char **file_mask, const char **dir_mask,
                    char *step, size_t steplen)
{
        const char *from = dir ? *dir_mask : *file_mask;
        int r;

        if (from) {
                if (mount(from, p, NULL, MS_BIND, NULL) < 0)
                        goto fail;
        } else if (dir) {
                if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=0555,size=4k,nr_inodes=1") < 0)
                        goto fail;
                *dir_mask = p;
        } else {
                if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
                        goto fail;
                if (set_attr(p, 0, MASK_ATTR) < 0)
                        FAIL("remount /", p, NULL, NULL);
                *file_mask = p;
        }
        return 0;
fail:
        r = -errno;
        if (r == -ENOENT || r == -ENOTDIR)
                return r;
        if (from)
                FAIL("mount /", from, " on /", p);
        FAIL(dir ? "mount tmpfs on /" : "mount /dev/null on /", p, NULL, NULL);
}

static int make_proc(char *step, size_t steplen)
{
        const char *file_mask = NULL, *dir_mask = NULL;
        int r;

        /* hidepid=2 (invisible): the job sees the processes it may trace,
         * which are its own, and not its init (root's uid, not dumpable:
         * child.c). */
        if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") < 0)
                FAIL("mount proc on /proc (hidepid=2)", NULL, NULL, NULL);
        /* The bind copies nosuid nodev noexec from the proc mount. */
        for (size_t i = 0; i < sizeof(proc_ro) / sizeof(proc_ro[0]); i++) {
                r = bind_mount(proc_ro[i], proc_ro[i], MOUNT_ATTR_RDONLY, step, steplen, proc_ro[i]);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        /* Absent entries are skipped (ENOENT from the mount itself). */
        for (size_t i = 0; i < sizeof(proc_masked) / sizeof(proc_masked[0]); i++) {
                const char *p = proc_masked[i].path;
                bool dir = proc_masked[i].dir;

                r = mask_one(p, dir, &file_mask, &dir_mask, step, steplen);
                if (r == -ENOTDIR)
                        r = mask_one(p, !dir, &file_mask, &dir_mask, step, steplen);
                if (r == -ENOTDIR) {
                        errno = ENOTDIR;
                        FAIL("mask /", p, NULL, NULL);
                }
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

/* "newinstance,...,gid=<gid>" into buf: formatted here, the child
 * allocates nothing. */
static void devpts_opts(char *buf, size_t len, uint32_t gid)
{
        static const char head[] = "newinstance,ptmxmode=0666,mode=0620,max=" SB_LINUX_PTYS_MAX ",gid=";
        char digits[10];
        size_t n = 0, d = 0;

        do
                digits[d++] = (char)('0' + gid % 10);
        while ((gid /= 10) && d < sizeof(digits));
        for (size_t i = 0; i < sizeof(head) - 1 && n + 1 < len; i++)
                buf[n++] = head[i];
        while (d && n + 1 < len)
                buf[n++] = digits[--d];
        buf[n] = '\0';
}

/* The job's own devpts instance on /dev/pts and /dev/ptmx pointing into
 * it. newinstance: a pty the job opens is numbered and visible only in
 * this instance, never in the host's /dev/pts or another job's. The
 * instance's ptmx is 0666 (the job's uid opens it), the slaves 0620
 * owned by their opener and the job's group. nosuid noexec like the rest
 * of /dev; the nodes in it are the kernel's own (no mknod). */
static int make_devpts(char *step, size_t steplen, uint32_t gid, int tree)
{
        char opts[64];
        int r;

        if ((r = make_dir("dev/pts", 0755, step, steplen)) < 0)
                return r;
        /* A tty job's instance is the daemon's (linux/pty.c), with the same
         * options and the job's terminal in it. */
        if (tree >= 0) {
                if (syscall(SYS_move_mount, tree, "", AT_FDCWD, "dev/pts",
                            MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        FAIL("move_mount the job's terminal devpts on /dev/pts", NULL, NULL, NULL);
        } else {
                devpts_opts(opts, sizeof(opts), gid);
                if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, opts) < 0)
                        FAIL("mount devpts on /dev/pts (", opts, ")", NULL);
        }
        if (symlink("pts/ptmx", "dev/ptmx") < 0)
                FAIL("symlink /dev/ptmx", NULL, NULL, NULL);
        return 0;
}

static int make_dev(char *step, size_t steplen, const char *shm_opts, uint32_t gid, int pts_tree)
{
        /* Device numbers are fixed by the kernel's ABI
         * (Documentation/admin-guide/devices.txt). */
        static const struct { const char *name; unsigned major, minor; } nodes[] = {
                { "dev/null", 1, 3 }, { "dev/zero", 1, 5 }, { "dev/full", 1, 7 },
                { "dev/random", 1, 8 }, { "dev/urandom", 1, 9 }, { "dev/tty", 5, 0 },
        };
        static const char *const links[][2] = {
                { "/proc/self/fd", "dev/fd" },
                { "/proc/self/fd/0", "dev/stdin" },
                { "/proc/self/fd/1", "dev/stdout" },
                { "/proc/self/fd/2", "dev/stderr" },
        };
        int r;

        /* The nodes are made here rather than bound from the host: six
         * mounts fewer per job to make and to tear down. So this tmpfs is
         * not nodev; it is read-only below once the nodes are in, and the
         * job could not make a node anyway (no CAP_MKNOD, the bounding set
         * is empty). /dev/shm, the one writable place, is nodev. */
        if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
                  "mode=0755,size=64k,nr_inodes=64") < 0)
                FAIL("mount tmpfs on /dev", NULL, NULL, NULL);
        /* The umask cleared around the nodes so that mknod makes them 0666
         * itself: one call each instead of a mknod and a chmod. */
        mode_t mask = umask(0);
        for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
                if (mknod(nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0) {
                        int e = errno;

                        umask(mask);
                        errno = e;
                        FAIL("mknod /", nodes[i].name, NULL, NULL);
                }
        umask(mask);
        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
                if (symlink(links[i][0], links[i][1]) < 0)
                        FAIL("symlink /", links[i][1], NULL, NULL);
        if ((r = make_dir("dev/shm", 01777, step, steplen)) < 0)
                return r;
        if (mount("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, shm_opts) < 0)
                FAIL("mount tmpfs on /dev/shm", NULL, NULL, NULL);
        if ((r = make_devpts(step, steplen, gid, pts_tree)) < 0)
                return r;
        /* No new entries in /dev itself (its submount keeps its flags). */
        if (set_attr("dev", 0, MOUNT_ATTR_RDONLY) < 0)
                FAIL("remount /dev read-only", NULL, NULL, NULL);
        return 0;
}

int sb_linux_mounts(const struct sb_spawn_plan *p, const int *fd, char *step, size_t steplen)
{
        const char *root_mnt = sb_plan_s(p, p->root_mnt);
        int r;

        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                FAIL("make / private", NULL, NULL, NULL);
        if (mount("tmpfs", root_mnt, "tmpfs", MS_NOSUID | MS_NODEV,
                  "mode=0755,size=1m,nr_inodes=512") < 0)
                FAIL("mount tmpfs on ", root_mnt, NULL, NULL);
        if (chdir(root_mnt) < 0)
                FAIL("chdir ", root_mnt, NULL, NULL);

        /* Every mount point of the host's part first (/usr, /bin & co.,
         * /etc, /sys/fs/cgroup), while the root is writable. */
        if ((r = make_dir("usr", 0755, step, steplen)) < 0)
                return r;
        for (int i = 0; i < SB_PLAN_TOP_MAX; i++)
                if ((r = host_entry(p, &p->top[i], step, steplen)) < 0)
                        return r;
        if ((r = make_dir("etc", 0755, step, steplen)) < 0 ||
            (r = make_file("etc/passwd", sb_plan_s(p, p->passwd), step, steplen)) < 0 ||
            (r = make_file("etc/group", sb_plan_s(p, p->group), step, steplen)) < 0 ||
            (r = make_file("etc/hosts", "127.0.0.1 localhost skillbox\n::1 localhost\n", step, steplen)) < 0 ||
            (r = make_file("etc/hostname", "skillbox\n", step, steplen)) < 0)
                return r;
        for (int i = 0; i < SB_PLAN_ETC_MAX; i++)
                if ((r = host_entry(p, &p->etc[i], step, steplen)) < 0)
                        return r;
        if ((r = make_sys_cgroup(p, false, step, steplen)) < 0)
                return r;
        if ((r = make_dir("proc", 0555, step, steplen)) < 0 ||
            (r = make_dir("dev", 0755, step, steplen)) < 0 ||
            (r = make_dir("tmp", 01777, step, steplen)) < 0 ||
            (r = make_dir("work", 0755, step, steplen)) < 0)
                return r;

        /* The flags come from two recursive mount_setattr calls over the
         * root instead of one remount per bind: first the binds that are
         * configuration, never programs (/etc, /sys/fs/cgroup), so that
         * the root and they are the only mounts below the cwd when noexec
         * is added; then the program binds (/usr, /bin & co.) and ro
         * nosuid nodev over everything. The root alone then gets its
         * noexec and read-only cleared until the end (the files by
         * descriptor may need directories in it; it has only directories
         * and links in it, never a program). */
        for (int i = 0; i < SB_PLAN_ETC_MAX; i++)
                if ((r = host_bind(p, &p->etc[i], step, steplen)) < 0)
                        return r;
        if ((r = make_sys_cgroup(p, true, step, steplen)) < 0)
                return r;
        if (set_attr(".", AT_RECURSIVE, ATTR_RO_NOSUID_NODEV | MOUNT_ATTR_NOEXEC) < 0)
                FAIL("remount /etc and /sys/fs/cgroup binds read-only noexec", NULL, NULL, NULL);
        if ((r = bind_mount("/usr", "usr", 0, step, steplen, "usr")) < 0)
                return r;
        for (int i = 0; i < SB_PLAN_TOP_MAX; i++)
                if ((r = host_bind(p, &p->top[i], step, steplen)) < 0)
                        return r;
        if (set_attr(".", AT_RECURSIVE, ATTR_RO_NOSUID_NODEV) < 0)
                FAIL("remount host binds read-only", NULL, NULL, NULL);
        {
                struct mount_attr a = { .attr_clr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC };

                if (syscall(SYS_mount_setattr, AT_FDCWD, ".", 0, &a, sizeof(a)) < 0)
                        FAIL("remount / writable", NULL, NULL, NULL);
        }
        if ((r = make_bind_ro(p, step, steplen)) < 0)
                return r;

        if ((r = make_proc(step, steplen)) < 0)
                return r;

        if ((r = make_dev(step, steplen, sb_plan_s(p, p->shm_opts), p->gid,
                          fd[SB_PLAN_FD_PTS_TREE])) < 0)
                return r;

        if (mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, sb_plan_s(p, p->tmp_opts)) < 0)
                FAIL("mount tmpfs on /tmp", NULL, NULL, NULL);
        /* HOME, the job's: made as root on the fresh tmpfs (nothing of the
         * job's can be in the way yet), then given to the job's uid. */
        if (mkdir(SB_LINUX_HOME + 1, 0700) < 0)
                FAIL("mkdir ", SB_LINUX_HOME, NULL, NULL);
        if (fchownat(AT_FDCWD, SB_LINUX_HOME + 1, p->uid, p->gid, AT_SYMLINK_NOFOLLOW) < 0)
                FAIL("chown ", SB_LINUX_HOME, NULL, NULL);

        if ((p->flags & SB_PLAN_WORK_TMPFS) &&
            mount("tmpfs", "work", "tmpfs", MS_NOSUID | MS_NODEV, sb_plan_s(p, p->work_opts)) < 0)
                FAIL("mount tmpfs on /work", NULL, NULL, NULL);
        /* Files by descriptor: the client's workdir over /work, extra dirs. */
        if ((r = sb_linux_binds_attach(p, fd, step, steplen)) < 0)
                return r;

        /* pivot_root(".", "."): the old root ends up stacked under the new
         * one at "/", and the detach removes it from this namespace. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                FAIL("pivot_root", NULL, NULL, NULL);
        if (umount2(".", MNT_DETACH) < 0)
                FAIL("detach old root", NULL, NULL, NULL);
        if (chdir("/") < 0)
                FAIL("chdir /", NULL, NULL, NULL);
        if (set_attr("/", 0, MOUNT_ATTR_RDONLY) < 0)
                FAIL("remount / read-only", NULL, NULL, NULL);
        return 0;
}
