/* hostcheck.h — what this Linux host can enforce (the linux backend's
 * probe(), and `skillboxctl doctor`).
 */
#pragma once

#include <stdbool.h>

#include "backends/probe.h"

struct sb_linux_hostcheck {
        struct sb_backend_probe *out;   /* the items are appended here */
        /* Bits for the backend's start-up decision. */
        bool namespaces_ok;      /* mount, pid, net, ipc, uts, cgroup all available */
        bool mount_api_ok;       /* mount_setattr (5.12): every job's mounts use it */
        bool cgroup_ok;          /* memory, pids and cpu usable */
        unsigned landlock_abi;   /* 0 = none */
};

/* Append "namespaces", "cgroup", "mount-api", "seccomp" and "landlock" to
 * hc->out and set the bits. cgroup_root NULL: /sys/fs/cgroup. */
void sb_linux_hostcheck_run(const char *cgroup_root, struct sb_linux_hostcheck *hc);
