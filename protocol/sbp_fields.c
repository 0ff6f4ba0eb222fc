/* sbp_fields.c — the table-driven field decoder (packing: sbp_fields_pack.c).
 *
 * A wire map is described by one or more tables laid over the same struct.
 * Decoding checks, for every entry: the key is a str, it names a field (or,
 * in lenient mode, it is skipped), it was not seen before, and the value has
 * the field's type and fits its limit; afterwards every required field must
 * have been seen. Error messages name the field ("field argv: expected
 * array of str") and never echo more than a short, printable part of what
 * the peer sent. Strings are copied into fixed buffers or, for argv/env,
 * into heap copies owned by the struct; bin values point into the message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/sbp_internal.h"

#define TABS_MAX 4   /* tables laid over one struct */

#define AT(base, off, type) ((type *)((char *)(base) + (off)))


bool sbp_str_eq(const msgpack_object *o, const char *s)
{
        size_t n = strlen(s);

        return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
               memcmp(o->via.str.ptr, s, n) == 0;
}

void sbp_describe_key(const msgpack_object_str *s, char *buf, size_t size)
{
        size_t max = size > 4 ? size - 4 : 0;   /* room for "..." and NUL */
        size_t i;

        for (i = 0; i < s->size && i < max; i++) {
                unsigned char c = (unsigned char)s->ptr[i];

                buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        }
        if (i < s->size && size >= 4) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        if (size > 0)
                buf[i < size ? i : size - 1] = '\0';
}

bool sbp_job_id_valid(const char *s, size_t len)
{
        if (len == 0 || len > SBP_JOB_ID_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                        return false;
        return true;
}

static const char *type_name(const struct sbp_field *f)
{
        switch (f->type) {
        case SBP_F_BOOL:        return "bool";
        case SBP_F_U32:
        case SBP_F_U64:         return "uint";
        case SBP_F_I32_NIL:
        case SBP_F_I64_NIL:     return "int or nil";
        case SBP_F_STR:         return (f->flags & SBP_F_NIL_IF_EMPTY) ? "str or nil" : "str";
        case SBP_F_JOB_ID:
        case SBP_F_STATE:
        case SBP_F_STREAM:      return "str";
        case SBP_F_NAME_BITS:   return "array of str";
        case SBP_F_ARGV:        return "array of str or bin";
        case SBP_F_ENV:         return "map of str or bin to str or bin";
        case SBP_F_BIN:         return "bin";
        case SBP_F_MAP:         return "map";
        case SBP_F_FD_INDEX:    return "uint (fd index)";
        case SBP_F_MAPS:        return "array of map";
        case SBP_F_U32S:        return "array of uint";
        }
        return "?";
}

static int bad_type(const struct sbp_field *f, struct sbp_error *err)
{
        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "field %s: expected %s", f->name,
                             type_name(f));
}

static int no_memory(struct sbp_error *err)
{
        sbp_error_set(err, SBP_E_INTERNAL, "out of memory");
        return -ENOMEM;
}

/* Well-formed UTF-8 as the Unicode standard defines it (table 3-7): no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
bool sbp_utf8_valid(const void *p, size_t n)
{
        const unsigned char *s = p;
        size_t i = 0;

        while (i < n) {
                unsigned char c = s[i], lo = 0x80, hi = 0xbf;
                size_t more;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        more = 1;
                } else if (c >= 0xe0 && c <= 0xef) {
                        more = 2;
                        if (c == 0xe0)
                                lo = 0xa0;
                        else if (c == 0xed)
                                hi = 0x9f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        more = 3;
                        if (c == 0xf0)
                                lo = 0x90;
                        else if (c == 0xf4)
                                hi = 0x8f;
                } else {
                        return false;
                }
                if (n - i - 1 < more)
                        return false;
                for (size_t k = 1; k <= more; k++) {
                        if (s[i + k] < lo || s[i + k] > hi)
                                return false;
                        lo = 0x80;
                        hi = 0xbf;
                }
                i += more + 1;
        }
        return true;
}

/* A str value that may become a C string: no NUL, at most max bytes. The
 * daemon (strict) also wants UTF-8: it sends these strings back, to this
 * client and to admins (list, inspect), as str, which is UTF-8 by the
 * protocol, and a client's unpacker may refuse anything else. A client
 * (lenient) takes what an older daemon sends. Where bin_ok (argv and env
 * entries, which are bytes to the kernel), bin carries what is not UTF-8;
 * msgpack-c lays bin out as it does str. */
