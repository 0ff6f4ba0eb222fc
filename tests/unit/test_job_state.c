/* test_job_state.c — the daemon's job-end rules: final-state precedence for
 * every combination of facts, every kill reason, kill-reason merging and the
 * legal state transitions. Pure logic from daemon/job_state.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/job_state.h"

static enum sbp_job_state end_state(bool setup_failed, enum sbd_kill_reason why, bool oom,
                                    int32_t exit_code, int32_t sig)
{
        struct sbd_job_end e = {
                .setup_failed = setup_failed,
                .kill_reason = why,
                .oom = oom,
                .exit_code = exit_code,
                .signal = sig,
        };

        return sbd_job_final_state(&e);
}

static void test_plain_exit(void **state)
{
        (void)state;
        assert_int_equal(end_state(false, SBD_KILL_NONE, false, 0, 0), SBP_JOB_EXITED);
        assert_int_equal(end_state(false, SBD_KILL_NONE, false, 3, 0), SBP_JOB_EXITED);
        assert_int_equal(end_state(false, SBD_KILL_NONE, false, 255, 0), SBP_JOB_EXITED);
}

static void test_signaled(void **state)
{
        (void)state;
        assert_int_equal(end_state(false, SBD_KILL_NONE, false, -1, 9), SBP_JOB_SIGNALED);
        assert_int_equal(end_state(false, SBD_KILL_NONE, false, -1, 15), SBP_JOB_SIGNALED);
        assert_int_equal(end_state(false, SBD_KILL_NONE, false, -1, 11), SBP_JOB_SIGNALED);
}

/* Setup failure wins over everything else. */
static void test_setup_failed_first(void **state)
{
        static const enum sbd_kill_reason reasons[] = {
                SBD_KILL_NONE, SBD_KILL_REQUEST, SBD_KILL_TIMEOUT, SBD_KILL_DISCONNECT,
                SBD_KILL_SHUTDOWN, SBD_KILL_OUTPUT_LIMIT,
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
                assert_int_equal(end_state(true, reasons[i], false, -1, 0), SBP_JOB_FAILED);
                assert_int_equal(end_state(true, reasons[i], true, -1, 9), SBP_JOB_FAILED);
                assert_int_equal(end_state(true, reasons[i], false, 127, 0), SBP_JOB_FAILED);
        }
}

/* Timeout beats OOM, a signal and any exit code. */
static void test_timeout(void **state)
{
        (void)state;
        assert_int_equal(end_state(false, SBD_KILL_TIMEOUT, false, -1, 9), SBP_JOB_TIMEOUT);
        assert_int_equal(end_state(false, SBD_KILL_TIMEOUT, true, -1, 9), SBP_JOB_TIMEOUT);
        assert_int_equal(end_state(false, SBD_KILL_TIMEOUT, false, 0, 0), SBP_JOB_TIMEOUT);
}

/* OOM comes from memory events, and beats the daemon's own kills. */
static void test_oom(void **state)
{
        (void)state;
        assert_int_equal(end_state(false, SBD_KILL_NONE, true, -1, 9), SBP_JOB_OOM);
        assert_int_equal(end_state(false, SBD_KILL_NONE, true, 1, 0), SBP_JOB_OOM);
        assert_int_equal(end_state(false, SBD_KILL_REQUEST, true, -1, 9), SBP_JOB_OOM);
        assert_int_equal(end_state(false, SBD_KILL_DISCONNECT, true, -1, 9), SBP_JOB_OOM);
        assert_int_equal(end_state(false, SBD_KILL_SHUTDOWN, true, -1, 9), SBP_JOB_OOM);
}

/* The output cap ranks like the timeout: above oom, signals and exit codes;
 * only setup failure beats it. */
static void test_output_limit(void **state)
{
        (void)state;
        assert_int_equal(end_state(false, SBD_KILL_OUTPUT_LIMIT, false, -1, 9),
                         SBP_JOB_OUTPUT_LIMIT);
        assert_int_equal(end_state(false, SBD_KILL_OUTPUT_LIMIT, true, -1, 9),
                         SBP_JOB_OUTPUT_LIMIT);
        /* The job exited by itself while its excess output was drained. */
        assert_int_equal(end_state(false, SBD_KILL_OUTPUT_LIMIT, false, 0, 0),
                         SBP_JOB_OUTPUT_LIMIT);
        assert_int_equal(end_state(false, SBD_KILL_OUTPUT_LIMIT, false, -1, 13),
                         SBP_JOB_OUTPUT_LIMIT);
        assert_int_equal(end_state(true, SBD_KILL_OUTPUT_LIMIT, false, -1, 9), SBP_JOB_FAILED);
}

/* Timeout vs output_limit, and either vs the other kills: the first reason
 * recorded wins, and the state follows it. */
static void test_output_limit_vs_other_kills(void **state)
{
        static const enum sbd_kill_reason others[] = {
                SBD_KILL_REQUEST, SBD_KILL_TIMEOUT, SBD_KILL_DISCONNECT, SBD_KILL_SHUTDOWN,
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
                enum sbd_kill_reason first_out =
                        sbd_kill_reason_merge(SBD_KILL_OUTPUT_LIMIT, others[i]);
                enum sbd_kill_reason first_other =
                        sbd_kill_reason_merge(others[i], SBD_KILL_OUTPUT_LIMIT);

                assert_int_equal(first_out, SBD_KILL_OUTPUT_LIMIT);
                assert_int_equal(first_other, others[i]);
                assert_int_equal(end_state(false, first_out, false, -1, 9),
                                 SBP_JOB_OUTPUT_LIMIT);
                assert_int_not_equal(end_state(false, first_other, false, -1, 9),
                                     SBP_JOB_OUTPUT_LIMIT);
        }
        assert_int_equal(end_state(false, sbd_kill_reason_merge(SBD_KILL_TIMEOUT,
                                                                SBD_KILL_OUTPUT_LIMIT),
                                   false, -1, 9),
                         SBP_JOB_TIMEOUT);
}

