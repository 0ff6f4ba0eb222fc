/* profile.c — the built-in "default" profile and request merging.
 *
 * Invariant: a merged limit is never looser than the profile's. A profile
 * value of 0 means "no limit", so any requested value tightens it.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "daemon/profile.h"

static const struct sbp_profile builtin_profiles[] = {
        {
                .name = "default",
                .memory_max = 512ull << 20,
                .tasks_max = 64,
                .cpu_percent = 100,
                .timeout_ms = 60000,
                .tmp_size = 64ull << 20,
                .network = "none",
        },
};

const struct sbp_profile *sbd_profiles(size_t *count)
{
        *count = sizeof(builtin_profiles) / sizeof(builtin_profiles[0]);
        return builtin_profiles;
}

const struct sbp_profile *sbd_profile_find(const char *name)
{
        size_t n, i;
        const struct sbp_profile *p = sbd_profiles(&n);

        if (!name || !*name)
                name = "default";
        for (i = 0; i < n; i++)
                if (strcmp(p[i].name, name) == 0)
                        return &p[i];
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
        out->tmp_size = p->tmp_size;
        out->network = strcmp(p->network, "host") == 0;
        return 0;
}
