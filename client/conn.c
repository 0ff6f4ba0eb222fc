/* conn.c — libskillbox's connection: socket, the send queue, framing, and
 * the dispatch of every message read (replies to their requests,
 * notifications to callbacks).
 *
 * The connection is non-blocking; nothing here blocks except the wait
 * for it in sb_process() and client_run_until(). Any number of requests may be in
 * flight; a response whose msgid is not one of theirs is a protocol error.
 * Dispatch is reentrant: a request is unlinked before its callback runs, a
 * message is not touched after a callback returns (a nested call may have
 * read past it), and lists are searched again from their head after every
 * callback. A job_exit is also recorded in the owned-jobs table so a wait
 * can return a result that was delivered earlier. The bytes go through
 * transport.h (a Unix socket, a named pipe); a closed daemon yields -EPIPE,
 * never SIGPIPE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "client/transport.h"
#include "config.h"

/* Per recv(). Below glibc's mmap threshold once the reader's buffer has
 * grown to hold it, so a short-lived client (skillboxctl run) does not pay
 * an mmap and munmap for it; big output just takes more calls. */
#define READ_CHUNK (32u << 10)

/* recv() calls in one sb_process() round, at most. */
#define STEP_READS_MAX 16

int client_fail(sb_client *c, int r, const char *fmt, ...)
{
        va_list ap;

        if (!c)
                return r;
        va_start(ap, fmt);
        vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
        va_end(ap);
        return r;
}

/* A failure after which the byte stream can no longer be trusted. */
int client_broken(sb_client *c, int r, const char *what)
{
        c->broken = true;
        if (r == -ECONNRESET && !what)
                return client_fail(c, r, "connection closed by the daemon");
        return client_fail(c, r, "%s: %s", what ? what : "connection", strerror(-r));
}

const char *sb_version(void)
{
        return SKILLBOX_VERSION;
}

const char *sb_default_socket(void)
{
        return client_transport_default();
}

int sb_connect(const char *path, sb_client **out)
{
        sb_client *c;
        int r;

        *out = NULL;
        if (!path)
                path = sb_default_socket();
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = -1;
        c->next_msgid = 1;
        msgpack_sbuffer_init(&c->out);
        *out = c;

        r = sbp_reader_init(&c->reader, 0);
        if (r < 0)
                return client_fail(c, r, "cannot set up the reader: %s", strerror(-r));
        c->reader_ok = true;

        r = client_transport_connect(path, &c->fd);
        if (r < 0)
                return client_fail(c, r, "cannot connect to %s: %s", path, strerror(-r));
        return 0;
}

sb_client *sb_close(sb_client *c)
{
        struct client_note *n;

        if (!c)
                return NULL;
        if (c->fd >= 0)
                client_transport_close(c->fd);
        for (size_t i = 0; i < c->n_rx_fds; i++)
                client_transport_fd_close(c->rx_fds[i]);
        if (c->reader_ok)
                sbp_reader_destroy(&c->reader);
        msgpack_sbuffer_destroy(&c->out);
        while ((n = c->q_head)) {
                c->q_head = n->next;
                free(n);
        }
        while (c->out_head) {
                struct client_out *o = c->out_head;

                c->out_head = o->next;
                for (size_t i = 0; i < o->nfds; i++)
                        client_transport_fd_close(o->fds[i]);
                free(o);
        }
        for (struct sb_request **l = &c->reqs; l; l = l == &c->reqs ? &c->exit_waits : NULL)
                while (*l) {
                        struct sb_request *q = *l;

                        *l = q->next;
                        client_req_free(q);
                }
        free(c->owned);
        free(c);
        return NULL;
}

const char *sb_errmsg(sb_client *c)
{
        if (!c)
                return "out of memory";
        return c->errmsg;
}

void sb_set_callbacks(sb_client *c, const struct sb_callbacks *cb)
{
        c->have_cb = cb != NULL;
        if (cb)
                c->cb = *cb;
}

const struct sb_callbacks *client_callbacks(sb_client *c, const struct sb_callbacks *cb)
{
        if (cb)
                return cb;
        return c->have_cb ? &c->cb : NULL;
}

