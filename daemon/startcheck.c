/* startcheck.c — run the host checks once at start and decide.
 *
 * The checks that are no backend's (privileges, uid range, state dir) and
 * the backend's own probe(), logged one line each so the journal says at
 * start what this host can enforce; with the linux backend they are the
 * checks of `skillboxctl doctor`. Only a backend that says it cannot run
 * jobs here (probe's unusable: for linux, no mount_setattr or a missing
 * namespace) refuses the start. What is missing in part (a cgroup
 * controller, Landlock, a uid clash) is logged as a warning and left to the
 * profiles: a job whose profile needs what the host lacks fails with
 * Unsupported, it never runs with less.
 */
#include <errno.h>
#include <string.h>

#include "backends/hostcheck.h"
#include "daemon/log.h"
#include "daemon/startcheck.h"

static const char *limit_name(enum sb_backend_limit l)
{
        switch (l) {
        case SB_BACKEND_LIMIT_ENFORCED:
                return "enforced";
        case SB_BACKEND_LIMIT_MONITORED:
                return "monitored";
        case SB_BACKEND_LIMIT_ABSENT:
                break;
        }
        return "absent";
}

int sbd_startcheck_run(struct sbd_daemon *d, const struct sb_backend_config *cfg)
{
        struct sb_hostcheck_params p = {
                .state_dir = d->opt.state_dir,
                .uid_first = d->opt.uid_first,
                .uid_last = d->opt.uid_last,
        };
        static struct sb_backend_probe pr;   /* 10 KiB: off the stack */
        const struct sb_backend_caps *caps = &d->caps;

        memset(&pr, 0, sizeof(pr));
        sb_backend_hostcheck_privileges(&pr);
        d->ops->probe(cfg, &pr);
        sb_backend_hostcheck_run(&p, &pr);
        for (size_t i = 0; i < pr.n; i++) {
                const struct sb_backend_probe_item *it = &pr.item[i];

                if (it->status == SB_BACKEND_PROBE_OK)
                        log_info("host check: %s: %s", it->name, it->detail);
                else
                        log_warning("host check: %s: %s: %s; fix: %s", it->name,
                                    sb_backend_probe_status_name(it->status), it->detail,
                                    it->fix[0] ? it->fix : "-");
        }
        log_info("backend %s: memory limit %s, tasks limit %s, CPU limit %s; mounts by "
                 "descriptor: %s; prepared sandboxes: %s", d->ops->name,
                 limit_name(caps->memory), limit_name(caps->tasks), limit_name(caps->cpu),
                 caps->fd_mounts ? "yes" : "no", caps->prepared ? "yes" : "no");
        if (pr.unusable[0]) {
                log_error("host check: backend %s cannot run jobs here: %s; refusing to start",
                          d->ops->name, pr.unusable);
                return -EOPNOTSUPP;
        }
        return 0;
}
