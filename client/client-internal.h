/* client-internal.h — what the files of libskillbox share: the client object,
 * requests in flight, the send queue, and sbp_ -> sb_ conversions.
 *
 * Nothing here is exported: the version script exports sb_* only, and these
 * names carry the client_ prefix.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/skillbox.h"
#include "client/transport.h"
#include "protocol/sbp.h"

/* A notification read while no one was there to take it. */
struct client_note {
        struct client_note *next;
        bool is_exit;
        struct sb_job_result result;      /* is_exit */
        char job[SBP_JOB_ID_MAX + 1];     /* job_output */
        enum sb_stream stream;
        size_t len;
        uint8_t data[];
};

/* A job started on this connection: its job_exit will come here. */
struct client_owned {
        char job[SBP_JOB_ID_MAX + 1];
        bool exited;
        struct sb_job_result result;
};

/* Bytes waiting to be sent: one packed request, and the fds (our dups,
 * closed once sent) that travel with its first byte. */
struct client_out {
        struct client_out *next;
        size_t len, off;
        int fds[SBP_FDS_MAX];
        size_t nfds;
        char data[];
};

enum client_req_kind {
        CLIENT_REQ_HELLO,
        CLIENT_REQ_EXEC,
        CLIENT_REQ_WAIT,
        CLIENT_REQ_NIL,           /* kill, stdin_close: nothing in the reply */
        CLIENT_REQ_STDIN_WRITE,
        CLIENT_REQ_INSPECT,
        CLIENT_REQ_LIST,
        CLIENT_REQ_STATS,
        CLIENT_REQ_PROFILES,
        CLIENT_REQ_CONNECT,       /* job_connect: its fd comes with the reply */
        CLIENT_REQ_SANDBOX_CREATE,
        CLIENT_REQ_SANDBOX_LIST,
        CLIENT_REQ_WORK_FD,       /* the fd came with the reply's bytes (rx_fds) */
};

/* One request sent (or queued) and not yet completed. It sits in c->reqs
 * until its reply, or in c->exit_waits when it is a wait whose reply came
 * before its own job's job_exit. */
struct sb_request {
        struct sb_request *next;
        uint32_t msgid;
        enum client_req_kind kind;
        sb_reply_fn done;
        void *userdata;
        bool cancelled;           /* the callback is never called */
        bool completing;          /* unlinked, its callback running */
        char job[SBP_JOB_ID_MAX + 1];
        size_t stdin_len;         /* stdin_write: bytes not yet taken */
        struct sb_job_info *list; /* list: the pages so far */
        size_t nlist;
        uint64_t after;           /* list: cursor of the next page */
};

#define CLIENT_RX_FDS_MAX CLIENT_TRANSPORT_FDS_MAX

struct sb_client {
        int fd;                           /* -1 when not connected */
        bool broken;                      /* stream out of sync: refuse further calls */
        bool reader_ok;
        uint32_t next_msgid;
        struct sbp_reader reader;
        msgpack_sbuffer out;              /* the request being built */
        char errmsg[512];

        bool have_cb;
        struct sb_callbacks cb;           /* sb_set_callbacks() */

        /* Where notifications go while messages are dispatched: set by the
         * entry point (sb_process, a blocking call), restored on return. */
        const struct sb_callbacks *note_cb;
        bool note_queue;                  /* no note_cb: queue (true) or drop */

        struct client_note *q_head, *q_tail;
        size_t q_len;

        struct client_out *out_head, *out_tail;
        size_t out_bytes;                 /* bound: SB_SEND_QUEUE_MAX */

        struct sb_request *reqs;          /* in flight, newest first */
        struct sb_request *exit_waits;    /* waits held until their job_exit */

        struct client_owned *owned;
        size_t n_owned, cap_owned;

        /* fds received with responses, oldest first: only job_connect's
         * and work_fd's carry one, and each of their replies takes the
         * oldest; more than CLIENT_RX_FDS_MAX at once are closed. */
        int rx_fds[CLIENT_RX_FDS_MAX];
        size_t n_rx_fds;
};

