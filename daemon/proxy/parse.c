/* parse.c — HTTP request heads for skillbox-proxy.
 *
 * Strict on purpose: the proxy decides on what it parses, so anything two
 * readers could read differently is refused rather than guessed at — bare
 * LF line ends, folded headers, NUL or control bytes, spaces around a
 * header name, a second request-target form, userinfo in the authority.
 * One request per connection: the forwarded head says "Connection: close"
 * and the body (if any) passes through as bytes to the same upstream.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "daemon/proxy/parse.h"

size_t http_head_length(const char *buf, size_t len)
{
        for (size_t i = 3; i < len; i++)
                if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
                        return i + 1;
        return 0;
}

static bool is_tchar(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Visible ASCII and (in header values) space and tab; no controls. */
static bool is_value_char(char c)
{
        unsigned char u = (unsigned char)c;

        return u == '\t' || (u >= 0x20 && u != 0x7f);
}

static int parse_authority(const char *s, size_t len, uint16_t default_port,
                           struct http_request *req)
{
        size_t host_len = len;
        const char *colon = NULL;

        if (memchr(s, '@', len))
                return -ENOTSUP;
        if (len > 0 && s[0] == '[') {
                const char *close = memchr(s, ']', len);

                if (!close)
                        return -EINVAL;
                host_len = (size_t)(close - s) + 1;
                if (host_len < len) {
                        if (s[host_len] != ':')
                                return -EINVAL;
                        colon = s + host_len;
                }
                req->host_v6 = true;
        } else {
                colon = memchr(s, ':', len);
                if (colon)
                        host_len = (size_t)(colon - s);
        }
        if (colon) {
                if (proxy_port_parse(colon + 1, len - host_len - 1, &req->port) < 0)
                        return -EINVAL;
        } else if (default_port) {
                req->port = default_port;
        } else {
                return -EINVAL;
        }
        return proxy_host_normalize(s, host_len, req->host);
}

static int parse_target(const char *t, size_t len, struct http_request *req)
{
        static const char scheme[] = "http://";
        size_t n = sizeof(scheme) - 1, auth_end;

        if (req->kind == HTTP_CONNECT)
                return parse_authority(t, len, 0, req);
        if (len >= 8 && strncasecmp(t, "https://", 8) == 0)
                return -ENOTSUP; /* TLS is the client's to do, through CONNECT */
        if (len < n || strncasecmp(t, scheme, n) != 0)
                return len > 0 && t[0] == '/' ? -ENOTSUP : -EINVAL;
        t += n;
        len -= n;
        for (auth_end = 0; auth_end < len; auth_end++)
                if (t[auth_end] == '/' || t[auth_end] == '?' || t[auth_end] == '#')
                        break;
        if (parse_authority(t, auth_end, 80, req) < 0)
                return memchr(t, '@', auth_end) ? -ENOTSUP : -EINVAL;
        req->path = t + auth_end;
        req->path_len = len - auth_end;
        return 0;
}

static int parse_request_line(const char *line, size_t len, struct http_request *req)
{
        const char *sp1, *sp2, *target;
        size_t mlen, tlen;

        sp1 = memchr(line, ' ', len);
        if (!sp1)
                return -EINVAL;
        mlen = (size_t)(sp1 - line);
        if (mlen == 0 || mlen >= sizeof(req->method))
                return -EINVAL;
        for (size_t i = 0; i < mlen; i++)
                if (!is_tchar(line[i]))
                        return -EINVAL;
        memcpy(req->method, line, mlen);
        req->method[mlen] = '\0';
        target = sp1 + 1;
        sp2 = memchr(target, ' ', len - mlen - 1);
        if (!sp2)
                return -EINVAL;
        tlen = (size_t)(sp2 - target);
        if (tlen == 0)
                return -EINVAL;
        for (size_t i = 0; i < tlen; i++)
                if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] >= 0x7f)
                        return -EINVAL;
        if ((size_t)(line + len - (sp2 + 1)) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
            (sp2[8] != '0' && sp2[8] != '1'))
                return -EINVAL;
        req->minor = sp2[8] - '0';
        req->kind = strcmp(req->method, "CONNECT") == 0 ? HTTP_CONNECT : HTTP_FORWARD;
        return parse_target(target, tlen, req);
}

/* Checks one header line (without its CRLF): "name:value". */
static int check_header(const char *line, size_t len)
{
        const char *colon = memchr(line, ':', len);

        if (!colon || colon == line)
                return -EINVAL; /* also a folded line, which starts with SP or HT */
        for (const char *p = line; p < colon; p++)
                if (!is_tchar(*p))
                        return -EINVAL;
        for (const char *p = colon + 1; p < line + len; p++)
                if (!is_value_char(*p))
                        return -EINVAL;
        return 0;
}

