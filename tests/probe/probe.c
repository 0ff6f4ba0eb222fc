/* probe.c — a small static program the integration tests run inside jobs.
 *
 * One mode per argv[1]; each mode does one hostile or observable thing and
 * reports on stdout in a fixed, easily parsed form ("key=value" words or a
 * single token such as "ok" or an errno name like "ENETUNREACH"). It is
 * linked statically so it runs in a job whose root holds only the system
 * directories, whatever the host's libc is. Every mode is bounded: nothing
 * here runs forever on its own, so a broken sandbox cannot wedge the suite.
 *
 * Exit status: 0 when the mode did what was asked, 1 when the operation
 * failed in the expected, reported way, 2 on bad usage. `crash` dies of SIGSEGV.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024u * 1024u)
#define FORK_ATTEMPTS_MAX 100000L
/* The pattern `output N` repeats; the tests build the same bytes. */
static const char pattern[] = "abcdefghijklmnopqrstuvwxyz0123456789\n";

static const char *errname(int e)
{
        const char *n = strerrorname_np(e);
        static char buf[32];

        if (n)
                return n;
        snprintf(buf, sizeof(buf), "E%d", e);
        return buf;
}

static long long parse_num(const char *s)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < 0) {
                fprintf(stderr, "probe: bad number: %s\n", s);
                exit(2);
        }
        return v;
}

static uint64_t now_ms(clockid_t clk)
{
        struct timespec ts;

        if (clock_gettime(clk, &ts) < 0) {
                perror("probe: clock_gettime");
                exit(2);
        }
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long long ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Allocate and touch BYTES in 1 MiB steps; the cgroup should kill us first. */
static int mode_memhog(long long bytes)
{
        long long done = 0;

        while (done < bytes) {
                char *p = malloc(MIB);

                if (!p) {
                        printf("memhog: malloc failed after %lld MiB\n", done / MIB);
                        return 1;
                }
                /* Touch every page with a non-zero value so it is really charged. */
                memset(p, 0x5a, MIB);
                done += MIB;
                fprintf(stderr, "memhog: %lld MiB\n", done / MIB);
        }
        printf("memhog: done %lld MiB\n", done / MIB);
        return 0;
}

/* Fork until fork fails; children just sleep. Bounded by FORK_ATTEMPTS_MAX. */
static int mode_forkbomb(void)
{
        long forks = 0, attempts;
        int err = 0;

        for (attempts = 0; attempts < FORK_ATTEMPTS_MAX; attempts++) {
                pid_t pid = fork();

                if (pid == 0) {
                        /* Children sleep until the job is torn down (bounded anyway). */
                        sleep_ms(60000);
                        _exit(0);
                }
                if (pid < 0) {
                        err = errno;
                        break;
                }
                forks++;
        }
        printf("forks=%ld errno=%s\n", forks, err ? errname(err) : "none");
        fflush(stdout);
        return err ? 0 : 1;
}

static int mode_spin(long long ms)
{
        uint64_t start = now_ms(CLOCK_MONOTONIC);
        volatile uint64_t x = 0;

        while (now_ms(CLOCK_MONOTONIC) - start < (uint64_t)ms) {
                for (int i = 0; i < 100000; i++)
                        x += (uint64_t)i;
        }
        printf("cpu_ms=%llu wall_ms=%llu\n",
               (unsigned long long)now_ms(CLOCK_PROCESS_CPUTIME_ID),
               (unsigned long long)(now_ms(CLOCK_MONOTONIC) - start));
        return 0;
}

static int mode_output(long long n)
{
        char buf[64 * 1024];
        size_t plen = sizeof(pattern) - 1;
        long long off = 0;

        while (off < n) {
                size_t chunk = (size_t)(n - off < (long long)sizeof(buf) ? n - off : (long long)sizeof(buf));

                for (size_t i = 0; i < chunk; i++)
                        buf[i] = pattern[(size_t)(off + (long long)i) % plen];
                if (write_all(STDOUT_FILENO, buf, chunk) < 0)
                        return 1;
                off += (long long)chunk;
        }
        return 0;
}

static int mode_seq(long long n)
{
        for (long long i = 1; i <= n; i++)
                printf("%lld\n", i);
        return fflush(stdout) == 0 ? 0 : 1;
}

static int mode_ids(void)
{
        char self[64] = "";
        char host[256] = "";
        ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);

        if (n >= 0)
                self[n] = '\0';
        if (gethostname(host, sizeof(host) - 1) < 0)
                strcpy(host, "?");
        printf("uid=%d gid=%d euid=%d pid=%d ppid=%d proc_self=%s hostname=%s\n",
               (int)getuid(), (int)getgid(), (int)geteuid(), (int)getpid(), (int)getppid(),
               n >= 0 ? self : errname(errno), host);
        return 0;
}

