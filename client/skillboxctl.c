/* skillboxctl.c — the command-line client of skillboxd, on top of libskillbox.
 *
 * Every option and value is checked before anything is sent: a bad one exits
 * 125 with a message naming it. `run` and `wait` exit with the job's exit
 * code, 128+N for signal N, 124 on timeout, 137 for oom/killed/output_limit/
 * cpu_limit and 125 when the job could not be run. Without --json, stdout
 * carries the job's stdout byte for byte and nothing else, unless it is a
 * terminal: then escape sequences and other controls in the job's output are
 * shown, not obeyed (termsafe.h; --raw passes them). The same for stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "client/copy_tree.h"
#include "client/ctl_os.h"
#include "client/doctor.h"
#include "client/json.h"
#include "client/publish.h"
#include "client/skillbox.h"
#include "client/termraw.h"
#include "client/termsafe.h"
#include "client/units.h"
#include "config.h"

#define EXIT_CANNOT  125
#define EXIT_TIMEOUT 124
#define STDIN_CHUNK  (64u << 10)
#define ENV_MAX      256

static const char *socket_path;   /* NULL: sb_default_socket() */

static void usage(FILE *f)
{
        fputs("Usage: skillboxctl [--socket PATH] COMMAND [ARGS]\n"
              "\n"
              "Commands:\n"
              "  run [--profile NAME] [--memory SIZE] [--tasks N] [--cpu PERCENT]\n"
              "      [--timeout DURATION] [--output-max SIZE] [--env K=V]... [--detach] [--json]\n"
              "      [--work-size SIZE] [--work-inodes N] [--workdir DIR] [--mount SRC:DST[:ro]]...\n"
              "      [--cwd PATH] [--raw] [--network none|allowlist|host] [--allow-host HOST[:PORT]]...\n"
              "      [--tty|-t]\n"
              "      [--publish HOSTPORT:JOBPORT]... [--keep-work DIR|-]\n"
              "      -- PROGRAM [ARG...]\n"
              "                       run PROGRAM in a sandbox, passing stdin, streaming output,\n"
              "                       exiting with its exit code (128+N signal N, 124 timeout,\n"
              "                       125 could not run)\n"
              "  ps [--json]          list jobs\n"
              "  kill JOB             kill a job\n"
              "  inspect JOB          print a job as JSON\n"
              "  wait JOB [--json]    wait for a job, exit with its exit code\n"
              "  fetch JOB DIR        copy the /work a job kept (run --keep-work) into DIR\n"
              "  stats [--json]       daemon counters\n"
              "  profiles [--json]    configured profiles\n"
              "  sandbox create [--profile NAME] [--memory SIZE] [--tasks N] [--cpu PERCENT]\n"
              "      [--work-size SIZE] [--work-inodes N]\n"
              "                       make a persistent sandbox, print its id\n"
              "  sandbox exec ID [--timeout DURATION] [--output-max SIZE] [--env K=V]... [--cwd PATH]\n"
              "      [--detach] [--json] -- PROGRAM [ARG...]\n"
              "                       run PROGRAM in sandbox ID, as run does\n"
              "  sandbox ls [--json]  list sandboxes\n"
              "  sandbox rm ID...     end sandboxes, killing everything in them\n"
              "  version              client and daemon versions\n"
              "  doctor [--config PATH] [--state-dir DIR] [--uid-range FIRST-LAST] [--json]\n"
              "                       the daemon's configuration and what this host can enforce,\n"
              "                       and how to fix what is missing\n"
              "  help                 this text\n"
              "\n"
              "Sizes: 512, 512K, 512M, 1.5G, 2GiB.  Durations: 250ms, 30s, 1.5m, 2h (plain = seconds).\n"
              "A job's output to a terminal shows its escape sequences and other controls as\n"
              "text (^[, \\u009b, \\xff); --raw passes them to the terminal. Pipes and files get\n"
              "the bytes as they are.\n"
              "--tty (-t) gives the job a terminal: its stdio is a pty of the job's own, your\n"
              "terminal is in raw mode while it runs (^C, ^Z, ^D go to the job), its size follows\n"
              "yours, and the job's output drives your terminal as with --raw.\n", f);
        fprintf(f, "The socket defaults to $SKILLBOX_SOCKET, else %s.\n", SKILLBOX_DEFAULT_SOCKET);
}