int sb_fd(sb_client *c)
{
        return c->fd;
}

size_t sb_pending(sb_client *c)
{
        return c->q_len;
}

int sb_events(sb_client *c)
{
        return CLIENT_EV_IN | (c->out_head ? CLIENT_EV_OUT : 0);
}

size_t sb_queued(sb_client *c)
{
        return c->out_bytes;
}

int client_check_job(sb_client *c, const char *job)
{
        size_t len;

        if (!job)
                return client_fail(c, -EINVAL, "no job id given");
        len = strlen(job);
        if (len == 0 || len > SBP_JOB_ID_MAX)
                return client_fail(c, -EINVAL, "invalid job id '%.40s'", job);
        return 0;
}

/* ---- Owned jobs ---- */

int client_own(sb_client *c, const char *job)
{
        struct client_owned *o;

        if (c->n_owned == c->cap_owned) {
                size_t cap = c->cap_owned ? c->cap_owned * 2 : 8;

                o = realloc(c->owned, cap * sizeof(*o));
                if (!o)
                        return client_fail(c, -ENOMEM, "out of memory");
                c->owned = o;
                c->cap_owned = cap;
        }
        o = &c->owned[c->n_owned++];
        memset(o, 0, sizeof(*o));
        snprintf(o->job, sizeof(o->job), "%s", job);
        return 0;
}

struct client_owned *client_owned_find(sb_client *c, const char *job)
{
        for (size_t i = 0; i < c->n_owned; i++)
                if (strcmp(c->owned[i].job, job) == 0)
                        return &c->owned[i];
        return NULL;
}

void client_owned_drop(sb_client *c, struct client_owned *o)
{
        size_t i = (size_t)(o - c->owned);

        c->owned[i] = c->owned[--c->n_owned];
}

/* ---- Sending ---- */

uint32_t client_begin(sb_client *c, const char *method, msgpack_packer *pk)
{
        uint32_t id = c->next_msgid++;

        if (c->next_msgid == 0)
                c->next_msgid = 1;
        msgpack_sbuffer_clear(&c->out);
        msgpack_packer_init(pk, &c->out, msgpack_sbuffer_write);
        sbp_pack_request_begin(pk, id, method);
        return id;
}

/* Send what the socket takes now. 0 also when it took nothing. */
static int flush(sb_client *c)
{
        struct client_out *o;

        while ((o = c->out_head)) {
                /* The fds go with the request's first byte: the daemon
                 * gives fds to the message their bytes arrive with. */
                ssize_t n = client_transport_send(c->fd, o->data + o->off, o->len - o->off,
                                                  o->fds, o->off == 0 ? o->nfds : 0);

                if (n == -EAGAIN)
                        return 0;
                if (n < 0)
                        return client_broken(c, (int)n, "write to daemon");
                if (o->nfds > 0) {
                        /* They went with the first byte; ours were dups. */
                        for (size_t i = 0; i < o->nfds; i++)
                                client_transport_fd_close(o->fds[i]);
                        o->nfds = 0;
                }
                o->off += (size_t)n;
                c->out_bytes -= (size_t)n;
                if (o->off < o->len)
                        continue;
                c->out_head = o->next;
                if (!c->out_head)
                        c->out_tail = NULL;
                free(o);
        }
        return 0;
}

