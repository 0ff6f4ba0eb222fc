/* test_win_inet_aton.c — the Windows build's inet_aton
 * (compat/windows/inet_aton.h) reads every form glibc's does, the same, and
 * refuses what glibc refuses: the proxy's allowlist parser
 * (daemon/proxy/allow.c) tells an address from a host name by it.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "compat/windows/inet_aton.h"

static const char *const inputs[] = {
        "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.256",
        "127.1", "10.0x10000", "10.65535", "10.65536", "1.2.65535", "1.2.65536",
        "0x7f000001", "017700000001", "4294967295", "4294967296", "0xffffffff",
        "0x100000000", "010.010.010.010", "08.1.1.1", "0x.1.1.1", "0x", "0",
        "1.2.3.4.5", "1..2", ".1.2.3", "1.2.3.", "", "a.b.c.d", "1.2.3.4x",
        "0xFF.0XaB.1.2", "1.0xfff.1", "1.2.0xffff", "1.2.0x10000", "00000000001.1",
        "example.com", "1 .2.3.4", "1.2.3.4 junk", "1.2\t3", "1.2.3.4\n", "-1.2.3.4",
        "+1.2.3.4",
};

static void test_same_as_glibc(void **state)
{
        for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
                struct in_addr want = { 0 };
                uint32_t got = 0;
                int w = inet_aton(inputs[i], &want) != 0;
                int g = sb_inet_aton_parse(inputs[i], &got);

                if (w != g || (w && got != ntohl(want.s_addr)))
                        fail_msg("\"%s\": glibc %d %08x, ours %d %08x", inputs[i], w,
                                 ntohl(want.s_addr), g, got);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_same_as_glibc),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
