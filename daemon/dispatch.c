/* dispatch.c — the method table and the handlers of every RPC.
 *
 * The table is generated from SBP_METHODS, so a method added to the protocol
 * fails to link here until it has a handler. A handler either replies itself
 * (now or later) and returns 0, or returns <0 with err filled and the
 * dispatcher sends the error. Errors become wire codes here, at the edge.
 * Visibility: a client sees only its own jobs; another user's job is
 * NotFound. An admin (root, or [Access] Admins=) sees all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon/access.h"
#include "daemon/admit.h"
#include "daemon/dispatch.h"
#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/profile.h"
#include "daemon/rpc_publish.h"
#include "daemon/sandbox.h"
#include "daemon/settings.h"
#include "daemon/work_keep.h"

typedef int (*handler_fn)(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                          struct sbp_error *err);

#define DECLARE_HANDLER(name)                                                        \
        static int handle_##name(struct sbd_conn *c, uint32_t msgid,                \
                                 const msgpack_object *params, struct sbp_error *err);
SBP_METHODS(DECLARE_HANDLER)
#undef DECLARE_HANDLER

/* In SBP_METHODS order, the order of sbp_method_find()'s indexes. */
static const struct {
        const char *name;
        handler_fn fn;
} methods[] = {
#define METHOD_ENTRY(name) { #name, handle_##name },
        SBP_METHODS(METHOD_ENTRY)
#undef METHOD_ENTRY
};

void sbd_dispatch(struct sbd_conn *c, const struct sbp_message *m)
{
        struct sbp_error err;
        size_t i;
        int r;

        memset(&err, 0, sizeof(err));
        /* The name is the peer's bytes: only sbp_method_find's printable
         * rendering of an unknown one is logged and sent back. */
        r = sbp_method_find(m->method, m->method_len, &err);
        if (r < 0) {
                log_debug("connection %" PRIu64 ": msgid %u: %s", c->id, m->msgid, err.message);
                sbd_conn_reply_error(c, m->msgid, &err);
                return;
        }
        i = (size_t)r;
        log_debug("connection %" PRIu64 ": msgid %u: %s", c->id, m->msgid, methods[i].name);
        r = methods[i].fn(c, m->msgid, &m->params, &err);
        if (r < 0) {
                if (err.code == SBP_OK)
                        sbp_error_set(&err, SBP_E_INTERNAL, "%s", sbd_errno_name(r));
                log_debug("connection %" PRIu64 ": msgid %u: %s: %s", c->id, m->msgid,
                          sbp_error_name(err.code), err.message);
                sbd_conn_reply_error(c, m->msgid, &err);
        }
}

/* Start a success response; the caller packs exactly one result object. */
static struct sbd_out *reply_begin(uint32_t msgid, struct sbp_error *err)
{
        struct sbd_out *o = sbd_out_response(msgid);

        if (!o)
                sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        return o;
}

static int handle_hello(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                        struct sbp_error *err)
{
        struct sbp_hello_params p;
        struct sbp_hello_result res;
        struct sbd_out *o;
        int r;

        memset(&p, 0, sizeof(p));
        r = sbp_hello_params_decode(params, &p, err);
        if (r < 0)
                return r;
        if (p.protocol != 0 && p.protocol != SBP_PROTOCOL_VERSION)
                return sbp_error_set(err, SBP_E_UNSUPPORTED,
                                     "protocol %u not supported (this daemon speaks %u)",
                                     p.protocol, SBP_PROTOCOL_VERSION);
        memset(&res, 0, sizeof(res));
        snprintf(res.server, sizeof(res.server), "skillboxd");
        snprintf(res.version, sizeof(res.version), "%s", SKILLBOX_VERSION);
        res.protocol = SBP_PROTOCOL_VERSION;
        res.uid = (uint32_t)c->uid;
        snprintf(res.role, sizeof(res.role), "%s", c->admin ? "admin" : "client");
        res.host.uid = -1;
        res.host.gid = -1;
        c->d->ops->host_caps(c->d->backend, &res.host);
        res.sandboxes = c->d->caps.sandboxes && c->d->ops->sandbox_create;
        res.tty = c->d->caps.tty;
        res.network_modes = c->d->caps.network_modes;
        /* An allowlist job reaches nothing without the proxy (none found
         * at start, or a backend with no way to hand it a listener). */
        if (!c->d->egress || !c->d->ops->egress_listener)
                res.network_modes &= ~(uint32_t)SBP_NETWORK_MODE_ALLOWLIST;
        sb_backend_guarantees(&c->d->caps, true, &res.host);
        if (p.client[0])
                log_debug("connection %" PRIu64 ": client \"%s\"", c->id, p.client);
        o = reply_begin(msgid, err);
        if (!o)
                return -ENOMEM;
        sbp_hello_result_pack(&o->pk, &res);
        sbd_conn_send(c, o);
        return 0;
}

