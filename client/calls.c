/* calls.c — libskillbox's methods: each packs its request (the _async
 * form), decodes its reply (client_complete), and the conversion of the
 * protocol's sbp_ structs into the public sb_ ones. The blocking forms are
 * in blocking.c.
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
#include <unistd.h>

#include "client/client-internal.h"

_Static_assert(SB_TTY_SIZE_MAX == SBP_TTY_SIZE_MAX, "tty size bound");
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

const char *sb_network_mode_name(unsigned index)
{
        if (index >= SB_NETWORK_MODE_COUNT)
                return NULL;
        return sbp_network_mode_name(index);
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
        COPY_STR(out->token, in->token);
        COPY_STR(out->guarantees.files, in->guarantees.files);
        COPY_STR(out->guarantees.network, in->guarantees.network);
        COPY_STR(out->guarantees.memory, in->guarantees.memory);
        COPY_STR(out->guarantees.tasks, in->guarantees.tasks);
        COPY_STR(out->guarantees.cpu, in->guarantees.cpu);
        COPY_STR(out->guarantees.identity, in->guarantees.identity);
        COPY_STR(out->guarantees.syscalls, in->guarantees.syscalls);
        COPY_STR(out->guarantees.privileges, in->guarantees.privileges);
        COPY_STR(out->guarantees.kill_tree, in->guarantees.kill_tree);
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
        COPY_STR(out->sandbox, in->sandbox);
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

/* ---- Requests ---- */

int sb_hello_async(sb_client *c, const char *client_name, sb_reply_fn done, void *userdata,
                   sb_request **req)
{
        struct sbp_hello_params p = { .protocol = SBP_PROTOCOL_VERSION };
        struct sb_request *q;
        msgpack_packer pk;
        uint32_t id;

        if (client_name && strlen(client_name) > SBP_NAME_MAX)
                return client_fail(c, -EINVAL, "client name longer than %u bytes", SBP_NAME_MAX);
        if (client_name)
                COPY_STR(p.client, client_name);
        q = client_req_new(c, CLIENT_REQ_HELLO, done, userdata, NULL);
        if (!q)
                return -ENOMEM;
        id = client_begin(c, "hello", &pk);
        sbp_hello_params_pack(&pk, &p);
        return client_send(c, q, id, NULL, 0, req);
}

int sb_exec_async(sb_client *c, const struct sb_exec_options *opts, sb_reply_fn done,
                  void *userdata, sb_request **req)
{
        return client_exec_request(c, opts, NULL, done, userdata, req);
}

int client_exec_request(sb_client *c, const struct sb_exec_options *opts, const char *sandbox,
                        sb_reply_fn done, void *userdata, sb_request **req)
{
        struct sbp_exec_params p = { 0 };
        struct sb_request *q;
        msgpack_packer pk;
        size_t bytes = 0;
        uint32_t id;

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
        p.stdin = opts->stdin_pipe;
        p.output_max = opts->output_max;
        p.work_size_max = opts->work_size_max;
        p.work_inodes_max = opts->work_inodes_max;
        if (opts->cwd) {
                if (strlen(opts->cwd) > SBP_CWD_MAX)
                        return client_fail(c, -ENAMETOOLONG, "cwd: longer than %u bytes",
                                           SBP_CWD_MAX);
                COPY_STR(p.cwd, opts->cwd);
        }
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
        if (!opts->tty && (opts->rows || opts->cols))
                return client_fail(c, -EINVAL, "rows and cols: only with tty");
        if (opts->rows > SBP_TTY_SIZE_MAX || opts->cols > SBP_TTY_SIZE_MAX)
                return client_fail(c, -EINVAL, "tty size %ux%u: at most %u each", opts->rows,
                                   opts->cols, SBP_TTY_SIZE_MAX);
        p.tty = opts->tty;
        p.rows = opts->rows;
        p.cols = opts->cols;
        if (opts->npublish > SBP_PUBLISH_MAX || (opts->npublish && !opts->publish))
                return client_fail(c, -EINVAL, "more than %u published ports", SBP_PUBLISH_MAX);
        for (size_t i = 0; i < opts->npublish; i++)
                p.publish[i] = opts->publish[i];
        p.n_publish = (uint32_t)opts->npublish;

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
        if (sandbox) {
                int r = client_check_job(c, sandbox);

                if (r < 0)
                        return r;
                COPY_STR(p.sandbox, sandbox);
        }
        p.keep_work = opts->keep_work;

        q = client_req_new(c, CLIENT_REQ_EXEC, done, userdata, NULL);
        if (!q)
                return -ENOMEM;
        id = client_begin(c, "exec", &pk);
        sbp_exec_params_pack(&pk, &p);
        return client_send(c, q, id, fds, nfds, req);
}

