/* procs.c — the macOS backend's view of a job's processes: memory by
 * phys_footprint (libproc), and the uid sweep that kills every process of
 * a job's own uid. */
#include <errno.h>
#include <libproc.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/macos/macos.h"

#define SAMPLE_PIDS_MAX 1024   /* more than any job's tasks_max */

static uint64_t footprint(pid_t pid)
{
        struct rusage_info_v2 ri;

        if (proc_pid_rusage(pid, RUSAGE_INFO_V2, (rusage_info_t *)&ri) != 0)
                return 0;   /* gone meanwhile */
        return ri.ri_phys_footprint;
}

uint64_t sb_macos_memory_sample(uid_t uid, bool uid_owned, pid_t pid)
{
        static pid_t pids[SAMPLE_PIDS_MAX];   /* loop thread only */
        uint64_t sum = 0;
        int n;

        if (!uid_owned)
                return footprint(pid);
        n = proc_listpids(PROC_UID_ONLY, uid, pids, (int)sizeof(pids));
        if (n <= 0)
                return 0;
        for (int i = 0; i < n / (int)sizeof(pid_t); i++)
                if (pids[i] > 0)
                        sum += footprint(pids[i]);
        return sum;
}

int sb_macos_uid_processes(uid_t uid)
{
        static pid_t pids[SAMPLE_PIDS_MAX];   /* loop thread only */
        int n = proc_listpids(PROC_UID_ONLY, uid, pids, (int)sizeof(pids));

        return n < 0 ? -errno : n / (int)sizeof(pid_t);
}

int sb_macos_uid_sweep(uid_t uid, gid_t gid)
{
        int status;
        pid_t p;

        p = fork();
        if (p < 0)
                return -errno;
        if (p == 0) {
                /* As the job's uid, kill(-1) reaches exactly the processes
                 * of that uid (and not this one): a job forking as fast as
                 * it can cannot slip between a list and a kill. */
                if (setgid(gid) < 0 || setuid(uid) < 0)
                        _exit(126);
                (void)kill(-1, SIGKILL);
                _exit(0);
        }
        while (waitpid(p, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}
