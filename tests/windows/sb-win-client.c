/* sb-win-client — libskillbox.dll over a named pipe. Built, not installed.
 *
 *   sb-win-client [PIPE]                  hello: prints what the server said
 *   sb-win-client run PIPE PROFILE PROGRAM [ARG]...
 *           a job: its output, then "result: ..." (exit code, accounting)
 *   sb-win-client stdin PIPE PROFILE PROGRAM [ARG]...
 *           as run, with "line-to-stdin\n" written to the job's stdin,
 *           which is then closed
 *   sb-win-client kill PIPE PROFILE PROGRAM [ARG]...
 *           a job that prints "child PID" and runs on: once it printed
 *           that, "list: JOB running" when list shows it, then the kill
 *           and its result
 *
 * PIPE "-" is the library's default (\\.\pipe\skillbox).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skillbox.h"

#define WAIT_CHILD_MS 60000

struct out {
        char text[4096];
        size_t len;
};

static void on_output(const char *job, enum sb_stream stream, const void *data, size_t len,
                      void *userdata)
{
        struct out *o = userdata;

        (void)job;
        (void)stream;
        fwrite(data, 1, len, stdout);
        fflush(stdout);
        if (len > sizeof(o->text) - 1 - o->len)
                len = sizeof(o->text) - 1 - o->len;
        memcpy(o->text + o->len, data, len);
        o->len += len;
        o->text[o->len] = '\0';
}

static void print_result(const struct sb_job_result *r)
{
        printf("result: exit_code=%d signal=%d wall_ms=%llu cpu_user_ms=%llu cpu_sys_ms=%llu "
               "memory_peak=%llu stdout_bytes=%llu backend=%s error=%s\n", (int)r->exit_code,
               (int)r->signal, (unsigned long long)r->wall_ms,
               (unsigned long long)r->cpu_user_ms, (unsigned long long)r->cpu_sys_ms,
               (unsigned long long)r->memory_peak, (unsigned long long)r->stdout_bytes,
               r->enforced.backend, r->error[0] ? r->error : "-");
}

static int hello(sb_client *c)
{
        struct sb_hello h;

        if (sb_hello(c, "sb-win-client", &h) < 0) {
                printf("hello: %s\n", sb_errmsg(c));
                return 1;
        }
        printf("hello: server=%s protocol=%u role=%s backend=%s tty=%d\n", h.server, h.protocol,
               h.role, h.host.backend, (int)h.tty);
        return 0;
}

/* The job's list entry, while it runs. */
static void show_listed(sb_client *c, const char *job)
{
        struct sb_job_info *jobs = NULL;
        size_t n = 0;

        if (sb_list(c, &jobs, &n) < 0) {
                printf("list: %s\n", sb_errmsg(c));
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (strcmp(jobs[i].result.job, job) == 0)
                        printf("list: %s %s\n", job, sb_job_state_name(jobs[i].result.state));
        sb_job_info_list_free(jobs, n);
}

enum mode { HELLO, RUN, STDIN, KILL };

static int job(sb_client *c, enum mode mode, const char *profile, char **argv)
{
        struct out o = { .len = 0 };
        const struct sb_callbacks cb = { .job_output = on_output, .userdata = &o };
        struct sb_exec_options opts;
        struct sb_job_result res;
        char id[SB_JOB_ID_MAX + 1];

        memset(&opts, 0, sizeof(opts));
        opts.argv = (const char *const *)argv;
        opts.profile = profile;
        opts.stdin_pipe = mode == STDIN;
        if (sb_exec(c, &opts, id) < 0) {
                printf("exec: %s\n", sb_errmsg(c));
                return 1;
        }
        printf("job: %s\n", id);
        if (mode == STDIN && (sb_stdin_write(c, id, "line-to-stdin\n", 14) < 0 ||
                              sb_stdin_close(c, id) < 0)) {
                printf("stdin: %s\n", sb_errmsg(c));
                return 1;
        }
        if (mode == KILL) {
                for (int waited = 0; !strstr(o.text, "child ") && waited < WAIT_CHILD_MS;
                     waited += 100)
                        if (sb_process(c, 100, &cb) < 0) {
                                printf("process: %s\n", sb_errmsg(c));
                                return 1;
                        }
                show_listed(c, id);
                if (sb_kill(c, id) < 0) {
                        printf("kill: %s\n", sb_errmsg(c));
                        return 1;
                }
                printf("killed\n");
        }
        if (sb_wait(c, id, &cb, &res) < 0) {
                printf("wait: %s\n", sb_errmsg(c));
                return 1;
        }
        print_result(&res);
        return 0;
}

int main(int argc, char **argv)
{
        const char *pipe = NULL;
        sb_client *c = NULL;
        enum mode mode = HELLO;
        int r;

        if (argc >= 5 && strcmp(argv[1], "run") == 0)
                mode = RUN;
        else if (argc >= 5 && strcmp(argv[1], "stdin") == 0)
                mode = STDIN;
        else if (argc >= 5 && strcmp(argv[1], "kill") == 0)
                mode = KILL;
        if (mode != HELLO) {
                pipe = argv[2];
        } else if (argc > 1) {
                pipe = argv[1];
        }
        if (pipe && strcmp(pipe, "-") == 0)
                pipe = NULL;
        if (sb_connect(pipe, &c) < 0) {
                printf("connect: %s\n", sb_errmsg(c));
                sb_close(c);
                return 1;
        }
        r = mode == HELLO ? hello(c) : job(c, mode, argv[3], argv + 4);
        sb_close(c);
        return r;
}
