/* util.c — error text for the parent and the allocation-free toolkit that
 * runs in a job's child between fork/clone and execve.
 *
 * Invariant for everything named sb_child_*: it may run in a copy of a
 * multi-threaded process whose other threads held locks at the time of the
 * copy, so it calls no malloc, no stdio and no glibc function that takes a
 * lock or broadcasts to threads; only plain system calls and stack buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include "backends/internal.h"

static const struct {
        int err;
        const char *name;
} errnames[] = {
#define E_(x) { x, #x },
        E_(EPERM) E_(ENOENT) E_(ESRCH) E_(EINTR) E_(EIO) E_(ENXIO) E_(E2BIG)
        E_(ENOEXEC) E_(EBADF) E_(ECHILD) E_(EAGAIN) E_(ENOMEM) E_(EACCES)
        E_(EFAULT) E_(EBUSY) E_(EEXIST) E_(EXDEV) E_(ENODEV) E_(ENOTDIR)
        E_(EISDIR) E_(EINVAL) E_(ENFILE) E_(EMFILE) E_(ENOTTY) E_(ETXTBSY)
        E_(EFBIG) E_(ENOSPC) E_(ESPIPE) E_(EROFS) E_(EMLINK) E_(EPIPE)
        E_(EDOM) E_(ERANGE) E_(EDEADLK) E_(ENAMETOOLONG) E_(ENOLCK) E_(ENOSYS)
        E_(ENOTEMPTY) E_(ELOOP) E_(EOVERFLOW) E_(EOPNOTSUPP) E_(ETIMEDOUT)
        E_(ECONNREFUSED) E_(EADDRINUSE) E_(EADDRNOTAVAIL) E_(ENETUNREACH)
        E_(EPROTO)
#ifdef ENOTSUP
#if ENOTSUP != EOPNOTSUPP
        E_(ENOTSUP)
#endif
#endif
#ifdef ELIBBAD
        E_(ELIBBAD)
#endif
#ifdef ENOMEDIUM
        E_(ENOMEDIUM)
#endif
#ifdef EUCLEAN
        E_(EUCLEAN)
#endif
#undef E_
};

const char *sb_backend_errname(int err)
{
        if (err < 0)
                err = -err;
        for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
                if (errnames[i].err == err)
                        return errnames[i].name;
        return "E?";
}

int sb_backend_fail(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
        if (errbuf && errlen > 0) {
                va_list ap;
                int n;

                va_start(ap, fmt);
                n = vsnprintf(errbuf, errlen, fmt, ap);
                va_end(ap);
                if (n >= 0 && (size_t)n < errlen)
                        snprintf(errbuf + n, errlen - (size_t)n, ": %s", sb_backend_errname(r));
        }
        return r;
}

int sb_backend_job_id_valid(const char *id)
{
        size_t n = 0;

        if (!id)
                return 0;
        for (; id[n]; n++) {
                char c = id[n];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                        return 0;
        }
        return n >= 1 && n <= SBP_JOB_ID_MAX;
}

/* ---- child side ---- */

/* Append src to dst (capacity cap, NUL-terminated); truncates silently. */
static size_t child_append(char *dst, size_t len, size_t cap, const char *src)
{
        while (*src && len + 1 < cap)
                dst[len++] = *src++;
        dst[len] = '\0';
        return len;
}

void sb_child_fail(int errfd, int err, const char *step, const char *arg)
{
        struct sb_child_error rec;
        size_t n;

        memset(&rec, 0, sizeof(rec));
        rec.err = err > 0 ? err : EIO;
        n = child_append(rec.step, 0, sizeof(rec.step), step);
        if (arg) {
                n = child_append(rec.step, n, sizeof(rec.step), " ");
                child_append(rec.step, n, sizeof(rec.step), arg);
        }
        /* Atomic (< PIPE_BUF); nothing useful to do if it fails. */
        if (write(errfd, &rec, sizeof(rec)) < 0) {
        }
        _exit(127);
}

void sb_child_rlimit(int errfd, int res, unsigned long long v, const char *name)
{
        struct rlimit rl;

        if (getrlimit(res, &rl) < 0)
                sb_child_fail(errfd, errno, "getrlimit", name);
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
                v = rl.rlim_max;
        rl.rlim_cur = rl.rlim_max = (rlim_t)v;
        if (setrlimit(res, &rl) < 0)
                sb_child_fail(errfd, errno, "setrlimit", name);
}

void sb_backend_block_signals(sigset_t *old)
{
        sigset_t all;

        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, old);
}

void sb_backend_restore_signals(const sigset_t *old)
{
        pthread_sigmask(SIG_SETMASK, old, NULL);
}

void sb_child_reset_mask(void)
{
        sigset_t none;

        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        umask(022);
}

void sb_child_reset_signals(void)
{
        struct sigaction dfl;

        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        /* Errors are expected for SIGKILL, SIGSTOP and the C library's
         * reserved real-time signals; nothing else can fail. */
        for (int sig = 1; sig < NSIG; sig++)
                (void)sigaction(sig, &dfl, NULL);
        sb_child_reset_mask();
}

