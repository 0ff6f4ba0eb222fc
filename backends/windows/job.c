/* job.c — the job object of a Windows job: limits, notifications and
 * accounting.
 *
 * Every limit jobobject.c computes is applied, or the job fails: a policy
 * is never run with less than it says. The completion port is associated
 * before any process is in the job, so no notification is lost.
 */
#include <errno.h>
#include <string.h>

#include "backends/windows/win_backend.h"

/* jobobject.h mirrors winnt.h's values so that the pure code can be
 * tested without it; here they are checked. */
_Static_assert(SB_WIN_LIMIT_ACTIVE_PROCESS == JOB_OBJECT_LIMIT_ACTIVE_PROCESS, "winnt.h");
_Static_assert(SB_WIN_LIMIT_JOB_MEMORY == JOB_OBJECT_LIMIT_JOB_MEMORY, "winnt.h");
_Static_assert(SB_WIN_LIMIT_DIE_ON_UNHANDLED_EXCEPTION ==
               JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION, "winnt.h");
_Static_assert(SB_WIN_LIMIT_KILL_ON_JOB_CLOSE == JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, "winnt.h");
_Static_assert(SB_WIN_CPU_RATE_CONTROL_ENABLE == JOB_OBJECT_CPU_RATE_CONTROL_ENABLE, "winnt.h");
_Static_assert(SB_WIN_CPU_RATE_CONTROL_HARD_CAP == JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP, "winnt.h");
_Static_assert(SB_WIN_UILIMIT_ALL ==
               (JOB_OBJECT_UILIMIT_HANDLES | JOB_OBJECT_UILIMIT_READCLIPBOARD |
                JOB_OBJECT_UILIMIT_WRITECLIPBOARD | JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS |
                JOB_OBJECT_UILIMIT_DISPLAYSETTINGS | JOB_OBJECT_UILIMIT_GLOBALATOMS |
                JOB_OBJECT_UILIMIT_DESKTOP | JOB_OBJECT_UILIMIT_EXITWINDOWS), "winnt.h");

int sb_win_job_create(struct sb_backend_job *j, char *errbuf, size_t errlen)
{
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION ext;
        JOBOBJECT_ASSOCIATE_COMPLETION_PORT port;
        JOBOBJECT_BASIC_UI_RESTRICTIONS ui;

        /* Unnamed, and not inheritable: nobody else can open or join it. */
        j->job = CreateJobObjectW(NULL, NULL);
        if (!j->job)
                return sb_win_fail(errbuf, errlen, GetLastError(), "CreateJobObjectW");
        j->iocp = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
        if (!j->iocp)
                return sb_win_fail(errbuf, errlen, GetLastError(), "CreateIoCompletionPort");
        port.CompletionKey = j;
        port.CompletionPort = j->iocp;
        if (!SetInformationJobObject(j->job, JobObjectAssociateCompletionPortInformation, &port,
                                     sizeof(port)))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "SetInformationJobObject(completion port)");

        memset(&ext, 0, sizeof(ext));
        ext.BasicLimitInformation.LimitFlags = j->limits.limit_flags;
        ext.BasicLimitInformation.ActiveProcessLimit = j->limits.active_process_limit;
        ext.JobMemoryLimit = (SIZE_T)j->limits.job_memory_limit;
        if (!SetInformationJobObject(j->job, JobObjectExtendedLimitInformation, &ext, sizeof(ext)))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "SetInformationJobObject(limits)");

        if (j->limits.cpu_rate_flags) {
                JOBOBJECT_CPU_RATE_CONTROL_INFORMATION cpu;

                memset(&cpu, 0, sizeof(cpu));
                cpu.ControlFlags = j->limits.cpu_rate_flags;
                cpu.CpuRate = j->limits.cpu_rate;
                if (!SetInformationJobObject(j->job, JobObjectCpuRateControlInformation, &cpu,
                                             sizeof(cpu)))
                        return sb_win_fail(errbuf, errlen, GetLastError(),
                                           "SetInformationJobObject(CPU rate)");
        }

        ui.UIRestrictionsClass = j->limits.ui_restrictions;
        if (!SetInformationJobObject(j->job, JobObjectBasicUIRestrictions, &ui, sizeof(ui)))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "SetInformationJobObject(UI restrictions)");
        return 0;
}

void sb_win_job_drain(struct sb_backend_job *j)
{
        DWORD msg;
        ULONG_PTR key;
        LPOVERLAPPED ov;

        if (!j->iocp)
                return;
        while (GetQueuedCompletionStatus(j->iocp, &msg, &key, &ov, 0)) {
                if ((struct sb_backend_job *)key != j)
                        continue;
                if (msg == JOB_OBJECT_MSG_JOB_MEMORY_LIMIT)
                        j->memory_limit_hit = true;
                else if (msg == JOB_OBJECT_MSG_ACTIVE_PROCESS_LIMIT)
                        j->process_limit_hit = true;
        }
}

void sb_win_job_account(struct sb_backend_job *j, struct sb_backend_exit *out, uint32_t *active)
{
        JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION acct;
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION ext;

        *active = 0;
        /* Times in 100 ns units. */
        if (QueryInformationJobObject(j->job, JobObjectBasicAndIoAccountingInformation, &acct,
                                      sizeof(acct), NULL)) {
                out->cpu_user_ms = (uint64_t)acct.BasicInfo.TotalUserTime.QuadPart / 10000;
                out->cpu_sys_ms = (uint64_t)acct.BasicInfo.TotalKernelTime.QuadPart / 10000;
                *active = acct.BasicInfo.ActiveProcesses;
        }
        if (QueryInformationJobObject(j->job, JobObjectExtendedLimitInformation, &ext,
                                      sizeof(ext), NULL))
                out->memory_peak = ext.PeakJobMemoryUsed;
}
