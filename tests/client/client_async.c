/* client_async.c — libskillbox's asynchronous API against a real skillboxd
 * (driven by tests/integration/test_client_async.py).
 *
 *   client_async SOCKET SCENARIO
 *
 * Each scenario prints what it saw and exits 0 when the library behaved,
 * 1 with a message when not. Each is bounded by alarm(): a call that blocks
 * instead of returning at once ends the process with SIGALRM, which the
 * Python side reports as that failure; no timing is asserted.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "skillbox.h"

static sb_client *c;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("FAIL: ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (last error: %s)\n", sb_errmsg(c));
        exit(1);
}

/* One turn of an event loop: poll sb_fd() for sb_events(), then process. */
static void turn(const struct sb_callbacks *cb)
{
        struct pollfd pfd = { .fd = sb_fd(c), .events = (short)sb_events(c) };
        int r;

        if (sb_pending(c) == 0 && poll(&pfd, 1, -1) < 0 && errno != EINTR)
                fail("poll: %s", strerror(errno));
        r = sb_process(c, 0, cb);
        if (r < 0)
                fail("sb_process: %s", strerror(-r));
}

static void pump(const struct sb_callbacks *cb, const bool *until)
{
        while (!*until)
                turn(cb);
}

/* ---- exec helpers ---- */

struct job {
        char id[SB_JOB_ID_MAX + 1];
        bool started, exited, kill_sent, kill_done;
        int kill_error;
        sb_request *kill_req;
        enum sb_job_state state;
        size_t output;
        int nr;
};

static void exec_done(sb_client *cl, int error, struct sb_reply *reply, void *userdata)
{
        struct job *j = userdata;

        (void)cl;
        if (error < 0)
                fail("exec: %s", strerror(-error));
        snprintf(j->id, sizeof(j->id), "%s", reply->job);
        j->started = true;
}

static void start(struct job *j, bool with_stdin, const char *script)
{
        const char *argv[] = { "sh", "-c", script, NULL };
        struct sb_exec_options o = { .argv = argv, .stdin = with_stdin };
        int r;

        r = sb_exec_async(c, &o, exec_done, j, NULL);
        if (r < 0)
                fail("sb_exec_async: %s", strerror(-r));
        pump(NULL, &j->started);
}

/* ---- kill from an output callback ---- */

static struct job *jobs[2];
static int jobs_left, kills_ok;

static struct job *find(const char *id)
{
        for (int i = 0; i < 2; i++)
                if (jobs[i] && strcmp(jobs[i]->id, id) == 0)
                        return jobs[i];
        return NULL;
}

static void kill_done(sb_client *cl, int error, struct sb_reply *reply, void *userdata)
{
        struct job *j = userdata;

        (void)cl;
        (void)reply;
        if (error < 0)
                fail("kill of job %d: %s", j->nr, strerror(-error));
        j->kill_done = true;
        kills_ok++;
}

static void on_output(const char *job, enum sb_stream stream, const void *data, size_t len,
                      void *userdata)
{
        struct job *j = find(job);
        int r;

        (void)stream;
        (void)data;
        (void)userdata;
        if (!j)
                fail("output of unknown job %s", job);
        j->output += len;
        if (j->kill_sent)
                return;
        j->kill_sent = true;
        if (j->nr == 0) {
                /* The event-loop way: queue the kill, its reply comes later. */
                r = sb_kill_async(c, job, kill_done, j, &j->kill_req);
        } else {
                /* A blocking call from a callback: the nested loop dispatches
                 * what arrives meanwhile. */
                char id[SB_JOB_ID_MAX + 1];

                /* The nested loop may deliver the job_exit, which frees j,
                 * and job points into a buffer the loop reuses. */
                snprintf(id, sizeof(id), "%s", job);
                r = sb_kill(c, id);
                j = find(id);
                if (j)
                        j->kill_done = r == 0;
                kills_ok += r == 0;
        }
        if (r < 0)
                fail("kill from the output callback: %s", strerror(-r));
}

static void on_exit_free(const struct sb_job_result *res, void *userdata)
{
        struct job *j = find(res->job);

        (void)userdata;
        if (!j)
                fail("job_exit of unknown job %s", res->job);
        if (res->state != SB_JOB_KILLED)
                fail("job %d ended %s, not killed", j->nr, sb_job_state_name(res->state));
        if (!j->kill_done)
                sb_request_cancel(c, j->kill_req);      /* its userdata goes now */
        printf("job %d killed after %zu bytes of output\n", j->nr, j->output);
        /* The callback frees its job: the library holds no pointer to it. */
        jobs[j->nr] = NULL;
        free(j);
        jobs_left--;
}

