/* calls.c — libskillbox's methods: one blocking request/response each, and
 * the conversion of the protocol's sbp_ structs into the public sb_ ones.
 *
 * Arguments are checked against the protocol's named limits before anything
 * is sent, so a bad call fails locally with -EINVAL and a message, and the
 * connection stays usable. The public enums mirror the protocol's; the static
 * asserts below keep them in step.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"

_Static_assert((int)SB_JOB_RUNNING == (int)SBP_JOB_RUNNING, "state");
_Static_assert((int)SB_JOB_EXITED == (int)SBP_JOB_EXITED, "state");
_Static_assert((int)SB_JOB_SIGNALED == (int)SBP_JOB_SIGNALED, "state");
_Static_assert((int)SB_JOB_TIMEOUT == (int)SBP_JOB_TIMEOUT, "state");
_Static_assert((int)SB_JOB_CPU_LIMIT == (int)SBP_JOB_CPU_LIMIT, "state");
_Static_assert((int)SB_JOB_OOM == (int)SBP_JOB_OOM, "state");
_Static_assert((int)SB_JOB_OUTPUT_LIMIT == (int)SBP_JOB_OUTPUT_LIMIT, "state");
_Static_assert((int)SB_JOB_KILLED == (int)SBP_JOB_KILLED, "state");
_Static_assert((int)SB_JOB_FAILED == (int)SBP_JOB_FAILED, "state");
_Static_assert(SB_DENIED_MAX == SBP_DENIED_MAX &&
                       sizeof(((struct sb_denied *)0)->what) == SBP_DENIED_WHAT_MAX + 1,
               "denied");
_Static_assert((unsigned)SB_NS_USER == (unsigned)SBP_NS_USER &&
               (unsigned)SB_NS_CGROUP == (unsigned)SBP_NS_CGROUP, "ns bits");
_Static_assert((int)SB_STDOUT == (int)SBP_STDOUT && (int)SB_STDERR == (int)SBP_STDERR, "streams");
_Static_assert(SB_JOB_ID_MAX == SBP_JOB_ID_MAX && SB_NAME_MAX == SBP_NAME_MAX &&
               SB_TEXT_MAX == SBP_TEXT_MAX, "limits");

#define COPY_STR(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

const char *sb_job_state_name(enum sb_job_state state)
{
        if ((unsigned)state >= SBP_JOB__COUNT)
                return "unknown";
        return sbp_job_state_name((enum sbp_job_state)state);
}

const char *sb_ns_name(unsigned index)
{
        if (index >= SB_NS_COUNT)
                return NULL;
        return sbp_ns_name(index);
}

/* ---- Conversions ---- */

/* The 8-byte network field of the ABI says whether the job has a network
 * namespace of its own ("none", which allowlist jobs have too) or the
 * host's; network_mode carries the mode itself. */
static const char *legacy_network(const char *mode)
{
        if (strcmp(mode, "host") == 0)
                return "host";
        if (strcmp(mode, "none") == 0 || strcmp(mode, "allowlist") == 0)
                return "none";
        return "";
}

void client_enforced_from_sbp(struct sb_enforced *out, const struct sbp_enforced *in)
{
        memset(out, 0, sizeof(*out));
        COPY_STR(out->backend, in->backend);
        out->namespaces = in->namespaces;
        COPY_STR(out->cgroup, in->cgroup);
        out->seccomp = in->seccomp;
        out->landlock = in->landlock;
        out->no_new_privs = in->no_new_privs;
        out->capabilities_dropped = in->capabilities_dropped;
        out->rlimits = in->rlimits;
        out->process_group = in->process_group;
        out->uid = in->uid;
        out->gid = in->gid;
        COPY_STR(out->network_mode, in->network);
        COPY_STR(out->network, legacy_network(in->network));
        out->memory_max = in->memory_max;
        out->tasks_max = in->tasks_max;
        out->cpu_percent = in->cpu_percent;
        out->timeout_ms = in->timeout_ms;
        COPY_STR(out->workdir, in->workdir);
        out->securebits = in->securebits;
        COPY_STR(out->syscall_filter, in->syscall_filter);
        out->work_size_max = in->work_size_max;
        out->work_inodes_max = in->work_inodes_max;
}

