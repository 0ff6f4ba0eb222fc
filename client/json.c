/* json.c — JSON writers for skillboxctl.
 *
 * Strings: '"', '\\' and control characters are escaped; valid UTF-8 passes
 * through; each maximal invalid subsequence (stray continuation byte, bad
 * lead byte, overlong form, surrogate, code point above U+10FFFF, truncated
 * sequence) becomes one U+FFFD, as the Unicode standard recommends. Wire nils
 * (exit_code -1, signal 0, tasks_peak -1, error "", uid -1) print as null.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "client/json.h"
#include "protocol/sbp.h"

#define REPLACEMENT "\xef\xbf\xbd"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are invalid; *skip is then how many bytes to replace. */
static size_t utf8_valid(const uint8_t *s, size_t n, size_t *skip)
{
        uint8_t c = s[0], lo = 0x80, hi = 0xbf;
        size_t need, i;

        *skip = 1;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                need = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
                need = 3;
                if (c == 0xe0)
                        lo = 0xa0;      /* no overlongs */
                else if (c == 0xed)
                        hi = 0x9f;      /* no surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                need = 4;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;      /* nothing above U+10FFFF */
        } else {
                return 0;
        }
        for (i = 1; i < need; i++) {
                uint8_t b = i < n ? s[i] : 0;

                if (i >= n || b < lo || b > hi) {
                        *skip = i;
                        return 0;
                }
                lo = 0x80;
                hi = 0xbf;
        }
        return need;
}

void sbctl_json_string(FILE *f, const void *data, size_t len)
{
        const uint8_t *s = data;
        size_t i = 0;

        fputc('"', f);
        while (i < len) {
                uint8_t c = s[i];
                size_t n, skip;

                switch (c) {
                case '"': fputs("\\\"", f); i++; continue;
                case '\\': fputs("\\\\", f); i++; continue;
                case '\b': fputs("\\b", f); i++; continue;
                case '\f': fputs("\\f", f); i++; continue;
                case '\n': fputs("\\n", f); i++; continue;
                case '\r': fputs("\\r", f); i++; continue;
                case '\t': fputs("\\t", f); i++; continue;
                default: break;
                }
                if (c < 0x20) {
                        fprintf(f, "\\u%04x", c);
                        i++;
                        continue;
                }
                n = utf8_valid(s + i, len - i, &skip);
                if (n == 0) {
                        fputs(REPLACEMENT, f);
                        i += skip;
                        continue;
                }
                fwrite(s + i, 1, n, f);
                i += n;
        }
        fputc('"', f);
}

void sbctl_json_cstr(FILE *f, const char *s)
{
        if (!s)
                fputs("null", f);
        else
                sbctl_json_string(f, s, strlen(s));
}

static void key(FILE *f, const char *k, bool *first)
{
        if (!*first)
                fputs(", ", f);
        *first = false;
        sbctl_json_cstr(f, k);
        fputs(": ", f);
}

static void bool_val(FILE *f, bool b)
{
        fputs(b ? "true" : "false", f);
}

static void text_or_null(FILE *f, const char *s)
{
        sbctl_json_cstr(f, s[0] ? s : NULL);
}

/* is_nil: the wire's stand-in for nil (see the top of the file). */
static void int_or_null(FILE *f, int64_t v, bool is_nil)
{
        if (is_nil)
                fputs("null", f);
        else
                fprintf(f, "%" PRId64, v);
}

/* One "key": value member each: an object's members are a list of these. */
static void member_bool(FILE *f, bool *first, const char *k, bool b)
{
        key(f, k, first);
        bool_val(f, b);
}

static void member_u64(FILE *f, bool *first, const char *k, uint64_t v)
{
        key(f, k, first);
        fprintf(f, "%" PRIu64, v);
}

static void member_text(FILE *f, bool *first, const char *k, const char *s)
{
        key(f, k, first);
        text_or_null(f, s);
}

static void member_int(FILE *f, bool *first, const char *k, int64_t v, bool is_nil)
{
        key(f, k, first);
        int_or_null(f, v, is_nil);
}

static void json_guarantees(FILE *f, const struct sb_guarantees *g)
{
        bool first = true;

        fputc('{', f);
        member_text(f, &first, "files", g->files);
        member_text(f, &first, "network", g->network);
        member_text(f, &first, "memory", g->memory);
        member_text(f, &first, "tasks", g->tasks);
        member_text(f, &first, "cpu", g->cpu);
        member_text(f, &first, "identity", g->identity);
        member_text(f, &first, "syscalls", g->syscalls);
        member_text(f, &first, "privileges", g->privileges);
        member_text(f, &first, "kill_tree", g->kill_tree);
        fputc('}', f);
}