static int kill_from_output(void)
{
        struct sb_callbacks cb = { .job_output = on_output, .job_exit = on_exit_free };

        /* Before the first exec: the first job's output may come while the
         * second one starts. */
        sb_set_callbacks(c, &cb);
        for (int i = 0; i < 2; i++) {
                jobs[i] = calloc(1, sizeof(**jobs));
                if (!jobs[i])
                        fail("calloc");
                jobs[i]->nr = i;
        }
        for (int i = 0; i < 2; i++)
                start(jobs[i], false, "echo ready; exec sleep 60");
        jobs_left = 2;
        while (jobs_left > 0)
                turn(&cb);
        /* A kill whose reply came after its job_exit was cancelled; the
         * blocking one always returned before. */
        if (kills_ok < 1)
                fail("no kill answered");
        puts("ok");
        return 0;
}

/* ---- stdin backpressure ---- */

static int writes_ok, writes_failed, writes_other;

static void write_done(sb_client *cl, int error, struct sb_reply *reply, void *userdata)
{
        (void)cl;
        (void)reply;
        (void)userdata;
        if (error == 0)
                writes_ok++;
        else if (error == -ESHUTDOWN)
                writes_failed++;        /* Unavailable: the job ended */
        else
                writes_other++;
}

static int stdin_backpressure(void)
{
        static char chunk[64 << 10];
        struct sb_job_result res;
        struct job j = { 0 };
        int r = 0, sent = 0;

        start(&j, true, "exec sleep 60");      /* never reads its stdin */
        memset(chunk, 'x', sizeof(chunk));
        /* Far more than any pipe and both queues hold: without backpressure
         * reported this blocks (or the daemon stops reading us). */
        for (int i = 0; i < 256; i++) {
                r = sb_stdin_write_async(c, j.id, chunk, sizeof(chunk), write_done, NULL, NULL);
                if (r == -EAGAIN)
                        break;
                if (r < 0)
                        fail("sb_stdin_write_async: %s", strerror(-r));
                sent++;
                if (sb_process(c, 0, NULL) < 0)
                        fail("sb_process");
        }
        if (r != -EAGAIN)
                fail("256 writes of 64 KiB to a job that never reads all accepted");
        if (!strstr(sb_errmsg(c), "backpressure"))
                fail("-EAGAIN without saying why: %s", sb_errmsg(c));
        printf("backpressure after %d writes: %s\n", sent, sb_errmsg(c));
        /* The connection still works: the kill goes through at once. */
        r = sb_kill(c, j.id);
        if (r < 0)
                fail("sb_kill after backpressure: %s", strerror(-r));
        r = sb_wait(c, j.id, NULL, &res);
        if (r < 0)
                fail("sb_wait: %s", strerror(-r));
        if (res.state != SB_JOB_KILLED)
                fail("job ended %s", sb_job_state_name(res.state));
        {
                bool all = false;

                while (!all) {
                        if (sb_process(c, 100, NULL) < 0)
                                fail("sb_process");
                        all = writes_ok + writes_failed + writes_other == sent;
                }
        }
        if (writes_other)
                fail("%d writes completed with an unexpected error", writes_other);
        if (writes_failed == 0)
                fail("no write was answered Unavailable after the job ended");
        printf("writes: %d taken, %d Unavailable\nok\n", writes_ok, writes_failed);
        return 0;
}

/* ---- requests in flight, completed out of order ---- */

static char order[16];
static int norder;

static void mark(sb_client *cl, int error, struct sb_reply *reply, void *userdata)
{
        const char *tag = userdata;

        (void)cl;
        if (error < 0)
                fail("request %s: %s", tag, strerror(-error));
        if (tag[0] == 'A' || tag[0] == 'B') {
                if (!reply->result || reply->result->state != SB_JOB_EXITED)
                        fail("wait %s: no exited result", tag);
        }
        if (tag[0] == 'S' && !reply->stats)
                fail("stats without stats");
        order[norder++] = tag[0];
        order[norder] = '\0';
}

static int out_of_order(void)
{
        struct job a = { 0 }, b = { 0 };
        int r;

        start(&a, true, "read line; echo got $line");  /* ends when we say so */
        start(&b, false, "exit 0");
        if (sb_wait_async(c, a.id, mark, "A", NULL) < 0 ||
            sb_wait_async(c, b.id, mark, "B", NULL) < 0 ||
            sb_stats_async(c, mark, "S", NULL) < 0)
                fail("queueing requests");
        /* B and the stats come back while A's wait is still in flight. */
        while (!(strchr(order, 'B') && strchr(order, 'S')))
                turn(NULL);
        if (strchr(order, 'A'))
                fail("wait A completed before its job ended");
        r = sb_stdin_write_async(c, a.id, "hi\n", 3, NULL, NULL, NULL);
        if (r == 0)
                r = sb_stdin_close_async(c, a.id, NULL, NULL, NULL);
        if (r < 0)
                fail("stdin to A: %s", strerror(-r));
        while (!strchr(order, 'A'))
                turn(NULL);
        printf("completion order %s\nok\n", order);
        return 0;
}

