/* job_state.c — final-state precedence and legal transitions of a job.
 *
 * Invariant: the result is a pure function of the facts in struct
 * sbd_job_end; OOM is taken only from the cgroup's memory events (the
 * backend's `oom` flag), never guessed from a SIGKILL.
 */
#include "daemon/job_state.h"

enum sbp_job_state sbd_job_final_state(const struct sbd_job_end *end)
{
        if (end->setup_failed)
                return SBP_JOB_FAILED;
        if (end->kill_reason == SBD_KILL_TIMEOUT)
                return SBP_JOB_TIMEOUT;
        if (end->kill_reason == SBD_KILL_OUTPUT_LIMIT)
                return SBP_JOB_OUTPUT_LIMIT;
        if (end->oom)
                return SBP_JOB_OOM;
        switch (end->kill_reason) {
        case SBD_KILL_REQUEST:
        case SBD_KILL_DISCONNECT:
        case SBD_KILL_SHUTDOWN:
                return SBP_JOB_KILLED;
        case SBD_KILL_NONE:
        case SBD_KILL_TIMEOUT:
        case SBD_KILL_OUTPUT_LIMIT:
                break;
        }
        if (end->signal > 0)
                return SBP_JOB_SIGNALED;
        return SBP_JOB_EXITED;
}

enum sbd_kill_reason sbd_kill_reason_merge(enum sbd_kill_reason cur, enum sbd_kill_reason next)
{
        return cur != SBD_KILL_NONE ? cur : next;
}

bool sbd_job_state_is_final(enum sbp_job_state s)
{
        return s != SBP_JOB_RUNNING && s < SBP_JOB__COUNT;
}

bool sbd_job_state_transition_ok(enum sbp_job_state from, enum sbp_job_state to)
{
        if (from >= SBP_JOB__COUNT || to >= SBP_JOB__COUNT)
                return false;
        return from == SBP_JOB_RUNNING && sbd_job_state_is_final(to);
}

const char *sbd_kill_reason_name(enum sbd_kill_reason r)
{
        switch (r) {
        case SBD_KILL_NONE:
                return "none";
        case SBD_KILL_REQUEST:
                return "request";
        case SBD_KILL_TIMEOUT:
                return "timeout";
        case SBD_KILL_DISCONNECT:
                return "disconnect";
        case SBD_KILL_SHUTDOWN:
                return "shutdown";
        case SBD_KILL_OUTPUT_LIMIT:
                return "output_limit";
        }
        return "unknown";
}
