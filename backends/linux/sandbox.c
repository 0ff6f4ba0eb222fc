/* sandbox.c — the daemon side of a persistent sandbox's commands.
 *
 * A persistent sandbox is a prepared sandbox (linux.c) whose init serves
 * exec requests for as long as it lives (child/sandbox_init.c has that
 * side). sb_linux_sandbox_exec() sends one and returns a job handle for
 * that command alone: its exit handle is the daemon's end of a
 * SOCK_SEQPACKET pair whose other end only the sandbox's init holds. The
 * init writes one exit record on it when the command's main process ended;
 * EOF without one means the init (the whole sandbox) is gone, which the
 * command's reap reports as SIGKILL. Nothing of the sandbox job is shared:
 * the command keeps a copy of what it reports, so a sandbox may be
 * destroyed while its commands' results are still being read.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

static int send_request(int fd, const struct sb_job_spec *spec, int cmd_sock, char *errbuf,
                        size_t errlen)
{
        struct sb_sandbox_exec_hdr *h;
        uint32_t argc = 0, envc = 0;
        size_t slen, len;
        int fds[4] = { spec->stdin_fd, spec->stdout_fd, spec->stderr_fd, cmd_sock };
        int r;

        if (!spec->argv || !spec->argv[0])
                return sb_backend_fail(errbuf, errlen, -EINVAL, "argv");
        for (int i = 0; i < 3; i++)
                if (fds[i] < 0)
                        return sb_backend_fail(errbuf, errlen, -EBADF, "stdio");
        slen = sb_linux_strv_measure(spec->argv, spec->envp, &argc, &envc);
        if (argc + envc > SB_LINUX_START_ENTRIES_MAX || slen > SB_LINUX_START_BYTES_MAX)
                return sb_backend_fail(errbuf, errlen, -E2BIG,
                                       "argv and environment too large for a sandbox");
        if (spec->cwd && strlen(spec->cwd) > SB_SANDBOX_CWD_MAX)
                return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "cwd");
        len = sizeof(*h) + slen;
        h = calloc(1, len);
        if (!h)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "exec request");
        h->magic = SB_SANDBOX_EXEC_MAGIC;
        h->argc = argc;
        h->envc = envc;
        h->strings_len = (uint32_t)slen;
        if (spec->cwd)
                memcpy(h->cwd, spec->cwd, strlen(spec->cwd));
        sb_linux_strv_pack((char *)(h + 1), spec->argv, argc, spec->envp, envc);

        r = sb_linux_send_with_fds(fd, h, len, fds, 4);
        free(h);
        if (r < 0)
                return sb_backend_fail(errbuf, errlen, r, "send the command to the sandbox");
        return 0;
}

int sb_linux_sandbox_exec(struct sb_backend_job *sbx, const struct sb_job_spec *spec,
                          struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        struct sb_backend_job *j;
        int sv[2], r;

        if (sbx->pending)
                sb_linux_spawner_settle(sbx->b, sbx);
        if (!sbx->sandbox || sbx->start_fd < 0 || sbx->reaped)
                return sb_backend_fail(errbuf, errlen, -EINVAL, "not a live sandbox");
        if (sbx->pending_err)
                return sb_backend_fail(errbuf, errlen, -sbx->pending_err, "%s",
                                       sbx->pending_step);
        if (spec->workdir_fd >= 0 || spec->nmounts)
                return sb_backend_fail(errbuf, errlen, -EINVAL,
                                       "files by descriptor for a command in a sandbox");
        j = calloc(1, sizeof(*j));
        if (!j)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "command");
        j->cmd_enforced = calloc(1, sizeof(*j->cmd_enforced));
        if (!j->cmd_enforced) {
                free(j);
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "command");
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "socketpair");
                goto fail;
        }
        r = send_request(sbx->start_fd, spec, sv[1], errbuf, errlen);
        close(sv[1]);
        if (r < 0) {
                close(sv[0]);
                goto fail;
        }
        (void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
        j->b = sbx->b;
        j->command = true;
        sb_linux_job_fds_init(j);
        j->err_fd = sv[0];
        j->pid = sbx->pid;
        j->uid = sbx->uid;
        j->gid = sbx->gid;
        j->policy = sbx->policy;
        snprintf(j->id, sizeof(j->id), "%s", spec->job_id ? spec->job_id : "");
        sb_backend_linux_ops.enforced(sbx, j->cmd_enforced);
        *out = j;
        return 0;
fail:
        free(j->cmd_enforced);
        free(j);
        return r;
}

int sb_linux_cmd_kill(struct sb_backend_job *j)
{
        char k = SB_SANDBOX_KILL;

        if (j->reaped || j->err_fd < 0)
                return 0;
        /* A full socket already holds a kill. */
        if (send(j->err_fd, &k, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
            errno != EPIPE && errno != ECONNRESET)
                return -errno;
        return 0;
}

int sb_linux_cmd_reap(struct sb_backend_job *j, struct sb_backend_exit *out)
{
        struct sb_sandbox_cmd_exit rec;
        ssize_t n;

        memset(out, 0, sizeof(*out));
        out->exit_code = -1;
        out->tasks_peak = -1;
        if (j->reaped)
                return -ECHILD;
        do
                n = recv(j->err_fd, &rec, sizeof(rec), MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN)
                return -EAGAIN;
        j->reaped = true;
        if (n <= 0 || (size_t)n != sizeof(rec) || rec.magic != SB_SANDBOX_EXIT_MAGIC) {
                /* The init is gone, and everything in the sandbox with it. */
                out->signal = SIGKILL;
                return 0;
        }
        rec.step[sizeof(rec.step) - 1] = '\0';
        if (rec.err) {
                out->setup_failed = true;
                snprintf(out->error, sizeof(out->error), "%s: %s", rec.step,
                         strerrorname_np(rec.err) ?: "?");
        } else if (WIFEXITED(rec.wstatus)) {
                out->exit_code = WEXITSTATUS(rec.wstatus);
        } else if (WIFSIGNALED(rec.wstatus)) {
                out->signal = WTERMSIG(rec.wstatus);
        }
        out->cpu_user_ms = rec.cpu_user_us / 1000;
        out->cpu_sys_ms = rec.cpu_sys_us / 1000;
        out->memory_peak = rec.maxrss_kb * 1024;
        return 0;
}

void sb_linux_cmd_destroy(struct sb_backend_job *j)
{
        /* Closing the socket of a command still running kills it (EOF). */
        if (j->err_fd >= 0)
                close(j->err_fd);
        free(j->cmd_enforced);
        free(j);
}