static int mode_cat(const char *path)
{
        char buf[64 * 1024];
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        for (;;) {
                ssize_t r = read(fd, buf, sizeof(buf));

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        printf("%s\n", errname(errno));
                        close(fd);
                        return 1;
                }
                if (r == 0)
                        break;
                if (write_all(STDOUT_FILENO, buf, (size_t)r) < 0) {
                        close(fd);
                        return 1;
                }
        }
        close(fd);
        return 0;
}

static int mode_ls(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;

        if (!d) {
                printf("%s\n", errname(errno));
                return 1;
        }
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        printf("%s\n", de->d_name);
        }
        closedir(d);
        return 0;
}

/* A real fault: the kernel forces SIGSEGV even on the pid 1 of a pid
 * namespace, where a kill() from inside would be ignored. */
static int mode_crash(void)
{
        volatile int *p = NULL;

        fflush(stdout);
        *p = 1;
        return 0;
}

static int usage(void)
{
        fprintf(stderr,
                "usage: probe memhog BYTES | forkbomb | spin MS | sleep MS | output N | seq N |\n"
                "             ids | cat PATH | ls PATH | connect HOST PORT |\n"
                "             double-fork PATH DELAY_MS | exists PATH | crash\n");
        return 2;
}

/* TCP connect with a 3 s bound; prints "ok" or the errno name. Numeric
 * addresses only: a static binary must not use the NSS resolver. */
static int mode_connect(const char *host, const char *port)
{
        struct sockaddr_storage ss = { 0 };
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        long long p = parse_num(port);
        socklen_t slen, len = sizeof(int);
        struct pollfd pfd;
        int fd, r, err = 0;

        if (p > 65535)
                return usage();
        if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
                sin->sin_family = AF_INET;
                sin->sin_port = htons((uint16_t)p);
                slen = sizeof(*sin);
        } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons((uint16_t)p);
                slen = sizeof(*sin6);
        } else {
                return usage();
        }
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
                err = errno;
                if (err == EINPROGRESS) {
                        pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
                        r = poll(&pfd, 1, 3000);
                        if (r == 0)
                                err = ETIMEDOUT;
                        else if (r < 0)
                                err = errno;
                        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                                err = errno;
                }
        }
        close(fd);
        printf("%s\n", err ? errname(err) : "ok");
        return err ? 1 : 0;
}

/* Detach a grandchild in its own session that sleeps DELAY_MS, then writes
 * PATH; print its pid and return at once. A sandbox must not let it live on. */
