/* prepared.h — sandboxes prepared ahead of the request (PreparedSandboxes=).
 *
 * The daemon keeps up to opt.prepared sandboxes of the default profile
 * built and waiting (backend prepare()). An exec that asks for exactly what
 * such a sandbox was built with takes one (sbd_prepared_take) and starts it
 * (backend start()) instead of building a sandbox on the request's path.
 * A prepared sandbox holds an id and a uid like a job but is not one: it is
 * in no list a client sees and counts against no cap.
 */
#pragma once

#include "daemon/daemon.h"
#include "protocol/sbp.h"

struct sbd_prepared {
        struct sbd_list node;
        char id[SBP_JOB_ID_MAX + 1];
        uint32_t uid;
        struct sb_policy policy;        /* what it was built with */
        struct sb_backend_job *bj;
};

void sbd_prepared_init(struct sbd_daemon *d);
/* Top up to opt.prepared in delay_ms (0: the next loop turn, after the
 * current replies are out); an earlier schedule stands. No-op while
 * draining, after repeated failures or when the backend cannot prepare. */
void sbd_prepared_schedule(struct sbd_daemon *d, uint64_t delay_ms);
/* A job finished and its job_exit is out: a good moment to refill. */
void sbd_prepared_job_ended(struct sbd_daemon *d);
/* A prepared sandbox for this request, removed from the pool, or NULL.
 * Only the default profile, with a policy equal to the sandbox's, nothing
 * passed by descriptor, and argv plus env (the job's whole environment)
 * within what a start takes. The caller owns it: sbd_prepared_started()
 * or sbd_prepared_failed(). */
struct sbd_prepared *sbd_prepared_take(struct sbd_daemon *d, const char *profile,
                                       const struct sb_policy *policy,
                                       const struct sbp_exec_params *p, char *const *env);
/* start() succeeded: the job owns the backend job and the uid now. */
void sbd_prepared_started(struct sbd_daemon *d, struct sbd_prepared *ps);
/* Not used after all (the request failed before its start): back into the
 * pool, unchanged. */
void sbd_prepared_return(struct sbd_daemon *d, struct sbd_prepared *ps);
/* start() failed: end the sandbox (logging why its setup failed, if it
 * did) and free ps; the uid stays with the caller. */
void sbd_prepared_failed(struct sbd_daemon *d, struct sbd_prepared *ps);
/* End every prepared sandbox (reload, drain) and free its uid. */
void sbd_prepared_drop_all(struct sbd_daemon *d);
/* Whether a prepared sandbox uses this id. */
bool sbd_prepared_has_id(struct sbd_daemon *d, const char *id);
