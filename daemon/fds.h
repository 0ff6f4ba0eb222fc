/* fds.h — the handles that come with requests, and which request gets them.
 *
 * The transport reads the connection (transport.h); what it receives is
 * queued here with the stream offset at which it arrived and handed to the
 * message that contains that offset's last byte (a client sends a request
 * and its fds with one sendmsg). Whatever the message does not claim is
 * closed after dispatch.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/transport/transport.h"
#include "protocol/sbp.h"

#define SBD_CONN_FDS_MAX 32u   /* handles queued on one connection, not yet dispatched */

struct sbd_conn;
struct sb_job_spec;
struct sb_job_mount;

struct sbd_fds {
        uint64_t rx_total;                  /* bytes received on the connection */
        struct sbd_handle pending[SBD_CONN_FDS_MAX];  /* received, not yet given to a message */
        uint64_t pending_at[SBD_CONN_FDS_MAX];  /* stream offset after their chunk */
        uint32_t npending;
        struct sbd_handle msg[SBP_FDS_MAX]; /* the handles of the message being dispatched */
        uint32_t nmsg;
};

/* n bytes arrived with these nh handles: queue them, owned by c, at the
 * stream offset after those bytes (rx_total is not advanced here). false
 * when the queue overflowed SBD_CONN_FDS_MAX: what did not fit is closed. */
bool sbd_fds_received(struct sbd_conn *c, size_t n, struct sbd_handle *h, uint32_t nh);
/* Close every handle c still holds (the connection goes). */
void sbd_fds_release(struct sbd_conn *c);
/* The message that ended at stream offset end is about to be dispatched:
 * move the handles that arrived with it to c->fds.msg. -EPROTO (err set)
 * if it came with more than SBP_FDS_MAX. */
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