/* A {job} request (with data for stdin_write). */
static int job_request(sb_client *c, const char *method, enum client_req_kind kind,
                       const char *job, const void *data, size_t len, bool has_data,
                       sb_reply_fn done, void *userdata, sb_request **req)
{
        struct sb_request *q;
        msgpack_packer pk;
        uint32_t id;
        int r;

        r = client_check_job(c, job);
        if (r < 0)
                return r;
        q = client_req_new(c, kind, done, userdata, job);
        if (!q)
                return -ENOMEM;
        q->stdin_len = len;
        id = client_begin(c, method, &pk);
        sbp_job_params_pack(&pk, job, data, len, has_data);
        return client_send(c, q, id, NULL, 0, req);
}

int sb_wait_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                  sb_request **req)
{
        return job_request(c, "wait", CLIENT_REQ_WAIT, job, NULL, 0, false, done, userdata, req);
}

int sb_job_connect_async(sb_client *c, const char *job, uint16_t port, sb_reply_fn done,
                         void *userdata, sb_request **req)
{
        struct sbp_job_connect_params p;
        struct sb_request *q;
        msgpack_packer pk;
        uint32_t id;
        int r;

        r = client_check_job(c, job);
        if (r < 0)
                return r;
        memset(&p, 0, sizeof(p));
        COPY_STR(p.job, job);
        p.port = port;
        q = client_req_new(c, CLIENT_REQ_CONNECT, done, userdata, job);
        if (!q)
                return -ENOMEM;
        id = client_begin(c, "job_connect", &pk);
        sbp_job_connect_params_pack(&pk, &p);
        return client_send(c, q, id, NULL, 0, req);
}

int sb_kill_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                  sb_request **req)
{
        return job_request(c, "kill", CLIENT_REQ_NIL, job, NULL, 0, false, done, userdata, req);
}

int sb_stdin_close_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                         sb_request **req)
{
        return job_request(c, "stdin_close", CLIENT_REQ_NIL, job, NULL, 0, false, done,
                           userdata, req);
}

int sb_resize_async(sb_client *c, const char *job, uint32_t rows, uint32_t cols,
                    sb_reply_fn done, void *userdata, sb_request **req)
{
        struct sbp_resize_params p = { .rows = rows, .cols = cols };
        struct sb_request *q;
        msgpack_packer pk;
        uint32_t id;
        int r;

        r = client_check_job(c, job);
        if (r < 0)
                return r;
        if (rows < 1 || cols < 1 || rows > SBP_TTY_SIZE_MAX || cols > SBP_TTY_SIZE_MAX)
                return client_fail(c, -EINVAL, "tty size %ux%u: 1 to %u each", rows, cols,
                                   SBP_TTY_SIZE_MAX);
        COPY_STR(p.job, job);
        q = client_req_new(c, CLIENT_REQ_NIL, done, userdata, job);
        if (!q)
                return -ENOMEM;
        id = client_begin(c, "resize", &pk);
        sbp_resize_params_pack(&pk, &p);
        return client_send(c, q, id, NULL, 0, req);
}

int sb_stdin_write_async(sb_client *c, const char *job, const void *data, size_t len,
                         sb_reply_fn done, void *userdata, sb_request **req)
{
        size_t inflight;
        int r;

        r = client_check_job(c, job);
        if (r < 0)
                return r;
        if (len > SBP_DATA_MAX)
                return client_fail(c, -EINVAL, "stdin data of %zu bytes: at most %u at a time",
                                   len, SBP_DATA_MAX);
        if (len > 0 && !data)
                return client_fail(c, -EINVAL, "no stdin data given");
        /* The job's stdin is full when its writes stay unanswered: say so
         * now rather than queue more in the daemon, which would stop
         * reading this connection past its StdinQueueMax=. */
        inflight = client_stdin_inflight(c, job);
        if (inflight > 0 && inflight + len > SB_STDIN_INFLIGHT_MAX)
                return client_fail(c, -EAGAIN, "job %s: %zu bytes of stdin not yet taken by "
                                   "the job (backpressure)", job, inflight);
        return job_request(c, "stdin_write", CLIENT_REQ_STDIN_WRITE, job, data, len, true, done,
                           userdata, req);
}