void client_result_from_sbp(struct sb_job_result *out, const struct sbp_job_result *in)
{
        memset(out, 0, sizeof(*out));
        COPY_STR(out->job, in->job);
        out->state = (enum sb_job_state)in->state;
        out->exit_code = in->exit_code;
        out->signal = in->signal;
        out->wall_ms = in->wall_ms;
        out->cpu_user_ms = in->cpu_user_ms;
        out->cpu_sys_ms = in->cpu_sys_ms;
        out->memory_peak = in->memory_peak;
        out->tasks_peak = in->tasks_peak;
        out->stdout_bytes = in->stdout_bytes;
        out->stderr_bytes = in->stderr_bytes;
        out->output_truncated = in->output_truncated;
        COPY_STR(out->error, in->error);
        client_enforced_from_sbp(&out->enforced, &in->enforced);
        for (uint32_t i = 0; i < in->n_denied && i < SB_DENIED_MAX; i++) {
                COPY_STR(out->denied[i].kind, in->denied[i].kind);
                COPY_STR(out->denied[i].what, in->denied[i].what);
                out->denied[i].count = in->denied[i].count;
                out->n_denied = i + 1;
        }
}

/* argv as one allocation: the pointer array followed by the strings, so
 * sb_job_info_free() is a single free(). */
static char **argv_dup(char *const *argv, uint32_t argc)
{
        size_t size = (argc + 1) * sizeof(char *);
        char **out, *p;

        for (uint32_t i = 0; i < argc; i++)
                size += strlen(argv[i]) + 1;
        out = malloc(size);
        if (!out)
                return NULL;
        p = (char *)(out + argc + 1);
        for (uint32_t i = 0; i < argc; i++) {
                size_t len = strlen(argv[i]) + 1;

                memcpy(p, argv[i], len);
                out[i] = p;
                p += len;
        }
        out[argc] = NULL;
        return out;
}

int client_info_from_sbp(struct sb_job_info *out, const struct sbp_job_info *in)
{
        memset(out, 0, sizeof(*out));
        client_result_from_sbp(&out->result, &in->result);
        COPY_STR(out->profile, in->profile);
        out->owner_uid = in->owner_uid;
        out->started_ms = in->started_ms;
        out->detached = in->detached;
        out->argv_truncated = in->argv_truncated;
        out->argc = in->argv ? in->argc : 0;
        out->argv = argv_dup(in->argv, out->argc);
        if (!out->argv)
                return -ENOMEM;
        return 0;
}

void sb_job_info_free(struct sb_job_info *info)
{
        if (!info)
                return;
        free(info->argv);
        info->argv = NULL;
        info->argc = 0;
}

void sb_job_info_list_free(struct sb_job_info *list, size_t n)
{
        if (!list)
                return;
        for (size_t i = 0; i < n; i++)
                sb_job_info_free(&list[i]);
        free(list);
}

void sb_profiles_free(struct sb_profile *list)
{
        free(list);
}

static int bad_reply(sb_client *c, const char *method)
{
        c->broken = true;
        return client_fail(c, -EPROTO, "malformed %s reply from the daemon", method);
}

/* ---- Methods ---- */