__attribute__((format(printf, 1, 2)))
static int die(const char *fmt, ...)
{
        va_list ap;

        fputs("skillboxctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_CANNOT;
}

/* Option scanning: "--name VALUE" or "--name=VALUE". Returns true if argv[*i]
 * is option `name`; *val gets its value (NULL for flags, which take none). */
static bool opt_match(int argc, char **argv, int *i, const char *name, bool has_value,
                      const char **val, int *err)
{
        const char *a = argv[*i];
        size_t n = strlen(name);

        if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
                return false;
        if (!has_value) {
                if (a[n] == '=') {
                        *err = die("%s: takes no value", name);
                        return true;
                }
                *val = NULL;
                return true;
        }
        if (a[n] == '=') {
                *val = a + n + 1;
        } else if (*i + 1 < argc) {
                *val = argv[++*i];
        } else {
                *err = die("%s: missing value", name);
        }
        return true;
}

/* A request that failed (the daemon refused it, or the connection could not
 * be made or broke): the text on stderr as always, and with --json also
 * {"error": {"code", "message"}} on stdout, so a script reading stdout gets
 * one JSON value whatever happened. what prefixes the text ("wait JOB").
 * Returns EXIT_CANNOT. */
static int refused(bool json, int err, bool connecting, sb_client *c, const char *what)
{
        const char *msg = sb_errmsg(c);

        if (!msg || !*msg)
                msg = strerror(-err);
        if (what)
                die("%s: %s", what, msg);
        else
                die("%s", msg);
        if (json) {
                sbctl_json_error(stdout, err, connecting, msg);
                fflush(stdout);
        }
        return EXIT_CANNOT;
}

static int connect_client(sb_client **c, bool json)
{
        int r = sb_connect(socket_path, c);

        if (r < 0) {
                refused(json, r, true, *c, NULL);
                *c = sb_close(*c);
                return r;
        }
        return 0;
}

/* ---- run and wait: output and the end of a job ---- */

struct buf {
        char *data;
        size_t len, cap;
        bool oom;
};

static void buf_append(struct buf *b, const void *data, size_t len)
{
        if (b->oom || len == 0)
                return;
        if (b->len + len > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *p;

                while (cap < b->len + len)
                        cap *= 2;
                p = realloc(b->data, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->data = p;
                b->cap = cap;
        }
        memcpy(b->data + b->len, data, len);
        b->len += len;
}

struct job_ctx {
        char job[SB_JOB_ID_MAX + 1];
        bool json;
        struct buf out, err;       /* --json: captured output */
        bool exited;
        struct sb_job_result result;
        bool output_broken;        /* our stdout/stderr went away: kill the job */
        bool raw;                  /* --raw: controls reach a terminal as they are */
        bool tty[2];               /* stdout, stderr is a terminal (and not raw) */
        struct sbctl_termsafe safe[2];
        bool tty_job;              /* --tty */
        int winch_fd;              /* --tty: SIGWINCH's pipe (termraw.h); -1 = none */
        uint32_t rows, cols;       /* --tty: the size the job's terminal was given */
};

/* Where the job's output goes, decided once its options are known. */
static void output_begin(struct job_ctx *ctx)
{
        ctx->tty[0] = !ctx->json && !ctx->raw && isatty(STDOUT_FILENO);
        ctx->tty[1] = !ctx->json && !ctx->raw && isatty(STDERR_FILENO);
}

/* One chunk of a job's stream to fd; on a terminal, through the filter,
 * in slices so that the expansion fits a fixed buffer. */
static int output_write(struct job_ctx *ctx, int s, int fd, const char *data, size_t len)
{
        char out[SBCTL_TERMSAFE_OUT_MAX(4096)];
        size_t slice, n;
        int r;

        if (!ctx->tty[s])
                return ctl_os_write_all(fd, data, len);
        do {
                slice = len < 4096 ? len : 4096;
                n = sbctl_termsafe_filter(&ctx->safe[s], data, slice, out);
                r = ctl_os_write_all(fd, out, n);
                if (r < 0)
                        return r;
                data += slice;
                len -= slice;
        } while (len > 0);
        return 0;
}

/* The streams ended: a UTF-8 sequence the job left incomplete is shown. */
static void output_end(struct job_ctx *ctx)
{
        char out[SBCTL_TERMSAFE_OUT_MAX(0)];

        for (int s = 0; s < 2; s++) {
                size_t n = ctx->tty[s] ? sbctl_termsafe_finish(&ctx->safe[s], out) : 0;

                if (n && !ctx->output_broken &&
                    ctl_os_write_all(s ? STDERR_FILENO : STDOUT_FILENO, out, n) < 0)
                        ctx->output_broken = true;
        }
}

static void on_output(const char *job, enum sb_stream stream, const void *data, size_t len,
                      void *userdata)
{
        struct job_ctx *ctx = userdata;

        /* ctx->job is empty while sb_exec() has not returned yet; the
         * connection runs this one job only, so nothing else can arrive. */
        if (ctx->job[0] && strcmp(job, ctx->job) != 0)
                return;
        if (ctx->json) {
                buf_append(stream == SB_STDERR ? &ctx->err : &ctx->out, data, len);
                return;
        }
        if (ctx->output_broken)
                return;
        if (output_write(ctx, stream == SB_STDERR,
                         stream == SB_STDERR ? STDERR_FILENO : STDOUT_FILENO, data, len) < 0)
                ctx->output_broken = true;
}

static void on_exit_cb(const struct sb_job_result *result, void *userdata)
{
        struct job_ctx *ctx = userdata;

        if (ctx->job[0] && strcmp(result->job, ctx->job) != 0)
                return;
        ctx->exited = true;
        ctx->result = *result;
}

/* One stderr line naming what the sandbox refused the job: "denied:
 * network pypi.org:443 (x2), ...". The daemon's text is shown printable
 * only (a '?' for anything else), so it can never drive the terminal. */
static void print_denied(const struct sb_job_result *r)
{
        if (r->n_denied == 0)
                return;
        fprintf(stderr, "skillboxctl: job %s denied:", r->job);
        for (uint32_t i = 0; i < r->n_denied && i < SB_DENIED_MAX; i++) {
                const struct sb_denied *dn = &r->denied[i];

                fprintf(stderr, "%s ", i ? "," : "");
                for (const char *c = dn->kind; *c; c++)
                        fputc(*c > 0x20 && *c < 0x7f ? *c : '?', stderr);
                fputc(' ', stderr);
                for (const char *c = dn->what; *c; c++)
                        fputc(*c > 0x20 && *c < 0x7f ? *c : '?', stderr);
                fprintf(stderr, " (x%" PRIu64 ")", dn->count);
        }
        fputc('\n', stderr);
}

/* Exit status for a finished job, and the one stderr line for a non-exited end. */
static int job_status(const struct sb_job_result *r, bool quiet)
{
        char size[32], limit[32];

        if (!quiet)
                print_denied(r);

        /* A profile that truncates lets the job go on: say what was dropped. */
        if (r->output_truncated && r->state != SB_JOB_OUTPUT_LIMIT && !quiet) {
                sbctl_format_size(r->stdout_bytes + r->stderr_bytes, size, sizeof(size));
                fprintf(stderr, "skillboxctl: job %s: output truncated after %s\n", r->job, size);
        }
        switch (r->state) {
        case SB_JOB_EXITED:
                if (r->exit_code >= 0 && r->exit_code <= 255)
                        return r->exit_code;
                /* Windows: a 32-bit code, often an NTSTATUS such as
                 * 0xC0000135 (a DLL not found), shown as such. */
                if (!quiet)
                        fprintf(stderr, "skillboxctl: job %s exited with code 0x%08" PRIx32
                                " (not 0-255)\n", r->job, (uint32_t)r->exit_code);
                return EXIT_CANNOT;
        case SB_JOB_SIGNALED:
                if (!quiet)
                        fprintf(stderr, "skillboxctl: job %s signaled: %s\n", r->job,
                                ctl_os_signal_name(r->signal));
                return 128 + (r->signal & 0x7f);
        case SB_JOB_TIMEOUT:
                if (!quiet)
                        fprintf(stderr, "skillboxctl: job %s timeout after %" PRIu64 " ms\n", r->job,
                                r->enforced.timeout_ms ? r->enforced.timeout_ms : r->wall_ms);
                return EXIT_TIMEOUT;
        case SB_JOB_OOM:
                if (!quiet) {
                        sbctl_format_size(r->memory_peak, size, sizeof(size));
                        sbctl_format_size(r->enforced.memory_max, limit, sizeof(limit));
                        fprintf(stderr, "skillboxctl: job %s oom: memory peak %s of %s\n", r->job,
                                size, limit);
                }
                return 128 + CTL_SIGKILL;
        case SB_JOB_OUTPUT_LIMIT:
                if (!quiet) {
                        sbctl_format_size(r->stdout_bytes + r->stderr_bytes, size, sizeof(size));
                        fprintf(stderr, "skillboxctl: job %s output_limit: output passed %s\n",
                                r->job, size);
                }
                return 128 + CTL_SIGKILL;
        case SB_JOB_FAILED:
                if (!quiet)
                        fprintf(stderr, "skillboxctl: job %s failed: %s\n", r->job,
                                r->error[0] ? r->error : "unknown error");
                return EXIT_CANNOT;
        case SB_JOB_RUNNING:
                if (!quiet)
                        fprintf(stderr, "skillboxctl: job %s still running\n", r->job);
                return EXIT_CANNOT;
        default:
                if (!quiet)
                        fprintf(stderr, "skillboxctl: job %s %s\n", r->job,
                                sb_job_state_name(r->state));
                return 128 + CTL_SIGKILL;
        }
}

/* Print the result record (plus captured output for run) as one JSON object. */
static void print_result_json(const struct job_ctx *ctx, bool with_output)
{
        fputc('{', stdout);
        sbctl_json_result_members(stdout, &ctx->result);
        if (with_output) {
                fputs(", \"stdout\": ", stdout);
                sbctl_json_string(stdout, ctx->out.data ? ctx->out.data : "", ctx->out.len);
                fputs(", \"stderr\": ", stdout);
                sbctl_json_string(stdout, ctx->err.data ? ctx->err.data : "", ctx->err.len);
        }
        fputs("}\n", stdout);
}

/* Errors after which the connection is gone, as opposed to a daemon refusal. */
static bool is_connection_error(int r)
{
        return r == -ECONNRESET || r == -EPIPE || r == -EPROTO || r == -ENOTCONN ||
               r == -ENOMEM || r == -EIO;
}

/* The window may have changed: tell the job's terminal if it did. */
static int send_size(sb_client *c, struct job_ctx *ctx)
{
        uint32_t rows, cols;

        sbctl_winch_drain();
        if (ctl_os_term_size(&rows, &cols) < 0 || (rows == ctx->rows && cols == ctx->cols))
                return 0;
        ctx->rows = rows;
        ctx->cols = cols;
        return sb_resize(c, ctx->job, rows, cols);
}

/* Pump stdin into the job and its output out until it ends. */
static int run_loop(sb_client *c, struct job_ctx *ctx, bool stdin_open)
{
        static char chunk[STDIN_CHUNK];
        char what[sizeof(ctx->job) + 8];
        bool kill_sent = false;
        int r;

        snprintf(what, sizeof(what), "job %s", ctx->job);

        while (!ctx->exited) {
                int ready;

                if (ctx->output_broken && !kill_sent) {
                        /* Nobody reads our output any more (e.g. `| head`): stop the job. */
                        kill_sent = true;
                        r = sb_kill(c, ctx->job);
                        if (r < 0 && r != -ENOENT) {
                                snprintf(what, sizeof(what), "kill %s", ctx->job);
                                return refused(ctx->json, r, false, c, what);
                        }
                        continue;
                }
                ready = ctl_os_wait(sb_fd(c), stdin_open, ctx->winch_fd);
                if (ready < 0)
                        return die("waiting for the daemon and stdin: %s", strerror(-ready));
                if (ready & CTL_READY_CONN) {
                        r = sb_process(c, 0, NULL);
                        if (r < 0 && r != -EINTR)
                                return refused(ctx->json, r, false, c, what);
                }
                if ((ready & CTL_READY_WINCH) && !ctx->exited) {
                        r = send_size(c, ctx);
                        if (r < 0 && is_connection_error(r))
                                return refused(ctx->json, r, false, c, what);
                }
                if (!stdin_open || ctx->exited || !(ready & CTL_READY_STDIN))
                        continue;
                ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n > 0)
                        r = sb_stdin_write(c, ctx->job, chunk, (size_t)n);
                else    /* EOF, or stdin unreadable: the job sees EOF either way */
                        r = sb_stdin_close(c, ctx->job);
                if (n <= 0)
                        stdin_open = false;
                if (r < 0) {
                        if (is_connection_error(r))
                                return refused(ctx->json, r, false, c, what);
                        /* The job closed its stdin or ended: stop feeding it. */
                        stdin_open = false;
                }
        }
        return 0;
}

/* A directory to pass by descriptor (ctl_os_open_dir()), or -1 said why. */
static int open_dir(const char *opt, const char *path)
{
        int fd = ctl_os_open_dir(path);

        if (fd < 0) {
                die("%s: cannot open directory '%s': %s", opt, path, strerror(-fd));
                return -1;
        }
        return fd;
}

/* A --mount source: a directory, or one regular file (bound onto a file
 * at DST). */
static int open_mount_source(const char *path)
{
        int fd = ctl_os_open_mount_source(path);

        if (fd == -EINVAL) {
                die("--mount: '%s' is neither a directory nor a regular file", path);
                return -1;
        }
        if (fd < 0) {
                die("--mount: cannot open directory or file '%s': %s", path, strerror(-fd));
                return -1;
        }
        return fd;
}

/* --mount SRC:DST[:ro|:rw]: the last ':' before DST splits (SRC may hold ':'). */
static int parse_mount(const char *v, struct sb_mount *m, char *target, size_t tlen)
{
        char src[4096];
        size_t len = strlen(v);
        const char *colon;
        int fd;

        m->read_only = false;
        if (len > 3 && (strcmp(v + len - 3, ":ro") == 0 || strcmp(v + len - 3, ":rw") == 0)) {
                m->read_only = v[len - 2] == 'r' && v[len - 1] == 'o';
                len -= 3;
        }
        if (len >= sizeof(src))
                return (die("--mount: '%s' too long", v), -1);
        memcpy(src, v, len);
        src[len] = '\0';
        colon = strrchr(src, ':');
        if (!colon || colon == src || colon[1] != '/')
                return (die("--mount: invalid '%s' (want SRC:DST[:ro], DST absolute)", v), -1);
        if (strlen(colon + 1) >= tlen)
                return (die("--mount: target too long in '%s'", v), -1);
        snprintf(target, tlen, "%s", colon + 1);
        src[colon - src] = '\0';
        fd = open_mount_source(src);
        if (fd < 0)
                return fd;
        m->fd = fd;
        m->target = target;
        return 0;
}

/* What `run` holds once the job is over: the connection and the captured
 * output. The musl build (client/meson.build, musl_compat.h) leaves them to
 * the process's exit, which comes right after: musl hands freed memory
 * back to the kernel at once, and on a VM each of those munmap calls is a
 * TLB shootdown (bench/README.md has what they cost a `run`). Every other
 * build frees them, so LeakSanitizer still checks that it can. */
#ifdef SB_CLI_EXIT_UNFREED
#define end_close(c) ((void)(c))
#define end_free(p) ((void)(p))
#else
#define end_close(c) sb_close(c)
#define end_free(p) free(p)
#endif

/* The /work job kept, copied into dir (made if missing; nothing in it is
 * overwritten). */
static int fetch_work(sb_client *c, const char *job, const char *dir)
{
        char err[PATH_MAX + 128];
        unsigned skipped = 0;
        int fd, r;

        r = sb_work_fd(c, job, &fd);
        if (r < 0)
                return die("fetch %s: %s", job, sb_errmsg(c));
        r = sbctl_copy_tree(fd, dir, &skipped, err, sizeof(err));
        ctl_os_close(fd);
        if (r < 0)
                return die("fetch %s into %s: %s", job, dir, err);
        if (skipped)
                fprintf(stderr, "skillboxctl: job %s: %u special files (fifos, sockets) not "
                        "copied\n", job, skipped);
        return 0;
}

/* `sandbox exec`: the persistent sandbox cmd_run runs its program in. */
static const char *run_sandbox;

static int cmd_run(int argc, char **argv)
{
        static struct sb_mount mounts[SB_MOUNTS_MAX];
        static char targets[SB_MOUNTS_MAX][SB_TARGET_MAX + 1];
        static const char *allow_hosts[SB_ALLOW_HOSTS_MAX + 1];
        size_t n_allow_hosts = 0;
        static struct ctl_publish pubs[CTL_PUBLISH_MAX];
        static uint16_t pub_ports[CTL_PUBLISH_MAX];
        size_t npub = 0;
        pid_t forwarder = -1;
        struct sb_exec_options o = { 0 };
        const char *env[ENV_MAX + 1];
        size_t envc = 0;
        struct job_ctx ctx = { .winch_fd = -1 };
        struct sb_callbacks cb = { .job_output = on_output, .job_exit = on_exit_cb, .userdata = &ctx };
        bool stdin_ok;
        const char *keep_dir = NULL;
        sb_client *c = NULL;
        int i, r, err = 0;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *v = NULL;
                uint64_t n;

                if (strcmp(a, "--") == 0) {
                        i++;
                        break;
                }
                if (a[0] != '-')
                        break;
                if (opt_match(argc, argv, &i, "--profile", true, &v, &err)) {
                        if (err)
                                return err;
                        if (!*v || strlen(v) > SB_NAME_MAX)
                                return die("--profile: invalid profile name '%s'", v);
                        o.profile = v;
                } else if (opt_match(argc, argv, &i, "--memory", true, &v, &err)) {
                        if (err)
                                return err;
                        r = sbctl_parse_size(v, &o.memory_max);
                        if (r < 0)
                                return die("--memory: %s size '%s'",
                                           r == -ERANGE ? "too large a" : "invalid", v);
                } else if (opt_match(argc, argv, &i, "--tasks", true, &v, &err)) {
                        if (err)
                                return err;
                        r = sbctl_parse_uint(v, UINT32_MAX, &o.tasks_max);
                        if (r < 0)
                                return die("--tasks: invalid number '%s'", v);
                } else if (opt_match(argc, argv, &i, "--cpu", true, &v, &err)) {
                        char tmp[32];
                        size_t len;

                        if (err)
                                return err;
                        /* "50" or "50%" */
                        len = strlen(v);
                        if (len > 0 && len < sizeof(tmp) && v[len - 1] == '%') {
                                memcpy(tmp, v, len - 1);
                                tmp[len - 1] = '\0';
                        } else {
                                snprintf(tmp, sizeof(tmp), "%s", len < sizeof(tmp) ? v : "x");
                        }
                        r = sbctl_parse_uint(tmp, 100000, &n);
                        if (r < 0)
                                return die("--cpu: invalid percentage '%s'", v);
                        o.cpu_percent = (uint32_t)n;
                } else if (opt_match(argc, argv, &i, "--timeout", true, &v, &err)) {
                        if (err)
                                return err;
                        r = sbctl_parse_duration_ms(v, &o.timeout_ms);
                        if (r < 0)
                                return die("--timeout: %s duration '%s'",
                                           r == -ERANGE ? "too long a" : "invalid", v);
                } else if (opt_match(argc, argv, &i, "--output-max", true, &v, &err)) {
                        if (err)
                                return err;
                        r = sbctl_parse_size(v, &o.output_max);
                        if (r < 0)
                                return die("--output-max: %s size '%s'",
                                           r == -ERANGE ? "too large a" : "invalid", v);
                } else if (opt_match(argc, argv, &i, "--work-size", true, &v, &err)) {
                        if (err)
                                return err;
                        r = sbctl_parse_size(v, &o.work_size_max);
                        if (r < 0)
                                return die("--work-size: %s size '%s'",
                                           r == -ERANGE ? "too large a" : "invalid", v);
                } else if (opt_match(argc, argv, &i, "--work-inodes", true, &v, &err)) {
                        if (err)
                                return err;
                        r = sbctl_parse_uint(v, UINT32_MAX, &o.work_inodes_max);
                        if (r < 0)
                                return die("--work-inodes: invalid number '%s'", v);
                } else if (opt_match(argc, argv, &i, "--env", true, &v, &err)) {
                        const char *eq;

                        if (err)
                                return err;
                        eq = strchr(v, '=');
                        if (!eq || eq == v)
                                return die("--env: invalid entry '%s' (want KEY=VALUE)", v);
                        if (envc == ENV_MAX)
                                return die("--env: more than %d entries", ENV_MAX);
                        env[envc++] = v;
                } else if (opt_match(argc, argv, &i, "--cwd", true, &v, &err)) {
                        if (err)
                                return err;
                        o.cwd = v;
                } else if (opt_match(argc, argv, &i, "--workdir", true, &v, &err)) {
                        if (err)
                                return err;
                        if ((r = ctl_os_unsupported("--workdir")))
                                return r;
                        if (o.has_workdir_fd)
                                return die("--workdir: given twice");
                        o.workdir_fd = open_dir("--workdir", v);
                        if (o.workdir_fd < 0)
                                return EXIT_CANNOT;
                        o.has_workdir_fd = true;
                } else if (opt_match(argc, argv, &i, "--mount", true, &v, &err)) {
                        if (err)
                                return err;
                        if ((r = ctl_os_unsupported("--mount")))
                                return r;
                        if (o.nmounts == SB_MOUNTS_MAX)
                                return die("--mount: more than %d", SB_MOUNTS_MAX);
                        if (parse_mount(v, &mounts[o.nmounts], targets[o.nmounts],
                                        sizeof(targets[o.nmounts])) < 0)
                                return EXIT_CANNOT;
                        o.nmounts++;
                        o.mounts = mounts;
                } else if (opt_match(argc, argv, &i, "--network", true, &v, &err)) {
                        if (err)
                                return err;
                        if (strcmp(v, "none") != 0 && strcmp(v, "allowlist") != 0 &&
                            strcmp(v, "host") != 0)
                                return die("--network: '%s' is not none, allowlist or host", v);
                        o.network = v;
                } else if (opt_match(argc, argv, &i, "--allow-host", true, &v, &err)) {
                        /* Repeatable; implies --network allowlist (the daemon checks
                         * the syntax and that the profile allows it). */
                        if (err)
                                return err;
                        if (n_allow_hosts == SB_ALLOW_HOSTS_MAX)
                                return die("--allow-host: more than %d", SB_ALLOW_HOSTS_MAX);
                        allow_hosts[n_allow_hosts++] = v;
                        o.allow_hosts = allow_hosts;
                } else if (opt_match(argc, argv, &i, "--publish", true, &v, &err)) {
                        /* Repeatable: HOSTPORT:JOBPORT, or one PORT for both. */
                        if (err)
                                return err;
                        if ((r = ctl_os_unsupported("--publish")))
                                return r;
                        if (npub == CTL_PUBLISH_MAX)
                                return die("--publish: more than %d", CTL_PUBLISH_MAX);
                        if (ctl_publish_parse(v, &pubs[npub]) < 0)
                                return die("--publish: '%s' is not HOSTPORT:JOBPORT (1-65535)", v);
                        pub_ports[npub] = pubs[npub].job_port;
                        npub++;
                        o.publish = pub_ports;
                        o.npublish = npub;
                } else if (opt_match(argc, argv, &i, "--keep-work", true, &v, &err)) {
                        if (err)
                                return err;
                        if ((r = ctl_os_unsupported("--keep-work")))
                                return r;
                        if (!*v)
                                return die("--keep-work: empty directory name");
                        keep_dir = v;
                        o.keep_work = true;
                } else if (opt_match(argc, argv, &i, "--detach", false, &v, &err)) {
                        if (err)
                                return err;
                        o.detach = true;
                } else if (opt_match(argc, argv, &i, "--json", false, &v, &err)) {
                        if (err)
                                return err;
                        ctx.json = true;
                } else if (opt_match(argc, argv, &i, "--raw", false, &v, &err)) {
                        if (err)
                                return err;
                        ctx.raw = true;
                } else if (strcmp(a, "-t") == 0 ||
                           opt_match(argc, argv, &i, "--tty", false, &v, &err)) {
                        if (err)
                                return err;
                        if ((r = ctl_os_unsupported(strcmp(a, "-t") == 0 ? "-t" : "--tty")))
                                return r;
                        ctx.tty_job = true;
                } else {
                        return die("run: unknown option '%s'", a);
                }
        }
        if (i >= argc)
                return die("run: no program given (skillboxctl run [OPTIONS] -- PROGRAM [ARG...])");
        if (ctx.tty_job) {
                /* The job's terminal is the user's: its size, its TERM
                 * (unless --env names one), its escapes passed as they are. */
                const char *term = getenv("TERM");
                bool has_term = false;

                o.tty = true;
                (void)ctl_os_term_size(&o.rows, &o.cols);
                ctx.rows = o.rows;
                ctx.cols = o.cols;
                ctx.raw = true;
                for (size_t k = 0; k < envc; k++)
                        has_term |= strncmp(env[k], "TERM=", 5) == 0;
                if (!has_term && term && *term && strlen(term) < 128) {
                        static char term_env[sizeof("TERM=") + 128];

                        if (envc == ENV_MAX)
                                return die("--env: more than %d entries", ENV_MAX);
                        snprintf(term_env, sizeof(term_env), "TERM=%s", term);
                        env[envc++] = term_env;
                }
        }
        if (o.detach && keep_dir && strcmp(keep_dir, "-") != 0)
                return die("--keep-work DIR: a detached job ends later; keep its /work with "
                           "--keep-work - and copy it with skillboxctl fetch JOB DIR then");
        env[envc] = NULL;
        o.argv = (const char *const *)&argv[i];
        o.env = envc ? env : NULL;
        if (npub && o.detach)
                return die("--publish: the forwarding ends with skillboxctl; not with --detach");
        /* Before the job exists: a port in use fails the run, not the job. */
        for (size_t k = 0; k < npub; k++) {
                r = ctl_publish_listen(&pubs[k]);
                if (r < 0)
                        return die("--publish: listen on 127.0.0.1:%u: %s",
                                   (unsigned)pubs[k].host_port, strerror(-r));
        }
        stdin_ok = !o.detach && ctl_os_stdin_has_data();
        o.stdin_pipe = stdin_ok;
        output_begin(&ctx);

        if (connect_client(&c, ctx.json) < 0)
                return EXIT_CANNOT;
        sb_set_callbacks(c, &cb);
        r = run_sandbox ? sb_sandbox_exec(c, run_sandbox, &o, ctx.job) : sb_exec(c, &o, ctx.job);
        if (r < 0) {
                refused(ctx.json, r, false, c, NULL);
                sb_close(c);
                return EXIT_CANNOT;
        }
        if (o.detach) {
                printf("%s\n", ctx.job);
                sb_close(c);
                return fflush(stdout) == 0 ? 0 : EXIT_CANNOT;
        }
        if (npub) {
                forwarder = ctl_publish_start(socket_path, ctx.job, pubs, npub, sb_fd(c));
                if (forwarder < 0)
                        fprintf(stderr, "skillboxctl: --publish: %s\n", strerror((int)-forwarder));
                for (size_t k = 0; k < npub; k++)
                        ctl_os_close(pubs[k].listen_fd);
        }

        if (ctx.tty_job) {
                /* Keys go to the job's terminal as they are typed. */
                if (isatty(STDIN_FILENO) && (r = sbctl_termraw_enter(STDIN_FILENO)) < 0)
                        fprintf(stderr, "skillboxctl: raw mode on the terminal: %s; "
                                "input is line by line\n", strerror(-r));
                ctx.winch_fd = sbctl_winch_fd();
                /* A change before the handler was there. */
                if (ctx.winch_fd >= 0 && o.rows)
                        (void)send_size(c, &ctx);
                else if (ctx.winch_fd < 0)
                        fprintf(stderr, "skillboxctl: SIGWINCH: %s; the job's terminal keeps "
                                "its size\n", strerror(-ctx.winch_fd));
        }
        r = run_loop(c, &ctx, stdin_ok);
        sbctl_termraw_leave();
        ctl_publish_stop(forwarder);
        /* Once it ended: its /work into keep_dir ("-": kept for fetch). */
        int fetched = 0;
        if (r == 0 && keep_dir && strcmp(keep_dir, "-") != 0)
                fetched = fetch_work(c, ctx.job, keep_dir);
        end_close(c);
        output_end(&ctx);
        if (r != 0) {
                end_free(ctx.out.data);
                end_free(ctx.err.data);
                return r;
        }
        if (ctx.json) {
                if (ctx.out.oom || ctx.err.oom)
                        die("out of memory capturing the job's output");
                print_result_json(&ctx, true);
        }
        end_free(ctx.out.data);
        end_free(ctx.err.data);
        /* Our reader went away and we stopped the job: end as a writer killed
         * by SIGPIPE would, quietly, so `run -- yes | head` behaves as usual. */
        if (ctx.output_broken)
                return 128 + CTL_SIGPIPE;
        r = job_status(&ctx.result, ctx.json);
        if (fflush(stdout) != 0)
                return EXIT_CANNOT;
        return fetched ? fetched : r;
}