int sb_work_fd_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                     sb_request **req)
{
        return job_request(c, "work_fd", CLIENT_REQ_WORK_FD, job, NULL, 0, false, done,
                           userdata, req);
}

int sb_inspect_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                     sb_request **req)
{
        return job_request(c, "inspect", CLIENT_REQ_INSPECT, job, NULL, 0, false, done,
                           userdata, req);
}

/* Pack the list page after q->after into c->out; returns its msgid. */
static uint32_t list_pack(sb_client *c, const struct sb_request *q)
{
        struct sbp_list_params lp = { .after = q->after };
        msgpack_packer pk;
        uint32_t id;

        id = client_begin(c, "list", &pk);
        sbp_list_params_pack(&pk, &lp);
        return id;
}

int sb_list_async(sb_client *c, sb_reply_fn done, void *userdata, sb_request **req)
{
        struct sb_request *q = client_req_new(c, CLIENT_REQ_LIST, done, userdata, NULL);

        if (!q)
                return -ENOMEM;
        return client_send(c, q, list_pack(c, q), NULL, 0, req);
}

static int empty_request(sb_client *c, const char *method, enum client_req_kind kind,
                         sb_reply_fn done, void *userdata, sb_request **req)
{
        struct sb_request *q = client_req_new(c, kind, done, userdata, NULL);
        msgpack_packer pk;
        uint32_t id;

        if (!q)
                return -ENOMEM;
        id = client_begin(c, method, &pk);
        sbp_empty_params_pack(&pk);
        return client_send(c, q, id, NULL, 0, req);
}

int sb_stats_async(sb_client *c, sb_reply_fn done, void *userdata, sb_request **req)
{
        return empty_request(c, "stats", CLIENT_REQ_STATS, done, userdata, req);
}

int sb_profiles_async(sb_client *c, sb_reply_fn done, void *userdata, sb_request **req)
{
        return empty_request(c, "profiles", CLIENT_REQ_PROFILES, done, userdata, req);
}

/* ---- Replies ---- */

/* A reply that does not decode: the stream is not what we think it is. */
static int bad_reply(sb_client *c, struct sb_request *q, const char *method)
{
        c->broken = true;
        client_fail(c, -EPROTO, "malformed %s reply from the daemon", method);
        client_finish(c, q, -EPROTO, NULL);
        return -EPROTO;
}

/* A failure of this request only: the connection goes on. */
static int fail_one(sb_client *c, struct sb_request *q, int r)
{
        client_finish(c, q, r, NULL);
        return 0;
}

static int hello_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        struct sbp_hello_result hr;
        struct sb_hello out;

        memset(&hr, 0, sizeof(hr));
        if (sbp_hello_result_decode(res, &hr) < 0)
                return bad_reply(c, q, "hello");
        memset(&out, 0, sizeof(out));
        COPY_STR(out.server, hr.server);
        COPY_STR(out.version, hr.version);
        out.protocol = hr.protocol;
        out.uid = hr.uid;
        COPY_STR(out.role, hr.role);
        client_enforced_from_sbp(&out.host, &hr.host);
        out.sandboxes = hr.sandboxes;
        out.tty = hr.tty;
        out.network_modes = hr.network_modes;
        if (hr.protocol != SBP_PROTOCOL_VERSION)
                return fail_one(c, q, client_fail(c, -EPROTO, "daemon speaks protocol %u, this "
                                                  "client %u", hr.protocol, SBP_PROTOCOL_VERSION));
        client_finish(c, q, 0, &(struct sb_reply){ .hello = &out });
        return 0;
}

static int exec_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        char job[SBP_JOB_ID_MAX + 1];
        int r;

        memset(job, 0, sizeof(job));
        if (sbp_exec_result_decode(res, job) < 0 || !job[0])
                return bad_reply(c, q, "exec");
        r = client_own(c, job);
        if (r < 0)
                return fail_one(c, q, r);
        client_finish(c, q, 0, &(struct sb_reply){ .job = job });
        return 0;
}

