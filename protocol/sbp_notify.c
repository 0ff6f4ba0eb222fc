/* sbp_notify.c — the daemon's notifications: job_output {job, stream, data}
 * and job_exit {job, result}. Packers emit the whole notification, envelope
 * included; decoders (client side, lenient) take the params map.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "protocol/sbp_internal.h"

static const struct sbp_field output_fields[] = {
        SBP_FIELD(struct sbp_job_output, job, SBP_F_JOB_ID, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_job_output, stream, SBP_F_STREAM, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_job_output, data, SBP_F_BIN, SBP_F_REQUIRED,
                  .max = SBP_DATA_MAX, .aux = offsetof(struct sbp_job_output, len)),
};
static const struct sbp_table output_table = SBP_TABLE(output_fields);
static const struct sbp_table *const output_tabs[] = { &output_table };

void sbp_job_output_pack(msgpack_packer *pk, const char *job, enum sbp_stream stream,
                         const void *data, size_t len)
{
        struct sbp_job_output o = { .stream = stream, .data = data, .len = len };

        strncpy(o.job, job, SBP_JOB_ID_MAX);
        sbp_pack_notification_begin(pk, "job_output");
        sbp_fields_pack(pk, output_tabs, 1, &o);
}

int sbp_job_output_decode(const msgpack_object *params, struct sbp_job_output *out)
{
        struct sbp_error err;

        memset(out, 0, sizeof(*out));
        if (sbp_fields_decode(params, output_tabs, 1, out, SBP_LENIENT, &err) < 0)
                return -EBADMSG;
        return 0;
}

/* {job, result}: the job id is sent twice (beside the record and inside it)
 * so that a client can route the notification without decoding the record;
 * the decoder insists that both agree. */
struct exit_params {
        char job[SBP_JOB_ID_MAX + 1];
        struct sbp_job_result result;
};
static const struct sbp_field exit_fields[] = {
        SBP_FIELD(struct exit_params, job, SBP_F_JOB_ID, SBP_F_REQUIRED),
        SBP_FIELD(struct exit_params, result, SBP_F_MAP, SBP_F_REQUIRED,
                  .sub = &sbp_job_result_table),
};
static const struct sbp_table exit_table = SBP_TABLE(exit_fields);
static const struct sbp_table *const exit_tabs[] = { &exit_table };

void sbp_job_exit_pack(msgpack_packer *pk, const struct sbp_job_result *r)
{
        struct exit_params p;

        memcpy(p.job, r->job, sizeof(p.job));
        p.job[SBP_JOB_ID_MAX] = '\0';
        p.result = *r;
        sbp_pack_notification_begin(pk, "job_exit");
        sbp_fields_pack(pk, exit_tabs, 1, &p);
}

int sbp_job_exit_decode(const msgpack_object *params, struct sbp_job_result *out)
{
        struct sbp_error err;
        struct exit_params p;
        int r;

        memset(&p, 0, sizeof(p));
        sbp_fields_init(exit_tabs, 1, &p);
        r = sbp_fields_decode(params, exit_tabs, 1, &p, SBP_LENIENT, &err);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (strcmp(p.job, p.result.job) != 0)
                return -EBADMSG;
        *out = p.result;
        return 0;
}
