/* warm.c — the pool of prepared sandboxes (see warm.h).
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
 * job_exit is out), or WARM_REFILL_DELAY_MS after a take. After
 * WARM_FAILURES_MAX failures in a row (prepare() refused, or a sandbox
 * whose setup failed) the pool pauses, with a warning, and tries one again
 * after WARM_RETRY_FIRST_MS, then after twice as long each time it fails
 * (at most WARM_RETRY_MAX_MS): a cause that passes (a full state dir, the
 * daemon out of descriptors) does not leave it off until a reload, and one
 * that stays costs a try a minute.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/warm.h"

#define WARM_FAILURES_MAX 3
#define WARM_RETRY_FIRST_MS 2000
#define WARM_RETRY_MAX_MS 60000
/* After a take, when no job ends before. */
#define WARM_REFILL_DELAY_MS 50
/* After a job ended: a client that runs jobs one after another sends its
 * next exec right after the job_exit, and that request goes first. */
#define WARM_AFTER_END_MS 1

static const char *warm_profile_name = "default";

void sbd_warm_init(struct sbd_daemon *d)
{
        sbd_list_init(&d->warm);
        uv_timer_init(d->loop, &d->warm_timer);
        d->warm_timer.data = d;
}

static bool pool_usable(struct sbd_daemon *d)
{
        return d->caps.prepared && !d->draining;
}

/* Milliseconds until a paused pool may try again; 0 when not paused. */
static uint64_t pause_left(struct sbd_daemon *d)
{
        uint64_t now = uv_now(d->loop);

        if (d->warm_failures < WARM_FAILURES_MAX || now >= d->warm_paused_until)
                return 0;
        return d->warm_paused_until - now;
}

static void failure(struct sbd_daemon *d, const char *what)
{
        if (++d->warm_failures < WARM_FAILURES_MAX) {
                log_warning("prepared sandbox: %s", what);
                return;
        }
        if (d->warm_failures == WARM_FAILURES_MAX) {
                d->warm_retry_ms = WARM_RETRY_FIRST_MS;
                log_warning("prepared sandboxes: %u failures in a row (last: %s); "
                            "building every sandbox on request, trying again in %" PRIu64 " s",
                            WARM_FAILURES_MAX, what, d->warm_retry_ms / 1000);
        } else {
                d->warm_retry_ms = d->warm_retry_ms * 2 > WARM_RETRY_MAX_MS ?
                                   WARM_RETRY_MAX_MS : d->warm_retry_ms * 2;
                log_debug("prepared sandbox: %s; trying again in %" PRIu64 " s", what,
                          d->warm_retry_ms / 1000);
        }
        d->warm_paused_until = uv_now(d->loop) + d->warm_retry_ms;
        sbd_warm_schedule(d, 0);
}

/* Build one; 0, or <0 when it could not (logged). */
static int prepare_one(struct sbd_daemon *d)
{
        const struct sbp_profile *prof = sbd_profile_find(warm_profile_name);
        struct sbp_exec_params none;
        struct sbp_error perr;
        struct sb_job_spec spec;
        struct sbd_warm *w;
        char errbuf[SBP_TEXT_MAX + 1];
        int r;

        if (!prof)
                return -ENOENT;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        memset(&none, 0, sizeof(none));
        memset(&perr, 0, sizeof(perr));
        if (sbd_profile_merge(prof, &none, &w->limits, &perr) < 0) {
                free(w);
                return -EINVAL;
        }
        if ((r = sbd_job_id_new(d, w->id)) < 0 || (r = sbd_job_uid_alloc(d, &w->uid)) < 0) {
                free(w);
                return r;
        }
        memset(&spec, 0, sizeof(spec));
        spec.job_id = w->id;
        spec.uid = w->uid;
        spec.gid = w->uid;
        spec.memory_max = w->limits.memory_max;
        spec.tasks_max = w->limits.tasks_max;
        spec.cpu_percent = w->limits.cpu_percent;
        spec.tmp_size = w->limits.tmp_size;
        spec.tmp_inodes = w->limits.tmp_inodes_max;
        spec.work_size = w->limits.work_size_max;
        spec.work_inodes = w->limits.work_inodes_max;
        spec.network = w->limits.network;
        spec.syscall_allow = w->limits.syscall_allow[0] ? w->limits.syscall_allow : NULL;
        spec.stdin_fd = spec.stdout_fd = spec.stderr_fd = -1;
        spec.workdir_fd = -1;
        errbuf[0] = '\0';
        r = d->ops->prepare(d->backend, &spec, &w->bj, errbuf, sizeof(errbuf));
        if (r < 0) {
                sbd_job_uid_release(d, w->uid);
                free(w);
                failure(d, errbuf[0] ? errbuf : sbd_errno_name(r));
                return r;
        }
        sbd_list_append(&d->warm, &w->node);
        d->warm_count++;
        log_debug("prepared sandbox %s (uid %u)", w->id, w->uid);
        return 0;
}