static int check_text(const struct sbp_field *f, const msgpack_object *v, size_t max,
                      const char *what, bool bin_ok, enum sbp_mode mode, struct sbp_error *err)
{
        bool bin = bin_ok && v->type == MSGPACK_OBJECT_BIN;

        if (v->type != MSGPACK_OBJECT_STR && !bin)
                return bad_type(f, err);
        if (v->via.str.size > max)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field %s: %s longer than %zu bytes", f->name, what, max);
        if (v->via.str.size > 0 && memchr(v->via.str.ptr, '\0', v->via.str.size))
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "field %s: %s contains NUL",
                                     f->name, what);
        if (mode == SBP_STRICT && !bin && !sbp_utf8_valid(v->via.str.ptr, v->via.str.size))
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field %s: %s is not UTF-8", f->name, what);
        return 0;
}

/* Integers from 2^31 up come from JavaScript's msgpack-lite as float64:
 * a float64 that is integral, not negative and at most 2^53 (so exactly the
 * integer the client meant) is taken as that uint. */
#define FLOAT_EXACT_MAX 9007199254740992.0      /* 2^53 */

static int decode_uint(const struct sbp_field *f, const msgpack_object *v, uint64_t type_max,
                       uint64_t *out, struct sbp_error *err)
{
        uint64_t max = f->max && f->max < type_max ? f->max : type_max;
        uint64_t u;

        if (v->type == MSGPACK_OBJECT_FLOAT64) {
                double d = v->via.f64;

                /* NaN fails both comparisons; the cast is then in range. */
                if (!(d >= 0.0 && d <= FLOAT_EXACT_MAX) || (double)(uint64_t)d != d)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: expected uint (a float64 must be an "
                                             "integer from 0 to 2^53)", f->name);
                u = (uint64_t)d;
        } else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                u = v->via.u64;
        } else {
                return bad_type(f, err);
        }
        if (u > max)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "field %s: above %llu",
                                     f->name, (unsigned long long)max);
        *out = u;
        return 0;
}

static int decode_int(const struct sbp_field *f, const msgpack_object *v, int64_t min,
                      int64_t max, int64_t *out, struct sbp_error *err)
{
        if (v->type == MSGPACK_OBJECT_NIL) {
                *out = f->nil_value;
                return 0;
        }
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                if (v->via.u64 > (uint64_t)max)
                        goto range;
                *out = (int64_t)v->via.u64;
                return 0;
        }
        if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
                if (v->via.i64 < min)
                        goto range;
                *out = v->via.i64;
                return 0;
        }
        return bad_type(f, err);
range:
        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "field %s: out of range", f->name);
}

/* The NULL-terminated vector of an argv/env field with n entries, after
 * the field's entry bound. */
static int vec_alloc(const struct sbp_field *f, uint32_t n, char ***vec, struct sbp_error *err)
{
        if (f->max && n > f->max)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field %s: more than %llu entries", f->name,
                                     (unsigned long long)f->max);
        *vec = calloc((size_t)n + 1, sizeof(char *));
        if (!*vec)
                return no_memory(err);
        return 0;
}

static int decode_argv(const struct sbp_field *f, const msgpack_object *v, void *base,
                       enum sbp_mode mode, struct sbp_error *err)
{
        char ***vec = AT(base, f->offset, char **);
        uint32_t *count = AT(base, f->aux, uint32_t);
        uint32_t n;
        int r;

        if (v->type != MSGPACK_OBJECT_ARRAY)
                return bad_type(f, err);
        n = v->via.array.size;
        r = vec_alloc(f, n, vec, err);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < n; i++) {
                const msgpack_object *e = &v->via.array.ptr[i];

                r = check_text(f, e, SBP_STRING_MAX, "entry", true, mode, err);
                if (r < 0)
                        return r;
                (*vec)[i] = strndup(e->via.str.ptr, e->via.str.size);
                if (!(*vec)[i])
                        return no_memory(err);
                *count = i + 1;
        }
        return 0;
}

static int decode_env(const struct sbp_field *f, const msgpack_object *v, void *base,
                      enum sbp_mode mode, struct sbp_error *err)
{
        char ***vec = AT(base, f->offset, char **);
        uint32_t *count = AT(base, f->aux, uint32_t);
        uint32_t n;
        int r;

