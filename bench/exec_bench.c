/* exec_bench.c — how fast skillboxd starts and reaps a job, next to bwrap.
 *
 * Not a test: it prints one table of figures. Sections, in this order so that
 * the idle memory figure comes from a daemon that has run nothing yet:
 *   1. daemon RSS idle, then with --rss-jobs detached `sleep 30` jobs running
 *      (VmRSS from /proc/PID/status; the PID is the socket's peer), then kill;
 *   2. exec latency of sequential `/bin/true` jobs through libskillbox
 *      (sb_exec until sb_wait returned the job_exit), default profile;
 *   3. throughput at each concurrency: N threads, each with its own sb_client
 *      running jobs one after another; beside it N threads each running bwrap
 *      one after another;
 *   4. whole-process wall time of `skillboxctl run -- /bin/true` and of
 *      `bwrap ... /bin/true`, fork+exec'd alternately A B A B;
 *   5. with --fresh-socket, a second daemon that keeps no sandbox prepared:
 *      its jobs one after another over one connection, alternated with
 *      `unshare --mount --pid --net --ipc --uts --fork /bin/true`;
 *   6. commands run one after another in one persistent sandbox
 *      (sb_sandbox_exec until sb_wait returned), alternated with a bare
 *      posix_spawn of /bin/true and its waitpid.
 * Then the targets table: each target's figure, whether it was met. The
 * exit status says only whether every figure could be measured.
 * Every loop is bounded by a count; only the daemons' Unix sockets are used.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <spawn.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/skillbox.h"

#define MAX_LEVELS   8
#define MAX_ARGS     48
#define TRUE_PATH    "/bin/true"

extern char **environ;

struct samples {
        double *ms;
        size_t n;
        size_t cap;
};

struct opts {
        const char *socket;
        const char *ctl;                /* skillboxctl path, NULL = skip its rows */
        const char *bwrap;              /* NULL = skip the bwrap column */
        const char *fresh_socket;       /* a daemon with no prepared sandboxes, NULL = skip */
        const char *unshare;            /* NULL = skip the unshare column */
        unsigned fresh_runs;            /* fresh sandboxes, and unshare runs */
        unsigned sandbox_runs;          /* commands in one sandbox, and posix_spawns */
        unsigned jobs;                  /* sequential latency jobs */
        unsigned tput_jobs;             /* jobs per concurrency level, in total */
        unsigned cli_runs;              /* whole-process runs of each command */
        unsigned rss_jobs;              /* running jobs for the memory figure */
        unsigned warmup;
        unsigned levels[MAX_LEVELS];
        unsigned nlevels;
        unsigned daemon_pid;            /* 0 = the socket's peer */
};

/* bwrap's argv with the isolation the skillbox default profile has. */
static const char *bwrap_argv[MAX_ARGS];
static const char *ctl_argv[8];

/* Pause before each whole-process run (see the loop in main). */
#define CLI_SETTLE_MS 40

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int samples_add(struct samples *s, double v)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 256;
                double *p = realloc(s->ms, cap * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                s->ms = p;
                s->cap = cap;
        }
        s->ms[s->n++] = v;
        return 0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Nearest-rank percentile; sorts in place. 0 for no samples. */
static double percentile(struct samples *s, double p)
{
        size_t k;

        if (s->n == 0)
                return 0;
        qsort(s->ms, s->n, sizeof(*s->ms), cmp_double);
        k = (size_t)(p / 100.0 * s->n + 0.999999);
        if (k < 1)
                k = 1;
        if (k > s->n)
                k = s->n;
        return s->ms[k - 1];
}

static double mean(const struct samples *s)
{
        double sum = 0;

        for (size_t i = 0; i < s->n; i++)
                sum += s->ms[i];
        return s->n ? sum / s->n : 0;
}

/* One /bin/true job through the library: sb_exec, then sb_wait for its end.
 * *ms is the whole round trip; *exec_ms (if not NULL) the part until the
 * exec reply, which the daemon sends once the job's process exists. */
/* In sandbox, or a job of its own (NULL). */
static int run_true_in(sb_client *c, const char *sandbox, double *ms, double *exec_ms)
{
        static const char *const argv[] = { TRUE_PATH, NULL };
        struct sb_exec_options o = { .argv = argv };
        struct sb_job_result res;
        char job[SB_JOB_ID_MAX + 1];
        double t0 = now_ms();
        int r;

        r = sandbox ? sb_sandbox_exec(c, sandbox, &o, job) : sb_exec(c, &o, job);
        if (r < 0) {
                fprintf(stderr, "exec_bench: exec: %s\n", sb_errmsg(c));
                return r;
        }
        if (exec_ms)
                *exec_ms = now_ms() - t0;
        r = sb_wait(c, job, NULL, &res);
        if (r < 0) {
                fprintf(stderr, "exec_bench: wait %s: %s\n", job, sb_errmsg(c));
                return r;
        }
        *ms = now_ms() - t0;
        if (res.state != SB_JOB_EXITED || res.exit_code != 0) {
                fprintf(stderr, "exec_bench: job %s ended %s (exit %d) %s\n", job,
                        sb_job_state_name(res.state), res.exit_code, res.error);
                return -EIO;
        }
        return 0;
}

