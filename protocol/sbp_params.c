/* sbp_params.c — method params: strict decoders for the daemon, packers for
 * the client. Each params struct is one field table; the few rules a table
 * cannot say (argv not empty, the argv+env byte budget) follow the table.
 * A decoder that fails leaves nothing allocated behind.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "protocol/sbp_internal.h"

/* ---- hello ---- */

static const struct sbp_field hello_fields[] = {
        SBP_FIELD(struct sbp_hello_params, client, SBP_F_STR, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_hello_params, protocol, SBP_F_U32, SBP_F_OMIT_EMPTY),
};
static const struct sbp_table hello_table = SBP_TABLE(hello_fields);
static const struct sbp_table *const hello_tabs[] = { &hello_table };

int sbp_hello_params_decode(const msgpack_object *params, struct sbp_hello_params *out,
                            struct sbp_error *err)
{
        memset(out, 0, sizeof(*out));
        return sbp_fields_decode(params, hello_tabs, 1, out, SBP_STRICT, err);
}

void sbp_hello_params_pack(msgpack_packer *pk, const struct sbp_hello_params *p)
{
        sbp_fields_pack(pk, hello_tabs, 1, p);
}

/* ---- exec ---- */

static const struct sbp_field mount_fields[] = {
        SBP_FIELD(struct sbp_mount, fd, SBP_F_U32, SBP_F_REQUIRED, .max = SBP_FDS_MAX - 1),
        SBP_FIELD(struct sbp_mount, target, SBP_F_STR, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_mount, read_only, SBP_F_BOOL, SBP_F_OMIT_EMPTY),
};
static const struct sbp_table mount_table = SBP_TABLE(mount_fields);

static const struct sbp_field exec_fields[] = {
        SBP_FIELD(struct sbp_exec_params, argv, SBP_F_ARGV, SBP_F_REQUIRED,
                  .aux = offsetof(struct sbp_exec_params, argc), .max = SBP_ARGV_COUNT_MAX),
        SBP_FIELD(struct sbp_exec_params, env, SBP_F_ENV, SBP_F_OMIT_EMPTY,
                  .aux = offsetof(struct sbp_exec_params, envc), .max = SBP_ENV_COUNT_MAX),
        SBP_FIELD(struct sbp_exec_params, profile, SBP_F_STR, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, memory_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, tasks_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, cpu_percent, SBP_F_U32, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, timeout_ms, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, detach, SBP_F_BOOL, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, stdin, SBP_F_BOOL, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, output_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, work_size_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, work_inodes_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, workdir_fd, SBP_F_FD_INDEX, SBP_F_OMIT_EMPTY,
                  .aux = offsetof(struct sbp_exec_params, has_workdir_fd)),
        SBP_FIELD(struct sbp_exec_params, mounts, SBP_F_MAPS, SBP_F_OMIT_EMPTY,
                  .aux = offsetof(struct sbp_exec_params, nmounts), .max = SBP_MOUNTS_MAX,
                  .sub = &mount_table),
        SBP_FIELD(struct sbp_exec_params, cwd, SBP_F_STR, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, network, SBP_F_STR, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, allow_hosts, SBP_F_ARGV, SBP_F_OMIT_EMPTY,
                  .aux = offsetof(struct sbp_exec_params, n_allow_hosts),
                  .max = SBP_ALLOW_HOSTS_MAX),
        SBP_FIELD(struct sbp_exec_params, tty, SBP_F_BOOL, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, rows, SBP_F_U32, SBP_F_OMIT_EMPTY,
                  .max = SBP_TTY_SIZE_MAX),
        SBP_FIELD(struct sbp_exec_params, cols, SBP_F_U32, SBP_F_OMIT_EMPTY,
                  .max = SBP_TTY_SIZE_MAX),
        SBP_FIELD(struct sbp_exec_params, publish, SBP_F_U32S, SBP_F_OMIT_EMPTY,
                  .aux = offsetof(struct sbp_exec_params, n_publish), .max = SBP_PUBLISH_MAX),
        SBP_FIELD(struct sbp_exec_params, sandbox, SBP_F_JOB_ID, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, keep_work, SBP_F_BOOL, SBP_F_OMIT_EMPTY),
};
static const struct sbp_table exec_table = SBP_TABLE(exec_fields);
static const struct sbp_table *const exec_tabs[] = { &exec_table };

