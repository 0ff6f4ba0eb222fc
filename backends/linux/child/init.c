/* init.c — pid 1 of a linux job's pid namespace.
 *
 * The job's program must not be pid 1 itself: the kernel shields a
 * namespace's init from every signal it has no handler for, even from the
 * init's own `kill -9 $$`, and an init that never calls wait() leaves every
 * orphan of the job a zombie. So once the sandbox is built and every
 * privilege is gone, the child forks: the new process execs the program, and
 * this one stays behind as a minimal init. It reaps whatever is re-parented to
 * it and, when the program's process ends, kills everything else left in the
 * namespace and reaps it, then sends the program's wait status to the daemon
 * as an exit record on the error pipe and exits. So once the record is out,
 * no process of the job runs any more: the daemon reports the job's end right
 * then, while this init's own exit (its memory, its namespaces) completes.
 *
 * Out of the job's reach: its real and effective uid are root's (without a
 * capability), the job's uid only its saved one (child.c), so the job can
 * neither prlimit, renice nor trace it; /proc hides it (hidepid, mounts.c).
 * Runs in the spawner's clone like the rest of the child: no malloc, no
 * stdio. It holds no descriptor but the error pipe, so the job's output pipes
 * reach EOF as soon as the job's own processes are gone.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

void sb_linux_init(int errfd, pid_t program, uid_t uid)
{
        struct sb_child_error rec;
        int status;
        pid_t p;

        close(STDIN_FILENO);
        close(STDOUT_FILENO);
        close(STDERR_FILENO);
        for (;;) {
                p = waitpid(-1, &status, __WALL);
                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        /* ECHILD: the program is gone without us seeing it,
                         * which cannot happen; report nothing rather than a
                         * made-up status. */
                        _exit(127);
                }
                if (p == program)
                        break;
        }
        /* Our effective uid was root's, so that the job could not reach us
         * (child.c); signalling the job's processes needs theirs, which our
         * saved uid allows. */
        if (syscall(SYS_setresuid, -1L, (long)uid, -1L) < 0)
                _exit(127);     /* no record: the daemon waits for our exit */
        /* pid 1 of the namespace: -1 is every other process in it, all
         * running as the job's uid in our Landlock domain or one below it.
         * A fork racing this fails (the kernel checks for a pending fatal
         * signal before the child is visible), so once waitpid() says
         * ECHILD the namespace holds us alone. */
        if (kill(-1, SIGKILL) < 0 && errno != ESRCH)
                _exit(127);     /* no record: the daemon waits for our exit */
        for (;;) {
                p = waitpid(-1, NULL, __WALL);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p < 0)
                        break;
        }
        if (errno != ECHILD)
                _exit(127);
        memset(&rec, 0, sizeof(rec));
        rec.err = 0;
        rec.wstatus = status;
        /* Atomic (< PIPE_BUF). If it fails the daemon sees init's own exit
         * status instead, which is then the best there is. */
        if (write(errfd, &rec, sizeof(rec)) < 0) {
        }
        _exit(0);
}
