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

int main(int argc, char **argv)
{
        const char *m;

        if (argc < 2)
                return usage();
        m = argv[1];
        /* Reports are read line by line by the tests; keep stdout line-buffered. */
        setvbuf(stdout, NULL, _IOLBF, 0);

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
        return usage();
}