/* ---- cancel, also from within a callback ---- */

static sb_request *victim;
static int ncalled_cancelled, ncompleted;

static void never(sb_client *cl, int error, struct sb_reply *reply, void *userdata)
{
        (void)cl;
        (void)error;
        (void)reply;
        (void)userdata;
        ncalled_cancelled++;
}

static void counted(sb_client *cl, int error, struct sb_reply *reply, void *userdata)
{
        (void)reply;
        (void)userdata;
        if (error < 0)
                fail("request failed: %s", strerror(-error));
        ncompleted++;
        if (victim) {
                /* Its reply may already be read, behind ours. */
                sb_request_cancel(cl, victim);
                victim = NULL;
                if (sb_hello_async(cl, "from-callback", counted, NULL, NULL) < 0)
                        fail("request from a callback");
        }
}

static int cancel(void)
{
        struct sb_job_result res;
        sb_request *q1, *q2;
        struct job j = { 0 };
        int r;

        if (sb_stats_async(c, counted, NULL, NULL) < 0 ||
            sb_stats_async(c, never, NULL, &q1) < 0 ||
            sb_list_async(c, never, NULL, &victim) < 0 ||
            sb_stats_async(c, counted, NULL, NULL) < 0)
                fail("queueing requests");
        sb_request_cancel(c, q1);
        while (ncompleted < 3)
                turn(NULL);
        /* A wait held for its job's end, cancelled: never called. */
        start(&j, false, "exec sleep 60");
        if (sb_wait_async(c, j.id, never, NULL, &q2) < 0)
                fail("sb_wait_async");
        r = sb_stats(c, &(struct sb_stats){ 0 });     /* the wait is surely sent */
        if (r < 0)
                fail("sb_stats");
        sb_request_cancel(c, q2);
        r = sb_kill(c, j.id);
        if (r < 0)
                fail("sb_kill");
        r = sb_wait(c, j.id, NULL, &res);
        if (r < 0 || res.state != SB_JOB_KILLED)
                fail("sb_wait after cancel: %d %s", r, sb_job_state_name(res.state));
        r = sb_process(c, 0, NULL);
        if (r < 0)
                fail("sb_process");
        if (ncalled_cancelled)
                fail("%d callbacks of cancelled requests were called", ncalled_cancelled);
        printf("completed %d, cancelled callbacks called %d\nok\n", ncompleted,
               ncalled_cancelled);
        return 0;
}

/* ---- the connection fails with requests in flight ---- */

static int nfailed;

static void expect_failure(sb_client *cl, int error, struct sb_reply *reply, void *userdata)
{
        (void)cl;
        (void)userdata;
        if (error >= 0 || reply)
                fail("a request completed without an error after the connection was lost");
        nfailed++;
}

static int conn_lost(void)
{
        struct job j1 = { 0 }, j2 = { 0 };
        int r = 0;

        start(&j1, false, "exec sleep 60");
        start(&j2, false, "exec sleep 60");
        /* Neither can be answered before its job ends: one surely sent,
         * one perhaps still queued when the connection goes. */
        if (sb_wait_async(c, j1.id, expect_failure, NULL, NULL) < 0)
                fail("sb_wait_async");
        if (sb_stats(c, &(struct sb_stats){ 0 }) < 0)
                fail("sb_stats");
        if (sb_wait_async(c, j2.id, expect_failure, NULL, NULL) < 0)
                fail("sb_wait_async");
        if (shutdown(sb_fd(c), SHUT_RDWR) < 0)
                fail("shutdown: %s", strerror(errno));
        for (int i = 0; i < 100 && r >= 0; i++)
                r = sb_process(c, 100, NULL);
        if (r >= 0)
                fail("the lost connection was not noticed");
        if (nfailed != 2)
                fail("%d of 2 requests in flight were called back with an error", nfailed);
        printf("failed %d (%s)\nok\n", nfailed, strerror(-r));
        return 0;
}

int main(int argc, char **argv)
{
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: %s SOCKET kill-from-output|stdin-backpressure|"
                        "out-of-order|cancel|conn-lost\n", argv[0]);
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        alarm(30);
        r = sb_connect(argv[1], &c);
        if (r < 0)
                fail("connect: %s", strerror(-r));
        if (strcmp(argv[2], "kill-from-output") == 0)
                r = kill_from_output();
        else if (strcmp(argv[2], "stdin-backpressure") == 0)
                r = stdin_backpressure();
        else if (strcmp(argv[2], "out-of-order") == 0)
                r = out_of_order();
        else if (strcmp(argv[2], "cancel") == 0)
                r = cancel();
        else if (strcmp(argv[2], "conn-lost") == 0)
                r = conn_lost();
        else
                fail("unknown scenario %s", argv[2]);
        sb_close(c);
        return r;
}