int sb_child_fd_above_stdio(int *fd)
{
        if (*fd >= 3)
                return 0;
        int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
        if (nfd < 0)
                return -errno;
        *fd = nfd;
        return 0;
}

static int close_from(int first, int last)
{
#if defined(__linux__) && defined(SYS_close_range)
        if (syscall(SYS_close_range, (unsigned)first, (unsigned)last, 0u) == 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
#endif
        long max = sysconf(_SC_OPEN_MAX);
        if (max < 0 || max > 65536)
                max = 65536;
        for (long fd = first; fd <= last && fd < max; fd++)
                close((int)fd);
        return 0;
}

int sb_child_stdio(int in, int out, int err, const int *keep, int nkeep, const char **step)
{
        int fds[3] = { in, out, err };

        /* Move any source that sits on 0..2 out of the way first, so that
         * dup2() onto 0..2 never clobbers a source still needed. */
        for (int i = 0; i < 3; i++) {
                if (fds[i] >= 0 && fds[i] < 3 && fds[i] != i) {
                        int nfd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                        if (nfd < 0) {
                                *step = "dup stdio";
                                return -errno;
                        }
                        for (int k = i + 1; k < 3; k++)
                                if (fds[k] == fds[i])
                                        fds[k] = nfd;
                        fds[i] = nfd;
                }
        }
        for (int i = 0; i < 3; i++) {
                if (fds[i] < 0) {
                        *step = "stdio";
                        return -EBADF;
                }
                if (fds[i] == i) {
                        int fl = fcntl(i, F_GETFD);
                        if (fl < 0 || fcntl(i, F_SETFD, fl & ~FD_CLOEXEC) < 0) {
                                *step = "fcntl stdio";
                                return -errno;
                        }
                } else if (dup2(fds[i], i) < 0) {
                        *step = "dup2 stdio";
                        return -errno;
                }
        }
        /* Close everything from 3 up but the kept fds, in ascending order
         * (-1 or a duplicate is skipped). */
        int r = 0, from = 3;
        for (;;) {
                int next = INT_MAX;

                for (int i = 0; i < nkeep; i++)
                        if (keep[i] >= from && keep[i] < next)
                                next = keep[i];
                if (next == INT_MAX)
                        break;
                if (next > from && (r = close_from(from, next - 1)) < 0)
                        break;
                from = next + 1;
        }
        if (r >= 0)
                r = close_from(from, INT_MAX);
        if (r < 0) {
                *step = "close_range";
                return r;
        }
        return 0;
}

static const char *env_path(char *const *envp)
{
        for (; envp && *envp; envp++)
                if (strncmp(*envp, "PATH=", 5) == 0)
                        return *envp + 5;
        return "/usr/local/bin:/usr/bin:/bin";
}

void sb_child_exec(char *const *argv, char *const *envp)
{
        const char *name = argv[0];
        char buf[4096];
        int saved = ENOENT;
        size_t nlen;

        if (!name || !*name) {
                errno = ENOENT;
                return;
        }
        if (strchr(name, '/')) {
                execve(name, argv, envp);
                return;
        }
        nlen = strlen(name);
        for (const char *p = env_path(envp);;) {
                const char *end = p;
                while (*end && *end != ':')
                        end++;
                size_t dlen = (size_t)(end - p);

                if (dlen == 0) {
                        /* An empty PATH element means the cwd. */
                        buf[0] = '.';
                        dlen = 1;
                } else if (dlen < sizeof(buf)) {
                        memcpy(buf, p, dlen);
                }
                if (dlen + 1 + nlen < sizeof(buf)) {
                        buf[dlen] = '/';
                        memcpy(buf + dlen + 1, name, nlen + 1);
                        execve(buf, argv, envp);
                        /* Keep looking past missing entries; remember a
                         * permission problem to report it if nothing runs. */
                        if (errno == EACCES)
                                saved = EACCES;
                        else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
                                return;
                }
                if (!*end)
                        break;
                p = end + 1;
        }
        errno = saved;
}

int sb_backend_read_child_error(int fd, char *out, size_t outlen, int *wstatus)
{
        struct sb_child_error rec;
        int failed = 0;
        ssize_t n;

        if (wstatus)
                *wstatus = -1;
        for (;;) {
                do
                        n = read(fd, &rec, sizeof(rec));
                while (n < 0 && errno == EINTR);
                if (n != (ssize_t)sizeof(rec))
                        return failed;
                if (rec.err == 0) {
                        if (wstatus)
                                *wstatus = rec.wstatus;
                        continue;
                }
                /* The first failure is the one that stopped the job. */
                if (!failed) {
                        rec.step[sizeof(rec.step) - 1] = '\0';
                        snprintf(out, outlen, "%s: %s", rec.step, sb_backend_errname(rec.err));
                        failed = 1;
                }
        }
}
