/* conn.c — one connection from a job to skillbox-proxy: read the request
 * head, decide on the requested host against the job's allowlist, resolve
 * it on libuv's threadpool, refuse internal addresses unless an exact
 * host:port entry names them, connect from the proxy's (the host's)
 * network namespace, then relay bytes both ways.
 *
 * Lifetime: a connection owns up to three handles (client, upstream, timer)
 * and at most one getaddrinfo request; it is freed when the last handle's
 * close callback has run and no resolution is outstanding. Write and
 * connect requests end with UV_ECANCELED before their handle's close
 * callback, so they never outlive it. Memory is bounded per connection (the
 * head buffer and two relay buffers), and connections are bounded per job
 * and in total.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/proxy/parse.h"
#include "daemon/proxy/proxy.h"

#define RESPONSE_MAX 1024

enum conn_state {
        CONN_HEAD,
        CONN_RESOLVING,
        CONN_CONNECTING,
        CONN_RELAY,
        CONN_CLOSING,
};

struct relay {
        uv_stream_t *from, *to;
        uv_write_t write;
        uv_shutdown_t shutdown;
        bool eof, shut;
        char buf[PROXY_RELAY_BUF];
};

struct proxy_conn {
        struct proxy_conn *next, *prev;
        struct proxy_job *job;
        enum conn_state state;
        uv_tcp_t client, upstream;
        uv_timer_t timer;
        unsigned open_handles;
        bool resolving;
        uv_getaddrinfo_t gai;
        struct addrinfo *addrs, *addr;
        uv_connect_t connect;
        uv_write_t head_write, extra_write;
        struct http_request req;
        size_t head_fill;
        char head[PROXY_HEAD_MAX];
        char *out; /* a response, or the head sent upstream */
        struct relay up, down;
};

static void conn_maybe_free(struct proxy_conn *c)
{
        struct proxy_job *job = c->job;

        if (c->open_handles > 0 || c->resolving)
                return;
        if (c->addrs)
                uv_freeaddrinfo(c->addrs);
        if (c->prev)
                c->prev->next = c->next;
        else
                job->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        job->n_conns--;
        job->proxy->n_conns--;
        free(c->out);
        free(c);
        proxy_job_conn_gone(job);
}

static void on_handle_closed(uv_handle_t *h)
{
        struct proxy_conn *c = h->data;

        c->open_handles--;
        conn_maybe_free(c);
}

static void close_handle(struct proxy_conn *c, uv_handle_t *h)
{
        if (h->data == c && !uv_is_closing(h))
                uv_close(h, on_handle_closed);
}

void proxy_conn_close(struct proxy_conn *c)
{
        if (c->state == CONN_CLOSING)
                return;
        c->state = CONN_CLOSING;
        if (c->resolving)
                uv_cancel((uv_req_t *)&c->gai); /* may fail: the callback still comes */
        close_handle(c, (uv_handle_t *)&c->client);
        close_handle(c, (uv_handle_t *)&c->upstream);
        close_handle(c, (uv_handle_t *)&c->timer);
}

struct proxy_conn *proxy_conn_next(struct proxy_conn *c)
{
        return c->next;
}

static void on_timeout(uv_timer_t *t)
{
        proxy_conn_close(t->data);
}

static void drain_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct proxy_conn *c = h->data;

        *buf = uv_buf_init(c->head, sizeof(c->head));
}

static void drain_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
        if (n < 0)
                proxy_conn_close(s->data);
}

static void on_response_shut(uv_shutdown_t *sh, int status)
{
        struct proxy_conn *c = sh->data;

        if (status < 0 ||
            uv_read_start((uv_stream_t *)&c->client, drain_alloc, drain_read) < 0)
                proxy_conn_close(c);
}

/* After an error response the rest of what the client sent is read and
 * dropped until it closes (or the setup timer ends it): closing with
 * unread bytes would reset the connection and could destroy the response
 * before the client reads it. */
