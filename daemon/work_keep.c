/* work_keep.c — a fresh /work kept for its owner after the job (exec
 * keep_work) and handed over by descriptor (work_fd).
 *
 * The backend keeps the job's /work past its end, gives every file in it to
 * the client (backend finish_files) and hands it to the job here
 * (work_take) as a directory fd, held until the result goes (retention,
 * eviction or daemon exit) and given out by work_fd as many times as the
 * owner asks, each time a new open file description of it.
 *
 * Bounds: a kept /work is at most its profile's WorkSizeMax= (the tmpfs's
 * size), read-only once the job ended, and what it holds counts in its
 * owner's memory quota (MaxJobsMemory=, MaxJobsMemoryPerUser=) like a
 * running job's limit; an owner holds at most SBD_KEPT_WORK_PER_USER of
 * them, counting running jobs that will keep one. An exec past that drops the owner's own
 * oldest finished one with its result (as retention makes room); when all
 * are still running it is refused. One user's never push out another's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/quota.h"
#include "daemon/work_keep.h"

int sbd_work_keep_admit(struct sbd_conn *c, const struct sbp_exec_params *p,
                        struct sbp_error *err)
{
        struct sbd_daemon *d = c->d;
        struct sbd_job *oldest = NULL;
        struct sbd_list *pos, *tmp;
        uint32_t n = 0;

        if (!p->keep_work)
                return 0;
        if (!d->ops->work_take)
                return sbp_error_set(err, SBP_E_UNSUPPORTED, "keep_work: backend %s cannot keep "
                                     "a job's /work", d->ops->name);
        sbd_list_for_each_safe(pos, tmp, &d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);

                if (j->owner_uid != (uint32_t)c->uid || !j->keep_work)
                        continue;
                if (j->finished && j->kept_work_fd < 0)
                        continue;       /* kept nothing (its hand-over failed) */
                n++;
                /* d->jobs is in start order: the first finished is the oldest. */
                if (!oldest && j->finished)
                        oldest = j;
        }
        if (n < SBD_KEPT_WORK_PER_USER)
                return 0;
        if (!oldest)
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED,
                                     "keep_work: %u jobs of uid %u keep a /work already",
                                     SBD_KEPT_WORK_PER_USER, (unsigned)c->uid);
        log_info("job %s: kept /work and result dropped for a newer keep_work of uid %u",
                 oldest->id, (unsigned)c->uid);
        sbd_job_remove(oldest);
        return 0;
}

void sbd_work_keep_take(struct sbd_job *j)
{
        struct statfs st;
        int fd;

        if (!j->keep_work || !j->bj || !j->d->ops->work_take)
                return;
        fd = j->d->ops->work_take(j->bj);
        if (fd < 0) {
                log_warning("job %s: its /work could not be kept", j->id);
                return;
        }
        /* What it holds (read-only now: it cannot grow), in the owner's
         * memory with its running jobs' limits. */
        if (fstatfs(fd, &st) < 0 ||
            sbd_quota_memory_hold(j->d, j->owner_uid,
                                  (uint64_t)(st.f_blocks - st.f_bfree) * (uint64_t)st.f_bsize) < 0) {
                log_warning("job %s: its /work could not be kept (accounting)", j->id);
                close(fd);
                return;
        }
        j->kept_work_fd = fd;
        j->kept_work_bytes = (uint64_t)(st.f_blocks - st.f_bfree) * (uint64_t)st.f_bsize;
}

void sbd_work_keep_drop(struct sbd_job *j)
{
        if (j->kept_work_fd < 0)
                return;
        close(j->kept_work_fd);
        j->kept_work_fd = -1;
        sbd_quota_memory_release(j->d, j->owner_uid, j->kept_work_bytes);
        j->kept_work_bytes = 0;
}

int sbd_work_keep_reply(struct sbd_conn *c, uint32_t msgid, struct sbd_job *j,
                        struct sbp_error *err)
{
        struct sbd_out *o;
        int fd, r;

        /* Only the owner: the files are its (an admin sees the job, not them). */
        if (j->owner_uid != (uint32_t)c->uid)
                return sbp_error_set(err, SBP_E_PERMISSION_DENIED,
                                     "job %s: only its owner may have its /work", j->id);
        if (!j->keep_work)
                return sbp_error_set(err, SBP_E_NOT_FOUND,
                                     "job %s: kept no /work (exec without keep_work)", j->id);
        if (!j->finished)
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "job %s: still running", j->id);
        if (j->kept_work_fd < 0)
                return sbp_error_set(err, SBP_E_NOT_FOUND, "job %s: its /work was not kept",
                                     j->id);
        /* A description of its own: the client's offset and flags are not ours. */
        fd = openat(j->kept_work_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return sbp_error_set(err, SBP_E_INTERNAL, "job %s: open its /work: %s", j->id,
                                     sbd_errno_name(-errno));
        o = sbd_out_response(msgid);
        if (!o) {
                close(fd);
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        }
        msgpack_pack_map(&o->pk, 1);
        msgpack_pack_str(&o->pk, 2);
        msgpack_pack_str_body(&o->pk, "fd", 2);
        msgpack_pack_uint32(&o->pk, 0);
        r = sbd_conn_send_handle(c, o, (struct sbd_handle){ .fd = fd });
        close(fd);
        if (r < 0) {
                sbd_out_free(o);
                if (r == -EAGAIN)
                        return sbp_error_set(err, SBP_E_UNAVAILABLE,
                                             "output is still queued on this connection; read "
                                             "it and ask again");
                return r;
        }
        return 0;
}
