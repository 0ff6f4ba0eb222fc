/* print.c — the effective configuration as INI text (--print-config).
 *
 * Every key of every section is written, defaults included, in the syntax
 * the parser reads, so the output is itself a complete configuration:
 * parsing it yields the same struct sbd_conf (a unit test checks the round
 * trip). Sizes and times are printed in the largest exact unit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"

static void put_size(FILE *f, const char *key, uint64_t v)
{
        static const struct {
                const char *suffix;
                unsigned shift;
        } units[] = { { "T", 40 }, { "G", 30 }, { "M", 20 }, { "K", 10 } };
        size_t i;

        if (v == 0) {
                fprintf(f, "%s=infinity\n", key);
                return;
        }
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (v % (1ull << units[i].shift) == 0) {
                        fprintf(f, "%s=%" PRIu64 "%s\n", key, v >> units[i].shift,
                                units[i].suffix);
                        return;
                }
        }
        fprintf(f, "%s=%" PRIu64 "\n", key, v);
}

static void put_share(FILE *f, const char *key, const struct sbd_conf_share *s)
{
        if (s->percent)
                fprintf(f, "%s=%" PRIu32 "%%\n", key, s->percent);
        else
                put_size(f, key, s->bytes);
}

static void put_time(FILE *f, const char *key, uint64_t ms, const char *zero)
{
        if (ms == 0)
                fprintf(f, "%s=%s\n", key, zero);
        else if (ms % 3600000 == 0)
                fprintf(f, "%s=%" PRIu64 "h\n", key, ms / 3600000);
        else if (ms % 60000 == 0)
                fprintf(f, "%s=%" PRIu64 "min\n", key, ms / 60000);
        else if (ms % 1000 == 0)
                fprintf(f, "%s=%" PRIu64 "s\n", key, ms / 1000);
        else
                fprintf(f, "%s=%" PRIu64 "ms\n", key, ms);
}

static void put_list(FILE *f, const char *key, const struct sbd_conf_list *l)
{
        size_t i;

        fprintf(f, "%s=", key);
        for (i = 0; i < l->n; i++)
                fprintf(f, "%s%s", i ? " " : "", l->v[i]);
        fputc('\n', f);
}

static void put_profile(FILE *f, const struct sbd_conf_profile *p)
{
        unsigned i;
        bool first = true;

        fprintf(f, "\n[Profile %s]\n", p->p.name);
        put_size(f, "MemoryMax", p->p.memory_max);
        if (p->p.tasks_max)
                fprintf(f, "TasksMax=%" PRIu64 "\n", p->p.tasks_max);
        else
                fprintf(f, "TasksMax=infinity\n");
        if (p->p.cpu_percent)
                fprintf(f, "CPUQuota=%" PRIu32 "%%\n", p->p.cpu_percent);
        else
                fprintf(f, "CPUQuota=\n");
        put_time(f, "RuntimeMaxSec", p->p.timeout_ms, "infinity");
        fprintf(f, "Network=%s\n", p->p.network);
        put_list(f, "AllowedHosts", &p->allowed_hosts);
        put_list(f, "BindReadOnlyPaths", &p->bind_ro);
        put_size(f, "TmpSize", p->p.tmp_size);
        fprintf(f, "TmpInodesMax=%" PRIu64 "\n", p->p.tmp_inodes_max);
        put_size(f, "WorkSizeMax", p->p.work_size_max);
        fprintf(f, "WorkInodesMax=%" PRIu64 "\n", p->p.work_inodes_max);
        put_size(f, "OutputMax", p->p.output_max);
        fprintf(f, "OutputTruncate=%s\n", p->p.output_truncate ? "yes" : "no");
        fprintf(f, "ReadOnlyPaths=\n");
        put_list(f, "SystemCallFilter", &p->syscall_filter);
        fprintf(f, "Require=");
        for (i = 0; i < SBD_REQ__COUNT; i++) {
                if (!(p->require & (1u << i)))
                        continue;
                fprintf(f, "%s%s", first ? "" : " ", sbd_conf_require_name(i));
                first = false;
        }
        fputc('\n', f);
        put_list(f, "AllowedUsers", &p->allowed_users);
}

char *sbd_conf_format(const struct sbd_conf *c)
{
        const struct sbd_conf_daemon *d = &c->daemon;
        char *buf = NULL;
        size_t len = 0, i;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        fprintf(f, "[Daemon]\n");
        fprintf(f, "Socket=%s\n", d->socket ? d->socket : "");
        fprintf(f, "SocketGroup=%s\n", d->socket_group ? d->socket_group : "");
        fprintf(f, "SocketMode=%04" PRIo32 "\n", d->socket_mode);
        fprintf(f, "StateDirectory=%s\n", d->state_directory ? d->state_directory : "");
        fprintf(f, "Backend=%s\n", d->backend ? d->backend : "auto");
        fprintf(f, "CgroupName=%s\n", d->cgroup_name ? d->cgroup_name : "");
        fprintf(f, "UidRange=%" PRIu32 "-%" PRIu32 "\n", d->uid_first, d->uid_last);
        fprintf(f, "MaxConnections=%" PRIu32 "\n", d->max_connections);
        fprintf(f, "MaxConnectionsPerUser=%" PRIu32 "\n", d->max_connections_per_user);
        fprintf(f, "MaxJobs=%" PRIu32 "\n", d->max_jobs);
        fprintf(f, "MaxJobsPerUser=%" PRIu32 "\n", d->max_jobs_per_user);
        put_time(f, "RetainSec", d->retain_ms, "0");
        fprintf(f, "MaxRetainedJobs=%" PRIu32 "\n", d->max_retained);
        fprintf(f, "MaxRetainedJobsPerUser=%" PRIu32 "\n", d->max_retained_per_user);
        put_share(f, "MaxJobsMemory", &d->jobs_memory_max);
        put_share(f, "MaxJobsMemoryPerUser", &d->jobs_memory_max_per_user);
        put_size(f, "StdinQueueMax", d->stdin_queue_max);
        fprintf(f, "PreparedSandboxes=%" PRIu32 "\n", d->prepared_sandboxes);
        put_time(f, "SandboxIdleTimeoutSec", d->sandbox_idle_ms, "0");
        put_time(f, "SandboxMaxLifetimeSec", d->sandbox_lifetime_ms, "0");
        fprintf(f, "SandboxesPerClient=%" PRIu32 "\n", d->sandboxes_per_client);
        fprintf(f, "LogLevel=%s\n", d->log_level ? d->log_level : "info");

        fprintf(f, "\n[Access]\n");
        put_list(f, "Admins", &c->admins);
        put_list(f, "Clients", &c->clients);

        for (i = 0; i < c->n_profiles; i++)
                put_profile(f, &c->profiles[i]);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
