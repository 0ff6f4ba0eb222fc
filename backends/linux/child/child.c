/* child.c — the pre-exec sequence of a linux job, run in the child of
 * clone3() (already in new mount, pid, net, ipc and uts namespaces).
 *
 * The child is a copy of the spawner (spawner_serve.c) and reads only the
 * spawn plan (plan.h), which the spawner checked, and the fds it names: no
 * malloc, no stdio, no logging, no glibc call that broadcasts to threads
 * (setresuid & co. are raw syscalls). Every failure writes one fixed-size
 * {errno, step} record to the O_CLOEXEC error pipe and _exit(127)s; a
 * successful execve closes the pipe instead.
 *
 * Order: signal mask reset, umask 022 -> wait for the parent's "go" -> [not cloned
 * into the job cgroup: attach to it] -> cgroup ns -> new session -> mounts
 * + pivot_root -> hostname -> lo up -> stdio, close other fds -> rlimits ->
 * securebits locked -> groups, gid, uid (root's real and effective uid
 * stay, the job's is the saved and fs uid) -> capset zero, all five sets
 * verified empty (bounding and ambient came empty from the spawner) ->
 * no_new_privs -> Landlock -> chdir /work -> seccomp (last) -> [refusals
 * reported: its listener up the sync socket] -> [prepared sandbox: wait
 * for the start request, start.c; persistent sandbox: serve exec
 * requests, sandbox_init.c] -> vfork: this process
 * stays as the namespace's init (init.c), the new one takes the job's uid
 * whole and execs (a tty job's program first leads a session of its own
 * with the pty as its controlling terminal).
 */
#include <errno.h>
#include <signal.h>
#include <grp.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/landlock_rules.h"
#include "backends/linux/linux.h"

#define JOB_NOFILE 1024