static void on_response_written(uv_write_t *w, int status)
{
        struct proxy_conn *c = w->data;

        c->up.shutdown.data = c;
        if (status < 0 || c->state == CONN_CLOSING ||
            uv_shutdown(&c->up.shutdown, (uv_stream_t *)&c->client, on_response_shut) < 0)
                proxy_conn_close(c);
}

/* Sends an error response with a one-line reason and closes. */
static void respond(struct proxy_conn *c, int code, const char *status, const char *reason)
{
        uv_buf_t b;
        int n, r;

        uv_read_stop((uv_stream_t *)&c->client);
        free(c->out);
        c->out = malloc(RESPONSE_MAX);
        if (!c->out) {
                proxy_conn_close(c);
                return;
        }
        n = snprintf(c->out, RESPONSE_MAX,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\nskillbox-proxy: %s\n",
                     code, status, strlen(reason) + 17, reason);
        if (n < 0 || n >= RESPONSE_MAX) {
                proxy_conn_close(c);
                return;
        }
        b = uv_buf_init(c->out, (unsigned)n);
        c->head_write.data = c;
        r = uv_write(&c->head_write, (uv_stream_t *)&c->client, &b, 1, on_response_written);
        if (r < 0)
                proxy_conn_close(c);
}

static void deny(struct proxy_conn *c, const char *reason)
{
        proxy_job_denied(c->job, c->req.host, c->req.port);
        respond(c, 403, "Forbidden", reason);
}

/* ---- relay ---- */

static struct relay *relay_of(struct proxy_conn *c, uv_stream_t *from)
{
        return from == (uv_stream_t *)&c->client ? &c->up : &c->down;
}

static void relay_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct relay *rl = relay_of(h->data, (uv_stream_t *)h);

        *buf = uv_buf_init(rl->buf, sizeof(rl->buf));
}

static void relay_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_relay_written(uv_write_t *w, int status)
{
        struct relay *rl = w->data;
        struct proxy_conn *c = rl->from->data;

        if (status < 0 || c->state == CONN_CLOSING) {
                proxy_conn_close(c);
                return;
        }
        if (uv_read_start(rl->from, relay_alloc, relay_read) < 0)
                proxy_conn_close(c);
}

static void on_shut(uv_shutdown_t *sh, int status)
{
        struct relay *rl = sh->data;
        struct proxy_conn *c = rl->from->data;

        rl->shut = true;
        if (status < 0 || (c->up.shut && c->down.shut))
                proxy_conn_close(c);
}

static void relay_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
        struct proxy_conn *c = s->data;
        struct relay *rl = relay_of(c, s);
        uv_buf_t b;

        if (n == 0)
                return;
        uv_read_stop(s);
        if (n == UV_EOF) {
                rl->eof = true;
                rl->shutdown.data = rl;
                if (uv_shutdown(&rl->shutdown, rl->to, on_shut) < 0)
                        proxy_conn_close(c);
                return;
        }
        if (n < 0) {
                proxy_conn_close(c);
                return;
        }
        uv_timer_again(&c->timer);
        b = uv_buf_init(buf->base, (unsigned)n);
        rl->write.data = rl;
        if (uv_write(&rl->write, rl->to, &b, 1, on_relay_written) < 0)
                proxy_conn_close(c);
}

static void start_relay(struct proxy_conn *c)
{
        c->state = CONN_RELAY;
        c->up.from = (uv_stream_t *)&c->client;
        c->up.to = (uv_stream_t *)&c->upstream;
        c->down.from = (uv_stream_t *)&c->upstream;
        c->down.to = (uv_stream_t *)&c->client;
        uv_timer_stop(&c->timer);
        uv_timer_start(&c->timer, on_timeout, PROXY_IDLE_TIMEOUT_MS, PROXY_IDLE_TIMEOUT_MS);
        if (uv_read_start(c->up.from, relay_alloc, relay_read) < 0 ||
            uv_read_start(c->down.from, relay_alloc, relay_read) < 0)
                proxy_conn_close(c);
}

/* ---- connect ---- */

