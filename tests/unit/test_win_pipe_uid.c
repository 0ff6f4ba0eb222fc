/* test_win_pipe_uid.c — the uid a Windows named-pipe client gets
 * (daemon/transport/pipe_uid.c): an account of this machine or a service
 * account by its RID; anyone else one shared uid that [Access] does not
 * name, so a domain account cannot pass for the local user whose RID it
 * repeats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/transport/pipe_uid.h"

#define MACHINE "S-1-5-21-1004336348-1177238915-682003330"

static void test_local_accounts(void **state)
{
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "-1001", MACHINE), 1001);
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "-500", MACHINE), 500);
        assert_int_equal(sbd_pipe_uid_of_sid("S-1-5-18", MACHINE), 18);
        assert_int_equal(sbd_pipe_uid_of_sid("S-1-5-19", NULL), 19);
        assert_int_equal(sbd_pipe_uid_of_sid("S-1-5-20", ""), 20);
}

/* Another domain's account with the same RID as a local user. */
static void test_other_domain(void **state)
{
        assert_int_equal(sbd_pipe_uid_of_sid("S-1-5-21-1-2-3-1001", MACHINE),
                         SBD_PIPE_UID_FOREIGN);
        /* A domain that begins like the machine's. */
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "0-1001", MACHINE), SBD_PIPE_UID_FOREIGN);
        /* The machine's domain unknown: nobody but the service accounts. */
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "-1001", ""), SBD_PIPE_UID_FOREIGN);
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "-1001", NULL), SBD_PIPE_UID_FOREIGN);
        assert_int_equal(sbd_pipe_uid_of_sid("S-1-5-32-544", MACHINE), SBD_PIPE_UID_FOREIGN);
        assert_int_equal(sbd_pipe_uid_of_sid("S-1-5-180", MACHINE), SBD_PIPE_UID_FOREIGN);
}

/* More than one RID after the domain, or no number: not an account of it. */
static void test_malformed(void **state)
{
        static const char *const bad[] = {
                MACHINE, MACHINE "-", MACHINE "-1001-2", MACHINE "-x", MACHINE "--1",
                MACHINE "-+1", MACHINE "-01001", MACHINE "-4294967294",
                MACHINE "-99999999999999999999", "S-1-5-18-1",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (sbd_pipe_uid_of_sid(bad[i], MACHINE) != SBD_PIPE_UID_FOREIGN)
                        fail_msg("%s: got a uid", bad[i]);
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "-4294967293", MACHINE), 4294967293u);
}

/* Reserved RIDs of the machine's domain are no accounts: never uid 0
 * (root, to the POSIX code) or another small uid. */
static void test_reserved_rids(void **state)
{
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "-0", MACHINE), SBD_PIPE_UID_FOREIGN);
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "-18", MACHINE), SBD_PIPE_UID_FOREIGN);
        assert_int_equal(sbd_pipe_uid_of_sid(MACHINE "-499", MACHINE), SBD_PIPE_UID_FOREIGN);
        assert_int_equal(sbd_pipe_uid_of_sid("S-1-5-0", MACHINE), SBD_PIPE_UID_FOREIGN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_local_accounts),
                cmocka_unit_test(test_other_domain),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_reserved_rids),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