static int cmd_wait(int argc, char **argv)
{
        struct job_ctx ctx = { 0 };
        struct sb_callbacks cb = { .job_output = on_output, .job_exit = on_exit_cb, .userdata = &ctx };
        const char *job = NULL;
        sb_client *c = NULL;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        ctx.json = true;
                else if (argv[i][0] == '-')
                        return die("wait: unknown option '%s'", argv[i]);
                else if (!job)
                        job = argv[i];
                else
                        return die("wait: unexpected argument '%s'", argv[i]);
        }
        if (!job)
                return die("wait: no job given");
        if (strlen(job) > SB_JOB_ID_MAX)
                return die("wait: invalid job id '%s'", job);
        snprintf(ctx.job, sizeof(ctx.job), "%s", job);
        output_begin(&ctx);
        if (connect_client(&c, ctx.json) < 0)
                return EXIT_CANNOT;
        r = sb_wait(c, job, &cb, &ctx.result);
        output_end(&ctx);
        if (r < 0) {
                char what[SB_JOB_ID_MAX + 8];

                snprintf(what, sizeof(what), "wait %s", job);
                refused(ctx.json, r, false, c, what);
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        if (ctx.json)
                print_result_json(&ctx, false);
        r = job_status(&ctx.result, ctx.json);
        if (fflush(stdout) != 0)
                return EXIT_CANNOT;
        return r;
}

