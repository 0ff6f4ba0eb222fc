/* job_tty_none.c — terminal jobs where the daemon has no terminals to
 * give (Windows: the backend's caps say tty = false, so exec refuses a tty
 * request with Unsupported before any job exists: admit.c). What job.c and
 * dispatch.c still call answers as for a job without a terminal.
 */
#include <errno.h>

#include "daemon/job.h"

int sbd_job_tty_watch(struct sbd_job *j)
{
        (void)j;
        return -EOPNOTSUPP;
}

int sbd_job_tty_resize(struct sbd_job *j, uint32_t rows, uint32_t cols, struct sbp_error *err)
{
        (void)rows;
        (void)cols;
        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "job %s has no terminal", j->id);
}

char sbd_job_tty_veof(struct sbd_job *j)
{
        (void)j;
        return '\004';
}
