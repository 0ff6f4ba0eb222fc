/* transport_pipe.c — libskillbox's connection over a Windows named pipe
 * (transport.h), \\.\pipe\skillbox by default.
 *
 * The pipe is opened at SECURITY_IDENTIFICATION: the daemon may learn who
 * the client is (its token's user and groups) but not act as the client.
 * The handle lives in a C runtime descriptor so conn.c keeps one int for
 * the connection on every platform. Reads never block: a read takes only
 * what PeekNamedPipe says is there. Writes block until the pipe takes the
 * bytes, which the daemon (an event loop that reads every connection)
 * always does. Waiting for input polls PeekNamedPipe, backing off from 1
 * to 16 ms: a byte-mode pipe signals nothing without an overlapped read
 * in flight, and conn.c reads into the reader's buffer only when asked.
 * No descriptor crosses a pipe (-EOPNOTSUPP).
 */
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "client/transport.h"
#include "config.h"

/* One WriteFile at most this much, so a large request is partial writes
 * and the send queue's accounting stays as on a socket. */
#define WRITE_CHUNK (64u << 10)
/* Waits for a busy pipe (every instance taken) before giving up. */
#define BUSY_RETRIES 3
#define BUSY_WAIT_MS 2000

static int errno_from_win(DWORD e)
{
        switch (e) {
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND:
                return -ENOENT;
        case ERROR_ACCESS_DENIED:
                return -EACCES;
        case ERROR_PIPE_BUSY:
        case ERROR_SEM_TIMEOUT:
                return -EAGAIN;
        case ERROR_BROKEN_PIPE:
        case ERROR_NO_DATA:
        case ERROR_PIPE_NOT_CONNECTED:
                return -EPIPE;
        case ERROR_NOT_ENOUGH_MEMORY:
        case ERROR_OUTOFMEMORY:
                return -ENOMEM;
        case ERROR_INVALID_NAME:
        case ERROR_BAD_PATHNAME:
                return -EINVAL;
        default:
                return -EIO;
        }
}

const char *client_transport_default(void)
{
        const char *env = getenv("SKILLBOX_SOCKET");

        if (env && *env)
                return env;
        return SKILLBOX_DEFAULT_SOCKET;
}

static HANDLE handle_of(int fd)
{
        return (HANDLE)_get_osfhandle(fd);
}

int client_transport_connect(const char *path, int *out)
{
        wchar_t wpath[MAX_PATH];
        HANDLE h = INVALID_HANDLE_VALUE;
        int fd;

        if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wpath, MAX_PATH))
                return GetLastError() == ERROR_INSUFFICIENT_BUFFER ? -ENAMETOOLONG : -EINVAL;
        for (int tries = 0; tries <= BUSY_RETRIES; tries++) {
                h = CreateFileW(wpath, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                                SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
                if (h != INVALID_HANDLE_VALUE || GetLastError() != ERROR_PIPE_BUSY)
                        break;
                if (!WaitNamedPipeW(wpath, BUSY_WAIT_MS) && GetLastError() != ERROR_SEM_TIMEOUT)
                        break;
        }
        if (h == INVALID_HANDLE_VALUE)
                return errno_from_win(GetLastError());
        fd = _open_osfhandle((intptr_t)h, _O_BINARY);
        if (fd < 0) {
                CloseHandle(h);
                return -EMFILE;
        }
        *out = fd;
        return 0;
}

void client_transport_close(int fd)
{
        _close(fd);
}

ssize_t client_transport_send(int fd, const char *data, size_t len, const int *fds, size_t nfds)
{
        DWORD n = 0;

        if (nfds > 0)
                return -EOPNOTSUPP;
        if (len > WRITE_CHUNK)
                len = WRITE_CHUNK;
        if (!WriteFile(handle_of(fd), data, (DWORD)len, &n, NULL))
                return errno_from_win(GetLastError());
        return n > 0 ? (ssize_t)n : -EAGAIN;
}

/* Bytes waiting: >= 0, or <0 (-EPIPE once the daemon closed its end). */
static int64_t available(int fd)
{
        DWORD avail = 0;

        if (!PeekNamedPipe(handle_of(fd), NULL, 0, NULL, &avail, NULL))
                return errno_from_win(GetLastError());
        return avail;
}

ssize_t client_transport_recv(int fd, char *buf, size_t len, int *fds, size_t *nfds,
                              size_t fds_max)
{
        int64_t avail = available(fd);
        DWORD n = 0;

        (void)fds;
        (void)fds_max;
        *nfds = 0;      /* no descriptor crosses a pipe */
        if (avail == -EPIPE)
                return 0;
        if (avail < 0)
                return (ssize_t)avail;
        if (avail == 0)
                return -EAGAIN;
        if ((uint64_t)avail < len)
                len = (size_t)avail;
        if (len > UINT32_MAX)
                len = UINT32_MAX;
        if (!ReadFile(handle_of(fd), buf, (DWORD)len, &n, NULL)) {
                int r = errno_from_win(GetLastError());

                return r == -EPIPE ? 0 : r;
        }
        return (ssize_t)n;
}

int client_transport_wait(int fd, bool want_write, int timeout_ms)
{
        ULONGLONG start = GetTickCount64();
        DWORD nap = 1;

        /* Writes block until taken: the pipe is always writable. */
        if (want_write)
                return CLIENT_EV_OUT | (available(fd) != 0 ? CLIENT_EV_IN : 0);
        for (;;) {
                ULONGLONG spent;

                /* Data, the daemon gone, or an error: a read says which. */
                if (available(fd) != 0)
                        return CLIENT_EV_IN;
                spent = GetTickCount64() - start;
                if (timeout_ms >= 0 && spent >= (ULONGLONG)timeout_ms)
                        return 0;
                if (timeout_ms >= 0 && nap > (ULONGLONG)timeout_ms - spent)
                        nap = (DWORD)((ULONGLONG)timeout_ms - spent);
                Sleep(nap);
                if (nap < 16)
                        nap *= 2;
        }
}

int client_transport_fd_dup(int fd)
{
        return -EOPNOTSUPP;
}

void client_transport_fd_close(int fd)
{
        _close(fd);
}
