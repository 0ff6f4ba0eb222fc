/* startcheck.c — run the host checks once at start and decide.
 *
 * The same checks as `skillboxctl doctor`, logged one line each so the
 * journal says at start what this host can enforce. Only what makes the
 * daemon useless refuses the start: the linux backend without the mount,
 * pid, net, ipc, uts and cgroup namespaces (every linux job needs them). A
 * missing cgroup controller, Landlock or a uid clash is logged as a warning
 * and left to the profiles: a job whose profile needs what the host lacks
 * fails with Unsupported, it never runs with less.
 */
#include <errno.h>
#include <string.h>

#include "backends/hostcheck.h"
#include "daemon/log.h"
#include "daemon/startcheck.h"

int sbd_startcheck_run(struct sbd_daemon *d)
{
        struct sb_hostcheck_params p = {
                .state_dir = d->opt.state_dir,
                .uid_first = d->opt.uid_first,
                .uid_last = d->opt.uid_last,
        };
        struct sb_hostcheck hc;
        bool linux_backend = strcmp(d->ops->name, "linux") == 0;

        sb_backend_hostcheck_run(&p, &hc);
        for (size_t i = 0; i < hc.n; i++) {
                const struct sb_hostcheck_item *it = &hc.item[i];

                if (it->status == SB_HOSTCHECK_OK)
                        log_info("host check: %s: %s", it->name, it->detail);
                else
                        log_warning("host check: %s: %s: %s; fix: %s", it->name,
                                    sb_backend_hostcheck_status_name(it->status), it->detail,
                                    it->fix[0] ? it->fix : "-");
        }
        if (linux_backend && !hc.mount_api_ok) {
                log_error("host check: the linux backend builds every job's file system with "
                          "mount_setattr(), which this kernel lacks; refusing to start "
                          "(--backend posix runs jobs with rlimits only)");
                return -EOPNOTSUPP;
        }
        if (linux_backend && !hc.namespaces_ok) {
                log_error("host check: the linux backend cannot create the namespaces every job "
                          "needs; refusing to start (--backend posix runs jobs with rlimits only)");
                return -EOPNOTSUPP;
        }
        return 0;
}