int sb_hello(sb_client *c, const char *client_name, struct sb_hello *out)
{
        struct sbp_hello_params p = { .protocol = SBP_PROTOCOL_VERSION };
        struct sbp_hello_result hr;
        struct sbp_message resp;
        msgpack_packer pk;
        uint32_t id;
        int r;

        if (client_name && strlen(client_name) > SBP_NAME_MAX)
                return client_fail(c, -EINVAL, "client name longer than %u bytes", SBP_NAME_MAX);
        if (client_name)
                COPY_STR(p.client, client_name);
        id = client_begin(c, "hello", &pk);
        sbp_hello_params_pack(&pk, &p);
        r = client_call(c, id, &resp);
        if (r < 0)
                return r;
        memset(&hr, 0, sizeof(hr));
        if (sbp_hello_result_decode(&resp.result, &hr) < 0)
                return bad_reply(c, "hello");
        memset(out, 0, sizeof(*out));
        COPY_STR(out->server, hr.server);
        COPY_STR(out->version, hr.version);
        out->protocol = hr.protocol;
        out->uid = hr.uid;
        COPY_STR(out->role, hr.role);
        client_enforced_from_sbp(&out->host, &hr.host);
        client_settle(c);
        if (hr.protocol != SBP_PROTOCOL_VERSION)
                return client_fail(c, -EPROTO, "daemon speaks protocol %u, this client %u",
                                   hr.protocol, SBP_PROTOCOL_VERSION);
        return 0;
}

int sb_exec(sb_client *c, const struct sb_exec_options *opts, char *job_out)
{
        struct sbp_exec_params p = { 0 };
        struct sbp_message resp;
        msgpack_packer pk;
        char job[SBP_JOB_ID_MAX + 1];
        size_t bytes = 0;
        uint32_t id;
        int r;

        if (!opts || !opts->argv || !opts->argv[0])
                return client_fail(c, -EINVAL, "no program given");
        for (const char *const *a = opts->argv; *a; a++) {
                if (++p.argc > SBP_ARGV_COUNT_MAX)
                        return client_fail(c, -EINVAL, "more than %u arguments", SBP_ARGV_COUNT_MAX);
                if (strlen(*a) > SBP_STRING_MAX)
                        return client_fail(c, -EINVAL, "argument %u longer than %u bytes",
                                           p.argc - 1, SBP_STRING_MAX);
                bytes += strlen(*a);
        }
        for (const char *const *e = opts->env; e && *e; e++) {
                const char *eq = strchr(*e, '=');

                if (++p.envc > SBP_ENV_COUNT_MAX)
                        return client_fail(c, -EINVAL, "more than %u environment entries",
                                           SBP_ENV_COUNT_MAX);
                if (!eq || eq == *e)
                        return client_fail(c, -EINVAL, "environment entry '%.64s' is not KEY=VALUE", *e);
                if ((size_t)(eq - *e) > SBP_STRING_MAX || strlen(eq + 1) > SBP_STRING_MAX)
                        return client_fail(c, -EINVAL, "environment entry '%.64s' too long", *e);
                bytes += strlen(*e);
        }
        if (bytes > SBP_ARGS_BYTES_MAX)
                return client_fail(c, -EINVAL, "arguments and environment exceed %u bytes",
                                   SBP_ARGS_BYTES_MAX);
        if (opts->profile && strlen(opts->profile) > SBP_NAME_MAX)
                return client_fail(c, -EINVAL, "profile name longer than %u bytes", SBP_NAME_MAX);

        /* The packer only reads argv/env; the struct is shared with the decoder. */
        p.argv = (char **)opts->argv;
        p.env = opts->env ? (char **)opts->env : NULL;
        if (opts->profile)
                COPY_STR(p.profile, opts->profile);
        p.memory_max = opts->memory_max;
        p.tasks_max = opts->tasks_max;
        p.cpu_percent = opts->cpu_percent;
        p.timeout_ms = opts->timeout_ms;
        p.detach = opts->detach;
        p.stdin = opts->stdin;
        p.output_max = opts->output_max;
        p.work_size_max = opts->work_size_max;
        p.work_inodes_max = opts->work_inodes_max;
        if (opts->network) {
                if (strlen(opts->network) >= sizeof(p.network))
                        return client_fail(c, -EINVAL, "network: not none, allowlist or host");
                COPY_STR(p.network, opts->network);
        }
        for (const char *const *h = opts->allow_hosts; h && *h; h++) {
                if (++p.n_allow_hosts > SBP_ALLOW_HOSTS_MAX)
                        return client_fail(c, -EINVAL, "more than %u allowed hosts",
                                           SBP_ALLOW_HOSTS_MAX);
                if (strlen(*h) > SBP_ALLOW_HOST_MAX)
                        return client_fail(c, -EINVAL, "allowed host '%.64s' too long", *h);
        }
        p.allow_hosts = opts->allow_hosts ? (char **)opts->allow_hosts : NULL;

        /* fds travel by index into the request's SCM_RIGHTS array:
         * workdir_fd first, then one per mount. */
        int fds[SBP_FDS_MAX];
        size_t nfds = 0;

        if (opts->nmounts > SBP_MOUNTS_MAX || (opts->nmounts && !opts->mounts))
                return client_fail(c, -EINVAL, "more than %u mounts", SBP_MOUNTS_MAX);
        if (opts->has_workdir_fd) {
                if (opts->workdir_fd < 0)
                        return client_fail(c, -EBADF, "workdir_fd: bad fd");
                p.has_workdir_fd = true;
                p.workdir_fd = (uint32_t)nfds;
                fds[nfds++] = opts->workdir_fd;
        }
        for (size_t i = 0; i < opts->nmounts; i++) {
                const struct sb_mount *m = &opts->mounts[i];

                if (m->fd < 0)
                        return client_fail(c, -EBADF, "mount %zu: bad fd", i);
                if (!m->target || strlen(m->target) > SBP_TARGET_MAX)
                        return client_fail(c, -EINVAL, "mount %zu: target missing or longer "
                                           "than %u bytes", i, SBP_TARGET_MAX);
                COPY_STR(p.mounts[i].target, m->target);
                p.mounts[i].fd = (uint32_t)nfds;
                p.mounts[i].read_only = m->read_only;
                fds[nfds++] = m->fd;
        }
        p.nmounts = (uint32_t)opts->nmounts;

        id = client_begin(c, "exec", &pk);
        sbp_exec_params_pack(&pk, &p);
        c->send_fds = nfds ? fds : NULL;
        c->n_send_fds = nfds;
        r = client_call(c, id, &resp);
        c->send_fds = NULL;     /* never sent with a later request */
        c->n_send_fds = 0;
        if (r < 0)
                return r;
        memset(job, 0, sizeof(job));
        if (sbp_exec_result_decode(&resp.result, job) < 0 || !job[0])
                return bad_reply(c, "exec");
        r = client_own(c, job);
        if (r < 0)
                return r;
        memcpy(job_out, job, strlen(job) + 1);
        client_settle(c);
        return 0;
}

