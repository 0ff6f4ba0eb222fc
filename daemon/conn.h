/* conn.h — one client connection: framing in, responses and notifications
 * out, and what the connection owns (waiters, pending stdin writes).
 */
#pragma once

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "daemon/daemon.h"
#include "daemon/fds.h"
#include "daemon/msgids.h"
#include "daemon/transport/transport.h"
#include "protocol/sbp.h"

/* One outgoing message: a buffer and the write request that sends it. Freed
 * in the write callback. */
struct sbd_out {
        uv_write_t req;
        msgpack_sbuffer sbuf;
        msgpack_packer pk;
};

struct sbd_conn {
        struct sbd_list node;        /* in daemon->conns */
        struct sbd_daemon *d;
        uv_pipe_t pipe;              /* the connection; replies are written here */
        bool pipe_closed;            /* its close callback ran */
        uint64_t id;
        /* The peer at accept (sbd_transport_peer), as access.c admitted it. */
        uid_t uid;
        gid_t gid;
        pid_t pid;
        bool admin;                  /* role admin: sees and kills every job */
        /* The peer's groups at accept (primary first), for AllowedUsers=
         * @group; capped, which can only deny, never grant. */
        gid_t groups[SBD_PEER_GROUPS_MAX];
        uint32_t ngroups;

        struct sbp_reader reader;
        bool reader_ready;
        struct sbd_rx rx;            /* reading: bytes and handles (transport.h) */
        struct sbd_fds fds;          /* the handles received, by message (fds.c) */
        struct sbd_msgids inflight;  /* msgids of the requests not answered yet */

        /* Over a connection cap (server.c): its first request is answered
         * with refusal, then it is closed; it counts in no cap meanwhile. */
        bool refused;
        struct sbp_error refusal;

        bool closing;                /* no more reads, no more replies */
        bool shutting_down;          /* uv_shutdown() in flight */
        uv_shutdown_t shutdown_req;
        bool paused;                 /* backpressure: owned jobs' pipes stopped */
        bool reading_paused;         /* backpressure: no requests read or dispatched */
        bool stdin_paused;           /* a job it writes to holds StdinQueueMax= (job_stdin.c) */
        size_t out_bytes;            /* memory held by queued messages (out_cost) */

        struct sbd_list waiters;     /* struct sbd_waiter (wait, kill) */
        struct sbd_list stdin_reqs;  /* struct sbd_stdin_req in flight */
};

/* Watermarks on out_bytes, the memory the connection's queued messages hold
 * (struct and buffer, so many tiny replies count for what they cost).
 * Output backpressure: past HIGH the owned jobs' pipes stop, below LOW they
 * resume. Request backpressure: past WRITE_QUEUE_MAX no further request is
 * read or dispatched until the queue is below WRITE_QUEUE_LOW. The check
 * comes before each request, so one reply of any size still goes out; and
 * MAX lies well above HIGH plus one output chunk, so job output alone never
 * stops a client's requests (a client blocked sending stdin_write while its
 * job's output waits could not get unstuck). */
#define SBD_CONN_HIGH_WATER (1u << 20)
#define SBD_CONN_LOW_WATER  (256u << 10)
#define SBD_CONN_WRITE_QUEUE_MAX (4u << 20)
#define SBD_CONN_WRITE_QUEUE_LOW (1u << 20)

/* A new connection object with its pipe initialized (ready for uv_accept),
 * linked into d->conns. NULL on allocation failure. */
struct sbd_conn *sbd_conn_new(struct sbd_daemon *d);
/* Accepted and authorized (uid, gid, pid, admin set): start reading. */
int sbd_conn_start(struct sbd_conn *c);
/* Over a connection cap: c stops counting as open, and its first request
 * is answered with err (with that request's msgid), then c is closed.
 * Before sbd_conn_start. */
void sbd_conn_refuse(struct sbd_conn *c, const struct sbp_error *err);

/* Requests of one connection in flight at once (a wait each holds a
 * waiter until its job ends); past it, ResourceExhausted. */
#define SBD_CONN_INFLIGHT_MAX 4096u

/* Refused connections held at once, each waiting for its first request;
 * past it, a refused peer is closed unanswered. Their reader takes at most
 * SBD_CONN_REFUSED_MESSAGE_MAX bytes. */
#define SBD_CONNS_REFUSED_MAX 16u
#define SBD_CONN_REFUSED_MESSAGE_MAX (64u << 10)

struct sbd_out *sbd_out_new(void);
/* A success response to msgid begun: pack exactly one result object into
 * it, then sbd_conn_send. NULL on no memory. */
struct sbd_out *sbd_out_response(uint32_t msgid);
void sbd_out_free(struct sbd_out *o);
/* Queue o on c; takes ownership (frees it if c is closing). */
void sbd_conn_send(struct sbd_conn *c, struct sbd_out *o);

/* Send o now with fd attached (SCM_RIGHTS on its first bytes); o is then
 * c's (as with sbd_conn_send) and fd stays the caller's to close. -EAGAIN
 * (o still the caller's): not now, as earlier output is still queued or the
 * peer's socket is full; another negative errno: the socket failed. */
int sbd_conn_send_fd(struct sbd_conn *c, struct sbd_out *o, int fd);

/* The jobs c writes stdin to drained their queues: read requests again. */
void sbd_conn_stdin_resume(struct sbd_conn *c);

void sbd_conn_reply_error(struct sbd_conn *c, uint32_t msgid, const struct sbp_error *err);
void sbd_conn_reply_nil(struct sbd_conn *c, uint32_t msgid);

/* Stop serving c. flush: send what is queued first (uv_shutdown), else drop
 * it. Kills its non-detached jobs and drops its waiters. Idempotent. */
void sbd_conn_close(struct sbd_conn *c, bool flush);
/* Close even if a flushing close is still waiting on the peer (drain end). */
void sbd_conn_force_close(struct sbd_conn *c);