static int handle_exec(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                       struct sbp_error *err)
{
        struct sbp_exec_params p;
        struct sbd_admission a;
        int r;

        memset(&p, 0, sizeof(p));
        r = sbp_exec_params_decode(params, &p, err);
        if (r < 0)
                return r;
        /* Every check (admit.h; in a sandbox: sandbox.h), then the job
         * answers through its events (rpc_jobs.c): its id, or the error of
         * its creation. */
        memset(&a, 0, sizeof(a));
        if (p.sandbox[0]) {
                struct sbd_sandbox *s = sbd_sandbox_lookup(c->d, c, p.sandbox);

                r = s ? sbd_sandbox_admit(c, s, &p, &a, err)
                      : sbp_error_set(err, SBP_E_NOT_FOUND, "no sandbox %s", p.sandbox);
        } else {
                r = sbd_admit_exec(c, &p, &a, err);
        }
        if (r == 0)
                r = sbd_job_exec(c, msgid, &p, &a, err);
        sbd_admission_clear(&a);
        sbp_exec_params_free(&p);
        return r;
}

/* Decode {job} (or {job, data}) and find the job as c may see it. */
static int job_from_params(struct sbd_conn *c, const msgpack_object *params, bool want_data,
                           struct sbp_job_params *p, struct sbd_job **out,
                           struct sbp_error *err)
{
        int r;

        memset(p, 0, sizeof(*p));
        r = sbp_job_params_decode(params, want_data, p, err);
        if (r < 0)
                return r;
        *out = sbd_job_lookup(c->d, c, p->job);
        if (!*out)
                return sbp_error_set(err, SBP_E_NOT_FOUND, "no job %s", p->job);
        return 0;
}

/* The methods that act on one job ({job} or {job, data}): handle_<name>
 * finds the job, then <name>_job does the work with it. */
#define JOB_HANDLER(name, want_data)                                                  \
        static int handle_##name(struct sbd_conn *c, uint32_t msgid,                  \
                                 const msgpack_object *params, struct sbp_error *err) \
        {                                                                             \
                struct sbp_job_params p;                                              \
                struct sbd_job *j;                                                    \
                int r;                                                                \
                                                                                      \
                r = job_from_params(c, params, want_data, &p, &j, err);               \
                if (r < 0)                                                            \
                        return r;                                                     \
                return name##_job(c, msgid, &p, j, err);                              \
        }

static int wait_job(struct sbd_conn *c, uint32_t msgid, const struct sbp_job_params *p,
                    struct sbd_job *j, struct sbp_error *err)
{
        (void)p;
        (void)err;
        sbd_job_add_waiter(j, c, msgid);
        return 0;
}
JOB_HANDLER(wait, false)

/* kill answers with the final result once the whole job is gone (at once if
 * it had already ended), so "killed" is never reported while a process of
 * the job still runs. */
static int kill_job(struct sbd_conn *c, uint32_t msgid, const struct sbp_job_params *p,
                    struct sbd_job *j, struct sbp_error *err)
{
        (void)p;
        (void)err;
        if (!j->finished)
                log_info("job %s: kill requested by uid %u", j->id, (unsigned)c->uid);
        sbd_job_kill(j, SBD_KILL_REQUEST);
        sbd_job_add_waiter(j, c, msgid);
        return 0;
}
JOB_HANDLER(kill, false)

static bool list_shows(const struct sbd_conn *c, const struct sbd_job *j, uint64_t after)
{
        return j->seq > after && (c->admin || j->owner_uid == (uint32_t)c->uid);
}

/* One page: at most p.limit (<= SBP_LIST_MAX) jobs after the cursor, so the
 * answer stays far below SBP_MESSAGE_MAX (argv is cut to 4 KiB per job). */