/* Send a request on one job, with a chunk of data when has_data (stdin);
 * on 0 resp holds the reply. */
static int job_data_call(sb_client *c, const char *method, const char *job, const uint8_t *data,
                         size_t len, bool has_data, struct sbp_message *resp)
{
        msgpack_packer pk;
        uint32_t id;
        int r;

        r = client_check_job(c, job);
        if (r < 0)
                return r;
        id = client_begin(c, method, &pk);
        sbp_job_params_pack(&pk, job, data, len, has_data);
        return client_call(c, id, resp);
}

/* Send a {job}-only request; on 0 resp holds the reply. */
static int job_call(sb_client *c, const char *method, const char *job, struct sbp_message *resp)
{
        return job_data_call(c, method, job, NULL, 0, false, resp);
}

/* A {job}-only request whose reply carries nothing the caller keeps. */
static int job_call_nil(sb_client *c, const char *method, const char *job)
{
        struct sbp_message resp;
        int r = job_call(c, method, job, &resp);

        if (r == 0)
                client_settle(c);
        return r;
}

int sb_wait(sb_client *c, const char *job, const struct sb_callbacks *cb,
            struct sb_job_result *out)
{
        struct client_owned *own;
        struct sbp_job_result sr;
        struct sbp_message resp;
        int r;

