/* job_output.c — a job's stdout and stderr pipes: read, cap (output.c),
 * hand each chunk to the owner as an output event (rpc_jobs.c sends it as
 * job_output), and pause while the owner's write queue is over
 * SBD_CONN_HIGH_WATER (conn.c) so output never piles up in the daemon.
 */
#include <inttypes.h>

#include "daemon/job.h"
#include "daemon/log.h"

/* One read buffer for every job pipe: the loop is single-threaded and the
 * output event copies each chunk out inside the read callback. */
static char pipe_buf[64 << 10];

/* ---- output ---- */

static void pipe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        buf->base = pipe_buf;
        buf->len = sizeof(pipe_buf);
}

void sbd_job_close_output(struct sbd_job *j, enum sbp_stream stream)
{
        uv_pipe_t *p = stream == SBP_STDOUT ? &j->out_pipe : &j->err_pipe;
        bool *open = stream == SBP_STDOUT ? &j->out_open : &j->err_open;

        if (!*open)
                return;
        *open = false;
        if (stream == SBP_STDOUT)
                j->out_reading = false;
        else
                j->err_reading = false;
        sbd_job_close_handle(j, (uv_handle_t *)p);
}

/* Apply the output cap (daemon/output.c) to n bytes just read. stdout_bytes
 * and stderr_bytes count what is delivered, so together they never exceed
 * output_max. Past the cap the result is marked truncated and, unless the
 * profile truncates, the job is killed for output_limit — also when its main
 * process already exited: the client got a cut output either way. Returns
 * how many bytes (from the start of the chunk) to deliver. */
static size_t output_admit(struct sbd_job *j, enum sbp_stream stream, size_t n)
{
        enum sbd_output_action act;
        size_t len = sbd_output_admit(&j->output, n, &act);

        if (stream == SBP_STDOUT)
                j->result.stdout_bytes += len;
        else
                j->result.stderr_bytes += len;
        if (act == SBD_OUTPUT_DELIVER)
                return len;
        j->result.output_truncated = true;
        log_info("job %s: output passed output_max of %" PRIu64 " bytes; %s", j->id,
                 j->output.max, act == SBD_OUTPUT_KILL ? "ending the job" : "dropping the rest");
        if (act == SBD_OUTPUT_KILL) {
                j->kill_reason = sbd_kill_reason_merge(j->kill_reason, SBD_KILL_OUTPUT_LIMIT);
                sbd_job_kill(j, SBD_KILL_OUTPUT_LIMIT);
        }
        return len;
}

static void on_output(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
        struct sbd_job *j = s->data;
        enum sbp_stream stream = s == (uv_stream_t *)&j->out_pipe ? SBP_STDOUT : SBP_STDERR;

        if (n > 0) {
                size_t len = output_admit(j, stream, (size_t)n);

                /* May pause this very pipe (backpressure); fine in a read cb. */
                if (len > 0 && j->owner &&
                    !j->d->job_events->output(j->owner, j->id, stream, buf->base, len)) {
                        j->result.output_truncated = true;
                        return;
                }
                /* At the cap reading only drains: resume a paused pipe. */
                if (sbd_output_capped(&j->output))
                        sbd_job_update_reading(j);
                return;
        }
        if (n == 0)
                return;
        if (n != UV_EOF)
                log_debug("job %s: read %s: %s", j->id,
                          stream == SBP_STDOUT ? "stdout" : "stderr", uv_err_name((int)n));
        sbd_job_close_output(j, stream);
        sbd_job_maybe_finish(j);
}

void sbd_job_update_reading(struct sbd_job *j)
{
        /* Past the output cap nothing is delivered any more, so a slow
         * client must not hold the job back: keep draining. */
        bool want = !(j->owner && j->owner->paused) || sbd_output_capped(&j->output);
        int r;

        if (j->out_open && want != j->out_reading) {
                r = want ? uv_read_start((uv_stream_t *)&j->out_pipe, pipe_alloc, on_output)
                         : uv_read_stop((uv_stream_t *)&j->out_pipe);
                if (r == 0)
                        j->out_reading = want;
        }
        if (j->err_open && want != j->err_reading) {
                r = want ? uv_read_start((uv_stream_t *)&j->err_pipe, pipe_alloc, on_output)
                         : uv_read_stop((uv_stream_t *)&j->err_pipe);
                if (r == 0)
                        j->err_reading = want;
        }
}
