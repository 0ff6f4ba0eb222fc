/* work_keep.h — a fresh /work kept for its owner after the job (exec
 * keep_work), handed over by work_fd (work_keep.c).
 */
#pragma once

#include "daemon/conn.h"
#include "protocol/sbp.h"

#define SBD_KEPT_WORK_PER_USER 4u   /* kept (or to be kept) /work per owner */

struct sbd_job;

/* exec: may c keep one more /work? Makes room among c's own finished
 * ones; -errno with err set when not. */
int sbd_work_keep_admit(struct sbd_conn *c, const struct sbp_exec_params *p,
                        struct sbp_error *err);
/* The job finished: take its /work from the backend, before destroy(). */
void sbd_work_keep_take(struct sbd_job *j);
/* The job is freed: its /work goes. */
void sbd_work_keep_drop(struct sbd_job *j);
/* work_fd: answer msgid with {fd: 0} and the /work attached, or -errno with
 * err set. */
int sbd_work_keep_reply(struct sbd_conn *c, uint32_t msgid, struct sbd_job *j,
                        struct sbp_error *err);
