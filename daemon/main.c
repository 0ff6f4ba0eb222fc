/* main.c — skillboxd: options, start-up, the loop, and the drain. What
 * differs by system (signals or the service manager, the terminal) is
 * platform.h's.
 *
 * Start-up order: leave the controlling terminal (ctty.c), check that no
 * other daemon serves the socket (before anything is reaped), the state
 * dir (created and checked: statedir.h), the instance registry (no live
 * daemon shares our cgroup name, uid range or state dir: instance.c), a
 * delegated cgroup from systemd when started by hand (service.h: it may
 * stop a dead instance's scope, so only under the registry's claim),
 * backend open() (which reaps what a previous instance left behind), then
 * listen — so a client that can connect can run jobs. Any failure exits 1 with one clear line.
 *
 * Drain (SIGTERM/SIGINT): stop accepting, refuse exec (Unavailable), kill
 * every running job, and once they all ended (job_exit and waiters answered)
 * flush and close every connection, forget retained results and close every
 * handle, so the loop ends by itself and uv_loop_close() succeeds. Deadlines
 * bound a drain stuck on a client that does not read.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "daemon/conn.h"
#include "daemon/daemon.h"
#include "daemon/egress.h"
#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/platform.h"
#include "daemon/quota.h"
#include "daemon/rpc_jobs.h"
#include "daemon/server.h"
#include "daemon/service.h"
#include "daemon/settings.h"
#include "daemon/startcheck.h"
#include "daemon/prepared.h"
#include "daemon/sandbox.h"
#include "daemon/statedir.h"

#define DRAIN_DEADLINE_MS 10000   /* then connections are dropped unflushed */
#define DRAIN_GIVE_UP_MS  5000    /* then the loop is stopped, exit 1 */

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: skillboxd [OPTION]...\n"
                "Run untrusted programs in sandboxes for clients of a Unix socket.\n\n"
                "  --socket PATH             listening socket (default %s)\n"
                "  --state-dir DIR           job directories (default %s)\n"
                "  --backend NAME            linux, macos or posix (default %s)\n"
                "  --cgroup NAME             cgroup subtree name (default skillbox)\n"
                "  --uid-range FIRST-LAST    job uids/gids (default 60000-60999)\n"
                "  --log-level LEVEL         debug, info, warning or error (default info)\n"
                "  --max-connections N       connections in total (default 128)\n"
                "  --max-jobs N              running jobs in total (default 256)\n"
                "  --max-jobs-per-user N     running jobs per client uid (default 64)\n"
                "  --retain SECONDS          keep finished results (default 300)\n"
                "  --prepared N              sandboxes of the default profile kept built\n"
                "                            ahead of requests (default 2; 0 = none)\n"
                "  --config FILE             configuration file (default %s if it exists,\n"
                "                            else the built-in configuration)\n"
                "  --check-config            check the configuration and exit (errors as\n"
                "                            FILE:LINE: key: reason)\n"
                "  --print-config            print the effective configuration and exit\n"
                "  --version                 print the version and exit\n"
                "  --help                    print this help and exit\n",
                SKILLBOX_DEFAULT_SOCKET, SKILLBOX_DEFAULT_STATE_DIR,
                SKILLBOX_DEFAULT_BACKEND, "/etc/skillbox/skillboxd.conf");
        sbd_platform_usage(f);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
        char *end;
        unsigned long long v;

        if (!*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *out = v;
        return 0;
}

static int parse_u32_opt(const char *name, const char *s, uint32_t min, uint32_t *out)
{
        uint64_t v;

        if (parse_u64(s, UINT32_MAX, &v) < 0 || v < min) {
                fprintf(stderr, "skillboxd: error: --%s: invalid value \"%s\"\n", name, s);
                return -EINVAL;
        }
        *out = (uint32_t)v;
        return 0;
}