static int mode_double_fork(const char *path, long long delay_ms)
{
        int pfd[2];
        pid_t pid, gpid = 0;
        int status;

        if (pipe(pfd) < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        pid = fork();
        if (pid < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        if (pid == 0) {
                close(pfd[0]);
                if (setsid() < 0)
                        _exit(1);
                pid = fork();
                if (pid < 0)
                        _exit(1);
                if (pid > 0) {
                        if (write(pfd[1], &pid, sizeof(pid)) != sizeof(pid))
                                _exit(1);
                        _exit(0);
                }
                close(pfd[1]);
                for (int fd = 0; fd < 3; fd++) {
                        int nfd = open("/dev/null", O_RDWR);

                        if (nfd >= 0 && nfd != fd) {
                                dup2(nfd, fd);
                                close(nfd);
                        }
                }
                sleep_ms(delay_ms);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        (void)!write(fd, "alive\n", 6);
                        close(fd);
                }
                _exit(0);
        }
        close(pfd[1]);
        if (read(pfd[0], &gpid, sizeof(gpid)) != sizeof(gpid))
                gpid = -1;
        close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        printf("grandchild=%d\n", (int)gpid);
        return gpid > 0 ? 0 : 1;
}

static int mode_exists(const char *path)
{
        struct stat st;

        if (lstat(path, &st) == 0) {
                printf("yes\n");
                return 0;
        }
        printf("no %s\n", errname(errno));
        return 1;
}

/* ---- hostile-job modes (tests/integration/test_hostile_*.py) ----------
 *
 * `probe hostile SUB ...`: each SUB tries one class of escape and reports
 * "name=RESULT" lines, RESULT being "ok", an errno name, or "SIGxxx" when
 * the attempt (run in a forked child) was killed. Attempts that could
 * change this process (unshare, personality, ptrace) run in a child, so
 * one success cannot colour the next line. Nothing destructive is ever
 * attempted: writes to kernel tunables only open the file, the reboot
 * call carries bad magic, time setters set the time it already is.
 */
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <stddef.h>
#include <sys/un.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static long h_attempt(int which);

/* Names of the table rows; h_attempt(i) issues row i. */
static const char *const h_names[] = {
        "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount",
        "fspick", "open_tree", "move_mount", "mount_setattr",
        "unshare_user", "unshare_mnt", "unshare_net", "setns", "clone_newuser",
        "clone_newns", "clone3", "io_uring_setup", "bpf", "perf_event_open",
        "userfaultfd", "keyctl", "add_key", "request_key", "ptrace_traceme",
        "ptrace_attach_1", "process_vm_readv", "process_vm_writev", "kcmp",
        "name_to_handle_at", "open_by_handle_at", "kexec_load", "kexec_file_load",
        "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
        "acct", "quotactl", "syslog", "settimeofday", "clock_settime", "clock_adjtime",
        "personality_linux32", "ioctl_tiocsti", "ioctl_tioclinux",
        "socket_packet", "socket_inet_raw", "socket_netlink", "socket_vsock",
        "socket_alg", "socket_inet", "socket_inet6",
        "unshare_user_then_mount", "x32_getpid", "i386_getpid",
        "control_getpid", "control_socket_unix", "ioctl_tiocsetd",
};
#define H_N (sizeof(h_names) / sizeof(h_names[0]))

/* A 32-bit system call through int 0x80 (getpid is 20 there). */
static long h_i386_getpid(void)
{
#if defined(__x86_64__)
        long ret = 20;

        __asm__ volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
        if (ret < 0 && ret > -4096) {
                errno = (int)-ret;
                return -1;
        }
        return ret;
#else
        errno = ENOSYS;
        return -1;
#endif
}

static long h_attempt(int which)
{
        static char buf[64];
        char dst[8];
        struct iovec lio = { dst, sizeof(dst) }, rio = { buf, sizeof(dst) };
        struct timespec ts;
        struct timeval tv;
        long r;
        int fd;

        switch (which) {
        case 0: return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0L, NULL);
        case 1: return syscall(SYS_umount2, "/tmp", (long)MNT_DETACH);
        case 2: return syscall(SYS_pivot_root, "/tmp", "/tmp");
        case 3: return syscall(SYS_chroot, "/tmp");
        case 4: return syscall(__NR_fsopen, "tmpfs", 0L);
        case 5: return syscall(__NR_fsconfig, -1L, 6L /* CMD_CREATE */, NULL, NULL, 0L);
        case 6: return syscall(__NR_fsmount, -1L, 0L, 0L);
        case 7: return syscall(__NR_fspick, (long)AT_FDCWD, "/tmp", 0L);
        case 8: return syscall(__NR_open_tree, (long)AT_FDCWD, "/tmp", 1L /* CLONE */);
        case 9: return syscall(__NR_move_mount, -1L, "", -1L, "", 0L);
        case 10: return syscall(__NR_mount_setattr, (long)AT_FDCWD, "/tmp", 0L, NULL, 0L);
        case 11: return syscall(SYS_unshare, (long)CLONE_NEWUSER);
        case 12: return syscall(SYS_unshare, (long)CLONE_NEWNS);
        case 13: return syscall(SYS_unshare, (long)CLONE_NEWNET);
        case 14:
                fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -1;
                return syscall(SYS_setns, (long)fd, 0L);
        case 15:
        case 16:
                r = syscall(SYS_clone, (long)((which == 15 ? CLONE_NEWUSER : CLONE_NEWNS) | SIGCHLD),
                            0L, 0L, 0L, 0L);
                if (r == 0)
                        _exit(0);
                return r;
        case 17: {
                struct clone_args ca = { .exit_signal = SIGCHLD };

                r = syscall(__NR_clone3, &ca, sizeof(ca));
                if (r == 0)
                        _exit(0);
                return r;
        }
        case 18: {
                static char params[120];

                return syscall(__NR_io_uring_setup, 1L, params);
        }
        case 19: {
                static char attr[128];

                return syscall(SYS_bpf, 0L /* MAP_CREATE */, attr, (long)sizeof(attr));
        }
        case 20: {
                struct perf_event_attr pa = {
                        .type = PERF_TYPE_SOFTWARE, .size = sizeof(pa),
                        .config = PERF_COUNT_SW_CPU_CLOCK, .exclude_kernel = 1, .exclude_hv = 1,
                };

                return syscall(SYS_perf_event_open, &pa, 0L, -1L, -1L, 0L);
        }
        case 21: return syscall(SYS_userfaultfd, 1L /* UFFD_USER_MODE_ONLY */);
        case 22: return syscall(SYS_keyctl, 0L /* GET_KEYRING_ID */, -3L /* SESSION */, 0L);
        case 23: return syscall(SYS_add_key, "user", "sbx", "x", 1L, -2L /* PROCESS */);
        case 24: return syscall(SYS_request_key, "user", "sbx-none", NULL, 0L);
        case 25: return syscall(SYS_ptrace, (long)PTRACE_TRACEME, 0L, NULL, NULL);
        case 26: return syscall(SYS_ptrace, (long)PTRACE_ATTACH, 1L, NULL, NULL);
        case 27: return syscall(SYS_process_vm_readv, (long)getpid(), &lio, 1L, &rio, 1L, 0L);
        case 28: return syscall(SYS_process_vm_writev, (long)getpid(), &lio, 1L, &rio, 1L, 0L);
        case 29: return syscall(SYS_kcmp, (long)getpid(), (long)getpid(), 0L /* FILE */, 0L, 0L);
        case 30: {
                static struct { unsigned int bytes; int type; unsigned char h[128]; } fh;
                int mnt;

                fh.bytes = sizeof(fh.h);
                return syscall(SYS_name_to_handle_at, (long)AT_FDCWD, "/tmp", &fh, &mnt, 0L);
        }
        case 31: {
                static struct { unsigned int bytes; int type; unsigned char h[8]; } fh = { 8, 1, { 0 } };

                return syscall(SYS_open_by_handle_at, (long)AT_FDCWD, &fh, (long)O_RDONLY);
        }
        case 32: return syscall(SYS_kexec_load, 0L, 0L, NULL, 0L);
        case 33: return syscall(SYS_kexec_file_load, -1L, -1L, 0L, NULL, 0L);
        case 34: return syscall(SYS_init_module, NULL, 0L, "");
        case 35: return syscall(SYS_finit_module, -1L, "", 0L);
        case 36: return syscall(SYS_delete_module, "sbx_none", 0L);
        /* Bad magic: even a broken sandbox cannot reboot anything. */
        case 37: return syscall(SYS_reboot, 0L, 0L, 0L, NULL);
        case 38: return syscall(SYS_swapon, "/tmp/sbx-none", 0L);
        case 39: return syscall(SYS_swapoff, "/tmp/sbx-none");
        case 40: return syscall(SYS_acct, NULL);
        case 41: return syscall(SYS_quotactl, 0L, NULL, 0L, NULL);
        case 42: return syscall(SYS_syslog, 10L /* SIZE_BUFFER */, NULL, 0L);
        case 43:
                if (gettimeofday(&tv, NULL) < 0)
                        return -1;
                return syscall(SYS_settimeofday, &tv, NULL);
        case 44:
                if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                        return -1;
                return syscall(SYS_clock_settime, (long)CLOCK_REALTIME, &ts);
        case 45: {
                /* ADJ_FREQUENCY to the frequency it already has. */
                static struct { unsigned int modes; long x[40]; } tx;

                tx.modes = 0;
                if (syscall(SYS_clock_adjtime, (long)CLOCK_REALTIME, &tx) < 0)
                        return -1;
                tx.modes = 0x0002;
                return syscall(SYS_clock_adjtime, (long)CLOCK_REALTIME, &tx);
        }
        case 46: return syscall(SYS_personality, 0x0008L /* PER_LINUX32 */);
        case 47: return syscall(SYS_ioctl, 0L, (long)TIOCSTI, "x");
        case 48: {
                static char sub = 6; /* TIOCL_GETFGCONSOLE-ish read, harmless */

                return syscall(SYS_ioctl, 0L, (long)TIOCLINUX, &sub);
        }
        case 49: return syscall(SYS_socket, (long)AF_PACKET, (long)SOCK_RAW, 0L);
        case 50: return syscall(SYS_socket, (long)AF_INET, (long)SOCK_RAW, (long)IPPROTO_ICMP);
        case 51: return syscall(SYS_socket, (long)AF_NETLINK, (long)SOCK_RAW, 0L);
        case 52: return syscall(SYS_socket, 40L /* AF_VSOCK */, (long)SOCK_STREAM, 0L);
        case 53: return syscall(SYS_socket, 38L /* AF_ALG */, (long)SOCK_SEQPACKET, 0L);
        case 54: return syscall(SYS_socket, (long)AF_INET, (long)SOCK_STREAM, 0L);
        case 55: return syscall(SYS_socket, (long)AF_INET6, (long)SOCK_STREAM, 0L);
        case 56:
                /* The classic pair: own user namespace, then mount in it. */
                if (syscall(SYS_unshare, (long)(CLONE_NEWUSER | CLONE_NEWNS)) < 0)
                        return -1;
                return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0L, NULL);
        case 57: return syscall(0x40000000L | 39L /* x32 getpid */);
        case 58: return h_i386_getpid();
        case 59: return syscall(SYS_getpid);
        case 60: {
                int sv[2];

                return syscall(SYS_socketpair, (long)AF_UNIX, (long)SOCK_STREAM, 0L, sv);
        }
        case 61: {
                /* N_TTY, the discipline a terminal has already. */
                static int ldisc = 0;

                return syscall(SYS_ioctl, 0L, (long)TIOCSETD, &ldisc);
        }
        }
        errno = EINVAL;
        return -1;
}

