/* sbp_fields_pack.c — the table-driven packer, the inverse of sbp_fields.c.
 *
 * Packs the fields of one or more tables as one map. Fields flagged
 * SBP_F_OMIT_EMPTY are left out when they hold their "absent" value, so
 * params carry only what the client set; results always carry every field,
 * with nil for the *_NIL sentinels and SBP_F_NIL_IF_EMPTY strings.
 */
#include <string.h>

#include "protocol/sbp_internal.h"

#define CAT(base, off, type) ((const type *)((const char *)(base) + (off)))

typedef char **strv_t;            /* CAT(..., strv_t) is char **const * */
typedef const uint8_t *bytes_t;   /* CAT(..., bytes_t) is const uint8_t *const * */

static bool is_empty(const struct sbp_field *f, const void *base)
{
        switch (f->type) {
        case SBP_F_BOOL:        return !*CAT(base, f->offset, bool);
        case SBP_F_U32:
        case SBP_F_NAME_BITS:   return *CAT(base, f->offset, uint32_t) == 0;
        case SBP_F_U64:         return *CAT(base, f->offset, uint64_t) == 0;
        case SBP_F_I32_NIL:     return *CAT(base, f->offset, int32_t) == (int32_t)f->nil_value;
        case SBP_F_I64_NIL:     return *CAT(base, f->offset, int64_t) == f->nil_value;
        case SBP_F_STR:
        case SBP_F_JOB_ID:      return CAT(base, f->offset, char)[0] == '\0';
        case SBP_F_ARGV:
        case SBP_F_ENV:         return *CAT(base, f->aux, uint32_t) == 0;
        case SBP_F_BIN:         return *CAT(base, f->aux, size_t) == 0;
        case SBP_F_FD_INDEX:    return !*CAT(base, f->aux, bool);
        case SBP_F_MAPS:
        case SBP_F_U32S:        return *CAT(base, f->aux, uint32_t) == 0;
        case SBP_F_STATE:
        case SBP_F_STREAM:
        case SBP_F_MAP:         return false;
        }
        return false;
}

static void pack_table(msgpack_packer *pk, const struct sbp_table *const *tabs, size_t ntabs,
                       const void *base);

/* argv and env entries are bytes to the kernel: str when they are UTF-8,
 * else bin, so that no peer's unpacker meets an invalid str. */
static void pack_text(msgpack_packer *pk, const char *s, size_t n)
{
        if (sbp_utf8_valid(s, n)) {
                sbp_pack_strn(pk, s, n);
                return;
        }
        msgpack_pack_bin(pk, n);
        msgpack_pack_bin_body(pk, s, n);
}

