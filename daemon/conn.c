/* conn.c — one client connection.
 *
 * The transport reads bytes straight into the sbp_reader's buffer (space
 * reserved there), with the handles that came with them (fds.c), and each
 * complete request is dispatched at once. Every reply or notification is
 * one msgpack_sbuffer sent with one uv_write and freed in its write
 * callback.
 *
 * What comes in (PROTOCOL.md, "Protocol errors"): a request is answered
 * exactly once, with its own msgid; one whose msgid is still in flight
 * (inflight: counted in, counted out as sbd_conn_send sees each response
 * go) is refused with InvalidArgument and the first still gets its answer.
 * Notifications and responses from the client are never answered: the
 * daemon offers no notification and sends no request, so both are ignored
 * (logged at debug). A frame that is not a msgpack-rpc message is a
 * ProtocolError: answered only when it is a request whose msgid could be
 * read (no response ever carries a msgid the client did not send), and
 * the connection is closed after the answer is flushed.
 *
 * Backpressure, measured in out_bytes (what the queued messages hold in
 * memory, counted from uv_write until its callback): past
 * SBD_CONN_HIGH_WATER the pipes of the jobs this connection owns stop being
 * read, and resume below SBD_CONN_LOW_WATER. Past SBD_CONN_WRITE_QUEUE_MAX
 * the connection's own requests stop: nothing more is dispatched (what was
 * received stays in the reader) and the socket is not read, so a client
 * that sends requests but never reads the replies blocks in its send
 * instead of growing our memory. Below SBD_CONN_WRITE_QUEUE_LOW the
 * requests already received are dispatched first, then reading resumes.
 * A stdin_write past a job's StdinQueueMax= stops the connection's requests
 * the same way (stdin_paused, job_stdin.c) until the job read the data.
 * Both only wait for the client (or its job) to read: replies that come late (wait,
 * stdin_write, job_exit) are still queued while paused, and a closing
 * connection (drain) is flushed or dropped like any other.
 *
 * Closing: closing is set once; from then on nothing is read and nothing new
 * is queued. The jobs it started are killed (unless detached), its waiters
 * and pending stdin replies are dropped. The struct is freed in the close
 * callback, after libuv cancelled every pending write.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conn.h"
#include "daemon/dispatch.h"
#include "daemon/job.h"
#include "daemon/log.h"

#define READ_CHUNK (64u << 10)

struct sbd_out *sbd_out_new(void)
{
        struct sbd_out *o = malloc(sizeof(*o));

        if (!o)
                return NULL;
        msgpack_sbuffer_init(&o->sbuf);
        msgpack_packer_init(&o->pk, &o->sbuf, msgpack_sbuffer_write);
        o->req.data = o;
        return o;
}

struct sbd_out *sbd_out_response(uint32_t msgid)
{
        struct sbd_out *o = sbd_out_new();

        if (o)
                sbp_pack_response_begin(&o->pk, msgid);
        return o;
}

void sbd_out_free(struct sbd_out *o)
{
        if (!o)
                return;
        msgpack_sbuffer_destroy(&o->sbuf);
        free(o);
}

/* The packer's buffer grows by doubling from 8 KiB: a 40-byte reply would
 * hold 8 KiB while it waits for a client that does not read. Buffers at
 * least half full (job output chunks) are left alone: no copy per chunk. */
static void shrink(struct sbd_out *o)
{
        char *p;

        if (o->sbuf.size == 0 || o->sbuf.size > o->sbuf.alloc / 2)
                return;
        p = realloc(o->sbuf.data, o->sbuf.size);
        if (!p)
                return;         /* keep the larger buffer; it is only memory */
        o->sbuf.data = p;
        o->sbuf.alloc = o->sbuf.size;
}

static size_t out_cost(const struct sbd_out *o)
{
        return sizeof(*o) + o->sbuf.alloc;
}

static void process(struct sbd_conn *c);

static void pause_reading(struct sbd_conn *c)
{
        int r;

        if (c->reading_paused)
                return;
        c->reading_paused = true;
        log_debug("connection %" PRIu64 ": requests paused (%zu bytes queued)", c->id,
                  c->out_bytes);
        r = sbd_rx_pause(&c->rx, true);
        if (r < 0)
                log_warning("connection %" PRIu64 ": stop reading: %s", c->id, uv_err_name(r));
}

/* The requests already received go first: they may fill the queue again,
 * and then the socket stays unread. */
static void resume_reading(struct sbd_conn *c)
{
        int r;

        c->reading_paused = false;
        log_debug("connection %" PRIu64 ": requests resumed", c->id);
        process(c);
        if (c->closing || c->reading_paused)
                return;
        r = sbd_rx_pause(&c->rx, false);
        if (r < 0) {
                log_warning("connection %" PRIu64 ": resume reading: %s", c->id,
                            uv_err_name(r));
                sbd_conn_close(c, false);
        }
}