void sb_linux_child(const struct sb_spawn_plan *p, const int *fd, bool attach)
{
        bool prepared = p->flags & SB_PLAN_PREPARED;
        int errfd = fd[SB_PLAN_FD_ERR_W], syncfd = fd[SB_PLAN_FD_SYNC_R];
        char step[SB_CHILD_STEP_MAX];
        const char *sp = NULL;
        char go;
        ssize_t n;
        int r;

        /* What `ps` on the host calls every job's init, whichever process
         * is its parent. */
        (void)prctl(PR_SET_NAME, "sb-init");
        /* The spawner's handlers are all SIG_DFL (it set none): only the
         * mask it blocked for the clone is left to undo. */
        sb_child_reset_mask();
        /* A prepared sandbox starts at once: it runs nothing of a job
         * before the start request, which only its tracker sends. The
         * daemon holds the other end only: a dying daemon is EOF here. */
        n = 1;
        while (!prepared && (n = read(syncfd, &go, 1)) < 0 && errno == EINTR)
                ;
        if (n != 1)
                _exit(127);     /* the parent gave up; it reports why */
        /* A prepared sandbox keeps it: the start request comes on it. So
         * does a job whose refusals are reported: the seccomp listener goes
         * up on it. */
        bool notify = p->flags & SB_PLAN_SECCOMP_NOTIFY;
        int startfd = prepared || notify ? syncfd : -1;
        if (startfd < 0)
                close(syncfd);
        /* Into the job cgroup ("0" = ourselves) before anything else, so
         * the parent's loop does not pay for it; nothing of the job has run. */
        if (attach && (r = sb_cgroup_attach_self(fd + SB_PLAN_FD_CG, (int)p->ncg,
                                                 p->flags & SB_PLAN_CG_FAKE)) < 0)
                sb_child_fail(errfd, -r, "attach to the job cgroup", NULL);

        /* Now inside the job cgroup: make it our cgroup root. */
        if (unshare(CLONE_NEWCGROUP) < 0)
                sb_child_fail(errfd, errno, "unshare CLONE_NEWCGROUP", NULL);
        /* Out of the daemon's session and process group (terminal signals). */
        if (setsid() < 0)
                sb_child_fail(errfd, errno, "setsid", NULL);

        r = sb_linux_mounts(p, fd, step, sizeof(step));
        if (r < 0)
                sb_child_fail(errfd, -r, step, NULL);

        if (sethostname("skillbox", 8) < 0)
                sb_child_fail(errfd, errno, "sethostname", NULL);
        if (setdomainname("(none)", 6) < 0)
                sb_child_fail(errfd, errno, "setdomainname", NULL);
        /* The host's lo is the host's: only a namespace of the job's own. */
        if (!(p->flags & SB_PLAN_HOST_NET) && (r = sb_linux_lo_up(&sp)) < 0)
                sb_child_fail(errfd, -r, sp, NULL);

        if ((r = sb_child_fd_above_stdio(&errfd)) < 0)
                sb_child_fail(errfd, -r, "move error pipe", NULL);
        if (startfd >= 0 && (r = sb_child_fd_above_stdio(&startfd)) < 0)
                sb_child_fail(errfd, -r, "move start socket", NULL);
        /* Prepared: /dev/null until the start request brings the job's. */
        int keep[2] = { errfd, startfd };
        if ((r = sb_child_stdio(fd[SB_PLAN_FD_STDIN], fd[SB_PLAN_FD_STDOUT], fd[SB_PLAN_FD_STDERR],
                                keep, 2, &sp)) < 0)
                sb_child_fail(errfd, -r, sp, NULL);

        sb_child_rlimit(errfd, RLIMIT_CORE, 0, "RLIMIT_CORE");
        sb_child_rlimit(errfd, RLIMIT_NOFILE, JOB_NOFILE, "RLIMIT_NOFILE");
        /* Second line of defence behind pids.max: the uid is the job's own. */
        if (p->tasks_max)
                sb_child_rlimit(errfd, RLIMIT_NPROC, p->tasks_max, "RLIMIT_NPROC");

        /* The bounding and ambient sets are empty already (the spawner's,
         * inherited); caps_verify below checks them. */
        if ((r = sb_linux_securebits_lock(&sp)) < 0)
                sb_child_fail(errfd, -r, sp, NULL);
        /* Raw syscalls: glibc's wrappers would signal the daemon's other
         * threads, which do not exist in this copy, and hang. */
        if (syscall(SYS_setgroups, 0L, NULL) < 0)
                sb_child_fail(errfd, errno, "setgroups", NULL);
        if (syscall(SYS_setresgid, (long)p->gid, (long)p->gid, (long)p->gid) < 0)
                sb_child_fail(errfd, errno, "setresgid", NULL);
        /* The init (this process, after the fork below) keeps root's real
         * and effective uid, with no capability left (cleared and verified
         * below), and has the job's uid as its saved and file-system uid
         * only. So the job's processes, which run as the job's uid, cannot
         * prlimit, renice, re-affine or trace it: each needs the same real or
         * effective uid, or a capability. The saved uid lets the program take
         * the job's uid whole before its execve, and the init take it as its
         * effective uid for the final kill (init.c). */
        if (syscall(SYS_setresuid, 0L, 0L, (long)p->uid) < 0)
                sb_child_fail(errfd, errno, "setresuid", NULL);
        (void)syscall(SYS_setfsuid, (long)p->uid);
        if (syscall(SYS_setfsuid, -1L) != (long)p->uid)
                sb_child_fail(errfd, EPERM, "setfsuid", NULL);
        if ((r = sb_linux_caps_clear(&sp)) < 0)
                sb_child_fail(errfd, -r, sp, NULL);
        if ((r = sb_linux_caps_verify(&sp)) < 0)
                sb_child_fail(errfd, -r, sp, NULL);
        if ((r = sb_linux_no_new_privs(&sp)) < 0)
                sb_child_fail(errfd, -r, sp, NULL);

        /* Landlock (files, TCP, scoping): after no_new_privs, which
         * landlock_restrict_self requires, and before the fork so that the
         * init is in the domain too. */
        const char *arg = NULL;
        if ((r = sb_linux_landlock_apply(p, &sp, &arg)) < 0)
                sb_child_fail(errfd, -r, sp, arg);

        /* As the job's uid and inside its Landlock domain: a cwd the job
         * could not enter itself fails here, by its path. */
        if (chdir(sb_plan_s(p, p->cwd)) < 0)
                sb_child_fail(errfd, errno, "chdir", sb_plan_s(p, p->cwd));

        /* The seccomp filter, last before the fork, so that nothing above
         * has to pass it. Loaded once: the init and the program (its vfork
         * child) share it, and each load JIT-compiles the filter again
         * (bench/README.md has what that costs). From here on the init
         * needs only vfork, wait4, write and exit, the program only execve. */
        if (!notify && (r = sb_linux_seccomp_load(sb_plan_bpf(p), p->allow_len,
                                                  sb_plan_bpf(p) + p->allow_len, p->deny_len,
                                                  &sp)) < 0)
                sb_child_fail(errfd, -r, sp, NULL);
        /* The refusals go to the listener: the daemon holds its only copy
         * (ours goes at once), so a daemon gone makes the kernel answer
         * them ENOSYS instead of leaving the job waiting. */
        if (notify) {
                int listener = -1;

                if ((r = sb_linux_seccomp_load_listen(sb_plan_bpf(p), p->allow_len,
                                                      sb_plan_bpf(p) + p->allow_len, p->deny_len,
                                                      &listener, &sp)) < 0)
                        sb_child_fail(errfd, -r, sp, NULL);
                r = sb_linux_seccomp_send_listener(startfd, listener, &sp);
                close(listener);
                /* The daemon is gone (a detached job outlives it): nobody
                 * would read the report, and with no listener left the
                 * kernel answers the refusals ENOSYS itself. The job runs on. */
                if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                        sb_child_fail(errfd, -r, sp, NULL);
                if (!prepared) {
                        close(startfd);
                        keep[1] = startfd = -1;
                }
        }

        /* A prepared sandbox waits here, fully confined, for what to run
         * (start.c); everything above is the same for any request the
         * daemon hands to it. */
        char *args[SB_PLAN_ARGS_MAX + 2];
        char *const *argv = args, *const *envp = args + p->argc + 1;
        if (!prepared && sb_linux_strv_unpack((char *)sb_plan_blob(p) + p->strv_off, p->strv_len,
                                              p->argc, p->envc, args) < 0)
                sb_child_fail(errfd, EPROTO, "spawn plan argv", NULL);
        /* A persistent sandbox: its init serves commands from here on. */
        if (prepared && (p->flags & SB_PLAN_SANDBOX))
                sb_linux_sandbox_init(errfd, startfd, p->uid);
        if (prepared) {
                char **a, **e;
                int io[3];

                if ((r = sb_linux_start_recv(startfd, &a, &e, io, &sp)) < 0)
                        sb_child_fail(errfd, -r, sp, NULL);
                /* Closes the start socket and the received originals. */
                keep[1] = -1;
                if ((r = sb_child_stdio(io[0], io[1], io[2], keep, 2, &sp)) < 0)
                        sb_child_fail(errfd, -r, sp, NULL);
                argv = a;
                envp = e;
        }

        /* The program must not be pid 1 (see init.c). vfork: the program
         * borrows this process's memory until its execve instead of copying
         * it (glibc's vfork runs no atfork handlers). Until execve it only
         * execs, or writes an error record and _exits: it touches nothing
         * of ours beyond its own stack frames below this one. */
        pid_t program = vfork();
        if (program < 0)
                sb_child_fail(errfd, errno, "fork job program", NULL);
        if (program == 0) {
                /* The job's uid for real, effective and saved (see above). */
                if (syscall(SYS_setresuid, (long)p->uid, (long)p->uid, (long)p->uid) < 0)
                        sb_child_fail(errfd, errno, "setresuid", "program");
                /* A terminal: the program leads a session of its own with
                 * the pty as its controlling terminal, so the line
                 * discipline signals its foreground group (^C, SIGWINCH)
                 * and /dev/tty is the pty. Not the init's session: the
                 * init is no part of the job's job control. */
                if ((p->flags & SB_PLAN_TTY) && setsid() < 0)
                        sb_child_fail(errfd, errno, "setsid", "program");
                if ((p->flags & SB_PLAN_TTY) && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                        sb_child_fail(errfd, errno, "TIOCSCTTY", "the job's terminal");
                sb_child_exec(argv, envp);
                sb_child_fail(errfd, errno, "execve", argv[0]);
        }
        sb_linux_init(errfd, program, p->uid);
}
