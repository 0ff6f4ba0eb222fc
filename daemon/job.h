/* job.h — one job: its sandboxed process (through the backend), its pipes,
 * timers, output routing, waiters and, after it ended, its retained result.
 *
 * The job layer (job*.c) is apart from the wire: whatever a client is to
 * hear about a job goes out as an event (job_events.h, d->job_events), and
 * the RPC layer (rpc_jobs.c) packs it. So job*.c include neither msgpack.h
 * nor conn.c's sending API (sbd_out, sbd_conn_send, sbd_conn_reply_*), and
 * call no sbp_*_pack function: tests/unit/check_job_layer.sh fails the
 * build's tests if one does.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/conn.h"
#include "daemon/daemon.h"
#include "daemon/exit_watch.h"
#include "daemon/job_events.h"
#include "daemon/job_state.h"
#include "daemon/output.h"
#include "daemon/profile.h"

/* A request waiting for a job to end (wait, kill). Linked in both the job's
 * and the connection's lists; freed when answered or when either goes away. */
struct sbd_waiter {
        struct sbd_list job_node;
        struct sbd_list conn_node;
        struct sbd_conn *conn;
        uint32_t msgid;
};

/* A stdin_write in flight; the reply is sent from the write callback. */
struct sbd_stdin_req {
        uv_write_t req;
        struct sbd_list conn_node;   /* in conn->stdin_reqs while conn is alive */
        struct sbd_job *job;
        struct sbd_conn *conn;       /* NULL once the connection went away */
        uint32_t msgid;
        size_t len;
        uint8_t data[];
};

struct sbd_job {
        struct sbd_list node;            /* in daemon->jobs */
        struct sbd_list retained_node;   /* in daemon->retained once finished */
        struct sbd_daemon *d;
        char id[SBP_JOB_ID_MAX + 1];

        uint32_t owner_uid;
        struct sbd_conn *owner;          /* NULL once the owner disconnected */
        bool detached;
        char profile[SBP_NAME_MAX + 1];
        char **argv;                     /* copy; cut to SBP_ARGV_KEPT_MAX once started */
        uint32_t argc;
        bool argv_truncated;
        uint64_t seq;                    /* start order (list's cursor) */
        uint64_t memory_charge;          /* counted in the memory quotas while running */
        uint64_t started_ms;             /* Unix time */
        uint64_t start_hr;               /* uv_hrtime() at spawn */
        struct sbd_limits limits;
        struct sbd_output output;        /* the output cap's bookkeeping */
        uint32_t publish[SBP_PUBLISH_MAX];       /* ports job_connect may reach */
        uint32_t n_publish;

        uint32_t uid;
        bool uid_held;
        struct sb_backend_job *bj;
        struct sb_backend_exit exit;
        enum sbd_kill_reason kill_reason;
        struct sbp_job_result result;    /* state running until finished */

        uv_pipe_t out_pipe, err_pipe, in_pipe;
        struct sbd_exit_watch exit_watch;
        uv_poll_t denied_poll;           /* the backend's refusals (job_denied.c) */
        uv_timer_t denied_timer;         /* their rate bound's pause */
        bool denied_open;                /* both handles are initialized */
        bool keep_work;                  /* exec keep_work (work_keep.c) */
        int kept_work_fd;                /* its /work once finished; -1 = none */
        uint64_t kept_work_bytes;        /* what it holds, in the owner's memory quota */
        uint64_t denied_window_ms;       /* uv_now() the rate window began */
        uint32_t denied_in_window;
        uv_timer_t timer;                /* timeout, then EOF grace, then retention */
        unsigned handles;                /* initialized handles not yet closed */
        bool out_open, err_open, in_open, poll_open;
        bool out_reading, err_reading;
        bool had_stdin;                  /* started with stdin (or a tty): true */
        bool tty;                        /* stdio is a pty: out_pipe reads its master,
                                          * in_pipe writes a dup of it (job_tty.c) */
        bool stdin_closing;              /* stdin_close asked; close after pending writes */
        unsigned stdin_pending;
        size_t stdin_queued;             /* bytes in those writes (StdinQueueMax=) */

        bool reaped, finished, destroying, removed;
        bool files_pending;              /* finish_files on the threadpool; finish after it */
        int files_error;                 /* what it returned */
        uv_work_t work;                  /* destroy */
        uv_work_t files_work;
        struct sbd_list waiters;
        char sandbox[SBP_JOB_ID_MAX + 1];   /* the persistent sandbox it runs in; "" = none */
};

struct sbd_admission;
/* Create and start the job that admission a (admit.h) allowed c to run.
 * 0: the job exists and exec_reply gave msgid its id; on a spawn failure it
 * ends `failed` right after that (exit event). <0 with err filled: no job
 * (no job uid free, no memory), nothing was sent. */
int sbd_job_exec(struct sbd_conn *c, uint32_t msgid, const struct sbp_exec_params *p,
                 const struct sbd_admission *a, struct sbp_error *err);