/* Bytes the job's execve() will see: each argv entry and each "KEY=VALUE"
 * with its terminating NUL. */
static size_t args_bytes(const struct sbp_exec_params *p)
{
        size_t sum = 0;

        for (uint32_t i = 0; i < p->argc; i++)
                sum += strlen(p->argv[i]) + 1;
        for (uint32_t i = 0; i < p->envc; i++)
                sum += strlen(p->env[i]) + 1;
        return sum;
}

/* The fixed places a client may mount a directory: each is a directory the
 * sandbox creates on its own tmpfs root, away from the system binds, /work,
 * /tmp, /proc and /dev. */
static const char *const mount_prefixes[] = { "/skill", "/data", "/input", "/mnt" };

/* Every component after the leading '/': not empty ("//"), not "." or "..". */
static bool components_normal(const char *t)
{
        for (const char *c = t + 1; *c; ) {
                const char *e = strchr(c, '/');
                size_t len = e ? (size_t)(e - c) : strlen(c);

                if (len == 0 || (len == 1 && c[0] == '.') ||
                    (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += len + (e ? 1 : 0);
        }
        return true;
}

bool sbp_mount_target_valid(const char *t)
{
        size_t n = strnlen(t, SBP_TARGET_MAX + 1);
        bool under = false;

        if (n == 0 || n > SBP_TARGET_MAX || t[0] != '/' || t[n - 1] == '/')
                return false;
        for (size_t i = 0; i < sizeof(mount_prefixes) / sizeof(mount_prefixes[0]); i++) {
                size_t pl = strlen(mount_prefixes[i]);

                if (strncmp(t, mount_prefixes[i], pl) == 0 && (t[pl] == '\0' || t[pl] == '/'))
                        under = true;
        }
        return under && components_normal(t);
}

bool sbp_cwd_valid(const char *t)
{
        size_t n = strnlen(t, SBP_CWD_MAX + 1);

        if (n == 0 || n > SBP_CWD_MAX || t[0] != '/')
                return false;
        return strcmp(t, "/") == 0 || (t[n - 1] != '/' && components_normal(t));
}

/* a == b, or one is a directory above the other: mounting both would make
 * one hide or move below the other. */
static bool targets_overlap(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), l = la < lb ? la : lb;

        return strncmp(a, b, l) == 0 && (la == lb || (la < lb ? b[l] : a[l]) == '/');
}

static int check_mounts(const struct sbp_exec_params *p, struct sbp_error *err)
{
        for (uint32_t i = 0; i < p->nmounts; i++) {
                if (!sbp_mount_target_valid(p->mounts[i].target))
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field mounts: target %u: not an absolute, normalized "
                                             "path under /skill, /data, /input or /mnt", i);
                for (uint32_t k = 0; k < i; k++)
                        if (targets_overlap(p->mounts[k].target, p->mounts[i].target))
                                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                                     "field mounts: targets %u and %u overlap",
                                                     k, i);
        }
        return 0;
}

/* The mode is one of three words; entries name an allowlist, so they imply
 * it and fit the proxy's entry size (their syntax is the daemon's to check,
 * with the proxy's parser). */