static int run_true_job(sb_client *c, double *ms, double *exec_ms)
{
        return run_true_in(c, NULL, ms, exec_ms);
}

/* fork+exec argv with stdio on /dev/null, wait; *ms = wall time. */
static int run_process(const char *const *argv, double *ms)
{
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, status;
        double t0;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        for (int fd = 0; fd <= 2 && r == 0; fd++)
                r = posix_spawn_file_actions_addopen(&fa, fd, "/dev/null",
                                                     fd == 0 ? O_RDONLY : O_WRONLY, 0);
        if (r != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -r;
        }
        t0 = now_ms();
        r = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                fprintf(stderr, "exec_bench: spawn %s: %s\n", argv[0], strerror(r));
                return -r;
        }
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
        *ms = now_ms() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "exec_bench: %s ended with status 0x%x\n", argv[0], status);
                return -EIO;
        }
        return 0;
}

/* ---- throughput: one thread per connection (or per bwrap stream) ---- */

struct worker {
        pthread_t thread;
        const struct opts *o;
        bool use_bwrap;
        unsigned jobs;
        struct samples lat;
        int r;
};

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        sb_client *c = NULL;
        double ms;

        if (!w->use_bwrap) {
                w->r = sb_connect(w->o->socket, &c);
                if (w->r < 0) {
                        fprintf(stderr, "exec_bench: %s\n", sb_errmsg(c));
                        goto out;
                }
        }
        for (unsigned i = 0; i < w->jobs; i++) {
                if (w->use_bwrap)
                        w->r = run_process(bwrap_argv, &ms);
                else
                        w->r = run_true_job(c, &ms, NULL);
                if (w->r < 0)
                        goto out;
                w->r = samples_add(&w->lat, ms);
                if (w->r < 0)
                        goto out;
        }
out:
        sb_close(c);
        return NULL;
}

/* Runs `total` jobs over `level` workers; *rate = jobs/s, all latencies in *lat. */
static int throughput(const struct opts *o, bool use_bwrap, unsigned level, unsigned total,
                      double *rate, struct samples *lat)
{
        struct worker w[64];
        unsigned started = 0;
        double t0, elapsed;
        int r = 0;

        if (level == 0 || level > 64)
                return -EINVAL;
        memset(w, 0, sizeof(w));
        t0 = now_ms();
        for (unsigned i = 0; i < level; i++) {
                w[i].o = o;
                w[i].use_bwrap = use_bwrap;
                w[i].jobs = total / level + (i < total % level);
                r = -pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
                if (r < 0)
                        break;
                started++;
        }
        for (unsigned i = 0; i < started; i++) {
                pthread_join(w[i].thread, NULL);
                if (w[i].r < 0 && r == 0)
                        r = w[i].r;
                for (size_t k = 0; k < w[i].lat.n && r == 0; k++)
                        r = samples_add(lat, w[i].lat.ms[k]);
                free(w[i].lat.ms);
        }
        elapsed = now_ms() - t0;
        *rate = elapsed > 0 ? lat->n * 1000.0 / elapsed : 0;
        return r;
}

/* Busy time of the whole machine so far, in ms (every CPU, every process,
 * kernel threads included: user nice system irq softirq steal of the "cpu"
 * line of /proc/stat). Deferred kernel work such as network namespace
 * cleanup shows here and in neither process's rusage. */
static double machine_busy_ms(void)
{
        unsigned long long v[8] = { 0 };
        long hz = sysconf(_SC_CLK_TCK);
        FILE *f = fopen("/proc/stat", "re");
        int n;

        if (!f)
                return 0;
        n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
        fclose(f);
        if (n != 8 || hz <= 0)
                return 0;
        return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * 1000.0 / (double)hz;
}

/* CPU time of our reaped children (bwrap and what it ran), in ms. */
static double children_cpu_ms(void)
{
        struct rusage ru;

        if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
                return -1;
        return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
               (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* ---- daemon memory ---- */

static long vm_rss_kib(pid_t pid)
{
        char path[64], line[256];
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "VmRSS:", 6) == 0) {
                        kib = strtol(line + 6, NULL, 10);
                        break;
                }
        }
        fclose(f);
        return kib;
}

static double proc_cpu_ms(pid_t pid);

