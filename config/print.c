/* print.c — the effective configuration as INI text (--print-config).
 *
 * Every key of every section is written, defaults included, in the syntax
 * the parser reads, so the output is itself a complete configuration:
 * parsing it yields the same struct sbd_conf (a unit test checks the round
 * trip). Sizes and times are printed in the largest exact unit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"

/* The text so far, grown as it is written (open_memstream is POSIX's, and
 * the Windows build has none). */
struct out {
        char *buf;
        size_t len, cap;
        bool failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (o->failed)
                return;
        va_start(ap, fmt);
        n = vsnprintf(o->buf ? o->buf + o->len : NULL, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
                o->failed = true;
                return;
        }
        if ((size_t)n >= o->cap - o->len) {
                size_t cap = o->cap ? o->cap : 4096;
                char *nb;

                while (cap - o->len <= (size_t)n)
                        cap *= 2;
                nb = realloc(o->buf, cap);
                if (!nb) {
                        o->failed = true;
                        return;
                }
                o->buf = nb;
                o->cap = cap;
                va_start(ap, fmt);
                n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
                va_end(ap);
                if (n < 0 || (size_t)n >= o->cap - o->len) {
                        o->failed = true;
                        return;
                }
        }
        o->len += (size_t)n;
}

static void put_size(struct out *f, const char *key, uint64_t v)
{
        static const struct {
                const char *suffix;
                unsigned shift;
        } units[] = { { "T", 40 }, { "G", 30 }, { "M", 20 }, { "K", 10 } };
        size_t i;

        if (v == 0) {
                put(f, "%s=infinity\n", key);
                return;
        }
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (v % (1ull << units[i].shift) == 0) {
                        put(f, "%s=%" PRIu64 "%s\n", key, v >> units[i].shift,
                                units[i].suffix);
                        return;
                }
        }
        put(f, "%s=%" PRIu64 "\n", key, v);
}

static void put_share(struct out *f, const char *key, const struct sbd_conf_share *s)
{
        if (s->percent)
                put(f, "%s=%" PRIu32 "%%\n", key, s->percent);
        else
                put_size(f, key, s->bytes);
}

static void put_time(struct out *f, const char *key, uint64_t ms, const char *zero)
{
        if (ms == 0)
                put(f, "%s=%s\n", key, zero);
        else if (ms % 3600000 == 0)
                put(f, "%s=%" PRIu64 "h\n", key, ms / 3600000);
        else if (ms % 60000 == 0)
                put(f, "%s=%" PRIu64 "min\n", key, ms / 60000);
        else if (ms % 1000 == 0)
                put(f, "%s=%" PRIu64 "s\n", key, ms / 1000);
        else
                put(f, "%s=%" PRIu64 "ms\n", key, ms);
}

static void put_list(struct out *f, const char *key, const struct sbd_conf_list *l)
{
        size_t i;

        put(f, "%s=", key);
        for (i = 0; i < l->n; i++)
                put(f, "%s%s", i ? " " : "", l->v[i]);
        put(f, "\n");
}

static void put_profile(struct out *f, const struct sbd_conf_profile *p)
{
        unsigned i;
        bool first = true;

        put(f, "\n[Profile %s]\n", p->p.name);
        put_size(f, "MemoryMax", p->p.memory_max);
        if (p->p.tasks_max)
                put(f, "TasksMax=%" PRIu64 "\n", p->p.tasks_max);
        else
                put(f, "TasksMax=infinity\n");
        if (p->p.cpu_percent)
                put(f, "CPUQuota=%" PRIu32 "%%\n", p->p.cpu_percent);
        else
                put(f, "CPUQuota=\n");
        put_time(f, "RuntimeMaxSec", p->p.timeout_ms, "infinity");
        put(f, "Network=%s\n", p->p.network);
        put_list(f, "AllowedHosts", &p->allowed_hosts);
        put_list(f, "BindReadOnlyPaths", &p->bind_ro);
        put_size(f, "TmpSize", p->p.tmp_size);
        put(f, "TmpInodesMax=%" PRIu64 "\n", p->p.tmp_inodes_max);
        put_size(f, "WorkSizeMax", p->p.work_size_max);
        put(f, "WorkInodesMax=%" PRIu64 "\n", p->p.work_inodes_max);
        put_size(f, "OutputMax", p->p.output_max);
        put(f, "OutputTruncate=%s\n", p->p.output_truncate ? "yes" : "no");
        put(f, "ReadOnlyPaths=\n");
        put_list(f, "SystemCallFilter", &p->syscall_filter);
        put(f, "Require=");
        for (i = 0; i < SBD_REQ__COUNT; i++) {
                if (!(p->require & (1u << i)))
                        continue;
                put(f, "%s%s", first ? "" : " ", sbd_conf_require_name(i));
                first = false;
        }
        put(f, "\n");
        put_list(f, "AllowedUsers", &p->allowed_users);
}

char *sbd_conf_format(const struct sbd_conf *c)
{
        const struct sbd_conf_daemon *d = &c->daemon;
        struct out text = { 0 }, *f = &text;
        size_t i;

        put(f, "[Daemon]\n");
        put(f, "Socket=%s\n", d->socket ? d->socket : "");
        put(f, "SocketGroup=%s\n", d->socket_group ? d->socket_group : "");
        put(f, "SocketMode=%04" PRIo32 "\n", d->socket_mode);
        put(f, "StateDirectory=%s\n", d->state_directory ? d->state_directory : "");
        put(f, "Backend=%s\n", d->backend ? d->backend : "auto");
        put(f, "CgroupName=%s\n", d->cgroup_name ? d->cgroup_name : "");
        put(f, "UidRange=%" PRIu32 "-%" PRIu32 "\n", d->uid_first, d->uid_last);
        put(f, "MaxConnections=%" PRIu32 "\n", d->max_connections);
        put(f, "MaxConnectionsPerUser=%" PRIu32 "\n", d->max_connections_per_user);
        put(f, "MaxJobs=%" PRIu32 "\n", d->max_jobs);
        put(f, "MaxJobsPerUser=%" PRIu32 "\n", d->max_jobs_per_user);
        put_time(f, "RetainSec", d->retain_ms, "0");
        put(f, "MaxRetainedJobs=%" PRIu32 "\n", d->max_retained);
        put(f, "MaxRetainedJobsPerUser=%" PRIu32 "\n", d->max_retained_per_user);
        put_share(f, "MaxJobsMemory", &d->jobs_memory_max);
        put_share(f, "MaxJobsMemoryPerUser", &d->jobs_memory_max_per_user);
        put_size(f, "StdinQueueMax", d->stdin_queue_max);
        put(f, "PreparedSandboxes=%" PRIu32 "\n", d->prepared_sandboxes);
        put_time(f, "SandboxIdleTimeoutSec", d->sandbox_idle_ms, "0");
        put_time(f, "SandboxMaxLifetimeSec", d->sandbox_lifetime_ms, "0");
        put(f, "SandboxesPerClient=%" PRIu32 "\n", d->sandboxes_per_client);
        put(f, "LogLevel=%s\n", d->log_level ? d->log_level : "info");

        put(f, "\n[Access]\n");
        put_list(f, "Admins", &c->admins);
        put_list(f, "Clients", &c->clients);

        for (i = 0; i < c->n_profiles; i++)
                put_profile(f, &c->profiles[i]);
        if (text.failed || !text.buf) {
                free(text.buf);
                return NULL;
        }
        return text.buf;
}
