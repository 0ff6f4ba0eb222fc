/* proxy.h — skillbox-proxy's runtime objects: the proxy (the control socket
 * and the jobs), a job (its allowlist, the listening socket made in its
 * network namespace, its connections) and the bounds that hold for all of
 * them. A connection belongs to exactly one job and is decided only against
 * that job's allowlist; a job is freed only when it has been removed, its
 * listener is closed and its last connection is gone.
 */
#ifndef SKILLBOX_PROXY_PROXY_H
#define SKILLBOX_PROXY_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/proxy/allow.h"
#include "daemon/proxy/proxy_msg.h"

#define PROXY_JOBS_MAX 1024
#define PROXY_CONNS_PER_JOB 64
#define PROXY_CONNS_TOTAL 1024
#define PROXY_LISTEN_BACKLOG 64
/* From accept to the first byte relayed: head, DNS and connect together. */
#define PROXY_SETUP_TIMEOUT_MS 30000
/* A tunnel or forwarded request with no byte either way for this long. */
#define PROXY_IDLE_TIMEOUT_MS 300000
/* Per direction of a relayed connection: one read in flight at a time. */
#define PROXY_RELAY_BUF 16384
/* Distinct refused host:port pairs counted per job; more add to "*". */
#define PROXY_DENIED_HOSTS 16

struct proxy_conn;

struct proxy_denied_host {
        char host[SBD_PROXY_HOST_SIZE];
        uint16_t port;
        uint32_t count;
};

struct proxy_job {
        struct proxy_job *next;
        struct proxy *proxy;
        char id[SBD_PROXY_JOB_ID_SIZE];
        struct allow_list allow;
        uv_tcp_t listener;
        bool listener_open;
        bool removed;
        struct proxy_conn *conns;
        unsigned n_conns;
        struct proxy_denied_host denied[PROXY_DENIED_HOSTS];
        unsigned n_denied;
        uint32_t denied_other;
};

struct proxy {
        uv_loop_t *loop;
        int ctl_fd;
        uv_poll_t ctl_poll;
        bool ctl_open;
        void *ctl_buf; /* SBD_PROXY_MSG_MAX + 1 bytes */
        struct proxy_job *jobs;
        unsigned n_jobs;
        unsigned n_conns;
};

/* ctl.c */
int proxy_ctl_start(struct proxy *p, uv_loop_t *loop, int ctl_fd);
/* Counts a refusal and reports it to the daemon (never blocks). */
void proxy_job_denied(struct proxy_job *job, const char *host, uint16_t port);
/* Called by conn.c when a connection of the job is freed. */
void proxy_job_conn_gone(struct proxy_job *job);

/* conn.c */
/* Accepts one pending connection on the job's listener. */
void proxy_conn_accept(struct proxy_job *job);
void proxy_conn_close(struct proxy_conn *c);
/* The next connection in the job's list (for closing them all). */
struct proxy_conn *proxy_conn_next(struct proxy_conn *c);

/* harden_linux.c or harden_darwin.c, picked by meson.build: each fails
 * with the step named on stderr and the process must then exit. */
/* Becomes uid and gid (groups: gid alone) for good; refuses 0. */
int proxy_drop_privileges(uid_t uid, gid_t gid);
/* Confines the process to what serving needs: sockets it was given or
 * makes, reading the resolver's files; no file written, nothing executed.
 * Linux: a seccomp filter; macOS: a Seatbelt profile (seatbelt_profile.h). */
int proxy_confine(void);

#endif
