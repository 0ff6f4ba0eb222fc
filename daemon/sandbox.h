/* sandbox.h — persistent sandboxes (sandbox_create, exec with sandbox,
 * sandbox_destroy, sandbox_list): one set of namespaces, one cgroup, one
 * /work and /tmp that many commands run in, one after another or at once.
 *
 * A sandbox belongs to its creator's uid (not to a connection: it outlives
 * the one that made it) and is invisible to every other client uid, as a
 * job is; an admin sees all. It holds a job uid of its own, counts as one
 * job in MaxJobs=/MaxJobsPerUser= and with its memory limit in the memory
 * quotas, and a uid has at most SandboxesPerClient= of them. It ends when
 * destroyed, SandboxIdleTimeoutSec= after its last command ended,
 * SandboxMaxLifetimeSec= after it was made, or when its init dies; then
 * every process in it is killed and its commands still running end killed.
 * Each command is an ordinary job to the client (its own id, output,
 * result record, timeout and kill), run by the backend's sandbox_exec().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/daemon.h"
#include "daemon/profile.h"
#include "protocol/sbp.h"

/* Commands one sandbox runs at once. */
#define SBD_SANDBOX_RUNNING_MAX 32

struct sbd_conn;

struct sbd_sandbox {
        struct sbd_list node;            /* in d->sandboxes */
        struct sbd_daemon *d;
        char id[SBP_JOB_ID_MAX + 1];
        uint32_t owner_uid;
        char profile[SBP_NAME_MAX + 1];
        struct sbd_limits limits;        /* the policy every command runs under */
        uint32_t uid;                    /* its job uid, held until it is destroyed */
        uint64_t memory_charge;
        struct sb_backend_job *bj;
        uint64_t created_ms;             /* Unix time */
        uint64_t created_loop_ms;        /* uv_now() */
        uint64_t idle_since;             /* uv_now() when the last command ended */
        uint64_t idle_timeout_ms, lifetime_max_ms;
        uint64_t execs;
        uint32_t running;
        uv_timer_t timer;                /* the nearer of the idle and lifetime ends */
        uv_poll_t exit_poll;             /* the backend's "it died" */
        unsigned handles;
        bool poll_open;
        bool ended;
        bool destroying;                 /* the backend's destroy() on the threadpool */
        uv_work_t work;
        struct sbd_list waiters;         /* sandbox_destroy requests, answered after it */
};

void sbd_sandbox_init(struct sbd_daemon *d);

/* sandbox_create: admit p (exec's checks, for the sandbox as one job) and
 * build it; 0 with id set, or <0 with err. */
int sbd_sandbox_create(struct sbd_conn *c, const struct sbp_exec_params *p,
                       char id[SBP_JOB_ID_MAX + 1], struct sbp_error *err);
/* The sandbox named id as c may see it (another uid's: NULL unless admin). */
struct sbd_sandbox *sbd_sandbox_lookup(struct sbd_daemon *d, const struct sbd_conn *c,
                                       const char *id);
struct sbd_sandbox *sbd_sandbox_find(struct sbd_daemon *d, const char *id);
/* May p run in s? InvalidArgument for a field that is the sandbox's,
 * ResourceExhausted past SBD_SANDBOX_RUNNING_MAX. */
int sbd_sandbox_exec_check(struct sbd_sandbox *s, const struct sbp_exec_params *p,
                           struct sbp_error *err);
/* sbd_admit_exec()'s part for a command in s: the sandbox's policy, the
 * request's timeout and output cap, a job in the quotas with no memory
 * charge of its own. Release a with sbd_admission_clear(). */
struct sbd_admission;
int sbd_sandbox_admit(struct sbd_conn *c, struct sbd_sandbox *s, const struct sbp_exec_params *p,
                      struct sbd_admission *a, struct sbp_error *err);
/* A command started in s / the command of s ended (s found by id: it may
 * be gone). */
void sbd_sandbox_exec_started(struct sbd_sandbox *s);
void sbd_sandbox_exec_ended(struct sbd_daemon *d, const char *id);
/* End s: forget it, kill everything in it (on the loop), then remove what
 * is left of it (the backend's destroy(), on the threadpool) and give back
 * its uid and charge. With c, msgid is answered (nil) once nothing of it
 * runs any more and its files are gone (the request is dropped if c closes
 * first). */
void sbd_sandbox_destroy(struct sbd_sandbox *s, const char *why, struct sbd_conn *c,
                         uint32_t msgid);
void sbd_sandbox_fill_info(struct sbd_sandbox *s, struct sbp_sandbox_info *out);
/* Drain and exit: every sandbox ends. */
void sbd_sandbox_drop_all(struct sbd_daemon *d);
