/* seatbelt.c — policy -> Seatbelt profile text and parameters (seatbelt.h).
 *
 * The profile denies everything and then allows, in this order: running
 * processes (fork, exec of what is readable, signals inside the sandbox),
 * reading the system paths and the policy's read-only paths, reading and
 * writing the job's directories, the few device nodes every program uses,
 * a short list of Mach services, and the network the policy grants. On
 * macOS the loopback interface is the host's: a job that could reach
 * 127.0.0.1 could talk to every local service, so network "none" denies
 * all of IP, loopback included, and "allowlist" allows exactly the port the
 * backend's listener for this job's proxy took on loopback (not another
 * job's: each has its own).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backends/macos/seatbelt.h"
#include "backends/text.h"

const char *const sb_seatbelt_mach_services[] = {
        "com.apple.system.logger",
        "com.apple.system.notification_center",
        "com.apple.system.opendirectoryd.libinfo",
        "com.apple.system.opendirectoryd.membership",
        NULL,
};

/* DNS, for network "host" only: with "allowlist" the proxy resolves. */
static const char *const host_network_mach_services[] = {
        "com.apple.dnssd.service",
        NULL,
};

/* /System also holds the dyld shared cache (under /System/Volumes/Preboot
 * since macOS 13); /Library/Apple the system's own additions; /private/etc
 * the files tools read (hosts, ssl, passwd through libinfo's fallback). */
const char *const sb_seatbelt_system_paths[] = {
        "/usr",
        "/bin",
        "/sbin",
        "/System",
        "/Library/Apple",
        "/private/etc",
        "/private/var/db/timezone",
        NULL,
};

/* Device nodes: readable and writable (data only, no ioctl). */
static const char *const rw_devices[] = { "/dev/null", "/dev/zero", "/dev/dtracehelper", NULL };
static const char *const ro_devices[] = { "/dev/random", "/dev/urandom", NULL };

static const struct {
        const char *link;
        const char *target;
} private_links[] = {
        { "/var", "/private/var" },
        { "/tmp", "/private/tmp" },
        { "/etc", "/private/etc" },
};

static bool path_is_normal(const char *p)
{
        if (p[0] != '/')
                return false;
        if (p[1] == '\0')
                return true;
        for (const char *c = p; *c; ) {
                const char *part = c + 1, *end = strchr(part, '/');
                size_t n = end ? (size_t)(end - part) : strlen(part);

                if (n == 0 || (n == 1 && part[0] == '.') ||
                    (n == 2 && part[0] == '.' && part[1] == '.'))
                        return false;
                c = part + n;
        }
        return true;
}

int sb_seatbelt_canonical_path(const char *path, char *out, size_t len)
{
        const char *prefix = "", *rest = path;
        int n;

        if (!path || !path_is_normal(path))
                return -EINVAL;
        for (size_t i = 0; i < sizeof(private_links) / sizeof(private_links[0]); i++) {
                size_t l = strlen(private_links[i].link);

                if (strncmp(path, private_links[i].link, l) == 0 &&
                    (path[l] == '\0' || path[l] == '/')) {
                        prefix = "/private";
                        break;
                }
        }
        n = snprintf(out, len, "%s%s", prefix, rest);
        if (n < 0 || (size_t)n >= len)
                return -ENAMETOOLONG;
        return 0;
}

static const char *keep(struct sb_seatbelt *s, const char *str)
{
        size_t n = strlen(str) + 1;
        char *at;

        if (n > sizeof(s->strings) - s->strings_used)
                return NULL;
        at = s->strings + s->strings_used;
        memcpy(at, str, n);
        s->strings_used += n;
        return at;
}

/* Adds parameter name = the canonical form of path. */
static int param_add(struct sb_seatbelt *s, const char *name, const char *path)
{
        char canon[1024];
        const char *k, *v;
        int r;

        r = sb_seatbelt_canonical_path(path, canon, sizeof(canon));
        if (r < 0)
                return r;
        if (s->n_params >= SB_SEATBELT_PARAMS_MAX)
                return -E2BIG;
        k = keep(s, name);
        v = k ? keep(s, canon) : NULL;
        if (!v)
                return -E2BIG;
        s->params[2 * s->n_params] = k;
        s->params[2 * s->n_params + 1] = v;
        s->n_params++;
        s->params[2 * s->n_params] = NULL;
        return 0;
}

