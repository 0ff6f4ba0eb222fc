/* landlock.c — file, TCP and scope restrictions of a job (Landlock).
 *
 * A second wall behind the mount namespace: even a path the job reaches
 * through a magic link, a descriptor or a mount mistake is refused unless it
 * lies beneath one of the rules below. Applied in the child after
 * pivot_root (the paths are the sandbox's own, opened with O_PATH relative
 * to the new root, so no buffer is built) and after no_new_privs, before the
 * init/program fork so that both are in the domain.
 *
 *   /                 read-dir only (ls /; files need a rule below)
 *   /usr, top dirs    read + execute (/bin etc. when not symlinks into /usr)
 *   /etc              read
 *   /proc             read (writes to /proc/self/... refused too)
 *   /sys/fs/cgroup    read: the job's limits (absent without cgroups)
 *   /dev              read-dir; null zero full random urandom tty read +
 *                     write (+ truncate for O_TRUNC, + device ioctls)
 *   /dev/shm          read + write
 *   /dev/pts          read + write + device ioctls (the job's devpts
 *                     instance: its ptmx and the ptys it opened)
 *   /tmp, /work       read + write + execute
 *   BindReadOnlyPaths= targets
 *                     read + execute (the mounts are read-only)
 *   TCP               not restricted: the network namespace decides (see below)
 *   scope             abstract unix sockets and signals confined to the job
 *                     (ABI 6)
 *
 * The system's <linux/landlock.h> (Debian 12: ABI 2) lacks the later
 * fields, so the ABI 3..6 constants and the full ruleset attribute are
 * defined here, with the kernel's values.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/linux/landlock_rules.h"
#include "backends/linux/linux.h"

/* ABI 3 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
/* ABI 5 */
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
/* ABI 4 */
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
/* ABI 6 */
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; older kernels accept the larger
 * struct as long as the fields they do not know are zero. */
struct ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
};

#define R_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define R_EXEC LANDLOCK_ACCESS_FS_EXECUTE
#define R_WRITE (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
                 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | \
                 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
                 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM | \
                 LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)
#define R_DEV (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
               LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
/* Rights that make sense on a file (the kernel refuses the others there). */
#define R_FILE (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
                LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
                LANDLOCK_ACCESS_FS_IOCTL_DEV)

static const struct {
        const char *path;       /* relative to the sandbox root */
        uint64_t access;
        bool optional;          /* skipped if absent */
} rules[] = {
        { ".", LANDLOCK_ACCESS_FS_READ_DIR, false },
        { "usr", R_READ | R_EXEC, false },
        { "etc", R_READ, false },
        { "proc", R_READ, false },
        { "sys/fs/cgroup", R_READ, true },      /* the job's own cgroup, read-only (mounts.c) */
        { "dev", LANDLOCK_ACCESS_FS_READ_DIR, false },
        { "dev/null", R_DEV, false },
        { "dev/zero", R_DEV, false },
        { "dev/full", R_DEV, false },
        { "dev/random", R_DEV, false },
        { "dev/urandom", R_DEV, false },
        { "dev/tty", R_DEV, true },
        { "dev/shm", R_READ | R_WRITE, true },
        { "dev/pts", R_READ | R_DEV, true },
        { "tmp", R_READ | R_WRITE | R_EXEC, false },
        { "work", R_READ | R_WRITE | R_EXEC, false },
};

static uint64_t fs_rights(int abi)
{
        uint64_t r = (1ULL << 13) - 1;         /* ABI 1: EXECUTE .. MAKE_SYM */

        if (abi >= 2)
                r |= LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                r |= LANDLOCK_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        return r;
}

static int add_path(int ruleset, int root, const char *path, uint64_t access, bool optional,
                    uint64_t handled, const char **step, const char **arg)
{
        struct landlock_path_beneath_attr pb;
        int fd, r = 0;

        fd = openat(root, path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (optional && errno == ENOENT)
                        return 0;
                *step = "open O_PATH";
                *arg = path;
                return -errno;
        }
        memset(&pb, 0, sizeof(pb));
        pb.parent_fd = fd;
        pb.allowed_access = access & handled;
        /* A rule on a file may only carry file rights. */
        struct stat st;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                *step = "fstat";
                *arg = path;
                goto out;
        }
        if (!S_ISDIR(st.st_mode))
                pb.allowed_access &= R_FILE;
        if (pb.allowed_access &&
            syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0U) < 0) {
                r = -errno;
                *step = "landlock_add_rule";
                *arg = path;
        }
out:
        close(fd);
        return r;
}

int sb_linux_landlock_apply(const struct sb_spawn_plan *p, const char **step, const char **arg)
{
        int abi = (int)p->landlock_abi;
        bool network = p->flags & SB_PLAN_NETWORK;
        struct ruleset_attr attr;
        int ruleset, root, r = 0;

        *arg = NULL;
        if (abi <= 0)
                return 0;
        memset(&attr, 0, sizeof(attr));
        attr.handled_access_fs = fs_rights(abi);
        /* TCP is left alone: Landlock's net rules name ports, not
         * addresses, so they cannot allow the job's own loopback (servers
         * and clients on 127.0.0.1 and ::1) and refuse the rest. The job's
         * network namespace (only lo, unless the host's) does that. */
        (void)network;
        if (abi >= 6)
                attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
        ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0U);
        if (ruleset < 0) {
                *step = "landlock_create_ruleset";
                return -errno;
        }
        root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) {
                r = -errno;
                *step = "open O_PATH";
                *arg = "/";
                goto out;
        }
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && r >= 0; i++)
                r = add_path(ruleset, root, rules[i].path, rules[i].access, rules[i].optional,
                             attr.handled_access_fs, step, arg);
        /* /bin, /lib, ... when they are directories of their own; as
         * symlinks into /usr the /usr rule covers them. */
        for (int i = 0; i < SB_PLAN_TOP_MAX && r >= 0; i++)
                if (p->top[i].kind == SB_PLAN_HOST_DIR)
                        r = add_path(ruleset, root, sb_plan_s(p, p->top[i].name), R_READ | R_EXEC,
                                     false, attr.handled_access_fs, step, arg);
        /* Files by descriptor (binds.c): the client's directories, writable
         * only where the client asked. Targets are absolute: skip the '/'. */
        for (uint32_t i = 0; i < p->nbinds && r >= 0; i++)
                r = add_path(ruleset, root, sb_plan_s(p, p->binds[i].target) + 1,
                             R_READ | R_EXEC | (p->binds[i].read_only ? 0 : R_WRITE), false,
                             attr.handled_access_fs, step, arg);
        /* BindReadOnlyPaths= (mounts.c): read + execute, the mount is
         * read-only; an optional entry whose source was missing has no
         * target (ENOENT, skipped). */
        for (uint32_t i = 0; i < p->nbind_ro && i < SB_PLAN_BIND_RO_MAX && r >= 0; i++)
                r = add_path(ruleset, root, sb_plan_s(p, p->bind_ro[i].dst) + 1, R_READ | R_EXEC,
                             p->bind_ro[i].optional, attr.handled_access_fs, step, arg);
        close(root);
        if (r < 0)
                goto out;
        if (syscall(SYS_landlock_restrict_self, ruleset, 0U) < 0) {
                r = -errno;
                *step = "landlock_restrict_self";
        }
out:
        close(ruleset);
        return r;
}
