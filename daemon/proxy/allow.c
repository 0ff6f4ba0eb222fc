/* allow.c — host names, allowlist entries and address classes for
 * skillbox-proxy.
 *
 * The proxy decides on the host NAME a job asked for, so names are put in
 * one canonical form before they are compared: lowercase, no trailing dot,
 * IPv6 literals in inet_ntop's spelling. Names that the resolver would read
 * as an IPv4 address in an unusual spelling ("127.1", "0x7f000001") are
 * refused outright: they exist only to make a name look unlike the address.
 * An entry without a port allows ports 80 and 443 (plain HTTP and TLS: what
 * package managers and APIs use); any other port must be named.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "daemon/proxy/allow.h"

static bool is_host_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
}

static char lower(char c)
{
        return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int normalize_v6(const char *s, size_t len, char *out)
{
        char tmp[INET6_ADDRSTRLEN];
        struct in6_addr a;

        if (len == 0 || len >= sizeof(tmp))
                return -EINVAL;
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        if (inet_pton(AF_INET6, tmp, &a) != 1)
                return -EINVAL;
        if (!inet_ntop(AF_INET6, &a, out, PROXY_HOST_MAX + 1))
                return -EINVAL;
        return 0;
}

int proxy_host_normalize(const char *s, size_t len, char *out)
{
        struct in_addr a4;
        size_t label = 0;

        if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
                return normalize_v6(s + 1, len - 2, out);
        if (len > 0 && s[len - 1] == '.')
                len--;
        if (len == 0 || len > PROXY_HOST_MAX)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (!is_host_char(s[i]))
                        return -EINVAL;
                if (s[i] == '.') {
                        if (label == 0)
                                return -EINVAL;
                        label = 0;
                } else if (++label > 63) {
                        return -EINVAL;
                }
                out[i] = lower(s[i]);
        }
        out[len] = '\0';
        if (label == 0)
                return -EINVAL;
        /* The resolver takes inet_aton's forms (octal, hex, fewer parts) as
         * addresses; only the dotted quad is accepted as one. */
        if (inet_aton(out, &a4) != 0 && inet_pton(AF_INET, out, &a4) != 1)
                return -EINVAL;
        return 0;
}

int proxy_port_parse(const char *s, size_t len, uint16_t *out)
{
        unsigned v = 0;

        if (len == 0 || len > 5)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return -EINVAL;
        *out = (uint16_t)v;
        return 0;
}

int allow_entry_parse(const char *s, struct allow_entry *out)
{
        size_t len = strnlen(s, SBD_PROXY_ENTRY_SIZE);
        size_t host_len;
        const char *colon;
        int r;

        if (len == 0 || len >= SBD_PROXY_ENTRY_SIZE)
                return -EINVAL;
        memset(out, 0, sizeof(*out));
        if (s[0] == '[') {
                const char *close = memchr(s, ']', len);

                if (!close)
                        return -EINVAL;
                host_len = (size_t)(close - s) + 1;
                colon = host_len < len ? s + host_len : NULL;
                if (colon && *colon != ':')
                        return -EINVAL;
        } else {
                colon = memchr(s, ':', len);
                host_len = colon ? (size_t)(colon - s) : len;
                if (colon && memchr(colon + 1, ':', len - host_len - 1))
                        return -EINVAL; /* a bare IPv6 literal: brackets needed */
        }
        if (colon) {
                r = proxy_port_parse(colon + 1, len - host_len - 1, &out->port);
                if (r < 0)
                        return r;
        }
        if (host_len >= 2 && s[0] == '*' && s[1] == '.') {
                out->wildcard = true;
                s += 2;
                host_len -= 2;
                if (host_len > 0 && s[0] == '[')
                        return -EINVAL;
        }
        return proxy_host_normalize(s, host_len, out->host);
}

static bool port_matches(const struct allow_entry *e, uint16_t port)
{
        return e->port ? e->port == port : (port == 80 || port == 443);
}

static bool host_matches(const struct allow_entry *e, const char *host)
{
        size_t hl, sl;

        if (!e->wildcard)
                return strcmp(e->host, host) == 0;
        hl = strlen(host);
        sl = strlen(e->host);
        /* A strict subdomain: at least one label before ".suffix". */
        return hl > sl + 1 && host[hl - sl - 1] == '.' && strcmp(host + hl - sl, e->host) == 0;
}

enum allow_verdict allow_match(const struct allow_list *list, const char *host, uint16_t port)
{
        enum allow_verdict v = ALLOW_NO;

        for (unsigned i = 0; i < list->n; i++) {
                const struct allow_entry *e = &list->entries[i];

                if (!host_matches(e, host) || !port_matches(e, port))
                        continue;
                if (!e->wildcard && e->port == port)
                        return ALLOW_EXACT;
                v = ALLOW_PATTERN;
        }
        return v;
}

static enum addr_class classify_v4(uint32_t a)
{
        uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16);

        if (b0 == 0)
                return ADDR_UNSPECIFIED; /* 0.0.0.0/8, "this network" */
        if (b0 == 127)
                return ADDR_LOOPBACK;
        if (b0 == 10 || (b0 == 172 && (b1 & 0xf0) == 16) || (b0 == 192 && b1 == 168) ||
            (b0 == 100 && (b1 & 0xc0) == 64)) /* RFC 1918 and RFC 6598 shared space */
                return ADDR_PRIVATE;
        if (b0 == 169 && b1 == 254)
                return ADDR_LINK_LOCAL;
        if ((b0 & 0xf0) == 224)
                return ADDR_MULTICAST;
        if ((b0 & 0xf0) == 240)
                return ADDR_RESERVED; /* 240/4 and the broadcast address */
        return ADDR_PUBLIC;
}

static uint32_t v4_at(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum addr_class classify_v6(const uint8_t *a)
{
        static const uint8_t zero[16];
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};

        if (memcmp(a, zero, 16) == 0)
                return ADDR_UNSPECIFIED;
        if (memcmp(a, zero, 15) == 0 && a[15] == 1)
                return ADDR_LOOPBACK;
        /* IPv4-mapped, IPv4-compatible (::a.b.c.d) and NAT64 addresses reach
         * the IPv4 address in their last 32 bits. */
        if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0)
                return classify_v4(v4_at(a + 12));
        if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 carries it in bits 16..47 */
                return classify_v4(v4_at(a + 2));
        if ((a[0] & 0xfe) == 0xfc)
                return ADDR_PRIVATE; /* fc00::/7 unique local */
        if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
                return ADDR_LINK_LOCAL;
        if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
                return ADDR_PRIVATE; /* fec0::/10, the old site-local */
        if (a[0] == 0xff)
                return ADDR_MULTICAST;
        return ADDR_PUBLIC;
}

enum addr_class addr_classify(const struct sockaddr *sa)
{
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

                return classify_v4(ntohl(in->sin_addr.s_addr));
        }
        if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

                return classify_v6(in6->sin6_addr.s6_addr);
        }
        return ADDR_RESERVED;
}

const char *addr_class_name(enum addr_class c)
{
        switch (c) {
        case ADDR_PUBLIC:
                return "public";
        case ADDR_LOOPBACK:
                return "loopback";
        case ADDR_PRIVATE:
                return "private";
        case ADDR_LINK_LOCAL:
                return "link-local";
        case ADDR_UNSPECIFIED:
                return "unspecified";
        case ADDR_MULTICAST:
                return "multicast";
        case ADDR_RESERVED:
                return "reserved";
        }
        return "unknown";
}
