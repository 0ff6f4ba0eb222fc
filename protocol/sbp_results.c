/* sbp_results.c — method results: packers for the daemon, lenient decoders
 * for the client. Lenient means unknown fields are skipped (a newer daemon may
 * add some); known fields are still type- and range-checked, and a malformed
 * result is -EBADMSG. Absent optional fields keep their "none" value
 * (exit_code -1, signal 0, tasks_peak -1, uid/gid -1, "" for text).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "protocol/sbp_internal.h"

/* ---- enforced ---- */

static const struct sbp_field guarantees_fields[] = {
        SBP_FIELD(struct sbp_guarantees, files, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_guarantees, network, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_guarantees, memory, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_guarantees, tasks, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_guarantees, cpu, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_guarantees, identity, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_guarantees, syscalls, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_guarantees, privileges, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_guarantees, kill_tree, SBP_F_STR, 0),
};
static const struct sbp_table guarantees_table = SBP_TABLE(guarantees_fields);

static const struct sbp_field enforced_fields[] = {
        SBP_FIELD(struct sbp_enforced, backend, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_enforced, namespaces, SBP_F_NAME_BITS, 0, .bit_name = sbp_ns_name),
        SBP_FIELD(struct sbp_enforced, cgroup, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_enforced, seccomp, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_enforced, landlock, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_enforced, no_new_privs, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_enforced, capabilities_dropped, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_enforced, rlimits, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_enforced, process_group, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_enforced, uid, SBP_F_I64_NIL, 0, .nil_value = -1),
        SBP_FIELD(struct sbp_enforced, gid, SBP_F_I64_NIL, 0, .nil_value = -1),
        SBP_FIELD(struct sbp_enforced, network, SBP_F_STR, SBP_F_NIL_IF_EMPTY),
        SBP_FIELD(struct sbp_enforced, memory_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_enforced, tasks_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_enforced, cpu_percent, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_enforced, timeout_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_enforced, workdir, SBP_F_STR, SBP_F_NIL_IF_EMPTY),
        SBP_FIELD(struct sbp_enforced, securebits, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_enforced, syscall_filter, SBP_F_STR, SBP_F_NIL_IF_EMPTY),
        SBP_FIELD(struct sbp_enforced, work_size_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_enforced, work_inodes_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_enforced, token, SBP_F_STR, SBP_F_NIL_IF_EMPTY),
        SBP_FIELD(struct sbp_enforced, guarantees, SBP_F_MAP, 0, .sub = &guarantees_table),
};
const struct sbp_table sbp_enforced_table = SBP_TABLE(enforced_fields);
static const struct sbp_table *const enforced_tabs[] = { &sbp_enforced_table };

/* Shared tail of every lenient decoder: init, decode, map errors to -EBADMSG. */
static int decode_lenient(const msgpack_object *obj, const struct sbp_table *const *tabs,
                          size_t ntabs, void *out, size_t size)
{
        struct sbp_error err;
        int r;

        memset(out, 0, size);
        sbp_fields_init(tabs, ntabs, out);
        r = sbp_fields_decode(obj, tabs, ntabs, out, SBP_LENIENT, &err);
        if (r < 0) {
                sbp_fields_free(tabs, ntabs, out);
                return r == -ENOMEM ? r : -EBADMSG;
        }
        return 0;
}

void sbp_enforced_pack(msgpack_packer *pk, const struct sbp_enforced *e)
{
        sbp_fields_pack(pk, enforced_tabs, 1, e);
}

int sbp_enforced_decode(const msgpack_object *obj, struct sbp_enforced *out)
{
        return decode_lenient(obj, enforced_tabs, 1, out, sizeof(*out));
}

/* ---- the result record ---- */

static const struct sbp_field denied_fields[] = {
        SBP_FIELD(struct sbp_denied, kind, SBP_F_STR, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_denied, what, SBP_F_STR, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_denied, count, SBP_F_U64, 0),
};
static const struct sbp_table denied_table = SBP_TABLE(denied_fields);

static const struct sbp_field job_result_fields[] = {
        SBP_FIELD(struct sbp_job_result, job, SBP_F_JOB_ID, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_job_result, state, SBP_F_STATE, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_job_result, exit_code, SBP_F_I32_NIL, 0, .nil_value = -1),
        SBP_FIELD(struct sbp_job_result, signal, SBP_F_I32_NIL, 0, .nil_value = 0),
        SBP_FIELD(struct sbp_job_result, wall_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_job_result, cpu_user_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_job_result, cpu_sys_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_job_result, memory_peak, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_job_result, tasks_peak, SBP_F_I64_NIL, 0, .nil_value = -1),
        SBP_FIELD(struct sbp_job_result, stdout_bytes, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_job_result, stderr_bytes, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_job_result, output_truncated, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_job_result, error, SBP_F_STR, SBP_F_NIL_IF_EMPTY),
        SBP_FIELD(struct sbp_job_result, enforced, SBP_F_MAP, 0, .sub = &sbp_enforced_table),
        SBP_FIELD(struct sbp_job_result, denied, SBP_F_MAPS, SBP_F_OMIT_EMPTY,
                  .aux = offsetof(struct sbp_job_result, n_denied), .max = SBP_DENIED_MAX,
                  .sub = &denied_table),
};
const struct sbp_table sbp_job_result_table = SBP_TABLE(job_result_fields);
static const struct sbp_table *const job_result_tabs[] = { &sbp_job_result_table };

void sbp_job_result_pack(msgpack_packer *pk, const struct sbp_job_result *r)
{
        sbp_fields_pack(pk, job_result_tabs, 1, r);
}

int sbp_job_result_decode(const msgpack_object *obj, struct sbp_job_result *out)
{
        return decode_lenient(obj, job_result_tabs, 1, out, sizeof(*out));
}

