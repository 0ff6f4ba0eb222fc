/* seatbelt_profile.c — skillbox-proxy's own Seatbelt profile (seatbelt_profile.h).
 *
 * Deny by default, then allow only what serving the jobs needs: the
 * network (accepting on the listeners skillboxd hands over, the control
 * socket, connecting out to what a job's allowlist admits: allow.c decides
 * that, not the profile), reading the files libSystem and the resolver
 * read, and the Mach services name resolution and logging use. Nothing is
 * written to a file, no process is forked or executed, no other process is
 * signalled: what the Linux build's seccomp filter takes away, here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "daemon/proxy/seatbelt_profile.h"
#include "backends/text.h"

/* Trees read by libSystem (the dyld shared cache under /System, the
 * libraries and their data under /usr) and the resolver's configuration
 * (/private/etc: hosts, services, protocols). */
static const char *const read_subpaths[] = {
        "/usr/lib",
        "/usr/share",
        "/System",
        "/private/etc",
        "/private/var/db/timezone",
        NULL,
};

/* Single files: /etc/resolv.conf links to the first; the second is
 * mDNSResponder's socket, which the DNS-SD client getaddrinfo() uses
 * connects to (the connect itself is network-outbound); /dev/urandom for
 * libuv's and libSystem's randomness. */
static const char *const read_literals[] = {
        "/private/var/run/resolv.conf",
        "/private/var/run/mDNSResponder",
        "/dev/urandom",
        "/dev/random",
        NULL,
};

/* Looked at when a path through /etc or /var is resolved. */
static const char *const metadata_literals[] = {
        "/",
        "/private",
        "/private/var",
        "/private/var/run",
        "/etc",
        "/var",
        NULL,
};

/* getaddrinfo() asks mDNSResponder, with the resolver configuration
 * configd publishes; user and group lookups and the log go through the
 * others. */
static const char *const mach_services[] = {
        "com.apple.SystemConfiguration.DNSConfiguration",
        "com.apple.dnssd.service",
        "com.apple.system.logger",
        "com.apple.system.notification_center",
        "com.apple.system.opendirectoryd.libinfo",
        NULL,
};

/* "(allow OPS\n  (KIND "a")\n  (KIND "b"))\n" */
static void put_rule(struct sb_text *t, const char *ops, const char *kind,
                     const char *const *items)
{
        sb_text_put(t, "(allow %s", ops);
        for (size_t i = 0; items[i]; i++)
                sb_text_put(t, "\n  (%s \"%s\")", kind, items[i]);
        sb_text_put(t, ")\n");
}

int proxy_seatbelt_profile(char *buf, size_t len)
{
        struct sb_text t = { .buf = buf, .len = len };

        if (len == 0)
                return -E2BIG;
        buf[0] = '\0';
        sb_text_put(&t, "(version 1)\n(deny default)\n\n");
        sb_text_put(&t, "; skillbox-proxy: no process-fork, no process-exec, no file-write*.\n");
        sb_text_put(&t, "(allow sysctl-read)\n\n");
        sb_text_put(&t, "; What libSystem and the resolver read.\n");
        put_rule(&t, "file-read*", "subpath", read_subpaths);
        put_rule(&t, "file-read*", "literal", read_literals);
        put_rule(&t, "file-read-metadata", "literal", metadata_literals);
        sb_text_put(&t, "\n; Name resolution, user lookups, the system log.\n");
        put_rule(&t, "mach-lookup", "global-name", mach_services);
        sb_text_put(&t, "\n; The jobs' listeners, the control socket, and out to what an\n"
               "; allowlist admits (decided in allow.c, before any connect).\n");
        sb_text_put(&t, "(allow network*)\n");
        return t.overflow ? -E2BIG : 0;
}
