/* seccomp.c — the job's system call allowlist.
 *
 * Modelled on systemd's @system-service set: named groups of calls an
 * ordinary service needs, everything else answers EPERM. The groups are
 * data (the tables below); the few calls whose arguments decide are in
 * arg_rules[] and add_arg_rules(). Invariants:
 *   - only the native architecture: a call through another ABI (i386's
 *     int 0x80, x32's nr | __X32_SYSCALL_BIT) kills the process;
 *   - no group ever contains a call of sb_seccomp_never[] (unit test);
 *   - the filter is compiled in the daemon (libseccomp allocates) and
 *     cached per (network, extra groups); the child only copies a pointer
 *     into seccomp(2), last, right before execve.
 *
 * Groups (default unless marked optional):
 *   @default       what every program calls: exit, futex, brk, ids, time
 *   @basic-io      read/write/close/dup/seek on descriptors already open
 *   @file-system   open, stat, create, rename, link, xattrs, inotify
 *   @file-io       copy_file_range, sendfile, splice, fadvise, flock
 *   @io-event      poll, select, epoll, eventfd
 *   @aio           POSIX/Linux AIO (io_uring is not: refused)
 *   @ipc           pipes, SysV and POSIX IPC, memfd (the job's own ipc ns)
 *   @memory        mmap family, madvise, mlock, NUMA policy
 *   @process       fork/exec/wait/kill, sessions, prctl; clone without CLONE_NEW*
 *   @signal        signal handlers, masks, signalfd
 *   @timer         alarms, interval timers, timerfd
 *   @sync          fsync family
 *   @resources     priorities, affinity, rlimits of the job's own tasks
 *   @system-info   uname, sysinfo, getcpu
 *   @credentials   set*id/setgroups/chown: harmless without capabilities
 *   @sandbox       seccomp and Landlock: a job may restrict itself further
 *   @network-io    socket calls (socket() itself: AF_UNIX, and AF_INET/6
 *                  stream and datagram: the job's own netns unless host)
 *   @debug         optional: ptrace, process_vm_*, kcmp (gdb, strace)
 * No group grants the keyring calls: the kernel keeps a user keyring per
 * uid for as long as the host runs, not per job, so a key one job adds
 * would be found by the next job given the same uid (and a job can lock
 * that keyring's permissions so that nobody may clear it again).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/seccomp_groups.h"
#include "config/syscall_groups.h"

#define G(...) ((const char *const[]){ __VA_ARGS__, NULL })

const struct sb_seccomp_group sb_seccomp_groups[] = {
        { SB_SG_DEFAULT, "what every program calls", false, G(
                "arch_prctl", "brk", "cacheflush", "clock_getres", "clock_getres_time64",
                "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
                "exit", "exit_group", "futex", "futex_time64", "futex_waitv", "futex_wake",
                "futex_wait", "futex_requeue", "get_robust_list", "get_thread_area",
                "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
                "getgroups", "getgroups32", "getpgid", "getpgrp", "getpid", "getppid",
                "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
                "getrlimit", "getsid", "gettid", "gettimeofday", "getuid", "getuid32",
                "membarrier", "nanosleep", "pause", "prlimit64", "restart_syscall", "rseq",
                "rt_sigreturn", "sched_getaffinity", "sched_yield", "set_robust_list",
                "set_thread_area", "set_tid_address", "set_tls", "sigreturn", "time",
                "ugetrlimit", "map_shadow_stack") },
        { SB_SG_BASIC_IO, "I/O on descriptors already open", false, G(
                "_llseek", "close", "close_range", "dup", "dup2", "dup3", "lseek", "pread64",
                "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readv",
                "write", "writev") },
        { SB_SG_FILE_SYSTEM, "paths: open, stat, create, remove, rename, xattrs, inotify", false, G(
                "access", "chdir", "chmod", "creat", "faccessat", "faccessat2", "fallocate",
                "fchdir", "fchmod", "fchmodat", "fchmodat2", "fcntl", "fcntl64", "fgetxattr",
                "flistxattr", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64",
                "fstatfs", "fstatfs64", "ftruncate", "ftruncate64", "futimesat", "getcwd",
                "getdents", "getdents64", "getxattr", "inotify_add_watch", "inotify_init",
                "inotify_init1", "inotify_rm_watch", "lgetxattr", "link", "linkat",
                "listxattr", "llistxattr", "lremovexattr", "lsetxattr", "lstat", "lstat64",
                "mkdir", "mkdirat", "mknod", "mknodat", "newfstatat", "oldfstat", "oldlstat",
                "oldstat", "open", "openat", "openat2", "readlink", "readlinkat",
                "removexattr", "rename", "renameat", "renameat2", "rmdir", "setxattr", "stat",
                "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "truncate",
                "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
                "utimensat_time64", "utimes") },
        { SB_SG_FILE_IO, "zero-copy and advisory file calls", false, G(
                "cachestat", "copy_file_range", "fadvise64", "fadvise64_64", "arm_fadvise64_64", "flock",
                "readahead", "sendfile", "sendfile64", "splice", "tee", "vmsplice") },
        { SB_SG_IO_EVENT, "waiting on descriptors", false, G(
                "_newselect", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait",
                "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2", "poll", "ppoll",
                "ppoll_time64", "pselect6", "pselect6_time64", "select") },
        { SB_SG_AIO, "asynchronous I/O (not io_uring)", false, G(
                "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
                "io_pgetevents_time64", "io_setup", "io_submit") },
        { SB_SG_IPC, "pipes, SysV and POSIX IPC inside the job's ipc namespace", false, G(
                "ipc", "memfd_create", "mq_getsetattr", "mq_notify", "mq_open",
                "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
                "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd",
                "pipe", "pipe2", "semctl", "semget", "semop", "semtimedop",
                "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget") },
        { SB_SG_MEMORY, "the address space", false, G(
                "get_mempolicy", "madvise", "mbind", "mincore", "mlock", "mlock2", "mlockall",
                "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall",
                "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
                "set_mempolicy", "set_mempolicy_home_node") },
        { SB_SG_PROCESS, "processes and threads (clone: see arg_rules)", false, G(
                "capget", "execve", "execveat", "fork", "getrusage", "kill", "pidfd_open",
                "pidfd_send_signal", "prctl", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                "setpgid", "setsid", "tgkill", "times", "tkill", "vfork", "wait4", "waitid",
                "waitpid") },
        { SB_SG_SIGNAL, "signal handling", false, G(
                "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigsuspend",
                "rt_sigtimedwait", "rt_sigtimedwait_time64", "sigaction", "sigaltstack",
                "signal", "signalfd", "signalfd4", "sigpending", "sigprocmask",
                "sigsuspend") },
        { SB_SG_TIMER, "alarms and timers", false, G(
                "alarm", "getitimer", "setitimer", "timer_create", "timer_delete",
                "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
                "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
                "timerfd_settime", "timerfd_settime64") },
        { SB_SG_SYNC, "flushing to storage", false, G(
                "fdatasync", "fsync", "sync", "sync_file_range", "sync_file_range2",
                "syncfs") },
        { SB_SG_RESOURCES, "priorities, affinity and limits of the job's own tasks", false, G(
                "getpriority", "ioprio_get", "ioprio_set", "sched_get_priority_max",
                "sched_get_priority_min", "sched_getattr", "sched_getparam",
                "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
                "sched_setaffinity", "sched_setattr", "sched_setparam",
                "sched_setscheduler", "setpriority", "setrlimit") },
        { SB_SG_SYSTEM_INFO, "what the kernel says about itself", false, G(
                "getcpu", "olduname", "oldolduname", "sysinfo", "uname") },
        { SB_SG_CREDENTIALS, "identity calls, harmless without capabilities", false, G(
                "capset", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown",
                "lchown32", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
                "setgid32", "setgroups", "setgroups32", "setregid", "setregid32",
                "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
                "setreuid32", "setuid", "setuid32") },
        { SB_SG_SANDBOX, "a job may restrict itself further", false, G(
                "seccomp", "landlock_create_ruleset", "landlock_add_rule",
                "landlock_restrict_self") },
        { SB_SG_NETWORK_IO, "socket calls (socket() itself: see arg_rules)", false, G(
                "accept", "accept4", "bind", "connect", "getpeername", "getsockname",
                "getsockopt", "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
                "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt",
                "shutdown") },
        { SB_SG_DEBUG, "tracing the job's own processes (gdb, strace)", true, G(
                "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd") },
        { NULL, NULL, false, NULL },
};

/* Never allowed, whatever a profile says: they reach past the sandbox
 * (mounts, namespaces, handles to host files), change the host (clock,
 * modules, kexec, swap, accounting, reboot), are large attack surface
 * with no use in a job (io_uring, bpf, perf, userfaultfd) or keep state per
 * uid beyond the job (the keyrings, see above). */