/* CPU time of the daemon, its reaped children (the jobs, including their
 * pre-exec setup) and its live helper process "sb-spawner" (which clones
 * the jobs; its time reaches the daemon's only when it is reaped), in ms;
 * -1 if unreadable. */
static double cpu_ms(pid_t pid)
{
        char path[96], comm[64];
        double ms = proc_cpu_ms(pid);
        FILE *f;
        int child;

        if (ms < 0)
                return ms;
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
        f = fopen(path, "re");
        if (!f)
                return ms;
        while (fscanf(f, "%d", &child) == 1) {
                snprintf(path, sizeof(path), "/proc/%d/comm", child);
                FILE *c = fopen(path, "re");
                if (!c)
                        continue;
                if (fgets(comm, sizeof(comm), c) && strcmp(comm, "sb-spawner\n") == 0) {
                        double s = proc_cpu_ms(child);
                        if (s > 0)
                                ms += s;
                }
                fclose(c);
        }
        fclose(f);
        return ms;
}

static double proc_cpu_ms(pid_t pid)
{
        unsigned long long ut, st, cut, cst;
        char path[64], buf[1024], *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        /* Fields after "(comm)": state is field 3; utime..cstime are 14-17. */
        p = strrchr(buf, ')');
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
                         &ut, &st, &cut, &cst) != 4)
                return -1;
        return (ut + st + cut + cst) * 1000.0 / sysconf(_SC_CLK_TCK);
}

struct rss {
        long fresh_kib;         /* before any job */
        long base_kib;          /* after the warm-up jobs, right before the sleepers */
        long loaded_kib;        /* with rss_jobs running */
        long after_kib;         /* at the very end, idle again */
        unsigned running;
};

/* Starts o->rss_jobs detached sleepers, reads the RSS, kills and reaps them. */
static int measure_loaded(const struct opts *o, sb_client *c, pid_t pid, struct rss *m)
{
        static const char *const argv[] = { "/bin/sleep", "30", NULL };
        struct sb_exec_options eo = { .argv = argv, .detach = true };
        char (*jobs)[SB_JOB_ID_MAX + 1];
        struct sb_job_result res;
        struct sb_stats st;
        unsigned n = 0;
        int r = 0;

        jobs = calloc(o->rss_jobs, sizeof(*jobs));
        if (!jobs)
                return -ENOMEM;
        for (; n < o->rss_jobs; n++) {
                r = sb_exec(c, &eo, jobs[n]);
                if (r < 0) {
                        fprintf(stderr, "exec_bench: sleeper %u: %s\n", n, sb_errmsg(c));
                        break;
                }
        }
        if (r == 0) {
                r = sb_stats(c, &st);
                if (r == 0)
                        m->running = st.jobs_running;
                m->loaded_kib = vm_rss_kib(pid);
        }
        /* Kill every sleeper we started, even after an error: they are detached. */
        for (unsigned i = 0; i < n; i++) {
                int k = sb_kill(c, jobs[i]);

                if (k == 0)
                        k = sb_wait(c, jobs[i], NULL, &res);
                if (k < 0 && r == 0)
                        r = k;
        }
        free(jobs);
        return r;
}

/* ---- fresh sandboxes next to unshare(1) ---- */

struct fresh {
        double sb_ms, un_ms;    /* summed wall time of each side */
        unsigned sb_n, un_n;
};

/* Jobs on a daemon that keeps no sandbox prepared, so each one is built on
 * request, one after another over one connection; between them unshare(1)
 * with the namespaces a job gets, fork+exec'd and waited for. Alternated
 * A B A B with no pause: both leave the kernel deferred work (network
 * namespace cleanup), and each side meets the other's alike. */
static int fresh_vs_unshare(const struct opts *o, struct fresh *f)
{
        const char *const un_argv[] = { o->unshare, "--mount", "--pid", "--net", "--ipc",
                                        "--uts", "--fork", TRUE_PATH, NULL };
        sb_client *c = NULL;
        double ms;
        int r;

        r = sb_connect(o->fresh_socket, &c);
        if (r < 0) {
                fprintf(stderr, "exec_bench: %s: %s\n", o->fresh_socket, sb_errmsg(c));
                goto out;
        }
        for (unsigned i = 0; i < o->warmup + o->fresh_runs; i++) {
                bool timed = i >= o->warmup;

                r = run_true_job(c, &ms, NULL);
                if (r < 0)
                        goto out;
                if (timed) {
                        f->sb_ms += ms;
                        f->sb_n++;
                }
                if (!o->unshare)
                        continue;
                r = run_process(un_argv, &ms);
                if (r < 0)
                        goto out;
                if (timed) {
                        f->un_ms += ms;
                        f->un_n++;
                }
        }
out:
        sb_close(c);
        return r;
}

