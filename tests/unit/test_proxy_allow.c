/* test_proxy_allow.c — skillbox-proxy's allowlist: entry syntax, host name
 * canonical form, matching (exact, port, wildcard, apex) and the address
 * classes that a name under a pattern entry may not resolve to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/proxy/allow.h"

static void list_of(struct allow_list *l, const char *const *entries, unsigned n)
{
        memset(l, 0, sizeof(*l));
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(allow_entry_parse(entries[i], &l->entries[i]), 0);
        l->n = n;
}

static void test_entry_syntax(void **state)
{
        struct allow_entry e;

        (void)state;
        assert_int_equal(allow_entry_parse("Packages.Example.COM.", &e), 0);
        assert_string_equal(e.host, "packages.example.com");
        assert_false(e.wildcard);
        assert_int_equal(e.port, 0);
        assert_int_equal(allow_entry_parse("*.example.org:8443", &e), 0);
        assert_string_equal(e.host, "example.org");
        assert_true(e.wildcard);
        assert_int_equal(e.port, 8443);
        assert_int_equal(allow_entry_parse("[::1]:8080", &e), 0);
        assert_string_equal(e.host, "::1");
        assert_int_equal(e.port, 8080);
        assert_int_equal(allow_entry_parse("[0:0::1]", &e), 0);
        assert_string_equal(e.host, "::1");

        static const char *const bad[] = {
                "", "*", "*.", "a..b", ".a", "a b", "a/b", "host:", "host:0", "host:65536",
                "host:8x", "::1", "[::1", "[::1]x", "[nope]", "*.[::1]", "a:1:2", "127.1",
                "0x7f000001", "10.1", "ex%ample.org", "a.b:-1",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(allow_entry_parse(bad[i], &e), -EINVAL);
}

static void test_host_length(void **state)
{
        char name[300], out[PROXY_HOST_MAX + 1];

        (void)state;
        memset(name, 'a', 63);
        name[63] = '\0';
        assert_int_equal(proxy_host_normalize(name, 63, out), 0);
        memset(name, 'a', 64);
        assert_int_equal(proxy_host_normalize(name, 64, out), -EINVAL); /* a label > 63 */
        for (int i = 0; i < 300; i++)
                name[i] = (i % 2) ? '.' : 'a';
        assert_int_equal(proxy_host_normalize(name, 253, out), 0);
        assert_int_equal(proxy_host_normalize(name, 255, out), -EINVAL);
}

static void test_match(void **state)
{
        static const char *const entries[] = {
                "pypi.org", "files.example.net:8443", "*.pythonhosted.org", "*.wild.test:9000",
        };
        struct allow_list l;

        (void)state;
        list_of(&l, entries, 4);
        /* No port: 80 and 443 only. */
        assert_int_equal(allow_match(&l, "pypi.org", 443), ALLOW_PATTERN);
        assert_int_equal(allow_match(&l, "pypi.org", 80), ALLOW_PATTERN);
        assert_int_equal(allow_match(&l, "pypi.org", 22), ALLOW_NO);
        assert_int_equal(allow_match(&l, "evilpypi.org", 443), ALLOW_NO);
        assert_int_equal(allow_match(&l, "pypi.org.evil.com", 443), ALLOW_NO);
        /* host:port is exact. */
        assert_int_equal(allow_match(&l, "files.example.net", 8443), ALLOW_EXACT);
        assert_int_equal(allow_match(&l, "files.example.net", 443), ALLOW_NO);
        /* A wildcard is any subdomain, never the apex nor a look-alike. */
        assert_int_equal(allow_match(&l, "files.pythonhosted.org", 443), ALLOW_PATTERN);
        assert_int_equal(allow_match(&l, "a.b.pythonhosted.org", 443), ALLOW_PATTERN);
        assert_int_equal(allow_match(&l, "pythonhosted.org", 443), ALLOW_NO);
        assert_int_equal(allow_match(&l, "evilpythonhosted.org", 443), ALLOW_NO);
        assert_int_equal(allow_match(&l, ".pythonhosted.org", 443), ALLOW_NO);
        /* A wildcard with a port is still a pattern, never exact. */
        assert_int_equal(allow_match(&l, "x.wild.test", 9000), ALLOW_PATTERN);
        assert_int_equal(allow_match(&l, "x.wild.test", 443), ALLOW_NO);
        /* An empty list allows nothing. */
        l.n = 0;
        assert_int_equal(allow_match(&l, "pypi.org", 443), ALLOW_NO);
}

