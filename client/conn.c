/* conn.c — libskillbox's connection: socket, framing, the blocking round
 * trip and the notification pump.
 *
 * Invariants: at most one request is outstanding (every call is blocking and
 * waits for its response), so any response whose msgid is not the one awaited
 * is a protocol error. Notifications may arrive between a request and its
 * response; they are handed to the client's callbacks or queued in arrival
 * order, never lost. A job_exit is also recorded in the owned-jobs table so
 * sb_wait() can return a result that sb_process() already delivered. Writes
 * use MSG_NOSIGNAL: a closed daemon yields -EPIPE, never SIGPIPE.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/client-internal.h"
#include "config.h"

/* Per recv(). Below glibc's mmap threshold once the reader's buffer has
 * grown to hold it, so a short-lived client (skillboxctl run) does not pay
 * an mmap and munmap for it; big output just takes more calls. */
#define READ_CHUNK (32u << 10)

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
static int broken(sb_client *c, int r, const char *what)
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
        const char *env = getenv("SKILLBOX_SOCKET");

        if (env && *env)
                return env;
        return SKILLBOX_DEFAULT_SOCKET;
}

int sb_connect(const char *path, sb_client **out)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
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

        if (strlen(path) >= sizeof(sa.sun_path))
                return client_fail(c, -ENAMETOOLONG, "cannot connect to %s: %s", path,
                                   strerror(ENAMETOOLONG));
        memcpy(sa.sun_path, path, strlen(path) + 1);

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                r = -errno;
                return client_fail(c, r, "cannot create a socket: %s", strerror(-r));
        }
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                close(c->fd);
                c->fd = -1;
                return client_fail(c, r, "cannot connect to %s: %s", path, strerror(-r));
        }
        return 0;
}

sb_client *sb_close(sb_client *c)
{
        struct client_note *n;

        if (!c)
                return NULL;
        if (c->fd >= 0)
                close(c->fd);
        if (c->reader_ok)
                sbp_reader_destroy(&c->reader);
        msgpack_sbuffer_destroy(&c->out);
        while ((n = c->q_head)) {
                c->q_head = n->next;
                free(n);
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

/* One sendmsg carrying the request's first bytes and its fds: the daemon
 * gives fds to the message their bytes arrive with. */
static ssize_t send_with_fds(sb_client *c, const char *buf, size_t len)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * SBP_FDS_MAX)];
        } cbuf;
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct cmsghdr *cm;
        size_t n = c->n_send_fds;

        memset(&cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(cm), c->send_fds, sizeof(int) * n);
        return sendmsg(c->fd, &mh, MSG_NOSIGNAL);
}

