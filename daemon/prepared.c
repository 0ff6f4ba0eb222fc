/* prepared.c — the pool of prepared sandboxes (see prepared.h).
 *
 * Why: building a sandbox (job dir, cgroup, namespaces, some 60 mounts,
 * pivot_root, Landlock, seccomp) is most of a short job's latency. A
 * prepared one has done all of it under its own id and uid, with the
 * default profile's limits, and waits for the program; taking one leaves
 * only the start request and the program's own exec on the request's path.
 *
 * Invariants: a sandbox is taken only by a request that asks for exactly
 * what it was built with (backend start() checks again); it is built
 * with the configuration current when it was made, and a reload drops the
 * pool, so a request never runs under an older profile. Refills run from a
 * timer, never inside a request's callback: right after a job ended (its
 * job_exit is out), or PREPARED_REFILL_DELAY_MS after a take. After
 * PREPARED_FAILURES_MAX failures in a row (prepare() refused, or a sandbox
 * whose setup failed) the pool pauses, with a warning, and tries one again
 * after PREPARED_RETRY_FIRST_MS, then after twice as long each time it fails
 * (at most PREPARED_RETRY_MAX_MS): a cause that passes (a full state dir, the
 * daemon out of descriptors) does not leave it off until a reload, and one
 * that stays costs a try a minute.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/prepared.h"
#include "daemon/profile.h"
#include "daemon/settings.h"

#define PREPARED_FAILURES_MAX 3
#define PREPARED_RETRY_FIRST_MS 2000
#define PREPARED_RETRY_MAX_MS 60000
/* After a take, when no job ends before. */
#define PREPARED_REFILL_DELAY_MS 50
/* After a job ended: a client that runs jobs one after another sends its
 * next exec right after the job_exit, and that request goes first. */
#define PREPARED_AFTER_END_MS 1

static const char *prepared_profile_name = "default";

void sbd_prepared_init(struct sbd_daemon *d)
{
        sbd_list_init(&d->prepared);
        uv_timer_init(d->loop, &d->prepared_timer);
        d->prepared_timer.data = d;
}

static bool pool_usable(struct sbd_daemon *d)
{
        return d->caps.prepared && !d->draining;
}

/* Milliseconds until a paused pool may try again; 0 when not paused. */
static uint64_t pause_left(struct sbd_daemon *d)
{
        uint64_t now = uv_now(d->loop);

        if (d->prepared_failures < PREPARED_FAILURES_MAX || now >= d->prepared_paused_until)
                return 0;
        return d->prepared_paused_until - now;
}

static void failure(struct sbd_daemon *d, const char *what)
{
        if (++d->prepared_failures < PREPARED_FAILURES_MAX) {
                log_warning("prepared sandbox: %s", what);
                return;
        }
        if (d->prepared_failures == PREPARED_FAILURES_MAX) {
                d->prepared_retry_ms = PREPARED_RETRY_FIRST_MS;
                log_warning("prepared sandboxes: %u failures in a row (last: %s); "
                            "building every sandbox on request, trying again in %" PRIu64 " s",
                            PREPARED_FAILURES_MAX, what, d->prepared_retry_ms / 1000);
        } else {
                d->prepared_retry_ms = d->prepared_retry_ms * 2 > PREPARED_RETRY_MAX_MS ?
                                   PREPARED_RETRY_MAX_MS : d->prepared_retry_ms * 2;
                log_debug("prepared sandbox: %s; trying again in %" PRIu64 " s", what,
                          d->prepared_retry_ms / 1000);
        }
        d->prepared_paused_until = uv_now(d->loop) + d->prepared_retry_ms;
        sbd_prepared_schedule(d, 0);
}

/* Build one; 0, or <0 when it could not (logged). */
static int prepare_one(struct sbd_daemon *d)
{
        const struct sbd_conf_profile *prof =
                sbd_conf_profile_find(sbd_settings_conf(d), prepared_profile_name);
        struct sbp_exec_params none;
        struct sbd_limits limits;
        struct sbp_error perr;
        struct sb_job_spec spec;
        struct sbd_prepared *ps;
        char errbuf[SBP_TEXT_MAX + 1];
        int r;

        if (!prof)
                return -ENOENT;
        memset(&none, 0, sizeof(none));
        memset(&perr, 0, sizeof(perr));
        if (sbd_profile_merge(prof, &none, &limits, &perr) < 0)
                return -EINVAL;
        ps = calloc(1, sizeof(*ps));
        if (!ps)
                return -ENOMEM;
        ps->policy = limits.policy;
        if ((r = sbd_job_id_new(d, ps->id)) < 0 || (r = sbd_job_uid_alloc(d, &ps->uid)) < 0) {
                free(ps);
                return r;
        }
        sb_job_spec_init(&spec, ps->id, ps->uid, &ps->policy);
        /* The job it becomes polls the report (job_denied.c). */
        spec.denied_report = true;
        errbuf[0] = '\0';
        r = d->ops->prepare(d->backend, &spec, &ps->bj, errbuf, sizeof(errbuf));
        if (r < 0) {
                sbd_job_uid_release(d, ps->uid);
                free(ps);
                failure(d, errbuf[0] ? errbuf : sbd_errno_name(r));
                return r;
        }
        sbd_list_append(&d->prepared, &ps->node);
        d->prepared_count++;
        log_debug("prepared sandbox %s (uid %u)", ps->id, ps->uid);
        return 0;
}

