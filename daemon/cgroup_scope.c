/* cgroup_scope.c — a delegated cgroup from systemd for a daemon started by
 * hand (cgroup_scope.h).
 *
 * The scope is created with StartTransientUnit over systemd's private bus
 * socket (root only; no dbus-daemon needed), falling back to the system
 * bus. Properties: PIDs (this process), Delegate (the subtree is ours),
 * TasksMax=infinity (each job has its own pids limit; the default would
 * cap the sum of all jobs), OOMPolicy=continue where systemd knows it for
 * scopes (a job's OOM kill must not stop the daemon's scope).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon/cgroup_scope.h"
#include "daemon/log.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-bus.h>
#endif

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_ROOT "/sys/fs/cgroup"
#define SCOPE_TIMEOUT_MS 10000

static int fail(char *errbuf, size_t errlen, int err, const char *what)
{
        snprintf(errbuf, errlen, "%s: %s", what, strerror(-err));
        return err;
}

/* The v2 path of the calling process ("0::PATH" in /proc/self/cgroup). */
static int own_v2_path(char *out, size_t len)
{
        char line[4096];
        FILE *f = fopen("/proc/self/cgroup", "re");
        int r = -ENOENT;

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "0::", 3))
                        continue;
                line[strcspn(line, "\n")] = '\0';
                r = snprintf(out, len, "%s", line + 3) < (int)len ? 0 : -ENAMETOOLONG;
                break;
        }
        fclose(f);
        return r;
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

#if HAVE_LIBSYSTEMD

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
                         e.message ? e.message : strerror(-r));
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

int sbd_cgroup_scope_enter(const char *cgroup_name, char *errbuf, size_t errlen)
{
        struct statfs sfs;
        char own[4096], unit[256];
        size_t ulen;
        int r;

        if (statfs(CGROUP_ROOT, &sfs) < 0 || (unsigned long)sfs.f_type != CGROUP2_SUPER_MAGIC)
                return 0;
        if (access("/run/systemd/system", F_OK) < 0)
                return 0;
        r = own_v2_path(own, sizeof(own));
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
                r = own_v2_path(own, sizeof(own));
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
