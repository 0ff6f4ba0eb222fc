/* sdnotify.c — talk to the service manager: sd_notify(3) messages and
 * sd_listen_fds(3) socket activation.
 *
 * Built with libsystemd, its sd_listen_fds/sd_watchdog_enabled do that
 * work; without it, the small built-in equivalents below follow the same
 * documented protocol ($LISTEN_PID/$LISTEN_FDS naming fds from 3 on,
 * $WATCHDOG_USEC/$WATCHDOG_PID), so the daemon behaves the same either way.
 * Messages always go through the built-in sender (a datagram to the AF_UNIX
 * path or abstract "@name" in $NOTIFY_SOCKET), because it sends with
 * MSG_DONTWAIT: sd_notify() blocks when the manager's queue is full (10
 * datagrams by default), which would stall the whole loop; a dropped
 * STATUS= or WATCHDOG=1 is harmless, a stalled daemon is not.
 *
 * Invariants: READY=1 is sent once, after the socket listens and the host
 * checks passed. STATUS= follows the running job count at most once per
 * STATUS_MIN_INTERVAL_MS (a burst of jobs costs one message), from a
 * uv_prepare hook, so an idle daemon never wakes up for it. Watchdog pings
 * come from the loop itself, so a stuck loop stops them and systemd
 * restarts us. None of the handles keeps the loop alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"   /* HAVE_LIBSYSTEMD: sd_listen_fds/sd_watchdog_enabled from libsystemd, else our own */

#include "daemon/log.h"
#include "daemon/sdnotify.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#define USE_LIBSYSTEMD 1
#else
#define USE_LIBSYSTEMD 0
#endif

#define LISTEN_FDS_START 3
#define STATUS_MIN_INTERVAL_MS 1000

static struct {
        bool ready;
        bool enabled;             /* $NOTIFY_SOCKET was set at ready */
        uv_timer_t watchdog;
        uv_prepare_t status_hook;
        uv_timer_t status_timer;
        uint32_t sent_jobs;       /* job count in the last STATUS= */
        bool sent_draining;
        uint64_t sent_ms;         /* uv_now() of the last STATUS= */
} state;

/* ---- the primitives, libsystemd or built in ---- */

static int notify_send(const char *msg)
{
        const char *e = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len;
        ssize_t n;
        int fd;

        if (!e || !*e)
                return 0;
        len = strlen(e);
        /* Paths and abstract names only ("vsock:" addresses are for VMs). */
        if (e[0] != '/' && e[0] != '@')
                return -EAFNOSUPPORT;
        if (len > sizeof(sa.sun_path) - (e[0] == '/'))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, e, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa,
                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
        n = n < 0 ? -errno : 1;
        close(fd);
        return (int)n;
}

#if USE_LIBSYSTEMD

/* >0 with *usec set when the watchdog is on for this process. */
static int watchdog_usec(uint64_t *usec)
{
        return sd_watchdog_enabled(0, usec);
}

static int listen_fds(void)
{
        return sd_listen_fds(1);
}

#else

static int parse_env_u64(const char *name, uint64_t *out)
{
        const char *s = getenv(name);
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -ENOENT;
        errno = 0;
        *out = strtoull(s, &end, 10);
        return errno || *end ? -EINVAL : 0;
}

static int watchdog_usec(uint64_t *usec)
{
        uint64_t pid;

        if (parse_env_u64("WATCHDOG_USEC", usec) < 0 || *usec == 0)
                return 0;
        /* WATCHDOG_PID, when set, says whose watchdog it is. */
        if (parse_env_u64("WATCHDOG_PID", &pid) == 0 && pid != (uint64_t)getpid())
                return 0;
        return 1;
}

static int listen_fds(void)
{
        uint64_t pid, n;
        int r = 0;

        if (parse_env_u64("LISTEN_PID", &pid) < 0 || pid != (uint64_t)getpid())
                goto out;
        if (parse_env_u64("LISTEN_FDS", &n) < 0 || n > 1024) {
                r = -EINVAL;
                goto out;
        }
        /* Passed fds are ours now: none may leak into a job. */
        for (uint64_t i = 0; i < n; i++) {
                int fd = LISTEN_FDS_START + (int)i;
                int fl = fcntl(fd, F_GETFD);

                if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
                        r = -errno;
                        goto out;
                }
        }
        r = (int)n;
out:
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        return r;
}

#endif

/* ---- socket activation ---- */

