/* landlock_rules.h — the job's Landlock ruleset: what the sandbox shows, no more. */
#pragma once

#include <stdbool.h>

struct sb_backend;
struct sb_linux_binds;

/* Parent, at open(): the kernel's Landlock ABI version, 0 when it has none
 * (or it is disabled at boot). */
int sb_linux_landlock_abi(void);

/* Child, after pivot_root and no_new_privs: restrict the calling process
 * (and everything it forks) to the sandbox's paths with the rights of
 * `abi` (min(kernel, what we know)). Allocation-free. Returns 0 or -errno
 * with *step (and *arg, a path or NULL) set. */
int sb_linux_landlock_apply(const struct sb_backend *b, int abi, bool network,
                            const struct sb_linux_binds *binds,
                            const char **step, const char **arg);

/* The highest ABI whose rights this file knows. */
#define SB_LANDLOCK_ABI_MAX 7