/* Run one attempt in a child; report how it went as one word. */
static void h_report(const char *name, int which)
{
        int pfd[2], status, err = 0;
        pid_t pid;
        ssize_t n;

        if (pipe(pfd) < 0) {
                printf("%s=pipe:%s\n", name, errname(errno));
                return;
        }
        pid = fork();
        if (pid < 0) {
                printf("%s=fork:%s\n", name, errname(errno));
                close(pfd[0]);
                close(pfd[1]);
                return;
        }
        if (pid == 0) {
                long r;

                close(pfd[0]);
                errno = 0;
                r = h_attempt(which);
                err = r < 0 ? errno : 0;
                if (write(pfd[1], &err, sizeof(err)) != sizeof(err))
                        _exit(3);
                _exit(0);
        }
        close(pfd[1]);
        do
                n = read(pfd[0], &err, sizeof(err));
        while (n < 0 && errno == EINTR);
        close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFSIGNALED(status) && n != sizeof(err))
                printf("%s=SIG%s\n", name, sigabbrev_np(WTERMSIG(status)) ?: "?");
        else if (n != sizeof(err))
                printf("%s=lost\n", name);
        else
                printf("%s=%s\n", name, err ? errname(err) : "ok");
}

static int h_syscalls(int argc, char **argv)
{
        for (size_t i = 0; i < H_N; i++) {
                int pick = argc == 0;

                for (int a = 0; a < argc; a++)
                        pick |= !strcmp(argv[a], h_names[i]);
                if (pick)
                        h_report(h_names[i], (int)i);
        }
        return 0;
}