static void on_fill(uv_timer_t *t)
{
        struct sbd_daemon *d = t->data;

        /* One per loop turn: each costs the loop about a millisecond, and
         * requests arriving meanwhile go first. */
        if (!pool_usable(d) || d->warm_count >= d->opt.prepared)
                return;
        if (pause_left(d) > 0) {
                /* Set off by a refill scheduled before the pause began. */
                sbd_warm_schedule(d, 0);
                return;
        }
        if (prepare_one(d) == 0)
                sbd_warm_schedule(d, 0);
}

void sbd_warm_schedule(struct sbd_daemon *d, uint64_t delay_ms)
{
        if (!pool_usable(d) || d->warm_count >= d->opt.prepared)
                return;
        if (pause_left(d) > delay_ms)
                delay_ms = pause_left(d);
        if (uv_is_active((uv_handle_t *)&d->warm_timer) &&
            uv_timer_get_due_in(&d->warm_timer) <= delay_ms)
                return;
        uv_timer_start(&d->warm_timer, on_fill, delay_ms, 0);
}

static bool same_groups(const char *const *a, const char *const *b)
{
        size_t i;

        for (i = 0; a[i] || b[i]; i++)
                if (!a[i] || !b[i] || strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
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

struct sbd_warm *sbd_warm_take(struct sbd_daemon *d, const struct sbp_profile *prof,
                               const struct sbd_limits *l, const struct sbp_exec_params *p,
                               char *const *env)
{
        struct sbd_list *pos, *tmp;

        if (d->warm_count == 0 || strcmp(prof->name, warm_profile_name) != 0 ||
            p->has_workdir_fd || p->nmounts || !fits_prepared(&d->caps, p->argv, env))
                return NULL;
        sbd_list_for_each_safe(pos, tmp, &d->warm) {
                struct sbd_warm *w = sbd_container_of(pos, struct sbd_warm, node);
                const struct sbd_limits *b = &w->limits;

                if (b->memory_max != l->memory_max || b->tasks_max != l->tasks_max ||
                    b->cpu_percent != l->cpu_percent || b->tmp_size != l->tmp_size ||
                    b->tmp_inodes_max != l->tmp_inodes_max ||
                    b->work_size_max != l->work_size_max ||
                    b->work_inodes_max != l->work_inodes_max ||
                    b->network != l->network || !same_groups(b->syscall_allow, l->syscall_allow))
                        continue;
                sbd_list_remove(&w->node);
                d->warm_count--;
                /* Not now: a refill holds the loop for about a millisecond
                 * (more on a busy machine), which this job's own exit and
                 * output would wait for. A job that ends sooner refills
                 * from sbd_warm_job_ended(). */
                sbd_warm_schedule(d, WARM_REFILL_DELAY_MS);
                return w;
        }
        return NULL;
}

void sbd_warm_return(struct sbd_daemon *d, struct sbd_warm *w)
{
        sbd_list_append(&d->warm, &w->node);
        d->warm_count++;
}

void sbd_warm_started(struct sbd_daemon *d, struct sbd_warm *w)
{
        d->warm_failures = 0;
        d->warm_retry_ms = 0;
        free(w);
}

/* Kill, reap and destroy the backend job; its uid is not touched. */
static void end_sandbox(struct sbd_daemon *d, struct sbd_warm *w, bool report)
{
        struct sb_backend_exit ex;

        d->ops->kill(w->bj);
        if (d->ops->reap(w->bj, &ex) == 0 && report && ex.setup_failed)
                failure(d, ex.error);
        d->ops->destroy(w->bj);
        w->bj = NULL;
}

void sbd_warm_failed(struct sbd_daemon *d, struct sbd_warm *w)
{
        end_sandbox(d, w, true);
        free(w);
}

void sbd_warm_drop_all(struct sbd_daemon *d)
{
        struct sbd_list *pos, *tmp;

        uv_timer_stop(&d->warm_timer);
        sbd_list_for_each_safe(pos, tmp, &d->warm) {
                struct sbd_warm *w = sbd_container_of(pos, struct sbd_warm, node);

                sbd_list_remove(&w->node);
                end_sandbox(d, w, false);
                sbd_job_uid_release(d, w->uid);
                free(w);
        }
        d->warm_count = 0;
}

void sbd_warm_job_ended(struct sbd_daemon *d)
{
        sbd_warm_schedule(d, WARM_AFTER_END_MS);
}

bool sbd_warm_has_id(struct sbd_daemon *d, const char *id)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &d->warm) {
                struct sbd_warm *w = sbd_container_of(pos, struct sbd_warm, node);

                if (strcmp(w->id, id) == 0)
                        return true;
        }
        return false;
}
