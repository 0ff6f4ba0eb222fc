/* egress.c — supervising skillbox-proxy (egress.h says what and why).
 *
 * States: no process (ctl_fd -1) until a job is added; running (ctl_fd
 * open, its poll watching for replies and reports); dead (the exit callback
 * closed the control end). A death with jobs still registered starts the
 * proxy again after a pause that doubles on each quick death (at most
 * RESTART_MAX_MS), and every registered job is added again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "daemon/egress.h"
#include "daemon/list.h"
#include "daemon/log.h"
#include "daemon/proxy/proxy_ctl.h"

#define RESTART_MIN_MS 100
#define RESTART_MAX_MS 5000
/* A proxy that lived this long was no quick death: the pause starts over. */
#define STABLE_MS 10000

struct egress_job {
        struct sbd_list node;
        char id[SBD_PROXY_JOB_ID_SIZE];
        int listen_fd;            /* our duplicate */
        size_t n;                 /* entries, back to back in buf, each with its NUL */
        char *buf;
};

struct sbd_egress {
        uv_loop_t *loop;
        char *proxy_path;
        uint32_t uid, gid;
        sbd_egress_denied_fn denied;
        void *userdata;

        uv_process_t proc;
        bool proc_alive;          /* proc is a live handle (exit not yet seen) */
        int ctl_fd;               /* our end of the control socket; -1 = none */
        uv_poll_t poll;
        bool poll_open;
        uv_timer_t restart;
        uint64_t restart_ms;      /* the next pause */
        uint64_t started_at;      /* uv_now() of the last start */
        bool closing;
        unsigned open_handles;    /* freed when this reaches 0 while closing */

        struct sbd_list jobs;     /* struct egress_job */
};

static void maybe_free(struct sbd_egress *e)
{
        if (!e->closing || e->open_handles > 0)
                return;
        free(e->proxy_path);
        free(e);
}

static void on_handle_closed(uv_handle_t *h)
{
        struct sbd_egress *e = h->data;

        e->open_handles--;
        maybe_free(e);
}

static struct egress_job *job_find(struct sbd_egress *e, const char *id)
{
        struct sbd_list *pos, *tmp;

        sbd_list_for_each_safe(pos, tmp, &e->jobs) {
                struct egress_job *j = (struct egress_job *)pos;

                if (strcmp(j->id, id) == 0)
                        return j;
        }
        return NULL;
}

static int job_send(struct sbd_egress *e, const struct egress_job *j)
{
        const char *v[SBD_PROXY_ENTRIES_MAX];
        const char *p = j->buf;

        for (size_t i = 0; i < j->n; i++) {
                v[i] = p;
                p += strlen(p) + 1;
        }
        return sbd_proxy_ctl_add(e->ctl_fd, j->id, v, j->n, j->listen_fd);
}

static void ctl_close(struct sbd_egress *e)
{
        if (e->poll_open) {
                e->poll_open = false;
                uv_close((uv_handle_t *)&e->poll, on_handle_closed);
        }
        if (e->ctl_fd >= 0) {
                close(e->ctl_fd);
                e->ctl_fd = -1;
        }
}

static void on_ctl(uv_poll_t *h, int status, int events)
{
        struct sbd_egress *e = h->data;
        struct sbd_proxy_event ev;
        int r;

        (void)events;
        if (status < 0) {
                log_warning("egress proxy: control socket: %s", uv_strerror(status));
                return;
        }
        /* Bounded: one wakeup reads what is queued, at most a socket's worth. */
        for (int i = 0; i < 256; i++) {
                r = sbd_proxy_ctl_recv(e->ctl_fd, &ev);
                if (r == -EAGAIN)
                        return;
                if (r == -ECONNRESET) {
                        /* The proxy is gone; its exit callback restarts it. */
                        ctl_close(e);
                        return;
                }
                if (r < 0) {
                        log_warning("egress proxy: a malformed message: %s", sbd_errno_name(r));
                        continue;
                }
                if (ev.type == SBD_PROXY_MSG_REPLY && ev.error < 0)
                        log_warning("egress proxy: job %s: %s: %s", ev.job_id,
                                    sbd_errno_name(ev.error), ev.message);
                else if (ev.type == SBD_PROXY_MSG_DENIED && e->denied && job_find(e, ev.job_id))
                        e->denied(e->userdata, ev.job_id, ev.host, ev.port, ev.count);
        }
}

static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal);

/* Starts the proxy with the control socket on fd 3 (close-on-exec off only
 * in the child: libuv dup2()s it there). */
