/* jobobject.c — policy -> job-object limits (jobobject.h). Pure: no
 * Windows headers, no I/O; apply.c hands the result to
 * SetInformationJobObject.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backends/windows/jobobject.h"
#include "backends/text.h"

int sb_win_job_limits_from_policy(const struct sb_policy *p, uint32_t ncpus,
                                  struct sb_win_job_limits *out)
{
        memset(out, 0, sizeof(*out));
        if (ncpus == 0)
                return -EINVAL;
        /* Without KILL_ON_JOB_CLOSE a job outlives a daemon that crashed;
         * without DIE_ON_UNHANDLED_EXCEPTION a crashing process waits on
         * the error reporting dialog until the timeout. BREAKAWAY_OK and
         * SILENT_BREAKAWAY_OK stay clear: every child stays in the job. */
        out->limit_flags = SB_WIN_LIMIT_KILL_ON_JOB_CLOSE | SB_WIN_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
        if (p->memory_max > 0) {
                out->limit_flags |= SB_WIN_LIMIT_JOB_MEMORY;
                out->job_memory_limit = p->memory_max;
        }
        if (p->tasks_max > 0) {
                if (p->tasks_max > UINT32_MAX)
                        return -EINVAL;
                out->limit_flags |= SB_WIN_LIMIT_ACTIVE_PROCESS;
                out->active_process_limit = (uint32_t)p->tasks_max;
        }
        if (p->cpu_percent > 0) {
                /* cpu_percent is of one CPU, CpuRate of all of them. A cap
                 * at or above the machine is still set (a hard cap of the
                 * whole machine), so the job is never without one. */
                uint64_t rate = (uint64_t)p->cpu_percent * 100u / ncpus;

                if (rate < 1)
                        rate = 1;
                if (rate > SB_WIN_CPU_RATE_FULL)
                        rate = SB_WIN_CPU_RATE_FULL;
                out->cpu_rate_flags = SB_WIN_CPU_RATE_CONTROL_ENABLE | SB_WIN_CPU_RATE_CONTROL_HARD_CAP;
                out->cpu_rate = (uint32_t)rate;
        }
        /* A skill has no business with the desktop, the clipboard, other
         * processes' windows (USER handles), global atoms, system
         * parameters, display settings or logging off. */
        out->ui_restrictions = SB_WIN_UILIMIT_ALL;
        return 0;
}

struct flag_name {
        uint32_t bit;
        const char *name;
};

static const struct flag_name limit_names[] = {
        { SB_WIN_LIMIT_ACTIVE_PROCESS, "JOB_OBJECT_LIMIT_ACTIVE_PROCESS" },
        { SB_WIN_LIMIT_JOB_MEMORY, "JOB_OBJECT_LIMIT_JOB_MEMORY" },
        { SB_WIN_LIMIT_DIE_ON_UNHANDLED_EXCEPTION, "JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION" },
        { SB_WIN_LIMIT_KILL_ON_JOB_CLOSE, "JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE" },
        { 0, NULL },
};

static const struct flag_name cpu_names[] = {
        { SB_WIN_CPU_RATE_CONTROL_ENABLE, "JOB_OBJECT_CPU_RATE_CONTROL_ENABLE" },
        { SB_WIN_CPU_RATE_CONTROL_HARD_CAP, "JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP" },
        { 0, NULL },
};

static const struct flag_name ui_names[] = {
        { SB_WIN_UILIMIT_HANDLES, "JOB_OBJECT_UILIMIT_HANDLES" },
        { SB_WIN_UILIMIT_READCLIPBOARD, "JOB_OBJECT_UILIMIT_READCLIPBOARD" },
        { SB_WIN_UILIMIT_WRITECLIPBOARD, "JOB_OBJECT_UILIMIT_WRITECLIPBOARD" },
        { SB_WIN_UILIMIT_SYSTEMPARAMETERS, "JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS" },
        { SB_WIN_UILIMIT_DISPLAYSETTINGS, "JOB_OBJECT_UILIMIT_DISPLAYSETTINGS" },
        { SB_WIN_UILIMIT_GLOBALATOMS, "JOB_OBJECT_UILIMIT_GLOBALATOMS" },
        { SB_WIN_UILIMIT_DESKTOP, "JOB_OBJECT_UILIMIT_DESKTOP" },
        { SB_WIN_UILIMIT_EXITWINDOWS, "JOB_OBJECT_UILIMIT_EXITWINDOWS" },
        { 0, NULL },
};

/* Flags by name, "|"-joined; bits without a name in hex; "0" for none. */
static void put_flags(struct sb_text *t, const char *field, uint32_t v, const struct flag_name *names)
{
        bool first = true;

        sb_text_put(t, "%s = ", field);
        for (const struct flag_name *f = names; f->name; f++)
                if (v & f->bit) {
                        sb_text_put(t, "%s%s", first ? "" : "|", f->name);
                        v &= ~f->bit;
                        first = false;
                }
        if (v || first)
                sb_text_put(t, "%s0x%" PRIx32, first ? "" : "|", v);
        sb_text_put(t, "\n");
}

int sb_win_job_limits_format(const struct sb_win_job_limits *l, char *buf, size_t len)
{
        struct sb_text t = { .buf = buf, .len = len };

        if (len == 0)
                return -ENOSPC;
        buf[0] = '\0';
        put_flags(&t, "LimitFlags", l->limit_flags, limit_names);
        if (l->limit_flags & SB_WIN_LIMIT_JOB_MEMORY)
                sb_text_put(&t, "JobMemoryLimit = %" PRIu64 "\n", l->job_memory_limit);
        if (l->limit_flags & SB_WIN_LIMIT_ACTIVE_PROCESS)
                sb_text_put(&t, "ActiveProcessLimit = %" PRIu32 "\n", l->active_process_limit);
        put_flags(&t, "CpuRateControl", l->cpu_rate_flags, cpu_names);
        if (l->cpu_rate_flags)
                sb_text_put(&t, "CpuRate = %" PRIu32 "\n", l->cpu_rate);
        put_flags(&t, "UIRestrictionsClass", l->ui_restrictions, ui_names);
        return t.overflow ? -ENOSPC : (int)t.used;
}

void sb_win_enforced(const struct sb_win_job_limits *l, const struct sb_policy *p,
                     struct sbp_enforced *out)
{
        memset(out, 0, sizeof(*out));
        snprintf(out->backend, sizeof(out->backend), "windows");
        snprintf(out->cgroup, sizeof(out->cgroup), "none");
        /* A job object ends every process of the job together, and its
         * limits are Windows' resource limits: what setrlimit is elsewhere
         * (PROTOCOL.md, rlimits), so a profile requiring rlimits runs. */
        out->process_group = true;
        out->rlimits = true;
        out->uid = -1;
        out->gid = -1;
        /* "" = not isolated: the job object gives no network of its own
         * (an AppContainer's is added by sb_win_enforced_token()); only
         * HOST says what a job has then. */
        if (p && p->network == SB_NETWORK_HOST)
                snprintf(out->network, sizeof(out->network), "host");
        if (!l)
                return;
        if (l->limit_flags & SB_WIN_LIMIT_JOB_MEMORY)
                out->memory_max = l->job_memory_limit;
        if (l->limit_flags & SB_WIN_LIMIT_ACTIVE_PROCESS)
                out->tasks_max = l->active_process_limit;
        if (l->cpu_rate_flags && p)
                out->cpu_percent = p->cpu_percent;
        snprintf(out->workdir, sizeof(out->workdir), "fresh");
}