void sbctl_json_enforced(FILE *f, const struct sb_enforced *e)
{
        bool first = true, ns_first = true;

        fputc('{', f);
        member_text(f, &first, "backend", e->backend);
        key(f, "namespaces", &first);
        fputc('[', f);
        for (unsigned i = 0; i < SB_NS_COUNT; i++) {
                if (!(e->namespaces & (1u << i)))
                        continue;
                if (!ns_first)
                        fputs(", ", f);
                ns_first = false;
                sbctl_json_cstr(f, sb_ns_name(i));
        }
        fputc(']', f);
        member_text(f, &first, "cgroup", e->cgroup);
        member_bool(f, &first, "seccomp", e->seccomp);
        member_u64(f, &first, "landlock", e->landlock);
        member_bool(f, &first, "no_new_privs", e->no_new_privs);
        member_bool(f, &first, "capabilities_dropped", e->capabilities_dropped);
        member_bool(f, &first, "rlimits", e->rlimits);
        member_bool(f, &first, "process_group", e->process_group);
        member_int(f, &first, "uid", e->uid, e->uid < 0);
        member_int(f, &first, "gid", e->gid, e->gid < 0);
        member_text(f, &first, "network", e->network_mode);
        member_u64(f, &first, "memory_max", e->memory_max);
        member_u64(f, &first, "tasks_max", e->tasks_max);
        member_u64(f, &first, "cpu_percent", e->cpu_percent);
        member_u64(f, &first, "timeout_ms", e->timeout_ms);
        member_text(f, &first, "workdir", e->workdir);
        member_bool(f, &first, "securebits", e->securebits);
        member_text(f, &first, "syscall_filter", e->syscall_filter);
        member_u64(f, &first, "work_size_max", e->work_size_max);
        member_u64(f, &first, "work_inodes_max", e->work_inodes_max);
        member_text(f, &first, "token", e->token);
        key(f, "guarantees", &first);
        json_guarantees(f, &e->guarantees);
        fputc('}', f);
}

void sbctl_json_result_members(FILE *f, const struct sb_job_result *r)
{
        bool first = true;

        key(f, "job", &first);
        sbctl_json_cstr(f, r->job);
        key(f, "state", &first);
        sbctl_json_cstr(f, sb_job_state_name(r->state));
        member_int(f, &first, "exit_code", r->exit_code, r->exit_code < 0);
        member_int(f, &first, "signal", r->signal, r->signal <= 0);
        member_u64(f, &first, "wall_ms", r->wall_ms);
        member_u64(f, &first, "cpu_user_ms", r->cpu_user_ms);
        member_u64(f, &first, "cpu_sys_ms", r->cpu_sys_ms);
        member_u64(f, &first, "memory_peak", r->memory_peak);
        member_int(f, &first, "tasks_peak", r->tasks_peak, r->tasks_peak < 0);
        member_u64(f, &first, "stdout_bytes", r->stdout_bytes);
        member_u64(f, &first, "stderr_bytes", r->stderr_bytes);
        member_bool(f, &first, "output_truncated", r->output_truncated);
        member_text(f, &first, "error", r->error);
        key(f, "enforced", &first);
        sbctl_json_enforced(f, &r->enforced);
        if (r->n_denied == 0)
                return;
        key(f, "denied", &first);
        fputc('[', f);
        for (uint32_t i = 0; i < r->n_denied && i < SB_DENIED_MAX; i++) {
                bool in = true;

                fputs(i ? ", {" : "{", f);
                member_text(f, &in, "kind", r->denied[i].kind);
                member_text(f, &in, "what", r->denied[i].what);
                member_u64(f, &in, "count", r->denied[i].count);
                fputc('}', f);
        }
        fputc(']', f);
}

void sbctl_json_job_info(FILE *f, const struct sb_job_info *info)
{
        fputc('{', f);
        sbctl_json_result_members(f, &info->result);
        fputs(", \"profile\": ", f);
        sbctl_json_cstr(f, info->profile);
        fprintf(f, ", \"owner_uid\": %" PRIu32, info->owner_uid);
        fprintf(f, ", \"started_ms\": %" PRIu64, info->started_ms);
        fputs(", \"detached\": ", f);
        bool_val(f, info->detached);
        fputs(", \"argv\": [", f);
        for (uint32_t i = 0; i < info->argc; i++) {
                if (i)
                        fputs(", ", f);
                sbctl_json_cstr(f, info->argv[i]);
        }
        fputs("], \"argv_truncated\": ", f);
        bool_val(f, info->argv_truncated);
        fputs(", \"sandbox\": ", f);
        sbctl_json_cstr(f, info->sandbox[0] ? info->sandbox : NULL);
        fputc('}', f);
}

/* The daemon's refusals reach us as "Code: message" (conn.c); anything else
 * is this side's: the connection could not be made, broke, or made no sense. */
const char *sbctl_error_code(int err, bool connecting, const char *msg, const char **message)
{
        static const char *const wire[] = {
#define SBP_X_(e, name, text) name,
                SBP_ERRORS(SBP_X_)
#undef SBP_X_
        };

        *message = msg;
        for (size_t i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
                size_t n = strlen(wire[i]);

                if (strncmp(msg, wire[i], n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') {
                        *message = msg + n + 2;
                        return wire[i];
                }
        }
        if (connecting)
                return "ConnectionFailed";
        switch (err) {
        case -ECONNRESET:
        case -EPIPE:
        case -ENOTCONN:
                return "ConnectionLost";
        case -EPROTO:
                return "ProtocolError";
        default:
                return "ClientError";
        }
}

void sbctl_json_error(FILE *f, int err, bool connecting, const char *msg)
{
        const char *message, *code = sbctl_error_code(err, connecting, msg ? msg : "", &message);

        fputs("{\"error\": {\"code\": ", f);
        sbctl_json_cstr(f, code);
        fputs(", \"message\": ", f);
        sbctl_json_cstr(f, message);
        fputs("}}\n", f);
}
