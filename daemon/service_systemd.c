/* service_systemd.c — the service manager seam (service.h) for systemd:
 * sd_notify(3) messages, sd_listen_fds(3) socket activation, and a
 * transient scope for a daemon started by hand.
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
 *
 * The scope is created with StartTransientUnit over systemd's private bus
 * socket (root only; no dbus-daemon needed), falling back to the system
 * bus. Properties: PIDs (this process), Delegate (the subtree is ours),
 * TasksMax=infinity (each job has its own pids limit; the default would
 * cap the sum of all jobs), OOMPolicy=continue where systemd knows it for
 * scopes (a job's OOM kill must not stop the daemon's scope). Without
 * libsystemd there is no bus client, and a daemon that needs a scope says
 * how to run it instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "config.h"   /* HAVE_LIBSYSTEMD: libsystemd's calls, else our own */

#include "backends/linux/cgroup/cgroup.h"   /* sb_cg_own_path */
#include "daemon/log.h"
#include "daemon/service.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-bus.h>
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

int sbd_service_listen_handle(struct sbd_handle *out)
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
        out->fd = fd;
        return 0;
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

int sbd_service_ready(struct sbd_daemon *d)
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

void sbd_service_stopping(struct sbd_daemon *d)
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

/* ---- a delegated cgroup: the transient scope ---- */

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_ROOT "/sys/fs/cgroup"
#define SCOPE_TIMEOUT_MS 10000

static int fail(char *errbuf, size_t errlen, int err, const char *what)
{
        snprintf(errbuf, errlen, "%s: %s", what, sbd_errno_name(err));
        return err;
}

static bool delegated(const char *path)
{
        char dir[4200], v[8];
        ssize_t n;

        snprintf(dir, sizeof(dir), CGROUP_ROOT "%s", path);
        /* trusted.delegate: set by the system manager; user.delegate by a
         * user manager, which cannot write trusted.* */
        n = getxattr(dir, "trusted.delegate", v, sizeof(v) - 1);
        if (n < 0)
                n = getxattr(dir, "user.delegate", v, sizeof(v) - 1);
        return n > 0 && v[0] == '1';
}

/* A unit name keeps [A-Za-z0-9:_.-] (a leading '.' not); everything else
 * becomes \xNN, as systemd escapes. */
static int unit_name(const char *cgroup_name, char *out, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = (size_t)snprintf(out, len, "skillboxd-");

        for (const char *p = cgroup_name; *p; p++) {
                unsigned char c = (unsigned char)*p;
                bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '-' ||
                            (c == '.' && p != cgroup_name);
                if (o + 5 >= len)
                        return -ENAMETOOLONG;
                if (keep) {
                        out[o++] = (char)c;
                } else {
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[c >> 4];
                        out[o++] = hex[c & 15];
                }
        }
        if (o + sizeof(".scope") > len)
                return -ENAMETOOLONG;
        memcpy(out + o, ".scope", sizeof(".scope"));
        return 0;
}

#if USE_LIBSYSTEMD

static int bus_open(sd_bus **out)
{
        sd_bus *bus = NULL;
        int r = sd_bus_new(&bus);

        if (r >= 0)
                r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0) {
                *out = bus;
                return 0;
        }
        sd_bus_unref(bus);
        return sd_bus_open_system(out);
}

static int start_scope(sd_bus *bus, const char *unit, bool oom_policy, sd_bus_error *e)
{
        sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager",
                                           "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)",
                                          "Description", "s", "skillbox sandbox daemon",
                                          "PIDs", "au", 1, (uint32_t)getpid(),
                                          "Delegate", "b", 1,
                                          "TasksMax", "t", UINT64_MAX);
        if (r >= 0 && oom_policy)
                r = sd_bus_message_append(m, "(sv)", "OOMPolicy", "s", "continue");
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r >= 0)
                r = sd_bus_call(bus, m, SCOPE_TIMEOUT_MS * 1000ULL, e, &reply);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return r;
}