        r = client_check_job(c, job);
        if (r < 0)
                return r;
        own = client_owned_find(c, job);
        if (own) {
                /* Our own job: its job_exit comes after all its output, so wait
                 * for that rather than the wait reply, which may overtake output. */
                r = client_pump_until_exit(c, own, cb);
                if (r < 0)
                        return r;
                own = client_owned_find(c, job);
                *out = own->result;
                client_owned_drop(c, own);
                return 0;
        }
        {
                /* Someone else's job (or a detached one of an earlier
                 * connection): only the reply tells. Notifications go to cb. */
                struct sb_callbacks saved = c->cb;
                bool had = c->have_cb;

                if (cb) {
                        c->cb = *cb;
                        c->have_cb = true;
                }
                r = job_call(c, "wait", job, &resp);
                c->cb = saved;
                c->have_cb = had;
        }
        if (r < 0)
                return r;
        memset(&sr, 0, sizeof(sr));
        if (sbp_job_result_decode(&resp.result, &sr) < 0)
                return bad_reply(c, "wait");
        client_result_from_sbp(out, &sr);
        client_settle(c);
        return 0;
}

int sb_stdin_write(sb_client *c, const char *job, const void *data, size_t len)
{
        const uint8_t *p = data;
        struct sbp_message resp;
        int r;

        /* A malformed job id is the caller's error even with nothing to send. */
        if (len == 0)
                return client_check_job(c, job);
        while (len > 0) {
                size_t n = len < SBP_DATA_MAX ? len : SBP_DATA_MAX;

                r = job_data_call(c, "stdin_write", job, p, n, true, &resp);
                if (r < 0)
                        return r;
                client_settle(c);
                p += n;
                len -= n;
        }
        return 0;
}

int sb_stdin_close(sb_client *c, const char *job)
{
        return job_call_nil(c, "stdin_close", job);
}

int sb_kill(sb_client *c, const char *job)
{
        return job_call_nil(c, "kill", job);
}

int sb_inspect(sb_client *c, const char *job, struct sb_job_info *out)
{
        struct sbp_job_info info;
        struct sbp_message resp;
        int r;

        r = job_call(c, "inspect", job, &resp);
        if (r < 0)
                return r;
        memset(&info, 0, sizeof(info));
        if (sbp_job_info_decode(&resp.result, &info) < 0) {
                sbp_job_info_free(&info);
                return bad_reply(c, "inspect");
        }
        r = client_info_from_sbp(out, &info);
        sbp_job_info_free(&info);
        if (r < 0)
                return client_fail(c, r, "out of memory");
        client_settle(c);
        return 0;
}

/* Send a request with empty params. */
static int empty_call(sb_client *c, const char *method, struct sbp_message *resp)
{
        msgpack_packer pk;
        uint32_t id;

        id = client_begin(c, method, &pk);
        sbp_empty_params_pack(&pk);
        return client_call(c, id, resp);
}

/* One page of list: the entries after cursor `after`, appended to *list. */
static int list_page(sb_client *c, uint64_t after, struct sb_job_info **list, size_t *n,
                     size_t *got, uint64_t *last_seq)
{
        struct sbp_list_params lp = { .after = after };
        struct sbp_message resp;
        struct sb_job_info *grown;
        msgpack_object_array *arr;
        msgpack_packer pk;
        uint32_t id;
        int r;

        id = client_begin(c, "list", &pk);
        sbp_list_params_pack(&pk, &lp);
        r = client_call(c, id, &resp);
        if (r < 0)
                return r;
        if (resp.result.type != MSGPACK_OBJECT_ARRAY || resp.result.via.array.size > SBP_LIST_MAX)
                return bad_reply(c, "list");
        arr = &resp.result.via.array;
        grown = realloc(*list, (*n + arr->size + 1) * sizeof(*grown));
        if (!grown)
                return client_fail(c, -ENOMEM, "out of memory");
        *list = grown;
        for (uint32_t i = 0; i < arr->size; i++) {
                struct sbp_job_info info;

                memset(&info, 0, sizeof(info));
                r = sbp_job_info_decode(&arr->ptr[i], &info);
                if (r == 0)
                        r = client_info_from_sbp(&grown[*n], &info);
                *last_seq = info.seq;
                sbp_job_info_free(&info);
                if (r < 0)
                        return r == -ENOMEM ? client_fail(c, r, "out of memory") : bad_reply(c, "list");
                (*n)++;
        }
        *got = arr->size;
        client_settle(c);
        return 0;
}