static void set_paused(struct sbd_conn *c, bool paused)
{
        struct sbd_list *pos, *tmp;

        if (c->paused == paused)
                return;
        c->paused = paused;
        log_debug("connection %" PRIu64 ": output %s", c->id, paused ? "paused" : "resumed");
        sbd_list_for_each_safe(pos, tmp, &c->d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);

                if (j->owner == c)
                        sbd_job_update_reading(j);
        }
}

static void on_written(uv_write_t *req, int status)
{
        struct sbd_out *o = req->data;
        /* Not the pipe's data: a transport may borrow it while reading
         * (named_pipe.c). */
        struct sbd_conn *c = sbd_container_of((uv_pipe_t *)req->handle, struct sbd_conn, pipe);
        size_t cost = out_cost(o);

        sbd_out_free(o);
        c->out_bytes = c->out_bytes > cost ? c->out_bytes - cost : 0;
        if (status < 0) {
                if (status != UV_ECANCELED && !c->closing) {
                        log_debug("connection %" PRIu64 ": write: %s", c->id,
                                  uv_err_name(status));
                        sbd_conn_close(c, false);
                }
                return;
        }
        if (c->closing)
                return;
        if (c->paused && c->out_bytes < SBD_CONN_LOW_WATER)
                set_paused(c, false);
        if (c->reading_paused && !c->stdin_paused && c->out_bytes < SBD_CONN_WRITE_QUEUE_LOW)
                resume_reading(c);
}

void sbd_conn_stdin_resume(struct sbd_conn *c)
{
        c->stdin_paused = false;
        log_debug("connection %" PRIu64 ": stdin queues drained", c->id);
        /* process() pauses again at once if the write queue is over its cap. */
        if (c->reading_paused && !c->closing)
                resume_reading(c);
}

/* Queue o's bytes behind whatever is queued already. */
static void queue_out(struct sbd_conn *c, struct sbd_out *o)
{
        uv_buf_t buf;
        int r;

        shrink(o);
        buf = uv_buf_init(o->sbuf.data, (unsigned)o->sbuf.size);
        r = uv_write(&o->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written);
        if (r < 0) {
                sbd_out_free(o);
                log_debug("connection %" PRIu64 ": write: %s", c->id, uv_err_name(r));
                sbd_conn_close(c, false);
                return;
        }
        c->out_bytes += out_cost(o);
        if (!c->paused && c->out_bytes > SBD_CONN_HIGH_WATER)
                set_paused(c, true);
}

void sbd_conn_send(struct sbd_conn *c, struct sbd_out *o)
{
        uint32_t msgid;

        if (c->closing || !o->sbuf.data) {
                sbd_out_free(o);
                return;
        }
        /* Every answer passes here, whoever packed it. */
        if (sbp_response_msgid(o->sbuf.data, o->sbuf.size, &msgid))
                sbd_msgids_remove(&c->inflight, msgid);
        queue_out(c, o);
}

/* libuv 1.44 sends no arbitrary fd (only its own handles, and only on an
 * ipc pipe), so the response that carries one goes out through the
 * transport's own send, the handle riding on its first byte. That keeps
 * the byte order only while nothing is queued before it: then it is sent
 * now, and what the socket did not take is queued as usual. */
int sbd_conn_send_handle(struct sbd_conn *c, struct sbd_out *o, struct sbd_handle h)
{
        uint32_t msgid;
        ssize_t n;

        if (c->closing || !o->sbuf.data || o->sbuf.size == 0)
                return -EPIPE;
        if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > 0)
                return -EAGAIN;
        n = sbd_transport_send_handle(&c->pipe, o->sbuf.data, o->sbuf.size, h);
        if (n < 0)
                return (int)n;
        /* Sent (or begun): the answer is out, fd and all. */
        if (sbp_response_msgid(o->sbuf.data, o->sbuf.size, &msgid))
                sbd_msgids_remove(&c->inflight, msgid);
        if ((size_t)n == o->sbuf.size) {
                sbd_out_free(o);
                return 0;
        }
        memmove(o->sbuf.data, o->sbuf.data + n, o->sbuf.size - (size_t)n);
        o->sbuf.size -= (size_t)n;
        queue_out(c, o);
        return 0;
}

void sbd_conn_reply_error(struct sbd_conn *c, uint32_t msgid, const struct sbp_error *err)
{
        struct sbd_out *o = sbd_out_new();

        if (!o)
                return;
        sbp_pack_response_error(&o->pk, msgid, err);
        sbd_conn_send(c, o);
}

void sbd_conn_reply_nil(struct sbd_conn *c, uint32_t msgid)
{
        struct sbd_out *o = sbd_out_response(msgid);

        if (!o)
                return;
        msgpack_pack_nil(&o->pk);
        sbd_conn_send(c, o);
}

