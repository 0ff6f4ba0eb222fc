/* job_denied.c — what the sandbox refused a job, into its result's `denied`.
 *
 * The backend reports refusals as they happen (backend.h denied_handle and
 * denied_read; on linux the seccomp listener). The job polls its handle
 * from the spawn to the reap, each wake-up taking at most DENIED_BATCH so
 * that a job spinning on refused calls shares the loop with the others.
 * A job answered DENIED_RATE refusals within a second waits for the rest of
 * that second before the next is answered: the daemon works for a job
 * that spins on refused calls at a bounded rate, whatever that job's CPU
 * share, and the waiting is the job's (its calls block meanwhile).
 * Entries are merged by (kind, what) and counted; at most SBP_DENIED_MAX
 * distinct ones per job (with the egress proxy's `network` ones): a new
 * one past that is dropped, the ones kept go on counting.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/job.h"
#include "daemon/log.h"

#define DENIED_BATCH 16u
#define DENIED_RATE 2000u       /* refusals answered per window, then a pause */
#define DENIED_WINDOW_MS 1000u

void sbd_job_denied_add(struct sbp_job_result *r, const char *kind, const char *what,
                        uint64_t count)
{
        uint32_t i;

        for (i = 0; i < r->n_denied; i++)
                if (strcmp(r->denied[i].kind, kind) == 0 && strcmp(r->denied[i].what, what) == 0)
                        break;
        if (i == r->n_denied) {
                if (r->n_denied == SBP_DENIED_MAX)
                        return;
                r->n_denied++;
                snprintf(r->denied[i].kind, sizeof(r->denied[i].kind), "%s", kind);
                snprintf(r->denied[i].what, sizeof(r->denied[i].what), "%s", what);
                r->denied[i].count = 0;
        }
        r->denied[i].count += count;
}

/* Take what is ready: how many, or <0 once the backend says nothing more
 * comes. */
static int take(struct sbd_job *j)
{
        struct sb_backend_denied d[DENIED_BATCH];
        int n = j->d->ops->denied_read(j->bj, d, DENIED_BATCH);

        for (int i = 0; i < n; i++) {
                log_debug("job %s: %s %s denied", j->id, d[i].kind, d[i].what);
                if (!j->finished)
                        sbd_job_denied_add(&j->result, d[i].kind, d[i].what, 1);
        }
        if (n < 0 && n != -EPIPE && n != -ENODATA)
                log_errno(n, "job %s: reading its refusals", j->id);
        return n;
}

static void on_denied_ready(uv_poll_t *h, int status, int events);

static void on_denied_resume(uv_timer_t *t)
{
        struct sbd_job *j = t->data;

        if (!j->denied_open)
                return;
        j->denied_window_ms = uv_now(j->d->loop);
        j->denied_in_window = 0;
        if (uv_poll_start(&j->denied_poll, UV_READABLE, on_denied_ready) < 0)
                sbd_job_denied_stop(j);
}

static void on_denied_ready(uv_poll_t *h, int status, int events)
{
        struct sbd_job *j = h->data;
        uint64_t now = uv_now(j->d->loop);
        int n;

        (void)events;
        if (status < 0 || (n = take(j)) < 0) {
                sbd_job_denied_stop(j);
                return;
        }
        if (now - j->denied_window_ms >= DENIED_WINDOW_MS) {
                j->denied_window_ms = now;
                j->denied_in_window = 0;
        }
        j->denied_in_window += (uint32_t)n;
        if (j->denied_in_window < DENIED_RATE)
                return;
        log_debug("job %s: %u refusals within %u ms; pausing its answers", j->id,
                  j->denied_in_window, DENIED_WINDOW_MS);
        uv_poll_stop(&j->denied_poll);
        uv_timer_start(&j->denied_timer, on_denied_resume,
                       j->denied_window_ms + DENIED_WINDOW_MS - now, 0);
}

int sbd_job_denied_start(struct sbd_job *j)
{
        sb_handle fd;
        int r;

        if (!j->d->ops->denied_handle || !j->d->ops->denied_read)
                return 0;
        fd = j->d->ops->denied_handle(j->bj);
        if (fd == SB_HANDLE_NONE)
                return 0;
        if (fd < 0)
                return fd;
        r = uv_timer_init(j->d->loop, &j->denied_timer);
        if (r < 0)
                return r;
        j->denied_timer.data = j;
        j->handles++;
        r = uv_poll_init(j->d->loop, &j->denied_poll, fd);
        if (r < 0) {
                sbd_job_close_handle(j, (uv_handle_t *)&j->denied_timer);
                return r;
        }
        j->denied_poll.data = j;
        j->handles++;
        j->denied_open = true;
        j->denied_window_ms = uv_now(j->d->loop);
        return uv_poll_start(&j->denied_poll, UV_READABLE, on_denied_ready);
}

void sbd_job_denied_stop(struct sbd_job *j)
{
        if (!j->denied_open)
                return;
        j->denied_open = false;
        uv_poll_stop(&j->denied_poll);
        sbd_job_close_handle(j, (uv_handle_t *)&j->denied_poll);
        uv_timer_stop(&j->denied_timer);
        sbd_job_close_handle(j, (uv_handle_t *)&j->denied_timer);
}