static int wait_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        struct client_owned *own;
        struct sbp_job_result sr;
        struct sb_job_result out;

        memset(&sr, 0, sizeof(sr));
        if (res && sbp_job_result_decode(res, &sr) < 0)
                return bad_reply(c, q, "wait");
        /* Our own job: its job_exit comes after all its output, and the
         * reply may overtake some of it; complete after the exit. */
        if (client_hold_wait(c, q))
                return 1;
        own = client_owned_find(c, q->job);
        if (own) {
                out = own->result;
                client_owned_drop(c, own);
        } else {
                client_result_from_sbp(&out, &sr);
        }
        client_finish(c, q, 0, &(struct sb_reply){ .result = &out });
        return 0;
}

static int inspect_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        struct sbp_job_info info;
        struct sb_job_info *out;
        int r;

        /* A sandbox's id answers its sandbox_info record, not a job's. */
        if (strncmp(q->job, "sbx-", 4) == 0)
                return fail_one(c, q, client_fail(c, -EINVAL, "%s is a sandbox: see "
                                                  "sb_sandbox_list()", q->job));
        memset(&info, 0, sizeof(info));
        if (sbp_job_info_decode(res, &info) < 0) {
                sbp_job_info_free(&info);
                return bad_reply(c, q, "inspect");
        }
        out = calloc(1, sizeof(*out));
        r = out ? client_info_from_sbp(out, &info) : -ENOMEM;
        sbp_job_info_free(&info);
        if (r < 0) {
                free(out);
                return fail_one(c, q, client_fail(c, r, "out of memory"));
        }
        client_finish(c, q, 0, &(struct sb_reply){ .info = out });
        return 0;
}

/* One page of list appended to q->list; further pages are asked for with
 * the same request. */
static int list_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        const msgpack_object_array *arr;
        struct sb_job_info *grown;
        struct sb_reply reply;
        uint64_t last = 0;
        int r;

        if (res->type != MSGPACK_OBJECT_ARRAY || res->via.array.size > SBP_LIST_MAX)
                return bad_reply(c, q, "list");
        arr = &res->via.array;
        grown = realloc(q->list, (q->nlist + arr->size + 1) * sizeof(*grown));
        if (!grown)
                return fail_one(c, q, client_fail(c, -ENOMEM, "out of memory"));
        q->list = grown;
        for (uint32_t i = 0; i < arr->size; i++) {
                struct sbp_job_info info;

                memset(&info, 0, sizeof(info));
                r = sbp_job_info_decode(&arr->ptr[i], &info);
                if (r == 0)
                        r = client_info_from_sbp(&grown[q->nlist], &info);
                last = info.seq;
                sbp_job_info_free(&info);
                if (r == -ENOMEM)
                        return fail_one(c, q, client_fail(c, r, "out of memory"));
                if (r < 0)
                        return bad_reply(c, q, "list");
                q->nlist++;
        }
        /* The daemon answers at most SBP_LIST_MAX entries at a time: ask
         * again after the last one until a page is not full. A daemon
         * without seq (0) answers everything at once. */
        if (arr->size == SBP_LIST_MAX && last > q->after && !q->cancelled) {
                uint32_t id;

                q->after = last;
                id = list_pack(c, q);
                r = client_enqueue(c, NULL, 0);
                if (r < 0)
                        return fail_one(c, q, r);
                /* The same handle, in flight again under the new msgid. */
                q->msgid = id;
                q->next = c->reqs;
                c->reqs = q;
                return 1;
        }
        reply = (struct sb_reply){ .jobs = q->list, .njobs = q->nlist };
        q->list = NULL;
        q->nlist = 0;
        client_finish(c, q, 0, &reply);
        return 0;
}

static int stats_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        struct sbp_stats_result s;
        struct sb_stats out;

        memset(&s, 0, sizeof(s));
        if (sbp_stats_result_decode(res, &s) < 0)
                return bad_reply(c, q, "stats");
        out = (struct sb_stats){
                .uptime_ms = s.uptime_ms,
                .connections = s.connections,
                .jobs_running = s.jobs_running,
                .jobs_started = s.jobs_started,
                .jobs_failed = s.jobs_failed,
                .jobs_retained = s.jobs_retained,
                .memory_rss = s.memory_rss,
        };
        client_finish(c, q, 0, &(struct sb_reply){ .stats = &out });
        return 0;
}

