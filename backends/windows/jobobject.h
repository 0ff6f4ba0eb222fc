/* jobobject.h — a job's policy as Windows job-object limits, computed by
 * pure code (no Windows headers) so that the Linux unit suite checks it.
 *
 * struct sb_win_job_limits holds exactly the fields the Windows backend
 * writes into JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
 * JOBOBJECT_CPU_RATE_CONTROL_INFORMATION and
 * JOBOBJECT_BASIC_UI_RESTRICTIONS; the flag values are winnt.h's (checked
 * against it at compile time in apply.c, where winnt.h is at hand).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

/* JOBOBJECT_BASIC_LIMIT_INFORMATION.LimitFlags */
#define SB_WIN_LIMIT_ACTIVE_PROCESS 0x00000008u
#define SB_WIN_LIMIT_JOB_MEMORY 0x00000200u
#define SB_WIN_LIMIT_DIE_ON_UNHANDLED_EXCEPTION 0x00000400u
#define SB_WIN_LIMIT_KILL_ON_JOB_CLOSE 0x00002000u

/* JOBOBJECT_CPU_RATE_CONTROL_INFORMATION.ControlFlags */
#define SB_WIN_CPU_RATE_CONTROL_ENABLE 0x1u
#define SB_WIN_CPU_RATE_CONTROL_HARD_CAP 0x4u

/* JOBOBJECT_BASIC_UI_RESTRICTIONS.UIRestrictionsClass */
#define SB_WIN_UILIMIT_HANDLES 0x0001u
#define SB_WIN_UILIMIT_READCLIPBOARD 0x0002u
#define SB_WIN_UILIMIT_WRITECLIPBOARD 0x0004u
#define SB_WIN_UILIMIT_SYSTEMPARAMETERS 0x0008u
#define SB_WIN_UILIMIT_DISPLAYSETTINGS 0x0010u
#define SB_WIN_UILIMIT_GLOBALATOMS 0x0020u
#define SB_WIN_UILIMIT_DESKTOP 0x0040u
#define SB_WIN_UILIMIT_EXITWINDOWS 0x0080u
#define SB_WIN_UILIMIT_ALL 0x00ffu

/* CpuRate's unit: a hundredth of a percent of all the machine's CPUs. */
#define SB_WIN_CPU_RATE_FULL 10000u

struct sb_win_job_limits {
        uint32_t limit_flags;           /* SB_WIN_LIMIT_* */
        uint64_t job_memory_limit;      /* bytes, with SB_WIN_LIMIT_JOB_MEMORY */
        uint32_t active_process_limit;  /* with SB_WIN_LIMIT_ACTIVE_PROCESS */
        uint32_t cpu_rate_flags;        /* SB_WIN_CPU_RATE_*; 0 = no rate control */
        uint32_t cpu_rate;              /* 1..SB_WIN_CPU_RATE_FULL */
        uint32_t ui_restrictions;       /* SB_WIN_UILIMIT_* */
};

/* The limits that enforce p on a machine of ncpus logical CPUs (>= 1).
 * Always: the job dies with its last handle (the daemon's), an unhandled
 * exception ends a process instead of waiting on an error dialog, no
 * process may break away, and every UI restriction is set. memory_max is
 * the whole job's committed memory; tasks_max bounds its processes (a
 * Windows job counts processes, not threads); cpu_percent (100 = one CPU)
 * becomes a hard cap on the machine's cycles, at least 1 unit. Returns 0,
 * or -EINVAL when ncpus is 0 or a limit does not fit its field
 * (tasks_max above UINT32_MAX). */
int sb_win_job_limits_from_policy(const struct sb_policy *p, uint32_t ncpus,
                                  struct sb_win_job_limits *out);

/* The limits as text, one "Field = value" line per field, flags by their
 * winnt.h names: what the golden files hold, and what a log shows. Returns
 * the length, or -ENOSPC when it does not fit len (buf then holds a
 * truncated, terminated text). */
int sb_win_job_limits_format(const struct sb_win_job_limits *l, char *buf, size_t len);

/* What a Windows job has applied, as the enforcement record (hello's host
 * with l NULL, a job's enforced with its limits and policy): the backend,
 * the job object's limits, and a process tree that ends as one (job
 * object); no namespaces, cgroup, seccomp, Landlock, uid or network
 * isolation, so a profile's Require= of any of them fails closed. */
void sb_win_enforced(const struct sb_win_job_limits *l, const struct sb_policy *p,
                     struct sbp_enforced *out);