/* ---- Commands on the daemon's state ---- */

/* Parse "[--json]" and at most `nargs` positional arguments. */
static int simple_args(const char *cmd, int argc, char **argv, bool *json, const char **arg,
                       int nargs)
{
        int seen = 0;

        for (int i = 1; i < argc; i++) {
                if (json && strcmp(argv[i], "--json") == 0) {
                        *json = true;
                } else if (argv[i][0] == '-' && argv[i][1]) {
                        return die("%s: unknown option '%s'", cmd, argv[i]);
                } else if (seen < nargs) {
                        *arg = argv[i];
                        seen++;
                } else {
                        return die("%s: unexpected argument '%s'", cmd, argv[i]);
                }
        }
        if (seen < nargs)
                return die("%s: no job given", cmd);
        if (arg && *arg && strlen(*arg) > SB_JOB_ID_MAX)
                return die("%s: invalid job id '%s'", cmd, *arg);
        return 0;
}

static int finish(void)
{
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : die("write: %s", strerror(errno));
}

/* A job's command for one row of the table: any client chose those bytes,
 * and an admin's terminal shows them, so controls are shown as text (even
 * to a pipe: a row is for reading) and line breaks and tabs as spaces. */
#define SHOWN_MAX(len) (SBCTL_TERMSAFE_OUT_MAX(len) + 1)
static const char *shown_command(const char *cmd, char *out)
{
        struct sbctl_termsafe t = { 0 };
        size_t n;

        n = sbctl_termsafe_filter(&t, cmd, strlen(cmd), out);
        n += sbctl_termsafe_finish(&t, out + n);
        out[n] = '\0';
        for (char *p = out; *p; p++)
                if (*p == '\n' || *p == '\t' || *p == '\r')
                        *p = ' ';
        return out;
}

