/* sandbox.c — libskillbox's persistent sandbox calls (skillbox.h):
 * sandbox_create, exec in a sandbox, sandbox_destroy, sandbox_list, and the
 * decoding of their replies (the blocking forms are in blocking.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"

#define COPY_STR(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

int sb_sandbox_create_async(sb_client *c, const struct sb_exec_options *opts, sb_reply_fn done,
                            void *userdata, sb_request **req)
{
        struct sbp_exec_params p;
        struct sb_request *q;
        msgpack_packer pk;
        uint32_t id;

        memset(&p, 0, sizeof(p));
        if (opts) {
                if (opts->profile && strlen(opts->profile) > SBP_NAME_MAX)
                        return client_fail(c, -EINVAL, "profile name longer than %u bytes",
                                           SBP_NAME_MAX);
                if (opts->profile)
                        COPY_STR(p.profile, opts->profile);
                p.memory_max = opts->memory_max;
                p.tasks_max = opts->tasks_max;
                p.cpu_percent = opts->cpu_percent;
                p.work_size_max = opts->work_size_max;
                p.work_inodes_max = opts->work_inodes_max;
        }
        q = client_req_new(c, CLIENT_REQ_SANDBOX_CREATE, done, userdata, NULL);
        if (!q)
                return -ENOMEM;
        id = client_begin(c, "sandbox_create", &pk);
        sbp_sandbox_create_params_pack(&pk, &p);
        return client_send(c, q, id, NULL, 0, req);
}

int sb_sandbox_exec_async(sb_client *c, const char *sandbox, const struct sb_exec_options *opts,
                          sb_reply_fn done, void *userdata, sb_request **req)
{
        int r = client_check_job(c, sandbox);

        if (r < 0)
                return r;
        return client_exec_request(c, opts, sandbox, done, userdata, req);
}

int sb_sandbox_destroy_async(sb_client *c, const char *sandbox, sb_reply_fn done,
                             void *userdata, sb_request **req)
{
        struct sb_request *q;
        msgpack_packer pk;
        uint32_t id;
        int r;

        r = client_check_job(c, sandbox);
        if (r < 0)
                return r;
        q = client_req_new(c, CLIENT_REQ_NIL, done, userdata, NULL);
        if (!q)
                return -ENOMEM;
        id = client_begin(c, "sandbox_destroy", &pk);
        sbp_sandbox_ref_pack(&pk, sandbox);
        return client_send(c, q, id, NULL, 0, req);
}

int sb_sandbox_list_async(sb_client *c, sb_reply_fn done, void *userdata, sb_request **req)
{
        struct sb_request *q;
        msgpack_packer pk;
        uint32_t id;

        q = client_req_new(c, CLIENT_REQ_SANDBOX_LIST, done, userdata, NULL);
        if (!q)
                return -ENOMEM;
        id = client_begin(c, "sandbox_list", &pk);
        sbp_empty_params_pack(&pk);
        return client_send(c, q, id, NULL, 0, req);
}

static int bad_reply(sb_client *c, struct sb_request *q, const char *method)
{
        c->broken = true;
        client_fail(c, -EPROTO, "malformed %s reply from the daemon", method);
        client_finish(c, q, -EPROTO, NULL);
        return -EPROTO;
}

static void info_from_sbp(struct sb_sandbox_info *out, const struct sbp_sandbox_info *in)
{
        memset(out, 0, sizeof(*out));
        COPY_STR(out->sandbox, in->sandbox);
        COPY_STR(out->state, in->state);
        COPY_STR(out->profile, in->profile);
        out->owner_uid = in->owner_uid;
        out->created_ms = in->created_ms;
        out->idle_ms = in->idle_ms;
        out->idle_timeout_ms = in->idle_timeout_ms;
        out->lifetime_max_ms = in->lifetime_max_ms;
        out->execs = in->execs;
        out->running = in->running;
        out->cpu_user_ms = in->cpu_user_ms;
        out->cpu_sys_ms = in->cpu_sys_ms;
        out->memory_peak = in->memory_peak;
        out->tasks_peak = in->tasks_peak;
        client_enforced_from_sbp(&out->enforced, &in->enforced);
}

int client_sandbox_complete(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        if (q->kind == CLIENT_REQ_SANDBOX_CREATE) {
                char id[SBP_JOB_ID_MAX + 1];

                memset(id, 0, sizeof(id));
                if (sbp_sandbox_ref_decode(res, id, false, NULL) < 0 || !id[0])
                        return bad_reply(c, q, "sandbox_create");
                client_finish(c, q, 0, &(struct sb_reply){ .sandbox = id });
                return 0;
        }
        /* sandbox_list: bounded by the daemon's caps (SandboxesPerClient=,
         * MaxJobs=), and by the message size limit here. */
        if (res->type != MSGPACK_OBJECT_ARRAY)
                return bad_reply(c, q, "sandbox_list");
        size_t n = res->via.array.size;
        struct sb_sandbox_info *list = calloc(n ? n : 1, sizeof(*list));
        if (!list) {
                client_finish(c, q, client_fail(c, -ENOMEM, "out of memory"), NULL);
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                struct sbp_sandbox_info si;

                if (sbp_sandbox_info_decode(&res->via.array.ptr[i], &si) < 0) {
                        free(list);
                        return bad_reply(c, q, "sandbox_list");
                }
                info_from_sbp(&list[i], &si);
        }
        client_finish(c, q, 0, &(struct sb_reply){ .sandboxes = list, .nsandboxes = n });
        return 0;
}
