/* windows.c — the Windows backend's ops table (backend.h).
 *
 * Per job: a job object with the policy's limits (jobobject.c, job.c), a
 * directory of its own under <state_dir>\jobs as its working directory,
 * its main process created in the job (spawn.c) with a restricted token
 * (an AppContainer, or low integrity: token.c) granted that directory
 * alone. The job ends when its main process exits: reap() then terminates
 * what is left in the job object, as the linux backend's init does. What
 * the token does not give every job (reads confined, a network of its own)
 * is not claimed in caps() or probe(); enforced() says what a job got, so
 * a profile that requires more fails closed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/windows/win_backend.h"

#define WIN_SIGKILL 9   /* reported for a job ended by kill(): Windows has no signals */

static void win_caps(struct sb_backend_caps *out)
{
        memset(out, 0, sizeof(*out));
        out->memory = SB_BACKEND_LIMIT_ENFORCED;       /* JOB_OBJECT_LIMIT_JOB_MEMORY */
        out->tasks = SB_BACKEND_LIMIT_ENFORCED;        /* processes, not threads */
        out->cpu = SB_BACKEND_LIMIT_ENFORCED;          /* CPU rate hard cap */
        out->fd_mounts = false;
        out->prepared = false;
        out->home = NULL;
        /* Only an AppContainer job (not a low-integrity one) loses the
         * network, and which one a job gets is known at spawn(): enforced()
         * says it. */
        out->network_modes = SBP_NETWORK_MODE_HOST;
}

static void win_probe(const struct sb_backend_config *cfg, struct sb_backend_probe *out)
{
        struct sb_backend_probe_item *it;
        char why[128];
        HANDLE job;

        memset(out, 0, sizeof(*out));
        it = sb_backend_probe_add(out, "job objects");
        job = CreateJobObjectW(NULL, NULL);
        if (!job) {
                sb_backend_probe_worsen(it, SB_BACKEND_PROBE_FAIL);
                snprintf(it->detail, sizeof(it->detail), "CreateJobObjectW: Win32 error %lu",
                         (unsigned long)GetLastError());
                snprintf(out->unusable, sizeof(out->unusable), "job objects are unavailable");
        } else {
                snprintf(it->detail, sizeof(it->detail),
                         "memory, processes, CPU rate, UI restrictions, kill on close");
                CloseHandle(job);
        }
        it = sb_backend_probe_add(out, "file and network isolation");
        sb_backend_probe_worsen(it, SB_BACKEND_PROBE_WARN);
        if (sb_win_token_probe(why, sizeof(why)) == SB_WIN_TOKEN_APPCONTAINER)
                snprintf(it->detail, sizeof(it->detail),
                         "an AppContainer per job, granted only the job's directory, no network "
                         "unless the host's (not reported as the files guarantee yet)");
        else
                snprintf(it->detail, sizeof(it->detail),
                         "a low-integrity restricted token per job (%s): writes only the job's "
                         "directory, reads as the daemon's user, the host's network", why);
}

static int win_open(const struct sb_backend_config *cfg, struct sb_backend **out, char *errbuf,
                    size_t errlen)
{
        struct sb_backend *b;
        wchar_t state[MAX_PATH];
        int r;

        *out = NULL;
        if (cfg->uid_last < cfg->uid_first)
                return sb_backend_fail_text(errbuf, errlen, -EINVAL, "identity range is empty");
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->id_first = cfg->uid_first;
        b->id_last = cfg->uid_last;
        b->id_taken = calloc((size_t)(cfg->uid_last - cfg->uid_first) + 1, 1);
        r = b->id_taken ? sb_win_widen(cfg->state_dir, state, MAX_PATH) : -ENOMEM;
        if (r == 0 && _snwprintf(b->jobs_dir, MAX_PATH, L"%ls\\jobs", state) < 0)
                r = -ENAMETOOLONG;
        if (r < 0) {
                free(b->id_taken);
                free(b);
                return sb_backend_fail_text(errbuf, errlen, r, "state directory: bad path");
        }
        b->jobs_dir[MAX_PATH - 1] = L'\0';
        snprintf(b->state_dir, sizeof(b->state_dir), "%s", cfg->state_dir);
        /* A previous instance's jobs died with its job handles (kill on
         * close); their directories go now. */
        CreateDirectoryW(state, NULL);
        (void)sb_win_remove_tree(b->jobs_dir);
        if (!CreateDirectoryW(b->jobs_dir, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "CreateDirectoryW(jobs)");
                free(b->id_taken);
                free(b);
                return r;
        }
        *out = b;
        return 0;
}

static void win_close(struct sb_backend *b)
{
        if (!b)
                return;
        free(b->id_taken);
        free(b);
}

static int win_identity_take(struct sb_backend *b, uint32_t *out)
{
        for (uint32_t i = 0; i <= b->id_last - b->id_first; i++)
                if (!b->id_taken[i]) {
                        b->id_taken[i] = 1;
                        *out = b->id_first + i;
                        return 0;
                }
        return -EAGAIN;
}

static void win_identity_give(struct sb_backend *b, uint32_t id)
{
        if (id >= b->id_first && id <= b->id_last)
                b->id_taken[id - b->id_first] = 0;
}

static void win_host_caps(struct sb_backend *b, struct sbp_enforced *out)
{
        sb_win_enforced(NULL, NULL, out);
}

