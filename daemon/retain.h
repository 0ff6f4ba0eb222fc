/* retain.h — keeping finished jobs' results for RetainSec=, within
 * MaxRetainedJobs= in total and MaxRetainedJobsPerUser= per owner.
 */
#pragma once

#include "daemon/job.h"

/* j just finished: keep its result (making room among its owner's own
 * results), or forget it at once if it cannot be kept. */
void sbd_retain_job(struct sbd_job *j);
/* j leaves the retained list (sbd_job_remove): uncount it. */
void sbd_retain_forget(struct sbd_job *j);
