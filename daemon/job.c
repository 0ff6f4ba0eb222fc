/* job.c — jobs: admit (quota.c), spawn through the backend, time out,
 * reap, report, retain (retain.c), destroy.
 *
 * Life of a job: exec checks the caps and charges its owner, creates it and
 * spawns the sandboxed process; its stdout/stderr pipes are forwarded as
 * job_output notifications to the owning connection (job_output.c). The job
 * ends ("finished") only when the main process was reaped AND both output
 * pipes reached EOF, so every job_output precedes job_exit, and after the
 * backend's slow file work after the reap (finish_files: the ownership
 * fix-up of a client's directory, on the threadpool), so that a client
 * reading its directory after the result finds it its own. Then waiters are
 * answered, the memory charge is returned, the result is retained
 * (retain.c), and the backend's destroy() runs on the threadpool. The job's
 * uid stays allocated, and the job counts against its owner, until
 * destroy() completed, because the job directory is owned by it until then.
 *
 * Memory: struct sbd_job plus its argv copy, cut to SBP_ARGV_KEPT_MAX once
 * the program started; output never accumulates in the daemon — when the
 * owner's write queue passes SBD_CONN_HIGH_WATER the job's pipes stop being
 * read (conn.c) and the kernel pipe buffer pushes back on the job; stdin is
 * bounded by StdinQueueMax= (job_stdin.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/admit.h"
#include "daemon/backend_handle.h"
#include "daemon/job.h"
#include "daemon/job_args.h"
#include "daemon/log.h"
#include "daemon/work_keep.h"
#include "daemon/prepared.h"
#include "daemon/quota.h"
#include "daemon/retain.h"
#include "daemon/sandbox.h"

/* Where a job without stdin reads end-of-file from. */
#ifdef _WIN32
#define NULL_DEVICE "NUL"
#else
#define NULL_DEVICE "/dev/null"
#endif

/* After reap, how long to wait for EOF on the output pipes before assuming a
 * process escaped the job's kill and still holds them. */
#define EOF_GRACE_MS 2000

