/* sandbox.c — persistent sandboxes: create, admit a command into one,
 * watch it (its init's death, the idle and lifetime ends), destroy.
 *
 * The sandbox's own process (the backend's init) is watched like a job's:
 * its exit handle becomes readable only when the sandbox died on its own
 * (setup failed, killed from outside); then it ends like a destroyed one.
 * The commands are jobs (job.c) whose backend handle came from
 * sandbox_exec(): they find their sandbox by id, so a sandbox can go while
 * their results are still read. Destroying one runs on the loop, as the
 * prepared pool's does: the backend kills the init and waits for its exit,
 * which takes every process of the sandbox's pid namespace with it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/admit.h"
#include "daemon/conn.h"
#include "daemon/job.h"
#include "daemon/job_args.h"
#include "daemon/log.h"
#include "daemon/quota.h"
#include "daemon/sandbox.h"
#include "daemon/settings.h"

void sbd_sandbox_init(struct sbd_daemon *d)
{
        sbd_list_init(&d->sandboxes);
}

static uint64_t now_unix_ms(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return 0;
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct sbd_sandbox *sbd_sandbox_find(struct sbd_daemon *d, const char *id)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &d->sandboxes) {
                struct sbd_sandbox *s = sbd_container_of(pos, struct sbd_sandbox, node);

                if (strcmp(s->id, id) == 0)
                        return s;
        }
        return NULL;
}

struct sbd_sandbox *sbd_sandbox_lookup(struct sbd_daemon *d, const struct sbd_conn *c,
                                       const char *id)
{
        struct sbd_sandbox *s = sbd_sandbox_find(d, id);

        /* Another user's sandbox does not exist for a client, as a job. */
        if (!s || (!c->admin && s->owner_uid != (uint32_t)c->uid))
                return NULL;
        return s;
}

static uint32_t owned_by(struct sbd_daemon *d, uint32_t uid)
{
        struct sbd_list *pos, *tmp;
        uint32_t n = 0;

        sbd_list_for_each_safe(pos, tmp, &d->sandboxes) {
                struct sbd_sandbox *s = sbd_container_of(pos, struct sbd_sandbox, node);

                n += s->owner_uid == uid;
        }
        return n;
}

/* "sbx-" and 12 hex digits: apart from job ids at a glance, and unique
 * among sandboxes, jobs and prepared sandboxes (the backend names the
 * cgroup and directory by it). */
static int new_id(struct sbd_daemon *d, char *id)
{
        char hex[SBP_JOB_ID_MAX + 1];
        int r;

        for (int tries = 0; tries < 8; tries++) {
                r = sbd_job_id_new(d, hex);
                if (r < 0)
                        return r;
                /* sbd_job_id_new() makes 12 digits. */
                memcpy(id, "sbx-", 4);
                memcpy(id + 4, hex, 13);
                if (!sbd_sandbox_find(d, id) && !sbd_job_find(d, id))
                        return 0;
        }
        return -EEXIST;
}

static void on_timer(uv_timer_t *t);

/* The nearer of its two ends: idle (only while no command runs) and
 * lifetime. */
