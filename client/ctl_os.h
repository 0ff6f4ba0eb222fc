/* ctl_os.h — what skillboxctl needs of its operating system, one file per
 * platform: ctl_os_posix.c (Linux, macOS) and ctl_os_windows.c.
 *
 * skillboxctl.c stays one program for every platform: where a platform
 * cannot do what an option asks (Windows passes no descriptors over a
 * named pipe and has no POSIX terminal), ctl_os_unsupported() refuses the
 * option by name before anything is sent, and the functions behind it are
 * stand-ins that are never reached there.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The exit status of an option this platform cannot do. */
#define CTL_EXIT_UNSUPPORTED 2

/* The exit statuses of a job that ended by a signal are 128+N with the
 * POSIX numbers, also where the C runtime names no such signal (Windows
 * reports a killed job as signal 9). */
#define CTL_SIGKILL 9
#define CTL_SIGPIPE 13

/* Before anything else: output errors as return values (no SIGPIPE), and
 * stdin, stdout and stderr as bytes (no newline translation). */
void ctl_os_init(void);

/* 0 where what (an option or a command) works; else the one line
 * "skillboxctl: WHAT: not supported on PLATFORM" on stderr and
 * CTL_EXIT_UNSUPPORTED. */
int ctl_os_unsupported(const char *what);

/* Whether our stdin can give a job anything: not when it is closed or the
 * null device (how scripts and services usually run us). */
bool ctl_os_stdin_has_data(void);

/* The size of the user's terminal: 0 and rows, cols, or -ENOTTY. */
int ctl_os_term_size(uint32_t *rows, uint32_t *cols);

/* Milliseconds since the epoch. */
uint64_t ctl_os_now_ms(void);

/* write() all of len to fd: 0, or -errno (-EPIPE when the reader left). */
int ctl_os_write_all(int fd, const void *data, size_t len);

/* A directory to pass to the daemon, opened as the caller: its fd, or
 * -errno. */
int ctl_os_open_dir(const char *path);
/* A --mount source: a directory or one regular file, as ctl_os_open_dir();
 * -EINVAL when it is neither. */
int ctl_os_open_mount_source(const char *path);
void ctl_os_close(int fd);

/* What ctl_os_wait() found ready. */
#define CTL_READY_CONN  0x1     /* the daemon's connection: sb_process() it */
#define CTL_READY_STDIN 0x2     /* our stdin: a read() takes something (or EOF) */
#define CTL_READY_WINCH 0x4     /* winch_fd: the window changed */

/* Wait until the connection conn_fd (sb_fd()), stdin (when want_stdin) or
 * winch_fd (when >= 0) is ready: CTL_READY_* bits, or -errno. */
int ctl_os_wait(int conn_fd, bool want_stdin, int winch_fd);

/* A job's end signal, named ("Killed"). */
const char *ctl_os_signal_name(int sig);
