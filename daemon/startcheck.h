/* startcheck.h — the host checks at daemon start (backends/hostcheck.h and
 * the backend's probe()). */
#pragma once

#include "daemon/daemon.h"

/* Log one line per check (info when fine, a warning with the fix when not)
 * and what the backend's caps say it applies. Returns <0 only when the
 * backend's probe says it cannot run jobs on this host (cfg: what open()
 * will get). */
int sbd_startcheck_run(struct sbd_daemon *d, const struct sb_backend_config *cfg);
