/* job_events.h — what the job layer tells the rest of the daemon.
 *
 * Jobs (job*.c) never pack or send a wire message: each thing a client is
 * to hear about a job is one call through this table, and the RPC layer
 * (rpc_jobs.c) turns it into a reply or a notification. main.c fills the
 * table once at start (d->job_events) and adds what is not the wire (the
 * drain). Every callback is set; each is called on the loop thread, with a
 * connection that is alive (it may be closing: the sink then drops the
 * message).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/sbp.h"

struct sbd_conn;
struct sbd_daemon;

struct sbd_job_events {
        /* exec was admitted and the job exists: answer msgid with its id.
         * Always before the job's first output and its exit. */
        void (*exec_reply)(struct sbd_conn *c, uint32_t msgid, const char *job_id);
        /* len bytes of the job's stream for its owner (len > 0). false if
         * they could not be queued (no memory): the output is then cut. */
        bool (*output)(struct sbd_conn *owner, const char *job_id, enum sbp_stream stream,
                       const char *data, size_t len);
        /* The job ended; its owner hears the result (after all its output). */
        void (*exit)(struct sbd_conn *owner, const struct sbp_job_result *res);
        /* A request waiting for the job's result (wait, kill) is answered. */
        void (*result)(struct sbd_conn *c, uint32_t msgid, const struct sbp_job_result *res);
        /* A request answered later (stdin_write) is done: err NULL for
         * success (nil), else the error. */
        void (*done)(struct sbd_conn *c, uint32_t msgid, const struct sbp_error *err);
        /* A job finished (not wire: the daemon may be draining). */
        void (*finished)(struct sbd_daemon *d);
};
