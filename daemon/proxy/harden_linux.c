/* harden_linux.c — what skillbox-proxy gives up on Linux before it reads a
 * byte from a job (harden_darwin.c: macOS). It is started as root by the
 * daemon (so it can be handed sockets of every job and drop to its own
 * uid); it needs no privilege at all after that: it only accepts on
 * sockets it was given and connects out. Each step is checked and a
 * failure ends the process with the step named:
 *   1. the capability bounding set emptied (while CAP_SETPCAP is held);
 *   2. supplementary groups, then gid, then uid set to the configured ones
 *      (real, effective and saved), and verified;
 *   3. every capability set cleared (permitted, effective, inheritable,
 *      ambient) and verified;
 *   4. no_new_privs, so nothing it could exec gains privilege;
 *   5. a seccomp filter: only the calls an event loop, its threadpool, the
 *      resolver and TCP need; sockets only inet, inet6, unix and route
 *      netlink, never raw or packet; files opened only to be read; no
 *      namespaces, no ptrace, no exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "daemon/proxy/proxy.h"

static int fail(const char *step, int r)
{
        fprintf(stderr, "skillbox-proxy: %s: %s\n", step, strerror(-r));
        return r;
}

static int caps_empty(void)
{
        cap_t now = cap_get_proc(), none = cap_init();
        int same;

        if (!now || !none) {
                cap_free(now);
                cap_free(none);
                return -ENOMEM;
        }
        same = cap_compare(now, none) == 0;
        cap_free(now);
        cap_free(none);
        return same ? 0 : -EPERM;
}

int proxy_drop_privileges(uid_t uid, gid_t gid)
{
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        cap_t none;
        int r;

        if (uid == 0 || gid == 0)
                return fail("refusing to run as uid or gid 0", -EINVAL);
        if (geteuid() == 0) {
                /* Up to the kernel's last capability, which may be newer
                 * than the headers this was built with. */
                for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
                        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                                return fail("drop the capability bounding set", -errno);
                if (setgroups(0, NULL) < 0)
                        return fail("setgroups", -errno);
        }
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return fail("PR_SET_KEEPCAPS", -errno);
        if (setresgid(gid, gid, gid) < 0)
                return fail("setresgid", -errno);
        if (setresuid(uid, uid, uid) < 0)
                return fail("setresuid", -errno);
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return fail("getresuid", -errno);
        if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
                return fail("uid and gid not changed", -EPERM);
        none = cap_init();
        if (!none)
                return fail("cap_init", -ENOMEM);
        r = cap_set_proc(none) < 0 ? -errno : 0;
        cap_free(none);
        if (r < 0)
                return fail("clear capabilities", r);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return fail("clear ambient capabilities", -errno);
        r = caps_empty();
        if (r < 0)
                return fail("capabilities still held", r);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return fail("PR_SET_NO_NEW_PRIVS", -errno);
        return 0;
}

/* Plain calls: memory, threads, time, signals, files for the resolver's
 * configuration (/etc/hosts, resolv.conf, nsswitch and its modules), the
 * event loop and TCP/UDP. */
