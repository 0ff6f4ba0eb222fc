/* conf.c — parsing skillboxd.conf with libinih, and layering.
 *
 * libinih does the INI syntax; we feed it through our own line reader, which
 * counts lines (so every error names FILE:LINE), tracks section headers
 * (so empty and duplicate sections are seen, which inih alone does not
 * report) and refuses over-long lines instead of letting inih split them.
 * The handler always returns success: errors are collected here, all of
 * them, and inih's own return value only adds its first syntax error.
 *
 * Invariant: a key is applied only once its value was fully validated, so a
 * configuration never holds a half-parsed value.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "config/conf_internal.h"

#define LINE_MAX_BYTES 4096

/* ---- errors ---- */

void sbd_conf_errors_clear(struct sbd_conf_errors *e)
{
        size_t i;

        for (i = 0; i < e->n; i++)
                free(e->v[i]);
        free(e->v);
        e->v = NULL;
        e->n = 0;
}

static void add_error(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(struct parse *ps, const char *fmt, ...)
{
        char *msg = NULL, *line = NULL, **v;
        va_list ap;

        ps->failed = true;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg || asprintf(&line, "%s:%u: %s", ps->name, ps->line, msg) < 0)
                line = NULL;
        free(msg);
        if (!line) {
                ps->oom = true;
                return;
        }
        v = realloc(ps->errs->v, (ps->errs->n + 1) * sizeof(*v));
        if (!v) {
                free(line);
                ps->oom = true;
                return;
        }
        v[ps->errs->n++] = line;
        ps->errs->v = v;
        ps->last_error_line = ps->line;
}

void sbd_conf_key_error(struct parse *ps, const char *key, const char *value,
                        const char *reason)
{
        if (value)
                add_error(ps, "%s: %s \"%s\"", key, reason, value);
        else
                add_error(ps, "%s: %s", key, reason);
}

/* ---- lists ---- */

void sbd_conf_list_clear(struct sbd_conf_list *l)
{
        size_t i;

        for (i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

int sbd_conf_list_add(struct sbd_conf_list *l, const char *word, size_t len)
{
        char **v, *s;
        size_t i;

        for (i = 0; i < l->n; i++)
                if (strlen(l->v[i]) == len && memcmp(l->v[i], word, len) == 0)
                        return 0;   /* sets, not multisets */
        s = strndup(word, len);
        if (!s)
                return -ENOMEM;
        v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v) {
                free(s);
                return -ENOMEM;
        }
        v[l->n++] = s;
        l->v = v;
        return 0;
}

int sbd_conf_list_copy(struct sbd_conf_list *dst, const struct sbd_conf_list *src)
{
        size_t i;
        int r;

        memset(dst, 0, sizeof(*dst));
        for (i = 0; i < src->n; i++) {
                r = sbd_conf_list_add(dst, src->v[i], strlen(src->v[i]));
                if (r < 0) {
                        sbd_conf_list_clear(dst);
                        return r;
                }
        }
        return 0;
}

/* ---- profiles ---- */

static void profile_clear(struct sbd_conf_profile *p)
{
        sbd_conf_list_clear(&p->syscall_filter);
        sbd_conf_list_clear(&p->allowed_users);
        sbd_conf_list_clear(&p->allowed_hosts);
        sbd_conf_list_clear(&p->bind_ro);
}

static int profile_copy(struct sbd_conf_profile *dst, const struct sbd_conf_profile *src)
{
        *dst = *src;
        memset(&dst->syscall_filter, 0, sizeof(dst->syscall_filter));
        memset(&dst->allowed_users, 0, sizeof(dst->allowed_users));
        memset(&dst->allowed_hosts, 0, sizeof(dst->allowed_hosts));
        memset(&dst->bind_ro, 0, sizeof(dst->bind_ro));
        if (sbd_conf_list_copy(&dst->syscall_filter, &src->syscall_filter) < 0 ||
            sbd_conf_list_copy(&dst->allowed_users, &src->allowed_users) < 0 ||
            sbd_conf_list_copy(&dst->allowed_hosts, &src->allowed_hosts) < 0 ||
            sbd_conf_list_copy(&dst->bind_ro, &src->bind_ro) < 0) {
                profile_clear(dst);
                return -ENOMEM;
        }
        return 0;
}

const struct sbd_conf_profile *sbd_conf_profile_find(const struct sbd_conf *c, const char *name)
{
        size_t i;

        if (!name || !*name)
                name = "default";
        for (i = 0; i < c->n_profiles; i++)
                if (strcmp(c->profiles[i].p.name, name) == 0)
                        return &c->profiles[i];
        return NULL;
}

static void profiles_clear(struct sbd_conf *c)
{
        size_t i;

        for (i = 0; i < c->n_profiles; i++)
                profile_clear(&c->profiles[i]);
        free(c->profiles);
        c->profiles = NULL;
        c->n_profiles = 0;
}

static struct sbd_conf_profile *profile_append(struct sbd_conf *c,
                                               const struct sbd_conf_profile *from)
{
        struct sbd_conf_profile *v = realloc(c->profiles, (c->n_profiles + 1) * sizeof(*v));

        if (!v)
                return NULL;
        c->profiles = v;
        if (profile_copy(&v[c->n_profiles], from) < 0)
                return NULL;
        return &v[c->n_profiles++];
}

/* ---- sections ---- */

static bool profile_name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > SBP_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
                        return false;
        return true;
}