int client_enqueue(sb_client *c, const int *fds, size_t nfds)
{
        struct client_out *o;
        size_t len = c->out.size;

        if (c->broken || c->fd < 0)
                return client_fail(c, -ENOTCONN, "not connected");
        if (c->out_bytes > 0 && c->out_bytes + len > SB_SEND_QUEUE_MAX)
                return client_fail(c, -EAGAIN, "send queue full: %zu bytes not yet taken by "
                                   "the daemon (backpressure)", c->out_bytes);
        o = malloc(sizeof(*o) + len);
        if (!o)
                return client_fail(c, -ENOMEM, "out of memory");
        o->next = NULL;
        o->len = len;
        o->off = 0;
        o->nfds = 0;
        memcpy(o->data, c->out.data, len);
        /* The caller keeps its fds and may close them before this is sent. */
        for (size_t i = 0; i < nfds; i++) {
                int fd = client_transport_fd_dup(fds[i]);

                if (fd < 0) {
                        for (size_t k = 0; k < o->nfds; k++)
                                client_transport_fd_close(o->fds[k]);
                        free(o);
                        if (fd == -EOPNOTSUPP)
                                return client_fail(c, fd, "fd %d: this connection passes no "
                                                   "descriptors", fds[i]);
                        return client_fail(c, fd, "fd %d: %s", fds[i], strerror(-fd));
                }
                o->fds[o->nfds++] = fd;
        }
        if (c->out_tail)
                c->out_tail->next = o;
        else
                c->out_head = o;
        c->out_tail = o;
        c->out_bytes += len;
        return flush(c);
}

/* ---- Requests ---- */

struct sb_request *client_req_new(sb_client *c, enum client_req_kind kind, sb_reply_fn done,
                                  void *userdata, const char *job)
{
        struct sb_request *q = calloc(1, sizeof(*q));

        if (!q) {
                client_fail(c, -ENOMEM, "out of memory");
                return NULL;
        }
        q->kind = kind;
        q->done = done;
        q->userdata = userdata;
        if (job)
                snprintf(q->job, sizeof(q->job), "%s", job);
        return q;
}

void client_req_free(struct sb_request *q)
{
        if (!q)
                return;
        sb_job_info_list_free(q->list, q->nlist);
        free(q);
}

int client_send(sb_client *c, struct sb_request *q, uint32_t msgid, const int *fds, size_t nfds,
                sb_request **req_out)
{
        int r = client_enqueue(c, fds, nfds);

        if (r < 0) {
                client_req_free(q);
                return r;
        }
        q->msgid = msgid;
        q->next = c->reqs;
        c->reqs = q;
        if (req_out)
                *req_out = q;
        return 0;
}

static bool unlink_req(struct sb_request **list, struct sb_request *q)
{
        for (struct sb_request **p = list; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        q->next = NULL;
                        return true;
                }
        return false;
}

void sb_request_cancel(sb_client *c, sb_request *q)
{
        if (!c || !q)
                return;
        if (q->completing || !unlink_req(&c->exit_waits, q)) {
                /* In flight (its reply frees it) or its callback is running. */
                q->cancelled = true;
                return;
        }
        client_req_free(q);
}

void client_finish(sb_client *c, struct sb_request *q, int error, const struct sb_reply *reply)
{
        struct sb_reply copy;

        q->completing = true;
        if (!q->cancelled && q->done) {
                if (reply)
                        copy = *reply;
                q->done(c, error, reply ? &copy : NULL, q->userdata);
        } else if (reply) {
                /* Nobody takes what a cancelled request's reply handed over. */
                sb_job_info_free(reply->info);
                free(reply->info);
                sb_job_info_list_free(reply->jobs, reply->njobs);
                sb_profiles_free(reply->profiles);
                if (q->kind == CLIENT_REQ_WORK_FD && reply->work_fd >= 0)
                        client_transport_fd_close(reply->work_fd);
        }
        client_req_free(q);
}

size_t client_stdin_inflight(sb_client *c, const char *job)
{
        size_t n = 0;

        for (const struct sb_request *q = c->reqs; q; q = q->next)
                if (q->kind == CLIENT_REQ_STDIN_WRITE && strcmp(q->job, job) == 0)
                        n += q->stdin_len;
        return n;
}

/* ---- Receiving ---- */

int client_rx_fd_take(sb_client *c)
{
        int fd;

        if (c->n_rx_fds == 0)
                return -1;
        fd = c->rx_fds[0];
        memmove(c->rx_fds, c->rx_fds + 1, (c->n_rx_fds - 1) * sizeof(int));
        c->n_rx_fds--;
        return fd;
}

