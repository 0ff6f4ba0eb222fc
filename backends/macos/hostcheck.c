/* hostcheck.c (macos) — what a Mac can enforce, for `skillboxctl doctor`:
 * the interface of backends/linux/hostcheck.h, answered with the macos
 * backend's facts (backends/macos/macos.c). None of it depends on the
 * host beyond being macOS: Seatbelt is in every libSystem, and the
 * missing mechanisms are missing on every Mac. So the items say what is
 * enforced, monitored and absent rather than probe. */
#include <unistd.h>

#include "backends/linux/hostcheck.h"

void sb_linux_hostcheck_run(const char *cgroup_root, struct sb_linux_hostcheck *hc)
{
        struct sb_backend_probe_item *it;

        (void)cgroup_root;
        hc->namespaces_ok = false;
        hc->mount_api_ok = false;
        hc->cgroup_ok = false;
        hc->landlock_abi = 0;

        it = sb_backend_probe_add(hc->out, "seatbelt");
        sb_backend_probe_append(it->detail, sizeof(it->detail),
                                "enforced: files (write only the job's directories) and network "
                                "per profile, by a Seatbelt profile per job");
        it = sb_backend_probe_add(hc->out, "memory");
        sb_backend_probe_worsen(it, SB_BACKEND_PROBE_WARN);
        sb_backend_probe_append(it->detail, sizeof(it->detail),
                                "monitored, not enforced: sampled every 250 ms, the job killed "
                                "past MemoryMax= (macOS has no cgroups and ignores RLIMIT_AS)");
        it = sb_backend_probe_add(hc->out, "cpu");
        sb_backend_probe_worsen(it, SB_BACKEND_PROBE_WARN);
        sb_backend_probe_append(it->detail, sizeof(it->detail), "absent: CPUQuota= is not applied");
        it = sb_backend_probe_add(hc->out, "tasks");
        if (geteuid() == 0) {
                sb_backend_probe_append(it->detail, sizeof(it->detail),
                                        "enforced: RLIMIT_NPROC on the job's own uid");
        } else {
                sb_backend_probe_worsen(it, SB_BACKEND_PROBE_WARN);
                sb_backend_probe_append(it->detail, sizeof(it->detail),
                                        "absent: jobs share the daemon's uid");
                sb_backend_probe_append(it->fix, sizeof(it->fix), "run skillboxd as root");
        }
}
