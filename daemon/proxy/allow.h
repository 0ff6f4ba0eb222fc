/* allow.h — the proxy's decisions that need no I/O: host names, allowlist
 * entries and how they match a requested host:port, and which addresses
 * count as internal (loopback, private, link-local...). Pure code, unit
 * tested in tests/unit/test_proxy_allow.c.
 */
#ifndef SKILLBOX_PROXY_ALLOW_H
#define SKILLBOX_PROXY_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/proxy/proxy_msg.h"

#define PROXY_HOST_MAX 253

struct allow_entry {
        char host[PROXY_HOST_MAX + 1]; /* lowercase, no trailing dot, no brackets */
        bool wildcard;                 /* host is the suffix after "*." */
        uint16_t port;                 /* 0: ports 80 and 443 */
};

struct allow_list {
        struct allow_entry entries[SBD_PROXY_ENTRIES_MAX];
        unsigned n;
};

enum allow_verdict {
        ALLOW_NO = 0,
        ALLOW_PATTERN, /* allowed, but not by an exact host:port entry */
        ALLOW_EXACT,   /* an entry names this very host and port */
};

/* Copies the host name or IP literal in [s, s+len) to out (size
 * PROXY_HOST_MAX + 1) lowercased, without one trailing dot; an IPv6 literal
 * comes without its brackets. -EINVAL for anything else: empty labels,
 * characters outside [A-Za-z0-9._-], too long. */
int proxy_host_normalize(const char *s, size_t len, char *out);

/* Parses a port of 1..65535, digits only. */
int proxy_port_parse(const char *s, size_t len, uint16_t *out);

/* "host", "host:port", "*.suffix", "*.suffix:port", "[v6]", "[v6]:port". */
int allow_entry_parse(const char *s, struct allow_entry *out);

/* host must already be normalized. */
enum allow_verdict allow_match(const struct allow_list *list, const char *host, uint16_t port);

enum addr_class {
        ADDR_PUBLIC = 0,
        ADDR_LOOPBACK,
        ADDR_PRIVATE,
        ADDR_LINK_LOCAL,
        ADDR_UNSPECIFIED,
        ADDR_MULTICAST,
        ADDR_RESERVED,
};

/* The class of an AF_INET or AF_INET6 address; IPv4 inside IPv6
 * (mapped, compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) is classified
 * by the IPv4 address it carries. Other families are ADDR_RESERVED. */
enum addr_class addr_classify(const struct sockaddr *sa);
const char *addr_class_name(enum addr_class c);

#endif
