/* job_state.h — the pure rules for how a job ends: which final state a set of
 * facts maps to, which kill reason wins, and which state changes are legal.
 * No I/O here, so tests/unit/test_job_state.c can cover every case.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "protocol/sbp.h"

/* Why the daemon killed a job (if it did). */
enum sbd_kill_reason {
        SBD_KILL_NONE = 0,
        SBD_KILL_REQUEST,      /* a kill RPC */
        SBD_KILL_TIMEOUT,      /* the wall-clock timeout fired */
        SBD_KILL_DISCONNECT,   /* the owning connection closed, job not detached */
        SBD_KILL_SHUTDOWN,     /* the daemon is draining */
        SBD_KILL_OUTPUT_LIMIT, /* stdout + stderr passed the job's output_max */
};

/* Everything known about a job once it ended. */
struct sbd_job_end {
        bool setup_failed;                 /* sandbox not built, or exec failed */
        enum sbd_kill_reason kill_reason;
        bool oom;                          /* OOM kill seen in the cgroup's events */
        int32_t exit_code;                 /* -1 = none */
        int32_t signal;                    /* 0 = none */
};

/* The final state, with the precedence of the brief: setup failed -> failed;
 * wall timeout -> timeout; output cap -> output_limit; OOM -> oom; killed by
 * request, disconnect or shutdown -> killed; died of a signal -> signaled;
 * else exited. Timeout and output_limit rank together: both are the daemon
 * enforcing a limit, and only the first kill reason is recorded (see
 * sbd_kill_reason_merge), so whichever fired first wins (the same holds
 * against request, disconnect and shutdown kills). They rank above oom: an
 * OOM seen after the daemon's own kill for a limit does not hide which limit
 * the job broke first. */
enum sbp_job_state sbd_job_final_state(const struct sbd_job_end *end);

/* The reason recorded when `next` arrives while `cur` is already set: the
 * first reason wins, since it is the one that caused the kill. */
enum sbd_kill_reason sbd_kill_reason_merge(enum sbd_kill_reason cur, enum sbd_kill_reason next);

/* running -> any final state; a final state never changes. */
bool sbd_job_state_is_final(enum sbp_job_state s);
bool sbd_job_state_transition_ok(enum sbp_job_state from, enum sbp_job_state to);

const char *sbd_kill_reason_name(enum sbd_kill_reason r);
