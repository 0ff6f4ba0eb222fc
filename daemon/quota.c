/* quota.c — per-owner accounting and the daemon-wide caps checked at exec.
 *
 * A job counts against its owner from exec until its cleanup (the backend's
 * destroy) finished, since until then it holds a uid of the range: so one
 * client cannot take every uid by starting jobs that leave big directories
 * behind. Its memory limit counts from exec until its processes are gone.
 * The caps: MaxJobs= and MaxJobsPerUser= on jobs, MaxJobsMemory= and
 * MaxJobsMemoryPerUser= on the sum of memory limits, so the limits handed
 * out never promise more than the host has. Entries live in a short list
 * (one per owner uid that holds anything), freed as soon as they hold
 * nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/sysinfo.h>

#include "daemon/log.h"
#include "daemon/quota.h"

uint64_t sbd_quota_share_bytes(uint64_t bytes, uint32_t percent)
{
        struct sysinfo si;
        uint64_t total;

        if (!percent)
                return bytes;
        if (sysinfo(&si) < 0) {
                /* Unknown size: no quota rather than a made-up one. */
                log_errno(-errno, "sysinfo: the memory quota of %u%% is not applied",
                          (unsigned)percent);
                return 0;
        }
        total = (uint64_t)si.totalram * (si.mem_unit ? si.mem_unit : 1);
        return total / 100 * percent;
}

static uint64_t min_nonzero(uint64_t a, uint64_t b)
{
        if (!a)
                return b;
        if (!b)
                return a;
        return a < b ? a : b;
}

uint64_t sbd_quota_memory_charge(const struct sbd_daemon *d, uint64_t memory_max)
{
        if (memory_max)
                return memory_max;
        /* No limit: it may take everything its owner may have. */
        return min_nonzero(d->opt.jobs_memory_max, d->opt.jobs_memory_max_per_user);
}

struct sbd_usage *sbd_usage_get(struct sbd_daemon *d, uint32_t uid, bool create)
{
        struct sbd_list *pos, *tmp;
        struct sbd_usage *u;

        sbd_list_for_each_safe(pos, tmp, &d->usage) {
                u = sbd_container_of(pos, struct sbd_usage, node);
                if (u->uid == uid)
                        return u;
        }
        if (!create)
                return NULL;
        u = calloc(1, sizeof(*u));
        if (!u)
                return NULL;
        u->uid = uid;
        sbd_list_append(&d->usage, &u->node);
        return u;
}

void sbd_usage_drop_if_idle(struct sbd_daemon *d, struct sbd_usage *u)
{
        (void)d;
        if (!u || u->jobs || u->memory || u->retained)
                return;
        sbd_list_remove(&u->node);
        free(u);
}

static int exhausted(struct sbp_error *err, const char *what, uint64_t limit, const char *unit,
                     uint32_t uid)
{
        if (uid == UINT32_MAX)
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "%s: limit %" PRIu64 "%s "
                                     "reached", what, limit, unit);
        return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "%s for uid %u: limit %" PRIu64
                             "%s reached", what, (unsigned)uid, limit, unit);
}

int sbd_quota_exec_check(struct sbd_daemon *d, uint32_t uid, uint64_t memory,
                         struct sbp_error *err)
{
        const struct sbd_usage *u = sbd_usage_get(d, uid, false);
        uint32_t jobs = u ? u->jobs : 0;
        uint64_t mem = u ? u->memory : 0;

        if (d->jobs_held >= d->opt.max_jobs)
                return exhausted(err, "MaxJobs (jobs running or being cleaned up)",
                                 d->opt.max_jobs, "", UINT32_MAX);
        if (jobs >= d->opt.max_jobs_per_user)
                return exhausted(err, "MaxJobsPerUser (jobs running or being cleaned up)",
                                 d->opt.max_jobs_per_user, "", uid);
        if (d->opt.jobs_memory_max && (memory > d->opt.jobs_memory_max ||
                                       d->memory_charged > d->opt.jobs_memory_max - memory))
                return exhausted(err, "MaxJobsMemory (memory limits of running jobs)",
                                 d->opt.jobs_memory_max, " bytes", UINT32_MAX);
        if (d->opt.jobs_memory_max_per_user &&
            (memory > d->opt.jobs_memory_max_per_user ||
             mem > d->opt.jobs_memory_max_per_user - memory))
                return exhausted(err, "MaxJobsMemoryPerUser (memory limits of running jobs)",
                                 d->opt.jobs_memory_max_per_user, " bytes", uid);
        return 0;
}

int sbd_quota_job_start(struct sbd_daemon *d, uint32_t uid, uint64_t memory)
{
        struct sbd_usage *u = sbd_usage_get(d, uid, true);

        if (!u)
                return -ENOMEM;
        u->jobs++;
        u->memory += memory;
        d->jobs_held++;
        d->memory_charged += memory;
        return 0;
}

void sbd_quota_job_ended(struct sbd_daemon *d, uint32_t uid, uint64_t memory)
{
        struct sbd_usage *u = sbd_usage_get(d, uid, false);

        d->memory_charged -= memory;
        if (!u)
                return;
        u->memory -= memory;
        sbd_usage_drop_if_idle(d, u);
}

int sbd_quota_memory_hold(struct sbd_daemon *d, uint32_t uid, uint64_t bytes)
{
        struct sbd_usage *u = sbd_usage_get(d, uid, true);

        if (!u)
                return -ENOMEM;
        u->memory += bytes;
        d->memory_charged += bytes;
        return 0;
}

void sbd_quota_memory_release(struct sbd_daemon *d, uint32_t uid, uint64_t bytes)
{
        sbd_quota_job_ended(d, uid, bytes);
}

void sbd_quota_job_released(struct sbd_daemon *d, uint32_t uid)
{
        struct sbd_usage *u = sbd_usage_get(d, uid, false);

        d->jobs_held--;
        if (!u)
                return;
        u->jobs--;
        sbd_usage_drop_if_idle(d, u);
}

void sbd_quota_free_all(struct sbd_daemon *d)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &d->usage) {
                struct sbd_usage *u = sbd_container_of(pos, struct sbd_usage, node);

                sbd_list_remove(&u->node);
                free(u);
        }
}
