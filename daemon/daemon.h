/* daemon.h — the state of one skillboxd instance, shared by its parts.
 *
 * There is exactly one struct sbd_daemon, owned by main.c and alive for the
 * whole run of the loop. Every other object (connection, job) points back at
 * it. Everything runs on the loop thread except backend destroy() calls.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "config.h"   /* before backend.h: HAVE_BACKEND_LINUX */
#include "backends/backend.h"
#include "daemon/instance.h"
#include "daemon/job_events.h"
#include "daemon/list.h"
#include "daemon/transport/transport.h"

struct sbd_options {
        const char *socket_path;
        const char *state_dir;
        const char *backend;
        const char *cgroup_name;
        uint32_t uid_first, uid_last;
        uint32_t max_connections;
        uint32_t max_connections_per_uid;
        uint32_t max_jobs;
        uint32_t max_jobs_per_user;
        uint64_t retain_ms;
        uint32_t max_retained;
        uint32_t max_retained_per_user;
        uint64_t jobs_memory_max;          /* bytes, resolved (quota.c); 0 = none */
        uint64_t jobs_memory_max_per_user;
        uint64_t stdin_queue_max;          /* bytes queued for one job's stdin */
        uint32_t prepared;           /* PreparedSandboxes= (prepared.c) */
#define SBD_PREPARED_MAX 64
        uint64_t sandbox_idle_ms;          /* SandboxIdleTimeoutSec= (sandbox.c) */
        uint64_t sandbox_lifetime_ms;      /* SandboxMaxLifetimeSec= */
        uint32_t sandboxes_per_client;     /* SandboxesPerClient= */
        /* Config file (settings.c): path, or NULL for the default lookup. */
        const char *config_path;
        bool check_config, print_config;
        const char *socket_group;    /* "" = leave the socket root's */
        uint32_t socket_mode;
};

struct sbd_daemon {
        uv_loop_t *loop;
        struct sbd_options opt;
        /* The one owner of the running configuration (its profiles too)
         * and of the access rules built from it (settings.c). */
        struct sbd_settings *settings;

        const struct sb_backend_ops *ops;
        struct sb_backend_caps caps;     /* ops->caps(), read once at start */
        struct sb_backend *backend;

        struct sbd_listener listener; /* the daemon's socket (transport.h) */

        struct sbd_list conns;       /* struct sbd_conn, in accept order */
        uint32_t conns_open;         /* not closing, not refused */
        uint32_t conns_refused;      /* over a cap, waiting to answer their first request */
        uint64_t next_conn_id;

        /* What jobs tell clients and the daemon (job_events.h): the wire's
         * events (rpc_jobs.c) and the drain's check (main.c). */
        const struct sbd_job_events *job_events;
        struct sbd_list jobs;        /* struct sbd_job, in start order */
        struct sbd_list retained;    /* finished jobs, oldest first */
        uint32_t jobs_running;
        uint32_t jobs_retained;
        uint32_t jobs_held;          /* running or being cleaned up (quota.c) */
        uint64_t memory_charged;     /* memory charges of the running jobs */
        struct sbd_list usage;       /* struct sbd_usage, per owner uid (quota.c) */
        uint64_t jobs_started;
        uint64_t jobs_failed;

        /* skillbox-proxy's supervisor (egress.c); NULL when no proxy was
         * found at start (allowlist jobs then fail). Runs as uid_last,
         * which no job gets. */
        struct sbd_egress *egress;

        struct sbd_list prepared;    /* struct sbd_prepared: the pool (prepared.c) */
        uint32_t prepared_count;
        uint32_t prepared_failures;  /* in a row; the pool pauses at a few */
        uint64_t prepared_retry_ms;  /* the pause after the last failure */
        uint64_t prepared_paused_until;  /* uv_now() when the pool may try again */
        uv_timer_t prepared_timer;   /* the next refill */

        struct sbd_list sandboxes;   /* struct sbd_sandbox (sandbox.c) */

        uint64_t started_ms;         /* uv_now() at start, for uptime */

        struct sbd_instance instance; /* our place in the registry (instance.c) */

        uv_signal_t sig_term, sig_int, sig_hup;
        uv_timer_t drain_timer;
        bool draining;
        bool drain_closing;          /* the final close of all handles began */
};

