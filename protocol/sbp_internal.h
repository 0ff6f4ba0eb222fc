/* sbp_internal.h — declarations shared by the protocol's .c files only.
 *
 * The field-table machinery: each wire map (params, results, the enforced
 * record) is described once as a table of {name, type, offset, flags}; one
 * decoder and one packer walk the tables, so a struct's wire form is its table.
 */
#pragma once

#include "protocol/sbp.h"

enum sbp_ftype {
        SBP_F_BOOL,         /* bool */
        SBP_F_U32,          /* uint32_t, 0..max (max 0 = UINT32_MAX) */
        SBP_F_U64,          /* uint64_t */
        SBP_F_I32_NIL,      /* int32_t; nil on the wire <-> nil_value */
        SBP_F_I64_NIL,      /* int64_t; nil on the wire <-> nil_value */
        SBP_F_STR,          /* char[size]: NUL-free str shorter than size */
        SBP_F_JOB_ID,       /* char[SBP_JOB_ID_MAX + 1]: [a-z0-9-]{1,32} */
        SBP_F_STATE,        /* enum sbp_job_state, wire: its name */
        SBP_F_STREAM,       /* enum sbp_stream, wire: "stdout" | "stderr" */
        SBP_F_NAME_BITS,    /* uint32_t bits, wire: array of the names bit_name gives */
        SBP_F_ARGV,         /* char ** at offset, uint32_t count at aux */
        SBP_F_ENV,          /* char ** "K=V" at offset, uint32_t count at aux; wire: map */
        SBP_F_BIN,          /* const uint8_t * at offset, size_t length at aux */
        SBP_F_MAP,          /* nested struct described by sub */
        SBP_F_FD_INDEX,     /* uint32_t at offset, bool "present" at aux; wire: uint < SBP_FDS_MAX */
        SBP_F_MAPS,         /* array of structs described by sub at offset (size = the
                             * whole array, max = its capacity), uint32_t count at aux;
                             * wire: array of maps */
        SBP_F_U32S,         /* uint32_t array at offset (size = the whole array, max =
                             * its capacity), uint32_t count at aux; wire: array of uint */
};

enum {
        SBP_F_REQUIRED     = 1u << 0,
        SBP_F_OMIT_EMPTY   = 1u << 1,   /* packer: leave out when 0 / "" / false */
        SBP_F_NIL_IF_EMPTY = 1u << 2,   /* SBP_F_STR: "" <-> nil */
};

struct sbp_table;

struct sbp_field {
        const char *name;
        enum sbp_ftype type;
        unsigned flags;
        size_t offset;
        size_t size;               /* sizeof the member; SBP_F_STR: buffer size */
        size_t aux;                /* SBP_F_ARGV/ENV/BIN: offset of the count / length */
        int64_t nil_value;         /* *_NIL types */
        uint64_t max;              /* U32/U64 value, ARGV/ENV count, BIN length; 0 = none */
        const struct sbp_table *sub;   /* SBP_F_MAP */
        const char *(*bit_name)(unsigned bit_index);   /* SBP_F_NAME_BITS; NULL past the last */
};

struct sbp_table {
        const struct sbp_field *fields;
        size_t n;
};

#define SBP_TABLE(arr) { .fields = (arr), .n = sizeof(arr) / sizeof((arr)[0]) }

enum sbp_mode {
        SBP_STRICT,     /* daemon: unknown fields are errors */
        SBP_LENIENT,    /* client: unknown fields are skipped, types still checked */
};

/* Set every field of the tables to its "absent" value (0, "", nil_value). */
void sbp_fields_init(const struct sbp_table *const *tabs, size_t ntabs, void *out);
/* Decode map obj into out through the tables (which may be several laid over
 * the same struct, e.g. job_info = result fields + info fields). Does not
 * init out first. Returns 0, -EINVAL (err: InvalidArgument naming the field)
 * or -ENOMEM (err: Internal). Allocations are owned by out even on failure. */
int sbp_fields_decode(const msgpack_object *obj, const struct sbp_table *const *tabs,
                      size_t ntabs, void *out, enum sbp_mode mode, struct sbp_error *err);
/* Free what sbp_fields_decode allocated (SBP_F_ARGV arrays) and zero them. */
void sbp_fields_free(const struct sbp_table *const *tabs, size_t ntabs, void *out);
/* Pack the fields of the tables as the entries of one map (header included). */
void sbp_fields_pack(msgpack_packer *pk, const struct sbp_table *const *tabs, size_t ntabs,
                     const void *in);

/* A str object's text made printable and short, for error messages. */
void sbp_describe_key(const msgpack_object_str *s, char *buf, size_t size);
bool sbp_job_id_valid(const char *s, size_t len);
/* Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
bool sbp_utf8_valid(const void *s, size_t n);
bool sbp_str_eq(const msgpack_object *o, const char *s);

extern const struct sbp_table sbp_enforced_table;
extern const struct sbp_table sbp_job_result_table;

/* Incremental pre-scan (sbp_scan.c). Returns 1 when a complete message of
 * scan->pos bytes starts at data, 0 when more bytes are needed, -EMSGSIZE when
 * the message cannot fit max, -EBADMSG when the bytes are not MessagePack we
 * accept (err says why). len is all bytes available from the message start. */
void sbp_scan_reset(struct sbp_scan *scan);
int sbp_scan_feed(struct sbp_scan *scan, const uint8_t *data, size_t len, size_t max,
                  struct sbp_error *err);

/* Table entry for struct member m of S; extra designators follow. */
#define SBP_FIELD(S, m, ty, fl, ...)                                             \
        { .name = #m, .type = (ty), .flags = (fl), .offset = offsetof(S, m),    \
          .size = sizeof(((S *)0)->m), __VA_ARGS__ }
