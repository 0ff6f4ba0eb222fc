/* sbp_sandbox.c — the persistent sandbox methods' params and results:
 * sandbox_create (exec's limits, no program), sandbox_destroy and
 * sandbox_list's entries (the sandbox's record with its totals).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "protocol/sbp_internal.h"

/* ---- sandbox_create: exec's policy fields into struct sbp_exec_params ---- */

static const struct sbp_field create_fields[] = {
        SBP_FIELD(struct sbp_exec_params, profile, SBP_F_STR, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, memory_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, tasks_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, cpu_percent, SBP_F_U32, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, work_size_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
        SBP_FIELD(struct sbp_exec_params, work_inodes_max, SBP_F_U64, SBP_F_OMIT_EMPTY),
};
static const struct sbp_table create_table = SBP_TABLE(create_fields);
static const struct sbp_table *const create_tabs[] = { &create_table };

int sbp_sandbox_create_params_decode(const msgpack_object *params, struct sbp_exec_params *out,
                                     struct sbp_error *err)
{
        memset(out, 0, sizeof(*out));
        return sbp_fields_decode(params, create_tabs, 1, out, SBP_STRICT, err);
}

void sbp_sandbox_create_params_pack(msgpack_packer *pk, const struct sbp_exec_params *p)
{
        sbp_fields_pack(pk, create_tabs, 1, p);
}

/* ---- {sandbox}: sandbox_create's result, sandbox_destroy's params ---- */

struct sandbox_ref {
        char sandbox[SBP_JOB_ID_MAX + 1];
};
static const struct sbp_field ref_fields[] = {
        SBP_FIELD(struct sandbox_ref, sandbox, SBP_F_JOB_ID, SBP_F_REQUIRED),
};
static const struct sbp_table ref_table = SBP_TABLE(ref_fields);
static const struct sbp_table *const ref_tabs[] = { &ref_table };

int sbp_sandbox_ref_decode(const msgpack_object *obj, char id[SBP_JOB_ID_MAX + 1], bool strict,
                           struct sbp_error *err)
{
        struct sandbox_ref ref;
        struct sbp_error e;
        int r;

        memset(&ref, 0, sizeof(ref));
        r = sbp_fields_decode(obj, ref_tabs, 1, &ref, strict ? SBP_STRICT : SBP_LENIENT,
                              err ? err : &e);
        if (r < 0)
                return r;
        memcpy(id, ref.sandbox, sizeof(ref.sandbox));
        return 0;
}

void sbp_sandbox_ref_pack(msgpack_packer *pk, const char *id)
{
        struct sandbox_ref ref;

        memset(&ref, 0, sizeof(ref));
        strncpy(ref.sandbox, id, SBP_JOB_ID_MAX);
        sbp_fields_pack(pk, ref_tabs, 1, &ref);
}

/* ---- sandbox_list's entries ---- */

static const struct sbp_field info_fields[] = {
        SBP_FIELD(struct sbp_sandbox_info, sandbox, SBP_F_JOB_ID, SBP_F_REQUIRED),
        SBP_FIELD(struct sbp_sandbox_info, state, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_sandbox_info, error, SBP_F_STR, SBP_F_NIL_IF_EMPTY),
        SBP_FIELD(struct sbp_sandbox_info, profile, SBP_F_STR, 0),
        SBP_FIELD(struct sbp_sandbox_info, owner_uid, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_sandbox_info, created_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_sandbox_info, idle_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_sandbox_info, idle_timeout_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_sandbox_info, lifetime_max_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_sandbox_info, execs, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_sandbox_info, running, SBP_F_U32, 0),
        SBP_FIELD(struct sbp_sandbox_info, cpu_user_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_sandbox_info, cpu_sys_ms, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_sandbox_info, memory_peak, SBP_F_U64, 0),
        SBP_FIELD(struct sbp_sandbox_info, tasks_peak, SBP_F_I64_NIL, 0, .nil_value = -1),
        SBP_FIELD(struct sbp_sandbox_info, enforced, SBP_F_MAP, 0, .sub = &sbp_enforced_table),
};
static const struct sbp_table info_table = SBP_TABLE(info_fields);
static const struct sbp_table *const info_tabs[] = { &info_table };

void sbp_sandbox_info_pack(msgpack_packer *pk, const struct sbp_sandbox_info *info)
{
        sbp_fields_pack(pk, info_tabs, 1, info);
}

int sbp_sandbox_info_decode(const msgpack_object *obj, struct sbp_sandbox_info *out)
{
        struct sbp_error err;
        int r;

        memset(out, 0, sizeof(*out));
        sbp_fields_init(info_tabs, 1, out);
        r = sbp_fields_decode(obj, info_tabs, 1, out, SBP_LENIENT, &err);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        return 0;
}