static void on_fill(uv_timer_t *t)
{
        struct sbd_daemon *d = t->data;

        /* One per loop turn: each costs the loop about a millisecond, and
         * requests arriving meanwhile go first. */
        if (!pool_usable(d) || d->prepared_count >= d->opt.prepared)
                return;
        if (pause_left(d) > 0) {
                /* Set off by a refill scheduled before the pause began. */
                sbd_prepared_schedule(d, 0);
                return;
        }
        if (prepare_one(d) == 0)
                sbd_prepared_schedule(d, 0);
}

void sbd_prepared_schedule(struct sbd_daemon *d, uint64_t delay_ms)
{
        if (!pool_usable(d) || d->prepared_count >= d->opt.prepared)
                return;
        if (pause_left(d) > delay_ms)
                delay_ms = pause_left(d);
        if (uv_is_active((uv_handle_t *)&d->prepared_timer) &&
            uv_timer_get_due_in(&d->prepared_timer) <= delay_ms)
                return;
        uv_timer_start(&d->prepared_timer, on_fill, delay_ms, 0);
}

/* Whether argv and the job's environment fit what a prepared sandbox's
 * start takes (caps.prepared_*_max: entries, and bytes with the NULs). */
static bool fits_prepared(const struct sb_backend_caps *caps, char *const *argv,
                          char *const *env)
{
        size_t entries = 0, bytes = 0;

        for (char *const *v = argv; *v; v++, entries++)
                bytes += strlen(*v) + 1;
        for (char *const *v = env; *v; v++, entries++)
                bytes += strlen(*v) + 1;
        return entries <= caps->prepared_entries_max && bytes <= caps->prepared_bytes_max;
}

struct sbd_prepared *sbd_prepared_take(struct sbd_daemon *d, const char *profile,
                                       const struct sb_policy *policy,
                                       const struct sbp_exec_params *p, char *const *env)
{
        struct sbd_list *pos, *tmp;

        /* A terminal is made with the sandbox, before the clone (linux
         * pty.c), so a tty request gets a sandbox built for it. */
        if (d->prepared_count == 0 || strcmp(profile, prepared_profile_name) != 0 ||
            p->has_workdir_fd || p->nmounts || p->cwd[0] || p->tty || p->keep_work || !fits_prepared(&d->caps, p->argv, env))
                return NULL;
        sbd_list_for_each_safe(pos, tmp, &d->prepared) {
                struct sbd_prepared *ps = sbd_container_of(pos, struct sbd_prepared, node);

                if (!sb_policy_equal(&ps->policy, policy))
                        continue;
                sbd_list_remove(&ps->node);
                d->prepared_count--;
                /* Not now: a refill holds the loop for about a millisecond
                 * (more on a busy machine), which this job's own exit and
                 * output would wait for. A job that ends sooner refills
                 * from sbd_prepared_job_ended(). */
                sbd_prepared_schedule(d, PREPARED_REFILL_DELAY_MS);
                return ps;
        }
        return NULL;
}

void sbd_prepared_return(struct sbd_daemon *d, struct sbd_prepared *ps)
{
        sbd_list_append(&d->prepared, &ps->node);
        d->prepared_count++;
}

void sbd_prepared_started(struct sbd_daemon *d, struct sbd_prepared *ps)
{
        d->prepared_failures = 0;
        d->prepared_retry_ms = 0;
        free(ps);
}

/* Kill, reap and destroy the backend job; its uid is not touched. */
static void end_sandbox(struct sbd_daemon *d, struct sbd_prepared *ps, bool report)
{
        struct sb_backend_exit ex;

        d->ops->kill(ps->bj);
        if (d->ops->reap(ps->bj, &ex) == 0 && report && ex.setup_failed)
                failure(d, ex.error);
        d->ops->destroy(ps->bj);
        ps->bj = NULL;
}

void sbd_prepared_failed(struct sbd_daemon *d, struct sbd_prepared *ps)
{
        end_sandbox(d, ps, true);
        free(ps);
}

void sbd_prepared_drop_all(struct sbd_daemon *d)
{
        struct sbd_list *pos, *tmp;

        uv_timer_stop(&d->prepared_timer);
        sbd_list_for_each_safe(pos, tmp, &d->prepared) {
                struct sbd_prepared *ps = sbd_container_of(pos, struct sbd_prepared, node);

                sbd_list_remove(&ps->node);
                end_sandbox(d, ps, false);
                sbd_job_uid_release(d, ps->uid);
                free(ps);
        }
        d->prepared_count = 0;
}

void sbd_prepared_job_ended(struct sbd_daemon *d)
{
        sbd_prepared_schedule(d, PREPARED_AFTER_END_MS);
}

bool sbd_prepared_has_id(struct sbd_daemon *d, const char *id)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &d->prepared) {
                struct sbd_prepared *ps = sbd_container_of(pos, struct sbd_prepared, node);

                if (strcmp(ps->id, id) == 0)
                        return true;
        }
        return false;
}
