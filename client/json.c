/* json.c — JSON writers for skillboxctl.
 *
 * Strings: '"', '\\' and control characters are escaped; valid UTF-8 passes
 * through; each maximal invalid subsequence (stray continuation byte, bad
 * lead byte, overlong form, surrogate, code point above U+10FFFF, truncated
 * sequence) becomes one U+FFFD, as the Unicode standard recommends. Wire nils
 * (exit_code -1, signal 0, tasks_peak -1, error "", uid -1) print as null.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "client/json.h"

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

void sbctl_json_enforced(FILE *f, const struct sb_enforced *e)
{
        bool first = true, ns_first = true;

        fputc('{', f);
        key(f, "backend", &first);
        text_or_null(f, e->backend);
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
        key(f, "cgroup", &first);
        text_or_null(f, e->cgroup);
        key(f, "seccomp", &first);
        bool_val(f, e->seccomp);
        key(f, "landlock", &first);
        fprintf(f, "%" PRIu32, e->landlock);
        key(f, "no_new_privs", &first);
        bool_val(f, e->no_new_privs);
        key(f, "capabilities_dropped", &first);
        bool_val(f, e->capabilities_dropped);
        key(f, "rlimits", &first);
        bool_val(f, e->rlimits);
        key(f, "process_group", &first);
        bool_val(f, e->process_group);
        key(f, "uid", &first);
        int_or_null(f, e->uid, e->uid < 0);
        key(f, "gid", &first);
        int_or_null(f, e->gid, e->gid < 0);
        key(f, "network", &first);
        text_or_null(f, e->network);
        key(f, "memory_max", &first);
        fprintf(f, "%" PRIu64, e->memory_max);
        key(f, "tasks_max", &first);
        fprintf(f, "%" PRIu64, e->tasks_max);
        key(f, "cpu_percent", &first);
        fprintf(f, "%" PRIu32, e->cpu_percent);
        key(f, "timeout_ms", &first);
        fprintf(f, "%" PRIu64, e->timeout_ms);
        key(f, "workdir", &first);
        text_or_null(f, e->workdir);
        key(f, "securebits", &first);
        bool_val(f, e->securebits);
        key(f, "syscall_filter", &first);
        text_or_null(f, e->syscall_filter);
        key(f, "work_size_max", &first);
        fprintf(f, "%" PRIu64, e->work_size_max);
        key(f, "work_inodes_max", &first);
        fprintf(f, "%" PRIu64, e->work_inodes_max);
        fputc('}', f);
}

void sbctl_json_result_members(FILE *f, const struct sb_job_result *r)
{
        bool first = true;

        key(f, "job", &first);
        sbctl_json_cstr(f, r->job);
        key(f, "state", &first);
        sbctl_json_cstr(f, sb_job_state_name(r->state));
        key(f, "exit_code", &first);
        int_or_null(f, r->exit_code, r->exit_code < 0);
        key(f, "signal", &first);
        int_or_null(f, r->signal, r->signal <= 0);
        key(f, "wall_ms", &first);
        fprintf(f, "%" PRIu64, r->wall_ms);
        key(f, "cpu_user_ms", &first);
        fprintf(f, "%" PRIu64, r->cpu_user_ms);
        key(f, "cpu_sys_ms", &first);
        fprintf(f, "%" PRIu64, r->cpu_sys_ms);
        key(f, "memory_peak", &first);
        fprintf(f, "%" PRIu64, r->memory_peak);
        key(f, "tasks_peak", &first);
        int_or_null(f, r->tasks_peak, r->tasks_peak < 0);
        key(f, "stdout_bytes", &first);
        fprintf(f, "%" PRIu64, r->stdout_bytes);
        key(f, "stderr_bytes", &first);
        fprintf(f, "%" PRIu64, r->stderr_bytes);
        key(f, "output_truncated", &first);
        bool_val(f, r->output_truncated);
        key(f, "error", &first);
        text_or_null(f, r->error);
        key(f, "enforced", &first);
        sbctl_json_enforced(f, &r->enforced);
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
        fputc('}', f);
}