const char *const sb_seccomp_never[] = {
        "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount",
        "fspick", "open_tree", "move_mount", "mount_setattr", "unshare", "setns",
        "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open",
        "userfaultfd", "open_by_handle_at", "name_to_handle_at", "kexec_load",
        "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
        "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "settimeofday", "stime",
        "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex",
        "lookup_dcookie", "nfsservctl", "vhangup", "iopl", "ioperm", "uselib", "sethostname",
        "setdomainname", "fanotify_init", "fanotify_mark", "process_madvise", "migrate_pages",
        "move_pages", "_sysctl", "pciconfig_read", "pciconfig_write", "pciconfig_iobase",
        "add_key", "keyctl", "request_key", NULL,
};

/* Refused by the default groups; some an optional group may grant. */
const char *const sb_seccomp_refused[] = {
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", NULL,
};

/* Calls whose arguments decide, allowed by add_arg_rules(). clone's
 * flags: any CLONE_NEW* refused (arg 0 on x86_64 and aarch64 alike; s390
 * swaps the first two, which we do not build for). clone3's flags sit in
 * memory a filter cannot read: ENOSYS, so that libc falls back to clone. */
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
                  CLONE_NEWPID | CLONE_NEWNET)
#define U32 0xffffffffULL      /* int and unsigned int arguments: the kernel ignores the upper half */