__attribute__((format(printf, 3, 4)))
static void reason(char *errbuf, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        if (!errbuf || errlen == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
}

/* The read-only path of a BindReadOnlyPaths= entry "[-]SRC[:DST]", into
 * src: Seatbelt can let the job read SRC where it is, not show it at DST. */
static int bind_source(const char *entry, char *src, size_t len)
{
        const char *s = entry[0] == '-' ? entry + 1 : entry;
        const char *colon = strchr(s, ':');
        size_t n = colon ? (size_t)(colon - s) : strlen(s);

        if (n >= len)
                return -ENAMETOOLONG;
        memcpy(src, s, n);
        src[n] = '\0';
        if (colon && strcmp(colon + 1, src) != 0)
                return -EOPNOTSUPP;
        return 0;
}

static void put_services(struct sb_text *t, const char *const *names)
{
        for (size_t i = 0; names[i]; i++)
                sb_text_put(t, "\n  (global-name \"%s\")", names[i]);
}

int sb_seatbelt_build(const struct sb_policy *p, const struct sb_seatbelt_dirs *dirs,
                      uint16_t proxy_port, struct sb_seatbelt *out, char *errbuf,
                      size_t errlen)
{
        struct sb_text t = { .buf = out->text, .len = sizeof(out->text) };
        char name[32], src[1024];
        uint32_t n_sys = 0, n_ro = 0;
        int r;

        out->text[0] = '\0';
        out->n_params = 0;
        out->params[0] = NULL;
        out->strings_used = 0;
        if (!dirs->work || !dirs->tmp) {
                reason(errbuf, errlen, "seatbelt: the job's directories are not set");
                return -EINVAL;
        }
        /* Port 0 would read as "any port" to a reader, and is no listener. */
        if (p->network == SB_NETWORK_ALLOWLIST && proxy_port == 0) {
                reason(errbuf, errlen, "seatbelt: network allowlist without the proxy's port");
                return -EINVAL;
        }

        for (; sb_seatbelt_system_paths[n_sys]; n_sys++) {
                snprintf(name, sizeof(name), "SYSTEM_%u", n_sys);
                r = param_add(out, name, sb_seatbelt_system_paths[n_sys]);
                if (r < 0)
                        goto fail_param;
        }
        for (const char *e = sb_policy_bind_ro_next(p, NULL); e; e = sb_policy_bind_ro_next(p, e)) {
                r = bind_source(e, src, sizeof(src));
                if (r == -EOPNOTSUPP) {
                        reason(errbuf, errlen,
                               "seatbelt: BindReadOnlyPaths=%s: macOS cannot show a path at "
                               "another place", e);
                        return r;
                }
                if (r < 0)
                        goto fail_param;
                snprintf(name, sizeof(name), "READ_ONLY_%u", n_ro++);
                r = param_add(out, name, src);
                if (r < 0)
                        goto fail_param;
        }
        r = param_add(out, "WORK_DIR", dirs->work);
        if (r >= 0)
                r = param_add(out, "TMP_DIR", dirs->tmp);
        if (r >= 0 && dirs->home)
                r = param_add(out, "HOME_DIR", dirs->home);
        if (r < 0)
                goto fail_param;

        sb_text_put(&t, "(version 1)\n(deny default)\n");
        sb_text_put(&t, "\n; Processes: fork, exec of what the job may read, signals to its own.\n");
        sb_text_put(&t, "(allow process-fork)\n(allow signal (target same-sandbox))\n");
        sb_text_put(&t, "(allow sysctl-read)\n");
        sb_text_put(&t, "(allow file-read-metadata (literal \"/\") (literal \"/private\")"
                " (literal \"/var\") (literal \"/tmp\") (literal \"/etc\"))\n");

        sb_text_put(&t, "\n; The system, read-only.\n(allow file-read* process-exec");
        for (uint32_t i = 0; i < n_sys; i++)
                sb_text_put(&t, "\n  (subpath (param \"SYSTEM_%u\"))", i);
        sb_text_put(&t, ")\n");
        if (n_ro > 0) {
                sb_text_put(&t, "\n; The profile's read-only paths.\n(allow file-read* process-exec");
                for (uint32_t i = 0; i < n_ro; i++)
                        sb_text_put(&t, "\n  (subpath (param \"READ_ONLY_%u\"))", i);
                sb_text_put(&t, ")\n");
        }

        sb_text_put(&t, "\n; The job's own directories: the only place it writes.\n");
        sb_text_put(&t, "(allow file-read* file-write* process-exec\n  (subpath (param \"WORK_DIR\"))\n"
                "  (subpath (param \"TMP_DIR\"))");
        if (dirs->home)
                sb_text_put(&t, "\n  (subpath (param \"HOME_DIR\"))");
        sb_text_put(&t, ")\n");

        sb_text_put(&t, "\n; Devices.\n(allow file-read* file-write-data");
        for (size_t i = 0; rw_devices[i]; i++)
                sb_text_put(&t, "\n  (literal \"%s\")", rw_devices[i]);
        sb_text_put(&t, ")\n(allow file-read*");
        for (size_t i = 0; ro_devices[i]; i++)
                sb_text_put(&t, "\n  (literal \"%s\")", ro_devices[i]);
        sb_text_put(&t, ")\n");

        sb_text_put(&t, "\n; Mach services.\n(allow mach-lookup");
        put_services(&t, sb_seatbelt_mach_services);
        if (p->network == SB_NETWORK_HOST)
                put_services(&t, host_network_mach_services);
        sb_text_put(&t, ")\n");

        switch (p->network) {
        case SB_NETWORK_NONE:
                sb_text_put(&t, "\n; Network: none (the host's loopback included).\n");
                break;
        case SB_NETWORK_ALLOWLIST:
                sb_text_put(&t, "\n; Network: only the allowlist proxy, on the host's loopback.\n");
                sb_text_put(&t, "(allow network-outbound (remote ip \"localhost:%u\"))\n",
                    (unsigned)proxy_port);
                break;
        case SB_NETWORK_HOST:
                sb_text_put(&t, "\n; Network: the host's.\n(allow network*)\n"
                        "(allow system-socket)\n");
                break;
        }
        if (t.overflow) {
                reason(errbuf, errlen, "seatbelt: the profile exceeds %d bytes",
                       SB_SEATBELT_TEXT_MAX);
                return -E2BIG;
        }
        return 0;

fail_param:
        reason(errbuf, errlen, "seatbelt: a path of the policy or the job: %s", strerror(-r));
        return r;
}