/* ---- hello ---- */

static const struct sbp_field hello_result_fields[] = {
        SBP_FIELD(struct sbp_hello_result, server, SBP_F_STR, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_hello_result, version, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_hello_result, protocol, SBP_F_U32, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_hello_result, uid, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_hello_result, role, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_hello_result, host, SBP_F_MAP, 0, .sub = &sbp_enforced_table),
        SBP_FIELD(struct sbp_hello_result, sandboxes, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_hello_result, tty, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_hello_result, network_modes, SBP_F_NAME_BITS, 0,
                  .bit_name = sbp_network_mode_name),
};
static const struct sbp_table hello_result_table = SBP_TABLE(hello_result_fields);
static const struct sbp_table *const hello_result_tabs[] = { &hello_result_table };

void sbp_hello_result_pack(msgpack_packer *pk, const struct sbp_hello_result *r)
{
        sbp_fields_pack(pk, hello_result_tabs, 1, r);
}

int sbp_hello_result_decode(const msgpack_object *obj, struct sbp_hello_result *out)
{
        return decode_lenient(obj, hello_result_tabs, 1, out, sizeof(*out));
}

/* ---- exec: {job} ---- */

struct exec_result {
        char job[SBP_JOB_ID_MAX + 1];
};
static const struct sbp_field exec_result_fields[] = {
        SBP_FIELD(struct exec_result, job, SBP_F_JOB_ID, SBP_F_REQUIRED),
};
static const struct sbp_table exec_result_table = SBP_TABLE(exec_result_fields);
static const struct sbp_table *const exec_result_tabs[] = { &exec_result_table };

void sbp_exec_result_pack(msgpack_packer *pk, const char *job)
{
        struct exec_result res = { .job = "" };

        strncpy(res.job, job, SBP_JOB_ID_MAX);
        sbp_fields_pack(pk, exec_result_tabs, 1, &res);
}

int sbp_exec_result_decode(const msgpack_object *obj, char job[SBP_JOB_ID_MAX + 1])
{
        struct exec_result res;
        int r;

        r = decode_lenient(obj, exec_result_tabs, 1, &res, sizeof(res));
        if (r < 0)
                return r;
        memcpy(job, res.job, sizeof(res.job));
        return 0;
}

/* ---- inspect, list: the result record plus who/what/when, one flat map ---- */

_Static_assert(offsetof(struct sbp_job_info, result) == 0,
               "job_info's result fields are laid over the struct's start");

static const struct sbp_field job_info_fields[] = {
        SBP_FIELD(struct sbp_job_info, profile, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_job_info, owner_uid, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_job_info, started_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_job_info, detached, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_job_info, argv, SBP_F_ARGV, 0,
                  .aux = offsetof(struct sbp_job_info, argc), .max = SBP_ARGV_COUNT_MAX),
        SBP_FIELD(struct sbp_job_info, argv_truncated, SBP_F_BOOL, 0),
        SBP_FIELD(struct sbp_job_info, seq, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_job_info, sandbox, SBP_F_STR, SBP_F_OMIT_EMPTY),
};
static const struct sbp_table job_info_table = SBP_TABLE(job_info_fields);
static const struct sbp_table *const job_info_tabs[] = { &sbp_job_result_table, &job_info_table };

void sbp_job_info_pack(msgpack_packer *pk, const struct sbp_job_info *info)
{
        sbp_fields_pack(pk, job_info_tabs, 2, info);
}

int sbp_job_info_decode(const msgpack_object *obj, struct sbp_job_info *out)
{
        return decode_lenient(obj, job_info_tabs, 2, out, sizeof(*out));
}

void sbp_job_info_free(struct sbp_job_info *info)
{
        if (!info)
                return;
        sbp_fields_free(job_info_tabs, 2, info);
}

/* ---- stats ---- */

static const struct sbp_field stats_fields[] = {
        SBP_FIELD(struct sbp_stats_result, uptime_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_stats_result, connections, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_stats_result, jobs_running, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_stats_result, jobs_started, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_stats_result, jobs_failed, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_stats_result, jobs_retained, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_stats_result, memory_rss, SBP_F_U64, 0),
};
static const struct sbp_table stats_table = SBP_TABLE(stats_fields);
static const struct sbp_table *const stats_tabs[] = { &stats_table };

void sbp_stats_result_pack(msgpack_packer *pk, const struct sbp_stats_result *s)
{
        sbp_fields_pack(pk, stats_tabs, 1, s);
}

int sbp_stats_result_decode(const msgpack_object *obj, struct sbp_stats_result *out)
{
        return decode_lenient(obj, stats_tabs, 1, out, sizeof(*out));
}

/* ---- profiles: an array of these ---- */

static const struct sbp_field profile_fields[] = {
        SBP_FIELD(struct sbp_profile, name, SBP_F_STR, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_profile, memory_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_profile, tasks_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_profile, cpu_percent, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_profile, timeout_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_profile, tmp_size, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_profile, tmp_inodes_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_profile, work_size_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_profile, work_inodes_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_profile, network, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_profile, output_max, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_profile, output_truncate, SBP_F_BOOL, 0),
};
static const struct sbp_table profile_table = SBP_TABLE(profile_fields);
static const struct sbp_table *const profile_tabs[] = { &profile_table };

void sbp_profile_pack(msgpack_packer *pk, const struct sbp_profile *p)
{
        sbp_fields_pack(pk, profile_tabs, 1, p);
}

int sbp_profile_decode(const msgpack_object *obj, struct sbp_profile *out)
{
        return decode_lenient(obj, profile_tabs, 1, out, sizeof(*out));
}
