/* fds.h — file descriptors received with requests (SCM_RIGHTS).
 *
 * libuv 1.44 cannot hand arbitrary received fds to us, so a connection is
 * read here: a uv_poll_t on a dup of the socket, recvmsg(MSG_CMSG_CLOEXEC)
 * straight into the sbp_reader's buffer. Writes still go through the
 * uv_pipe_t. Received fds are queued with the stream offset at which they
 * arrived and handed to the message that contains that offset's last byte
 * (a client sends a request and its fds with one sendmsg). Whatever the
 * message does not claim is closed after dispatch.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "protocol/sbp.h"

#define SBD_CONN_FDS_MAX 32u   /* fds queued on one connection, not yet dispatched */

struct sbd_conn;
struct sb_job_spec;
struct sb_job_mount;

struct sbd_fds {
        uv_poll_t poll;
        int sock;                           /* dup of the pipe's fd; -1 = none */
        bool poll_open;                     /* the poll handle exists (until its close cb) */
        bool pipe_closed;                   /* the pipe's close cb ran */
        uint64_t rx_total;                  /* bytes received on the connection */
        int pending[SBD_CONN_FDS_MAX];      /* received, not yet given to a message */
        uint64_t pending_at[SBD_CONN_FDS_MAX];  /* stream offset after their chunk */
        uint32_t npending;
        int msg[SBP_FDS_MAX];               /* the fds of the message being dispatched */
        uint32_t nmsg;
};

/* Start reading c (instead of uv_read_start). */
int sbd_fds_start(struct sbd_conn *c);
/* Request backpressure (conn.c): stop or restart reading c; a no-op once
 * the poll handle is closing. */
int sbd_fds_pause(struct sbd_conn *c, bool pause);
/* Stop reading and close the poll handle; the connection is freed once both
 * the pipe and the poll handle are closed. Idempotent. */
void sbd_fds_stop(struct sbd_conn *c);
/* The message that ended at stream offset end is about to be dispatched:
 * move the fds that arrived with it to c->fds.msg. -EPROTO (err set) if
 * it came with more than SBP_FDS_MAX. */
int sbd_fds_begin_message(struct sbd_conn *c, uint64_t end, struct sbp_error *err);
/* After dispatch: close what the message did not claim. */
void sbd_fds_end_message(struct sbd_conn *c);
/* exec: check the fds params refer to (InvalidArgument; Unsupported for
 * mounts when !mounts_ok). */
int sbd_fds_exec_check(struct sbd_conn *c, const struct sbp_exec_params *p, bool mounts_ok,
                       struct sbp_error *err);
/* Fill the spec's workdir_fd, owner and mounts (mounts: room for
 * SBP_MOUNTS_MAX). The fds stay owned by the message; the backend dups what
 * it keeps. */
void sbd_fds_exec_spec(struct sbd_conn *c, const struct sbp_exec_params *p,
                       struct sb_job_spec *spec, struct sb_job_mount *mounts);