static int check_network(struct sbp_exec_params *p, struct sbp_error *err)
{
        if (p->network[0] && strcmp(p->network, "none") != 0 &&
            strcmp(p->network, "allowlist") != 0 && strcmp(p->network, "host") != 0)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field network: not none, allowlist or host");
        if (p->n_allow_hosts == 0)
                return 0;
        if (p->network[0] && strcmp(p->network, "allowlist") != 0)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field allow_hosts: only with network allowlist");
        for (uint32_t i = 0; i < p->n_allow_hosts; i++)
                if (p->allow_hosts[i][0] == '\0' ||
                    strlen(p->allow_hosts[i]) > SBP_ALLOW_HOST_MAX)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field allow_hosts: entry %u: empty or longer "
                                             "than %u bytes", i, SBP_ALLOW_HOST_MAX);
        memcpy(p->network, "allowlist", sizeof("allowlist"));
        return 0;
}

int sbp_exec_params_decode(const msgpack_object *params, struct sbp_exec_params *out,
                           struct sbp_error *err)
{
        int r;

        memset(out, 0, sizeof(*out));
        r = sbp_fields_decode(params, exec_tabs, 1, out, SBP_STRICT, err);
        if (r < 0)
                goto fail;
        if (out->argc == 0) {
                r = sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "field argv: needs at least one entry");
                goto fail;
        }
        if (args_bytes(out) > SBP_ARGS_BYTES_MAX) {
                r = sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                  "fields argv and env: more than %u bytes together",
                                  SBP_ARGS_BYTES_MAX);
                goto fail;
        }
        r = check_mounts(out, err);
        if (r < 0)
                goto fail;
        if (out->cwd[0] && !sbp_cwd_valid(out->cwd)) {
                r = sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                  "field cwd: not an absolute, normalized path");
                goto fail;
        }
        r = check_network(out, err);
        if (r < 0)
                goto fail;
        /* A size says how big the terminal is: without one it means nothing. */
        if (!out->tty && (out->rows || out->cols)) {
                r = sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "fields rows and cols: only with tty");
                goto fail;
        }
        for (uint32_t i = 0; i < out->n_publish; i++) {
                bool again = false;

                for (uint32_t k = 0; k < i; k++)
                        again |= out->publish[k] == out->publish[i];
                if (out->publish[i] == 0 || out->publish[i] > 65535 || again) {
                        r = sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                          "field publish: entry %u: not a port 1-65535 "
                                          "given once", i);
                        goto fail;
                }
        }
        if (out->keep_work && out->has_workdir_fd) {
                r = sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                  "field keep_work: only for a fresh /work, not with workdir_fd");
                goto fail;
        }
        return 0;
fail:
        sbp_exec_params_free(out);
        return r;
}

void sbp_exec_params_free(struct sbp_exec_params *p)
{
        if (!p)
                return;
        sbp_fields_free(exec_tabs, 1, p);
}

void sbp_exec_params_pack(msgpack_packer *pk, const struct sbp_exec_params *p)
{
        sbp_fields_pack(pk, exec_tabs, 1, p);
}

/* ---- job_connect ---- */

static const struct sbp_field job_connect_fields[] = {
        SBP_FIELD(struct sbp_job_connect_params, job, SBP_F_JOB_ID, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_job_connect_params, port, SBP_F_U32, SBP_F_REQUIRED, .max = 65535),
};
static const struct sbp_table job_connect_table = SBP_TABLE(job_connect_fields);
static const struct sbp_table *const job_connect_tabs[] = { &job_connect_table };

int sbp_job_connect_params_decode(const msgpack_object *params,
                                  struct sbp_job_connect_params *out, struct sbp_error *err)
{
        memset(out, 0, sizeof(*out));
        return sbp_fields_decode(params, job_connect_tabs, 1, out, SBP_STRICT, err);
}

void sbp_job_connect_params_pack(msgpack_packer *pk, const struct sbp_job_connect_params *p)
{
        sbp_fields_pack(pk, job_connect_tabs, 1, p);
}

/* ---- {job} and {job, data} ---- */

