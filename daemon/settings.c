/* settings.c — the configuration file inside the daemon.
 *
 * Precedence: built-in text < config file < command line. The command line
 * is parsed twice by main.c, around sbd_settings_load(), so its options
 * land on top of the file's; sbd_settings_finish() records which values it
 * changed, and a reload keeps those.
 *
 * This is the one owner of the running configuration: its profiles are
 * read through sbd_settings_conf() (profile.c holds none), so a reload
 * switches profiles and access rules in one step.
 *
 * Lifetime: d->opt's strings point into the configuration read at start
 * (boot), which lives until exit: Socket*, StateDirectory, Backend,
 * CgroupName and UidRange are fixed for the life of the process anyway. A
 * reload builds a new configuration and access rules completely before
 * switching to them, so a bad file changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon/log.h"
#include "daemon/prepared.h"
#include "daemon/quota.h"
#include "daemon/settings.h"

#ifndef SKILLBOX_DEFAULT_CONFIG
#define SKILLBOX_DEFAULT_CONFIG "/etc/skillbox/skillboxd.conf"
#endif

struct sbd_settings {
        char *path;                    /* the file read; NULL = built-in only */
        struct sbd_conf *boot;         /* read at start; d->opt points into it */
        struct sbd_conf *cur;          /* current; == boot until a reload */
        struct sbd_access *access;     /* built from cur */
        struct sbd_options from_conf;  /* d->opt as the file left it */
        struct sbd_options cli;        /* d->opt after the command line */
        enum sbd_log_level conf_level;
        bool cli_level;                /* --log-level given: reload keeps it */
};

static const char *level_name(enum sbd_log_level l)
{
        switch (l) {
        case SBD_LOG_DEBUG:
                return "debug";
        case SBD_LOG_INFO:
                return "info";
        case SBD_LOG_WARNING:
                return "warning";
        case SBD_LOG_ERROR:
                return "error";
        }
        return "info";
}

/* The file to read: --config, else the default path if it exists. */
static const char *config_path(const struct sbd_daemon *d)
{
        if (d->opt.config_path)
                return d->opt.config_path;
        if (access(SKILLBOX_DEFAULT_CONFIG, F_OK) == 0)
                return SKILLBOX_DEFAULT_CONFIG;
        return NULL;
}

static void report(const struct sbd_daemon *d, const struct sbd_conf_errors *errs)
{
        size_t i;

        for (i = 0; i < errs->n; i++) {
                if (d->opt.check_config)
                        fprintf(stderr, "%s\n", errs->v[i]);
                else
                        log_error("%s", errs->v[i]);
        }
}

static void apply_daemon(struct sbd_options *o, const struct sbd_conf *c)
{
        const struct sbd_conf_daemon *cd = &c->daemon;

        o->socket_path = cd->socket;
        o->socket_group = cd->socket_group ? cd->socket_group : "";
        o->socket_mode = cd->socket_mode;
        o->state_dir = cd->state_directory;
        o->backend = strcmp(cd->backend, "auto") == 0 ? SKILLBOX_DEFAULT_BACKEND
                                                      : cd->backend;
        o->cgroup_name = cd->cgroup_name;
        o->uid_first = cd->uid_first;
        o->uid_last = cd->uid_last;
        o->max_connections = cd->max_connections;
        o->max_connections_per_uid = cd->max_connections_per_user;
        if (o->max_connections_per_uid > o->max_connections)
                o->max_connections_per_uid = o->max_connections;
        o->max_jobs = cd->max_jobs;
        o->max_jobs_per_user = cd->max_jobs_per_user;
        o->retain_ms = cd->retain_ms;
        o->max_retained = cd->max_retained;
        o->max_retained_per_user = cd->max_retained_per_user;
        o->jobs_memory_max = sbd_quota_share_bytes(cd->jobs_memory_max.bytes,
                                                   cd->jobs_memory_max.percent);
        o->jobs_memory_max_per_user = sbd_quota_share_bytes(cd->jobs_memory_max_per_user.bytes,
                                                            cd->jobs_memory_max_per_user.percent);
        o->stdin_queue_max = cd->stdin_queue_max;
        o->prepared = cd->prepared_sandboxes;
        o->sandbox_idle_ms = cd->sandbox_idle_ms;
        o->sandbox_lifetime_ms = cd->sandbox_lifetime_ms;
        o->sandboxes_per_client = cd->sandboxes_per_client;
}