const struct sb_seccomp_group *sb_seccomp_group_find(const char *name)
{
        for (const struct sb_seccomp_group *g = sb_seccomp_groups; g->name; g++)
                if (strcmp(g->name, name) == 0)
                        return g;
        return NULL;
}

/* Every call of group g, as allow rules. Names unknown on the native
 * architecture resolve to a negative pseudo number and are skipped. */
static int add_group(scmp_filter_ctx ctx, const struct sb_seccomp_group *g, char *errbuf,
                     size_t errlen)
{
        for (const char *const *s = g->syscalls; *s; s++) {
                int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, *s);
                int r;

                if (nr == __NR_SCMP_ERROR)
                        return sb_backend_fail(errbuf, errlen, -EINVAL, "syscall %s in %s", *s,
                                               g->name);
                if (nr < 0)
                        continue;
                r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0)
                        return sb_backend_fail(errbuf, errlen, r, "seccomp_rule_add %s", *s);
        }
        return 0;
}

/* The kernel's SOCK_TYPE_MASK (not in the uapi headers): socket()'s type
 * without SOCK_NONBLOCK and SOCK_CLOEXEC. */
#define SOCKET_TYPE_MASK 0xfULL

static int add_arg_rules(scmp_filter_ctx ctx, bool network, char *errbuf, size_t errlen)
{
        int r;

#define RULE(action, sc, n, ...) do { \
                r = seccomp_rule_add_exact(ctx, action, SCMP_SYS(sc), n, ##__VA_ARGS__); \
                if (r < 0) \
                        return sb_backend_fail(errbuf, errlen, r, "seccomp_rule_add %s", #sc); \
        } while (0)
        RULE(SCMP_ACT_ALLOW, clone, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)NS_FLAGS, 0));
        RULE(SCMP_ACT_ERRNO(ENOSYS), clone3, 0);
        /* The default persona, and the query of the current one. */
        RULE(SCMP_ACT_ALLOW, personality, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, U32, 0));
        RULE(SCMP_ACT_ALLOW, personality, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, U32, 0xffffffffULL));
        /* ioctl: allowed here, TIOCSTI, TIOCLINUX and TIOCSETD refused by the
         * deny program. */
        RULE(SCMP_ACT_ALLOW, ioctl, 0);
        RULE(SCMP_ACT_ALLOW, socket, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, U32, AF_UNIX));
        RULE(SCMP_ACT_ALLOW, socketpair, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, U32, AF_UNIX));
        /* TCP and UDP in every network mode: a job without the host's
         * network has a namespace of its own with only lo, so these reach
         * the job's own loopback and nothing else. Stream and datagram
         * only (the type without SOCK_NONBLOCK/SOCK_CLOEXEC): raw and
         * packet sockets stay refused, and so does every other family
         * (packet, netlink, vsock: routes around the namespace). */
        (void)network;
        RULE(SCMP_ACT_ALLOW, socket, 2, SCMP_A0(SCMP_CMP_MASKED_EQ, U32, AF_INET),
             SCMP_A1(SCMP_CMP_MASKED_EQ, SOCKET_TYPE_MASK, SOCK_STREAM));
        RULE(SCMP_ACT_ALLOW, socket, 2, SCMP_A0(SCMP_CMP_MASKED_EQ, U32, AF_INET),
             SCMP_A1(SCMP_CMP_MASKED_EQ, SOCKET_TYPE_MASK, SOCK_DGRAM));
        RULE(SCMP_ACT_ALLOW, socket, 2, SCMP_A0(SCMP_CMP_MASKED_EQ, U32, AF_INET6),
             SCMP_A1(SCMP_CMP_MASKED_EQ, SOCKET_TYPE_MASK, SOCK_STREAM));
        RULE(SCMP_ACT_ALLOW, socket, 2, SCMP_A0(SCMP_CMP_MASKED_EQ, U32, AF_INET6),
             SCMP_A1(SCMP_CMP_MASKED_EQ, SOCKET_TYPE_MASK, SOCK_DGRAM));
        return 0;
}