static void schedule(struct sbd_sandbox *s)
{
        uint64_t now = uv_now(s->d->loop), end = UINT64_MAX;

        if (s->lifetime_max_ms)
                end = s->created_loop_ms + s->lifetime_max_ms;
        if (s->running == 0 && s->idle_timeout_ms && s->idle_since + s->idle_timeout_ms < end)
                end = s->idle_since + s->idle_timeout_ms;
        if (end == UINT64_MAX) {
                uv_timer_stop(&s->timer);
                return;
        }
        uv_timer_start(&s->timer, on_timer, end > now ? end - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
        struct sbd_sandbox *s = t->data;
        uint64_t now = uv_now(s->d->loop);

        if (s->lifetime_max_ms && now >= s->created_loop_ms + s->lifetime_max_ms)
                sbd_sandbox_destroy(s, "maximum lifetime reached", NULL, 0);
        else if (s->running == 0 && s->idle_timeout_ms && now >= s->idle_since + s->idle_timeout_ms)
                sbd_sandbox_destroy(s, "idle timeout", NULL, 0);
        else
                schedule(s);
}

static void on_exit_ready(uv_poll_t *h, int status, int events)
{
        struct sbd_sandbox *s = h->data;
        struct sb_backend_exit ex;
        char why[SBP_TEXT_MAX + 32];
        int r;

        (void)status;
        (void)events;
        r = s->d->ops->reap(s->bj, &ex);
        if (r == -EAGAIN)
                return;
        if (r < 0)
                snprintf(why, sizeof(why), "reap: %s", sbd_errno_name(r));
        else if (ex.setup_failed)
                snprintf(why, sizeof(why), "setup failed: %s", ex.error);
        else if (ex.signal)
                snprintf(why, sizeof(why), "its init died of signal %d", ex.signal);
        else
                snprintf(why, sizeof(why), "its init exited with %d", ex.exit_code);
        sbd_sandbox_destroy(s, why, NULL, 0);
}

static void maybe_free(struct sbd_sandbox *s)
{
        if (s->ended && s->handles == 0 && !s->destroying)
                free(s);
}

static void handle_closed(uv_handle_t *h)
{
        struct sbd_sandbox *s = h->data;

        s->handles--;
        maybe_free(s);
}

int sbd_sandbox_create(struct sbd_conn *c, const struct sbp_exec_params *p,
                       char id[SBP_JOB_ID_MAX + 1], struct sbp_error *err)
{
        struct sbd_daemon *d = c->d;
        struct sbd_admission a;
        struct sb_job_spec spec;
        struct sbd_sandbox *s;
        char errbuf[SBP_TEXT_MAX + 1];
        int r;

        if (!d->caps.sandboxes || !d->ops->sandbox_create || !d->ops->sandbox_exec)
                return sbp_error_set(err, SBP_E_UNSUPPORTED,
                                     "backend %s has no persistent sandboxes", d->ops->name);
        if (owned_by(d, (uint32_t)c->uid) >= d->opt.sandboxes_per_client)
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED,
                                     "SandboxesPerClient (%u) reached for uid %u",
                                     d->opt.sandboxes_per_client, (unsigned)c->uid);
        /* Every check of an exec, for the sandbox as one job. */
        r = sbd_admit_exec(c, p, &a, err);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s) {
                sbd_admission_clear(&a);
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        }
        s->d = d;
        sbd_list_init(&s->waiters);
        s->owner_uid = (uint32_t)c->uid;
        s->limits = a.limits;
        s->memory_charge = a.charge;
        snprintf(s->profile, sizeof(s->profile), "%s", a.profile->p.name);
        sbd_admission_clear(&a);
        if ((r = new_id(d, s->id)) < 0) {
                free(s);
                return sbp_error_set(err, SBP_E_INTERNAL, "sandbox id: %s", sbd_errno_name(r));
        }
        if (sbd_job_uid_alloc(d, &s->uid) < 0) {
                free(s);
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "no free job uid in %u-%u",
                                     d->opt.uid_first, d->opt.uid_last);
        }
        if (sbd_quota_job_start(d, s->owner_uid, s->memory_charge) < 0) {
                sbd_job_uid_release(d, s->uid);
                free(s);
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        }
        sb_job_spec_init(&spec, s->id, s->uid, &s->limits.policy);
        errbuf[0] = '\0';
        r = d->ops->sandbox_create(d->backend, &spec, &s->bj, errbuf, sizeof(errbuf));
        if (r < 0) {
                sbd_quota_job_ended(d, s->owner_uid, s->memory_charge);
                sbd_quota_job_released(d, s->owner_uid);
                sbd_job_uid_release(d, s->uid);
                free(s);
                return sbp_error_set(err, SBP_E_INTERNAL, "sandbox: %s",
                                     errbuf[0] ? errbuf : sbd_errno_name(r));
        }
        s->created_ms = now_unix_ms();
        s->created_loop_ms = s->idle_since = uv_now(d->loop);
        s->idle_timeout_ms = d->opt.sandbox_idle_ms;
        s->lifetime_max_ms = d->opt.sandbox_lifetime_ms;
        uv_timer_init(d->loop, &s->timer);
        s->timer.data = s;
        s->handles++;
        r = uv_poll_init(d->loop, &s->exit_poll, d->ops->exit_handle(s->bj));
        if (r == 0) {
                s->exit_poll.data = s;
                s->handles++;
                s->poll_open = true;
                r = uv_poll_start(&s->exit_poll, UV_READABLE, on_exit_ready);
        }
        sbd_list_append(&d->sandboxes, &s->node);
        if (r < 0) {
                sbd_sandbox_destroy(s, "cannot watch it", NULL, 0);
                return sbp_error_set(err, SBP_E_INTERNAL, "sandbox: watch: %s", uv_err_name(r));
        }
        schedule(s);
        memcpy(id, s->id, sizeof(s->id));
        log_info("sandbox %s: created for uid %u (job uid %u, profile %s)", s->id,
                 (unsigned)s->owner_uid, s->uid, s->profile);
        return 0;
}