int sbd_notify_listen_fd(void)
{
        struct sockaddr_un sa;
        socklen_t len = sizeof(sa);
        int n = listen_fds(), fd = LISTEN_FDS_START, type = 0, acc = 0;
        socklen_t olen = sizeof(int);

        if (n < 0)
                return log_errno(n, "socket activation: LISTEN_FDS");
        if (n == 0)
                return -ENOENT;
        if (n > 1)
                log_warning("socket activation: %d sockets passed; using the first", n);
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
                return log_errno(-errno, "socket activation: fd %d", fd);
        if (sa.sun_family != AF_UNIX ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) < 0 || type != SOCK_STREAM ||
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen) < 0 || !acc)
                return log_errno(-ENOTSOCK, "socket activation: fd %d is not a listening "
                                 "AF_UNIX stream socket (ListenStream=PATH)", fd);
        return fd;
}

/* ---- status ---- */

static void send_status(struct sbd_daemon *d)
{
        char msg[160];
        int r;

        snprintf(msg, sizeof(msg), "STATUS=%s: %" PRIu32 " running job%s",
                 d->draining ? "Draining" : "Serving", d->jobs_running,
                 d->jobs_running == 1 ? "" : "s");
        r = notify_send(msg);
        if (r < 0)
                log_debug("sd_notify STATUS: %s", sbd_errno_name(r));
        state.sent_jobs = d->jobs_running;
        state.sent_draining = d->draining;
        state.sent_ms = uv_now(d->loop);
}

static bool status_changed(const struct sbd_daemon *d)
{
        return d->jobs_running != state.sent_jobs || d->draining != state.sent_draining;
}

static void on_status_timer(uv_timer_t *t)
{
        struct sbd_daemon *d = t->data;

        if (status_changed(d))
                send_status(d);
}

/* Before each poll: the job count may have changed in this iteration. */
static void on_status_hook(uv_prepare_t *h)
{
        struct sbd_daemon *d = h->data;
        uint64_t since;

        if (!status_changed(d) || uv_is_active((uv_handle_t *)&state.status_timer))
                return;
        since = uv_now(d->loop) - state.sent_ms;
        if (since >= STATUS_MIN_INTERVAL_MS)
                send_status(d);
        else
                uv_timer_start(&state.status_timer, on_status_timer,
                               STATUS_MIN_INTERVAL_MS - since, 0);
}

/* ---- watchdog ---- */

static void on_watchdog(uv_timer_t *t)
{
        int r = notify_send("WATCHDOG=1");

        if (r < 0)
                log_debug("sd_notify WATCHDOG: %s", sbd_errno_name(r));
}

int sbd_notify_ready(struct sbd_daemon *d)
{
        uint64_t usec = 0;
        int r;

        if (state.ready)
                return 0;
        state.ready = true;
        state.enabled = getenv("NOTIFY_SOCKET") != NULL;
        if (!state.enabled)
                return 0;

        r = notify_send("READY=1");
        if (r < 0)   /* systemd will time the start out and say so */
                log_errno(r, "sd_notify READY=1");
        send_status(d);

        r = uv_prepare_init(d->loop, &state.status_hook);
        if (r < 0)
                return log_errno(r, "status hook");
        state.status_hook.data = d;
        uv_unref((uv_handle_t *)&state.status_hook);
        r = uv_prepare_start(&state.status_hook, on_status_hook);
        if (r < 0)
                return log_errno(r, "status hook");
        r = uv_timer_init(d->loop, &state.status_timer);
        if (r < 0)
                return log_errno(r, "status timer");
        state.status_timer.data = d;
        uv_unref((uv_handle_t *)&state.status_timer);

        r = watchdog_usec(&usec);
        if (r < 0)
                log_warning_errno(r, "WATCHDOG_USEC");
        if (r > 0) {
                /* Half the timeout, as sd_watchdog_enabled(3) advises. */
                uint64_t ms = usec / 2000;

                if (ms == 0)
                        ms = 1;
                r = uv_timer_init(d->loop, &state.watchdog);
                if (r < 0)
                        return log_errno(r, "watchdog timer");
                state.watchdog.data = d;
                uv_unref((uv_handle_t *)&state.watchdog);
                r = uv_timer_start(&state.watchdog, on_watchdog, ms, ms);
                if (r < 0)
                        return log_errno(r, "watchdog timer");
                log_debug("watchdog: ping every %" PRIu64 " ms", ms);
        }
        return 0;
}

void sbd_notify_stopping(struct sbd_daemon *d)
{
        char msg[160];
        int r;

        if (!state.enabled)
                return;
        snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=Draining: %" PRIu32 " running job%s",
                 d->jobs_running, d->jobs_running == 1 ? "" : "s");
        r = notify_send(msg);
        if (r < 0)
                log_debug("sd_notify STOPPING: %s", sbd_errno_name(r));
        state.sent_jobs = d->jobs_running;
        state.sent_draining = true;
        state.sent_ms = uv_now(d->loop);
}
