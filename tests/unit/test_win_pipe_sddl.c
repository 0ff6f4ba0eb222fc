/* test_win_pipe_sddl.c — the named pipe's security descriptor
 * (daemon/transport/pipe_sddl.c): who may connect to the Windows daemon,
 * and that a configured group can never inject an entry of its own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/transport/pipe_sddl.h"

static void test_with_group(void **state)
{
        char buf[256];
        const char *want = "O:SYG:SYD:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;BA)"
                           "(A;;0x120083;;;S-1-5-21-1004336348-1177238915-682003330-1013)";

        assert_int_equal(sbd_pipe_sddl("S-1-5-21-1004336348-1177238915-682003330-1013", buf,
                                       sizeof(buf)),
                         (int)strlen(want));
        assert_string_equal(buf, want);
}

/* No group configured: SYSTEM and the Administrators only. */
static void test_without_group(void **state)
{
        char buf[256];

        assert_true(sbd_pipe_sddl(NULL, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "O:SYG:SYD:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;BA)");
        assert_true(sbd_pipe_sddl("", buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "O:SYG:SYD:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;BA)");
}

/* The client's rights: read and write data, never FILE_APPEND_DATA (0x4,
 * FILE_CREATE_PIPE_INSTANCE on a pipe), nor WRITE_DAC or WRITE_OWNER. */
static void test_client_rights(void **state)
{
        unsigned long rights = strtoul(SBD_PIPE_CLIENT_RIGHTS, NULL, 16);

        assert_int_equal(rights & 0x4, 0);        /* FILE_CREATE_PIPE_INSTANCE */
        assert_int_equal(rights & 0x40000, 0);    /* WRITE_DAC */
        assert_int_equal(rights & 0x80000, 0);    /* WRITE_OWNER */
        assert_int_equal(rights & 0x3, 0x3);      /* FILE_READ_DATA | FILE_WRITE_DATA */
        assert_int_equal(rights & 0x100000, 0x100000);  /* SYNCHRONIZE */
}

static void test_sid_refused(void **state)
{
        static const char *const bad[] = {
                "BA", "WD", "S-1-5", "S-1-5-", "S-1-", "s-1-5-32-544", "S-2-5-32-544",
                "S-1-5-32-544)(A;;GA;;;WD", "S-1-5-32-544;", "S-1-05-32", "S-1-5-4294967296",
                "S-1-281474976710656-1", "S-1-5--1", "S-1-5-32-544 ",
                "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
        };
        char buf[256];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_false(sbd_sid_string_valid(bad[i]));
                assert_int_equal(sbd_pipe_sddl(bad[i], buf, sizeof(buf)), -EINVAL);
        }
        assert_true(sbd_sid_string_valid("S-1-5-32-544"));
        assert_true(sbd_sid_string_valid("S-1-5-4294967295"));
        assert_true(sbd_sid_string_valid("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15"));
}

static void test_too_small(void **state)
{
        char buf[16];

        assert_int_equal(sbd_pipe_sddl("S-1-5-32-545", buf, sizeof(buf)), -ENOSPC);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_with_group),
                cmocka_unit_test(test_without_group),
                cmocka_unit_test(test_client_rights),
                cmocka_unit_test(test_sid_refused),
                cmocka_unit_test(test_too_small),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