/* Stop a scope a dead instance left and wait until systemd forgot it. */
static int stop_scope(sd_bus *bus, const char *unit, sd_bus_error *e)
{
        sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "StopUnit", e, &reply,
                                   "ss", unit, "replace");

        sd_bus_message_unref(reply);
        if (r < 0)
                return r;
        for (int waited = 0; waited < SCOPE_TIMEOUT_MS; waited += 20) {
                sd_bus_error ge = SD_BUS_ERROR_NULL;
                reply = NULL;
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1",
                                       "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "GetUnit", &ge,
                                       &reply, "s", unit);
                sd_bus_message_unref(reply);
                bool gone = r < 0 && sd_bus_error_has_name(&ge, "org.freedesktop.systemd1.NoSuchUnit");
                sd_bus_error_free(&ge);
                if (gone)
                        return 0;
                usleep(20 * 1000);
        }
        return -ETIMEDOUT;
}

static int enter(const char *unit, char *errbuf, size_t errlen)
{
        sd_bus *bus = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        bool oom_policy = true;
        int r;

        r = bus_open(&bus);
        if (r < 0)
                return fail(errbuf, errlen, r, "connect to systemd");
        for (int attempt = 0;; attempt++) {
                sd_bus_error_free(&e);
                r = start_scope(bus, unit, oom_policy, &e);
                if (r >= 0)
                        break;
                if (oom_policy && attempt < 3 &&
                    (sd_bus_error_has_name(&e, SD_BUS_ERROR_PROPERTY_READ_ONLY) ||
                     sd_bus_error_has_name(&e, SD_BUS_ERROR_INVALID_ARGS))) {
                        /* systemd before 253 has no OOMPolicy= for scopes,
                         * and no OOM policy for them either. */
                        oom_policy = false;
                        continue;
                }
                if (attempt < 3 && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
                        log_warning("%s exists: the jobs of an instance that died; stopping it",
                                    unit);
                        sd_bus_error_free(&e);
                        r = stop_scope(bus, unit, &e);
                        if (r < 0)
                                break;
                        continue;
                }
                break;
        }
        if (r < 0) {
                snprintf(errbuf, errlen, "systemd: create %s: %s", unit,
                         e.message ? e.message : sbd_errno_name(r));
                sd_bus_error_free(&e);
                sd_bus_flush_close_unref(bus);
                return r;
        }
        sd_bus_error_free(&e);
        sd_bus_flush_close_unref(bus);
        return 0;
}

#else

static int enter(const char *unit, char *errbuf, size_t errlen)
{
        snprintf(errbuf, errlen, "this cgroup is not delegated and skillboxd was built without "
                 "libsystemd to ask for %s; run it under skillboxd.service", unit);
        return -EOPNOTSUPP;
}

#endif

int sbd_service_cgroup_enter(const char *cgroup_name, char *errbuf, size_t errlen)
{
        struct statfs sfs;
        char own[4096], unit[256];
        size_t ulen;
        int r;

        if (statfs(CGROUP_ROOT, &sfs) < 0 || (unsigned long)sfs.f_type != CGROUP2_SUPER_MAGIC)
                return 0;
        if (access("/run/systemd/system", F_OK) < 0)
                return 0;
        r = sb_cg_own_path(NULL, own, sizeof(own));
        if (r < 0)
                return fail(errbuf, errlen, r, "read /proc/self/cgroup");
        if (!strcmp(own, "/") || delegated(own))
                return 0;
        r = unit_name(cgroup_name, unit, sizeof(unit));
        if (r < 0)
                return fail(errbuf, errlen, r, "scope name");
        r = enter(unit, errbuf, errlen);
        if (r < 0)
                return r;
        /* systemd moves us when it runs the scope's start job, just after
         * its answer. */
        ulen = strlen(unit);
        for (int waited = 0; waited < SCOPE_TIMEOUT_MS; waited += 5) {
                size_t olen;
                r = sb_cg_own_path(NULL, own, sizeof(own));
                if (r < 0)
                        return fail(errbuf, errlen, r, "read /proc/self/cgroup");
                olen = strlen(own);
                if (olen > ulen && own[olen - ulen - 1] == '/' && !strcmp(own + olen - ulen, unit)) {
                        log_info("started by hand in a cgroup systemd owns: moved into %s "
                                 "(Delegate=yes)", unit);
                        return 1;
                }
                usleep(5 * 1000);
        }
        snprintf(errbuf, errlen, "systemd created %s but did not move skillboxd into it", unit);
        return -ETIMEDOUT;
}
