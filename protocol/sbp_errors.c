/* sbp_errors.c — the wire error table, the job state table and the namespace
 * names: names and default texts come from the X-macro lists in sbp.h, so the
 * enum, the wire spelling and PROTOCOL.md's table cannot drift apart.
 * Also the decoder of a response's {code, message} error object.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "protocol/sbp_internal.h"

static const char *const error_names[SBP_E__COUNT] = {
        [SBP_OK] = NULL,
#define SBP_X_(e, name, text) [SBP_E_##e] = name,
        SBP_ERRORS(SBP_X_)
#undef SBP_X_
};

static const char *const error_texts[SBP_E__COUNT] = {
        [SBP_OK] = "ok",
#define SBP_X_(e, name, text) [SBP_E_##e] = text,
        SBP_ERRORS(SBP_X_)
#undef SBP_X_
};

const char *sbp_error_name(enum sbp_error_code code)
{
        if ((unsigned)code >= SBP_E__COUNT)
                return error_names[SBP_E_INTERNAL];
        return error_names[code];
}

const char *sbp_error_text(enum sbp_error_code code)
{
        if ((unsigned)code >= SBP_E__COUNT)
                return error_texts[SBP_E_INTERNAL];
        return error_texts[code];
}

enum sbp_error_code sbp_error_from_name(const char *name, size_t len)
{
        for (unsigned i = SBP_OK + 1; i < SBP_E__COUNT; i++)
                if (strlen(error_names[i]) == len && memcmp(error_names[i], name, len) == 0)
                        return (enum sbp_error_code)i;
        return SBP_E_INTERNAL;
}

int sbp_error_set(struct sbp_error *err, enum sbp_error_code code, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return -EINVAL;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

int sbp_error_to_errno(enum sbp_error_code code)
{
        switch (code) {
        case SBP_OK:                    return 0;
        case SBP_E_INVALID_ARGUMENT:    return -EINVAL;
        case SBP_E_PERMISSION_DENIED:   return -EACCES;
        case SBP_E_NOT_FOUND:           return -ENOENT;
        case SBP_E_RESOURCE_EXHAUSTED:  return -EAGAIN;
        case SBP_E_UNAVAILABLE:         return -ESHUTDOWN;
        case SBP_E_UNSUPPORTED:         return -EOPNOTSUPP;
        case SBP_E_PROTOCOL_ERROR:      return -EPROTO;
        case SBP_E_INTERNAL:
        default:                        return -EIO;
        }
}

static const char *const state_names[SBP_JOB__COUNT] = {
#define SBP_X_(e, name) [SBP_JOB_##e] = name,
        SBP_JOB_STATES(SBP_X_)
#undef SBP_X_
};

const char *sbp_job_state_name(enum sbp_job_state s)
{
        if ((unsigned)s >= SBP_JOB__COUNT)
                return NULL;
        return state_names[s];
}

int sbp_job_state_from_name(const char *name, size_t len, enum sbp_job_state *out)
{
        for (unsigned i = 0; i < SBP_JOB__COUNT; i++)
                if (strlen(state_names[i]) == len && memcmp(state_names[i], name, len) == 0) {
                        *out = (enum sbp_job_state)i;
                        return 0;
                }
        return -EINVAL;
}

static const char *const ns_names[] = {
        "mount", "pid", "net", "ipc", "uts", "cgroup", "user",
};

const char *sbp_ns_name(unsigned bit_index)
{
        if (bit_index >= sizeof(ns_names) / sizeof(ns_names[0]))
                return NULL;
        return ns_names[bit_index];
}

static const char *const network_mode_names[] = { "none", "allowlist", "host" };

const char *sbp_network_mode_name(unsigned bit_index)
{
        if (bit_index >= sizeof(network_mode_names) / sizeof(network_mode_names[0]))
                return NULL;
        return network_mode_names[bit_index];
}

/* Lenient: nil is "no error"; an unknown code name becomes Internal; a long
 * message is cut to fit. A non-map, a non-str code or a missing code is a
 * malformed response (-EBADMSG). */
int sbp_error_decode(const msgpack_object *obj, struct sbp_error *err)
{
        bool have_code = false;

        err->code = SBP_OK;
        err->message[0] = '\0';
        if (obj->type == MSGPACK_OBJECT_NIL)
                return 0;
        if (obj->type != MSGPACK_OBJECT_MAP)
                return -EBADMSG;
        for (uint32_t i = 0; i < obj->via.map.size; i++) {
                const msgpack_object *k = &obj->via.map.ptr[i].key;
                const msgpack_object *v = &obj->via.map.ptr[i].val;

                if (k->type != MSGPACK_OBJECT_STR)
                        return -EBADMSG;
                if (sbp_str_eq(k, "code")) {
                        if (v->type != MSGPACK_OBJECT_STR || have_code)
                                return -EBADMSG;
                        err->code = sbp_error_from_name(v->via.str.ptr, v->via.str.size);
                        have_code = true;
                } else if (sbp_str_eq(k, "message")) {
                        size_t n;

                        if (v->type == MSGPACK_OBJECT_NIL)
                                continue;
                        if (v->type != MSGPACK_OBJECT_STR)
                                return -EBADMSG;
                        n = v->via.str.size;
                        if (n > SBP_TEXT_MAX)
                                n = SBP_TEXT_MAX;
                        memcpy(err->message, v->via.str.ptr, n);
                        err->message[n] = '\0';
                        /* Text after an embedded NUL is dropped, not misread. */
                }
        }
        if (!have_code)
                return -EBADMSG;
        if (err->message[0] == '\0')
                snprintf(err->message, sizeof(err->message), "%s", sbp_error_text(err->code));
        return 0;
}
