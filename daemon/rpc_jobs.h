/* rpc_jobs.h — the wire side of the job events (job_events.h). */
#pragma once

#include "daemon/job_events.h"

/* Packs and queues each event as its reply or notification; finished is
 * NULL here (main.c sets it). */
extern const struct sbd_job_events sbd_rpc_job_events;
