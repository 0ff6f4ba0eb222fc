/* parse.h — the request head a job sends to skillbox-proxy: CONNECT
 * host:port, or an absolute-form http:// request, and the origin-form head
 * the proxy sends on. Pure code over a bounded buffer; unit tested in
 * tests/unit/test_proxy_parse.c.
 */
#ifndef SKILLBOX_PROXY_PARSE_H
#define SKILLBOX_PROXY_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/proxy/allow.h"

/* The whole request head (request line and headers) must fit in this. */
#define PROXY_HEAD_MAX (16 * 1024)
/* A rewritten head is at most this much longer than the request's head. */
#define PROXY_HEAD_GROWTH 512

enum http_kind {
        HTTP_CONNECT,
        HTTP_FORWARD,
};

struct http_request {
        enum http_kind kind;
        char method[16];
        char host[PROXY_HOST_MAX + 1]; /* normalized (allow.h) */
        bool host_v6;                  /* an IPv6 literal: brackets in Host */
        uint16_t port;
        int minor;                     /* HTTP/1.<minor> */
        const char *path;              /* HTTP_FORWARD: origin-form target */
        size_t path_len;
        const char *headers;           /* the header lines, each ending CRLF */
        size_t headers_len;
        size_t head_len;               /* bytes up to and with the empty line */
};

/* The length of the head in buf (through "\r\n\r\n"), 0 while incomplete. */
size_t http_head_length(const char *buf, size_t len);

/* Parses the head buf[0..head_len). -EINVAL: malformed (400); -ENOTSUP: a
 * well-formed request a proxy of this kind does not serve (origin-form,
 * https:// in absolute form, userinfo). */
int http_request_parse(const char *buf, size_t head_len, struct http_request *req);

/* Writes the head to send upstream for an HTTP_FORWARD request: origin-form
 * request line, Host from the request target, hop-by-hop headers (and those
 * named by Connection) dropped, "Connection: close" added. Returns its
 * length or -ENOSPC. out_size of head_len + PROXY_HEAD_GROWTH suffices. */
int http_forward_head(const struct http_request *req, char *out, size_t out_size);

#endif
