/* warm.h — sandboxes prepared ahead of the request (PreparedSandboxes=).
 *
 * The daemon keeps up to opt.prepared sandboxes of the default profile
 * built and waiting (backend prepare()). An exec that asks for exactly what
 * such a sandbox was built with takes one (sbd_warm_take) and starts it
 * (backend start()) instead of building a sandbox on the request's path.
 * A prepared sandbox holds an id and a uid like a job but is not one: it is
 * in no list a client sees and counts against no cap.
 */
#pragma once

#include "daemon/daemon.h"
#include "daemon/profile.h"
#include "protocol/sbp.h"

struct sbd_warm {
        struct sbd_list node;
        char id[SBP_JOB_ID_MAX + 1];
        uint32_t uid;
        struct sbd_limits limits;       /* what it was built with */
        struct sb_backend_job *bj;
};

void sbd_warm_init(struct sbd_daemon *d);
/* Top up to opt.prepared in delay_ms (0: the next loop turn, after the
 * current replies are out); an earlier schedule stands. No-op while
 * draining, after repeated failures or when the backend cannot prepare. */
void sbd_warm_schedule(struct sbd_daemon *d, uint64_t delay_ms);
/* A job finished and its job_exit is out: a good moment to refill. */
void sbd_warm_job_ended(struct sbd_daemon *d);
/* A prepared sandbox for this request, removed from the pool, or NULL.
 * Only the default profile, with its limits unchanged, nothing passed by
 * descriptor, and argv plus env (the job's whole environment) within what
 * a start takes. The caller owns it: sbd_warm_started() or sbd_warm_failed(). */
struct sbd_warm *sbd_warm_take(struct sbd_daemon *d, const struct sbp_profile *prof,
                               const struct sbd_limits *l, const struct sbp_exec_params *p,
                               char *const *env);
/* start() succeeded: the job owns the backend job and the uid now. */
void sbd_warm_started(struct sbd_daemon *d, struct sbd_warm *w);
/* Not used after all (the request failed before its start): back into the
 * pool, unchanged. */
void sbd_warm_return(struct sbd_daemon *d, struct sbd_warm *w);
/* start() failed: end the sandbox (logging why its setup failed, if it
 * did) and free w; the uid stays with the caller. */
void sbd_warm_failed(struct sbd_daemon *d, struct sbd_warm *w);
/* End every prepared sandbox (reload, drain) and free its uid. */
void sbd_warm_drop_all(struct sbd_daemon *d);
/* Whether a prepared sandbox uses this id. */
bool sbd_warm_has_id(struct sbd_daemon *d, const char *id);
