/* blocking.c — libskillbox's blocking calls: each is its _async request and
 * a loop running the connection (client_run_until) until that request
 * completed. One code path: what the daemon answers is decoded only in
 * calls.c.
 *
 * The completion callbacks copy the reply into the caller's memory. A
 * request whose loop failed (connection lost, a signal) is cancelled, so a
 * late reply never writes into a stack frame that is gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client-internal.h"

struct sync_call {
        bool done;
        int error;
        char *job_out;                  /* exec */
        struct sb_job_result *result;   /* wait */
        struct sb_job_info *info;       /* inspect */
        struct sb_job_info **jobs;      /* list */
        size_t *njobs;
        struct sb_hello *hello;
        struct sb_stats *stats;
        struct sb_profile **profiles;
        size_t *nprofiles;
        int fd;                         /* job_connect */
        char *sandbox_out;                      /* sandbox_create */
        struct sb_sandbox_info **sandboxes;     /* sandbox_list */
        size_t *nsandboxes;
        int *work_fd;
};

static void sync_done(sb_client *c, int error, struct sb_reply *reply, void *userdata)
{
        struct sync_call *s = userdata;

        (void)c;
        s->done = true;
        s->error = error;
        if (error < 0 || !reply)
                return;
        if (s->job_out && reply->job)
                memcpy(s->job_out, reply->job, strlen(reply->job) + 1);
        if (s->result && reply->result)
                *s->result = *reply->result;
        if (s->info && reply->info) {
                *s->info = *reply->info;        /* argv moves to the caller */
                free(reply->info);
        }
        if (s->jobs) {
                *s->jobs = reply->jobs;
                *s->njobs = reply->njobs;
        }
        if (s->hello && reply->hello)
                *s->hello = *reply->hello;
        if (s->stats && reply->stats)
                *s->stats = *reply->stats;
        if (s->work_fd)
                *s->work_fd = reply->work_fd;
        if (s->profiles) {
                *s->profiles = reply->profiles;
                *s->nprofiles = reply->nprofiles;
        }
        if (s->sandbox_out && reply->sandbox)
                memcpy(s->sandbox_out, reply->sandbox, strlen(reply->sandbox) + 1);
        if (s->sandboxes) {
                *s->sandboxes = reply->sandboxes;
                *s->nsandboxes = reply->nsandboxes;
        }
}

/* Run until s completes. r is what the _async call returned. */
static int sync_run(sb_client *c, int r, sb_request *q, struct sync_call *s,
                    const struct sb_callbacks *cb, bool queue)
{
        if (r < 0)
                return r;
        r = client_run_until(c, &s->done, cb, queue);
        if (r < 0) {
                if (!s->done)
                        sb_request_cancel(c, q);
                return r;
        }
        return s->error;
}

int sb_hello(sb_client *c, const char *client_name, struct sb_hello *out)
{
        struct sync_call s = { .hello = out };
        sb_request *q = NULL;

        return sync_run(c, sb_hello_async(c, client_name, sync_done, &s, &q), q, &s, NULL, true);
}

int sb_exec(sb_client *c, const struct sb_exec_options *opts, char *job_out)
{
        struct sync_call s = { .job_out = job_out };
        sb_request *q = NULL;

        return sync_run(c, sb_exec_async(c, opts, sync_done, &s, &q), q, &s, NULL, true);
}

int sb_wait(sb_client *c, const char *job, const struct sb_callbacks *cb,
            struct sb_job_result *out)
{
        struct sync_call s = { .result = out };
        sb_request *q = NULL;

        /* Output read earlier precedes what comes now: hand it over first.
         * During the wait, notifications go to cb or are dropped. */
        if (!c->broken)
                client_drain(c, client_callbacks(c, cb));
        return sync_run(c, sb_wait_async(c, job, sync_done, &s, &q), q, &s, cb, false);
}

