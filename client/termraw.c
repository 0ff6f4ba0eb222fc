/* termraw.c — raw mode on the user's terminal for a tty job (termraw.h).
 *
 * The saved termios is static and written once, before any handler is
 * installed, so the handlers only read it; tcsetattr is async-signal-safe.
 * A fatal signal restores the mode, resets its own action to the default
 * and raises itself again, so skillboxctl ends as the signal says.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client/termraw.h"

static struct termios saved, raw;
static int tty_fd = -1;
static volatile sig_atomic_t raw_on;
static volatile sig_atomic_t active;    /* between enter and leave */
static int winch_pipe[2] = { -1, -1 };

static const int fatal_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM };

static void restore(void)
{
        if (raw_on) {
                /* TCSADRAIN: what the job wrote last still shows as it should. */
                (void)tcsetattr(tty_fd, TCSADRAIN, &saved);
                raw_on = 0;
        }
}

static void on_fatal(int sig)
{
        int e = errno;

        restore();
        signal(sig, SIG_DFL);
        raise(sig);
        errno = e;
}

/* Stop with the user's mode (their shell gets it back), raw again after. */
static void on_tstp(int sig)
{
        int e = errno;

        (void)sig;
        restore();
        signal(SIGTSTP, SIG_DFL);
        raise(SIGTSTP);
        errno = e;
}

static void on_cont(int sig)
{
        struct sigaction sa = { .sa_handler = on_tstp };
        int e = errno;

        (void)sig;
        sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGTSTP, &sa, NULL);
        if (active && tcsetattr(tty_fd, TCSADRAIN, &raw) == 0)
                raw_on = 1;
        errno = e;
}

void sbctl_termraw_leave(void)
{
        active = 0;
        restore();
}

int sbctl_termraw_enter(int fd)
{
        struct sigaction sa = { .sa_handler = on_fatal };

        if (tty_fd >= 0)
                return -EALREADY;
        if (tcgetattr(fd, &saved) < 0)
                return -errno;
        raw = saved;
        cfmakeraw(&raw);
        tty_fd = fd;
        if (atexit(sbctl_termraw_leave) != 0)
                return -ENOMEM;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
                if (sigaction(fatal_signals[i], &sa, NULL) < 0)
                        return -errno;
        sa.sa_handler = on_tstp;
        if (sigaction(SIGTSTP, &sa, NULL) < 0)
                return -errno;
        sa.sa_handler = on_cont;
        if (sigaction(SIGCONT, &sa, NULL) < 0)
                return -errno;
        active = 1;
        if (tcsetattr(fd, TCSADRAIN, &raw) < 0) {
                active = 0;
                return -errno;
        }
        raw_on = 1;
        return 0;
}

static void on_winch(int sig)
{
        int e = errno;

        (void)sig;
        (void)!write(winch_pipe[1], "w", 1);    /* full: a change is pending anyway */
        errno = e;
}

int sbctl_winch_fd(void)
{
        struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };

        if (winch_pipe[0] >= 0)
                return winch_pipe[0];
        if (pipe(winch_pipe) < 0)
                return -errno;
        for (int i = 0; i < 2; i++)
                if (fcntl(winch_pipe[i], F_SETFL, O_NONBLOCK) < 0 ||
                    fcntl(winch_pipe[i], F_SETFD, FD_CLOEXEC) < 0)
                        return -errno;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGWINCH, &sa, NULL) < 0)
                return -errno;
        return winch_pipe[0];
}

void sbctl_winch_drain(void)
{
        char buf[64];

        while (winch_pipe[0] >= 0 && read(winch_pipe[0], buf, sizeof(buf)) > 0)
                ;
}