        if (v->type != MSGPACK_OBJECT_MAP)
                return bad_type(f, err);
        n = v->via.map.size;
        r = vec_alloc(f, n, vec, err);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < n; i++) {
                const msgpack_object *k = &v->via.map.ptr[i].key;
                const msgpack_object *val = &v->via.map.ptr[i].val;
                size_t kl, vl;
                char *s;

                r = check_text(f, k, SBP_STRING_MAX, "key", true, mode, err);
                if (r < 0)
                        return r;
                r = check_text(f, val, SBP_STRING_MAX, "value", true, mode, err);
                if (r < 0)
                        return r;
                kl = k->via.str.size;
                vl = val->via.str.size;
                if (kl == 0 || memchr(k->via.str.ptr, '=', kl))
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: key empty or containing '='", f->name);
                /* Duplicate keys: quadratic, but n <= SBP_ENV_COUNT_MAX. */
                for (uint32_t j = 0; j < i; j++) {
                        const msgpack_object *pk = &v->via.map.ptr[j].key;

                        if (pk->via.str.size == kl && memcmp(pk->via.str.ptr, k->via.str.ptr, kl) == 0) {
                                char name[48];

                                sbp_describe_key(&k->via.str, name, sizeof(name));
                                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                                     "field %s: duplicate key %s", f->name, name);
                        }
                }
                s = malloc(kl + vl + 2);
                if (!s)
                        return no_memory(err);
                memcpy(s, k->via.str.ptr, kl);
                s[kl] = '=';
                memcpy(s + kl + 1, val->via.str.ptr, vl);
                s[kl + 1 + vl] = '\0';
                (*vec)[i] = s;
                *count = i + 1;
        }
        return 0;
}

static int decode_name_bits(const struct sbp_field *f, const msgpack_object *v, void *base,
                            enum sbp_mode mode, struct sbp_error *err)
{
        uint32_t bits = 0;

        if (v->type != MSGPACK_OBJECT_ARRAY)
                return bad_type(f, err);
        for (uint32_t i = 0; i < v->via.array.size; i++) {
                const msgpack_object *e = &v->via.array.ptr[i];
                const char *name;
                unsigned b;

                if (e->type != MSGPACK_OBJECT_STR)
                        return bad_type(f, err);
                for (b = 0; (name = f->bit_name(b)); b++)
                        if (sbp_str_eq(e, name))
                                break;
                if (name)
                        bits |= 1u << b;
                else if (mode == SBP_STRICT)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: unknown name", f->name);
        }
        *AT(base, f->offset, uint32_t) = bits;
        return 0;
}

static void init_table(const struct sbp_table *t, void *base);

/* A fixed-capacity array of nested maps: each element is decoded (and
 * initialised) through the sub table; the count is set as elements land so
 * a failure part-way leaves only decoded elements counted. */
static int decode_maps(const struct sbp_field *f, const msgpack_object *v, void *base,
                       enum sbp_mode mode, struct sbp_error *err)
{
        const struct sbp_table *sub = f->sub;
        uint32_t *count = AT(base, f->aux, uint32_t);
        size_t elem = f->size / f->max;
        int r;

        if (v->type != MSGPACK_OBJECT_ARRAY)
                return bad_type(f, err);
        if (v->via.array.size > f->max)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field %s: more than %llu entries", f->name,
                                     (unsigned long long)f->max);
        for (uint32_t i = 0; i < v->via.array.size; i++) {
                void *e = AT(base, f->offset + (size_t)i * elem, void);
                const msgpack_object *m = &v->via.array.ptr[i];

                if (m->type != MSGPACK_OBJECT_MAP)
                        return bad_type(f, err);
                memset(e, 0, elem);
                init_table(sub, e);
                r = sbp_fields_decode(m, &sub, 1, e, mode, err);
                if (r < 0)
                        return r;
                *count = i + 1;
        }
        return 0;
}

static int decode_u32s(const struct sbp_field *f, const msgpack_object *v, void *base,
                       struct sbp_error *err)
{
        uint32_t *count = AT(base, f->aux, uint32_t);