/* Read what the socket has: 1 = read some, 0 = nothing now. */
static int fill(sb_client *c)
{
        char *buf;
        size_t len, nfds = 0;
        ssize_t n;
        int r;

        r = sbp_reader_reserve(&c->reader, READ_CHUNK, &buf, &len);
        if (r < 0)
                return client_broken(c, r, "reserve read buffer");
        n = client_transport_recv(c->fd, buf, len, c->rx_fds + c->n_rx_fds, &nfds,
                                  CLIENT_RX_FDS_MAX - c->n_rx_fds);
        if (n == -EAGAIN)
                return 0;
        if (n < 0)
                return client_broken(c, (int)n, "read from daemon");
        c->n_rx_fds += nfds;
        if (n == 0)
                return client_broken(c, -ECONNRESET, NULL);
        sbp_reader_commit(&c->reader, (size_t)n);
        return 1;
}

/* The next buffered message: 1 = *m filled, 0 = need more bytes. */
static int next_message(sb_client *c, struct sbp_message *m)
{
        struct sbp_error err = { 0 };
        bool has_msgid = false;
        int r;

        r = sbp_reader_next(&c->reader, m, &has_msgid, &err);
        if (r == -EMSGSIZE || r == -EBADMSG) {
                c->broken = true;
                return client_fail(c, -EPROTO, "malformed message from the daemon: %s",
                                   err.message[0] ? err.message : strerror(-r));
        }
        if (r < 0)
                return client_broken(c, r, "decode");
        return r;
}

static void deliver(const struct sb_callbacks *cb, const struct client_note *n,
                    const struct sb_job_result *result)
{
        if (!cb)
                return;
        if (result) {
                if (cb->job_exit)
                        cb->job_exit(result, cb->userdata);
        } else if (cb->job_output) {
                cb->job_output(n->job, n->stream, n->data, n->len, cb->userdata);
        }
}

static void enqueue_note(sb_client *c, struct client_note *n)
{
        n->next = NULL;
        if (c->q_tail)
                c->q_tail->next = n;
        else
                c->q_head = n;
        c->q_tail = n;
        c->q_len++;
}

/* Complete the waits held for job's job_exit, one at a time: a callback
 * may cancel or add waits, so search again from the head each time. */
static int complete_exit_waits(sb_client *c, const char *job)
{
        struct client_owned *own;
        struct sb_job_result res;
        struct sb_request *q;
        struct sb_reply reply;
        int count = 0;

        for (;;) {
                for (q = c->exit_waits; q; q = q->next)
                        if (strcmp(q->job, job) == 0)
                                break;
                if (!q)
                        return count;
                own = client_owned_find(c, job);
                unlink_req(&c->exit_waits, q);
                if (!own) {
                        client_fail(c, -ENOENT, "job %s forgotten", job);
                        client_finish(c, q, -ENOENT, NULL);
                        continue;
                }
                res = own->result;
                client_owned_drop(c, own);
                reply = (struct sb_reply){ .result = &res };
                client_finish(c, q, 0, &reply);
                count++;
        }
}

int client_hold_wait(sb_client *c, struct sb_request *q)
{
        struct client_owned *own = client_owned_find(c, q->job);
        bool queued = false;

        if (!own)
                return 0;
        for (const struct client_note *n = c->q_head; n; n = n->next)
                if (n->is_exit && strcmp(n->result.job, q->job) == 0)
                        queued = true;
        if (own->exited && !queued)
                return 0;
        q->next = c->exit_waits;
        c->exit_waits = q;
        return 1;
}

/* Handle one notification: deliver to the current callbacks, else queue or
 * drop. Returns how many things were delivered or queued. */
