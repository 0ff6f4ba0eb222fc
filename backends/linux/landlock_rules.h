/* landlock_rules.h — the job's Landlock ruleset: what the sandbox shows, no more. */
#pragma once

#include <stdbool.h>

struct sb_spawn_plan;

/* Parent, at open(): the kernel's Landlock ABI version, 0 when it has none
 * (or it is disabled at boot). */
int sb_linux_landlock_abi(void);

/* Child, after pivot_root and no_new_privs: restrict the calling process
 * (and everything it forks) to the sandbox's paths (the plan's host
 * directories and binds) with the rights of the plan's Landlock ABI
 * (min(kernel, what we know)). Allocation-free. Returns 0 or -errno with
 * *step (and *arg, a path or NULL) set. */
int sb_linux_landlock_apply(const struct sb_spawn_plan *p, const char **step, const char **arg);

/* The highest ABI whose rights this file knows. */
#define SB_LANDLOCK_ABI_MAX 7
