/* test_proxy_parse.c — skillbox-proxy's request heads: CONNECT and
 * absolute-form requests parsed, malformed and unsupported ones refused,
 * and the head sent upstream (origin-form, Host from the target, hop-by-hop
 * headers and those named by Connection dropped).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/proxy/parse.h"

static int parse(const char *s, struct http_request *r)
{
        return http_request_parse(s, strlen(s), r);
}

static void test_head_length(void **state)
{
        static const char s[] = "GET http://a/ HTTP/1.1\r\nX: y\r\n\r\nBODY";

        (void)state;
        assert_int_equal(http_head_length(s, strlen(s)), strlen(s) - 4);
        assert_int_equal(http_head_length(s, 20), 0);
        assert_int_equal(http_head_length("\r\n\r", 3), 0);
}

static void test_connect(void **state)
{
        struct http_request r;

        (void)state;
        assert_int_equal(parse("CONNECT Pypi.ORG:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\n", &r), 0);
        assert_int_equal(r.kind, HTTP_CONNECT);
        assert_string_equal(r.host, "pypi.org");
        assert_int_equal(r.port, 443);
        assert_int_equal(parse("CONNECT [::1]:8080 HTTP/1.0\r\n\r\n", &r), 0);
        assert_string_equal(r.host, "::1");
        assert_int_equal(r.port, 8080);
        assert_int_equal(r.minor, 0);
        /* CONNECT needs a port. */
        assert_int_equal(parse("CONNECT pypi.org HTTP/1.1\r\n\r\n", &r), -EINVAL);
        assert_int_equal(parse("CONNECT pypi.org:0 HTTP/1.1\r\n\r\n", &r), -EINVAL);
        assert_int_equal(parse("CONNECT user@pypi.org:443 HTTP/1.1\r\n\r\n", &r), -ENOTSUP);
}