static const struct sbp_field job_fields[] = {
        SBP_FIELD(struct sbp_job_params, job, SBP_F_JOB_ID, SBP_F_REQUIRED),
};
static const struct sbp_field job_data_fields[] = {
        SBP_FIELD(struct sbp_job_params, job, SBP_F_JOB_ID, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_job_params, data, SBP_F_BIN, SBP_F_REQUIRED,
                  .max = SBP_DATA_MAX, .aux = offsetof(struct sbp_job_params, data_len)),
};
static const struct sbp_table job_table = SBP_TABLE(job_fields);
static const struct sbp_table job_data_table = SBP_TABLE(job_data_fields);
static const struct sbp_table *const job_tabs[] = { &job_table };
static const struct sbp_table *const job_data_tabs[] = { &job_data_table };

int sbp_job_params_decode(const msgpack_object *params, bool want_data,
                          struct sbp_job_params *out, struct sbp_error *err)
{
        memset(out, 0, sizeof(*out));
        return sbp_fields_decode(params, want_data ? job_data_tabs : job_tabs, 1, out,
                                 SBP_STRICT, err);
}

void sbp_job_params_pack(msgpack_packer *pk, const char *job, const void *data, size_t len,
                         bool with_data)
{
        msgpack_pack_map(pk, with_data ? 2 : 1);
        sbp_pack_str(pk, "job");
        sbp_pack_strn(pk, job, strnlen(job, SBP_JOB_ID_MAX));
        if (with_data) {
                sbp_pack_str(pk, "data");
                msgpack_pack_bin(pk, len);
                if (len > 0)
                        msgpack_pack_bin_body(pk, data, len);
        }
}

/* ---- resize ---- */

static const struct sbp_field resize_fields[] = {
        SBP_FIELD(struct sbp_resize_params, job, SBP_F_JOB_ID, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_resize_params, rows, SBP_F_U32, SBP_F_REQUIRED,
                  .max = SBP_TTY_SIZE_MAX),
        SBP_FIELD(struct sbp_resize_params, cols, SBP_F_U32, SBP_F_REQUIRED,
                  .max = SBP_TTY_SIZE_MAX),
};
static const struct sbp_table resize_table = SBP_TABLE(resize_fields);
static const struct sbp_table *const resize_tabs[] = { &resize_table };

int sbp_resize_params_decode(const msgpack_object *params, struct sbp_resize_params *out,
                             struct sbp_error *err)
{
        int r;

        memset(out, 0, sizeof(*out));
        r = sbp_fields_decode(params, resize_tabs, 1, out, SBP_STRICT, err);
        if (r == 0 && (out->rows == 0 || out->cols == 0))
                r = sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "fields rows and cols: at least 1");
        return r;
}

void sbp_resize_params_pack(msgpack_packer *pk, const struct sbp_resize_params *p)
{
        sbp_fields_pack(pk, resize_tabs, 1, p);
}

/* ---- list ---- */

static const struct sbp_field list_fields[] = {
        SBP_FIELD(struct sbp_list_params, after, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_list_params, limit, SBP_F_U32, SBP_F_OMIT_EMPTY,
                  .max = SBP_LIST_MAX),
};
static const struct sbp_table list_table = SBP_TABLE(list_fields);
static const struct sbp_table *const list_tabs[] = { &list_table };

int sbp_list_params_decode(const msgpack_object *params, struct sbp_list_params *out,
                           struct sbp_error *err)
{
        int r;

        memset(out, 0, sizeof(*out));
        r = sbp_fields_decode(params, list_tabs, 1, out, SBP_STRICT, err);
        if (r == 0 && out->limit == 0)
                out->limit = SBP_LIST_MAX;
        return r;
}

void sbp_list_params_pack(msgpack_packer *pk, const struct sbp_list_params *p)
{
        sbp_fields_pack(pk, list_tabs, 1, p);
}

/* ---- stats, profiles ---- */

int sbp_empty_params_decode(const msgpack_object *params, struct sbp_error *err)
{
        return sbp_fields_decode(params, NULL, 0, NULL, SBP_STRICT, err);
}

void sbp_empty_params_pack(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 0);
}
