/* rpc_jobs.c — job events (job_events.h) as wire messages: the exec reply,
 * job_output and job_exit notifications, and the late answers to wait,
 * kill and stdin_write.
 *
 * The only place that packs what a job has to say. Each message is queued
 * on its connection with sbd_conn_send (conn.c), in the order the job layer
 * emits them, which is the order the protocol promises: exec reply, then
 * every job_output, then job_exit. A message that cannot be allocated is
 * dropped: for output the job marks its result truncated; an answer lost
 * that way leaves the client waiting, as a connection out of memory would.
 */
#include "daemon/conn.h"
#include "daemon/rpc_jobs.h"

static void exec_reply(struct sbd_conn *c, uint32_t msgid, const char *job_id)
{
        struct sbd_out *o = sbd_out_response(msgid);

        if (!o)
                return;
        sbp_exec_result_pack(&o->pk, job_id);
        sbd_conn_send(c, o);
}

static bool output(struct sbd_conn *owner, const char *job_id, enum sbp_stream stream,
                   const char *data, size_t len)
{
        struct sbd_out *o;

        if (owner->closing)
                return true;    /* nobody to tell: counted, not truncated */
        o = sbd_out_new();
        if (!o)
                return false;
        sbp_job_output_pack(&o->pk, job_id, stream, data, len);
        /* May pause the job's pipes (backpressure); fine in their read cb. */
        sbd_conn_send(owner, o);
        return true;
}

static void job_exit(struct sbd_conn *owner, const struct sbp_job_result *res)
{
        struct sbd_out *o;

        if (owner->closing)
                return;
        o = sbd_out_new();
        if (!o)
                return;
        sbp_job_exit_pack(&o->pk, res);
        sbd_conn_send(owner, o);
}

static void result(struct sbd_conn *c, uint32_t msgid, const struct sbp_job_result *res)
{
        struct sbd_out *o = sbd_out_response(msgid);

        if (!o)
                return;
        sbp_job_result_pack(&o->pk, res);
        sbd_conn_send(c, o);
}

static void done(struct sbd_conn *c, uint32_t msgid, const struct sbp_error *err)
{
        if (err)
                sbd_conn_reply_error(c, msgid, err);
        else
                sbd_conn_reply_nil(c, msgid);
}

const struct sbd_job_events sbd_rpc_job_events = {
        .exec_reply = exec_reply,
        .output = output,
        .exit = job_exit,
        .result = result,
        .done = done,
        .finished = NULL,
};