static void job_free(struct sb_backend_job *j)
{
        sb_win_token_release(j);
        if (j->process)
                CloseHandle(j->process);
        /* The last handle of the job object: kill on close ends anything
         * still in it. */
        if (j->job)
                CloseHandle(j->job);
        if (j->iocp)
                CloseHandle(j->iocp);
        free(j);
}

static int win_spawn(struct sb_backend *b, const struct sb_job_spec *spec,
                     struct sb_backend_job **out, char *errbuf, size_t errlen)
{
        struct sb_backend_job *j;
        wchar_t id[SBP_JOB_ID_MAX + 1];
        DWORD ncpus;
        int r;

        *out = NULL;
        if (spec->workdir_fd != SB_HANDLE_NONE || spec->nmounts > 0)
                return sb_backend_fail_text(errbuf, errlen, -EOPNOTSUPP,
                                            "directories passed by handle: not supported on "
                                            "Windows yet");
        if (spec->policy.network != SB_NETWORK_HOST && spec->policy.network != SB_NETWORK_NONE)
                return sb_backend_fail_text(errbuf, errlen, -EOPNOTSUPP,
                                            "network allowlist: not supported on Windows");
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->b = b;
        j->policy = spec->policy;
        j->identity = spec->uid;
        snprintf(j->id, sizeof(j->id), "%s", spec->job_id);
        ncpus = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
        r = sb_win_job_limits_from_policy(&spec->policy, ncpus ? ncpus : 1, &j->limits);
        if (r < 0) {
                r = sb_backend_fail_text(errbuf, errlen, r, "policy: a limit does not fit a "
                                         "job object");
                goto fail;
        }
        r = sb_win_widen(spec->job_id, id, SBP_JOB_ID_MAX + 1);
        if (r == 0 && _snwprintf(j->dir, MAX_PATH, L"%ls\\%ls", b->jobs_dir, id) < 0)
                r = -ENAMETOOLONG;
        if (r < 0) {
                r = sb_backend_fail_text(errbuf, errlen, r, "job directory: bad path");
                goto fail;
        }
        j->dir[MAX_PATH - 1] = L'\0';
        if (!CreateDirectoryW(j->dir, NULL)) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "CreateDirectoryW(job)");
                goto fail;
        }
        r = sb_win_job_create(j, errbuf, errlen);
        if (r == 0)
                r = sb_win_token_prepare(j, errbuf, errlen);
        if (r == 0)
                r = sb_win_spawn(j, spec, errbuf, errlen);
        if (r < 0) {
                (void)sb_win_remove_tree(j->dir);
                goto fail;
        }
        *out = j;
        return 0;
fail:
        job_free(j);
        return r;
}

static sb_handle win_exit_handle(struct sb_backend_job *j)
{
        return HandleToLong(j->process);
}

static int win_pid(struct sb_backend_job *j)
{
        return (int)j->pid;
}

static int win_kill(struct sb_backend_job *j)
{
        if (j->reaped)
                return 0;
        j->killed = true;
        /* Every process in the job, children and grandchildren alike. */
        if (!TerminateJobObject(j->job, 128 + WIN_SIGKILL))
                return sb_win_errno(GetLastError());
        return 0;
}

static int win_reap(struct sb_backend_job *j, struct sb_backend_exit *out)
{
        DWORD code = 0;
        uint32_t active = 0;

        memset(out, 0, sizeof(*out));
        out->exit_code = -1;
        out->tasks_peak = -1;
        if (j->reaped)
                return -ECHILD;
        if (WaitForSingleObject(j->process, 0) != WAIT_OBJECT_0)
                return -EAGAIN;
        /* The main process is gone: so is the job. */
        TerminateJobObject(j->job, 128 + WIN_SIGKILL);
        j->reaped = true;
        GetExitCodeProcess(j->process, &code);
        sb_win_job_drain(j);
        sb_win_job_account(j, out, &active);
        if (j->killed) {
                out->signal = WIN_SIGKILL;
        } else {
                /* An exit code is 32 bits; an NTSTATUS (0xC0000005...) is
                 * negative as int32, as the C runtime reports it. */
                out->exit_code = (int32_t)code;
        }
        out->oom = j->memory_limit_hit;
        return 0;
}

static void win_enforced(struct sb_backend_job *j, struct sbp_enforced *out)
{
        sb_win_enforced(&j->limits, &j->policy, out);
        sb_win_enforced_token(j->token, &j->policy, out);
}

static void win_destroy(struct sb_backend_job *j)
{
        if (!j)
                return;
        if (j->job)
                TerminateJobObject(j->job, 128 + WIN_SIGKILL);
        if (j->process)
                WaitForSingleObject(j->process, INFINITE);
        (void)sb_win_remove_tree(j->dir);
        job_free(j);
}

const struct sb_backend_ops sb_backend_windows_ops = {
        .name = "windows",
        .caps = win_caps,
        .probe = win_probe,
        .open = win_open,
        .close = win_close,
        .identity_take = win_identity_take,
        .identity_give = win_identity_give,
        .host_caps = win_host_caps,
        .spawn = win_spawn,
        .exit_handle = win_exit_handle,
        .pid = win_pid,
        .kill = win_kill,
        .reap = win_reap,
        .enforced = win_enforced,
        .destroy = win_destroy,
};