struct persist {
        double sb_ms, sp_ms;    /* summed wall time of each side */
        unsigned sb_n, sp_n;
};

/* Commands one after another in one persistent sandbox, over one
 * connection; between them a bare posix_spawn of /bin/true, waited for.
 * Alternated A B A B, as fresh_vs_unshare. */
static int sandbox_vs_spawn(const struct opts *o, struct persist *p)
{
        const char *const sp_argv[] = { TRUE_PATH, NULL };
        char sandbox[SB_JOB_ID_MAX + 1];
        sb_client *c = NULL;
        bool made = false;
        double ms;
        int r;

        r = sb_connect(o->socket, &c);
        if (r >= 0)
                r = sb_sandbox_create(c, NULL, sandbox);
        if (r < 0) {
                fprintf(stderr, "exec_bench: sandbox: %s\n", sb_errmsg(c));
                goto out;
        }
        made = true;
        for (unsigned i = 0; i < o->warmup + o->sandbox_runs; i++) {
                bool timed = i >= o->warmup;

                r = run_true_in(c, sandbox, &ms, NULL);
                if (r < 0)
                        goto out;
                if (timed) {
                        p->sb_ms += ms;
                        p->sb_n++;
                }
                r = run_process(sp_argv, &ms);
                if (r < 0)
                        goto out;
                if (timed) {
                        p->sp_ms += ms;
                        p->sp_n++;
                }
        }
out:
        if (made && sb_sandbox_destroy(c, sandbox) < 0)
                fprintf(stderr, "exec_bench: sandbox destroy: %s\n", sb_errmsg(c));
        sb_close(c);
        return r;
}

/* ---- options and output ---- */

enum opt_kind {
        OPT_PATH,               /* a string */
        OPT_PROGRAM,            /* a path, or "none" for NULL: skip what needs it */
        OPT_COUNT,              /* an unsigned number up to max */
        OPT_LEVELS,             /* the concurrency list */
};

/* One table gives getopt_long its options, parse_args their handling and
 * usage() its text, so an option is described in one place. */
struct opt_desc {
        const char *name;
        enum opt_kind kind;
        size_t off;             /* the field of struct opts it sets */
        unsigned max;           /* OPT_COUNT */
        const char *arg;        /* its value, as usage() names it */
        const char *help;
};

#define OPT(name, kind, field, max, arg, help) \
        { name, kind, offsetof(struct opts, field), max, arg, help }

static const struct opt_desc opt_descs[] = {
        OPT("socket", OPT_PATH, socket, 0,
            "PATH", "daemon socket (default $SKILLBOX_SOCKET or the built-in one)"),
        OPT("jobs", OPT_COUNT, jobs, 1000000,
            "N", "sequential /bin/true jobs for latency (default 500)"),
        OPT("throughput-jobs", OPT_COUNT, tput_jobs, 1000000,
            "N", "jobs per concurrency level (default 400)"),
        OPT("concurrency", OPT_LEVELS, levels, 0,
            "LIST", "comma-separated connection counts, 1-64 (default 1,2,8)"),
        OPT("cli-runs", OPT_COUNT, cli_runs, 100000,
            "N", "runs of each whole-process command (default 100)"),
        OPT("skillboxctl", OPT_PROGRAM, ctl, 0,
            "PATH", "the CLI for the whole-process rows (default: skipped)"),
        OPT("bwrap", OPT_PROGRAM, bwrap, 0,
            "PATH|none", "bwrap for the comparison (default /usr/bin/bwrap if present)"),
        OPT("fresh-socket", OPT_PROGRAM, fresh_socket, 0,
            "PATH|none", "a daemon with no prepared sandboxes (default: no fresh row)"),
        OPT("fresh-runs", OPT_COUNT, fresh_runs, 100000,
            "N", "fresh sandboxes and unshare runs each (default 200)"),
        OPT("unshare", OPT_PROGRAM, unshare, 0,
            "PATH|none", "beside the fresh row (default /usr/bin/unshare if present)"),
        OPT("rss-jobs", OPT_COUNT, rss_jobs, 10000,
            "N", "detached sleep jobs for the memory figure (default 100, 0 = skip)"),
        OPT("sandbox-runs", OPT_COUNT, sandbox_runs, 1000000,
            "N", "commands in one persistent sandbox, and posix_spawns, each (default 500)"),
        OPT("warmup", OPT_COUNT, warmup, 100000, "N", "untimed jobs first (default 20)"),
        OPT("daemon-pid", OPT_COUNT, daemon_pid, 1u << 30,
            "PID", "daemon to read VmRSS of (default: the socket's peer)"),
};

#define N_OPTS (sizeof(opt_descs) / sizeof(opt_descs[0]))