static void pack_field(msgpack_packer *pk, const struct sbp_field *f, const void *base)
{
        switch (f->type) {
        case SBP_F_BOOL:
                if (*CAT(base, f->offset, bool))
                        msgpack_pack_true(pk);
                else
                        msgpack_pack_false(pk);
                return;
        case SBP_F_U32:
                msgpack_pack_uint32(pk, *CAT(base, f->offset, uint32_t));
                return;
        case SBP_F_U64:
                msgpack_pack_uint64(pk, *CAT(base, f->offset, uint64_t));
                return;
        case SBP_F_I32_NIL:
        case SBP_F_I64_NIL: {
                int64_t v = f->type == SBP_F_I32_NIL ? *CAT(base, f->offset, int32_t)
                                                     : *CAT(base, f->offset, int64_t);

                if (v == f->nil_value)
                        msgpack_pack_nil(pk);
                else
                        msgpack_pack_int64(pk, v);
                return;
        }
        case SBP_F_STR:
        case SBP_F_JOB_ID: {
                const char *s = CAT(base, f->offset, char);

                if (s[0] == '\0' && (f->flags & SBP_F_NIL_IF_EMPTY))
                        msgpack_pack_nil(pk);
                else
                        sbp_pack_strn(pk, s, strnlen(s, f->size - 1));
                return;
        }
        case SBP_F_STATE: {
                const char *s = sbp_job_state_name(*CAT(base, f->offset, enum sbp_job_state));

                sbp_pack_str(pk, s ? s : "failed");
                return;
        }
        case SBP_F_STREAM:
                sbp_pack_str(pk, *CAT(base, f->offset, enum sbp_stream) == SBP_STDERR ? "stderr"
                                                                                 : "stdout");
                return;
        case SBP_F_NAME_BITS: {
                uint32_t bits = *CAT(base, f->offset, uint32_t);
                const char *name;
                unsigned n = 0, b;

                for (b = 0; (name = f->bit_name(b)); b++)
                        n += !!(bits & (1u << b));
                msgpack_pack_array(pk, n);
                for (b = 0; (name = f->bit_name(b)); b++)
                        if (bits & (1u << b))
                                sbp_pack_str(pk, name);
                return;
        }
        case SBP_F_ARGV: {
                char *const *vec = *CAT(base, f->offset, strv_t);
                uint32_t n = *CAT(base, f->aux, uint32_t);

                msgpack_pack_array(pk, n);
                for (uint32_t i = 0; i < n; i++)
                        pack_text(pk, vec[i], strlen(vec[i]));
                return;
        }
        case SBP_F_ENV: {
                char *const *vec = *CAT(base, f->offset, strv_t);
                uint32_t n = *CAT(base, f->aux, uint32_t);

                msgpack_pack_map(pk, n);
                for (uint32_t i = 0; i < n; i++) {
                        const char *eq = strchr(vec[i], '=');
                        size_t kl = eq ? (size_t)(eq - vec[i]) : strlen(vec[i]);

                        pack_text(pk, vec[i], kl);
                        pack_text(pk, eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0);
                }
                return;
        }
        case SBP_F_BIN: {
                const uint8_t *data = *CAT(base, f->offset, bytes_t);
                size_t len = *CAT(base, f->aux, size_t);

                msgpack_pack_bin(pk, len);
                if (len > 0)
                        msgpack_pack_bin_body(pk, data, len);
                return;
        }
        case SBP_F_MAP: {
                const struct sbp_table *sub = f->sub;

                pack_table(pk, &sub, 1, CAT(base, f->offset, void));
                return;
        }
        case SBP_F_FD_INDEX:
                msgpack_pack_uint32(pk, *CAT(base, f->offset, uint32_t));
                return;
        case SBP_F_MAPS: {
                const struct sbp_table *sub = f->sub;
                uint32_t n = *CAT(base, f->aux, uint32_t);
                size_t elem = f->size / f->max;

                if (n > f->max)
                        n = (uint32_t)f->max;
                msgpack_pack_array(pk, n);
                for (uint32_t i = 0; i < n; i++)
                        pack_table(pk, &sub, 1, CAT(base, f->offset + (size_t)i * elem, void));
                return;
        }
        case SBP_F_U32S: {
                uint32_t n = *CAT(base, f->aux, uint32_t);

                if (n > f->max)
                        n = (uint32_t)f->max;
                msgpack_pack_array(pk, n);
                for (uint32_t i = 0; i < n; i++)
                        msgpack_pack_uint32(pk, CAT(base, f->offset, uint32_t)[i]);
                return;
        }
        }
}

static void pack_table(msgpack_packer *pk, const struct sbp_table *const *tabs, size_t ntabs,
                       const void *base)
{
        size_t n = 0;

        for (size_t t = 0; t < ntabs; t++)
                for (size_t j = 0; j < tabs[t]->n; j++) {
                        const struct sbp_field *f = &tabs[t]->fields[j];

                        n += !((f->flags & SBP_F_OMIT_EMPTY) && is_empty(f, base));
                }
        msgpack_pack_map(pk, n);
        for (size_t t = 0; t < ntabs; t++)
                for (size_t j = 0; j < tabs[t]->n; j++) {
                        const struct sbp_field *f = &tabs[t]->fields[j];

                        if ((f->flags & SBP_F_OMIT_EMPTY) && is_empty(f, base))
                                continue;
                        sbp_pack_str(pk, f->name);
                        pack_field(pk, f, base);
                }
}

void sbp_fields_pack(msgpack_packer *pk, const struct sbp_table *const *tabs, size_t ntabs,
                     const void *in)
{
        pack_table(pk, tabs, ntabs, in);
}
