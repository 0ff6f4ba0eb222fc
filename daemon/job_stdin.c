/* job_stdin.c — a job's stdin: stdin_write and stdin_close.
 *
 * Each stdin_write is one uv_write on the job's stdin pipe, answered from
 * its write callback (the client's backpressure when it waits for the
 * answer). A client that does not wait is bounded too: the bytes queued for
 * one job (stdin_queued, written into libuv but not yet into the pipe) may
 * pass StdinQueueMax= by at most one message; past it the writing
 * connection reads no further request (conn.c: stdin_paused) until that
 * job's queue is back under the bound. Nothing is dropped, and only that
 * connection waits: the daemon's other connections go on. A tty job's
 * stdin is its terminal (job_tty.c): the same writes, to the pty's master.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/job.h"
#include "daemon/log.h"

/* Whether c has a write queued on a job whose queue is over the bound. */
static bool conn_over_bound(const struct sbd_conn *c)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &c->stdin_reqs) {
                const struct sbd_stdin_req *r = sbd_container_of(pos, struct sbd_stdin_req,
                                                                 conn_node);

                if (r->job->stdin_queued > r->job->d->opt.stdin_queue_max)
                        return true;
        }
        return false;
}

void sbd_job_stdin_shut(struct sbd_job *j)
{
        if (!j->in_open)
                return;
        j->in_open = false;
        /* Pending writes get UV_ECANCELED and are answered Unavailable. */
        sbd_job_close_handle(j, (uv_handle_t *)&j->in_pipe);
}

static void stdin_written(uv_write_t *w, int status)
{
        struct sbd_stdin_req *req = sbd_container_of(w, struct sbd_stdin_req, req);
        struct sbd_job *j = req->job;

        j->stdin_pending--;
        j->stdin_queued -= req->len;
        if (req->conn) {
                struct sbd_conn *c = req->conn;
                struct sbp_error err;

                sbd_list_remove(&req->conn_node);
                if (status < 0)
                        sbp_error_set(&err, SBP_E_UNAVAILABLE, "stdin of job %s: %s", j->id,
                                      status == UV_ECANCELED ? "closed" : uv_err_name(status));
                j->d->job_events->done(c, req->msgid, status < 0 ? &err : NULL);
                if (c->stdin_paused && !c->closing && !conn_over_bound(c))
                        sbd_conn_stdin_resume(c);
        }
        free(req);
        if (j->stdin_closing && j->stdin_pending == 0)
                sbd_job_stdin_shut(j);
}

int sbd_job_stdin_write(struct sbd_job *j, struct sbd_conn *c, uint32_t msgid,
                        const uint8_t *data, size_t len, struct sbp_error *err)
{
        struct sbd_stdin_req *req;
        uv_buf_t buf;
        int r;

        if (!j->had_stdin)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "job %s was not started with stdin", j->id);
        if (!j->in_open || j->stdin_closing)
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "stdin of job %s is closed", j->id);
        /* The data points into the current message: copy it for the write. */
        req = malloc(sizeof(*req) + len);
        if (!req)
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        req->job = j;
        req->conn = c;
        req->msgid = msgid;
        req->len = len;
        if (len)
                memcpy(req->data, data, len);
        buf = uv_buf_init((char *)req->data, (unsigned)len);
        r = uv_write(&req->req, (uv_stream_t *)&j->in_pipe, &buf, 1, stdin_written);
        if (r < 0) {
                free(req);
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "stdin of job %s: %s", j->id,
                                     uv_err_name(r));
        }
        j->stdin_pending++;
        j->stdin_queued += len;
        sbd_list_append(&c->stdin_reqs, &req->conn_node);
        if (j->stdin_queued > j->d->opt.stdin_queue_max && !c->stdin_paused) {
                log_debug("job %s: %zu bytes of stdin queued; connection %" PRIu64
                          " waits for the job to read them", j->id, j->stdin_queued, c->id);
                c->stdin_paused = true;
        }
        return 0;
}

/* A tty's end of input: its VEOF, after what is queued, answered to
 * nobody. Closing our end would not do: the job's terminal stays open
 * while the daemon reads its output from the same master. */
static void tty_send_eof(struct sbd_job *j)
{
        struct sbd_stdin_req *req = malloc(sizeof(*req) + 1);
        uv_buf_t buf;

        if (!req) {
                log_warning("job %s: out of memory; the end of its input is not sent", j->id);
                return;
        }
        req->job = j;
        req->conn = NULL;
        req->msgid = 0;
        req->len = 1;
        req->data[0] = (uint8_t)sbd_job_tty_veof(j);
        buf = uv_buf_init((char *)req->data, 1);
        if (uv_write(&req->req, (uv_stream_t *)&j->in_pipe, &buf, 1, stdin_written) < 0) {
                free(req);
                return;
        }
        j->stdin_pending++;
        j->stdin_queued += 1;
}

int sbd_job_stdin_close(struct sbd_job *j, struct sbp_error *err)
{
        if (!j->had_stdin)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "job %s was not started with stdin", j->id);
        if (j->tty && j->in_open && !j->stdin_closing)
                tty_send_eof(j);
        /* Idempotent; the close happens after the writes already queued. */
        j->stdin_closing = true;
        if (j->stdin_pending == 0)
                sbd_job_stdin_shut(j);
        return 0;
}

