/* hostcheck.h — the host checks that belong to no backend: privileges, the
 * job uid range against the accounts, the state directory.
 *
 * Shared by skillboxd (logged once at start, around its backend's probe())
 * and `skillboxctl doctor`. Pure probing: nothing here logs or changes the
 * host.
 */
#pragma once

#include <stdint.h>

#include "backends/probe.h"

struct sb_hostcheck_params {
        const char *state_dir;
        uint32_t uid_first, uid_last;
};

/* "privileges" (a warning) when not run as root; nothing as root. */
void sb_backend_hostcheck_privileges(struct sb_backend_probe *out);

/* Append "uid-range" and "state-dir"; never fails (a probe that errs is
 * reported as such). */
void sb_backend_hostcheck_run(const struct sb_hostcheck_params *p, struct sb_backend_probe *out);
