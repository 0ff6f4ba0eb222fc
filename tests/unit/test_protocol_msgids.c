/* test_protocol_msgids.c — the daemon's set of msgids in flight
 * (daemon/msgids.c): a reused msgid is seen while its first request is
 * unanswered and forgotten once answered; removal keeps every other id
 * findable (backward shift), through growth and shrinking.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "daemon/msgids.h"

static void test_reuse_in_flight(void **state)
{
        struct sbd_msgids s = { 0 };

        (void)state;
        assert_int_equal(sbd_msgids_add(&s, 0), 1);        /* a wait with msgid 0 */
        assert_int_equal(sbd_msgids_add(&s, 0), 2);        /* reused: refused */
        sbd_msgids_remove(&s, 0);                          /* the refusal's answer */
        assert_int_equal(sbd_msgids_count(&s, 0), 1);      /* the wait still counts */
        sbd_msgids_remove(&s, 0);                          /* the wait's answer */
        assert_int_equal(sbd_msgids_count(&s, 0), 0);
        assert_int_equal(sbd_msgids_add(&s, 0), 1);        /* free to use again */
        sbd_msgids_remove(&s, 0);
        sbd_msgids_remove(&s, 7);                          /* never sent: ignored */
        assert_int_equal(sbd_msgids_count(&s, 7), 0);
        sbd_msgids_free(&s);
}

/* Many ids, removed in an order that breaks probe runs in the middle:
 * every id left is still found, every removed one is gone. */
static void test_many(void **state)
{
        struct sbd_msgids s = { 0 };
        const uint32_t n = 5000;

        (void)state;
        for (uint32_t i = 0; i < n; i++)
                assert_int_equal(sbd_msgids_add(&s, i * 7919u), 1);
        assert_int_equal(s.n, n);
        for (uint32_t i = 0; i < n; i += 3)
                sbd_msgids_remove(&s, i * 7919u);
        for (uint32_t i = 0; i < n; i++)
                assert_int_equal(sbd_msgids_count(&s, i * 7919u), i % 3 ? 1 : 0);
        for (uint32_t i = 0; i < n; i++)
                sbd_msgids_remove(&s, i * 7919u);
        assert_int_equal(s.n, 0);
        assert_true(s.cap <= 16);       /* memory follows what is in flight */
        sbd_msgids_free(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reuse_in_flight),
                cmocka_unit_test(test_many),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