/* A live job (running or being cleaned up) by id, whoever owns it: for
 * the daemon's own use, never a client's lookup. */
struct sbd_job *sbd_job_find(struct sbd_daemon *d, const char *id);

/* ALLOWLIST jobs (job_egress.c): the proxy serves the job on listen_fd, a
 * socket listening inside the job's network namespace (the caller keeps
 * and closes its own); what it refuses lands in the job's result.denied.
 * sbd_job_egress_end() at the job's end. */
int sbd_job_egress_start(struct sbd_job *j, int listen_fd);
void sbd_job_egress_end(struct sbd_job *j);
/* The proxy's report for the egress (egress.h's sbd_egress_denied_fn). */
void sbd_job_egress_denied(void *daemon, const char *job_id, const char *host, uint16_t port,
                           uint32_t count);

/* Refusals (job_denied.c): poll the backend's report from the spawn (0, or
 * a libuv/negative errno: the job cannot be watched) to the reap (stop);
 * add merges one (kind, what) entry into r->denied, within SBP_DENIED_MAX. */
int sbd_job_denied_start(struct sbd_job *j);
void sbd_job_denied_stop(struct sbd_job *j);
void sbd_job_denied_add(struct sbp_job_result *r, const char *kind, const char *what,
                        uint64_t count);

/* Lookup as seen by c: another user's job is invisible (NULL) unless c is admin. */
struct sbd_job *sbd_job_lookup(struct sbd_daemon *d, const struct sbd_conn *c, const char *id);

void sbd_job_kill(struct sbd_job *j, enum sbd_kill_reason why);
/* Answer msgid on c with the result once j ends (now if it already has). */
void sbd_job_add_waiter(struct sbd_job *j, struct sbd_conn *c, uint32_t msgid);
void sbd_waiter_drop(struct sbd_waiter *w);

/* The current result (running jobs: live counters and wall time so far). */
void sbd_job_fill_result(struct sbd_job *j, struct sbp_job_result *out);
void sbd_job_fill_info(struct sbd_job *j, struct sbp_job_info *out);   /* argv borrowed */

/* stdin (job_stdin.c). */
int sbd_job_stdin_write(struct sbd_job *j, struct sbd_conn *c, uint32_t msgid,
                        const uint8_t *data, size_t len, struct sbp_error *err);
int sbd_job_stdin_close(struct sbd_job *j, struct sbp_error *err);
/* Close the stdin pipe now (the job ended); pending writes are cancelled. */
void sbd_job_stdin_shut(struct sbd_job *j);
/* Close one of j's handles; j is freed once all are closed and it is removed. */
void sbd_job_close_handle(struct sbd_job *j, uv_handle_t *h);

/* A tty job (job_tty.c): watch the pty master the backend hands over,
 * as out_pipe (its output, stream stdout) and in_pipe (its input). */
int sbd_job_tty_watch(struct sbd_job *j);
/* resize: the terminal's new size; the job's foreground group gets SIGWINCH. */
int sbd_job_tty_resize(struct sbd_job *j, uint32_t rows, uint32_t cols, struct sbp_error *err);
/* The character that ends a tty job's input (VEOF of its terminal). */
char sbd_job_tty_veof(struct sbd_job *j);
/* uv_pipe_open(fd) as one of j's handles (fd closed on failure). */
int sbd_job_open_pipe(struct sbd_job *j, uv_pipe_t *p, int fd, bool *open);

/* The connection owning j went away (closed or paused state changed). */
void sbd_job_owner_gone(struct sbd_job *j);
void sbd_job_update_reading(struct sbd_job *j);

/* End the job once it was reaped and both output pipes are closed. */
void sbd_job_maybe_finish(struct sbd_job *j);
/* job_cleanup.c: free the job once it is removed, its handles are closed
 * and no work of it is pending. */
void sbd_job_maybe_free(struct sbd_job *j);
/* job_cleanup.c: after a reap, the backend's slow file work, if it left
 * any, off the loop; sbd_job_maybe_finish waits for it. */
void sbd_job_files_start(struct sbd_job *j);
/* job_cleanup.c: once finished, the backend's destroy(); the job's uid and
 * quota charge go back when it completed. */
void sbd_job_cleanup_start(struct sbd_job *j);
/* Stop reading one output pipe and close it (job_output.c). */
void sbd_job_close_output(struct sbd_job *j, enum sbp_stream stream);

/* Forget a finished job (retention over, eviction, or daemon exit). */
void sbd_job_remove(struct sbd_job *j);

/* A free job uid from the backend's identity pool, or -EAGAIN; and back. */
int sbd_job_uid_alloc(struct sbd_daemon *d, uint32_t *out);
void sbd_job_uid_release(struct sbd_daemon *d, uint32_t uid);
/* A fresh job id, unique among jobs and prepared sandboxes. */
int sbd_job_id_new(struct sbd_daemon *d, char *id);
