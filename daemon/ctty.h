/* ctty.h — the daemon leaves the terminal it was started from. */
#pragma once

/* Drop the controlling terminal, if any: no job, and nothing a job could
 * reach through the daemon, may type into a root terminal (TIOCSTI) or be
 * stopped by its job control. 0 (also when there was none), or -errno. */
int sbd_ctty_drop(void);
