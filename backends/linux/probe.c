/* probe.c — what the linux backend can do (caps) and whether this host lets
 * it (probe), both asked before open().
 *
 * The backend refuses a host without mount_setattr() or without the mount,
 * pid, net, ipc, uts and cgroup namespaces: every job needs them. What it
 * only lacks in part (a cgroup controller, Landlock) is left to the
 * profiles: a job whose profile requires it fails with Unsupported.
 */
#include <limits.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/linux/hostcheck.h"
#include "backends/linux/landlock_rules.h"
#include "backends/linux/linux.h"

void sb_linux_backend_caps(struct sb_backend_caps *out)
{
        memset(out, 0, sizeof(*out));
        /* A cgroup per job: the kernel holds each job to its limits. */
        out->memory = SB_BACKEND_LIMIT_ENFORCED;
        out->tasks = SB_BACKEND_LIMIT_ENFORCED;
        out->cpu = SB_BACKEND_LIMIT_ENFORCED;
        out->fd_mounts = true;
        out->tty = true;        /* pty.c */
        /* A network namespace of the job's own, or the host's. */
        out->network_modes = SBP_NETWORK_MODE_NONE | SBP_NETWORK_MODE_ALLOWLIST |
                             SBP_NETWORK_MODE_HOST;
        out->home = SB_LINUX_HOME;
        out->prepared = true;
        out->sandboxes = true;
        out->prepared_entries_max = SB_LINUX_START_ENTRIES_MAX;
        out->prepared_bytes_max = SB_LINUX_START_BYTES_MAX;
        out->needs_delegated_cgroup = true;
}

int sb_linux_landlock_abi(void)
{
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0UL, LANDLOCK_CREATE_RULESET_VERSION);

        /* ENOSYS: not built in; EOPNOTSUPP: disabled at boot. */
        return v > 0 ? (int)v : 0;
}

const char *sb_linux_spawner_find(const char *configured, char *buf, size_t len)
{
        static const char name[] = "/skillbox-spawner";
        ssize_t n;
        char *slash;

        if (configured)
                return configured;
        /* Beside the running program first: a build tree runs its own. */
        snprintf(buf, len, "(beside the running program)");
        n = readlink("/proc/self/exe", buf, len - 1);
        if (n > 0) {
                buf[n] = '\0';
                slash = strrchr(buf, '/');
                if (slash && (size_t)(slash - buf) + sizeof(name) <= len) {
                        memcpy(slash, name, sizeof(name));
                        if (access(buf, X_OK) == 0)
                                return buf;
                }
        }
        if (access(SKILLBOX_SPAWNER_PATH, X_OK) == 0)
                return SKILLBOX_SPAWNER_PATH;
        return NULL;
}

static void check_spawner(const struct sb_backend_config *cfg, struct sb_backend_probe *out)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(out, "spawner");
        char buf[PATH_MAX];
        const char *path = sb_linux_spawner_find(cfg->linux_cfg.spawner_path, buf, sizeof(buf));

        if (path) {
                snprintf(it->detail, sizeof(it->detail), "%s", path);
                return;
        }
        /* Truncated, if ever, at the end of the path (the item's size). */
        snprintf(it->detail, sizeof(it->detail), "no skillbox-spawner at %.200s or %s: "
                 "it clones every job", buf, SKILLBOX_SPAWNER_PATH);
        snprintf(it->fix, sizeof(it->fix), "install skillbox-spawner at %s",
                 SKILLBOX_SPAWNER_PATH);
        it->status = SB_BACKEND_PROBE_FAIL;
}

void sb_linux_probe(const struct sb_backend_config *cfg, struct sb_backend_probe *out)
{
        struct sb_linux_hostcheck hc = { .out = out };

        sb_linux_hostcheck_run(NULL, &hc);
        check_spawner(cfg, out);
        if (!hc.mount_api_ok)
                snprintf(out->unusable, sizeof(out->unusable),
                         "every job's file system is built with mount_setattr(), which this "
                         "kernel lacks (--backend posix runs jobs with rlimits only)");
        else if (!hc.namespaces_ok)
                snprintf(out->unusable, sizeof(out->unusable),
                         "the namespaces every job needs cannot be created (--backend posix "
                         "runs jobs with rlimits only)");
}