static void usage(FILE *f)
{
        fputs("Usage: exec_bench [OPTION...]\n\n", f);
        for (size_t i = 0; i < N_OPTS; i++) {
                char left[64];

                snprintf(left, sizeof(left), "--%s %s", opt_descs[i].name, opt_descs[i].arg);
                fprintf(f, "  %-26s%s\n", left, opt_descs[i].help);
        }
        fputs("  --help\n", f);
}

static int parse_uint(const char *name, const char *s, unsigned max, unsigned *out)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > max || s[0] == '-') {
                fprintf(stderr, "exec_bench: --%s: invalid value '%s'\n", name, s);
                return -EINVAL;
        }
        *out = (unsigned)v;
        return 0;
}

static int parse_levels(const char *s, struct opts *o)
{
        char buf[128], *save = NULL, *tok;

        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        o->nlevels = 0;
        for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                unsigned v;

                if (o->nlevels == MAX_LEVELS || parse_uint("concurrency", tok, 64, &v) < 0 ||
                    v == 0)
                        return -EINVAL;
                o->levels[o->nlevels++] = v;
        }
        return o->nlevels ? 0 : -EINVAL;
}

static int set_opt(const struct opt_desc *d, const char *arg, struct opts *o)
{
        void *field = (char *)o + d->off;

        switch (d->kind) {
        case OPT_PATH:
                *(const char **)field = arg;
                return 0;
        case OPT_PROGRAM:
                *(const char **)field = strcmp(arg, "none") == 0 ? NULL : arg;
                return 0;
        case OPT_COUNT:
                return parse_uint(d->name, arg, d->max, field);
        case OPT_LEVELS:
                if (parse_levels(arg, o) == 0)
                        return 0;
                fprintf(stderr, "exec_bench: --%s: want 1-64[,...], at most %d\n", d->name,
                        MAX_LEVELS);
                return -EINVAL;
        }
        return -EINVAL;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
        /* Values past any character getopt_long returns for itself ('?'). */
        enum { OPT_FIRST = 256, OPT_HELP = OPT_FIRST + N_OPTS };
        struct option lo[N_OPTS + 2];
        int c, r;

        for (size_t i = 0; i < N_OPTS; i++)
                lo[i] = (struct option){ opt_descs[i].name, required_argument, NULL,
                                         OPT_FIRST + (int)i };
        lo[N_OPTS] = (struct option){ "help", no_argument, NULL, OPT_HELP };
        lo[N_OPTS + 1] = (struct option){ NULL, 0, NULL, 0 };
        while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
                if (c == OPT_HELP) {
                        usage(stdout);
                        exit(0);
                }
                if (c < OPT_FIRST || c >= OPT_HELP) {
                        usage(stderr);
                        return -EINVAL;
                }
                r = set_opt(&opt_descs[c - OPT_FIRST], optarg, o);
                if (r < 0)
                        return r;
        }
        if (optind != argc) {
                usage(stderr);
                return -EINVAL;
        }
        return 0;
}

/* bwrap with what a default-profile job gets: every namespace, read-only
 * /usr and the merged-/usr links (or binds where / has real directories),
 * fresh /proc, minimal /dev, tmpfs /tmp. */
static void build_bwrap_argv(const char *bwrap)
{
        static const char *const top[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
        static char links[6][64];
        struct stat st;
        size_t n = 0;

        bwrap_argv[n++] = bwrap;
        bwrap_argv[n++] = "--unshare-all";
        bwrap_argv[n++] = "--die-with-parent";
        bwrap_argv[n++] = "--ro-bind";
        bwrap_argv[n++] = "/usr";
        bwrap_argv[n++] = "/usr";
        for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
                ssize_t len;

                if (lstat(top[i], &st) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        len = readlink(top[i], links[i], sizeof(links[i]) - 1);
                        if (len <= 0)
                                continue;
                        links[i][len] = '\0';
                        bwrap_argv[n++] = "--symlink";
                        bwrap_argv[n++] = links[i];
                } else if (S_ISDIR(st.st_mode)) {
                        bwrap_argv[n++] = "--ro-bind";
                        bwrap_argv[n++] = top[i];
                } else {
                        continue;
                }
                bwrap_argv[n++] = top[i];
        }
        bwrap_argv[n++] = "--proc";
        bwrap_argv[n++] = "/proc";
        bwrap_argv[n++] = "--dev";
        bwrap_argv[n++] = "/dev";
        bwrap_argv[n++] = "--tmpfs";
        bwrap_argv[n++] = "/tmp";
        bwrap_argv[n++] = TRUE_PATH;
        bwrap_argv[n] = NULL;
}

static void print_ratio(double sb, double bw, bool have_bw)
{
        if (have_bw && bw > 0)
                printf("  %10.2f  %8.2f\n", bw, sb / bw);
        else
                printf("  %10s  %8s\n", "-", "-");
}