static int cmd_ps(int argc, char **argv)
{
        struct sb_job_info *jobs;
        bool json = false;
        sb_client *c;
        size_t n;
        int r;

        r = simple_args("ps", argc, argv, &json, NULL, 0);
        if (r)
                return r;
        if (connect_client(&c, json) < 0)
                return EXIT_CANNOT;
        r = sb_list(c, &jobs, &n);
        if (r < 0) {
                refused(json, r, false, c, "ps");
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        if (json) {
                fputc('[', stdout);
                for (size_t i = 0; i < n; i++) {
                        fputs(i ? ",\n " : "", stdout);
                        sbctl_json_job_info(stdout, &jobs[i]);
                }
                fputs("]\n", stdout);
        } else {
                uint64_t now = ctl_os_now_ms();

                printf("%-14s %-12s %-7s %-8s %-16s %s\n", "JOB", "STATE", "UID", "WALL",
                       "SANDBOX", "COMMAND");
                for (size_t i = 0; i < n; i++) {
                        const struct sb_job_info *j = &jobs[i];
                        uint64_t wall = j->result.wall_ms;
                        char dur[32], cmd[80], shown[SHOWN_MAX(sizeof(cmd))];
                        size_t off = 0;

                        if (j->result.state == SB_JOB_RUNNING && j->started_ms && now > j->started_ms)
                                wall = now - j->started_ms;
                        sbctl_format_duration(wall, dur, sizeof(dur));
                        cmd[0] = '\0';
                        for (uint32_t k = 0; k < j->argc && off < sizeof(cmd) - 1; k++) {
                                int w = snprintf(cmd + off, sizeof(cmd) - off, "%s%s", k ? " " : "",
                                                 j->argv[k]);
                                if (w < 0)
                                        break;
                                off += (size_t)w;
                        }
                        if (off >= sizeof(cmd) - 1 || j->argv_truncated)
                                memcpy(cmd + (off < sizeof(cmd) - 4 ? off : sizeof(cmd) - 4),
                                       "...", 4);
                        printf("%-14s %-12s %-7" PRIu32 " %-8s %-16s %s\n", j->result.job,
                               sb_job_state_name(j->result.state), j->owner_uid, dur,
                               j->sandbox[0] ? j->sandbox : "-", shown_command(cmd, shown));
                }
        }
        sb_job_info_list_free(jobs, n);
        return finish();
}

static int cmd_fetch(int argc, char **argv)
{
        sb_client *c;
        int r;

        if ((r = ctl_os_unsupported("fetch")))
                return r;
        if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
                return die("fetch: usage: skillboxctl fetch JOB DIR");
        if (strlen(argv[1]) > SB_JOB_ID_MAX)
                return die("fetch: invalid job id '%s'", argv[1]);
        if (connect_client(&c, false) < 0)
                return EXIT_CANNOT;
        r = fetch_work(c, argv[1], argv[2]);
        sb_close(c);
        return r;
}

static int cmd_kill(int argc, char **argv)
{
        const char *job = NULL;
        sb_client *c;
        int r;

        r = simple_args("kill", argc, argv, NULL, &job, 1);
        if (r)
                return r;
        if (connect_client(&c, false) < 0)
                return EXIT_CANNOT;
        r = sb_kill(c, job);
        if (r < 0) {
                die("kill %s: %s", job, sb_errmsg(c));
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        return 0;
}

static int inspect_sandbox(const char *id);

static int cmd_inspect(int argc, char **argv)
{
        struct sb_job_info info;
        const char *job = NULL;
        sb_client *c;
        int r;

        r = simple_args("inspect", argc, argv, NULL, &job, 1);
        if (r)
                return r;
        if (strncmp(job, "sbx-", 4) == 0)
                return inspect_sandbox(job);
        /* Its output is always JSON: so is its refusal. */
        if (connect_client(&c, true) < 0)
                return EXIT_CANNOT;
        r = sb_inspect(c, job, &info);
        if (r < 0) {
                char what[SB_JOB_ID_MAX + 16];

                snprintf(what, sizeof(what), "inspect %s", job);
                refused(true, r, false, c, what);
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        sbctl_json_job_info(stdout, &info);
        fputc('\n', stdout);
        sb_job_info_free(&info);
        return finish();
}

static int cmd_stats(int argc, char **argv)
{
        struct sb_stats s;
        bool json = false;
        char up[32], rss[32];
        sb_client *c;
        int r;

        r = simple_args("stats", argc, argv, &json, NULL, 0);
        if (r)
                return r;
        if (connect_client(&c, json) < 0)
                return EXIT_CANNOT;
        r = sb_stats(c, &s);
        if (r < 0) {
                refused(json, r, false, c, "stats");
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        if (json) {
                printf("{\"uptime_ms\": %" PRIu64 ", \"connections\": %" PRIu32
                       ", \"jobs_running\": %" PRIu32 ", \"jobs_started\": %" PRIu64
                       ", \"jobs_failed\": %" PRIu64 ", \"jobs_retained\": %" PRIu64
                       ", \"memory_rss\": %" PRIu64 "}\n",
                       s.uptime_ms, s.connections, s.jobs_running, s.jobs_started, s.jobs_failed,
                       s.jobs_retained, s.memory_rss);
        } else {
                sbctl_format_duration(s.uptime_ms, up, sizeof(up));
                sbctl_format_size(s.memory_rss, rss, sizeof(rss));
                printf("uptime:        %s\n"
                       "connections:   %" PRIu32 "\n"
                       "jobs running:  %" PRIu32 "\n"
                       "jobs started:  %" PRIu64 "\n"
                       "jobs failed:   %" PRIu64 "\n"
                       "jobs retained: %" PRIu64 "\n"
                       "memory rss:    %s\n",
                       up, s.connections, s.jobs_running, s.jobs_started, s.jobs_failed,
                       s.jobs_retained, rss);
        }
        return finish();
}

static int cmd_profiles(int argc, char **argv)
{
        struct sb_profile *p;
        bool json = false;
        sb_client *c;
        size_t n;
        int r;

        r = simple_args("profiles", argc, argv, &json, NULL, 0);
        if (r)
                return r;
        if (connect_client(&c, json) < 0)
                return EXIT_CANNOT;
        r = sb_profiles(c, &p, &n);
        if (r < 0) {
                refused(json, r, false, c, "profiles");
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        if (json)
                fputc('[', stdout);
        else
                printf("%-16s %-8s %-6s %-5s %-8s %-8s %s\n", "NAME", "MEMORY", "TASKS", "CPU",
                       "TIMEOUT", "TMP", "NETWORK");
        for (size_t i = 0; i < n; i++) {
                char mem[32], tmo[32], tmp[32], cpu[16];

                if (json) {
                        fputs(i ? ",\n {\"name\": " : "{\"name\": ", stdout);
                        sbctl_json_cstr(stdout, p[i].name);
                        printf(", \"memory_max\": %" PRIu64 ", \"tasks_max\": %" PRIu64
                               ", \"cpu_percent\": %" PRIu32 ", \"timeout_ms\": %" PRIu64
                               ", \"tmp_size\": %" PRIu64 ", \"network\": ",
                               p[i].memory_max, p[i].tasks_max, p[i].cpu_percent, p[i].timeout_ms,
                               p[i].tmp_size);
                        sbctl_json_cstr(stdout, p[i].network_mode);
                        printf(", \"output_max\": %" PRIu64 ", \"output_truncate\": %s"
                               ", \"tmp_inodes_max\": %" PRIu64 ", \"work_size_max\": %" PRIu64
                               ", \"work_inodes_max\": %" PRIu64,
                               p[i].output_max, p[i].output_truncate ? "true" : "false",
                               p[i].tmp_inodes_max, p[i].work_size_max, p[i].work_inodes_max);
                        fputc('}', stdout);
                        continue;
                }
                sbctl_format_size(p[i].memory_max, mem, sizeof(mem));
                sbctl_format_duration(p[i].timeout_ms, tmo, sizeof(tmo));
                sbctl_format_size(p[i].tmp_size, tmp, sizeof(tmp));
                snprintf(cpu, sizeof(cpu), "%" PRIu32 "%%", p[i].cpu_percent);
                printf("%-16s %-8s %-6" PRIu64 " %-5s %-8s %-8s %s\n", p[i].name,
                       p[i].memory_max ? mem : "-", p[i].tasks_max, p[i].cpu_percent ? cpu : "-",
                       p[i].timeout_ms ? tmo : "-", tmp, p[i].network_mode);
        }
        if (json)
                fputs("]\n", stdout);
        sb_profiles_free(p);
        return finish();
}

static int cmd_doctor(int argc, char **argv)
{
        return sbctl_doctor(argc, argv, socket_path);
}

static int cmd_version(int argc, char **argv)
{
        struct sb_hello h;
        sb_client *c = NULL;
        int r;

        if (argc > 1)
                return die("version: unexpected argument '%s'", argv[1]);
        printf("skillboxctl %s\n", sb_version());
        fflush(stdout);
        r = sb_connect(socket_path, &c);
        if (r >= 0)
                r = sb_hello(c, "skillboxctl", &h);
        if (r < 0)
                fprintf(stderr, "skillboxctl: daemon: %s\n", sb_errmsg(c));
        else
                printf("%s %s (protocol %" PRIu32 ", backend %s)\n", h.server, h.version,
                       h.protocol, h.host.backend[0] ? h.host.backend : "unknown");
        sb_close(c);
        return finish();
}

/* One sandbox_info record as a JSON object. */
static void sandbox_json(const struct sb_sandbox_info *s)
{
        printf("{\"sandbox\": ");
        sbctl_json_cstr(stdout, s->sandbox);
        printf(", \"state\": ");
        sbctl_json_cstr(stdout, s->state);
        printf(", \"profile\": ");
        sbctl_json_cstr(stdout, s->profile);
        printf(", \"owner_uid\": %" PRIu32 ", \"created_ms\": %" PRIu64
               ", \"idle_ms\": %" PRIu64 ", \"idle_timeout_ms\": %" PRIu64
               ", \"lifetime_max_ms\": %" PRIu64 ", \"execs\": %" PRIu64
               ", \"running\": %" PRIu32 ", \"cpu_user_ms\": %" PRIu64
               ", \"cpu_sys_ms\": %" PRIu64 ", \"memory_peak\": %" PRIu64,
               s->owner_uid, s->created_ms, s->idle_ms, s->idle_timeout_ms,
               s->lifetime_max_ms, s->execs, s->running, s->cpu_user_ms,
               s->cpu_sys_ms, s->memory_peak);
        if (s->tasks_peak >= 0)
                printf(", \"tasks_peak\": %" PRId64, s->tasks_peak);
        else
                printf(", \"tasks_peak\": null");
        printf(", \"enforced\": ");
        sbctl_json_enforced(stdout, &s->enforced);
        fputc('}', stdout);
}

/* inspect of a sandbox id: its entry of the sandbox list, as JSON. */
static int inspect_sandbox(const char *id)
{
        struct sb_sandbox_info *list;
        char what[SB_JOB_ID_MAX + 16];
        sb_client *c;
        size_t n, i;
        int r;

        snprintf(what, sizeof(what), "inspect %s", id);
        if (connect_client(&c, true) < 0)
                return EXIT_CANNOT;
        r = sb_sandbox_list(c, &list, &n);
        if (r < 0) {
                refused(true, r, false, c, what);
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        for (i = 0; i < n && strcmp(list[i].sandbox, id) != 0; i++)
                ;
        if (i == n) {
                free(list);
                die("%s: NotFound: no sandbox %s", what, id);
                sbctl_json_error(stdout, -ENOENT, false, "NotFound: no such sandbox");
                fflush(stdout);
                return EXIT_CANNOT;
        }
        sandbox_json(&list[i]);
        fputc('\n', stdout);
        free(list);
        return finish();
}

static int sandbox_create_cmd(int argc, char **argv)
{
        struct sb_exec_options o = { 0 };
        char id[SB_JOB_ID_MAX + 1];
        sb_client *c;
        int r, err = 0;

        for (int i = 1; i < argc; i++) {
                const char *v = NULL;
                uint64_t n;

                if (opt_match(argc, argv, &i, "--profile", true, &v, &err)) {
                        if (err)
                                return err;
                        if (!*v || strlen(v) > SB_NAME_MAX)
                                return die("--profile: invalid profile name '%s'", v);
                        o.profile = v;
                } else if (opt_match(argc, argv, &i, "--memory", true, &v, &err)) {
                        if (err || sbctl_parse_size(v, &o.memory_max) < 0)
                                return err ? err : die("--memory: invalid size '%s'", v);
                } else if (opt_match(argc, argv, &i, "--tasks", true, &v, &err)) {
                        if (err || sbctl_parse_uint(v, UINT32_MAX, &o.tasks_max) < 0)
                                return err ? err : die("--tasks: invalid number '%s'", v);
                } else if (opt_match(argc, argv, &i, "--cpu", true, &v, &err)) {
                        if (err || sbctl_parse_uint(v, 100000, &n) < 0)
                                return err ? err : die("--cpu: invalid percentage '%s'", v);
                        o.cpu_percent = (uint32_t)n;
                } else if (opt_match(argc, argv, &i, "--work-size", true, &v, &err)) {
                        if (err || sbctl_parse_size(v, &o.work_size_max) < 0)
                                return err ? err : die("--work-size: invalid size '%s'", v);
                } else if (opt_match(argc, argv, &i, "--work-inodes", true, &v, &err)) {
                        if (err || sbctl_parse_uint(v, UINT32_MAX, &o.work_inodes_max) < 0)
                                return err ? err : die("--work-inodes: invalid number '%s'", v);
                } else {
                        return die("sandbox create: unknown argument '%s'", argv[i]);
                }
        }
        if (connect_client(&c, false) < 0)
                return EXIT_CANNOT;
        r = sb_sandbox_create(c, &o, id);
        if (r < 0) {
                die("sandbox create: %s", sb_errmsg(c));
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        printf("%s\n", id);
        return finish();
}

static int sandbox_ls_cmd(int argc, char **argv)
{
        struct sb_sandbox_info *list;
        bool json = false;
        sb_client *c;
        size_t n;
        int r;

        r = simple_args("sandbox ls", argc, argv, &json, NULL, 0);
        if (r)
                return r;
        if (connect_client(&c, json) < 0)
                return EXIT_CANNOT;
        r = sb_sandbox_list(c, &list, &n);
        if (r < 0) {
                refused(json, r, false, c, "sandbox ls");
                sb_close(c);
                return EXIT_CANNOT;
        }
        sb_close(c);
        if (!json)
                printf("%-18s %-8s %-7s %-6s %-8s %-8s %s\n", "SANDBOX", "STATE", "UID", "EXECS",
                       "RUNNING", "IDLE", "PROFILE");
        else
                fputc('[', stdout);
        for (size_t i = 0; i < n; i++) {
                const struct sb_sandbox_info *s = &list[i];
                char idle[32];

                if (json) {
                        fputs(i ? ",\n " : "", stdout);
                        sandbox_json(s);
                        continue;
                }
                sbctl_format_duration(s->idle_ms, idle, sizeof(idle));
                printf("%-18s %-8s %-7" PRIu32 " %-6" PRIu64 " %-8" PRIu32 " %-8s %s\n",
                       s->sandbox, s->state, s->owner_uid, s->execs, s->running,
                       s->running ? "-" : idle, s->profile);
        }
        if (json)
                fputs("]\n", stdout);
        free(list);
        return finish();
}

static int cmd_sandbox(int argc, char **argv)
{
        if (argc < 2)
                return die("sandbox: create, exec, ls or rm (see skillboxctl help)");
        if (strcmp(argv[1], "create") == 0)
                return sandbox_create_cmd(argc - 1, argv + 1);
        if (strcmp(argv[1], "ls") == 0)
                return sandbox_ls_cmd(argc - 1, argv + 1);
        if (strcmp(argv[1], "exec") == 0) {
                if (argc < 3 || argv[2][0] == '-' || strlen(argv[2]) > SB_JOB_ID_MAX)
                        return die("sandbox exec: no sandbox id given");
                run_sandbox = argv[2];
                /* As `run`, with the id in place of the command's name. */
                return cmd_run(argc - 2, argv + 2);
        }
        if (strcmp(argv[1], "rm") == 0) {
                sb_client *c;
                int status = 0;

                if (argc < 3)
                        return die("sandbox rm: no sandbox id given");
                if (connect_client(&c, false) < 0)
                        return EXIT_CANNOT;
                for (int i = 2; i < argc; i++)
                        if (sb_sandbox_destroy(c, argv[i]) < 0)
                                status = die("sandbox rm %s: %s", argv[i], sb_errmsg(c));
                sb_close(c);
                return status ? EXIT_CANNOT : 0;
        }
        return die("sandbox: unknown command '%s' (create, exec, ls, rm)", argv[1]);
}

int main(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*fn)(int argc, char **argv);
        } commands[] = {
                { "run", cmd_run },       { "ps", cmd_ps },
                { "kill", cmd_kill },     { "inspect", cmd_inspect },
                { "wait", cmd_wait },     { "stats", cmd_stats },
                { "profiles", cmd_profiles }, { "version", cmd_version },
                { "doctor", cmd_doctor }, { "sandbox", cmd_sandbox },
                { "fetch", cmd_fetch },
        };
        int i, err = 0;

        ctl_os_init();

        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                const char *v = NULL;

                if (opt_match(argc, argv, &i, "--socket", true, &v, &err)) {
                        if (err)
                                return err;
                        if (!*v)
                                return die("--socket: empty path");
                        socket_path = v;
                } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        usage(stdout);
                        return 0;
                } else if (strcmp(argv[i], "--version") == 0) {
                        printf("skillboxctl %s\n", sb_version());
                        return 0;
                } else {
                        return die("unknown option '%s' (see skillboxctl help)", argv[i]);
                }
        }
        if (i >= argc) {
                usage(stderr);
                return EXIT_CANNOT;
        }
        if (strcmp(argv[i], "help") == 0) {
                usage(stdout);
                return 0;
        }
        for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
                if (strcmp(argv[i], commands[k].name) == 0)
                        return commands[k].fn(argc - i, argv + i);
        return die("unknown command '%s' (see skillboxctl help)", argv[i]);
}
