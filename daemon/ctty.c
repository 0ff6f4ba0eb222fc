/* ctty.c — leaving the controlling terminal at start.
 *
 * A root shell that started skillboxd in the foreground (or a pty someone
 * made it the session leader of) is a terminal a process of the daemon's
 * session could inject input into with TIOCSTI, or open as /dev/tty. The
 * daemon keeps none: a process that does not lead a process group leaves
 * its session altogether (setsid); one that does (a shell's foreground job,
 * a session leader) detaches from the terminal only (TIOCNOTTY), staying in
 * its process group, so ^C in that shell still reaches it. When a session
 * leader detaches, the kernel sends SIGHUP (and SIGCONT) to the terminal's
 * foreground group, which may be the daemon's own: SIGHUP means "reload"
 * (or, before the handlers exist, death), so it is ignored for the call.
 * Jobs never inherit the terminal either way: each runs in a session of
 * its own (linux child.c, posix.c) and gets only pipes and /dev/null.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "daemon/ctty.h"

int sbd_ctty_drop(void)
{
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        int fd, r = 0;

        /* O_NOCTTY: opening it must not make it ours again. */
        fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENXIO || errno == ENOENT ? 0 : -errno;  /* none */
        if (setsid() >= 0) {
                close(fd);
                return 0;
        }
        if (errno != EPERM) {
                r = -errno;
                close(fd);
                return r;
        }
        sigemptyset(&ign.sa_mask);
        if (sigaction(SIGHUP, &ign, &old) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (ioctl(fd, TIOCNOTTY) < 0)
                r = -errno;
        /* The SIGHUP, if any, was discarded when sent: ignored signals are
         * not queued. */
        if (sigaction(SIGHUP, &old, NULL) < 0 && r == 0)
                r = -errno;
        close(fd);
        return r;
}