int sbd_settings_load(struct sbd_daemon *d)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_settings *s;
        const char *path = config_path(d);
        int r;

        s = calloc(1, sizeof(*s));
        if (!s || (path && !(s->path = strdup(path)))) {
                free(s);
                log_error("out of memory");
                return -ENOMEM;
        }
        d->settings = s;
        r = sbd_conf_load(path, &s->boot, &errs);
        report(d, &errs);
        sbd_conf_errors_clear(&errs);
        if (r < 0) {
                if (r == -ENOMEM)
                        log_error("configuration: out of memory");
                else if (!d->opt.check_config)
                        log_error("configuration %s is invalid; not starting", path);
                return r;
        }
        s->cur = s->boot;
        apply_daemon(&d->opt, s->boot);
        s->from_conf = d->opt;
        r = sbd_log_level_from_name(s->boot->daemon.log_level);
        s->conf_level = r < 0 ? SBD_LOG_INFO : (enum sbd_log_level)r;
        sbd_log_set_level(s->conf_level);
        return 0;
}

/* Write d->opt back into the boot configuration, so --print-config shows
 * what this daemon would actually run with. */
static int effective(struct sbd_daemon *d)
{
        struct sbd_conf_daemon *cd = &d->settings->boot->daemon;
        struct {
                char **field;
                const char *value;
        } str[] = {
                { &cd->socket, d->opt.socket_path },
                { &cd->socket_group, d->opt.socket_group },
                { &cd->state_directory, d->opt.state_dir },
                { &cd->cgroup_name, d->opt.cgroup_name },
                { &cd->log_level, level_name(sbd_log_get_level()) },
        };
        size_t i;

        for (i = 0; i < sizeof(str) / sizeof(str[0]); i++) {
                char *v;

                if (*str[i].field == str[i].value)
                        continue;
                v = strdup(str[i].value);
                if (!v)
                        return -ENOMEM;
                free(*str[i].field);
                *str[i].field = v;
        }
        /* An explicit backend stays as asked; "auto" stays auto. */
        if (d->opt.backend != d->settings->from_conf.backend) {
                char *v = strdup(d->opt.backend);

                if (!v)
                        return -ENOMEM;
                free(cd->backend);
                cd->backend = v;
        }
        cd->socket_mode = d->opt.socket_mode;
        cd->uid_first = d->opt.uid_first;
        cd->uid_last = d->opt.uid_last;
        cd->max_connections = d->opt.max_connections;
        cd->max_connections_per_user = d->opt.max_connections_per_uid;
        cd->max_jobs = d->opt.max_jobs;
        cd->max_jobs_per_user = d->opt.max_jobs_per_user;
        cd->retain_ms = d->opt.retain_ms;
        cd->max_retained = d->opt.max_retained;
        cd->prepared_sandboxes = d->opt.prepared;
        return 0;
}

int sbd_settings_finish(struct sbd_daemon *d)
{
        struct sbd_settings *s = d->settings;
        int r;

        s->cli = d->opt;
        s->cli_level = sbd_log_get_level() != s->conf_level;
        r = sbd_access_new(s->cur, &s->access);
        if (r < 0) {
                log_error("configuration: out of memory");
                return r;
        }
        if (d->opt.print_config) {
                char *text;

                r = effective(d);
                text = r < 0 ? NULL : sbd_conf_format(s->boot);
                if (!text) {
                        log_error("configuration: out of memory");
                        return -ENOMEM;
                }
                fputs(text, stdout);
                free(text);
                return fflush(stdout) == 0 ? 1 : -EIO;
        }
        if (d->opt.check_config)
                return 1;
        log_info("configuration: %s (%zu profiles)", s->path ? s->path : "built-in",
                 s->cur->n_profiles);
        return 0;
}