        if (v->type != MSGPACK_OBJECT_ARRAY)
                return bad_type(f, err);
        if (v->via.array.size > f->max)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field %s: more than %llu entries", f->name,
                                     (unsigned long long)f->max);
        for (uint32_t i = 0; i < v->via.array.size; i++) {
                const msgpack_object *e = &v->via.array.ptr[i];

                if (e->type != MSGPACK_OBJECT_POSITIVE_INTEGER || e->via.u64 > UINT32_MAX)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: entry %u: not a uint below 2^32",
                                             f->name, i);
                AT(base, f->offset, uint32_t)[i] = (uint32_t)e->via.u64;
                *count = i + 1;
        }
        return 0;
}

static int decode_field(const struct sbp_field *f, const msgpack_object *v, void *base,
                        enum sbp_mode mode, struct sbp_error *err)
{
        uint64_t u = 0;
        int64_t i = 0;
        int r;

        switch (f->type) {
        case SBP_F_BOOL:
                if (v->type != MSGPACK_OBJECT_BOOLEAN)
                        return bad_type(f, err);
                *AT(base, f->offset, bool) = v->via.boolean;
                return 0;
        case SBP_F_U32:
                r = decode_uint(f, v, UINT32_MAX, &u, err);
                if (r == 0)
                        *AT(base, f->offset, uint32_t) = (uint32_t)u;
                return r;
        case SBP_F_U64:
                r = decode_uint(f, v, UINT64_MAX, &u, err);
                if (r == 0)
                        *AT(base, f->offset, uint64_t) = u;
                return r;
        case SBP_F_I32_NIL:
                r = decode_int(f, v, INT32_MIN, INT32_MAX, &i, err);
                if (r == 0)
                        *AT(base, f->offset, int32_t) = (int32_t)i;
                return r;
        case SBP_F_I64_NIL:
                r = decode_int(f, v, INT64_MIN, INT64_MAX, &i, err);
                if (r == 0)
                        *AT(base, f->offset, int64_t) = i;
                return r;
        case SBP_F_STR:
                if (v->type == MSGPACK_OBJECT_NIL && (f->flags & SBP_F_NIL_IF_EMPTY)) {
                        AT(base, f->offset, char)[0] = '\0';
                        return 0;
                }
                r = check_text(f, v, f->size - 1, "value", false, mode, err);
                if (r < 0)
                        return r;
                memcpy(AT(base, f->offset, char), v->via.str.ptr, v->via.str.size);
                AT(base, f->offset, char)[v->via.str.size] = '\0';
                return 0;
        case SBP_F_JOB_ID:
                if (v->type != MSGPACK_OBJECT_STR)
                        return bad_type(f, err);
                if (!sbp_job_id_valid(v->via.str.ptr, v->via.str.size))
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: not a job id ([a-z0-9-]{1,%u})", f->name,
                                             SBP_JOB_ID_MAX);
                memcpy(AT(base, f->offset, char), v->via.str.ptr, v->via.str.size);
                AT(base, f->offset, char)[v->via.str.size] = '\0';
                return 0;
        case SBP_F_STATE:
                if (v->type != MSGPACK_OBJECT_STR)
                        return bad_type(f, err);
                if (sbp_job_state_from_name(v->via.str.ptr, v->via.str.size,
                                            AT(base, f->offset, enum sbp_job_state)) < 0)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: unknown job state", f->name);
                return 0;
        case SBP_F_STREAM:
                if (sbp_str_eq(v, "stdout"))
                        *AT(base, f->offset, enum sbp_stream) = SBP_STDOUT;
                else if (sbp_str_eq(v, "stderr"))
                        *AT(base, f->offset, enum sbp_stream) = SBP_STDERR;
                else if (v->type != MSGPACK_OBJECT_STR)
                        return bad_type(f, err);
                else
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: expected \"stdout\" or \"stderr\"", f->name);
                return 0;
        case SBP_F_NAME_BITS:
                return decode_name_bits(f, v, base, mode, err);
        case SBP_F_ARGV:
                return decode_argv(f, v, base, mode, err);
        case SBP_F_ENV:
                return decode_env(f, v, base, mode, err);
        case SBP_F_BIN:
                if (v->type != MSGPACK_OBJECT_BIN)
                        return bad_type(f, err);
                if (f->max && v->via.bin.size > f->max)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: longer than %llu bytes", f->name,
                                             (unsigned long long)f->max);
                *AT(base, f->offset, const uint8_t *) = (const uint8_t *)v->via.bin.ptr;
                *AT(base, f->aux, size_t) = v->via.bin.size;
                return 0;
        case SBP_F_MAP: {
                const struct sbp_table *sub = f->sub;

                if (v->type != MSGPACK_OBJECT_MAP)
                        return bad_type(f, err);
                return sbp_fields_decode(v, &sub, 1, AT(base, f->offset, void), mode, err);
        }
        case SBP_F_FD_INDEX:
                if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                        return bad_type(f, err);
                if (v->via.u64 >= SBP_FDS_MAX)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field %s: fd index above %u", f->name,
                                             SBP_FDS_MAX - 1);
                *AT(base, f->offset, uint32_t) = (uint32_t)v->via.u64;
                *AT(base, f->aux, bool) = true;
                return 0;
        case SBP_F_MAPS:
                return decode_maps(f, v, base, mode, err);
        case SBP_F_U32S:
                return decode_u32s(f, v, base, err);
        }
        return bad_type(f, err);
}

