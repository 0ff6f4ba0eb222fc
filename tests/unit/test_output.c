/* test_output.c — the per-job output cap (daemon/output.c): how much of each
 * chunk is delivered, exactly max in total once passed, the action (kill or
 * truncate) reported once, no cap at 0, and the "capped" state that lets the
 * daemon drain a paused job's pipes. Pure logic, no daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/output.h"

static void test_unlimited(void **state)
{
        struct sbd_output o;
        enum sbd_output_action act;
        int i;

        (void)state;
        sbd_output_init(&o, 0, false);
        for (i = 0; i < 1000; i++) {
                assert_int_equal(sbd_output_admit(&o, 65536, &act), 65536);
                assert_int_equal(act, SBD_OUTPUT_DELIVER);
        }
        assert_false(sbd_output_capped(&o));
        assert_true(o.read == 1000ull * 65536);
        assert_true(o.admitted == o.read);
}

/* Writing exactly max bytes is allowed: the cap is passed only by more. */
static void test_exactly_max_is_not_passed(void **state)
{
        struct sbd_output o;
        enum sbd_output_action act;

        (void)state;
        sbd_output_init(&o, 100, false);
        assert_int_equal(sbd_output_admit(&o, 60, &act), 60);
        assert_int_equal(act, SBD_OUTPUT_DELIVER);
        assert_false(sbd_output_capped(&o));
        assert_int_equal(sbd_output_admit(&o, 40, &act), 40);
        assert_int_equal(act, SBD_OUTPUT_DELIVER);
        assert_false(o.passed);
        /* Nothing more can be delivered, so the pipes may be drained. */
        assert_true(sbd_output_capped(&o));
        /* One more byte passes it. */
        assert_int_equal(sbd_output_admit(&o, 1, &act), 0);
        assert_int_equal(act, SBD_OUTPUT_KILL);
        assert_true(o.passed);
}

/* The chunk that passes the cap is split: its head is delivered. */
static void test_kill_splits_chunk(void **state)
{
        struct sbd_output o;
        enum sbd_output_action act;

        (void)state;
        sbd_output_init(&o, 1000, false);
        assert_int_equal(sbd_output_admit(&o, 900, &act), 900);
        assert_int_equal(act, SBD_OUTPUT_DELIVER);
        assert_int_equal(sbd_output_admit(&o, 300, &act), 100);
        assert_int_equal(act, SBD_OUTPUT_KILL);
        assert_true(o.admitted == 1000);
        assert_true(sbd_output_capped(&o));
        /* After the kill: drained, counted, nothing delivered, no second action. */
        assert_int_equal(sbd_output_admit(&o, 4096, &act), 0);
        assert_int_equal(act, SBD_OUTPUT_DELIVER);
        assert_int_equal(sbd_output_admit(&o, 1, &act), 0);
        assert_int_equal(act, SBD_OUTPUT_DELIVER);
        assert_true(o.read == 900 + 300 + 4096 + 1);
        assert_true(o.admitted == 1000);
}

static void test_truncate(void **state)
{
        struct sbd_output o;
        enum sbd_output_action act;
        uint64_t delivered = 0;
        int actions = 0, i;

        (void)state;
        sbd_output_init(&o, 10000, true);
        for (i = 0; i < 100; i++) {
                delivered += sbd_output_admit(&o, 333, &act);
                if (act != SBD_OUTPUT_DELIVER) {
                        assert_int_equal(act, SBD_OUTPUT_TRUNCATE);
                        actions++;
                }
        }
        assert_int_equal(actions, 1);
        assert_true(delivered == 10000);
        assert_true(o.read == 33300);
        assert_true(sbd_output_capped(&o));
}

/* A single chunk far larger than the cap, and a cap of one byte. */
static void test_first_chunk_over(void **state)
{
        struct sbd_output o;
        enum sbd_output_action act;

        (void)state;
        sbd_output_init(&o, 1, false);
        assert_int_equal(sbd_output_admit(&o, 65536, &act), 1);
        assert_int_equal(act, SBD_OUTPUT_KILL);
        sbd_output_init(&o, 1, true);
        assert_int_equal(sbd_output_admit(&o, 2, &act), 1);
        assert_int_equal(act, SBD_OUTPUT_TRUNCATE);
}

/* Empty reads change nothing. */
static void test_zero_chunk(void **state)
{
        struct sbd_output o;
        enum sbd_output_action act;

        (void)state;
        sbd_output_init(&o, 10, false);
        assert_int_equal(sbd_output_admit(&o, 0, &act), 0);
        assert_int_equal(act, SBD_OUTPUT_DELIVER);
        assert_false(sbd_output_capped(&o));
        assert_false(o.passed);
}

/* stdout and stderr share one cap: the caller feeds both through one
 * struct; whatever the interleaving, the total delivered is exactly max. */
static void test_interleaved_streams_share_cap(void **state)
{
        static const size_t chunks[] = { 4096, 17, 65536, 1, 8191, 65536, 3, 65536 };
        struct sbd_output o;
        enum sbd_output_action act;
        uint64_t out = 0, err = 0;
        size_t i;
        int kills = 0;

        (void)state;
        sbd_output_init(&o, 100000, false);
        for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
                size_t len = sbd_output_admit(&o, chunks[i], &act);

                if (i % 2)
                        err += len;
                else
                        out += len;
                kills += act == SBD_OUTPUT_KILL;
        }
        assert_int_equal(kills, 1);
        assert_true(out + err == 100000);
}

/* The count of bytes read saturates instead of wrapping. */
static void test_read_saturates(void **state)
{
        struct sbd_output o;
        enum sbd_output_action act;

        (void)state;
        sbd_output_init(&o, 10, true);
        o.read = UINT64_MAX - 5;
        o.admitted = 10;
        o.passed = true;
        assert_int_equal(sbd_output_admit(&o, 100, &act), 0);
        assert_true(o.read == UINT64_MAX);
        assert_int_equal(act, SBD_OUTPUT_DELIVER);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unlimited),
                cmocka_unit_test(test_exactly_max_is_not_passed),
                cmocka_unit_test(test_kill_splits_chunk),
                cmocka_unit_test(test_truncate),
                cmocka_unit_test(test_first_chunk_over),
                cmocka_unit_test(test_zero_chunk),
                cmocka_unit_test(test_interleaved_streams_share_cap),
                cmocka_unit_test(test_read_saturates),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
