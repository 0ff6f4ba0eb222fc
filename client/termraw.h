/* termraw.h — the user's terminal in raw mode while a tty job runs.
 *
 * skillboxctl run --tty hands every key to the job's terminal, whose line
 * discipline does the editing, echo and signals (^C reaches the job, not
 * skillboxctl): the user's own terminal must do none of it, so it is put in
 * raw mode for the run and given back as it was on every way out — a
 * return, exit(), and a signal that would end or stop skillboxctl.
 */
#pragma once

#include <stdbool.h>

/* Raw mode on fd (a terminal), the old mode saved: 0, or -errno (then
 * nothing changed). Restored at exit and on SIGHUP, SIGINT, SIGQUIT,
 * SIGTERM (then the signal does what it would have done); SIGTSTP stops
 * with the old mode and SIGCONT brings raw mode back. Once per process. */
int sbctl_termraw_enter(int fd);
/* The saved mode back now (idempotent; nothing if never entered). */
void sbctl_termraw_leave(void);

/* SIGWINCH as a readable fd: a byte per change of the window size, read
 * them all with sbctl_winch_drain(). -errno when it cannot be set up. */
int sbctl_winch_fd(void);
void sbctl_winch_drain(void);