static void init_table(const struct sbp_table *t, void *base)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct sbp_field *f = &t->fields[i];

                if (f->type == SBP_F_I32_NIL)
                        *AT(base, f->offset, int32_t) = (int32_t)f->nil_value;
                else if (f->type == SBP_F_I64_NIL)
                        *AT(base, f->offset, int64_t) = f->nil_value;
                else if (f->type == SBP_F_MAP)
                        init_table(f->sub, AT(base, f->offset, void));
        }
}

void sbp_fields_init(const struct sbp_table *const *tabs, size_t ntabs, void *out)
{
        for (size_t t = 0; t < ntabs; t++)
                init_table(tabs[t], out);
}

int sbp_fields_decode(const msgpack_object *obj, const struct sbp_table *const *tabs,
                      size_t ntabs, void *out, enum sbp_mode mode, struct sbp_error *err)
{
        uint64_t seen[TABS_MAX] = { 0 };
        char name[48];
        int r;

        if (ntabs > TABS_MAX)
                return sbp_error_set(err, SBP_E_INTERNAL, "too many field tables");
        if (obj->type != MSGPACK_OBJECT_MAP)
                /* Nested maps are type-checked by their field; only params
                 * (an array other than [map]) get here. */
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "params: expected an array holding one map of named fields");

        for (uint32_t i = 0; i < obj->via.map.size; i++) {
                const msgpack_object *k = &obj->via.map.ptr[i].key;
                const msgpack_object *v = &obj->via.map.ptr[i].val;
                const struct sbp_field *f = NULL;
                size_t t, j = 0;

                if (k->type != MSGPACK_OBJECT_STR)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field names must be str");
                for (t = 0; t < ntabs && !f; t++)
                        for (j = 0; j < tabs[t]->n; j++)
                                if (sbp_str_eq(k, tabs[t]->fields[j].name)) {
                                        f = &tabs[t]->fields[j];
                                        break;
                                }
                if (!f) {
                        if (mode == SBP_LENIENT)
                                continue;
                        sbp_describe_key(&k->via.str, name, sizeof(name));
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "unknown field %s", name);
                }
                t--;    /* the loop stepped past the table that matched */
                if (seen[t] & (UINT64_C(1) << j))
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "duplicate field %s",
                                             f->name);
                seen[t] |= UINT64_C(1) << j;
                r = decode_field(f, v, out, mode, err);
                if (r < 0)
                        return r;
        }

        for (size_t t = 0; t < ntabs; t++)
                for (size_t j = 0; j < tabs[t]->n; j++)
                        if ((tabs[t]->fields[j].flags & SBP_F_REQUIRED) &&
                            !(seen[t] & (UINT64_C(1) << j)))
                                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                                     "missing field %s", tabs[t]->fields[j].name);
        return 0;
}

static void free_table(const struct sbp_table *t, void *base)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct sbp_field *f = &t->fields[i];

                if (f->type == SBP_F_ARGV || f->type == SBP_F_ENV) {
                        char **vec = *AT(base, f->offset, char **);

                        if (vec)
                                for (size_t j = 0; vec[j]; j++)
                                        free(vec[j]);
                        free(vec);
                        *AT(base, f->offset, char **) = NULL;
                        *AT(base, f->aux, uint32_t) = 0;
                } else if (f->type == SBP_F_MAP) {
                        free_table(f->sub, AT(base, f->offset, void));
                }
        }
}

void sbp_fields_free(const struct sbp_table *const *tabs, size_t ntabs, void *out)
{
        for (size_t t = 0; t < ntabs; t++)
                free_table(tabs[t], out);
}