/* Direct, unforked: the whole job should die of SIGSYS here. */
static int h_raw(const char *which)
{
        long r = !strcmp(which, "x32") ? syscall(0x40000000L | 39L) : h_i386_getpid();

        printf("%s=%s\n", which, r < 0 ? errname(errno) : "ok");
        return 1;
}

/* PATH=ok|ERR for open(PATH, flags) of each path. "create" adds
 * O_CREAT|O_EXCL and writes a marker; "openw" only opens for writing (a
 * kernel tunable is never written); "read" reads and prints the first line. */
static int h_open(const char *how, int argc, char **argv)
{
        for (int i = 0; i < argc; i++) {
                int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK, fd;
                char line[128];
                ssize_t n;

                if (!strcmp(how, "create"))
                        flags |= O_WRONLY | O_CREAT | O_EXCL;
                else if (!strcmp(how, "openw"))
                        flags |= O_WRONLY;
                else if (!strcmp(how, "mkdir")) {
                        printf("%s=%s\n", argv[i], mkdir(argv[i], 0755) < 0 ? errname(errno) : "ok");
                        continue;
                } else
                        flags |= O_RDONLY;
                fd = open(argv[i], flags, 0644);
                if (fd < 0) {
                        printf("%s=%s\n", argv[i], errname(errno));
                        continue;
                }
                if (!strcmp(how, "create")) {
                        n = write(fd, "skillbox-hostile\n", 17);
                        printf("%s=%s\n", argv[i], n == 17 ? "ok" : errname(errno));
                } else if (!strcmp(how, "read")) {
                        n = read(fd, line, sizeof(line) - 1);
                        if (n < 0) {
                                printf("%s=%s\n", argv[i], errname(errno));
                        } else {
                                line[n] = '\0';
                                line[strcspn(line, "\n")] = '\0';
                                printf("%s=ok:%s\n", argv[i], line);
                        }
                } else {
                        printf("%s=ok\n", argv[i]);
                }
                close(fd);
        }
        return 0;
}