static struct {
        unsigned met, missed, unmeasured;
} targets;

/* One row of the targets table; a bench is not a test, so a missed target
 * is printed, never turned into an exit status. */
static void target_row(const char *figure, double value, int decimals, const char *unit,
                       const char *target, bool measured, bool ok)
{
        char buf[32] = "-";

        if (measured)
                snprintf(buf, sizeof(buf), "%.*f%s", decimals, value, unit);
        printf("%-44s  %12s  %10s  %s\n", figure, buf, target,
               !measured ? "not measured" : ok ? "yes" : "NO");
        if (!measured)
                targets.unmeasured++;
        else if (ok)
                targets.met++;
        else
                targets.missed++;
}

int main(int argc, char **argv)
{
        struct opts o = {
                .jobs = 500, .tput_jobs = 400, .cli_runs = 100, .rss_jobs = 100,
                .warmup = 20, .levels = { 1, 2, 8 }, .nlevels = 3, .fresh_runs = 200,
                .sandbox_runs = 500,
        };
        struct fresh fr = { 0 };
        double sb = 0, un = 0;          /* fresh sandboxes and unshare runs, per second */
        struct samples lat = { 0 }, exec_lat = { 0 }, ctl_t = { 0 }, bw_t = { 0 };
        double cpu0 = -1, cpu1 = -1, bw_cpu = 0;
        unsigned bw_runs = 0;
        double rate_sb[MAX_LEVELS] = { 0 }, rate_bw[MAX_LEVELS] = { 0 };
        double busy_sb[MAX_LEVELS] = { 0 }, busy_bw[MAX_LEVELS] = { 0 };
        struct rss m = { -1, -1, -1, -1, 0 };
        sb_client *c = NULL;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        struct sb_hello h;
        double ms;
        pid_t dpid;
        int r;

        if (access("/usr/bin/bwrap", X_OK) == 0)
                o.bwrap = "/usr/bin/bwrap";
        if (access("/usr/bin/unshare", X_OK) == 0)
                o.unshare = "/usr/bin/unshare";
        r = parse_args(argc, argv, &o);
        if (r < 0)
                return 2;
        if (!o.socket)
                o.socket = sb_default_socket();
        if (o.bwrap)
                build_bwrap_argv(o.bwrap);

        r = sb_connect(o.socket, &c);
        if (r < 0) {
                fprintf(stderr, "exec_bench: %s\n", sb_errmsg(c));
                goto out;
        }
        r = sb_hello(c, "exec_bench", &h);
        if (r < 0) {
                fprintf(stderr, "exec_bench: hello: %s\n", sb_errmsg(c));
                goto out;
        }
        /* The peer of a connected Unix socket is the process that listened: the daemon. */
        dpid = (pid_t)o.daemon_pid;
        if (dpid == 0 && getsockopt(sb_fd(c), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
                dpid = cred.pid;

        /* 1. memory: fresh, after warm-up, with sleepers. */
        m.fresh_kib = vm_rss_kib(dpid);
        for (unsigned i = 0; i < o.warmup; i++) {
                r = run_true_job(c, &ms, NULL);
                if (r < 0)
                        goto out;
        }
        if (o.rss_jobs) {
                m.base_kib = vm_rss_kib(dpid);
                r = measure_loaded(&o, c, dpid, &m);
                if (r < 0)
                        goto out;
        }

        /* 2. sequential latency through the library. */
        cpu0 = cpu_ms(dpid);
        for (unsigned i = 0; i < o.jobs; i++) {
                double ems;

                r = run_true_job(c, &ms, &ems);
                if (r == 0)
                        r = samples_add(&lat, ms);
                if (r == 0)
                        r = samples_add(&exec_lat, ems);
                if (r < 0)
                        goto out;
        }
        cpu1 = cpu_ms(dpid);

        /* 3. throughput per concurrency level, skillbox then bwrap. */
        for (unsigned i = 0; i < o.nlevels; i++) {
                struct samples s = { 0 };

                ms = machine_busy_ms();
                r = throughput(&o, false, o.levels[i], o.tput_jobs, &rate_sb[i], &s);
                busy_sb[i] = s.n ? (machine_busy_ms() - ms) / (double)s.n : 0;
                free(s.ms);
                if (r < 0)
                        goto out;
                if (!o.bwrap)
                        continue;
                s = (struct samples){ 0 };
                ms = children_cpu_ms();
                double busy = machine_busy_ms();
                r = throughput(&o, true, o.levels[i], o.tput_jobs, &rate_bw[i], &s);
                busy_bw[i] = s.n ? (machine_busy_ms() - busy) / (double)s.n : 0;
                bw_cpu += children_cpu_ms() - ms;
                bw_runs += s.n;
                free(s.ms);
                if (r < 0)
                        goto out;
        }

        /* 4. whole processes, interleaved so drift hits both alike. */
        if (o.ctl) {
                ctl_argv[0] = o.ctl;
                ctl_argv[1] = "--socket";
                ctl_argv[2] = o.socket;
                ctl_argv[3] = "run";
                ctl_argv[4] = "--";
                ctl_argv[5] = TRUE_PATH;
                ctl_argv[6] = NULL;
        }
        /* Each run starts on a quiet machine: work one leaves behind (the
         * daemon refilling its prepared sandboxes, the kernel cleaning up
         * bwrap's namespaces) must not land in the other's time. */
        const struct timespec settle = { 0, CLI_SETTLE_MS * 1000000L };
        for (unsigned i = 0; i < o.cli_runs && (o.ctl || o.bwrap); i++) {
                if (o.ctl) {
                        nanosleep(&settle, NULL);
                        r = run_process(ctl_argv, &ms);
                        if (r == 0)
                                r = samples_add(&ctl_t, ms);
                        if (r < 0)
                                goto out;
                }
                if (o.bwrap) {
                        nanosleep(&settle, NULL);
                        r = run_process(bwrap_argv, &ms);
                        if (r == 0)
                                r = samples_add(&bw_t, ms);
                        if (r < 0)
                                goto out;
                }
        }
        m.after_kib = vm_rss_kib(dpid);

        /* 5. fresh sandboxes, from the other daemon. */
        if (o.fresh_socket && o.fresh_runs) {
                r = fresh_vs_unshare(&o, &fr);
                if (r < 0)
                        goto out;
                sb = fr.sb_ms > 0 ? fr.sb_n * 1000.0 / fr.sb_ms : 0;
                un = fr.un_ms > 0 ? fr.un_n * 1000.0 / fr.un_ms : 0;
        }

        /* 6. one persistent sandbox, on the measured daemon. */
        struct persist ps = { 0 };
        double psb = 0, psp = 0;        /* commands in the sandbox, posix_spawns, per second */
        if (o.sandbox_runs) {
                r = sandbox_vs_spawn(&o, &ps);
                if (r < 0)
                        goto out;
                psb = ps.sb_ms > 0 ? ps.sb_n * 1000.0 / ps.sb_ms : 0;
                psp = ps.sp_ms > 0 ? ps.sp_n * 1000.0 / ps.sp_ms : 0;
        }

        /* The table. */
        printf("skillbox exec benchmark: skillboxd %s (backend %s, cgroup %s), %ld CPUs, "
               "job /bin/true, profile default\n", h.version, h.host.backend, h.host.cgroup,
               sysconf(_SC_NPROCESSORS_ONLN));
        if (o.bwrap) {
                printf("bwrap:");
                for (size_t i = 0; bwrap_argv[i]; i++)
                        printf(" %s", bwrap_argv[i]);
                printf("\n");
        }
        printf("\n%-42s  %10s  %10s  %8s\n", "", "skillbox", "bwrap", "sb/bwrap");
        {
                double p50 = percentile(&lat, 50), p99 = percentile(&lat, 99);
                double bp50 = percentile(&bw_t, 50), bp99 = percentile(&bw_t, 99);

                printf("%-42s  %10.2f", "exec latency, libskillbox, p50 (ms)", p50);
                print_ratio(p50, bp50, bw_t.n);
                printf("%-42s  %10.2f", "exec latency, libskillbox, p99 (ms)", p99);
                print_ratio(p99, bp99, bw_t.n);
                printf("%-42s  %10.2f", "exec latency, libskillbox, mean (ms)", mean(&lat));
                print_ratio(mean(&lat), mean(&bw_t), bw_t.n);
        }
        printf("%-42s  %10.2f\n", "  of which until the exec reply, p50 (ms)",
               percentile(&exec_lat, 50));
        if (cpu0 >= 0 && cpu1 >= 0 && lat.n) {
                double per = (cpu1 - cpu0) / lat.n;

                printf("%-42s  %10.2f", "CPU per job, daemon + job processes (ms)", per);
                print_ratio(per, bw_runs ? bw_cpu / bw_runs : 0, bw_runs > 0);
                printf("%-42s  %10.1f\n", "  so at most, on all CPUs (jobs/s)",
                       per > 0 ? sysconf(_SC_NPROCESSORS_ONLN) * 1000.0 / per : 0);
        }
        if (ctl_t.n) {
                double p50 = percentile(&ctl_t, 50), p99 = percentile(&ctl_t, 99);

                printf("%-42s  %10.2f", "skillboxctl run -- /bin/true, median (ms)", p50);
                print_ratio(p50, percentile(&bw_t, 50), bw_t.n);
                printf("%-42s  %10.2f", "skillboxctl run -- /bin/true, p99 (ms)", p99);
                print_ratio(p99, percentile(&bw_t, 99), bw_t.n);
        }
        for (unsigned i = 0; i < o.nlevels; i++) {
                char label[64];

                snprintf(label, sizeof(label), "throughput, concurrency %u (jobs/s)", o.levels[i]);
                printf("%-42s  %10.1f", label, rate_sb[i]);
                print_ratio(rate_sb[i], rate_bw[i], o.bwrap != NULL);
        }
        for (unsigned i = 0; i < o.nlevels; i++) {
                char label[64];

                snprintf(label, sizeof(label), "  machine CPU per job, concurrency %u (ms)", o.levels[i]);
                printf("%-42s  %10.2f", label, busy_sb[i]);
                print_ratio(busy_sb[i], busy_bw[i], o.bwrap != NULL);
        }
        printf("%-42s  %10ld\n", "daemon VmRSS, idle before any job (KiB)", m.fresh_kib);
        if (o.rss_jobs) {
                char label[64];
                long per = (m.loaded_kib - m.base_kib) * 1024 / (long)o.rss_jobs;

                printf("%-42s  %10ld\n", "daemon VmRSS, idle after warm-up (KiB)", m.base_kib);
                snprintf(label, sizeof(label), "daemon VmRSS, %u jobs running (KiB)", m.running);
                printf("%-42s  %10ld\n", label, m.loaded_kib);
                printf("%-42s  %10ld\n", "daemon memory per running job (bytes)", per);
        }
        printf("%-42s  %10ld\n", "daemon VmRSS, idle at the end (KiB)", m.after_kib);
        printf("(samples: %zu latency, %u per level, %zu+%zu whole-process; "
               "sb/bwrap < 1 is faster for times, > 1 for rates)\n",
               lat.n, o.tput_jobs, ctl_t.n, bw_t.n);

        if (fr.sb_n) {
                printf("\n%-42s  %10s  %10s  %8s\n", "", "skillbox", "unshare", "sb/unsh");
                printf("%-42s  %10.1f", "fresh sandboxes one after another (jobs/s)", sb);
                print_ratio(sb, un, fr.un_n > 0);
                printf("(%u skillbox jobs and %u unshare runs, alternated; skillbox from a second "
                       "daemon with no prepared sandboxes, over one connection)\n", fr.sb_n,
                       fr.un_n);
        }

        if (ps.sb_n) {
                printf("\n%-42s  %10s  %10s  %8s\n", "", "skillbox", "spawn", "sb/spawn");
                printf("%-42s  %10.1f", "commands in one sandbox (jobs/s)", psb);
                print_ratio(psb, psp, ps.sp_n > 0);
                printf("(%u commands in one persistent sandbox and %u posix_spawn of %s, "
                       "alternated, over one connection)\n", ps.sb_n, ps.sp_n, TRUE_PATH);
        }

        printf("\ntargets:\n%-44s  %12s  %10s  %s\n", "figure", "measured", "target", "met");
        {
                long per = o.rss_jobs ? (m.loaded_kib - m.base_kib) * 1024 / (long)o.rss_jobs : 0;
                double ctl_ratio = bw_t.n ? percentile(&ctl_t, 50) / percentile(&bw_t, 50) : 0;

                target_row("commands in a sandbox / posix_spawn, per s", psb / (psp > 0 ? psp : 1),
                           2, " x", ">= 0.8 x", ps.sb_n && ps.sp_n, psb >= 0.8 * psp);
                target_row("fresh sandboxes / unshare, jobs/s", sb / (un > 0 ? un : 1), 2, " x",
                           ">= 1.0 x", fr.sb_n && fr.un_n, sb >= un);
                target_row("skillboxctl run / bwrap, median wall time", ctl_ratio, 2, " x",
                           "<= 0.5 x", ctl_t.n && bw_t.n, ctl_ratio <= 0.5);
                target_row("idle daemon VmRSS", m.fresh_kib / 1024.0, 2, " MiB", "< 10 MiB",
                           m.fresh_kib >= 0, m.fresh_kib < 10 * 1024);
                target_row("jobs/s, one connection, prepared", rate_sb[0], 1, "", ">= 150",
                           o.levels[0] == 1, rate_sb[0] >= 150);
                target_row("daemon memory per running job", per / 1024.0, 1, " KiB", "< 64 KiB",
                           o.rss_jobs > 0, per < 64 * 1024);
                printf("targets: %u met, %u MISSED, %u not measured\n", targets.met,
                       targets.missed, targets.unmeasured);
        }
        r = 0;
out:
        sb_close(c);
        free(lat.ms);
        free(exec_lat.ms);
        free(ctl_t.ms);
        free(bw_t.ms);
        return r < 0 ? 1 : 0;
}
