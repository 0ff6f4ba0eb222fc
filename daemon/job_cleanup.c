/* job_cleanup.c — what happens to a job after its processes are gone: the
 * backend's slow file work (finish_files: the ownership fix-up of a
 * client's directory) and its destroy(), each off the loop on the
 * threadpool unless the backend says it is quick; then the job's uid and
 * quota are given back, and the job is freed once nothing refers to it.
 */
#include <uv.h>

#include "daemon/job.h"
#include "daemon/job_args.h"
#include "daemon/log.h"
#include "daemon/quota.h"
#include "daemon/retain.h"
#include "daemon/work_keep.h"

void sbd_job_maybe_free(struct sbd_job *j)
{
        if (!j->removed || j->handles > 0 || j->destroying || j->files_pending)
                return;
        sbd_job_argv_free(j->argv);
        sbd_work_keep_drop(j);
        free(j);
}

static void handle_closed(uv_handle_t *h)
{
        struct sbd_job *j = h->data;

        j->handles--;
        sbd_job_maybe_free(j);
}

void sbd_job_close_handle(struct sbd_job *j, uv_handle_t *h)
{
        h->data = j;
        uv_close(h, handle_closed);
}

static void destroy_work(uv_work_t *w)
{
        struct sbd_job *j = sbd_container_of(w, struct sbd_job, work);

        /* Only this job's cgroup and directory: safe off the loop thread. */
        j->d->ops->destroy(j->bj);
}

static void destroy_done(uv_work_t *w, int status)
{
        struct sbd_job *j = sbd_container_of(w, struct sbd_job, work);

        j->bj = NULL;
        j->destroying = false;
        if (j->uid_held) {
                sbd_job_uid_release(j->d, j->uid);
                j->uid_held = false;
        }
        sbd_quota_job_released(j->d, j->owner_uid);
        sbd_job_maybe_free(j);
}

void sbd_job_remove(struct sbd_job *j)
{
        if (j->removed)
                return;
        j->removed = true;
        sbd_list_remove(&j->node);
        if (sbd_list_linked(&j->retained_node))
                sbd_retain_forget(j);
        uv_timer_stop(&j->timer);
        sbd_job_close_handle(j, (uv_handle_t *)&j->timer);
}

static void files_work(uv_work_t *w)
{
        struct sbd_job *j = sbd_container_of(w, struct sbd_job, files_work);

        /* Only this job's files, and no process of it runs any more. Logged
         * back on the loop. */
        j->files_error = j->d->ops->finish_files(j->bj);
}

static void files_settled(struct sbd_job *j)
{
        if (j->files_error < 0)
                log_warning_errno(j->files_error, "job %s: giving its files to the client", j->id);
        j->files_pending = false;
}

static void files_done(uv_work_t *w, int status)
{
        struct sbd_job *j = sbd_container_of(w, struct sbd_job, files_work);

        files_settled(j);
        sbd_job_maybe_finish(j);
        sbd_job_maybe_free(j);
}

void sbd_job_files_start(struct sbd_job *j)
{
        int r;

        if (!j->exit.files_pending || !j->d->ops->finish_files || !j->bj)
                return;
        j->files_pending = true;
        r = uv_queue_work(j->d->loop, &j->files_work, files_work, files_done);
        if (r < 0) {
                log_warning("job %s: threadpool: %s; giving its files inline", j->id,
                            uv_err_name(r));
                files_work(&j->files_work);
                files_settled(j);
        }
}

void sbd_job_cleanup_start(struct sbd_job *j)
{
        int r;

        if (j->bj && j->d->ops->destroy_quick && j->d->ops->destroy_quick(j->bj) == 0) {
                /* Done inline: most jobs leave a near-empty directory, and
                 * keeping the threadpool unstarted keeps every later clone
                 * of the daemon cheap. */
                j->destroying = true;
                destroy_done(&j->work, 0);
        } else if (j->bj) {
                j->destroying = true;
                r = uv_queue_work(j->d->loop, &j->work, destroy_work, destroy_done);
                if (r < 0) {
                        log_warning("job %s: threadpool: %s; destroying inline", j->id,
                                    uv_err_name(r));
                        destroy_work(&j->work);
                        destroy_done(&j->work, 0);
                }
        } else {
                if (j->uid_held) {
                        sbd_job_uid_release(j->d, j->uid);
                        j->uid_held = false;
                }
                sbd_quota_job_released(j->d, j->owner_uid);
        }
}