static int handle_notification(sb_client *c, const struct sbp_message *m)
{
        const struct sb_callbacks *cb = c->note_cb;
        struct client_note *n;
        int r;

        if (m->method_len == strlen("job_output") &&
            memcmp(m->method, "job_output", m->method_len) == 0) {
                struct sbp_job_output o;

                r = sbp_job_output_decode(&m->params, &o);
                if (r < 0) {
                        c->broken = true;
                        return client_fail(c, -EPROTO, "malformed job_output from the daemon");
                }
                if (cb) {
                        /* Deliver straight from the decoded message: no copy. */
                        if (cb->job_output)
                                cb->job_output(o.job, (enum sb_stream)o.stream, o.data, o.len,
                                               cb->userdata);
                        return 1;
                }
                if (!c->note_queue)
                        return 1;
                n = malloc(sizeof(*n) + o.len);
                if (!n)
                        return client_broken(c, -ENOMEM, "queue notification");
                memset(n, 0, sizeof(*n));
                memcpy(n->job, o.job, sizeof(n->job));
                n->stream = (enum sb_stream)o.stream;
                n->len = o.len;
                if (o.len)
                        memcpy(n->data, o.data, o.len);
                enqueue_note(c, n);
                return 1;
        }
        if (m->method_len == strlen("job_exit") &&
            memcmp(m->method, "job_exit", m->method_len) == 0) {
                struct sbp_job_result sr;
                struct sb_job_result res;
                struct client_owned *own;

                r = sbp_job_exit_decode(&m->params, &sr);
                if (r < 0) {
                        c->broken = true;
                        return client_fail(c, -EPROTO, "malformed job_exit from the daemon");
                }
                client_result_from_sbp(&res, &sr);
                own = client_owned_find(c, res.job);
                if (own) {
                        own->exited = true;
                        own->result = res;
                }
                if (cb) {
                        deliver(cb, NULL, &res);
                } else if (c->note_queue) {
                        n = calloc(1, sizeof(*n));
                        if (!n)
                                return client_broken(c, -ENOMEM, "queue notification");
                        n->is_exit = true;
                        n->result = res;
                        enqueue_note(c, n);
                }
                /* Queued output precedes the exit: a wait completing now
                 * must not overtake it, so those waits complete when the
                 * queue is drained (client_drain). */
                if (!c->q_head)
                        return 1 + complete_exit_waits(c, res.job);
                return 1;
        }
        /* A notification this client does not know: a newer daemon. */
        return 0;
}

/* Dispatch one message. Returns how many things it delivered. */
static int dispatch(sb_client *c, const struct sbp_message *m)
{
        struct sb_request *q;
        int r;

        if (m->type == SBP_NOTIFICATION)
                return handle_notification(c, m);
        if (m->type != SBP_RESPONSE) {
                c->broken = true;
                return client_fail(c, -EPROTO, "unexpected request from the daemon");
        }
        for (q = c->reqs; q; q = q->next)
                if (q->msgid == m->msgid)
                        break;
        if (!q) {
                c->broken = true;
                return client_fail(c, -EPROTO, "response to msgid %u, not in flight", m->msgid);
        }
        unlink_req(&c->reqs, q);
        r = client_complete(c, q, m);
        if (r < 0)
                return r;
        return r > 0 ? 0 : 1;   /* back in flight, or completed */
}

/* Dispatch every complete message already buffered. */
static int dispatch_buffered(sb_client *c)
{
        struct sbp_message m;
        int count = 0, r;

        while (!c->broken) {
                r = next_message(c, &m);
                if (r <= 0)
                        return r < 0 ? r : count;
                r = dispatch(c, &m);
                if (r < 0)
                        return r;
                count += r;
        }
        /* A callback's nested call found the stream broken; it said why. */
        return -ENOTCONN;
}

int client_drain(sb_client *c, const struct sb_callbacks *cb)
{
        struct client_note *n;
        int count = 0;

        while ((n = c->q_head)) {
                c->q_head = n->next;
                if (!c->q_head)
                        c->q_tail = NULL;
                c->q_len--;
                deliver(cb, n, n->is_exit ? &n->result : NULL);
                if (n->is_exit)
                        count += complete_exit_waits(c, n->result.job);
                free(n);
                count++;
        }
        return count;
}

/* The connection failed: no reply can come any more. Every request in
 * flight (sent, queued, or a wait held for its job_exit) completes now,
 * with error r, so that its callback can free what it holds. One at a time
 * off the lists: a callback may cancel others (then theirs is not called)
 * or make new requests, which a broken client refuses. */
