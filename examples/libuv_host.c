/* libuv_host.c — libskillbox in a libuv event loop.
 *
 *   libuv_host [SOCKET]
 *
 * Runs two jobs at once on one connection, streams their output as it
 * comes, and kills the second from its own output callback once it has
 * printed its third line. Everything is driven by one uv_poll_t on sb_fd():
 * readable -> sb_process(); writable is watched only while sb_events() says
 * requests wait to be sent. Nothing blocks. Exits 0 when the first job
 * exited 0 and the second was killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <uv.h>

#include "skillbox.h"

struct job {
        const char *name;
        char id[SB_JOB_ID_MAX + 1];
        int lines;
        bool kill_at_third_line;
        bool kill_sent;
        bool ended;
        enum sb_job_state state;
        int exit_code;
};

static sb_client *client;
static uv_poll_t poller;
static struct job jobs[2] = {
        { .name = "counter" },
        { .name = "endless", .kill_at_third_line = true },
};
static int ended;

static struct job *job_by_id(const char *id)
{
        for (size_t i = 0; i < 2; i++)
                if (strcmp(jobs[i].id, id) == 0)
                        return &jobs[i];
        return NULL;
}

static void on_killed(sb_client *c, int error, struct sb_reply *reply, void *userdata)
{
        struct job *j = userdata;

        (void)reply;
        if (error < 0)
                fprintf(stderr, "kill %s: %s\n", j->name, sb_errmsg(c));
}

static void on_output(const char *id, enum sb_stream stream, const void *data, size_t len,
                      void *userdata)
{
        struct job *j = job_by_id(id);
        const char *p = data;

        (void)userdata;
        if (!j)
                return;         /* not one of ours */
        printf("[%s %s] %.*s", j->name, stream == SB_STDERR ? "err" : "out", (int)len, p);
        for (size_t i = 0; i < len; i++)
                j->lines += p[i] == '\n';
        /* A kill from inside the output callback: it is queued, not waited for. */
        if (j->kill_at_third_line && j->lines >= 3 && !j->kill_sent) {
                j->kill_sent = true;
                if (sb_kill_async(client, id, on_killed, j, NULL) < 0)
                        fprintf(stderr, "kill %s: %s\n", j->name, sb_errmsg(client));
        }
}

static void on_exit_note(const struct sb_job_result *r, void *userdata)
{
        struct job *j = job_by_id(r->job);

        (void)userdata;
        if (!j)
                return;
        j->ended = true;
        j->state = r->state;
        j->exit_code = r->exit_code;
        printf("[%s] ended %s", j->name, sb_job_state_name(r->state));
        if (r->state == SB_JOB_EXITED)
                printf(" %d", r->exit_code);
        printf("\n");
        if (++ended == 2)
                uv_poll_stop(&poller);
}

static const struct sb_callbacks callbacks = {
        .job_output = on_output,
        .job_exit = on_exit_note,
};

static void watch(void);

static void on_ready(uv_poll_t *p, int status, int events)
{
        int r;

        (void)p;
        (void)events;
        if (status < 0) {
                fprintf(stderr, "poll: %s\n", uv_strerror(status));
                uv_poll_stop(&poller);
                return;
        }
        r = sb_process(client, 0, &callbacks);
        if (r < 0) {
                fprintf(stderr, "skillboxd: %s\n", sb_errmsg(client));
                uv_poll_stop(&poller);
                return;
        }
        if (ended < 2)
                watch();
}

/* Watch for what the client needs now: POLLOUT only while bytes are queued. */
static void watch(void)
{
        int ev = UV_READABLE | ((sb_events(client) & POLLOUT) ? UV_WRITABLE : 0);

        uv_poll_start(&poller, ev, on_ready);
}

static void on_started(sb_client *c, int error, struct sb_reply *reply, void *userdata)
{
        struct job *j = userdata;

        if (error < 0) {
                fprintf(stderr, "exec %s: %s\n", j->name, sb_errmsg(c));
                j->ended = true;
                if (++ended == 2)
                        uv_poll_stop(&poller);
                return;
        }
        snprintf(j->id, sizeof(j->id), "%s", reply->job);
        printf("[%s] started as %s\n", j->name, j->id);
}

int main(int argc, char **argv)
{
        const char *counter[] = { "sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done", NULL };
        const char *endless[] = { "sh", "-c", "i=0; while :; do i=$((i+1)); echo tick $i; "
                                  "sleep 0.05; done", NULL };
        struct sb_exec_options o1 = { .argv = counter }, o2 = { .argv = endless };
        uv_loop_t *loop = uv_default_loop();
        int r;

        setvbuf(stdout, NULL, _IOLBF, 0);
        r = sb_connect(argc > 1 ? argv[1] : NULL, &client);
        if (r < 0) {
                fprintf(stderr, "%s\n", sb_errmsg(client));
                sb_close(client);
                return 1;
        }
        if (sb_exec_async(client, &o1, on_started, &jobs[0], NULL) < 0 ||
            sb_exec_async(client, &o2, on_started, &jobs[1], NULL) < 0) {
                fprintf(stderr, "exec: %s\n", sb_errmsg(client));
                sb_close(client);
                return 1;
        }
        uv_poll_init(loop, &poller, sb_fd(client));
        watch();
        uv_run(loop, UV_RUN_DEFAULT);
        uv_close((uv_handle_t *)&poller, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        sb_close(client);
        r = jobs[0].state == SB_JOB_EXITED && jobs[0].exit_code == 0 &&
            jobs[1].state == SB_JOB_KILLED;
        printf("%s\n", r ? "ok" : "unexpected ends");
        return r ? 0 : 1;
}
