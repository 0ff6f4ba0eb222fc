/* profile.c — merging a request into a profile: the one place a job's
 * policy (struct sb_policy) is made. It holds no state; the profile comes
 * from the configuration the caller holds.
 *
 * Invariant: a merged limit is never looser than the profile's. A profile
 * value of 0 means "no limit", so any requested value tightens it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/syscall_groups.h"
#include "daemon/profile.h"

/* A profile's groups are a set of known names (config/conf.c), so they
 * always fit a policy: none is ever dropped. */
#define COUNT_ONE(name) +1
_Static_assert(0 SB_SYSCALL_GROUP_NAMES(COUNT_ONE) <= SB_POLICY_SYSCALL_GROUPS_MAX,
               "more syscall groups than a policy holds");
#undef COUNT_ONE

/* One limit: 0 asks for the profile's value. */
static int merge_one(const char *field, uint64_t profile, uint64_t req, uint64_t *out,
                     struct sbp_error *err)
{
        if (req == 0) {
                *out = profile;
                return 0;
        }
        if (profile != 0 && req > profile) {
                sbp_error_set(err, SBP_E_PERMISSION_DENIED,
                              "%s %" PRIu64 " exceeds the profile's %" PRIu64, field, req,
                              profile);
                return -EACCES;
        }
        *out = req;
        return 0;
}

int sbd_profile_merge(const struct sbd_conf_profile *cp, const struct sbp_exec_params *req,
                      struct sbd_limits *out, struct sbp_error *err)
{
        const struct sbp_profile *p = &cp->p;
        struct sb_policy *pol = &out->policy;
        uint64_t cpu;
        size_t i, n = 0;
        int r;

        memset(out, 0, sizeof(*out));
        r = merge_one("memory_max", p->memory_max, req->memory_max, &pol->memory_max, err);
        if (r < 0)
                return r;
        r = merge_one("tasks_max", p->tasks_max, req->tasks_max, &pol->tasks_max, err);
        if (r < 0)
                return r;
        r = merge_one("cpu_percent", p->cpu_percent, req->cpu_percent, &cpu, err);
        if (r < 0)
                return r;
        pol->cpu_percent = (uint32_t)cpu;
        r = merge_one("timeout_ms", p->timeout_ms, req->timeout_ms, &out->timeout_ms, err);
        if (r < 0)
                return r;
        r = merge_one("output_max", p->output_max, req->output_max, &out->output_max, err);
        if (r < 0)
                return r;
        out->output_truncate = p->output_truncate;
        pol->tmp_size = p->tmp_size;
        pol->tmp_inodes_max = p->tmp_inodes_max;
        r = merge_one("work_size_max", p->work_size_max, req->work_size_max, &pol->work_size_max,
                      err);
        if (r < 0)
                return r;
        r = merge_one("work_inodes_max", p->work_inodes_max, req->work_inodes_max,
                      &pol->work_inodes_max, err);
        if (r < 0)
                return r;
        pol->network = strcmp(p->network, "host") == 0;
        out->require = cp->require;
        for (i = 0; i < cp->syscall_filter.n && n < SB_POLICY_SYSCALL_GROUPS_MAX; i++) {
                const char *g = sbd_conf_syscall_group(cp->syscall_filter.v[i]);

                if (g)   /* always: the parser admits only known groups */
                        pol->syscall_allow[n++] = g;
        }
        pol->syscall_allow[n] = NULL;
        return 0;
}

bool sbd_profile_unmet(const struct sbd_limits *l, const struct sbp_enforced *e, char *buf,
                       size_t len)
{
        return sbd_conf_require_missing(l->require, e, !l->policy.network, buf, len) > 0;
}