/* Magic links: what they name and whether they open. */
static int h_magic(int argc, char **argv)
{
        static const char *const links[] = {
                "/proc/self/exe", "/proc/self/cwd", "/proc/self/root", "/proc/1/exe",
                "/proc/1/cwd", "/proc/1/root", "/proc/2/exe", "/proc/2/root",
        };
        char target[PATH_MAX], path[PATH_MAX];
        ssize_t n;
        int fd;

        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
                n = readlink(links[i], target, sizeof(target) - 1);
                if (n < 0)
                        printf("readlink:%s=%s\n", links[i], errname(errno));
                else
                        printf("readlink:%s=%.*s\n", links[i], (int)n, target);
        }
        /* The daemon's binary is pid 1's exe: never writable or readable. */
        for (size_t i = 0; i < 2; i++) {
                const char *l = i ? "/proc/1/exe" : "/proc/self/exe";

                fd = open(l, O_RDWR | O_CLOEXEC);
                printf("openrw:%s=%s\n", l, fd < 0 ? errname(errno) : "ok");
                if (fd >= 0)
                        close(fd);
        }
        fd = open("/proc/1/exe", O_RDONLY | O_CLOEXEC);
        printf("openro:/proc/1/exe=%s\n", fd < 0 ? errname(errno) : "ok");
        if (fd >= 0)
                close(fd);
        /* pid 1's descriptors (the init holds the daemon's error pipe). */
        {
                DIR *d = opendir("/proc/1/fd");
                struct dirent *de;

                if (!d) {
                        printf("ls:/proc/1/fd=%s\n", errname(errno));
                } else {
                        while ((de = readdir(d))) {
                                if (de->d_name[0] == '.')
                                        continue;
                                snprintf(path, sizeof(path), "/proc/1/fd/%s", de->d_name);
                                fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
                                printf("open:%s=%s\n", path, fd < 0 ? errname(errno) : "ok");
                                if (fd >= 0)
                                        close(fd);
                        }
                        closedir(d);
                }
        }
        /* Host paths through the roots the kernel offers. */
        for (int a = 0; a < argc; a++) {
                static const char *const roots[] = { "/proc/self/root", "/proc/1/root", "/proc/2/root" };

                for (size_t i = 0; i < 3; i++) {
                        snprintf(path, sizeof(path), "%s%s", roots[i], argv[a]);
                        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                        printf("via:%s=%s\n", path, fd < 0 ? errname(errno) : "ok");
                        if (fd >= 0)
                                close(fd);
                }
        }
        return 0;
}

/* Open descriptors (but the listing's own) and the working directory. */
static int h_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        char path[300], target[PATH_MAX], cwd[PATH_MAX];
        ssize_t n;

        if (!d) {
                printf("fds=%s\n", errname(errno));
                return 1;
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
                        continue;
                snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
                n = readlink(path, target, sizeof(target) - 1);
                printf("fd=%s %.*s\n", de->d_name, n < 0 ? 1 : (int)n, n < 0 ? "?" : target);
        }
        closedir(d);
        printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : errname(errno));
        return 0;
}

/* /dev: every entry with its type and device number; then mknod tries. */
static int h_devices(void)
{
        DIR *d = opendir("/dev");
        struct dirent *de;
        char path[PATH_MAX];
        struct stat st;

        if (!d) {
                printf("dev=%s\n", errname(errno));
                return 1;
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/dev/%s", de->d_name);
                if (lstat(path, &st) < 0) {
                        printf("dev:%s=%s\n", de->d_name, errname(errno));
                        continue;
                }
                printf("dev:%s=%s %u:%u\n", de->d_name,
                       S_ISCHR(st.st_mode) ? "chr" : S_ISBLK(st.st_mode) ? "blk" :
                       S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "lnk" : "other",
                       major(st.st_rdev), minor(st.st_rdev));
        }
        closedir(d);
        printf("mknod:/tmp/mem=%s\n",
               mknod("/tmp/mem", S_IFCHR | 0666, makedev(1, 1)) < 0 ? errname(errno) : "ok");
        printf("mknod:/work/sda=%s\n",
               mknod("/work/sda", S_IFBLK | 0666, makedev(8, 0)) < 0 ? errname(errno) : "ok");
        printf("mknod:/dev/kmsg=%s\n",
               mknod("/dev/kmsg", S_IFCHR | 0666, makedev(1, 11)) < 0 ? errname(errno) : "ok");
        return 0;
}

/* Signals to pid numbers (0 = probe only), and /proc's pids. */
static int h_signal(int sig, int argc, char **argv)
{
        for (int a = 0; a < argc; a++) {
                pid_t pid = (pid_t)parse_num(argv[a]);

                printf("kill:%d=%s\n", (int)pid, kill(pid, sig) < 0 ? errname(errno) : "ok");
        }
        return 0;
}

static int h_unix_connect(const char *name, int abstract)
{
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        size_t len = strlen(name);
        socklen_t slen;
        int fd, r;

        if (len + 1 > sizeof(sun.sun_path))
                return usage();
        memcpy(sun.sun_path + (abstract ? 1 : 0), name, len);
        slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 1 : 0));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                printf("%s\n", errname(errno));
                return 1;
        }
        r = connect(fd, (struct sockaddr *)&sun, slen);
        printf("%s\n", r < 0 ? errname(errno) : "ok");
        close(fd);
        return r < 0;
}

/* Listen on an abstract name and 127.0.0.1:PORT for MS, printing what
 * worked and each connection accepted; for the two-jobs test. */