static int add_deny_rules(scmp_filter_ctx ctx, char *errbuf, size_t errlen)
{
        int r;

        RULE(SCMP_ACT_ERRNO(EPERM), ioctl, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, U32, TIOCSTI));
        RULE(SCMP_ACT_ERRNO(EPERM), ioctl, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, U32, TIOCLINUX));
        /* A line discipline other than the terminal's own: the kernel loads
         * its module on demand (dev.tty.ldisc_autoload=1, the default), so a
         * job could pull rarely used, bug-prone code (n_hdlc, n_gsm, slip)
         * into the host's kernel and then reach it through its pty. */
        RULE(SCMP_ACT_ERRNO(EPERM), ioctl, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, U32, TIOCSETD));
#undef RULE
        return 0;
}

/* Only the native ABI: anything else (i386, x32 on x86_64) kills. libseccomp
 * answers an x32 call (same audit arch as x86_64, nr | __X32_SYSCALL_BIT)
 * with the bad-arch action too, as long as x32 is not added; the
 * integration test "x32" checks it. */
static scmp_filter_ctx new_ctx(uint32_t def_action, char *errbuf, size_t errlen, int *rp)
{
        scmp_filter_ctx ctx = seccomp_init(def_action);
        int r;

        if (!ctx) {
                *rp = sb_backend_fail(errbuf, errlen, -ENOMEM, "seccomp_init");
                return NULL;
        }
        if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
            /* The child sets no_new_privs itself and loads the raw program. */
            (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
            (r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0) {
                seccomp_release(ctx);
                *rp = sb_backend_fail(errbuf, errlen, r, "seccomp_attr_set");
                return NULL;
        }
        return ctx;
}

/* Export ctx as a classic BPF program into freshly allocated memory. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *out, char *errbuf, size_t errlen)
{
        struct sock_filter *buf = NULL;
        off_t size;
        ssize_t n;
        int fd, r;

        fd = memfd_create("skillbox-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "memfd_create");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "seccomp_export_bpf");
                goto out;
        }
        size = lseek(fd, 0, SEEK_END);
        if (size < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "lseek seccomp program");
                goto out;
        }
        if (size == 0 || size % (off_t)sizeof(struct sock_filter) ||
            size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
                r = sb_backend_fail(errbuf, errlen, -E2BIG, "seccomp program of %lld bytes",
                                    (long long)size);
                goto out;
        }
        buf = malloc((size_t)size);
        if (!buf) {
                r = sb_backend_fail(errbuf, errlen, -ENOMEM, "seccomp program");
                goto out;
        }
        n = pread(fd, buf, (size_t)size, 0);
        if (n != (ssize_t)size) {
                r = sb_backend_fail(errbuf, errlen, n < 0 ? -errno : -EIO, "read seccomp program");
                free(buf);
                goto out;
        }
        out->filter = buf;
        out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
        r = 0;
out:
        close(fd);
        return r;
}

static struct sb_seccomp_prog *prog_free(struct sb_seccomp_prog *p)
{
        if (p) {
                free(p->allow.filter);
                free(p->deny.filter);
                free(p);
        }
        return NULL;
}

/* One program instead of two, when that is exactly the same filter: the
 * kernel JIT-compiles every program a process loads (~0.6 ms each on this
 * kind of VM, plus freeing it again at exit). The deny program runs first;
 * where it would allow, it jumps to the start of the allow program. With two
 * loaded programs the kernel takes the most restrictive answer of both;
 * chaining gives the same as long as the deny program's other answers are
 * the bad-arch kill (which the allow program gives for the same calls: both
 * are built with that attribute and only the native arch) or EPERM (its
 * rules, on ioctl commands the allow program allows). Anything else, or a
 * program too long, leaves the two programs as they are (returns 0). */
static int chain(struct sb_seccomp_prog *p)
{
        const struct sock_fprog *deny = &p->deny, *allow = &p->allow;
        size_t n = (size_t)deny->len + allow->len;
        struct sock_filter *buf;

        if (n > BPF_MAXINSNS)
                return 0;
        for (unsigned i = 0; i < deny->len; i++) {
                const struct sock_filter *f = &deny->filter[i];

                if (BPF_CLASS(f->code) != BPF_RET)
                        continue;
                if (BPF_RVAL(f->code) != BPF_K)
                        return 0;
                if (f->k != SECCOMP_RET_ALLOW && f->k != SECCOMP_RET_KILL_PROCESS &&
                    f->k != (SECCOMP_RET_ERRNO | EPERM))
                        return 0;
        }
        buf = malloc(n * sizeof(*buf));
        if (!buf)
                return -ENOMEM;
        for (unsigned i = 0; i < deny->len; i++) {
                const struct sock_filter *f = &deny->filter[i];

                if (BPF_CLASS(f->code) == BPF_RET && f->k == SECCOMP_RET_ALLOW)
                        buf[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA,
                                                              deny->len - 1 - i, 0, 0);
                else
                        buf[i] = *f;
        }
        memcpy(buf + deny->len, allow->filter, allow->len * sizeof(*buf));
        free(p->allow.filter);
        free(p->deny.filter);
        p->allow.filter = buf;
        p->allow.len = (unsigned short)n;
        p->deny.filter = NULL;
        p->deny.len = 0;
        return 0;
}

static int build(bool network, const char *const *extra, const char *key,
                 struct sb_seccomp_prog **out, char *errbuf, size_t errlen)
{
        struct sb_seccomp_prog *p;
        scmp_filter_ctx ctx;
        int r = 0;

        p = calloc(1, sizeof(*p));
        if (!p)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "seccomp program");
        p->network = network;
        snprintf(p->key, sizeof(p->key), "%s", key);
        snprintf(p->name, sizeof(p->name), "@skillbox-service%s%s%s", network ? "+network" : "",
                 *key ? "," : "", key);

        ctx = new_ctx(SCMP_ACT_ERRNO(EPERM), errbuf, errlen, &r);
        if (!ctx)
                goto fail;
        for (const struct sb_seccomp_group *g = sb_seccomp_groups; g->name && r >= 0; g++)
                if (!g->optional)
                        r = add_group(ctx, g, errbuf, errlen);
        for (const char *const *e = extra; e && *e && r >= 0; e++) {
                const struct sb_seccomp_group *g = sb_seccomp_group_find(*e);
                if (!g)
                        r = sb_backend_fail(errbuf, errlen, -EINVAL, "unknown syscall group %s", *e);
                else
                        r = add_group(ctx, g, errbuf, errlen);
        }
        if (r >= 0)
                r = add_arg_rules(ctx, network, errbuf, errlen);
        if (r >= 0)
                r = export_prog(ctx, &p->allow, errbuf, errlen);
        seccomp_release(ctx);
        if (r < 0)
                goto fail;

        ctx = new_ctx(SCMP_ACT_ALLOW, errbuf, errlen, &r);
        if (!ctx)
                goto fail;
        r = add_deny_rules(ctx, errbuf, errlen);
        if (r >= 0)
                r = export_prog(ctx, &p->deny, errbuf, errlen);
        seccomp_release(ctx);
        if (r >= 0 && (r = chain(p)) < 0)
                r = sb_backend_fail(errbuf, errlen, r, "seccomp program");
        if (r < 0)
                goto fail;
        *out = p;
        return 0;
fail:
        prog_free(p);
        return r;
}