/* ---- reading (the transport's reader; received handles: fds.c) ---- */

/* The frame is not msgpack-rpc: answer it only when it is a request whose
 * msgid could be read, then close once that answer is out. */
static void protocol_error(struct sbd_conn *c, bool has_msgid, uint32_t msgid,
                           struct sbp_error *err)
{
        err->code = SBP_E_PROTOCOL_ERROR;
        if (err->message[0] == '\0')
                snprintf(err->message, sizeof(err->message), "malformed message");
        log_warning("connection %" PRIu64 " (uid %u): protocol error: %s%s", c->id,
                    (unsigned)c->uid, err->message, has_msgid ? "" : " (not answered)");
        if (has_msgid)
                sbd_conn_reply_error(c, msgid, c->refused ? &c->refusal : err);
        sbd_conn_close(c, true);
}

/* A request is counted in flight before anything answers it. */
static void request(struct sbd_conn *c, const struct sbp_message *m, int fds_r,
                    struct sbp_error *err)
{
        int n = sbd_msgids_add(&c->inflight, m->msgid);

        if (n < 0) {
                sbp_error_set(err, SBP_E_INTERNAL, "out of memory");
                log_error("connection %" PRIu64 ": msgid %u: out of memory", c->id, m->msgid);
                /* Untracked, its answer could settle another request's. */
                sbd_conn_close(c, false);
                return;
        }
        if (c->refused) {
                sbd_conn_reply_error(c, m->msgid, &c->refusal);
                sbd_conn_close(c, true);
                return;
        }
        if (fds_r < 0) {
                sbd_conn_reply_error(c, m->msgid, err);
                return;
        }
        if (n > 1) {
                sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                              "msgid %u: a request with this msgid is still in flight",
                              m->msgid);
                log_debug("connection %" PRIu64 ": %s", c->id, err->message);
                sbd_conn_reply_error(c, m->msgid, err);
                return;
        }
        if (c->inflight.n > SBD_CONN_INFLIGHT_MAX) {
                sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED,
                              "more than %u requests in flight on this connection",
                              SBD_CONN_INFLIGHT_MAX);
                log_debug("connection %" PRIu64 ": msgid %u: %s", c->id, m->msgid, err->message);
                sbd_conn_reply_error(c, m->msgid, err);
                return;
        }
        sbd_dispatch(c, m);
}

static void process(struct sbd_conn *c)
{
        while (!c->closing) {
                struct sbp_message m;
                struct sbp_error err;
                bool has_msgid = false;
                size_t unparsed;
                int r;

                memset(&m, 0, sizeof(m));
                memset(&err, 0, sizeof(err));
                /* Before each request, not after: one large reply still
                 * goes out whole. */
                if (c->out_bytes > SBD_CONN_WRITE_QUEUE_MAX || c->stdin_paused) {
                        pause_reading(c);
                        return;
                }
                r = sbp_reader_next(&c->reader, &m, &has_msgid, &err);
                if (r == 0)
                        return;
                if (r < 0) {
                        sbd_fds_end_message(c);
                        if (r == -EMSGSIZE && err.message[0] == '\0')
                                snprintf(err.message, sizeof(err.message), "message too large");
                        protocol_error(c, has_msgid, m.msgid, &err);
                        return;
                }
                /* The fds that came with this message (the unparsed rest of
                 * the buffer lies after its end). Claimed by exec only. */
                unparsed = c->reader.unpacker.used - c->reader.unpacker.off;
                r = sbd_fds_begin_message(c, c->fds.rx_total - unparsed, &err);
                if (m.type == SBP_REQUEST) {
                        request(c, &m, r, &err);
                } else if (m.type == SBP_NOTIFICATION) {
                        log_debug("connection %" PRIu64 ": notification ignored", c->id);
                } else {
                        log_debug("connection %" PRIu64 ": response (msgid %u) ignored", c->id,
                                  m.msgid);
                }
                sbd_fds_end_message(c);
        }
}

static void input(struct sbd_conn *c, ssize_t n)
{
        if (c->closing)
                return;
        if (n < 0) {
                if (n != UV_EOF)
                        log_debug("connection %" PRIu64 ": read: %s", c->id,
                                  uv_err_name((int)n));
                else
                        log_debug("connection %" PRIu64 ": closed by peer", c->id);
                sbd_conn_close(c, false);
                return;
        }
        if (n == 0)
                return;
        sbp_reader_commit(&c->reader, (size_t)n);
        process(c);
}

/* The stream and its handles are out of step: which request the bytes
 * read so far belong to is not known, so nothing is answered. */
static void handles_out_of_step(struct sbd_conn *c, const char *why)
{
        log_warning("connection %" PRIu64 " (uid %u): protocol error: %s (not answered)", c->id,
                    (unsigned)c->uid, why);
        sbd_conn_close(c, true);
}