static void on_write_done(uv_write_t *w, int status)
{
        if (status < 0)
                proxy_conn_close(w->data);
}

static void connect_next(struct proxy_conn *c);

static void on_upstream_closed_retry(uv_handle_t *h)
{
        struct proxy_conn *c = h->data;

        c->open_handles--;
        if (c->state == CONN_CLOSING) {
                conn_maybe_free(c);
                return;
        }
        c->upstream.data = NULL;
        connect_next(c);
}

static void on_connected(uv_connect_t *req, int status)
{
        struct proxy_conn *c = req->data;
        size_t extra = c->head_fill - c->req.head_len;
        uv_buf_t b;
        int r;

        if (c->state == CONN_CLOSING)
                return;
        if (status < 0) {
                c->addr = c->addr->ai_next;
                uv_close((uv_handle_t *)&c->upstream, on_upstream_closed_retry);
                return;
        }
        if (c->req.kind == HTTP_CONNECT) {
                static char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";

                b = uv_buf_init(established, sizeof(established) - 1);
                r = uv_write(&c->head_write, (uv_stream_t *)&c->client, &b, 1, on_write_done);
        } else {
                b = uv_buf_init(c->out, (unsigned)strlen(c->out));
                r = uv_write(&c->head_write, (uv_stream_t *)&c->upstream, &b, 1, on_write_done);
        }
        /* Bytes the client sent after its head (a body, a TLS hello). */
        if (r == 0 && extra > 0) {
                b = uv_buf_init(c->head + c->req.head_len, (unsigned)extra);
                r = uv_write(&c->extra_write, (uv_stream_t *)&c->upstream, &b, 1, on_write_done);
        }
        if (r < 0) {
                proxy_conn_close(c);
                return;
        }
        start_relay(c);
}

static void connect_next(struct proxy_conn *c)
{
        struct sockaddr_storage ss;
        int r;

        if (!c->addr) {
                respond(c, 502, "Bad Gateway", "cannot connect to the host");
                return;
        }
        memcpy(&ss, c->addr->ai_addr, c->addr->ai_addrlen);
        if (ss.ss_family == AF_INET)
                ((struct sockaddr_in *)&ss)->sin_port = htons(c->req.port);
        else
                ((struct sockaddr_in6 *)&ss)->sin6_port = htons(c->req.port);
        r = uv_tcp_init(c->job->proxy->loop, &c->upstream);
        if (r < 0) {
                respond(c, 502, "Bad Gateway", "cannot connect to the host");
                return;
        }
        c->upstream.data = c;
        c->open_handles++;
        c->connect.data = c;
        r = uv_tcp_connect(&c->connect, &c->upstream, (struct sockaddr *)&ss, on_connected);
        if (r < 0) {
                c->addr = c->addr->ai_next;
                uv_close((uv_handle_t *)&c->upstream, on_upstream_closed_retry);
        }
}

/* ---- resolve ---- */

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
        struct proxy_conn *c = req->data;
        static char msg[PROXY_HOST_MAX + 128];
        bool exact;

        c->resolving = false;
        c->addrs = res;
        if (c->state == CONN_CLOSING) {
                conn_maybe_free(c);
                return;
        }
        if (status < 0) {
                respond(c, 502, "Bad Gateway", "cannot resolve the host");
                return;
        }
        exact = allow_match(&c->job->allow, c->req.host, c->req.port) == ALLOW_EXACT;
        for (struct addrinfo *a = res; a; a = a->ai_next) {
                enum addr_class k = addr_classify(a->ai_addr);

                /* Any internal address refuses the name, so a name that
                 * resolves to both cannot be steered to the internal one. */
                if (k != ADDR_PUBLIC && !exact) {
                        snprintf(msg, sizeof(msg),
                                 "%s resolves to a %s address; only an exact host:port "
                                 "entry allows that",
                                 c->req.host, addr_class_name(k));
                        deny(c, msg);
                        return;
                }
        }
        c->state = CONN_CONNECTING;
        c->addr = res;
        connect_next(c);
}

/* ---- head ---- */