/* SIGKILL alone is never taken for OOM. */
static void test_sigkill_is_not_oom(void **state)
{
        (void)state;
        assert_int_equal(end_state(false, SBD_KILL_NONE, false, -1, 9), SBP_JOB_SIGNALED);
}

static void test_killed_reasons(void **state)
{
        static const enum sbd_kill_reason reasons[] = {
                SBD_KILL_REQUEST, SBD_KILL_DISCONNECT, SBD_KILL_SHUTDOWN,
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
                assert_int_equal(end_state(false, reasons[i], false, -1, 9), SBP_JOB_KILLED);
                /* The job exited by itself between the kill and the reap. */
                assert_int_equal(end_state(false, reasons[i], false, 0, 0), SBP_JOB_KILLED);
                assert_int_equal(end_state(false, reasons[i], false, -1, 15), SBP_JOB_KILLED);
        }
}

static void test_kill_reason_merge(void **state)
{
        (void)state;
        assert_int_equal(sbd_kill_reason_merge(SBD_KILL_NONE, SBD_KILL_REQUEST), SBD_KILL_REQUEST);
        assert_int_equal(sbd_kill_reason_merge(SBD_KILL_NONE, SBD_KILL_NONE), SBD_KILL_NONE);
        /* The first reason caused the kill; later ones do not rewrite it. */
        assert_int_equal(sbd_kill_reason_merge(SBD_KILL_TIMEOUT, SBD_KILL_REQUEST),
                         SBD_KILL_TIMEOUT);
        assert_int_equal(sbd_kill_reason_merge(SBD_KILL_REQUEST, SBD_KILL_TIMEOUT),
                         SBD_KILL_REQUEST);
        assert_int_equal(sbd_kill_reason_merge(SBD_KILL_DISCONNECT, SBD_KILL_SHUTDOWN),
                         SBD_KILL_DISCONNECT);
        assert_int_equal(sbd_kill_reason_merge(SBD_KILL_SHUTDOWN, SBD_KILL_NONE),
                         SBD_KILL_SHUTDOWN);
}

static void test_kill_reason_names(void **state)
{
        (void)state;
        assert_string_equal(sbd_kill_reason_name(SBD_KILL_NONE), "none");
        assert_string_equal(sbd_kill_reason_name(SBD_KILL_REQUEST), "request");
        assert_string_equal(sbd_kill_reason_name(SBD_KILL_TIMEOUT), "timeout");
        assert_string_equal(sbd_kill_reason_name(SBD_KILL_DISCONNECT), "disconnect");
        assert_string_equal(sbd_kill_reason_name(SBD_KILL_SHUTDOWN), "shutdown");
        assert_string_equal(sbd_kill_reason_name(SBD_KILL_OUTPUT_LIMIT), "output_limit");
}

static void test_transitions(void **state)
{
        int from, to;

        (void)state;
        for (from = 0; from < SBP_JOB__COUNT; from++) {
                for (to = 0; to < SBP_JOB__COUNT; to++) {
                        bool ok = sbd_job_state_transition_ok((enum sbp_job_state)from,
                                                              (enum sbp_job_state)to);
                        bool want = from == SBP_JOB_RUNNING && to != SBP_JOB_RUNNING;

                        assert_int_equal(ok, want);
                }
        }
        assert_false(sbd_job_state_transition_ok(SBP_JOB__COUNT, SBP_JOB_EXITED));
        assert_false(sbd_job_state_transition_ok(SBP_JOB_RUNNING, SBP_JOB__COUNT));
        assert_false(sbd_job_state_is_final(SBP_JOB_RUNNING));
        assert_true(sbd_job_state_is_final(SBP_JOB_EXITED));
        assert_true(sbd_job_state_is_final(SBP_JOB_FAILED));
}

/* Every state the precedence can produce is a legal end of a running job. */
static void test_final_states_are_legal(void **state)
{
        int f, why, oom, sig;

        (void)state;
        for (f = 0; f < 2; f++)
                for (why = SBD_KILL_NONE; why <= SBD_KILL_OUTPUT_LIMIT; why++)
                        for (oom = 0; oom < 2; oom++)
                                for (sig = 0; sig < 2; sig++) {
                                        enum sbp_job_state s = end_state(
                                                f, (enum sbd_kill_reason)why, oom,
                                                sig ? -1 : 0, sig ? 9 : 0);

                                        assert_true(sbd_job_state_transition_ok(
                                                SBP_JOB_RUNNING, s));
                                }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain_exit),
                cmocka_unit_test(test_signaled),
                cmocka_unit_test(test_setup_failed_first),
                cmocka_unit_test(test_timeout),
                cmocka_unit_test(test_oom),
                cmocka_unit_test(test_output_limit),
                cmocka_unit_test(test_output_limit_vs_other_kills),
                        cmocka_unit_test(test_sigkill_is_not_oom),
                cmocka_unit_test(test_killed_reasons),
                cmocka_unit_test(test_kill_reason_merge),
                cmocka_unit_test(test_kill_reason_names),
                cmocka_unit_test(test_transitions),
                cmocka_unit_test(test_final_states_are_legal),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