static void fail_inflight(sb_client *c, int r)
{
        struct sb_request *q;

        while ((q = c->reqs ? c->reqs : c->exit_waits)) {
                unlink_req(q == c->reqs ? &c->reqs : &c->exit_waits, q);
                client_finish(c, q, r, NULL);
        }
}

static int step_once(sb_client *c, int timeout_ms);

/* One round (step_once); when it finds the connection broken, the requests
 * in flight fail with its error. */
static int step(sb_client *c, int timeout_ms)
{
        int r = step_once(c, timeout_ms);

        if (r < 0 && c->broken) {
                char msg[sizeof(c->errmsg)];

                /* Callbacks may overwrite the reason; the caller gets it. */
                memcpy(msg, c->errmsg, sizeof(msg));
                fail_inflight(c, r);
                memcpy(c->errmsg, msg, sizeof(msg));
        }
        return r;
}

/* One round: send, wait up to timeout_ms for the socket, read, dispatch. */
static int step_once(sb_client *c, int timeout_ms)
{
        int count, ev, r;

        r = flush(c);
        if (r < 0)
                return r;
        count = dispatch_buffered(c);
        if (count != 0)
                return count;
        ev = client_transport_wait(c->fd, c->out_head != NULL, timeout_ms);
        if (ev < 0)
                return client_fail(c, ev, "poll: %s", strerror(-ev));
        if (ev == 0)
                return 0;
        if (ev & CLIENT_EV_OUT) {
                r = flush(c);
                if (r < 0)
                        return r;
        }
        if (ev & CLIENT_EV_IN) {
                /* Read what there is, up to a bound: replies queued behind
                 * big output should not each cost a poll, and a job that
                 * prints without pause must not keep the caller's loop
                 * from its other work. */
                for (int reads = 0; reads < STEP_READS_MAX && (r = fill(c)) > 0; reads++) {
                        r = dispatch_buffered(c);
                        if (r < 0)
                                return r;
                        count += r;
                }
                if (r < 0)
                        return r;
        }
        return count;
}

int sb_process(sb_client *c, int timeout_ms, const struct sb_callbacks *cb)
{
        const struct sb_callbacks *saved_cb = c->note_cb;
        bool saved_queue = c->note_queue;
        int count, r;

        if (c->broken || c->fd < 0)
                return client_fail(c, -ENOTCONN, "not connected");
        cb = client_callbacks(c, cb);
        c->note_cb = cb;
        c->note_queue = false;
        count = client_drain(c, cb);
        r = step(c, count > 0 ? 0 : timeout_ms);
        c->note_cb = saved_cb;
        c->note_queue = saved_queue;
        if (r < 0)
                return r;
        return count + r;
}

int client_step(sb_client *c, const struct sb_callbacks *cb, bool queue)
{
        const struct sb_callbacks *saved_cb = c->note_cb;
        bool saved_queue = c->note_queue;
        int r;

        if (c->broken || c->fd < 0)
                return client_fail(c, -ENOTCONN, "not connected");
        c->note_cb = client_callbacks(c, cb);
        c->note_queue = queue;
        r = step(c, -1);
        c->note_cb = saved_cb;
        c->note_queue = saved_queue;
        return r == -EINTR ? 0 : r;
}

int client_run_until(sb_client *c, const bool *done, const struct sb_callbacks *cb, bool queue)
{
        const struct sb_callbacks *saved_cb = c->note_cb;
        bool saved_queue = c->note_queue;
        int r = 0;

        c->note_cb = client_callbacks(c, cb);
        c->note_queue = queue;
        while (!*done) {
                if (c->broken || c->fd < 0) {
                        r = c->errmsg[0] ? -ENOTCONN : client_fail(c, -ENOTCONN, "not connected");
                        break;
                }
                r = step(c, -1);
                if (r == -EINTR)
                        r = 0;
                if (r < 0)
                        break;
        }
        c->note_cb = saved_cb;
        c->note_queue = saved_queue;
        return r < 0 ? r : 0;
}
