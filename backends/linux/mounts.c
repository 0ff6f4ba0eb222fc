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
 *                alternatives, localtime, nsswitch.conf bound ro if present
 *   /proc        fresh proc of the job's pid ns (nosuid nodev noexec);
 *                proc_ro[] bound read-only over
 *                themselves, proc_masked[] hidden (/dev/null over a file, an
 *                empty read-only tmpfs over a directory); absent ones skipped
 *   /sys         absent: nothing of it is mounted
 *   /dev         tmpfs with null zero full random urandom tty bound from
 *                the host, fd/stdin/stdout/stderr links, /dev/shm tmpfs
 *   /tmp         tmpfs size=tmp_size mode 1777 nosuid nodev
 *   /work        the job directory, bind, nosuid nodev
 *
 * Privileged operations, each safe because: every mount happens in the
 * job's private mount namespace (propagation made private first, so
 * nothing leaks to the host); sources are fixed host system paths chosen
 * at open() or the job dir the daemon created, never a client-named path;
 * binds are read-only except /work, /tmp, /dev/shm, which are nosuid nodev.
 * Work is done relative to the cwd (the new root) so no path buffers are
 * built; the child allocates nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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

/* Flags the kernel keeps on a bind remount unless asked otherwise, and
 * which we must not try to clear (noexec etc. may be locked). */
static unsigned long kept_flags(const char *path)
{
        struct statfs sfs;

        if (statfs(path, &sfs) < 0)
                return 0;
        return (unsigned long)sfs.f_flags &
               (MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_NOSUID | MS_NODEV |
                MS_RDONLY);
}

/* Bind src on dst (relative to the new root) and remount it with flags. */
static int bind_mount(const char *src, const char *dst, unsigned long flags, char *step,
                      size_t steplen, const char *shown)
{
        /* Not MS_REC: a host submount below src would keep its own (maybe
         * writable) flags, untouched by the remount below. */
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                FAIL("mount ", src, " on /", shown);
        if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | flags | kept_flags(dst), NULL) < 0)
                FAIL("remount /", shown, NULL, NULL);
        return 0;
}

static int bind_ro(const char *src, const char *dst, char *step, size_t steplen)
{
        return bind_mount(src, dst, MS_RDONLY | MS_NOSUID | MS_NODEV, step, steplen, dst);
}

static int make_file(const char *path, const char *content, char *step, size_t steplen)
{
        size_t len = content ? strlen(content) : 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);

        if (fd < 0)
                FAIL("create /", path, NULL, NULL);
        if (len && write(fd, content, len) != (ssize_t)len) {
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

static int host_path(const struct sb_host_path *h, char *step, size_t steplen)
{
        char src[300];
        size_t n = strlen(h->name);
        int r;

        if (n + 2 > sizeof(src)) {
                errno = ENAMETOOLONG;
                FAIL("path /", h->name, NULL, NULL);
        }
        src[0] = '/';
        memcpy(src + 1, h->name, n + 1);
        switch (h->kind) {
        case SB_HOST_SYMLINK:
                if (symlink(h->target, h->name) < 0)
                        FAIL("symlink /", h->name, NULL, NULL);
                return 0;
        case SB_HOST_DIR:
                r = make_dir(h->name, 0755, step, steplen);
                break;
        case SB_HOST_FILE:
                r = make_file(h->name, NULL, step, steplen);
                break;
        default:
                return 0;
        }
        if (r < 0)
                return r;
        return bind_ro(src, h->name, step, steplen);
}

/* Kernel tunables and triggers: readable, never writable. */
static const char *const proc_ro[] = {
        "proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus", "proc/fs",
};
/* Kernel memory, keys, symbols, timers and hardware: not even readable.
 * /proc/pressure shows the whole host's CPU, memory and I/O pressure (and,
 * world-writable, takes PSI triggers): nothing a job needs. */
static const char *const proc_masked[] = {
        "proc/kcore", "proc/keys", "proc/key-users", "proc/timer_list", "proc/kallsyms",
        "proc/sched_debug", "proc/acpi", "proc/latency_stats", "proc/scsi", "proc/kmsg",
        "proc/kpagecount", "proc/kpageflags", "proc/kpagecgroup", "proc/config.gz",
        "proc/pressure",
};

static int make_proc(char *step, size_t steplen)
{
        struct stat st;
        int r;

        if ((r = make_dir("proc", 0555, step, steplen)) < 0)
                return r;
        /* No hidepid: every process of the pid namespace is the job's and
         * runs as its uid, and hidepid would hide the init (not dumpable
         * since its uid change, which is how it should stay: its memory
         * and error pipe must be out of the program's reach). */
        if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                FAIL("mount proc on /proc", NULL, NULL, NULL);
        for (size_t i = 0; i < sizeof(proc_ro) / sizeof(proc_ro[0]); i++) {
                r = bind_ro(proc_ro[i], proc_ro[i], step, steplen);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        for (size_t i = 0; i < sizeof(proc_masked) / sizeof(proc_masked[0]); i++) {
                const char *p = proc_masked[i];

                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        FAIL("stat /", p, NULL, NULL);
                }
                if (S_ISDIR(st.st_mode)) {
                        if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                  "mode=0555,size=4k,nr_inodes=1") < 0)
                                FAIL("mount tmpfs on /", p, NULL, NULL);
                } else if ((r = bind_mount("/dev/null", p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                           step, steplen, p)) < 0) {
                        return r;
                }
        }
        return 0;
}