static void decide(struct proxy_conn *c)
{
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                 .ai_protocol = IPPROTO_TCP};
        int r = http_request_parse(c->head, http_head_length(c->head, c->head_fill), &c->req);

        if (r == -ENOTSUP) {
                respond(c, 400, "Bad Request",
                        "send CONNECT host:port, or an absolute http:// request target");
                return;
        }
        if (r < 0) {
                respond(c, 400, "Bad Request", "malformed request");
                return;
        }
        if (allow_match(&c->job->allow, c->req.host, c->req.port) == ALLOW_NO) {
                deny(c, "host:port is not in this job's allowlist");
                return;
        }
        if (c->req.kind == HTTP_FORWARD) {
                size_t size = c->req.head_len + PROXY_HEAD_GROWTH;

                c->out = malloc(size + 1);
                r = c->out ? http_forward_head(&c->req, c->out, size) : -ENOMEM;
                if (r < 0) {
                        respond(c, 400, "Bad Request", "request head too large");
                        return;
                }
                c->out[r] = '\0';
        }
        c->state = CONN_RESOLVING;
        c->gai.data = c;
        r = uv_getaddrinfo(c->job->proxy->loop, &c->gai, on_resolved, c->req.host, NULL, &hints);
        if (r < 0) {
                respond(c, 502, "Bad Gateway", "cannot resolve the host");
                return;
        }
        c->resolving = true;
}

static void head_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct proxy_conn *c = h->data;

        *buf = uv_buf_init(c->head + c->head_fill, (unsigned)(sizeof(c->head) - c->head_fill));
}

static void head_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
        struct proxy_conn *c = s->data;

        if (n == 0)
                return;
        if (n < 0) {
                proxy_conn_close(c);
                return;
        }
        c->head_fill += (size_t)n;
        if (http_head_length(c->head, c->head_fill) > 0) {
                uv_read_stop(s);
                decide(c);
        } else if (c->head_fill == sizeof(c->head)) {
                respond(c, 431, "Request Header Fields Too Large", "request head too large");
        }
}

/* ---- accept ---- */

static void on_reject_closed(uv_handle_t *h)
{
        free(h);
}

/* Over a bound: the connection is accepted (libuv stops watching a listener
 * whose connection is left pending) and closed at once. */
static void reject(struct proxy_job *job)
{
        uv_tcp_t *t = malloc(sizeof(*t));

        if (!t || uv_tcp_init(job->proxy->loop, t) < 0) {
                free(t);
                return;
        }
        uv_accept((uv_stream_t *)&job->listener, (uv_stream_t *)t);
        uv_close((uv_handle_t *)t, on_reject_closed);
}

void proxy_conn_accept(struct proxy_job *job)
{
        struct proxy *p = job->proxy;
        struct proxy_conn *c;

        if (job->removed || job->n_conns >= PROXY_CONNS_PER_JOB || p->n_conns >= PROXY_CONNS_TOTAL) {
                reject(job);
                return;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                reject(job);
                return;
        }
        c->job = job;
        c->next = job->conns;
        if (job->conns)
                job->conns->prev = c;
        job->conns = c;
        job->n_conns++;
        p->n_conns++;
        if (uv_timer_init(p->loop, &c->timer) == 0) {
                c->timer.data = c;
                c->open_handles++;
        }
        if (uv_tcp_init(p->loop, &c->client) == 0) {
                c->client.data = c;
                c->open_handles++;
        } else {
                reject(job); /* the pending connection is still taken off */
        }
        if (c->open_handles != 2 ||
            uv_accept((uv_stream_t *)&job->listener, (uv_stream_t *)&c->client) < 0 ||
            uv_timer_start(&c->timer, on_timeout, PROXY_SETUP_TIMEOUT_MS, 0) < 0 ||
            uv_read_start((uv_stream_t *)&c->client, head_alloc, head_read) < 0) {
                proxy_conn_close(c);
                if (c->open_handles == 0) /* nothing to wait for */
                        conn_maybe_free(c);
        }
}