/* Milliseconds of Unix time (started_ms on the wire). */
static uint64_t now_unix_ms(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return 0;
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- results ---- */

void sbd_job_fill_result(struct sbd_job *j, struct sbp_job_result *out)
{
        *out = j->result;
        if (!j->reaped && !j->finished && j->start_hr)
                out->wall_ms = (uv_hrtime() - j->start_hr) / 1000000u;
}

void sbd_job_fill_info(struct sbd_job *j, struct sbp_job_info *out)
{
        memset(out, 0, sizeof(*out));
        sbd_job_fill_result(j, &out->result);
        snprintf(out->profile, sizeof(out->profile), "%s", j->profile);
        out->owner_uid = j->owner_uid;
        out->started_ms = j->started_ms;
        out->detached = j->detached;
        out->argv = j->argv;
        out->argc = j->argc;
        out->argv_truncated = j->argv_truncated;
        out->seq = j->seq;
        snprintf(out->sandbox, sizeof(out->sandbox), "%s", j->sandbox);
}

void sbd_waiter_drop(struct sbd_waiter *w)
{
        sbd_list_remove(&w->job_node);
        sbd_list_remove(&w->conn_node);
        free(w);
}

void sbd_job_add_waiter(struct sbd_job *j, struct sbd_conn *c, uint32_t msgid)
{
        struct sbd_waiter *w;

        if (j->finished) {
                j->d->job_events->result(c, msgid, &j->result);
                return;
        }
        w = calloc(1, sizeof(*w));
        if (!w) {
                struct sbp_error err;

                sbp_error_set(&err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
                j->d->job_events->done(c, msgid, &err);
                return;
        }
        w->conn = c;
        w->msgid = msgid;
        sbd_list_append(&j->waiters, &w->job_node);
        sbd_list_append(&c->waiters, &w->conn_node);
}

/* ---- ending ---- */

static void finish(struct sbd_job *j)
{
        struct sbd_daemon *d = j->d;
        struct sbd_job_end end = {
                .setup_failed = j->exit.setup_failed,
                .kill_reason = j->kill_reason,
                .oom = j->exit.oom,
                .exit_code = j->exit.exit_code,
                .signal = j->exit.signal,
        };
        struct sbp_job_result *res = &j->result;
        enum sbp_job_state state = sbd_job_final_state(&end);

        if (!sbd_job_state_transition_ok(res->state, state)) {
                log_error("job %s: illegal state change %s -> %s", j->id,
                          sbp_job_state_name(res->state), sbp_job_state_name(state));
                return;
        }
        j->finished = true;
        uv_timer_stop(&j->timer);
        sbd_job_stdin_shut(j);

        res->state = state;
        /* As PROTOCOL.md has it: exit_code only for exited, signal only for
         * signaled (a job skillbox killed died of SIGKILL; its state says why). */
        res->exit_code = state == SBP_JOB_EXITED ? j->exit.exit_code : -1;
        res->signal = state == SBP_JOB_SIGNALED ? j->exit.signal : 0;
        if (state == SBP_JOB_FAILED) {
                snprintf(res->error, sizeof(res->error), "%s",
                         j->exit.error[0] ? j->exit.error : "setup failed");
                d->jobs_failed++;
        }
        res->cpu_user_ms = j->exit.cpu_user_ms;
        res->cpu_sys_ms = j->exit.cpu_sys_ms;
        res->memory_peak = j->exit.memory_peak;
        res->tasks_peak = j->exit.tasks_peak;
        d->jobs_running--;
        sbd_quota_job_ended(d, j->owner_uid, j->memory_charge);
        sbd_job_egress_end(j);

        log_info("job %s: %s exit_code=%d signal=%d wall_ms=%" PRIu64 "%s%s", j->id,
                 sbp_job_state_name(state), res->exit_code, res->signal, res->wall_ms,
                 state == SBP_JOB_FAILED ? " error=" : "", state == SBP_JOB_FAILED ? res->error : "");

        if (j->owner)
                d->job_events->exit(j->owner, res);
        /* Pop one at a time: a failing reply may close its connection, which
         * drops that connection's other waiters from this list. */
        while (!sbd_list_empty(&j->waiters)) {
                struct sbd_waiter *w = sbd_container_of(j->waiters.next, struct sbd_waiter,
                                                        job_node);
                struct sbd_conn *c = w->conn;
                uint32_t msgid = w->msgid;

                sbd_waiter_drop(w);
                d->job_events->result(c, msgid, res);
        }
        /* Before destroy(), which would free it. */
        sbd_work_keep_take(j);
        /* Before the cleanup: the job still counts against its owner here,
         * which keeps the owner's quota entry while its results move. */
        sbd_retain_job(j);

        sbd_job_cleanup_start(j);
        if (j->sandbox[0])
                sbd_sandbox_exec_ended(d, j->sandbox);
        sbd_prepared_job_ended(d);
        d->job_events->finished(d);
}

void sbd_job_maybe_finish(struct sbd_job *j)
{
        if (j->finished || !j->reaped || j->files_pending || j->out_open || j->err_open)
                return;
        finish(j);
}

static void on_eof_grace(uv_timer_t *t)
{
        struct sbd_job *j = t->data;

        if (j->owner && j->owner->paused) {
                /* Not stuck: the client is slow. Keep waiting for it. */
                uv_timer_start(&j->timer, on_eof_grace, EOF_GRACE_MS, 0);
                return;
        }
        log_warning("job %s: output still open %d ms after exit; closing it", j->id,
                    EOF_GRACE_MS);
        j->result.output_truncated = true;
        sbd_job_close_output(j, SBP_STDOUT);
        sbd_job_close_output(j, SBP_STDERR);
        sbd_job_maybe_finish(j);
}

static void mark_reaped(struct sbd_job *j)
{
        j->reaped = true;
        /* Nothing of the job runs: what it was refused is all in. */
        sbd_job_denied_stop(j);
        j->result.wall_ms = (uv_hrtime() - j->start_hr) / 1000000u;
        uv_timer_stop(&j->timer);
        if (j->out_open || j->err_open) {
                j->timer.data = j;
                uv_timer_start(&j->timer, on_eof_grace, EOF_GRACE_MS, 0);
        }
}

static void stop_exit_poll(struct sbd_job *j)
{
        if (!j->poll_open)
                return;
        j->poll_open = false;
        sbd_job_close_handle(j, sbd_exit_watch_stop(&j->exit_watch));
}

static void reap(struct sbd_job *j)
{
        int r;

        if (j->reaped)
                return;
        r = j->d->ops->reap(j->bj, &j->exit);
        /* The backend's exit handle was readable but it has nothing to
         * report yet (a pidfd whose exit a tracer still holds; an error
         * pipe woken before the exit record). Keep polling. */
        if (r == -EAGAIN && j->poll_open)
                return;
        stop_exit_poll(j);
        if (r < 0) {
                log_errno(r, "job %s: reap", j->id);
                if (!j->exit.setup_failed && j->exit.signal == 0 && j->exit.exit_code < 0) {
                        j->exit.setup_failed = true;
                        snprintf(j->exit.error, sizeof(j->exit.error), "reap: %s",
                                 sbd_errno_name(r));
                }
        }
        mark_reaped(j);
        sbd_job_files_start(j);
        sbd_job_maybe_finish(j);
}

static void on_exit_ready(void *data)
{
        reap(data);
}

static void on_timeout(uv_timer_t *t)
{
        struct sbd_job *j = t->data;

        log_info("job %s: wall timeout of %" PRIu64 " ms reached", j->id, j->limits.timeout_ms);
        sbd_job_kill(j, SBD_KILL_TIMEOUT);
}

void sbd_job_kill(struct sbd_job *j, enum sbd_kill_reason why)
{
        int r;

        if (j->finished || j->reaped || !j->bj)
                return;
        j->kill_reason = sbd_kill_reason_merge(j->kill_reason, why);
        r = j->d->ops->kill(j->bj);
        if (r < 0)
                log_errno(r, "job %s: kill (%s)", j->id, sbd_kill_reason_name(why));
        else
                log_debug("job %s: killed (%s)", j->id, sbd_kill_reason_name(why));
}

void sbd_job_owner_gone(struct sbd_job *j)
{
        j->owner = NULL;
        if (!j->detached && !j->finished)
                sbd_job_kill(j, SBD_KILL_DISCONNECT);
        /* Nobody throttles us any more: drain and discard (but count). */
        sbd_job_update_reading(j);
}

/* ---- spawning ---- */

static void close_fd(int *fd)
{
        if (*fd >= 0) {
                close(*fd);
                *fd = -1;
        }
}

int sbd_job_open_pipe(struct sbd_job *j, uv_pipe_t *p, int fd, bool *open)
{
        int r = uv_pipe_init(j->d->loop, p, 0);

        if (r < 0)
                return r;
        p->data = j;
        j->handles++;
        *open = true;
        r = uv_pipe_open(p, fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        return 0;
}

/* Spawn the process. On failure returns <0 with errbuf set, nothing left
 * open. On success the job's handles are running. */
static int spawn(struct sbd_job *j, const struct sbp_exec_params *p, char **env,
                 struct sbd_prepared *w, char *errbuf, size_t errlen)
{
        struct sbd_daemon *d = j->d;
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
        struct sb_job_spec spec;
        struct sb_job_mount mounts[SBP_MOUNTS_MAX];
        char unmet[SBP_TEXT_MAX + 1];
        char egress_err[SBP_TEXT_MAX + 1] = "";
        int r, fd;

        /* libuv's pipes: close-on-exec (not inheritable) on both ends, the
         * daemon's end ready for its loop (on Windows: overlapped), the
         * job's end blocking, as programs expect their stdio. */
        if (p->tty) {
                /* The backend's pty is the job's stdio (job_tty.c). */
        } else if (p->stdin) {
                r = uv_pipe(in, 0, UV_NONBLOCK_PIPE);
                if (r < 0)
                        goto fail_pipe;
        } else {
                in[0] = open(NULL_DEVICE, O_RDONLY | O_NOCTTY | O_CLOEXEC);
                if (in[0] < 0)
                        goto fail_errno;
        }
        if (!p->tty) {
                r = uv_pipe(out, UV_NONBLOCK_PIPE, 0);
                if (r == 0)
                        r = uv_pipe(err, UV_NONBLOCK_PIPE, 0);
                if (r < 0)
                        goto fail_pipe;
        }

        sb_job_spec_init(&spec, j->id, j->uid, &j->limits.policy);
        spec.argv = j->argv;
        spec.envp = env;
        spec.stdin_fd = sbd_backend_handle(in[0]);
        spec.stdout_fd = sbd_backend_handle(out[1]);
        spec.stderr_fd = sbd_backend_handle(err[1]);
        spec.cwd = p->cwd[0] ? p->cwd : NULL;
        spec.tty = p->tty;
        /* A terminal's usual size until the client says otherwise. */
        spec.rows = p->rows ? p->rows : 24;
        spec.cols = p->cols ? p->cols : 80;
        spec.denied_report = true;      /* sbd_job_denied_start() below */
        spec.keep_work = p->keep_work;
        /* Files by descriptor: the request's fds, still owned by the
         * connection's message (fds.c); the backend dups what it keeps. */
        sbd_fds_exec_spec(j->owner, p, &spec, mounts);

        errbuf[0] = '\0';
        j->bj = NULL;
        if (w) {
                /* Prepared with this id, uid and this policy (prepared.c). */
                r = d->ops->start(w->bj, &spec, errbuf, errlen);
                if (r == 0) {
                        j->bj = w->bj;
                        sbd_prepared_started(d, w);
                } else {
                        log_warning("job %s: prepared sandbox not usable (%s); building one",
                                    j->id, errbuf[0] ? errbuf : sbd_errno_name(r));
                        sbd_prepared_failed(d, w);
                        errbuf[0] = '\0';
                }
        }
        struct sbd_sandbox *sbx = j->sandbox[0] ? sbd_sandbox_find(d, j->sandbox) : NULL;
        if (sbx) {
                r = d->ops->sandbox_exec(sbx->bj, &spec, &j->bj, errbuf, errlen);
        } else if (j->sandbox[0]) {
                snprintf(errbuf, errlen, "sandbox %s: gone", j->sandbox);
                r = -ENOENT;
        } else {
                r = j->bj ? 0 : d->ops->spawn(d->backend, &spec, &j->bj, errbuf, errlen);
        }
        /* The job's ends live in the job now (or nowhere): drop ours so EOF
         * on the output pipes means every job process is gone. */
        close_fd(&in[0]);
        close_fd(&out[1]);
        close_fd(&err[1]);
        if (r < 0) {
                j->bj = NULL;
                if (!errbuf[0])
                        snprintf(errbuf, errlen, "spawn: %s", sbd_errno_name(r));
                goto fail;
        }
        j->start_hr = uv_hrtime();

        if (j->tty) {
                r = sbd_job_tty_watch(j);
        } else {
                r = sbd_job_open_pipe(j, &j->out_pipe, out[0], &j->out_open);
                out[0] = -1;
        }
        if (r == 0 && !j->tty) {
                r = sbd_job_open_pipe(j, &j->err_pipe, err[0], &j->err_open);
                err[0] = -1;
        }
        if (r == 0 && p->stdin && !j->tty) {
                r = sbd_job_open_pipe(j, &j->in_pipe, in[1], &j->in_open);
                in[1] = -1;
        }
        fd = r == 0 ? d->ops->exit_handle(j->bj) : SB_HANDLE_NONE;
        if (r == 0 && fd < 0)
                r = fd;
        if (r == 0) {
                r = sbd_exit_watch_init(d->loop, &j->exit_watch, fd, j);
                if (r == 0) {
                        j->handles++;
                        j->poll_open = true;
                        r = sbd_exit_watch_start(&j->exit_watch, on_exit_ready);
                }
        }
        if (r == 0)
                r = sbd_job_denied_start(j);
        if (r == 0 && j->limits.policy.network == SB_NETWORK_ALLOWLIST) {
                fd = d->ops->egress_listener ? d->ops->egress_listener(j->bj) : SB_HANDLE_NONE;
                r = fd >= 0 ? sbd_job_egress_start(j, fd) : -EOPNOTSUPP;
                if (r < 0)
                        snprintf(egress_err, sizeof(egress_err),
                                 "network allowlist: egress proxy: %s",
                                 fd >= 0 ? sbd_errno_name(r) : "no listener from the backend");
        }
        d->ops->enforced(j->bj, &j->result.enforced);
        if (j->result.enforced.timeout_ms == 0)
                j->result.enforced.timeout_ms = j->limits.timeout_ms;
        sb_backend_guarantees(&d->caps, false, &j->result.enforced);
        /* Fail closed (Require=): less applied than the profile requires. */
        unmet[0] = '\0';
        if (r == 0 && sbd_profile_unmet(&j->limits, &j->result.enforced, unmet, sizeof(unmet)))
                r = -EOPNOTSUPP;
        if (r < 0) {
                /* The process runs but cannot be watched: end it now; the
                 * caller finishes the job after replying to exec. */
                log_errno(r, "job %s: watching the job", j->id);
                close_fd(&out[0]);
                close_fd(&err[0]);
                close_fd(&in[1]);
                stop_exit_poll(j);
                sbd_job_denied_stop(j);
                d->ops->kill(j->bj);
                d->ops->reap(j->bj, &j->exit);
                j->exit.setup_failed = true;
                if (unmet[0])
                        snprintf(j->exit.error, sizeof(j->exit.error),
                                 "Unsupported: not enforced: %s", unmet);
                else if (egress_err[0])
                        snprintf(j->exit.error, sizeof(j->exit.error), "%s", egress_err);
                else
                        snprintf(j->exit.error, sizeof(j->exit.error), "daemon: watch job: %s",
                                 uv_err_name(r));
                mark_reaped(j);
                sbd_job_files_start(j);
                sbd_job_update_reading(j);
                return 0;
        }
        if (j->limits.timeout_ms) {
                j->timer.data = j;
                /* Timers count from the loop's cached time, taken before the
                 * spawn; refresh it so the job gets its whole timeout as
                 * wall_ms measures it (from start_hr). */
                uv_update_time(j->d->loop);
                uv_timer_start(&j->timer, on_timeout, j->limits.timeout_ms, 0);
        }
        sbd_job_update_reading(j);
        return 0;

fail_errno:
        r = -errno;
fail_pipe:
        snprintf(errbuf, errlen, "daemon: pipe: %s", sbd_errno_name(r));
fail:
        close_fd(&in[0]);
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&out[1]);
        close_fd(&err[0]);
        close_fd(&err[1]);
        return r;
}

int sbd_job_exec(struct sbd_conn *c, uint32_t msgid, const struct sbp_exec_params *p,
                 const struct sbd_admission *a, struct sbp_error *err)
{
        struct sbd_daemon *d = c->d;
        struct sbd_job *j;
        struct sbd_prepared *w;
        char errbuf[SBP_TEXT_MAX + 1];
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        j->d = d;
        sbd_list_init(&j->node);
        sbd_list_init(&j->retained_node);
        sbd_list_init(&j->waiters);
        j->kept_work_fd = -1;
        /* A persistent sandbox lends its uid (admitted: sbd_sandbox_admit);
         * a prepared one brings its own id and uid. */
        struct sbd_sandbox *sbx = p->sandbox[0] ? sbd_sandbox_find(d, p->sandbox) : NULL;
        if (p->sandbox[0] && !sbx) {
                free(j);
                return sbp_error_set(err, SBP_E_NOT_FOUND, "no sandbox %s", p->sandbox);
        }
        w = sbx ? NULL : sbd_prepared_take(d, a->profile->p.name, &a->limits.policy, p, a->env);
        r = w ? 0 : sbd_job_id_new(d, j->id);
        if (r < 0) {
                free(j);
                return sbp_error_set(err, SBP_E_INTERNAL, "job id: %s", sbd_errno_name(r));
        }
        j->argv = sbd_job_argv_copy(p->argv, p->argc);
        if (!j->argv) {
                if (w)
                        sbd_prepared_return(d, w);
                free(j);
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        }
        if (w) {
                snprintf(j->id, sizeof(j->id), "%s", w->id);
                j->uid = w->uid;
                r = 0;
        } else if (sbx) {
                j->uid = sbx->uid;
                r = 0;
        } else {
                r = sbd_job_uid_alloc(d, &j->uid);
        }
        if (r < 0) {
                sbd_job_argv_free(j->argv);
                free(j);
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED,
                                     "no free job uid in %u-%u", d->opt.uid_first,
                                     d->opt.uid_last);
        }
        r = sbd_quota_job_start(d, (uint32_t)c->uid, a->charge);
        if (r < 0) {
                if (w)
                        sbd_prepared_return(d, w);
                else if (!sbx)
                        sbd_job_uid_release(d, j->uid);
                sbd_job_argv_free(j->argv);
                free(j);
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        }
        j->memory_charge = a->charge;
        /* The sandbox's uid stays the sandbox's. */
        j->uid_held = !sbx;
        if (sbx) {
                snprintf(j->sandbox, sizeof(j->sandbox), "%s", sbx->id);
                sbd_sandbox_exec_started(sbx);
        }
        j->argc = p->argc;
        j->owner = c;
        j->owner_uid = (uint32_t)c->uid;
        j->detached = p->detach;
        j->had_stdin = p->stdin || p->tty;
        j->tty = p->tty;
        memcpy(j->publish, p->publish, sizeof(j->publish));
        j->n_publish = p->n_publish;
        j->keep_work = p->keep_work;
        j->limits = a->limits;
        sbd_output_init(&j->output, a->limits.output_max, a->limits.output_truncate);
        snprintf(j->profile, sizeof(j->profile), "%s", a->profile->p.name);
        j->started_ms = now_unix_ms();
        j->result.state = SBP_JOB_RUNNING;
        j->result.exit_code = -1;
        j->result.tasks_peak = -1;
        j->result.enforced.uid = -1;
        j->result.enforced.gid = -1;
        snprintf(j->result.job, sizeof(j->result.job), "%s", j->id);
        j->exit.exit_code = -1;
        j->exit.tasks_peak = -1;

        /* From here the job exists: every failure is reported as its result. */
        uv_timer_init(d->loop, &j->timer);
        j->timer.data = j;
        j->handles++;
        sbd_list_append(&d->jobs, &j->node);
        d->jobs_started++;
        d->jobs_running++;
        j->seq = d->jobs_started;

        r = spawn(j, p, a->env, w, errbuf, sizeof(errbuf));
        /* The program has its argv; what inspect and list show is cut. */
        if (sbd_job_argv_keep(&j->argv, &j->argc, &j->argv_truncated) < 0)
                log_warning("job %s: out of memory; its whole argv is kept", j->id);

        d->job_events->exec_reply(c, msgid, j->id);
        if (r < 0) {
                log_warning("job %s: spawn failed: %s", j->id, errbuf);
                j->exit.setup_failed = true;
                snprintf(j->exit.error, sizeof(j->exit.error), "%s", errbuf);
                j->start_hr = uv_hrtime();
                j->reaped = true;
                sbd_job_maybe_finish(j);
                return 0;
        }
        sbd_job_maybe_finish(j);   /* only if watching it failed above */
        if (j->finished)
                return 0;
        log_info("job %s: started for uid %u (pid %d, job uid %u): %s", j->id,
                 (unsigned)c->uid, j->bj ? d->ops->pid(j->bj) : -1, j->uid, j->argv[0]);
        return 0;
}