int sbd_sandbox_exec_check(struct sbd_sandbox *s, const struct sbp_exec_params *p,
                           struct sbp_error *err)
{
        static const char *const theirs =
                "not with sandbox (the sandbox's own: profile, limits, files by descriptor)";

        if (p->profile[0] || p->memory_max || p->tasks_max || p->cpu_percent ||
            p->work_size_max || p->work_inodes_max || p->has_workdir_fd || p->nmounts ||
            p->network[0] || p->n_allow_hosts)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "%s", theirs);
        /* A command's stdio is the pipes the init is handed, its loopback
         * and /work the sandbox's: no pty, published port or kept /work of
         * its own exists for it yet. */
        if (p->tty || p->n_publish || p->keep_work)
                return sbp_error_set(err, SBP_E_UNSUPPORTED, "%s: not in a sandbox",
                                     p->tty ? "tty" : p->n_publish ? "publish" : "keep_work");
        if (s->running >= SBD_SANDBOX_RUNNING_MAX)
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED,
                                     "sandbox %s runs %u commands already", s->id,
                                     SBD_SANDBOX_RUNNING_MAX);
        return 0;
}

int sbd_sandbox_admit(struct sbd_conn *c, struct sbd_sandbox *s, const struct sbp_exec_params *p,
                      struct sbd_admission *a, struct sbp_error *err)
{
        struct sbd_daemon *d = c->d;
        struct sbp_exec_params q;
        int r;

        memset(a, 0, sizeof(*a));
        r = sbd_sandbox_exec_check(s, p, err);
        if (r < 0)
                return r;
        if (d->draining)
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "the daemon is shutting down");
        a->profile = sbd_conf_profile_find(sbd_settings_conf(d), s->profile);
        if (!a->profile)
                return sbp_error_set(err, SBP_E_NOT_FOUND, "profile %s of sandbox %s is gone",
                                     s->profile, s->id);
        /* The command's own timeout and output cap, from its request and
         * the profile; everything the sandbox enforces is the sandbox's. */
        q = *p;
        r = sbd_profile_merge(a->profile, &q, &a->limits, err);
        if (r < 0)
                return r;
        a->limits.policy = s->limits.policy;
        a->limits.require = s->limits.require;
        /* The sandbox carries the memory charge; a command is one more job. */
        a->charge = 0;
        r = sbd_quota_exec_check(d, (uint32_t)c->uid, 0, err);
        if (r < 0)
                return r;
        a->env = sbd_job_env_build(p, d->caps.home,
                                   s->limits.policy.network == SB_NETWORK_ALLOWLIST, err);
        if (!a->env)
                return -EINVAL;
        return 0;
}

void sbd_sandbox_exec_started(struct sbd_sandbox *s)
{
        s->running++;
        s->execs++;
        schedule(s);
}

void sbd_sandbox_exec_ended(struct sbd_daemon *d, const char *id)
{
        struct sbd_sandbox *s = sbd_sandbox_find(d, id);

        if (!s || s->running == 0)
                return;
        s->running--;
        s->idle_since = uv_now(d->loop);
        schedule(s);
}

static void destroy_work(uv_work_t *w)
{
        struct sbd_sandbox *s = sbd_container_of(w, struct sbd_sandbox, work);

        /* Only this sandbox's cgroup, mounts and directory: safe off the
         * loop (its spawner answer was settled by kill() on the loop). */
        s->d->ops->destroy(s->bj);
}

static void destroy_done(uv_work_t *w, int status)
{
        struct sbd_sandbox *s = sbd_container_of(w, struct sbd_sandbox, work);
        struct sbd_daemon *d = s->d;

        (void)status;
        s->bj = NULL;
        s->destroying = false;
        sbd_job_uid_release(d, s->uid);
        sbd_quota_job_ended(d, s->owner_uid, s->memory_charge);
        sbd_quota_job_released(d, s->owner_uid);
        /* One at a time: a failing reply may close its connection, which
         * drops that connection's waiters from this list. */
        while (!sbd_list_empty(&s->waiters)) {
                struct sbd_waiter *wt = sbd_container_of(s->waiters.next, struct sbd_waiter,
                                                         job_node);
                struct sbd_conn *c = wt->conn;
                uint32_t msgid = wt->msgid;

                sbd_waiter_drop(wt);
                d->job_events->done(c, msgid, NULL);
        }
        maybe_free(s);
}

