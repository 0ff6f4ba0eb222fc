/* retain.c — finished results kept for `wait`, `inspect` and `list`.
 *
 * Invariant: one user's results never push out another user's. A new result
 * makes room by dropping its owner's own oldest results, when the owner is at
 * MaxRetainedJobsPerUser= or the daemon at MaxRetainedJobs=; if the owner
 * has none to drop (the total is full of other users' results), the new
 * result is not kept: its waiters and job_exit got it already. A kept
 * result holds its struct and an argv cut to SBP_ARGV_KEPT_MAX bytes
 * (job.c), so the bound on memory is the count times a few KiB.
 */
#include <inttypes.h>

#include "daemon/log.h"
#include "daemon/quota.h"
#include "daemon/retain.h"

static void on_retention_over(uv_timer_t *t)
{
        struct sbd_job *j = t->data;

        log_debug("job %s: result no longer retained", j->id);
        sbd_job_remove(j);
}

/* The oldest retained result of uid, or NULL. */
static struct sbd_job *oldest_of(struct sbd_daemon *d, uint32_t uid)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &d->retained) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, retained_node);

                if (j->owner_uid == uid)
                        return j;
        }
        return NULL;
}

static bool full(const struct sbd_daemon *d, const struct sbd_usage *u)
{
        return u->retained >= d->opt.max_retained_per_user ||
               d->jobs_retained >= d->opt.max_retained;
}

void sbd_retain_job(struct sbd_job *j)
{
        struct sbd_daemon *d = j->d;
        struct sbd_usage *u;

        if (d->opt.retain_ms == 0 || d->opt.max_retained == 0 ||
            d->opt.max_retained_per_user == 0) {
                sbd_job_remove(j);
                return;
        }
        /* The job still counts as held (its cleanup follows), so the entry
         * cannot go away while its old results are dropped below. */
        u = sbd_usage_get(d, j->owner_uid, true);
        if (!u) {
                log_warning("job %s: out of memory; result not retained", j->id);
                sbd_job_remove(j);
                return;
        }
        while (full(d, u)) {
                struct sbd_job *old = oldest_of(d, j->owner_uid);

                if (!old)
                        break;
                log_debug("job %s: result dropped for a newer one of uid %u", old->id,
                          (unsigned)j->owner_uid);
                sbd_job_remove(old);
        }
        if (full(d, u)) {
                log_warning("job %s: result not retained: MaxRetainedJobs=%u reached by "
                            "other users' results", j->id, d->opt.max_retained);
                sbd_usage_drop_if_idle(d, u);
                sbd_job_remove(j);
                return;
        }
        sbd_list_append(&d->retained, &j->retained_node);
        d->jobs_retained++;
        u->retained++;
        j->timer.data = j;
        uv_timer_start(&j->timer, on_retention_over, d->opt.retain_ms, 0);
}

void sbd_retain_forget(struct sbd_job *j)
{
        struct sbd_daemon *d = j->d;
        struct sbd_usage *u = sbd_usage_get(d, j->owner_uid, false);

        sbd_list_remove(&j->retained_node);
        d->jobs_retained--;
        if (u) {
                u->retained--;
                sbd_usage_drop_if_idle(d, u);
        }
}