static int start(struct sbd_egress *e)
{
        char uid[16], gid[16];
        char *argv[] = { e->proxy_path, "--uid", uid, "--gid", gid, NULL };
        uv_stdio_container_t stdio[4];
        uv_process_options_t o;
        int sv[2], r;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_errno(-errno, "egress proxy: socketpair");
        snprintf(uid, sizeof(uid), "%u", e->uid);
        snprintf(gid, sizeof(gid), "%u", e->gid);
        memset(&o, 0, sizeof(o));
        memset(stdio, 0, sizeof(stdio));
        stdio[0].flags = UV_IGNORE;
        stdio[1].flags = UV_INHERIT_FD;   /* its messages go to the daemon's log */
        stdio[1].data.fd = STDERR_FILENO;
        stdio[2].flags = UV_INHERIT_FD;
        stdio[2].data.fd = STDERR_FILENO;
        stdio[3].flags = UV_INHERIT_FD;
        stdio[3].data.fd = sv[1];
        o.file = e->proxy_path;
        o.args = argv;
        o.stdio = stdio;
        o.stdio_count = 4;
        o.exit_cb = on_exit_cb;
        o.flags = UV_PROCESS_WINDOWS_HIDE;
        e->proc.data = e;
        r = uv_spawn(e->loop, &e->proc, &o);
        close(sv[1]);
        if (r < 0) {
                close(sv[0]);
                /* A failed uv_spawn still initialized the handle: close it. */
                e->open_handles++;
                uv_close((uv_handle_t *)&e->proc, on_handle_closed);
                log_error("egress proxy: starting %s: %s", e->proxy_path, uv_strerror(r));
                return r;
        }
        e->open_handles++;
        e->proc_alive = true;
        e->started_at = uv_now(e->loop);
        if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                close(sv[0]);
                uv_process_kill(&e->proc, SIGKILL);
                return log_errno(r, "egress proxy: control socket O_NONBLOCK");
        }
        e->ctl_fd = sv[0];
        r = uv_poll_init(e->loop, &e->poll, e->ctl_fd);
        if (r == 0) {
                e->poll.data = e;
                e->poll_open = true;
                e->open_handles++;
                r = uv_poll_start(&e->poll, UV_READABLE, on_ctl);
        }
        if (r < 0) {
                ctl_close(e);
                uv_process_kill(&e->proc, SIGKILL);
                log_error("egress proxy: watching the control socket: %s", uv_strerror(r));
                return r;
        }
        log_info("egress proxy: started %s as uid %u (pid %d)", e->proxy_path, e->uid,
                 e->proc.pid);
        return 0;
}

/* Every registered job again, after a restart. */
static void add_all(struct sbd_egress *e)
{
        struct sbd_list *pos, *tmp;
        int r;

        sbd_list_for_each_safe(pos, tmp, &e->jobs) {
                struct egress_job *j = (struct egress_job *)pos;

                r = job_send(e, j);
                if (r < 0)
                        log_errno(r, "egress proxy: adding job %s again", j->id);
        }
}

static void on_restart(uv_timer_t *t)
{
        struct sbd_egress *e = t->data;

        if (e->closing || e->proc_alive || sbd_list_empty(&e->jobs))
                return;
        if (start(e) == 0) {
                add_all(e);
                return;
        }
        e->restart_ms = e->restart_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : e->restart_ms * 2;
        uv_timer_start(&e->restart, on_restart, e->restart_ms, 0);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
        struct sbd_egress *e = p->data;
        uint64_t lived = uv_now(e->loop) - e->started_at;

        e->proc_alive = false;
        ctl_close(e);
        uv_close((uv_handle_t *)p, on_handle_closed);
        if (e->closing)
                return;
        log_warning("egress proxy: exited (status %lld, signal %d) after %llu ms",
                    (long long)status, term_signal, (unsigned long long)lived);
        if (lived >= STABLE_MS)
                e->restart_ms = RESTART_MIN_MS;
        if (!sbd_list_empty(&e->jobs))
                uv_timer_start(&e->restart, on_restart, e->restart_ms, 0);
}