static void enter_section(struct parse *ps, const char *name)
{
        struct sbd_conf *c = ps->c;
        struct sbd_conf_profile *p;
        size_t i;

        ps->sec = SEC_IGNORED;
        ps->touched = 0;
        if (strcmp(name, "Daemon") == 0) {
                ps->sec = SEC_DAEMON;
                ps->touched = ps->touched_daemon;
                return;
        }
        if (strcmp(name, "Access") == 0) {
                ps->sec = SEC_ACCESS;
                ps->touched = ps->touched_access;
                return;
        }
        if (strncmp(name, "Profile ", 8) != 0) {
                add_error(ps, "[%s]: unknown section (expected [Daemon], [Access] or "
                          "[Profile NAME])", name);
                return;
        }
        name += 8;
        while (*name == ' ')
                name++;
        if (!profile_name_valid(name)) {
                add_error(ps, "[Profile %s]: invalid profile name (1 to %u of A-Z a-z 0-9 - _ .)",
                          name, SBP_NAME_MAX);
                return;
        }
        if (!ps->profiles_replaced) {
                /* The first profile of this text: its profiles replace the
                 * previous layer's (the previous "default" is kept aside). */
                ps->profiles_replaced = true;
                profiles_clear(c);
        }
        for (i = 0; i < c->n_profiles; i++) {
                if (strcmp(c->profiles[i].p.name, name) == 0) {
                        add_error(ps, "[Profile %s]: duplicate profile (first defined at line %u)",
                                  name, c->profiles[i].line);
                        return;
                }
        }
        p = profile_append(c, &ps->base);
        if (!p) {
                ps->oom = true;
                return;
        }
        snprintf(p->p.name, sizeof(p->p.name), "%s", name);
        snprintf(p->file, sizeof(p->file), "%s", ps->name);
        p->line = ps->line;
        ps->sec = SEC_PROFILE;
        ps->profile_index = c->n_profiles - 1;
}

/* ---- the inih callbacks ---- */

/* Save the touched-key mask of the section we leave (lists reset only on
 * their first assignment per text). */
static void leave_section(struct parse *ps)
{
        if (ps->sec == SEC_DAEMON)
                ps->touched_daemon = ps->touched;
        else if (ps->sec == SEC_ACCESS)
                ps->touched_access = ps->touched;
}

/* fgets-like: one line of the input, counted; section headers noted. */
static char *reader(char *str, int num, void *stream)
{
        struct parse *ps = stream;
        const char *start, *nl, *p;
        size_t len;

        if (ps->text[ps->pos] == '\0')
                return NULL;
        start = ps->text + ps->pos;
        nl = strchr(start, '\n');
        len = nl ? (size_t)(nl - start) + 1 : strlen(start);
        ps->pos += len;
        ps->line++;

        if (len + 1 > (size_t)num || len > LINE_MAX_BYTES) {
                add_error(ps, "line too long (at most %d bytes)", num - 2);
                snprintf(str, (size_t)num, "\n");
                return str;
        }
        memcpy(str, start, len);
        str[len] = '\0';
        if (memchr(str, '\0', len)) {
                add_error(ps, "NUL byte in line");
                snprintf(str, (size_t)num, "\n");
                return str;
        }

        for (p = str; *p == ' ' || *p == '\t'; p++)
                ;
        if (*p != '[')
                return str;
        if (p != str) {
                /* inih would read it as a continuation of the previous value. */
                add_error(ps, "section header must start at the beginning of the line");
                snprintf(str, (size_t)num, "\n");
                return str;
        }
        {
                char name[LINE_MAX_BYTES];
                const char *end = strchr(p, ']');

                if (!end) {
                        add_error(ps, "syntax error: section header without ']'");
                        leave_section(ps);
                        ps->sec = SEC_IGNORED;
                        snprintf(str, (size_t)num, "\n");
                        return str;
                }
                snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
                leave_section(ps);
                enter_section(ps, name);
        }
        return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
        struct parse *ps = user;

        (void)section;   /* tracked by reader(), which sees the raw lines */
        if (ps->oom)
                return 1;
        switch (ps->sec) {
        case SEC_NONE:
                sbd_conf_key_error(ps, name, NULL, "key outside of any section");
                break;
        case SEC_DAEMON:
                sbd_conf_set_daemon(ps, name, value);
                break;
        case SEC_ACCESS:
                sbd_conf_set_access(ps, name, value);
                break;
        case SEC_PROFILE:
                sbd_conf_set_profile(ps, &ps->c->profiles[ps->profile_index], name, value);
                break;
        case SEC_IGNORED:
                break;   /* its header was already reported */
        }
        return 1;
}