static int profiles_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        struct sb_profile *list;

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
                        return bad_reply(c, q, "profiles");
                res = found;
        }
        if (res->type != MSGPACK_OBJECT_ARRAY)
                return bad_reply(c, q, "profiles");
        list = calloc(res->via.array.size ? res->via.array.size : 1, sizeof(*list));
        if (!list)
                return fail_one(c, q, client_fail(c, -ENOMEM, "out of memory"));
        for (uint32_t i = 0; i < res->via.array.size; i++) {
                struct sbp_profile sp;

                memset(&sp, 0, sizeof(sp));
                if (sbp_profile_decode(&res->via.array.ptr[i], &sp) < 0) {
                        free(list);
                        return bad_reply(c, q, "profiles");
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
        client_finish(c, q, 0, &(struct sb_reply){ .profiles = list,
                                                   .nprofiles = res->via.array.size });
        return 0;
}

/* {"fd": 0}: the socket came with the response's bytes (the oldest fd
 * not yet taken). Nobody to take it: closed here. */
static int connect_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        int fd;

        if (res->type != MSGPACK_OBJECT_MAP || res->via.map.size != 1 ||
            res->via.map.ptr[0].key.type != MSGPACK_OBJECT_STR ||
            res->via.map.ptr[0].key.via.str.size != 2 ||
            memcmp(res->via.map.ptr[0].key.via.str.ptr, "fd", 2) != 0 ||
            res->via.map.ptr[0].val.type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            res->via.map.ptr[0].val.via.u64 != 0)
                return bad_reply(c, q, "job_connect");
        fd = client_rx_fd_take(c);
        if (fd < 0)
                return fail_one(c, q, client_fail(c, -EBADF, "job_connect: no fd came with "
                                                  "the reply"));
        if (q->cancelled || !q->done) {
                close(fd);
                fd = -1;
        }
        client_finish(c, q, 0, &(struct sb_reply){ .fd = fd });
        return 0;
}

/* {"fd": 0}: the oldest descriptor that came with the daemon's answers. */
static int work_fd_reply(sb_client *c, struct sb_request *q, const msgpack_object *res)
{
        int fd = res->type == MSGPACK_OBJECT_MAP ? client_rx_fd_take(c) : -1;

        if (fd < 0) {
                client_fail(c, -EPROTO, "work_fd: no descriptor came with the answer");
                client_finish(c, q, -EPROTO, NULL);
                return 0;
        }
        client_finish(c, q, 0, &(struct sb_reply){ .work_fd = fd });
        return 0;
}

int client_complete(sb_client *c, struct sb_request *q, const struct sbp_message *m)
{
        if (m->error.type != MSGPACK_OBJECT_NIL) {
                struct sbp_error err = { 0 };
                struct client_owned *own;

                if (sbp_error_decode(&m->error, &err) < 0) {
                        c->broken = true;
                        client_fail(c, -EPROTO, "malformed error reply from the daemon");
                        client_finish(c, q, -EPROTO, NULL);
                        return -EPROTO;
                }
                /* A wait on our own job that has ended: its job_exit is the
                 * answer, also once the daemon no longer retains it. */
                own = q->kind == CLIENT_REQ_WAIT ? client_owned_find(c, q->job) : NULL;
                if (own && own->exited)
                        return wait_reply(c, q, NULL);
                client_fail(c, 0, "%s: %s", sbp_error_name(err.code) ?: "Internal",
                            err.message[0] ? err.message : sbp_error_text(err.code));
                client_finish(c, q, sbp_error_to_errno(err.code), NULL);
                return 0;
        }
        switch (q->kind) {
        case CLIENT_REQ_HELLO:
                return hello_reply(c, q, &m->result);
        case CLIENT_REQ_EXEC:
                return exec_reply(c, q, &m->result);
        case CLIENT_REQ_WAIT:
                return wait_reply(c, q, &m->result);
        case CLIENT_REQ_INSPECT:
                return inspect_reply(c, q, &m->result);
        case CLIENT_REQ_LIST:
                return list_reply(c, q, &m->result);
        case CLIENT_REQ_STATS:
                return stats_reply(c, q, &m->result);
        case CLIENT_REQ_PROFILES:
                return profiles_reply(c, q, &m->result);
        case CLIENT_REQ_CONNECT:
                return connect_reply(c, q, &m->result);
        case CLIENT_REQ_SANDBOX_CREATE:
        case CLIENT_REQ_SANDBOX_LIST:
                return client_sandbox_complete(c, q, &m->result);
        case CLIENT_REQ_WORK_FD:
                return work_fd_reply(c, q, &m->result);
        case CLIENT_REQ_NIL:
        case CLIENT_REQ_STDIN_WRITE:
                break;
        }
        client_finish(c, q, 0, &(struct sb_reply){ 0 });
        return 0;
}