static enum addr_class v4(const char *s)
{
        struct sockaddr_in in = {.sin_family = AF_INET};

        assert_int_equal(inet_pton(AF_INET, s, &in.sin_addr), 1);
        return addr_classify((struct sockaddr *)&in);
}

static enum addr_class v6(const char *s)
{
        struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

        assert_int_equal(inet_pton(AF_INET6, s, &in6.sin6_addr), 1);
        return addr_classify((struct sockaddr *)&in6);
}

static void test_classify_v4(void **state)
{
        (void)state;
        assert_int_equal(v4("93.184.216.34"), ADDR_PUBLIC);
        assert_int_equal(v4("1.1.1.1"), ADDR_PUBLIC);
        assert_int_equal(v4("127.0.0.1"), ADDR_LOOPBACK);
        assert_int_equal(v4("127.255.0.9"), ADDR_LOOPBACK);
        assert_int_equal(v4("10.0.0.1"), ADDR_PRIVATE);
        assert_int_equal(v4("172.16.0.1"), ADDR_PRIVATE);
        assert_int_equal(v4("172.31.255.255"), ADDR_PRIVATE);
        assert_int_equal(v4("172.32.0.1"), ADDR_PUBLIC);
        assert_int_equal(v4("172.15.0.1"), ADDR_PUBLIC);
        assert_int_equal(v4("192.168.1.1"), ADDR_PRIVATE);
        assert_int_equal(v4("100.64.0.1"), ADDR_PRIVATE);
        assert_int_equal(v4("100.128.0.1"), ADDR_PUBLIC);
        assert_int_equal(v4("169.254.169.254"), ADDR_LINK_LOCAL);
        assert_int_equal(v4("0.0.0.0"), ADDR_UNSPECIFIED);
        assert_int_equal(v4("224.0.0.1"), ADDR_MULTICAST);
        assert_int_equal(v4("255.255.255.255"), ADDR_RESERVED);
}

static void test_classify_v6(void **state)
{
        (void)state;
        assert_int_equal(v6("2606:4700::1111"), ADDR_PUBLIC);
        assert_int_equal(v6("::1"), ADDR_LOOPBACK);
        assert_int_equal(v6("::"), ADDR_UNSPECIFIED);
        assert_int_equal(v6("fd12:3456::1"), ADDR_PRIVATE);
        assert_int_equal(v6("fc00::1"), ADDR_PRIVATE);
        assert_int_equal(v6("fe80::1"), ADDR_LINK_LOCAL);
        assert_int_equal(v6("ff02::1"), ADDR_MULTICAST);
        /* IPv4 carried in IPv6 is judged by the IPv4 address. */
        assert_int_equal(v6("::ffff:127.0.0.1"), ADDR_LOOPBACK);
        assert_int_equal(v6("::ffff:10.1.2.3"), ADDR_PRIVATE);
        assert_int_equal(v6("::ffff:169.254.169.254"), ADDR_LINK_LOCAL);
        assert_int_equal(v6("::ffff:93.184.216.34"), ADDR_PUBLIC);
        assert_int_equal(v6("::127.0.0.1"), ADDR_LOOPBACK);
        assert_int_equal(v6("64:ff9b::10.0.0.1"), ADDR_PRIVATE);
        assert_int_equal(v6("2002:7f00:1::"), ADDR_LOOPBACK);
        assert_int_equal(v6("2002:5db8:d822::"), ADDR_PUBLIC);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_entry_syntax),
                cmocka_unit_test(test_host_length),
                cmocka_unit_test(test_match),
                cmocka_unit_test(test_classify_v4),
                cmocka_unit_test(test_classify_v6),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
