/* ctl_os_posix.c — skillboxctl's operating system on Linux and macOS
 * (ctl_os.h): poll(), the terminal's ioctl, descriptors passed as they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/ctl_os.h"
#include "client/skillbox.h"

void ctl_os_init(void)
{
        /* Output to a closed pipe must be an EPIPE we handle, not a silent death. */
        signal(SIGPIPE, SIG_IGN);
}

int ctl_os_unsupported(const char *what)
{
        (void)what;
        return 0;
}

bool ctl_os_stdin_has_data(void)
{
        struct stat st, null;

        if (fstat(STDIN_FILENO, &st) < 0)
                return false;           /* closed counts as empty */
        if (S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) &&
            st.st_rdev == null.st_rdev)
                return false;
        return true;
}

/* The first of stdin, stdout and stderr that is a terminal. */
int ctl_os_term_size(uint32_t *rows, uint32_t *cols)
{
        struct winsize ws;

        for (int fd = 0; fd < 3; fd++)
                if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
                        *rows = ws.ws_row > SB_TTY_SIZE_MAX ? SB_TTY_SIZE_MAX : ws.ws_row;
                        *cols = ws.ws_col > SB_TTY_SIZE_MAX ? SB_TTY_SIZE_MAX : ws.ws_col;
                        return 0;
                }
        return -ENOTTY;
}

uint64_t ctl_os_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ctl_os_write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pfd = { .fd = fd, .events = POLLOUT };

                                (void)poll(&pfd, 1, -1);
                                continue;
                        }
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Files by descriptor: opened as whoever runs skillboxctl (it is not
 * setuid), so a job can see only what the caller can open. The fd stays
 * open until exit; the daemon gets its own copy. */
int ctl_os_open_dir(const char *path)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

int ctl_os_open_mount_source(const char *path)
{
        int fd = open(path, O_PATH | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
                close(fd);
                return -EINVAL;
        }
        return fd;
}

void ctl_os_close(int fd)
{
        close(fd);
}

int ctl_os_wait(int conn_fd, bool want_stdin, int winch_fd)
{
        /* A negative fd is skipped by poll(). */
        struct pollfd p[3] = {
                { .fd = conn_fd, .events = POLLIN },
                { .fd = want_stdin ? STDIN_FILENO : -1, .events = POLLIN },
                { .fd = winch_fd, .events = POLLIN },
        };
        int r;

        r = poll(p, 3, -1);
        if (r < 0)      /* a signal: nothing ready, the caller looks again */
                return errno == EINTR ? 0 : -errno;
        return (p[0].revents ? CTL_READY_CONN : 0) | (p[1].revents ? CTL_READY_STDIN : 0) |
               (p[2].revents ? CTL_READY_WINCH : 0);
}

const char *ctl_os_signal_name(int sig)
{
        return strsignal(sig);
}