static int h_serve(const char *name, long long port, long long ms)
{
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        size_t len = strlen(name) < sizeof(sun.sun_path) - 1 ? strlen(name) : sizeof(sun.sun_path) - 1;
        struct pollfd p[2] = { { .fd = -1 }, { .fd = -1 } };
        uint64_t end = now_ms(CLOCK_MONOTONIC) + (uint64_t)ms;
        int fd;

        memcpy(sun.sun_path + 1, name, len);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&sun,
                            (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) == 0 &&
            listen(fd, 8) == 0) {
                printf("abstract=listening\n");
                p[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
        } else {
                printf("abstract=%s\n", errname(errno));
        }
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(fd, 8) == 0) {
                printf("tcp=listening\n");
                p[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
        } else {
                printf("tcp=%s\n", errname(errno));
        }
        fd = open("/tmp/peer-marker", O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (fd >= 0)
                close(fd);
        fd = open("/work/peer-marker", O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (fd >= 0)
                close(fd);
        printf("ready\n");
        fflush(stdout);
        while (now_ms(CLOCK_MONOTONIC) < end) {
                int r = poll(p, 2, (int)(end - now_ms(CLOCK_MONOTONIC)));

                if (r <= 0)
                        continue;
                for (int i = 0; i < 2; i++) {
                        if (p[i].fd >= 0 && (p[i].revents & POLLIN)) {
                                int c = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);

                                if (c >= 0) {
                                        printf("accepted=%s\n", i ? "tcp" : "abstract");
                                        close(c);
                                }
                        }
                }
        }
        return 0;
}

/* Fill a file until the write fails; report the errno and how far. */
static int h_fill(const char *path)
{
        static char buf[MIB];
        long long done = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0) {
                printf("fill=%s\n", errname(errno));
                return 1;
        }
        memset(buf, 'f', sizeof(buf));
        /* Bounded: 4 GiB is far past any /tmp size a profile grants. */
        while (done < 4096LL * MIB) {
                ssize_t w = write(fd, buf, sizeof(buf));

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        printf("fill=%s mib=%lld\n", errname(errno), done / MIB);
                        close(fd);
                        return 0;
                }
                done += w;
        }
        printf("fill=ok mib=%lld\n", done / MIB);
        close(fd);
        return 1;
}

/* Open descriptors until it fails; report the errno, the count, the limit. */
static int h_fdbomb(void)
{
        struct rlimit rl;
        long n = 0;
        int err = 0;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                rl.rlim_cur = 0;
        for (long i = 0; i < 1L << 20; i++) {
                if (open("/dev/null", O_RDONLY) < 0) {
                        err = errno;
                        break;
                }
                n++;
        }
        printf("fds=%ld errno=%s nofile=%llu\n", n, err ? errname(err) : "none",
               (unsigned long long)rl.rlim_cur);
        /* Raising the limit back up must fail too. */
        rl.rlim_cur = rl.rlim_max = rl.rlim_max + 1024;
        printf("raise=%s\n", setrlimit(RLIMIT_NOFILE, &rl) < 0 ? errname(errno) : "ok");
        return 0;
}

static int mode_hostile(int argc, char **argv)
{
        const char *sub = argc > 0 ? argv[0] : "";

        if (!strcmp(sub, "syscalls"))
                return h_syscalls(argc - 1, argv + 1);
        if ((!strcmp(sub, "x32") || !strcmp(sub, "i386")) && argc == 1)
                return h_raw(sub);
        if ((!strcmp(sub, "create") || !strcmp(sub, "openw") || !strcmp(sub, "read") ||
             !strcmp(sub, "mkdir")) && argc >= 2)
                return h_open(sub, argc - 1, argv + 1);
        if (!strcmp(sub, "magic"))
                return h_magic(argc - 1, argv + 1);
        if (!strcmp(sub, "fds") && argc == 1)
                return h_fds();
        if (!strcmp(sub, "devices") && argc == 1)
                return h_devices();
        if (!strcmp(sub, "kill") && argc >= 3)
                return h_signal((int)parse_num(argv[1]), argc - 2, argv + 2);
        if (!strcmp(sub, "unix") && argc == 2)
                return h_unix_connect(argv[1], 0);
        if (!strcmp(sub, "abstract") && argc == 2)
                return h_unix_connect(argv[1], 1);
        if (!strcmp(sub, "serve") && argc == 4)
                return h_serve(argv[1], parse_num(argv[2]), parse_num(argv[3]));
        if (!strcmp(sub, "fill") && argc == 2)
                return h_fill(argv[1]);
        if (!strcmp(sub, "fdbomb") && argc == 1)
                return h_fdbomb();
        fprintf(stderr, "usage: probe hostile syscalls [NAME...] | x32 | i386 |\n"
                "             create|openw|read|mkdir PATH... | magic [HOSTPATH...] | fds |\n"
                "             devices | kill SIG PID... | unix PATH | abstract NAME |\n"
                "             serve NAME PORT MS | fill PATH | fdbomb\n");
        return 2;
}

/* ---- caps (tests/integration/test_hardening.py) ----
 * `probe caps`: for this task and for a new thread, one line
 * "WHO inh=HEX prm=HEX eff=HEX bnd=HEX amb=HEX nnp=N seccomp=N securebits=HEX"
 * read from /proc/thread-self/status and prctl. */