/* Keys only a restart applies: warn when a reload would change them. */
static void warn_restart_only(struct sbd_daemon *d, const struct sbd_conf *n)
{
        const struct sbd_settings *s = d->settings;
        const struct sbd_conf_daemon *o = &s->boot->daemon, *c = &n->daemon;

#define CHANGED_STR(f) (strcmp(o->f ? o->f : "", c->f ? c->f : "") != 0)
        if (CHANGED_STR(socket) || CHANGED_STR(socket_group) || o->socket_mode != c->socket_mode)
                log_warning("reload: Socket, SocketGroup or SocketMode changed; it takes a "
                            "restart to apply");
        if (CHANGED_STR(state_directory))
                log_warning("reload: StateDirectory changed; it takes a restart to apply");
        if (CHANGED_STR(backend) || CHANGED_STR(cgroup_name) || o->uid_first != c->uid_first ||
            o->uid_last != c->uid_last)
                log_warning("reload: Backend, CgroupName or UidRange changed; it takes a "
                            "restart to apply");
#undef CHANGED_STR
}

void sbd_settings_reload(struct sbd_daemon *d)
{
        struct sbd_settings *s = d->settings;
        struct sbd_conf_errors errs = { 0 };
        struct sbd_access *access = NULL;
        struct sbd_options o;
        struct sbd_conf *c;
        const char *path;
        int r;

        if (!s)
                return;
        /* Without --config the default file may have appeared or gone. */
        path = config_path(d);
        r = sbd_conf_load(path, &c, &errs);
        report(d, &errs);
        sbd_conf_errors_clear(&errs);
        if (r == 0)
                r = sbd_access_new(c, &access);
        if (r < 0) {
                log_error("reload: configuration %s refused (%s); keeping the current one",
                          path ? path : "built-in", r == -ENOMEM ? "out of memory" : "invalid");
                sbd_conf_free(c);
                return;
        }
        warn_restart_only(d, c);

        /* The reloadable [Daemon] keys, unless the command line set them. */
        apply_daemon(&o, c);
#define RELOAD(f) d->opt.f = s->cli.f != s->from_conf.f ? s->cli.f : o.f
        RELOAD(max_connections);
        RELOAD(max_connections_per_uid);
        RELOAD(max_jobs);
        RELOAD(max_jobs_per_user);
        RELOAD(retain_ms);
        RELOAD(max_retained);
        RELOAD(max_retained_per_user);
        RELOAD(jobs_memory_max);
        RELOAD(jobs_memory_max_per_user);
        RELOAD(stdin_queue_max);
        RELOAD(prepared);
        RELOAD(sandbox_idle_ms);
        RELOAD(sandbox_lifetime_ms);
        RELOAD(sandboxes_per_client);
#undef RELOAD
        if (d->opt.max_connections_per_uid > d->opt.max_connections)
                d->opt.max_connections_per_uid = d->opt.max_connections;
        if (!s->cli_level) {
                r = sbd_log_level_from_name(c->daemon.log_level);
                if (r >= 0)
                        sbd_log_set_level((enum sbd_log_level)r);
        }

        /* Profiles and access rules switch together: every request from
         * here on sees the new ones; a running job keeps its copied
         * limits, and nothing points into the old configuration. */
        sbd_access_free(s->access);
        s->access = access;
        if (s->cur != s->boot)
                sbd_conf_free(s->cur);
        s->cur = c;
        /* Built under the old profiles: build them again. */
        sbd_prepared_drop_all(d);
        d->prepared_failures = 0;
        sbd_prepared_schedule(d, 0);
        free(s->path);
        s->path = path ? strdup(path) : NULL;
        log_info("reload: configuration %s loaded (%zu profiles); running jobs keep theirs",
                 path ? path : "built-in", c->n_profiles);
}

void sbd_settings_free(struct sbd_daemon *d)
{
        struct sbd_settings *s = d->settings;

        if (!s)
                return;
        sbd_access_free(s->access);
        if (s->cur != s->boot)
                sbd_conf_free(s->cur);
        sbd_conf_free(s->boot);
        free(s->path);
        free(s);
        d->settings = NULL;
}

const struct sbd_conf *sbd_settings_conf(const struct sbd_daemon *d)
{
        return d->settings ? d->settings->cur : NULL;
}

const struct sbd_access *sbd_settings_access(const struct sbd_daemon *d)
{
        return d->settings ? d->settings->access : NULL;
}