static int make_dev(char *step, size_t steplen, const char *shm_opts)
{
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        static const char *const links[][2] = {
                { "/proc/self/fd", "dev/fd" },
                { "/proc/self/fd/0", "dev/stdin" },
                { "/proc/self/fd/1", "dev/stdout" },
                { "/proc/self/fd/2", "dev/stderr" },
        };
        char src[32], dst[32];
        int r;

        if ((r = make_dir("dev", 0755, step, steplen)) < 0)
                return r;
        if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=0755,size=64k,nr_inodes=64") < 0)
                FAIL("mount tmpfs on /dev", NULL, NULL, NULL);
        for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
                size_t n = strlen(nodes[i]);
                memcpy(src, "/dev/", 5);
                memcpy(src + 5, nodes[i], n + 1);
                memcpy(dst, src + 1, n + 5);
                if ((r = make_file(dst, NULL, step, steplen)) < 0)
                        return r;
                /* The node's own bind mount must not be nodev (the /dev
                 * tmpfs around it is). */
                if ((r = bind_mount(src, dst, MS_NOSUID | MS_NOEXEC, step, steplen, dst)) < 0)
                        return r;
        }
        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
                if (symlink(links[i][0], links[i][1]) < 0)
                        FAIL("symlink /", links[i][1], NULL, NULL);
        if ((r = make_dir("dev/shm", 01777, step, steplen)) < 0)
                return r;
        if (mount("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, shm_opts) < 0)
                FAIL("mount tmpfs on /dev/shm", NULL, NULL, NULL);
        /* No new entries in /dev itself (its submounts keep their flags). */
        if (mount(NULL, "dev", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  NULL) < 0)
                FAIL("remount /dev read-only", NULL, NULL, NULL);
        return 0;
}

int sb_linux_mounts(const struct sb_child_ctx *c, char *step, size_t steplen)
{
        const struct sb_backend *b = c->b;
        int r;

        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                FAIL("make / private", NULL, NULL, NULL);
        if (mount("tmpfs", b->root_mnt, "tmpfs", MS_NOSUID | MS_NODEV,
                  "mode=0755,size=1m,nr_inodes=512") < 0)
                FAIL("mount tmpfs on ", b->root_mnt, NULL, NULL);
        if (chdir(b->root_mnt) < 0)
                FAIL("chdir ", b->root_mnt, NULL, NULL);

        if ((r = make_dir("usr", 0755, step, steplen)) < 0 ||
            (r = bind_ro("/usr", "usr", step, steplen)) < 0)
                return r;
        for (int i = 0; i < SB_LINUX_TOP_MAX; i++)
                if ((r = host_path(&b->top[i], step, steplen)) < 0)
                        return r;

        if ((r = make_dir("etc", 0755, step, steplen)) < 0 ||
            (r = make_file("etc/passwd", c->passwd, step, steplen)) < 0 ||
            (r = make_file("etc/group", c->group, step, steplen)) < 0 ||
            (r = make_file("etc/hosts", "127.0.0.1 localhost skillbox\n::1 localhost\n", step, steplen)) < 0 ||
            (r = make_file("etc/hostname", "skillbox\n", step, steplen)) < 0)
                return r;
        for (int i = 0; i < SB_LINUX_ETC_MAX; i++)
                if ((r = host_path(&b->etc[i], step, steplen)) < 0)
                        return r;

        if ((r = make_proc(step, steplen)) < 0)
                return r;

        if ((r = make_dev(step, steplen, c->shm_opts)) < 0)
                return r;

        if ((r = make_dir("tmp", 01777, step, steplen)) < 0)
                return r;
        if (mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, c->tmp_opts) < 0)
                FAIL("mount tmpfs on /tmp", NULL, NULL, NULL);

        if ((r = make_dir("work", 0755, step, steplen)) < 0 ||
            (r = bind_mount(c->j->work, "work", MS_NOSUID | MS_NODEV, step, steplen, "work")) < 0)
                return r;
        /* Files by descriptor: the client's workdir over /work, extra dirs. */
        if ((r = sb_linux_binds_attach(&c->j->binds, step, steplen)) < 0)
                return r;

        /* pivot_root(".", "."): the old root ends up stacked under the new
         * one at "/", and the detach removes it from this namespace. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                FAIL("pivot_root", NULL, NULL, NULL);
        if (umount2(".", MNT_DETACH) < 0)
                FAIL("detach old root", NULL, NULL, NULL);
        if (chdir("/") < 0)
                FAIL("chdir /", NULL, NULL, NULL);
        if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
                FAIL("remount / read-only", NULL, NULL, NULL);
        return 0;
}