int sb_list(sb_client *c, struct sb_job_info **out, size_t *n)
{
        struct sb_job_info *list = NULL;
        uint64_t after = 0, last = 0;
        size_t count = 0, got;
        int r;

        *out = NULL;
        *n = 0;
        /* The daemon answers at most SBP_LIST_MAX entries at a time: ask
         * again after the last one until a page is not full. A daemon
         * without seq (0) answers everything at once. */
        for (;;) {
                r = list_page(c, after, &list, &count, &got, &last);
                if (r < 0) {
                        sb_job_info_list_free(list, count);
                        return r;
                }
                if (got < SBP_LIST_MAX || last <= after)
                        break;
                after = last;
        }
        if (!list) {
                list = calloc(1, sizeof(*list));
                if (!list)
                        return client_fail(c, -ENOMEM, "out of memory");
        }
        *out = list;
        *n = count;
        return 0;
}

int sb_stats(sb_client *c, struct sb_stats *out)
{
        struct sbp_stats_result s;
        struct sbp_message resp;
        int r;

        r = empty_call(c, "stats", &resp);
        if (r < 0)
                return r;
        memset(&s, 0, sizeof(s));
        if (sbp_stats_result_decode(&resp.result, &s) < 0)
                return bad_reply(c, "stats");
        *out = (struct sb_stats){
                .uptime_ms = s.uptime_ms,
                .connections = s.connections,
                .jobs_running = s.jobs_running,
                .jobs_started = s.jobs_started,
                .jobs_failed = s.jobs_failed,
                .jobs_retained = s.jobs_retained,
                .memory_rss = s.memory_rss,
        };
        client_settle(c);
        return 0;
}

int sb_profiles(sb_client *c, struct sb_profile **out, size_t *n)
{
        struct sbp_message resp;
        struct sb_profile *list;
        const msgpack_object *res;
        int r;

        *out = NULL;
        *n = 0;
        r = empty_call(c, "profiles", &resp);
        if (r < 0)
                return r;
        res = &resp.result;
        /* Accept {"profiles": [...]} as well as a bare array. */
        if (res->type == MSGPACK_OBJECT_MAP) {
                const msgpack_object *found = NULL;

                for (uint32_t i = 0; i < res->via.map.size; i++) {
                        const msgpack_object *k = &res->via.map.ptr[i].key;

                        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 8 &&
                            memcmp(k->via.str.ptr, "profiles", 8) == 0)
                                found = &res->via.map.ptr[i].val;
                }
                if (!found)
                        return bad_reply(c, "profiles");
                res = found;
        }
        if (res->type != MSGPACK_OBJECT_ARRAY)
                return bad_reply(c, "profiles");
        list = calloc(res->via.array.size ? res->via.array.size : 1, sizeof(*list));
        if (!list)
                return client_fail(c, -ENOMEM, "out of memory");
        for (uint32_t i = 0; i < res->via.array.size; i++) {
                struct sbp_profile sp;

                memset(&sp, 0, sizeof(sp));
                if (sbp_profile_decode(&res->via.array.ptr[i], &sp) < 0) {
                        free(list);
                        return bad_reply(c, "profiles");
                }
                COPY_STR(list[i].name, sp.name);
                list[i].memory_max = sp.memory_max;
                list[i].tasks_max = sp.tasks_max;
                list[i].cpu_percent = sp.cpu_percent;
                list[i].timeout_ms = sp.timeout_ms;
                list[i].tmp_size = sp.tmp_size;
                COPY_STR(list[i].network_mode, sp.network);
                COPY_STR(list[i].network, legacy_network(sp.network));
                list[i].output_max = sp.output_max;
                list[i].output_truncate = sp.output_truncate;
                list[i].tmp_inodes_max = sp.tmp_inodes_max;
                list[i].work_size_max = sp.work_size_max;
                list[i].work_inodes_max = sp.work_inodes_max;
        }
        *out = list;
        *n = res->via.array.size;
        client_settle(c);
        return 0;
}