unsigned sb_linux_seccomp_to_notify(struct sock_filter *prog, unsigned len)
{
        unsigned n = 0;

        for (unsigned i = 0; i < len; i++) {
                struct sock_filter *f = &prog[i];

                if (BPF_CLASS(f->code) == BPF_RET && BPF_RVAL(f->code) == BPF_K &&
                    f->k == (SECCOMP_RET_ERRNO | EPERM)) {
                        f->k = SECCOMP_RET_USER_NOTIF;
                        n++;
                }
        }
        return n;
}

int sb_linux_seccomp_get(struct sb_seccomp_cache *cache, bool network,
                         const char *const *extra, const struct sb_seccomp_prog **out,
                         char *errbuf, size_t errlen)
{
        struct sb_seccomp_prog *p;
        char key[sizeof(p->key)];
        size_t n = 0;
        int slot = -1, r;

        key[0] = '\0';
        for (const char *const *e = extra; e && *e; e++) {
                int w = snprintf(key + n, sizeof(key) - n, "%s%s", n ? "," : "", *e);
                if (w < 0 || (size_t)w >= sizeof(key) - n)
                        return sb_backend_fail(errbuf, errlen, -E2BIG, "syscall groups");
                n += (size_t)w;
        }
        for (int i = 0; i < SB_SECCOMP_CACHE_MAX; i++) {
                p = cache->prog[i];
                if (!p) {
                        if (slot < 0)
                                slot = i;
                        continue;
                }
                if (p->network == network && strcmp(p->key, key) == 0) {
                        *out = p;
                        return 0;
                }
        }
        r = build(network, extra, key, &p, errbuf, errlen);
        if (r < 0)
                return r;
        if (slot < 0) {
                /* Full: profiles name few combinations; drop the oldest. Safe:
                 * a spawn's child has its own copy of the memory. */
                prog_free(cache->prog[0]);
                memmove(&cache->prog[0], &cache->prog[1],
                        sizeof(cache->prog[0]) * (SB_SECCOMP_CACHE_MAX - 1));
                slot = SB_SECCOMP_CACHE_MAX - 1;
        }
        cache->prog[slot] = p;
        *out = p;
        return 0;
}

void sb_linux_seccomp_cache_free(struct sb_seccomp_cache *cache)
{
        for (int i = 0; i < SB_SECCOMP_CACHE_MAX; i++)
                cache->prog[i] = prog_free(cache->prog[i]);
}