struct sbd_egress *sbd_egress_new(uv_loop_t *loop, const char *proxy_path, uint32_t uid,
                                  uint32_t gid, sbd_egress_denied_fn denied, void *userdata)
{
        struct sbd_egress *e = calloc(1, sizeof(*e));

        if (!e)
                return NULL;
        e->proxy_path = strdup(proxy_path);
        if (!e->proxy_path) {
                free(e);
                return NULL;
        }
        e->loop = loop;
        e->uid = uid;
        e->gid = gid;
        e->denied = denied;
        e->userdata = userdata;
        e->ctl_fd = -1;
        e->restart_ms = RESTART_MIN_MS;
        sbd_list_init(&e->jobs);
        if (uv_timer_init(loop, &e->restart) < 0) {
                free(e->proxy_path);
                free(e);
                return NULL;
        }
        e->restart.data = e;
        e->open_handles = 1;
        return e;
}

static void job_free(struct egress_job *j)
{
        sbd_list_remove(&j->node);
        if (j->listen_fd >= 0)
                close(j->listen_fd);
        free(j->buf);
        free(j);
}

int sbd_egress_add(struct sbd_egress *e, const char *job_id, const char *const *entries,
                   size_t n, int listen_fd)
{
        struct egress_job *j;
        size_t bytes = 0, off = 0;
        int r;

        if (!sbd_proxy_job_id_valid(job_id))
                return -EINVAL;
        if (n > SBD_PROXY_ENTRIES_MAX)
                return -E2BIG;
        if (job_find(e, job_id))
                return -EEXIST;
        for (size_t i = 0; i < n; i++)
                bytes += strlen(entries[i]) + 1;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        sbd_list_init(&j->node);
        j->buf = malloc(bytes ? bytes : 1);
        j->listen_fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3);
        if (!j->buf || j->listen_fd < 0) {
                r = j->listen_fd < 0 ? -errno : -ENOMEM;
                job_free(j);
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(entries[i]) + 1;

                memcpy(j->buf + off, entries[i], len);
                off += len;
        }
        j->n = n;
        memcpy(j->id, job_id, strlen(job_id) + 1);
        if (!e->proc_alive && !uv_is_active((uv_handle_t *)&e->restart)) {
                r = start(e);
                if (r < 0) {
                        job_free(j);
                        return r;
                }
        }
        sbd_list_append(&e->jobs, &j->node);
        if (e->ctl_fd < 0)
                return 0;   /* a restart is pending: it adds every job */
        r = job_send(e, j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        return 0;
}

void sbd_egress_remove(struct sbd_egress *e, const char *job_id)
{
        struct egress_job *j = job_find(e, job_id);
        int r;

        if (!j)
                return;
        if (e->ctl_fd >= 0 && (r = sbd_proxy_ctl_remove(e->ctl_fd, j->id)) < 0)
                log_errno(r, "egress proxy: removing job %s", j->id);
        job_free(j);
}

int sbd_egress_pid(const struct sbd_egress *e)
{
        return e->proc_alive ? e->proc.pid : 0;
}

void sbd_egress_close(struct sbd_egress *e)
{
        struct sbd_list *pos, *tmp;

        if (!e)
                return;
        e->closing = true;
        sbd_list_for_each_safe(pos, tmp, &e->jobs)
                job_free((struct egress_job *)pos);
        /* The proxy exits once its control socket closes; its exit callback
         * closes the process handle. */
        ctl_close(e);
        uv_timer_stop(&e->restart);
        uv_close((uv_handle_t *)&e->restart, on_handle_closed);
}

/* The control socket's kind, tried once. */
static bool control_socket_supported(void)
{
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                log_errno(-errno, "egress proxy: socketpair(AF_UNIX, SOCK_SEQPACKET) for its "
                          "control socket: jobs with network allowlist are refused");
                return false;
        }
        close(sv[0]);
        close(sv[1]);
        return true;
}

const char *sbd_egress_proxy_find(char *buf, size_t len)
{
        /* Installed beside skillboxd's libexec twin; in a build tree,
         * daemon/proxy/ beside daemon/skillboxd. */
        static const char *const names[] = { "/skillbox-proxy", "/proxy/skillbox-proxy" };
        char self[PATH_MAX];
        ssize_t n;
        char *slash;

        if (!control_socket_supported())
                return NULL;

        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                slash = strrchr(self, '/');
                for (size_t i = 0; slash && i < sizeof(names) / sizeof(names[0]); i++) {
                        int w = snprintf(buf, len, "%.*s%s", (int)(slash - self), self,
                                         names[i]);

                        if (w > 0 && (size_t)w < len && access(buf, X_OK) == 0)
                                return buf;
                }
        }
        if (access(SKILLBOX_PROXY_PATH, X_OK) == 0)
                return SKILLBOX_PROXY_PATH;
        return NULL;
}
