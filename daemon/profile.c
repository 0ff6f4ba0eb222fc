/* profile.c — the current profiles and request merging.
 *
 * The profiles live in the current configuration (set by the daemon's
 * settings code at start and on reload); before any is set the built-in
 * configuration is used. Every struct sbp_profile handed out here is the
 * first member of a struct sbd_conf_profile, which sbd_profile_conf() relies on.
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

#include "daemon/profile.h"

static const struct sbd_conf *current;
static struct sbd_conf *fallback;      /* the built-in, if nobody set one */
static struct sbp_profile *flat;       /* sbd_profiles()' array, a copy */
static size_t flat_n;

static const struct sbd_conf *conf(void)
{
        if (!current) {
                if (!fallback)
                        fallback = sbd_conf_new_builtin();
                current = fallback;
        }
        return current;
}

void sbd_profiles_use(const struct sbd_conf *c)
{
        current = c;
        free(flat);
        flat = NULL;
        flat_n = 0;
}

const struct sbp_profile *sbd_profiles(size_t *count)
{
        const struct sbd_conf *c = conf();
        size_t i;

        *count = 0;
        if (!c)
                return NULL;
        if (!flat && c->n_profiles) {
                flat = calloc(c->n_profiles, sizeof(*flat));
                if (!flat)
                        return NULL;
                for (i = 0; i < c->n_profiles; i++)
                        flat[i] = c->profiles[i].p;
                flat_n = c->n_profiles;
        }
        *count = flat_n;
        return flat;
}

const struct sbp_profile *sbd_profile_find(const char *name)
{
        const struct sbd_conf *c = conf();
        const struct sbd_conf_profile *p = c ? sbd_conf_profile_find(c, name) : NULL;

        return p ? &p->p : NULL;
}

const struct sbd_conf_profile *sbd_profile_conf(const struct sbp_profile *p)
{
        const struct sbd_conf *c = conf();
        uintptr_t a = (uintptr_t)p;
        size_t i;

        /* Only a profile of the current configuration has one (a copy made
         * by a caller does not). */
        for (i = 0; c && i < c->n_profiles; i++)
                if (a == (uintptr_t)&c->profiles[i].p)
                        return &c->profiles[i];
        return NULL;
}

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

int sbd_profile_merge(const struct sbp_profile *p, const struct sbp_exec_params *req,
                      struct sbd_limits *out, struct sbp_error *err)
{
        uint64_t cpu;
        int r;

        memset(out, 0, sizeof(*out));
        r = merge_one("memory_max", p->memory_max, req->memory_max, &out->memory_max, err);
        if (r < 0)
                return r;
        r = merge_one("tasks_max", p->tasks_max, req->tasks_max, &out->tasks_max, err);
        if (r < 0)
                return r;
        r = merge_one("cpu_percent", p->cpu_percent, req->cpu_percent, &cpu, err);
        if (r < 0)
                return r;
        out->cpu_percent = (uint32_t)cpu;
        r = merge_one("timeout_ms", p->timeout_ms, req->timeout_ms, &out->timeout_ms, err);
        if (r < 0)
                return r;
        r = merge_one("output_max", p->output_max, req->output_max, &out->output_max, err);
        if (r < 0)
                return r;
        out->output_truncate = p->output_truncate;
        out->tmp_size = p->tmp_size;
        out->tmp_inodes_max = p->tmp_inodes_max;
        r = merge_one("work_size_max", p->work_size_max, req->work_size_max, &out->work_size_max,
                      err);
        if (r < 0)
                return r;
        r = merge_one("work_inodes_max", p->work_inodes_max, req->work_inodes_max,
                      &out->work_inodes_max, err);
        if (r < 0)
                return r;
        out->network = strcmp(p->network, "host") == 0;
        {
                const struct sbd_conf_profile *cp = sbd_profile_conf(p);
                size_t i, n = 0;

                out->require = cp ? cp->require : 0;
                for (i = 0; cp && i < cp->syscall_filter.n && n < SBD_CONF_SYSCALL_GROUPS_MAX; i++) {
                        const char *g = sbd_conf_syscall_group(cp->syscall_filter.v[i]);

                        if (g)   /* always: the parser admits only known groups */
                                out->syscall_allow[n++] = g;
                }
                out->syscall_allow[n] = NULL;
        }
        return 0;
}

bool sbd_profile_unmet(const struct sbd_limits *l, const struct sbp_enforced *e, char *buf,
                       size_t len)
{
        return sbd_conf_require_missing(l->require, e, !l->network, buf, len) > 0;
}