static const char *const allowed[] = {
        "read", "write", "readv", "writev", "pread64", "close",
        "fstat", "newfstatat", "statx", "stat", "lstat", "lseek", "fcntl", "access",
        "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64",
        "mmap", "munmap", "mprotect", "madvise", "brk", "mremap", "membarrier",
        "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
        "exit", "exit_group", "restart_syscall", "tgkill",
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
        "gettid", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid",
        "getresuid", "getresgid", "getgroups",
        "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday",
        "sched_getaffinity", "sched_yield", "getrandom", "uname", "sysinfo",
        "prlimit64", "getrlimit",
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
        "epoll_pwait2", "eventfd2", "pipe2", "poll", "ppoll", "select", "pselect6",
        "connect", "accept", "accept4", "bind", "listen", "getsockname", "getpeername",
        "setsockopt", "getsockopt", "shutdown", "sendto", "sendmsg", "sendmmsg",
        "recvfrom", "recvmsg", "recvmmsg",
};

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
                    const struct scmp_arg_cmp *cmp)
{
        int nr = seccomp_syscall_resolve_name(name);

        if (nr == __NR_SCMP_ERROR)
                return 0; /* not a call on this architecture */
        return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

static int add_filter_rules(scmp_filter_ctx ctx)
{
        static const int domains[] = {AF_INET, AF_INET6, AF_UNIX};
        static const int types[] = {SOCK_STREAM, SOCK_DGRAM};
        static const unsigned long ioctls[] = {FIONBIO, FIONREAD, FIOCLEX, TCGETS};
        const uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                  CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
        int r;

        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
                r = add_rule(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
                if (r < 0)
                        return r;
        }
        /* The type's low bits are the socket type; SOCK_CLOEXEC and
         * SOCK_NONBLOCK may be or-ed in. No SOCK_RAW for inet. */
        for (size_t d = 0; d < 3; d++) {
                for (size_t t = 0; t < 2; t++) {
                        struct scmp_arg_cmp cmp[] = {
                                SCMP_A0(SCMP_CMP_EQ, (uint64_t)domains[d]),
                                SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (uint64_t)types[t]),
                        };
                        r = add_rule(ctx, SCMP_ACT_ALLOW, "socket", 2, cmp);
                        if (r < 0)
                                return r;
                }
        }
        /* glibc's getaddrinfo asks the kernel for the host's addresses over
         * route netlink; nothing else of netlink. */
        {
                struct scmp_arg_cmp cmp[] = {
                        SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
                        SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE),
                };
                r = add_rule(ctx, SCMP_ACT_ALLOW, "socket", 2, cmp);
                if (r < 0)
                        return r;
        }
        /* Files are opened to be read (the resolver's configuration), never
         * created or written. */
        {
                const uint64_t writing = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
                struct scmp_arg_cmp open_cmp[] = {SCMP_A1(SCMP_CMP_MASKED_EQ, writing, 0)};
                struct scmp_arg_cmp openat_cmp[] = {SCMP_A2(SCMP_CMP_MASKED_EQ, writing, 0)};

                r = add_rule(ctx, SCMP_ACT_ALLOW, "open", 1, open_cmp);
                if (r < 0)
                        return r;
                r = add_rule(ctx, SCMP_ACT_ALLOW, "openat", 1, openat_cmp);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
                struct scmp_arg_cmp cmp[] = {SCMP_A1(SCMP_CMP_EQ, ioctls[i])};

                r = add_rule(ctx, SCMP_ACT_ALLOW, "ioctl", 1, cmp);
                if (r < 0)
                        return r;
        }
        /* Threads for the resolver, never new namespaces. clone3's flags sit
         * behind a pointer the filter cannot read: it fails with ENOSYS and
         * glibc falls back to clone. */
        {
                struct scmp_arg_cmp cmp[] = {SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags, 0)};

                r = add_rule(ctx, SCMP_ACT_ALLOW, "clone", 1, cmp);
                if (r < 0)
                        return r;
        }
        r = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
        if (r < 0)
                return r;
        /* io_uring is refused the same way; libuv then uses epoll alone. */
        r = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "io_uring_setup", 0, NULL);
        if (r < 0)
                return r;
        {
                struct scmp_arg_cmp cmp[] = {SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)};

                r = add_rule(ctx, SCMP_ACT_ALLOW, "prctl", 1, cmp);
                if (r < 0)
                        return r;
        }
        return 0;
}

int proxy_confine(void)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        int r;

        if (!ctx)
                return fail("seccomp_init", -ENOMEM);
        r = add_filter_rules(ctx);
        if (r < 0) {
                seccomp_release(ctx);
                return fail("seccomp rule", r);
        }
        r = seccomp_load(ctx);
        seccomp_release(ctx);
        if (r < 0)
                return fail("seccomp_load", r);
        return 0;
}