static void on_rx_alloc(void *data, char **base, size_t *len)
{
        struct sbd_conn *c = data;

        if (c->closing || sbp_reader_reserve(&c->reader, READ_CHUNK, base, len) < 0)
                *len = 0;
}

static void on_rx_read(void *data, ssize_t n, struct sbd_handle *h, uint32_t nh, bool truncated)
{
        struct sbd_conn *c = data;
        bool fit;

        if (n < 0) {
                input(c, n);
                return;
        }
        fit = sbd_fds_received(c, (size_t)n, h, nh);
        if (truncated) {
                handles_out_of_step(c, "too many file descriptors with one message");
                return;
        }
        if (!fit) {
                handles_out_of_step(c, "too many file descriptors queued on the connection");
                return;
        }
        c->fds.rx_total += (uint64_t)n;
        input(c, n == 0 ? UV_EOF : n);
}

/* ---- lifetime ---- */

/* c goes once both its pipe and its reader are closed. */
static void conn_free(struct sbd_conn *c)
{
        sbd_fds_release(c);
        sbd_msgids_free(&c->inflight);
        sbd_list_remove(&c->node);
        if (c->reader_ready)
                sbp_reader_destroy(&c->reader);
        log_debug("connection %" PRIu64 ": freed", c->id);
        free(c);
}

static void conn_closed(uv_handle_t *h)
{
        struct sbd_conn *c = h->data;

        c->pipe_closed = true;
        if (!sbd_rx_open(&c->rx))
                conn_free(c);
}

static void on_rx_closed(void *data)
{
        struct sbd_conn *c = data;

        if (c->pipe_closed)
                conn_free(c);
}

struct sbd_conn *sbd_conn_new(struct sbd_daemon *d)
{
        struct sbd_conn *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return NULL;
        c->d = d;
        c->id = ++d->next_conn_id;
        c->rx.data = c;
        c->rx.alloc = on_rx_alloc;
        c->rx.read = on_rx_read;
        c->rx.closed = on_rx_closed;
        sbd_list_init(&c->node);
        sbd_list_init(&c->waiters);
        sbd_list_init(&c->stdin_reqs);
        r = uv_pipe_init(d->loop, &c->pipe, 0);
        if (r < 0) {
                free(c);
                return NULL;
        }
        c->pipe.data = c;
        sbd_list_append(&d->conns, &c->node);
        d->conns_open++;
        return c;
}

void sbd_conn_refuse(struct sbd_conn *c, const struct sbp_error *err)
{
        c->refusal = *err;
        c->refused = true;
        c->d->conns_open--;
        c->d->conns_refused++;
}

int sbd_conn_start(struct sbd_conn *c)
{
        int r = sbp_reader_init(&c->reader, c->refused ? SBD_CONN_REFUSED_MESSAGE_MAX : 0);

        if (r < 0)
                return r;
        c->reader_ready = true;
        r = sbd_rx_start(&c->rx, &c->pipe);
        return r < 0 ? r : 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
        struct sbd_conn *c = req->data;

        c->shutting_down = false;
        if (!uv_is_closing((uv_handle_t *)&c->pipe))
                uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

/* What the connection owned is released: its jobs lose their owner (and are
 * killed unless detached), its waiters and stdin replies are dropped. */
static void release(struct sbd_conn *c)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &c->waiters) {
                struct sbd_waiter *w = sbd_container_of(pos, struct sbd_waiter, conn_node);

                sbd_waiter_drop(w);
        }
        sbd_list_for_each_safe(pos, tmp, &c->stdin_reqs) {
                struct sbd_stdin_req *sr = sbd_container_of(pos, struct sbd_stdin_req, conn_node);

                sr->conn = NULL;
                sbd_list_remove(&sr->conn_node);
        }
        c->paused = false;
        sbd_list_for_each_safe(pos, tmp, &c->d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);

                if (j->owner == c)
                        sbd_job_owner_gone(j);
        }
}

void sbd_conn_close(struct sbd_conn *c, bool flush)
{
        int r;

        if (c->closing)
                return;
        c->closing = true;
        if (c->refused)
                c->d->conns_refused--;
        else
                c->d->conns_open--;
        sbd_rx_stop(&c->rx);
        release(c);
        log_debug("connection %" PRIu64 ": closing%s", c->id, flush ? " after flush" : "");
        if (flush) {
                c->shutdown_req.data = c;
                r = uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->pipe, on_shutdown);
                if (r == 0) {
                        c->shutting_down = true;
                        return;
                }
        }
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

void sbd_conn_force_close(struct sbd_conn *c)
{
        if (!c->closing)
                sbd_conn_close(c, false);
        else if (!uv_is_closing((uv_handle_t *)&c->pipe))
                uv_close((uv_handle_t *)&c->pipe, conn_closed);
}
