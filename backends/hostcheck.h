/* hostcheck.h — what this host can enforce, as structured results.
 *
 * Shared by skillboxd (logged once at start) and `skillboxctl doctor`
 * (printed, or as JSON). Pure probing: nothing here logs or changes the
 * host; the namespace probe runs in short-lived forked children.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sb_hostcheck_status {
        SB_HOSTCHECK_OK,
        SB_HOSTCHECK_WARN,   /* works, but weaker or surprising */
        SB_HOSTCHECK_FAIL,   /* the default profile cannot be enforced */
};

struct sb_hostcheck_item {
        const char *name;                 /* "namespaces", "cgroup", ... */
        enum sb_hostcheck_status status;
        char detail[384];                 /* what the host has */
        char fix[384];                    /* how to fix it; "" when nothing to fix */
};

#define SB_HOSTCHECK_ITEMS_MAX 8

struct sb_hostcheck {
        size_t n;
        struct sb_hostcheck_item item[SB_HOSTCHECK_ITEMS_MAX];
        /* Bits for the daemon's start-up decision. */
        bool namespaces_ok;      /* mount, pid, net, ipc, uts, cgroup all available */
        bool mount_api_ok;       /* mount_setattr (5.12): every job's mounts use it */
        bool cgroup_ok;          /* memory, pids and cpu usable */
        unsigned landlock_abi;   /* 0 = none */
};

struct sb_hostcheck_params {
        const char *state_dir;
        uint32_t uid_first, uid_last;
        const char *cgroup_root;  /* NULL: /sys/fs/cgroup */
};

/* Run every check; never fails (a probe that errs is reported as such). */
void sb_backend_hostcheck_run(const struct sb_hostcheck_params *p, struct sb_hostcheck *out);

/* True when no item is SB_HOSTCHECK_FAIL. */
bool sb_backend_hostcheck_ok(const struct sb_hostcheck *hc);

/* "ok", "warn", "fail". */
const char *sb_backend_hostcheck_status_name(enum sb_hostcheck_status s);