static void test_absolute_form(void **state)
{
        struct http_request r;

        (void)state;
        assert_int_equal(parse("GET http://Example.org/a/b?c=d HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
        assert_int_equal(r.kind, HTTP_FORWARD);
        assert_string_equal(r.method, "GET");
        assert_string_equal(r.host, "example.org");
        assert_int_equal(r.port, 80);
        assert_int_equal(r.path_len, strlen("/a/b?c=d"));
        assert_memory_equal(r.path, "/a/b?c=d", r.path_len);
        assert_int_equal(parse("POST HTTP://example.org:8080 HTTP/1.0\r\n\r\n", &r), 0);
        assert_int_equal(r.port, 8080);
        assert_int_equal(r.path_len, 0);
        assert_int_equal(parse("GET https://example.org/ HTTP/1.1\r\n\r\n", &r), -ENOTSUP);
        assert_int_equal(parse("GET /origin HTTP/1.1\r\nHost: example.org\r\n\r\n", &r), -ENOTSUP);
        assert_int_equal(parse("GET http://u:p@example.org/ HTTP/1.1\r\n\r\n", &r), -ENOTSUP);
}

static void test_malformed(void **state)
{
        static const char *const bad[] = {
                "GET http://a/ HTTP/1.1\n\r\n",            /* bare LF */
                "GET http://a/ HTTP/1.1\r\nX: a\nY: b\r\n\r\n", /* bare LF in a header */
                "GET http://a/ HTTP/1.1\r\nX: a\rb\r\n\r\n", /* bare CR */
                "GET http://a/ HTTP/2.0\r\n\r\n",
                "GET http://a/ HTTP/1.1 \r\n\r\n",
                "GET  http://a/ HTTP/1.1\r\n\r\n",
                "G(T http://a/ HTTP/1.1\r\n\r\n",
                "GET http://a/\x7f HTTP/1.1\r\n\r\n",
                "GET http://a/ HTTP/1.1\r\n folded\r\n\r\n",
                "GET http://a/ HTTP/1.1\r\nNoColon\r\n\r\n",
                "GET http://a/ HTTP/1.1\r\nBad Name: x\r\n\r\n",
                "GET http://a/ HTTP/1.1\r\n: empty\r\n\r\n",
                "GET http://a/ HTTP/1.1\r\nX: \x01\r\n\r\n",
                "GET http://a b/ HTTP/1.1\r\n\r\n",
                "GET http://127.1/ HTTP/1.1\r\n\r\n",
                "GET http://a:99999/ HTTP/1.1\r\n\r\n",
                "GET http:// HTTP/1.1\r\n\r\n",
                "LONGMETHODNAMEXYZ http://a/ HTTP/1.1\r\n\r\n",
                "\r\n\r\n",
        };
        struct http_request r;

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int rc = parse(bad[i], &r);

                if (rc != -EINVAL)
                        fail_msg("case %zu parsed as %d", i, rc);
        }
        /* A NUL inside the head. */
        assert_int_equal(http_request_parse("GET http://a/ HTTP/1.1\r\nX: \0\r\n\r\n", 31, &r),
                         -EINVAL);
}

static void test_head_bound(void **state)
{
        size_t n = PROXY_HEAD_MAX + 100;
        char *big = malloc(n + 1);
        struct http_request r;

        (void)state;
        assert_non_null(big);
        memset(big, 'a', n);
        memcpy(big, "GET http://a/ HTTP/1.1\r\nX: ", 27);
        memcpy(big + n - 4, "\r\n\r\n", 4);
        big[n] = '\0';
        assert_int_equal(http_request_parse(big, n, &r), -EINVAL);
        free(big);
}

static void test_forward_head(void **state)
{
        static const char req[] =
                "GET http://example.org:8080/p?q#frag HTTP/1.1\r\n"
                "Host: evil.example\r\n"
                "Proxy-Connection: keep-alive\r\n"
                "Proxy-Authorization: Basic eA==\r\n"
                "Connection: keep-alive, X-Secret\r\n"
                "Keep-Alive: 5\r\n"
                "X-Secret: 1\r\n"
                "Upgrade: h2c\r\n"
                "Accept: */*\r\n"
                "Transfer-Encoding: chunked\r\n"
                "\r\n";
        static const char want[] =
                "GET /p?q HTTP/1.1\r\n"
                "Host: example.org:8080\r\n"
                "Accept: */*\r\n"
                "Transfer-Encoding: chunked\r\n"
                "Connection: close\r\n\r\n";
        char out[sizeof(req) + PROXY_HEAD_GROWTH];
        struct http_request r;
        int n;

        (void)state;
        assert_int_equal(parse(req, &r), 0);
        n = http_forward_head(&r, out, sizeof(out));
        assert_int_equal(n, strlen(want));
        assert_memory_equal(out, want, (size_t)n);
        /* Too small a buffer is an error, never a cut head. */
        assert_int_equal(http_forward_head(&r, out, 20), -ENOSPC);
}

static void test_forward_head_defaults(void **state)
{
        static const char want[] = "HEAD / HTTP/1.0\r\nHost: [::1]\r\nConnection: close\r\n\r\n";
        char out[256];
        struct http_request r;
        int n;

        (void)state;
        assert_int_equal(parse("HEAD http://[::1] HTTP/1.0\r\n\r\n", &r), 0);
        n = http_forward_head(&r, out, sizeof(out));
        assert_int_equal(n, strlen(want));
        assert_memory_equal(out, want, (size_t)n);
        assert_int_equal(parse("GET http://a.b?x=1 HTTP/1.1\r\n\r\n", &r), 0);
        n = http_forward_head(&r, out, sizeof(out));
        assert_true(n > 0);
        assert_memory_equal(out, "GET /?x=1 HTTP/1.1\r\nHost: a.b\r\n", 31);
}

/* The head is bytes from the network, not a C string: nothing may read
 * past it (under ASan an over-read fails this test). */
static void test_forward_head_unterminated(void **state)
{
        static const char req[] = "GET http://a.b/path HTTP/1.1\r\nAccept: x\r\n\r\n";
        size_t len = sizeof(req) - 1;
        char *head = malloc(len), out[256];
        struct http_request r;
        int n;

        (void)state;
        assert_non_null(head);
        memcpy(head, req, len);
        assert_int_equal(http_request_parse(head, len, &r), 0);
        n = http_forward_head(&r, out, sizeof(out));
        assert_true(n > 0);
        assert_memory_equal(out, "GET /path HTTP/1.1\r\n", 20);
        free(head);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_head_length),
                cmocka_unit_test(test_connect),
                cmocka_unit_test(test_absolute_form),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_head_bound),
                cmocka_unit_test(test_forward_head),
                cmocka_unit_test(test_forward_head_defaults),
                cmocka_unit_test(test_forward_head_unterminated),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