static int handle_list(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                       struct sbp_error *err)
{
        struct sbp_list_params p;
        struct sbd_list *pos, *tmp;
        struct sbd_out *o;
        uint32_t n = 0, k = 0;
        int r;

        r = sbp_list_params_decode(params, &p, err);
        if (r < 0)
                return r;
        sbd_list_for_each_safe(pos, tmp, &c->d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);

                if (n < p.limit && list_shows(c, j, p.after))
                        n++;
        }
        o = reply_begin(msgid, err);
        if (!o)
                return -ENOMEM;
        msgpack_pack_array(&o->pk, n);
        /* d->jobs is in start order, so seq increases along it. */
        sbd_list_for_each_safe(pos, tmp, &c->d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);
                struct sbp_job_info info;

                if (k == n)
                        break;
                if (!list_shows(c, j, p.after))
                        continue;
                sbd_job_fill_info(j, &info);
                sbp_job_info_pack(&o->pk, &info);
                k++;
        }
        sbd_conn_send(c, o);
        return 0;
}

static int inspect_job(struct sbd_conn *c, uint32_t msgid, const struct sbp_job_params *p,
                       struct sbd_job *j, struct sbp_error *err)
{
        struct sbp_job_info info;
        struct sbd_out *o;

        (void)p;
        o = reply_begin(msgid, err);
        if (!o)
                return -ENOMEM;
        sbd_job_fill_info(j, &info);
        sbp_job_info_pack(&o->pk, &info);
        sbd_conn_send(c, o);
        return 0;
}
/* inspect of a sandbox id: its sandbox_list entry. */
static int handle_inspect(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                          struct sbp_error *err)
{
        struct sbp_job_params p;
        struct sbd_sandbox *s;
        struct sbd_job *j;
        struct sbd_out *o;
        int r;

        memset(&p, 0, sizeof(p));
        r = sbp_job_params_decode(params, false, &p, err);
        if (r < 0)
                return r;
        s = sbd_sandbox_lookup(c->d, c, p.job);
        if (!s) {
                j = sbd_job_lookup(c->d, c, p.job);
                if (!j)
                        return sbp_error_set(err, SBP_E_NOT_FOUND, "no job %s", p.job);
                return inspect_job(c, msgid, &p, j, err);
        }
        struct sbp_sandbox_info info;
        o = reply_begin(msgid, err);
        if (!o)
                return -ENOMEM;
        sbd_sandbox_fill_info(s, &info);
        sbp_sandbox_info_pack(&o->pk, &info);
        sbd_conn_send(c, o);
        return 0;
}

static int work_fd_job(struct sbd_conn *c, uint32_t msgid, const struct sbp_job_params *p,
                       struct sbd_job *j, struct sbp_error *err)
{
        (void)p;
        return sbd_work_keep_reply(c, msgid, j, err);
}
JOB_HANDLER(work_fd, false)

static int stdin_write_job(struct sbd_conn *c, uint32_t msgid, const struct sbp_job_params *p,
                           struct sbd_job *j, struct sbp_error *err)
{
        /* Answered from the write callback: the client's backpressure. */
        return sbd_job_stdin_write(j, c, msgid, p->data, p->data_len, err);
}
JOB_HANDLER(stdin_write, true)

static int stdin_close_job(struct sbd_conn *c, uint32_t msgid, const struct sbp_job_params *p,
                           struct sbd_job *j, struct sbp_error *err)
{
        int r;

        (void)p;
        r = sbd_job_stdin_close(j, err);
        if (r < 0)
                return r;
        sbd_conn_reply_nil(c, msgid);
        return 0;
}
JOB_HANDLER(stdin_close, false)

/* resize: {job, rows, cols}, the owner's (or an admin's) tty job. */
static int handle_resize(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                         struct sbp_error *err)
{
        struct sbp_resize_params p;
        struct sbd_job *j;
        int r;

        r = sbp_resize_params_decode(params, &p, err);
        if (r < 0)
                return r;
        j = sbd_job_lookup(c->d, c, p.job);
        if (!j)
                return sbp_error_set(err, SBP_E_NOT_FOUND, "no job %s", p.job);
        r = sbd_job_tty_resize(j, p.rows, p.cols, err);
        if (r < 0)
                return r;
        sbd_conn_reply_nil(c, msgid);
        return 0;
}

