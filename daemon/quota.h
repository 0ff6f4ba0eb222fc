/* quota.h — what each owner uid holds in the daemon, and the caps on it:
 * jobs (running or being cleaned up, each holding a job uid), the memory
 * limits of its running jobs, and its retained results.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/daemon.h"
#include "protocol/sbp.h"

/* One owner uid's holdings; exists while any count is above 0. */
struct sbd_usage {
        struct sbd_list node;        /* in d->usage */
        uint32_t uid;
        uint32_t jobs;               /* running or being cleaned up */
        uint64_t memory;             /* memory charges of its running jobs */
        uint32_t retained;           /* finished results kept (retain.c) */
};

/* MaxJobsMemory= and the like in bytes: `percent` of the host's RAM, else
 * `bytes`; 0 = no quota. */
uint64_t sbd_quota_share_bytes(uint64_t bytes, uint32_t percent);

/* What a job with this memory limit counts for: the limit itself, or for a
 * job without one (0) the smaller of the two memory quotas (0 if none). */
uint64_t sbd_quota_memory_charge(const struct sbd_daemon *d, uint64_t memory_max);

/* May uid start a job charged `memory` bytes? 0, or <0 with err set
 * (ResourceExhausted naming the cap). */
int sbd_quota_exec_check(struct sbd_daemon *d, uint32_t uid, uint64_t memory,
                         struct sbp_error *err);

/* uid's entry, created if `create` (NULL if absent or out of memory). */
struct sbd_usage *sbd_usage_get(struct sbd_daemon *d, uint32_t uid, bool create);
/* Free u if it holds nothing any more. */
void sbd_usage_drop_if_idle(struct sbd_daemon *d, struct sbd_usage *u);

/* A job of uid starts (charged `memory`); -ENOMEM if no entry could be made. */
int sbd_quota_job_start(struct sbd_daemon *d, uint32_t uid, uint64_t memory);
/* Its processes are gone: the memory charge is returned. */
void sbd_quota_job_ended(struct sbd_daemon *d, uint32_t uid, uint64_t memory);
/* Its cleanup is done and its job uid free: the job no longer counts. */
void sbd_quota_job_released(struct sbd_daemon *d, uint32_t uid);

/* A kept /work of uid (work_keep.c) holds `bytes` of memory until released:
 * it counts with the memory limits of uid's running jobs. -ENOMEM if no
 * entry could be made. */
int sbd_quota_memory_hold(struct sbd_daemon *d, uint32_t uid, uint64_t bytes);
void sbd_quota_memory_release(struct sbd_daemon *d, uint32_t uid, uint64_t bytes);
/* Daemon exit: forget every entry. */
void sbd_quota_free_all(struct sbd_daemon *d);