static int parse_uid_range(const char *s, uint32_t *first, uint32_t *last)
{
        char buf[64], *dash;
        uint64_t a, b;

        if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
                return -EINVAL;
        dash = strchr(buf, '-');
        if (!dash)
                return -EINVAL;
        *dash = '\0';
        if (parse_u64(buf, UINT32_MAX - 1, &a) < 0 || parse_u64(dash + 1, UINT32_MAX - 1, &b) < 0)
                return -EINVAL;
        /* Never root's uid, and a bounded bitmap. */
        if (a == 0 || b < a || b - a >= (1u << 20))
                return -EINVAL;
        *first = (uint32_t)a;
        *last = (uint32_t)b;
        return 0;
}

enum {
        OPT_SOCKET = 256, OPT_STATE_DIR, OPT_BACKEND, OPT_CGROUP, OPT_UID_RANGE, OPT_LOG_LEVEL,
        OPT_MAX_CONN, OPT_MAX_JOBS, OPT_MAX_JOBS_USER, OPT_RETAIN, OPT_PREPARED, OPT_VERSION, OPT_HELP,
        OPT_CONFIG, OPT_CHECK_CONFIG, OPT_PRINT_CONFIG,
};

/* Returns 0 to run, 1 to exit 0 (--version/--help), <0 to exit 1. */
static int parse_args(int argc, char **argv, struct sbd_options *o)
{
        static const struct option longopts[] = {
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "backend", required_argument, NULL, OPT_BACKEND },
                { "cgroup", required_argument, NULL, OPT_CGROUP },
                { "uid-range", required_argument, NULL, OPT_UID_RANGE },
                { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
                { "max-connections", required_argument, NULL, OPT_MAX_CONN },
                { "max-jobs", required_argument, NULL, OPT_MAX_JOBS },
                { "max-jobs-per-user", required_argument, NULL, OPT_MAX_JOBS_USER },
                { "retain", required_argument, NULL, OPT_RETAIN },
                { "prepared", required_argument, NULL, OPT_PREPARED },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, OPT_HELP },
                { "config", required_argument, NULL, OPT_CONFIG },
                { "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
                { "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
                { NULL, 0, NULL, 0 },
        };
        uint64_t v;
        int c, r;

        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case OPT_SOCKET:
                        o->socket_path = optarg;
                        break;
                case OPT_STATE_DIR:
                        o->state_dir = optarg;
                        break;
                case OPT_BACKEND:
                        o->backend = optarg;
                        break;
                case OPT_CGROUP:
                        if (!*optarg || strchr(optarg, '/') || optarg[0] == '.') {
                                fprintf(stderr, "skillboxd: error: --cgroup: invalid name \"%s\"\n",
                                        optarg);
                                return -EINVAL;
                        }
                        o->cgroup_name = optarg;
                        break;
                case OPT_UID_RANGE:
                        if (parse_uid_range(optarg, &o->uid_first, &o->uid_last) < 0) {
                                fprintf(stderr, "skillboxd: error: --uid-range: invalid range "
                                        "\"%s\" (FIRST-LAST, 0 < FIRST <= LAST)\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_LOG_LEVEL:
                        r = sbd_log_level_from_name(optarg);
                        if (r < 0) {
                                fprintf(stderr, "skillboxd: error: --log-level: unknown level "
                                        "\"%s\"\n", optarg);
                                return r;
                        }
                        sbd_log_set_level((enum sbd_log_level)r);
                        break;
                case OPT_MAX_CONN:
                        r = parse_u32_opt("max-connections", optarg, 1, &o->max_connections);
                        if (r < 0)
                                return r;
                        if (o->max_connections_per_uid > o->max_connections)
                                o->max_connections_per_uid = o->max_connections;
                        break;
                case OPT_MAX_JOBS:
                        r = parse_u32_opt("max-jobs", optarg, 1, &o->max_jobs);
                        if (r < 0)
                                return r;
                        break;
                case OPT_MAX_JOBS_USER:
                        r = parse_u32_opt("max-jobs-per-user", optarg, 1, &o->max_jobs_per_user);
                        if (r < 0)
                                return r;
                        break;
                case OPT_RETAIN:
                        if (parse_u64(optarg, 365ull * 86400, &v) < 0) {
                                fprintf(stderr, "skillboxd: error: --retain: invalid value "
                                        "\"%s\"\n", optarg);
                                return -EINVAL;
                        }
                        o->retain_ms = v * 1000;
                        break;
                case OPT_PREPARED:
                        r = parse_u32_opt("prepared", optarg, 0, &o->prepared);
                        if (r < 0)
                                return r;
                        if (o->prepared > SBD_PREPARED_MAX) {
                                fprintf(stderr, "skillboxd: error: --prepared: at most %u\n",
                                        SBD_PREPARED_MAX);
                                return -EINVAL;
                        }
                        break;
                case OPT_VERSION:
                        printf("skillboxd %s\n", SKILLBOX_VERSION);
                        return 1;
                case OPT_HELP:
                        usage(stdout);
                        return 1;
                case OPT_CONFIG:
                        o->config_path = optarg;
                        break;
                case OPT_CHECK_CONFIG:
                        o->check_config = true;
                        break;
                case OPT_PRINT_CONFIG:
                        o->print_config = true;
                        break;
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "skillboxd: error: unexpected argument \"%s\"\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* No other live daemon may share our cgroup name, uid range or state dir:
 * its jobs would be ours to reap. */
static int claim_instance(struct sbd_daemon *d)
{
        if (!sbd_platform_registers_instance())
                return 0;
        return sbd_instance_claim(&d->instance, SBD_INSTANCE_REGISTRY, d->opt.cgroup_name,
                                  d->opt.uid_first, d->opt.uid_last, d->opt.state_dir);
}

/* ---- drain ---- */

static void on_drain_give_up(uv_timer_t *t)
{
        struct sbd_daemon *d = t->data;

        log_error("drain: jobs or connections still open after the deadline; exiting anyway");
        uv_stop(d->loop);
}

static void on_drain_deadline(uv_timer_t *t)
{
        struct sbd_daemon *d = t->data;
        struct sbd_list *pos, *tmp;

        log_warning("drain: deadline reached; dropping connections that do not read");
        sbd_list_for_each_safe(pos, tmp, &d->conns) {
                struct sbd_conn *c = sbd_container_of(pos, struct sbd_conn, node);

                sbd_conn_force_close(c);
        }
        uv_timer_start(&d->drain_timer, on_drain_give_up, DRAIN_GIVE_UP_MS, 0);
}

/* After every job's end (its finished event) and once at the drain's start. */
static void check_drained(struct sbd_daemon *d)
{
        struct sbd_list *pos, *tmp;

        if (!d->draining || d->drain_closing || d->jobs_running > 0)
                return;
        d->drain_closing = true;
        log_info("drain: every job ended; closing connections");
        sbd_list_for_each_safe(pos, tmp, &d->conns) {
                struct sbd_conn *c = sbd_container_of(pos, struct sbd_conn, node);

                sbd_conn_close(c, true);
        }
        sbd_list_for_each_safe(pos, tmp, &d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);

                sbd_job_remove(j);
        }
        sbd_platform_requests_close(d);
        /* The proxy exits once its control socket closes. */
        sbd_egress_close(d->egress);
        d->egress = NULL;
        /* The deadline stays armed but no longer keeps the loop alive: the
         * loop ends as soon as the last connection and destroy() are done. */
        uv_unref((uv_handle_t *)&d->drain_timer);
}

static void start_drain(struct sbd_daemon *d, const char *why)
{
        struct sbd_list *pos, *tmp;

        if (d->draining) {
                log_info("%s: already draining", why);
                return;
        }
        log_info("%s: draining (%u running jobs)", why, d->jobs_running);
        d->draining = true;
        sbd_service_stopping(d);
        sbd_prepared_drop_all(d);
        sbd_sandbox_drop_all(d);
        sbd_server_close(d);
        uv_timer_start(&d->drain_timer, on_drain_deadline, DRAIN_DEADLINE_MS, 0);
        sbd_list_for_each_safe(pos, tmp, &d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);

                if (!j->finished)
                        sbd_job_kill(j, SBD_KILL_SHUTDOWN);
        }
        check_drained(d);
}

static void reload(struct sbd_daemon *d)
{
        log_info("SIGHUP: reloading the configuration");
        sbd_settings_reload(d);
}

static void close_walk(uv_handle_t *h, void *arg)
{
        if (!uv_is_closing(h))
                uv_close(h, NULL);
}

/* What a backend tells the daemon between calls (the linux backend: its
 * spawner restarted). */
static void backend_notice(const char *msg)
{
        log_warning("backend: %s", msg);
}

static int run(int argc, char **argv)
{
        static struct sbd_daemon daemon_state;
        static struct sbd_job_events job_events;
        struct sbd_daemon *d = &daemon_state;
        struct sb_backend_config bcfg;
        char errbuf[512];
        char proxy_buf[PATH_MAX];
        const char *proxy_path;
        uv_loop_t loop;
        int r, exit_code = 0;

        sbd_log_init();
        d->instance = SBD_INSTANCE_NONE;
        d->opt = (struct sbd_options){
                .socket_path = SKILLBOX_DEFAULT_SOCKET,
                .state_dir = SKILLBOX_DEFAULT_STATE_DIR,
                .backend = SKILLBOX_DEFAULT_BACKEND,
                .cgroup_name = "skillbox",
                .uid_first = 60000,
                .uid_last = 60999,
                .max_connections = 128,
                .max_connections_per_uid = 32,
                .max_jobs = 256,
                .max_jobs_per_user = 64,
                .retain_ms = 300 * 1000,
                .max_retained = 1000,
                .max_retained_per_user = 200,
                .stdin_queue_max = 1u << 20,
                .prepared = 2,
        };
        r = parse_args(argc, argv, &d->opt);
        if (r != 0)
                return r > 0 ? 0 : 1;
        /* The config file, then the command line again on top of it. */
        r = sbd_settings_load(d);
        if (r == 0) {
                optind = 0;
                r = parse_args(argc, argv, &d->opt);
        }
        if (r == 0)
                r = sbd_settings_finish(d);
        if (r != 0) {
                sbd_settings_free(d);
                return r > 0 ? 0 : 1;
        }

        if (sbd_platform_prepare() < 0)
                return 1;

        d->ops = sb_backend_find(d->opt.backend);
        if (!d->ops) {
                log_error("backend %s: not available in this build", d->opt.backend);
                return 1;
        }
        d->ops->caps(&d->caps);
        job_events = sbd_rpc_job_events;
        job_events.finished = check_drained;
        d->job_events = &job_events;
        sbd_list_init(&d->conns);
        sbd_list_init(&d->jobs);
        sbd_list_init(&d->retained);
        sbd_list_init(&d->usage);

        r = uv_loop_init(&loop);
        if (r < 0) {
                log_errno(r, "event loop");
                return 1;
        }
        d->loop = &loop;
        d->started_ms = uv_now(&loop);
        uv_timer_init(&loop, &d->drain_timer);
        d->drain_timer.data = d;
        sbd_prepared_init(d);
        sbd_sandbox_init(d);

        if (sbd_server_prepare(d) < 0 || sbd_statedir_prepare(d->opt.state_dir) < 0 ||
            claim_instance(d) < 0) {
                exit_code = 1;
                goto out_loop;
        }
        /* Before the host check, which reports the cgroup jobs will get. */
        if (d->caps.needs_delegated_cgroup) {
                errbuf[0] = '\0';
                r = sbd_service_cgroup_enter(d->opt.cgroup_name, errbuf, sizeof(errbuf));
                if (r < 0) {
                        log_error("cgroup: %s", errbuf);
                        exit_code = 1;
                        goto out_loop;
                }
        }
        /* The range's last uid is the egress proxy's (egress.h): never a
         * job's, so no job can signal or trace the proxy. */
        if (d->opt.uid_last <= d->opt.uid_first) {
                log_error("uid range %u-%u: needs two uids at least (jobs, and the "
                          "egress proxy's)", d->opt.uid_first, d->opt.uid_last);
                exit_code = 1;
                goto out_loop;
        }
        bcfg = (struct sb_backend_config){
                .state_dir = d->opt.state_dir,
                .uid_first = d->opt.uid_first,
                .uid_last = d->opt.uid_last - 1,
                .linux_cfg.cgroup_name = d->opt.cgroup_name,
                .linux_cfg.notice = backend_notice,
        };
        if (sbd_startcheck_run(d, &bcfg) < 0) {
                exit_code = 1;
                goto out_loop;
        }
        errbuf[0] = '\0';
        r = d->ops->open(&bcfg, &d->backend, errbuf, sizeof(errbuf));
        if (r < 0) {
                if (errbuf[0])
                        log_error("backend %s: %s", d->ops->name, errbuf);
                else
                        log_errno(r, "backend %s", d->ops->name);
                exit_code = 1;
                goto out_loop;
        }
        proxy_path = sbd_egress_proxy_find(proxy_buf, sizeof(proxy_buf));
        /* A backend that makes the proxy's listeners gets the proxy, also
         * one that confines no network (posix: the proxy still keeps a
         * job's HTTP clients to the allowlist; hello does not claim it). */
        if (!d->ops->egress_listener)
                log_debug("backend %s makes no egress listener: no egress proxy", d->ops->name);
        else if (!proxy_path)
                log_warning("no skillbox-proxy beside skillboxd or at %s: jobs with network "
                            "allowlist will fail", SKILLBOX_PROXY_PATH);
        else if (!(d->egress = sbd_egress_new(&loop, proxy_path, d->opt.uid_last,
                                               d->opt.uid_last, sbd_job_egress_denied, d))) {
                log_error("egress proxy: out of memory");
                exit_code = 1;
                goto out_backend;
        }
        if (sbd_platform_requests_start(d, start_drain, reload) < 0 ||
            sbd_server_listen(d) < 0) {
                exit_code = 1;
                goto out_backend;
        }
        log_info("skillboxd %s ready: backend %s, state dir %s, job uids %u-%u",
                 SKILLBOX_VERSION, d->ops->name, d->opt.state_dir, d->opt.uid_first,
                 d->opt.uid_last);
        /* Listening, host checked: now the service manager may count us as started. */
        if (sbd_service_ready(d) < 0) {
                exit_code = 1;
                goto out_backend;
        }

        sbd_prepared_schedule(d, 0);
        uv_run(&loop, UV_RUN_DEFAULT);
        if (!d->drain_closing) {
                /* Stopped by the give-up deadline: not a clean drain. */
                exit_code = 1;
        } else if (uv_loop_alive(&loop)) {
                exit_code = 1;
        }
        log_info("exiting");

out_backend:
        sbd_egress_close(d->egress);   /* a start that failed, or the give-up deadline */
        d->egress = NULL;
        sbd_server_close(d);
out_loop:
        /* Whatever is left (an aborted start, a failed drain) gets closed so
         * that the loop can be closed; jobs still alive are the backend's to
         * reap on the next start. */
        if (d->backend) {
                sbd_prepared_drop_all(d);
                sbd_sandbox_drop_all(d);
        }
        sbd_platform_requests_close(d);
        uv_walk(&loop, close_walk, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        if (d->backend)
                d->ops->close(d->backend);
        sbd_instance_release(&d->instance);
        r = uv_loop_close(&loop);
        if (r < 0) {
                log_errno(r, "closing the event loop");
                exit_code = 1;
        }
        sbd_quota_free_all(d);
        sbd_settings_free(d);
        return exit_code;
}

int main(int argc, char **argv)
{
        return sbd_platform_main(argc, argv, run);
}
