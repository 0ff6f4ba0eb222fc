/* leftovers.c — at open(), remove what a previous daemon left behind:
 *   1. every job cgroup under the subtree: killed, then removed;
 *   2. every process whose real, effective or saved uid is in the job
 *      range (a job that escaped the cgroup cannot exist, but a previous
 *      instance may have died between clone and cgroup attach, or run with
 *      another cgroup name);
 *   3. every job dir under <state_dir>/jobs.
 * Processes are signalled through a pidfd opened before their status is
 * read, so a recycled pid is never mistaken for a job.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

static bool uid_line_in_range(const char *status, uint32_t first, uint32_t last)
{
        const char *p = strstr(status, "\nUid:");

        if (!p)
                return false;
        p += 5;
        for (int i = 0; i < 4; i++) {
                char *end;
                unsigned long v = strtoul(p, &end, 10);
                if (end == p)
                        break;
                if (v >= first && v <= last)
                        return true;
                p = end;
        }
        return false;
}

/* One pass over /proc; returns how many processes were signalled. */
static int kill_range_pass(uint32_t first, uint32_t last)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        int killed = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[64], status[2048];
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                int pfd;

                if (*end || pid <= 1 || pid == getpid())
                        continue;
                pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
                if (pfd < 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/status", pid);
                if (sb_cg_read(AT_FDCWD, path, status, sizeof(status)) > 0 &&
                    uid_line_in_range(status, first, last)) {
                        if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) == 0)
                                killed++;
                }
                close(pfd);
        }
        closedir(d);
        return killed;
}

int sb_linux_reap_leftovers(struct sb_backend *b, char *errbuf, size_t errlen)
{
        int r;

        r = sb_cgroup_reap_leftovers(&b->cg, errbuf, errlen);
        if (r < 0)
                return r;
        /* Repeat while something was found: a dying fork loop may still
         * produce a child between two passes. */
        for (int pass = 0; pass < 20; pass++) {
                r = kill_range_pass(b->uid_first, b->uid_last);
                if (r < 0)
                        return sb_backend_fail(errbuf, errlen, r, "scan /proc");
                if (r == 0)
                        break;
                struct timespec ts = { 0, 5000000L };
                nanosleep(&ts, NULL);
        }
        r = sb_backend_jobdir_remove_all(b->state_dir);
        if (r < 0)
                return sb_backend_fail(errbuf, errlen, r, "remove %s/jobs", b->state_dir);
        return 0;
}