int sb_stdin_write(sb_client *c, const char *job, const void *data, size_t len)
{
        const char *p = data;
        int r;

        while (len > 0) {
                struct sync_call s = { 0 };
                size_t n = len < SBP_DATA_MAX ? len : SBP_DATA_MAX;
                sb_request *q = NULL;

                r = sb_stdin_write_async(c, job, p, n, sync_done, &s, &q);
                if (r == -EAGAIN && !c->broken) {
                        /* Our own async writes (or requests) fill the
                         * queues: wait for them to move, then try again. */
                        r = client_step(c, NULL, true);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = sync_run(c, r, q, &s, NULL, true);
                if (r < 0)
                        return r;
                p += n;
                len -= n;
        }
        return 0;
}

int sb_stdin_close(sb_client *c, const char *job)
{
        struct sync_call s = { 0 };
        sb_request *q = NULL;

        return sync_run(c, sb_stdin_close_async(c, job, sync_done, &s, &q), q, &s, NULL, true);
}

int sb_resize(sb_client *c, const char *job, uint32_t rows, uint32_t cols)
{
        struct sync_call s = { 0 };
        sb_request *q = NULL;

        return sync_run(c, sb_resize_async(c, job, rows, cols, sync_done, &s, &q), q, &s, NULL,
                        true);
}

int sb_kill(sb_client *c, const char *job)
{
        struct sync_call s = { 0 };
        sb_request *q = NULL;

        return sync_run(c, sb_kill_async(c, job, sync_done, &s, &q), q, &s, NULL, true);
}

static void connect_done(sb_client *c, int error, struct sb_reply *reply, void *userdata)
{
        struct sync_call *s = userdata;

        sync_done(c, error, reply, userdata);
        if (error == 0 && reply)
                s->fd = reply->fd;
}

int sb_job_connect(sb_client *c, const char *job, uint16_t port)
{
        struct sync_call s = { .fd = -1 };
        sb_request *q = NULL;
        int r;

        r = sync_run(c, sb_job_connect_async(c, job, port, connect_done, &s, &q), q, &s, NULL,
                     true);
        if (r < 0) {
                if (s.fd >= 0)
                        close(s.fd);
                return r;
        }
        return s.fd;
}

int sb_list(sb_client *c, struct sb_job_info **out, size_t *n)
{
        struct sync_call s = { .jobs = out, .njobs = n };
        sb_request *q = NULL;
        int r;

        *out = NULL;
        *n = 0;
        r = sync_run(c, sb_list_async(c, sync_done, &s, &q), q, &s, NULL, true);
        if (r == 0 && !*out) {
                *out = calloc(1, sizeof(**out));
                if (!*out)
                        return client_fail(c, -ENOMEM, "out of memory");
        }
        return r;
}

int sb_work_fd(sb_client *c, const char *job, int *fd_out)
{
        struct sync_call s = { .work_fd = fd_out };
        sb_request *q = NULL;

        *fd_out = -1;
        return sync_run(c, sb_work_fd_async(c, job, sync_done, &s, &q), q, &s, NULL, true);
}

int sb_inspect(sb_client *c, const char *job, struct sb_job_info *out)
{
        struct sync_call s = { .info = out };
        sb_request *q = NULL;

        return sync_run(c, sb_inspect_async(c, job, sync_done, &s, &q), q, &s, NULL, true);
}

int sb_stats(sb_client *c, struct sb_stats *out)
{
        struct sync_call s = { .stats = out };
        sb_request *q = NULL;

        return sync_run(c, sb_stats_async(c, sync_done, &s, &q), q, &s, NULL, true);
}

int sb_profiles(sb_client *c, struct sb_profile **out, size_t *n)
{
        struct sync_call s = { .profiles = out, .nprofiles = n };
        sb_request *q = NULL;

        *out = NULL;
        *n = 0;
        return sync_run(c, sb_profiles_async(c, sync_done, &s, &q), q, &s, NULL, true);
}

int sb_sandbox_create(sb_client *c, const struct sb_exec_options *opts, char *id_out)
{
        struct sync_call s = { .sandbox_out = id_out };
        sb_request *q = NULL;

        return sync_run(c, sb_sandbox_create_async(c, opts, sync_done, &s, &q), q, &s, NULL,
                        true);
}

int sb_sandbox_exec(sb_client *c, const char *sandbox, const struct sb_exec_options *opts,
                    char *job_out)
{
        struct sync_call s = { .job_out = job_out };
        sb_request *q = NULL;

        return sync_run(c, sb_sandbox_exec_async(c, sandbox, opts, sync_done, &s, &q), q, &s,
                        NULL, true);
}

int sb_sandbox_destroy(sb_client *c, const char *sandbox)
{
        struct sync_call s = { 0 };
        sb_request *q = NULL;

        return sync_run(c, sb_sandbox_destroy_async(c, sandbox, sync_done, &s, &q), q, &s, NULL,
                        true);
}

int sb_sandbox_list(sb_client *c, struct sb_sandbox_info **out, size_t *n)
{
        struct sync_call s = { .sandboxes = out, .nsandboxes = n };
        sb_request *q = NULL;

        *out = NULL;
        *n = 0;
        return sync_run(c, sb_sandbox_list_async(c, sync_done, &s, &q), q, &s, NULL, true);
}
