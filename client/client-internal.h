/* client-internal.h — what the files of libskillbox share: the client object,
 * the request/response round trip, and sbp_ -> sb_ conversions.
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

        struct client_note *q_head, *q_tail;
        size_t q_len;

        struct client_owned *owned;
        size_t n_owned, cap_owned;

        /* fds sent (SCM_RIGHTS) with the next request's first bytes; the
         * caller keeps ownership. Cleared once sent. */
        const int *send_fds;
        size_t n_send_fds;
};

/* Set the error text; returns r (a negative errno) for `return client_fail(...)`. */
int client_fail(sb_client *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Start a request: clears c->out, packs the envelope up to the params map and
 * returns the packer (bound to c->out) and the msgid to wait for. */
uint32_t client_begin(sb_client *c, const char *method, msgpack_packer *pk);

/* Send c->out and wait for the response to msgid. Notifications read on the
 * way are dispatched or queued. On 0, resp->result is valid until the next
 * read from the client. An error reply returns its mapped errno and sets the
 * error text. */
int client_call(sb_client *c, uint32_t msgid, struct sbp_message *resp);

/* After a call's result has been consumed: dispatch or queue the complete
 * notifications that are still buffered, so that sb_fd()'s readiness and
 * sb_pending() tell the whole truth. */
void client_settle(sb_client *c);

/* Check a job id given by the caller. */
int client_check_job(sb_client *c, const char *job);

/* Record a job started on this connection. */
int client_own(sb_client *c, const char *job);
/* The owned entry for job, or NULL. */
struct client_owned *client_owned_find(sb_client *c, const char *job);
void client_owned_drop(sb_client *c, struct client_owned *o);

/* Read and dispatch until the owned job o has exited. */
int client_pump_until_exit(sb_client *c, struct client_owned *o, const struct sb_callbacks *cb);

/* The callbacks to use when the caller passed cb (may be NULL). */
const struct sb_callbacks *client_callbacks(sb_client *c, const struct sb_callbacks *cb);

/* Conversions from the protocol's structs. */
void client_enforced_from_sbp(struct sb_enforced *out, const struct sbp_enforced *in);
void client_result_from_sbp(struct sb_job_result *out, const struct sbp_job_result *in);
int client_info_from_sbp(struct sb_job_info *out, const struct sbp_job_info *in);
