/* ctl_os_windows.c — skillboxctl's operating system on Windows (ctl_os.h).
 *
 * No descriptor crosses a named pipe and there is no POSIX terminal, so
 * --workdir, --mount, --publish, --keep-work, --tty and fetch are refused
 * by name. Waiting: neither the connection (a byte-mode pipe, read by
 * libskillbox only when asked) nor stdin can be waited on together with
 * the other without an overlapped read in flight, so both are polled,
 * backing off from 1 to 16 ms as transport_pipe.c does. stdin counts as
 * ready when a read would not wait: a pipe with bytes or at its end, a
 * file, or a console once the user ended a line (a console read returns
 * whole lines, so the job's output goes on while a line is typed).
 */
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "client/ctl_os.h"

void ctl_os_init(void)
{
        /* A job's output byte for byte: no "\n" to "\r\n" on the way out,
         * no "\r\n" to "\n" (nor ^Z as the end) on the way in. */
        _setmode(0, _O_BINARY);
        _setmode(1, _O_BINARY);
        _setmode(2, _O_BINARY);
}

int ctl_os_unsupported(const char *what)
{
        fprintf(stderr, "skillboxctl: %s: not supported on Windows\n", what);
        return CTL_EXIT_UNSUPPORTED;
}

static bool is_console(HANDLE h)
{
        DWORD mode;

        return GetConsoleMode(h, &mode) != 0;
}

/* A pipe, a file or a console; not NUL (a character device that is no
 * console), not a missing handle. */
bool ctl_os_stdin_has_data(void)
{
        HANDLE h = GetStdHandle(STD_INPUT_HANDLE);

        if (h == NULL || h == INVALID_HANDLE_VALUE)
                return false;
        switch (GetFileType(h)) {
        case FILE_TYPE_PIPE:
        case FILE_TYPE_DISK:
                return true;
        case FILE_TYPE_CHAR:
                return is_console(h);
        default:
                return false;
        }
}

/* Only a --tty job asks, and --tty is refused here. */
int ctl_os_term_size(uint32_t *rows, uint32_t *cols)
{
        (void)rows;
        (void)cols;
        return -ENOTTY;
}

uint64_t ctl_os_now_ms(void)
{
        FILETIME ft;
        ULARGE_INTEGER t;

        /* 100 ns units since 1601-01-01; the epoch is 11644473600 s later. */
        GetSystemTimeAsFileTime(&ft);
        t.LowPart = ft.dwLowDateTime;
        t.HighPart = ft.dwHighDateTime;
        return t.QuadPart / 10000 - 11644473600000ull;
}

/* Writes to a pipe, file or console block until taken. */
int ctl_os_write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;
                int n = _write(fd, p, chunk);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Stand-ins behind refused options (--workdir, --mount). */
int ctl_os_open_dir(const char *path)
{
        (void)path;
        return -EOPNOTSUPP;
}

int ctl_os_open_mount_source(const char *path)
{
        (void)path;
        return -EOPNOTSUPP;
}

void ctl_os_close(int fd)
{
        _close(fd);
}

/* Bytes waiting in a pipe, or true when it broke (a read says which). */
static bool pipe_ready(HANDLE h)
{
        DWORD avail = 0;

        if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL))
                return true;
        return avail > 0;
}

/* Input records a console holds before a line is read: key-ups, focus
 * and mouse events among them. */
#define CONSOLE_PEEK_MAX 256

/* Whether a read of the console would return now: an Enter is among its
 * queued key presses (^Z, its end of input, is a line too). */
static bool console_line_ready(HANDLE h)
{
        INPUT_RECORD rec[CONSOLE_PEEK_MAX];
        DWORD n = 0;

        if (!PeekConsoleInputW(h, rec, CONSOLE_PEEK_MAX, &n))
                return true;    /* a read says what is wrong */
        for (DWORD i = 0; i < n; i++)
                if (rec[i].EventType == KEY_EVENT && rec[i].Event.KeyEvent.bKeyDown &&
                    rec[i].Event.KeyEvent.uChar.UnicodeChar == L'\r')
                        return true;
        /* So many records and no Enter: the read takes what is there. */
        return n == CONSOLE_PEEK_MAX;
}

static bool stdin_ready(void)
{
        HANDLE h = GetStdHandle(STD_INPUT_HANDLE);

        switch (GetFileType(h)) {
        case FILE_TYPE_PIPE:
                return pipe_ready(h);
        case FILE_TYPE_CHAR:
                return !is_console(h) || console_line_ready(h);
        default:
                return true;
        }
}

int ctl_os_wait(int conn_fd, bool want_stdin, int winch_fd)
{
        HANDLE conn = (HANDLE)_get_osfhandle(conn_fd);
        DWORD nap = 1;

        (void)winch_fd;         /* none without --tty */
        if (conn == INVALID_HANDLE_VALUE)
                return -EBADF;
        for (;;) {
                int ready = (pipe_ready(conn) ? CTL_READY_CONN : 0) |
                            (want_stdin && stdin_ready() ? CTL_READY_STDIN : 0);

                if (ready)
                        return ready;
                Sleep(nap);
                if (nap < 16)
                        nap *= 2;
        }
}

/* The names POSIX gives the numbers a Windows job's end is reported with:
 * a kill is 9. */
const char *ctl_os_signal_name(int sig)
{
        switch (sig) {
        case CTL_SIGKILL:
                return "Killed";
        case 15:
                return "Terminated";
        default:
                return "a signal";
        }
}