/* Set the error text; returns r (a negative errno) for `return client_fail(...)`. */
int client_fail(sb_client *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Mark the stream unusable and set the error text. */
int client_broken(sb_client *c, int r, const char *what);

/* Start a request: clears c->out, packs the envelope up to the params map and
 * returns the packer (bound to c->out) and the msgid. */
uint32_t client_begin(sb_client *c, const char *method, msgpack_packer *pk);

/* Queue c->out (with dups of fds, if any) and send what the socket takes
 * now. -EAGAIN when the send queue is full (nothing queued). */
int client_enqueue(sb_client *c, const int *fds, size_t nfds);

/* A new request of `kind` to be completed by done. The caller packs and
 * queues it with client_send(); on failure it is freed. */
struct sb_request *client_req_new(sb_client *c, enum client_req_kind kind, sb_reply_fn done,
                                  void *userdata, const char *job);
/* Queue c->out for req (msgid from client_begin) and put req in flight;
 * on failure req is freed and the error returned. */
int client_send(sb_client *c, struct sb_request *req, uint32_t msgid, const int *fds, size_t nfds,
                sb_request **req_out);
void client_req_free(struct sb_request *req);

/* Complete req from its response m (methods in calls.c). Called with req
 * unlinked; may put it back in flight (a further list page, a wait held for
 * its job_exit) and then returns 1; else 0 after its callback ran, or a
 * negative errno when the reply was malformed (stream broken; the callback
 * ran with that error). */
int client_complete(sb_client *c, struct sb_request *req, const struct sbp_message *m);
/* The oldest fd received with a response, or -1. */
int client_rx_fd_take(sb_client *c);
/* sandbox.c: the replies of sandbox_create and sandbox_list. */
int client_sandbox_complete(sb_client *c, struct sb_request *req, const msgpack_object *res);
/* exec, in sandbox (NULL: a job of its own). */
int client_exec_request(sb_client *c, const struct sb_exec_options *opts, const char *sandbox,
                        sb_reply_fn done, void *userdata, sb_request **req);

/* Call req's callback (unless cancelled) and free it. */
void client_finish(sb_client *c, struct sb_request *req, int error, const struct sb_reply *reply);

/* Run the connection until *done (set by a completion callback). Notifications
 * go to cb (NULL: the sb_set_callbacks() ones, else queue or drop). */
int client_run_until(sb_client *c, const bool *done, const struct sb_callbacks *cb, bool queue);

/* One blocking round of the connection (send, poll, read, dispatch). */
int client_step(sb_client *c, const struct sb_callbacks *cb, bool queue);

/* A wait for an owned job whose job_exit was not yet delivered: hold q
 * until it is (1), or 0: complete it now from the owned entry. */
int client_hold_wait(sb_client *c, struct sb_request *q);

/* Bytes of stdin_write in flight for job. */
size_t client_stdin_inflight(sb_client *c, const char *job);

/* Check a job id given by the caller. */
int client_check_job(sb_client *c, const char *job);

/* Record a job started on this connection. */
int client_own(sb_client *c, const char *job);
/* The owned entry for job, or NULL. */
struct client_owned *client_owned_find(sb_client *c, const char *job);
void client_owned_drop(sb_client *c, struct client_owned *o);

/* The callbacks to use when the caller passed cb (may be NULL). */
const struct sb_callbacks *client_callbacks(sb_client *c, const struct sb_callbacks *cb);

/* Deliver the queued notifications to cb (dropped if NULL). Returns how many. */
int client_drain(sb_client *c, const struct sb_callbacks *cb);

/* Conversions from the protocol's structs. */
void client_enforced_from_sbp(struct sb_enforced *out, const struct sbp_enforced *in);
void client_result_from_sbp(struct sb_job_result *out, const struct sbp_job_result *in);
int client_info_from_sbp(struct sb_job_info *out, const struct sbp_job_info *in);