static int send_all(sb_client *c, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = c->n_send_fds > 0 ? send_with_fds(c, buf, len)
                                              : send(c->fd, buf, len, MSG_NOSIGNAL);

                if (n >= 0) {
                        c->send_fds = NULL;
                        c->n_send_fds = 0;
                }

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return broken(c, -errno, "write to daemon");
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* ---- Receiving ---- */

/* Read once (blocking, unless poll() said readable) into the reader. */
static int fill(sb_client *c)
{
        char *buf;
        size_t len;
        ssize_t n;
        int r;

        r = sbp_reader_reserve(&c->reader, READ_CHUNK, &buf, &len);
        if (r < 0)
                return broken(c, r, "reserve read buffer");
        do
                n = recv(c->fd, buf, len, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return broken(c, -errno, "read from daemon");
        if (n == 0)
                return broken(c, -ECONNRESET, NULL);
        sbp_reader_commit(&c->reader, (size_t)n);
        return 0;
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
                return broken(c, r, "decode");
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

static void enqueue(sb_client *c, struct client_note *n)
{
        n->next = NULL;
        if (c->q_tail)
                c->q_tail->next = n;
        else
                c->q_head = n;
        c->q_tail = n;
        c->q_len++;
}

/* Handle one notification: deliver to cb if given, else queue when `queue`.
 * Returns 1 if it was delivered or queued, 0 if ignored. */
static int handle_notification(sb_client *c, const struct sbp_message *m,
                               const struct sb_callbacks *cb, bool queue)
{
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
                if (!queue)
                        return 1;
                n = malloc(sizeof(*n) + o.len);
                if (!n)
                        return broken(c, -ENOMEM, "queue notification");
                memset(n, 0, sizeof(*n));
                memcpy(n->job, o.job, sizeof(n->job));
                n->stream = (enum sb_stream)o.stream;
                n->len = o.len;
                if (o.len)
                        memcpy(n->data, o.data, o.len);
                enqueue(c, n);
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
                        return 1;
                }
                if (!queue)
                        return 1;
                n = calloc(1, sizeof(*n));
                if (!n)
                        return broken(c, -ENOMEM, "queue notification");
                n->is_exit = true;
                n->result = res;
                enqueue(c, n);
                return 1;
        }
        /* A notification this client does not know: a newer daemon. */
        return 0;
}

int client_call(sb_client *c, uint32_t msgid, struct sbp_message *resp)
{
        const struct sb_callbacks *cb = client_callbacks(c, NULL);
        int r;

        if (c->broken || c->fd < 0)
                return client_fail(c, -ENOTCONN, "not connected");
        c->errmsg[0] = '\0';
        r = send_all(c, c->out.data, c->out.size);
        if (r < 0)
                return r;
        for (;;) {
                r = next_message(c, resp);
                if (r < 0)
                        return r;
                if (r == 0) {
                        r = fill(c);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (resp->type == SBP_NOTIFICATION) {
                        r = handle_notification(c, resp, cb, true);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (resp->type != SBP_RESPONSE || resp->msgid != msgid) {
                        c->broken = true;
                        return client_fail(c, -EPROTO, "unexpected %s from the daemon",
                                           resp->type == SBP_REQUEST ? "request" : "response id");
                }
                if (resp->error.type != MSGPACK_OBJECT_NIL) {
                        struct sbp_error err = { 0 };

                        r = sbp_error_decode(&resp->error, &err);
                        if (r < 0) {
                                c->broken = true;
                                return client_fail(c, -EPROTO, "malformed error reply from the daemon");
                        }
                        client_fail(c, 0, "%s: %s", sbp_error_name(err.code) ?: "Internal",
                                    err.message[0] ? err.message : sbp_error_text(err.code));
                        client_settle(c);
                        return sbp_error_to_errno(err.code);
                }
                return 0;
        }
}

void client_settle(sb_client *c)
{
        const struct sb_callbacks *cb = client_callbacks(c, NULL);
        struct sbp_message m;

        /* The last recv() may have brought notifications after the response;
         * a caller polling the fd would never see them, so take them now.
         * Errors mark the client broken; the next call reports them. */
        while (!c->broken && next_message(c, &m) > 0) {
                if (m.type != SBP_NOTIFICATION) {
                        c->broken = true;
                        client_fail(c, -EPROTO, "unexpected response from the daemon");
                        return;
                }
                if (handle_notification(c, &m, cb, true) < 0)
                        return;
        }
}

/* Deliver everything queued, in order. Returns how many. */
static int drain(sb_client *c, const struct sb_callbacks *cb)
{
        struct client_note *n;
        int count = 0;

        while ((n = c->q_head)) {
                c->q_head = n->next;
                if (!c->q_head)
                        c->q_tail = NULL;
                c->q_len--;
                deliver(cb, n, n->is_exit ? &n->result : NULL);
                free(n);
                count++;
        }
        return count;
}

/* Dispatch every complete message already buffered. */
static int dispatch_buffered(sb_client *c, const struct sb_callbacks *cb)
{
        struct sbp_message m;
        int count = 0, r;

        for (;;) {
                r = next_message(c, &m);
                if (r < 0)
                        return r;
                if (r == 0)
                        return count;
                if (m.type != SBP_NOTIFICATION) {
                        c->broken = true;
                        return client_fail(c, -EPROTO, "unexpected %s from the daemon",
                                           m.type == SBP_REQUEST ? "request" : "response");
                }
                r = handle_notification(c, &m, cb, false);
                if (r < 0)
                        return r;
                count += r;
        }
}

int sb_process(sb_client *c, int timeout_ms, const struct sb_callbacks *cb)
{
        struct pollfd pfd;
        int count, r;

        if (c->broken || c->fd < 0)
                return client_fail(c, -ENOTCONN, "not connected");
        cb = client_callbacks(c, cb);
        count = drain(c, cb);
        r = dispatch_buffered(c, cb);
        if (r < 0)
                return r;
        count += r;
        if (count > 0)
                return count;

        pfd = (struct pollfd){ .fd = c->fd, .events = POLLIN };
        r = poll(&pfd, 1, timeout_ms);
        if (r < 0) {
                r = -errno;
                return client_fail(c, r, "poll: %s", strerror(-r));
        }
        if (r == 0)
                return 0;
        r = fill(c);
        if (r < 0)
                return r;
        return dispatch_buffered(c, cb);
}

int client_pump_until_exit(sb_client *c, struct client_owned *o, const struct sb_callbacks *cb)
{
        char job[SBP_JOB_ID_MAX + 1];
        int r;

        /* o may move when the owned table changes; look it up by id each time. */
        memcpy(job, o->job, sizeof(job));
        for (;;) {
                /* Output queued earlier precedes the exit: hand it over first. */
                drain(c, client_callbacks(c, cb));
                o = client_owned_find(c, job);
                if (!o)
                        return client_fail(c, -ENOENT, "job %s forgotten", job);
                if (o->exited)
                        return 0;
                r = sb_process(c, -1, cb);
                if (r == -EINTR)
                        continue;
                if (r < 0)
                        return r;
        }
}