int http_request_parse(const char *buf, size_t head_len, struct http_request *req)
{
        const char *p = buf, *end = buf + head_len;
        bool first = true;
        int r;

        memset(req, 0, sizeof(*req));
        if (head_len < 4 || head_len > PROXY_HEAD_MAX || http_head_length(buf, head_len) != head_len)
                return -EINVAL;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len;

                if (!nl || nl == p || nl[-1] != '\r')
                        return -EINVAL; /* bare LF */
                len = (size_t)(nl - 1 - p);
                if (memchr(p, '\r', len))
                        return -EINVAL; /* bare CR */
                if (first) {
                        r = parse_request_line(p, len, req);
                        if (r < 0)
                                return r;
                        req->headers = nl + 1;
                        first = false;
                } else if (len == 0) {
                        req->headers_len = (size_t)(p - req->headers);
                        req->head_len = head_len;
                        return nl + 1 == end ? 0 : -EINVAL;
                } else {
                        r = check_header(p, len);
                        if (r < 0)
                                return r;
                }
                p = nl + 1;
        }
        return -EINVAL;
}

/* Header names a proxy consumes or that describe only the client's hop. */
static const char *const hop_by_hop[] = {
        "connection", "proxy-connection", "keep-alive", "proxy-authorization",
        "proxy-authenticate", "te", "trailer", "upgrade", "host",
};

#define CONNECTION_TOKENS_MAX 16

struct token {
        const char *s;
        size_t len;
};

static bool name_is(const char *name, size_t len, const char *want, size_t want_len)
{
        return len == want_len && strncasecmp(name, want, len) == 0;
}

static void trim(const char **s, size_t *len)
{
        while (*len > 0 && (**s == ' ' || **s == '\t')) {
                (*s)++;
                (*len)--;
        }
        while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
                (*len)--;
}

/* Collects the names listed in Connection headers; past the bound, every
 * further name is ignored (and its header forwarded), never overflowed. */
static unsigned connection_tokens(const struct http_request *req, struct token *tok)
{
        const char *p = req->headers, *end = req->headers + req->headers_len;
        unsigned n = 0;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *colon = memchr(p, ':', (size_t)(nl - p));
                const char *v = colon + 1;

                if (name_is(p, (size_t)(colon - p), "connection", 10)) {
                        while (v < nl - 1 && n < CONNECTION_TOKENS_MAX) {
                                const char *comma = memchr(v, ',', (size_t)(nl - 1 - v));
                                const char *stop = comma ? comma : nl - 1;
                                struct token t = {v, (size_t)(stop - v)};

                                trim(&t.s, &t.len);
                                if (t.len > 0)
                                        tok[n++] = t;
                                v = comma ? comma + 1 : stop;
                        }
                }
                p = nl + 1;
        }
        return n;
}

static bool dropped(const char *name, size_t len, const struct token *tok, unsigned n_tok)
{
        for (size_t i = 0; i < sizeof(hop_by_hop) / sizeof(hop_by_hop[0]); i++)
                if (name_is(name, len, hop_by_hop[i], strlen(hop_by_hop[i])))
                        return true;
        for (unsigned i = 0; i < n_tok; i++)
                if (name_is(name, len, tok[i].s, tok[i].len))
                        return true;
        return false;
}

struct out {
        char *p;
        size_t size, len;
        bool overflow;
};

static void put(struct out *o, const char *s, size_t len)
{
        if (o->overflow || len > o->size - o->len) {
                o->overflow = true;
                return;
        }
        memcpy(o->p + o->len, s, len);
        o->len += len;
}

static void puts_(struct out *o, const char *s)
{
        put(o, s, strlen(s));
}

int http_forward_head(const struct http_request *req, char *out, size_t out_size)
{
        struct token tok[CONNECTION_TOKENS_MAX];
        unsigned n_tok = connection_tokens(req, tok);
        const char *p = req->headers, *end = req->headers + req->headers_len;
        struct out o = {out, out_size, 0, false};
        char port[8];

        puts_(&o, req->method);
        puts_(&o, " ");
        if (req->path_len == 0 || req->path[0] != '/')
                puts_(&o, "/");
        /* A fragment is the client's alone; it is not sent on. The path is
         * not NUL-terminated: it ends at path_len. */
        const char *hash = memchr(req->path, '#', req->path_len);

        put(&o, req->path, hash ? (size_t)(hash - req->path) : req->path_len);
        puts_(&o, req->minor ? " HTTP/1.1\r\nHost: " : " HTTP/1.0\r\nHost: ");
        if (req->host_v6)
                puts_(&o, "[");
        puts_(&o, req->host);
        if (req->host_v6)
                puts_(&o, "]");
        if (req->port != 80) {
                snprintf(port, sizeof(port), ":%u", (unsigned)req->port);
                puts_(&o, port);
        }
        puts_(&o, "\r\n");
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *colon = memchr(p, ':', (size_t)(nl - p));

                if (!dropped(p, (size_t)(colon - p), tok, n_tok))
                        put(&o, p, (size_t)(nl + 1 - p));
                p = nl + 1;
        }
        puts_(&o, "Connection: close\r\n\r\n");
        return o.overflow ? -ENOSPC : (int)o.len;
}
