/* job_tty.c — a tty job's terminal as seen from the daemon: the master of
 * the pty the backend made (the job's stdin, stdout and stderr are its
 * slave, its controlling terminal).
 *
 * The master is watched as two handles, so that the output and stdin code
 * of ordinary jobs serves it unchanged: out_pipe reads it (everything the
 * job writes, stdout and stderr alike, as stream stdout, under the same
 * output cap and backpressure), in_pipe writes to a duplicate of it
 * (stdin_write; two libuv handles cannot share one fd). A read of the
 * master fails with EIO once no process of the job holds the slave, which
 * job_output.c takes as the end of the output, as EOF on a pipe.
 * stdin_close sends the terminal's VEOF (job_stdin.c): a program reading
 * the terminal in canonical mode sees end of file, as after ^D.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "daemon/job.h"
#include "daemon/log.h"

int sbd_job_tty_watch(struct sbd_job *j)
{
        int master, in, r;

        master = j->d->ops->tty_take ? j->d->ops->tty_take(j->bj) : SB_HANDLE_NONE;
        if (master < 0)
                return -EIO;
        in = fcntl(master, F_DUPFD_CLOEXEC, 3);
        if (in < 0) {
                r = -errno;
                close(master);
                return r;
        }
        r = sbd_job_open_pipe(j, &j->out_pipe, master, &j->out_open);
        if (r < 0) {
                close(in);
                return r;
        }
        return sbd_job_open_pipe(j, &j->in_pipe, in, &j->in_open);
}

/* The master's fd, while the job's output is read from it. */
static int master_fd(struct sbd_job *j)
{
        uv_os_fd_t fd;

        if (!j->tty || !j->out_open || uv_fileno((uv_handle_t *)&j->out_pipe, &fd) < 0)
                return -1;
        return fd;
}

int sbd_job_tty_resize(struct sbd_job *j, uint32_t rows, uint32_t cols, struct sbp_error *err)
{
        struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
        int fd;

        if (!j->tty)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "job %s has no terminal",
                                     j->id);
        fd = master_fd(j);
        if (fd < 0)
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "the terminal of job %s is closed",
                                     j->id);
        /* The kernel signals the terminal's foreground group (SIGWINCH)
         * when the size changes. */
        if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "resize the terminal of job %s: %s",
                                     j->id, sbd_errno_name(-errno));
        return 0;
}

char sbd_job_tty_veof(struct sbd_job *j)
{
        struct termios t;
        int fd = master_fd(j);

        /* The master reports the line discipline's settings, the job's to
         * change (stty eof); ^D when it cannot tell or VEOF is unset. */
        if (fd >= 0 && tcgetattr(fd, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
                return (char)t.c_cc[VEOF];
        return '\004';
}