static void add_waiter(struct sbd_sandbox *s, struct sbd_conn *c, uint32_t msgid)
{
        struct sbd_waiter *w = calloc(1, sizeof(*w));

        if (!w) {
                struct sbp_error err;

                sbp_error_set(&err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
                s->d->job_events->done(c, msgid, &err);
                return;
        }
        w->conn = c;
        w->msgid = msgid;
        sbd_list_append(&s->waiters, &w->job_node);
        sbd_list_append(&c->waiters, &w->conn_node);
}

void sbd_sandbox_destroy(struct sbd_sandbox *s, const char *why, struct sbd_conn *c,
                         uint32_t msgid)
{
        struct sbd_daemon *d = s->d;
        struct sbd_list *pos, *tmp;
        int r;

        if (s->ended)
                return;
        s->ended = true;
        log_info("sandbox %s: ended (%s)", s->id, why);
        sbd_list_remove(&s->node);
        if (c)
                add_waiter(s, c, msgid);
        /* Its commands still running end "killed", not "signaled". */
        sbd_list_for_each_safe(pos, tmp, &d->jobs) {
                struct sbd_job *j = sbd_container_of(pos, struct sbd_job, node);

                if (strcmp(j->sandbox, s->id) == 0 && !j->finished)
                        j->kill_reason = sbd_kill_reason_merge(j->kill_reason,
                                                               SBD_KILL_REQUEST);
        }
        if (s->poll_open) {
                s->poll_open = false;
                uv_poll_stop(&s->exit_poll);
                uv_close((uv_handle_t *)&s->exit_poll, handle_closed);
        }
        uv_timer_stop(&s->timer);
        uv_close((uv_handle_t *)&s->timer, handle_closed);
        /* The kill on the loop (it settles the spawner's answer, which only
         * the loop reads); what takes long, the init's exit with everything
         * in its namespace and the release of /work and /tmp, off it. */
        d->ops->kill(s->bj);
        s->destroying = true;
        r = uv_queue_work(d->loop, &s->work, destroy_work, destroy_done);
        if (r < 0) {
                log_warning("sandbox %s: threadpool: %s; destroying inline", s->id,
                            uv_err_name(r));
                destroy_work(&s->work);
                destroy_done(&s->work, 0);
        }
}

void sbd_sandbox_fill_info(struct sbd_sandbox *s, struct sbp_sandbox_info *out)
{
        struct sb_backend_exit st;
        uint64_t now = uv_now(s->d->loop);

        memset(out, 0, sizeof(*out));
        snprintf(out->sandbox, sizeof(out->sandbox), "%s", s->id);
        snprintf(out->state, sizeof(out->state), "%s", s->ended ? "ended" : "running");
        snprintf(out->profile, sizeof(out->profile), "%s", s->profile);
        out->owner_uid = s->owner_uid;
        out->created_ms = s->created_ms;
        out->idle_ms = s->running ? 0 : now - s->idle_since;
        out->idle_timeout_ms = s->idle_timeout_ms;
        out->lifetime_max_ms = s->lifetime_max_ms;
        out->execs = s->execs;
        out->running = s->running;
        out->tasks_peak = -1;
        if (s->bj && s->d->ops->sandbox_stats(s->bj, &st) == 0) {
                out->cpu_user_ms = st.cpu_user_ms;
                out->cpu_sys_ms = st.cpu_sys_ms;
                out->memory_peak = st.memory_peak;
                out->tasks_peak = st.tasks_peak;
        }
        out->enforced.uid = -1;
        out->enforced.gid = -1;
        if (s->bj)
                s->d->ops->enforced(s->bj, &out->enforced);
}

void sbd_sandbox_drop_all(struct sbd_daemon *d)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &d->sandboxes) {
                struct sbd_sandbox *s = sbd_container_of(pos, struct sbd_sandbox, node);

                sbd_sandbox_destroy(s, "the daemon is shutting down", NULL, 0);
        }
}