/* Resident memory of the daemon, from /proc/self/statm (pages). */
static uint64_t memory_rss(void)
{
        unsigned long long size = 0, resident = 0;
        long page = sysconf(_SC_PAGESIZE);
        FILE *f = fopen("/proc/self/statm", "re");

        if (!f)
                return 0;
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
                resident = 0;
        fclose(f);
        return (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
}

static int handle_stats(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                        struct sbp_error *err)
{
        struct sbd_daemon *d = c->d;
        struct sbp_stats_result s;
        struct sbd_out *o;
        int r;

        r = sbp_empty_params_decode(params, err);
        if (r < 0)
                return r;
        memset(&s, 0, sizeof(s));
        s.uptime_ms = uv_now(d->loop) - d->started_ms;
        s.connections = d->conns_open;
        s.jobs_running = d->jobs_running;
        s.jobs_started = d->jobs_started;
        s.jobs_failed = d->jobs_failed;
        s.jobs_retained = d->jobs_retained;
        s.memory_rss = memory_rss();
        o = reply_begin(msgid, err);
        if (!o)
                return -ENOMEM;
        sbp_stats_result_pack(&o->pk, &s);
        sbd_conn_send(c, o);
        return 0;
}

static bool profile_visible(const struct sbd_conn *c, const struct sbd_conf_profile *cp)
{
        return sbd_access_profile_allowed(sbd_settings_access(c->d), sbd_settings_conf(c->d), c,
                                          cp);
}

static int handle_profiles(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                           struct sbp_error *err)
{
        const struct sbd_conf *conf = sbd_settings_conf(c->d);
        const struct sbd_conf_profile *p = conf->profiles;
        size_t n = conf->n_profiles, i, k;
        struct sbd_out *o;
        int r;

        r = sbp_empty_params_decode(params, err);
        if (r < 0)
                return r;
        /* A client is shown the profiles it may use; an admin all. */
        for (i = 0, k = 0; i < n; i++)
                if (profile_visible(c, &p[i]))
                        k++;
        o = reply_begin(msgid, err);
        if (!o)
                return -ENOMEM;
        msgpack_pack_array(&o->pk, k);
        for (i = 0; i < n; i++)
                if (profile_visible(c, &p[i]))
                        sbp_profile_pack(&o->pk, &p[i].p);
        sbd_conn_send(c, o);
        return 0;
}

static int handle_job_connect(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                              struct sbp_error *err)
{
        return sbd_rpc_job_connect(c, msgid, params, err);
}

/* ---- persistent sandboxes (sandbox.h) ---- */

static int handle_sandbox_create(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                                 struct sbp_error *err)
{
        struct sbp_exec_params p;
        char id[SBP_JOB_ID_MAX + 1];
        struct sbd_out *o;
        int r;

        r = sbp_sandbox_create_params_decode(params, &p, err);
        if (r == 0)
                r = sbd_sandbox_create(c, &p, id, err);
        sbp_exec_params_free(&p);
        if (r < 0)
                return r;
        o = reply_begin(msgid, err);
        if (!o)
                return -ENOMEM;
        sbp_sandbox_ref_pack(&o->pk, id);
        sbd_conn_send(c, o);
        return 0;
}

static int handle_sandbox_destroy(struct sbd_conn *c, uint32_t msgid,
                                  const msgpack_object *params, struct sbp_error *err)
{
        char id[SBP_JOB_ID_MAX + 1];
        struct sbd_sandbox *s;
        int r;

        r = sbp_sandbox_ref_decode(params, id, true, err);
        if (r < 0)
                return r;
        s = sbd_sandbox_lookup(c->d, c, id);
        if (!s)
                return sbp_error_set(err, SBP_E_NOT_FOUND, "no sandbox %s", id);
        log_info("sandbox %s: destroy requested by uid %u", id, (unsigned)c->uid);
        /* Answered once nothing of it runs any more. */
        sbd_sandbox_destroy(s, "destroyed", c, msgid);
        return 0;
}

/* The sandboxes c may see: its own (at most SandboxesPerClient=), or all
 * for an admin (each holds a job uid: at most MaxJobs=). */
static int handle_sandbox_list(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                               struct sbp_error *err)
{
        struct sbd_list *pos, *tmp;
        struct sbd_out *o;
        uint32_t n = 0;
        int r;

        r = sbp_empty_params_decode(params, err);
        if (r < 0)
                return r;
        sbd_list_for_each_safe(pos, tmp, &c->d->sandboxes) {
                struct sbd_sandbox *s = sbd_container_of(pos, struct sbd_sandbox, node);

                n += c->admin || s->owner_uid == (uint32_t)c->uid;
        }
        o = reply_begin(msgid, err);
        if (!o)
                return -ENOMEM;
        msgpack_pack_array(&o->pk, n);
        sbd_list_for_each_safe(pos, tmp, &c->d->sandboxes) {
                struct sbd_sandbox *s = sbd_container_of(pos, struct sbd_sandbox, node);
                struct sbp_sandbox_info info;

                if (!c->admin && s->owner_uid != (uint32_t)c->uid)
                        continue;
                sbd_sandbox_fill_info(s, &info);
                sbp_sandbox_info_pack(&o->pk, &info);
        }
        sbd_conn_send(c, o);
        return 0;
}