/* The profile new sections start from: the current "default", or all zero
 * (no limits) while the built-in text itself is read. */
static int base_init(struct parse *ps)
{
        const struct sbd_conf_profile *d = sbd_conf_profile_find(ps->c, "default");

        memset(&ps->base, 0, sizeof(ps->base));
        if (d)
                return profile_copy(&ps->base, d);
        snprintf(ps->base.p.network, sizeof(ps->base.p.network), "none");
        return 0;
}

int sbd_conf_apply_text(struct sbd_conf *c, const char *name, const char *text,
                        struct sbd_conf_errors *errs)
{
        struct parse ps;
        int r;

        memset(&ps, 0, sizeof(ps));
        ps.c = c;
        ps.name = name;
        ps.errs = errs;
        ps.text = text;
        if (base_init(&ps) < 0)
                return -ENOMEM;
        r = ini_parse_stream(reader, &ps, handler, &ps);
        if (r > 0 && (unsigned)r != ps.last_error_line) {
                ps.line = (unsigned)r;
                add_error(&ps, "syntax error (expected KEY=VALUE, [SECTION] or a comment)");
        } else if (r < 0) {
                ps.oom = true;
        }
        /* A file's profile set without "default" keeps the previous one. */
        if (!ps.oom && ps.profiles_replaced && !sbd_conf_profile_find(c, "default") &&
            ps.base.p.name[0]) {
                if (!profile_append(c, &ps.base))
                        ps.oom = true;
        }
        profile_clear(&ps.base);
        if (ps.oom)
                return -ENOMEM;
        return ps.failed ? -EINVAL : 0;
}

/* "FILE: reason", for problems of the file as a whole. */
static int file_error(struct sbd_conf_errors *errs, const char *path, const char *reason)
{
        char *line, **v;

        if (asprintf(&line, "%s: %s", path, reason) < 0)
                return -ENOMEM;
        v = realloc(errs->v, (errs->n + 1) * sizeof(*v));
        if (!v) {
                free(line);
                return -ENOMEM;
        }
        v[errs->n++] = line;
        errs->v = v;
        return -EINVAL;
}

#define FILE_SIZE_MAX (1u << 20)

int sbd_conf_apply_file(struct sbd_conf *c, const char *path, struct sbd_conf_errors *errs)
{
        char *text;
        size_t len = 0, n;
        FILE *f;
        int r;

        f = fopen(path, "re");
        if (!f)
                return file_error(errs, path, strerror(errno));
        text = malloc(FILE_SIZE_MAX + 1);
        if (!text) {
                fclose(f);
                return -ENOMEM;
        }
        while (len <= FILE_SIZE_MAX && (n = fread(text + len, 1, FILE_SIZE_MAX + 1 - len, f)) > 0)
                len += n;
        r = ferror(f) ? file_error(errs, path, "read error") : 0;
        fclose(f);
        if (r == 0 && len > FILE_SIZE_MAX)
                r = file_error(errs, path, "larger than 1 MiB");
        if (r == 0 && memchr(text, '\0', len))
                r = file_error(errs, path, "contains a NUL byte");
        if (r == 0) {
                text[len] = '\0';
                r = sbd_conf_apply_text(c, path, text, errs);
        }
        free(text);
        return r;
}

/* ---- whole configurations ---- */

struct sbd_conf *sbd_conf_free(struct sbd_conf *c)
{
        if (!c)
                return NULL;
        free(c->daemon.socket);
        free(c->daemon.socket_group);
        free(c->daemon.state_directory);
        free(c->daemon.backend);
        free(c->daemon.cgroup_name);
        free(c->daemon.log_level);
        sbd_conf_list_clear(&c->admins);
        sbd_conf_list_clear(&c->clients);
        profiles_clear(c);
        free(c);
        return NULL;
}

struct sbd_conf *sbd_conf_new_builtin(void)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return NULL;
        r = sbd_conf_apply_text(c, "<built-in>", sbd_conf_builtin_text, &errs);
        sbd_conf_errors_clear(&errs);
        if (r < 0 || !sbd_conf_profile_find(c, "default"))
                return sbd_conf_free(c);
        return c;
}

int sbd_conf_load(const char *path, struct sbd_conf **out, struct sbd_conf_errors *errs)
{
        struct sbd_conf *c = sbd_conf_new_builtin();
        int r;

        *out = NULL;
        if (!c)
                return -ENOMEM;
        if (path) {
                r = sbd_conf_apply_file(c, path, errs);
                if (r < 0) {
                        sbd_conf_free(c);
                        return r;
                }
        }
        *out = c;
        return 0;
}