#include <pthread.h>
#include <sys/prctl.h>

static void caps_line(const char *who)
{
        char buf[4096], out[512];
        const char *keys[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
                               "NoNewPrivs:", "Seccomp:" };
        const char *names[] = { "inh", "prm", "eff", "bnd", "amb", "nnp", "seccomp" };
        size_t n = 0;
        ssize_t len;
        int fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                printf("%s %s\n", who, errname(errno));
                return;
        }
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[len > 0 ? len : 0] = '\0';
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", who);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                char *k = strstr(buf, keys[i]);
                char val[32] = "?";

                if (k && sscanf(k + strlen(keys[i]), " %31s", val) != 1)
                        snprintf(val, sizeof(val), "?");
                n += (size_t)snprintf(out + n, sizeof(out) - n, " %s=%s", names[i], val);
        }
        printf("%s securebits=%#x\n", out, (unsigned)prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
}

static void *caps_thread(void *arg)
{
        (void)arg;
        caps_line("thread");
        return NULL;
}

static int mode_caps(void)
{
        pthread_t t;

        caps_line("main");
        fflush(stdout);
        if (pthread_create(&t, NULL, caps_thread, NULL) != 0 || pthread_join(t, NULL) != 0) {
                printf("thread failed\n");
                return 1;
        }
        return 0;
}

/* The bombs and the hostile modes must never run on the host by mistake: as
 * root they mount, switch accounting off and set the clock. Inside a job the
 * probe is unprivileged, holds no capability and has a small process limit;
 * refuse unless all three hold. */
static int refuse_outside_sandbox(const char *mode)
{
        struct rlimit rl;
        char line[256];
        FILE *f;
        int capeff_zero = 0;

        f = fopen("/proc/self/status", "re");
        if (f) {
                while (fgets(line, sizeof(line), f))
                        if (!strncmp(line, "CapEff:", 7))
                                capeff_zero = strtoull(line + 7, NULL, 16) == 0;
                fclose(f);
        }
        if (getuid() != 0 && geteuid() != 0 && capeff_zero &&
            getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur <= 4096)
                return 0;
        fprintf(stderr, "probe: refusing `%s` outside a sandbox (root, capabilities or no "
                        "process limit)\n", mode);
        return -1;
}

int main(int argc, char **argv)
{
        const char *m;

        if (argc < 2)
                return usage();
        m = argv[1];
        /* Reports are read line by line by the tests; keep stdout line-buffered. */
        setvbuf(stdout, NULL, _IOLBF, 0);

        /* `hostile x32|i386` only calls getpid through a foreign ABI: the
         * tests run it on the host too, to learn what the kernel itself does. */
        bool harmless = !strcmp(m, "hostile") && argc == 3 &&
                        (!strcmp(argv[2], "x32") || !strcmp(argv[2], "i386"));
        if ((!strcmp(m, "memhog") || !strcmp(m, "forkbomb") || !strcmp(m, "hostile")) &&
            !harmless && refuse_outside_sandbox(m) < 0)
                return 2;
        if (!strcmp(m, "memhog") && argc == 3)
                return mode_memhog(parse_num(argv[2]));
        if (!strcmp(m, "forkbomb") && argc == 2)
                return mode_forkbomb();
        if (!strcmp(m, "spin") && argc == 3)
                return mode_spin(parse_num(argv[2]));
        if (!strcmp(m, "sleep") && argc == 3) {
                sleep_ms(parse_num(argv[2]));
                return 0;
        }
        if (!strcmp(m, "output") && argc == 3)
                return mode_output(parse_num(argv[2]));
        if (!strcmp(m, "seq") && argc == 3) {
                /* Full buffering: this mode measures ordering, not latency. */
                setvbuf(stdout, NULL, _IOFBF, 64 * 1024);
                return mode_seq(parse_num(argv[2]));
        }
        if (!strcmp(m, "ids") && argc == 2)
                return mode_ids();
        if (!strcmp(m, "cat") && argc == 3)
                return mode_cat(argv[2]);
        if (!strcmp(m, "ls") && argc == 3)
                return mode_ls(argv[2]);
        if (!strcmp(m, "connect") && argc == 4)
                return mode_connect(argv[2], argv[3]);
        if (!strcmp(m, "double-fork") && argc == 4)
                return mode_double_fork(argv[2], parse_num(argv[3]));
        if (!strcmp(m, "crash") && argc == 2)
                return mode_crash();
        if (!strcmp(m, "exists") && argc == 3)
                return mode_exists(argv[2]);
        if (!strcmp(m, "caps") && argc == 2)
                return mode_caps();
        if (!strcmp(m, "hostile"))
                return mode_hostile(argc - 2, argv + 2);
        return usage();
}
