/* test_win_token.c — a Windows job's restricted token as pure code
 * (backends/windows/token_plan.c): the AppContainer's name, the job
 * directory's DACL and label, which token a job gets, and what its
 * enforcement record says of it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/windows/jobobject.h"
#include "backends/windows/token_plan.h"
#include "daemon/transport/pipe_sddl.h"

/* CreateAppContainerProfile takes [-_. A-Za-z0-9]{1,64}. */
static void assert_container_name_valid(const char *s)
{
        size_t n = strlen(s);

        assert_true(n >= 1 && n <= SB_WIN_APPCONTAINER_NAME_MAX);
        for (size_t i = 0; i < n; i++)
                assert_true((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                            (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
                            s[i] == '.' || s[i] == ' ');
}

static void test_name_golden(void **state)
{
        char name[SB_WIN_APPCONTAINER_NAME_MAX + 1];

        /* FNV-1a of "C:\ProgramData\skillbox" is 0x0758cea6. */
        assert_int_equal(sb_win_appcontainer_name("C:\\ProgramData\\skillbox", "j-1a2b", name,
                                                  sizeof(name)),
                         (int)strlen("skillbox.0758cea6.j-1a2b"));
        assert_string_equal(name, "skillbox.0758cea6.j-1a2b");
        assert_container_name_valid(name);
}

/* The longest job id the protocol makes still fits the 64 characters. */
static void test_name_longest_id(void **state)
{
        char id[SBP_JOB_ID_MAX + 1], name[SB_WIN_APPCONTAINER_NAME_MAX + 1];

        memset(id, 'z', SBP_JOB_ID_MAX);
        id[SBP_JOB_ID_MAX] = '\0';
        assert_true(sb_win_appcontainer_name("C:\\x", id, name, sizeof(name)) > 0);
        assert_container_name_valid(name);
        assert_non_null(strstr(name, id));
}

/* Two daemons with their own state directories never share a container;
 * one daemon's two jobs neither. */
static void test_name_distinct(void **state)
{
        char a[SB_WIN_APPCONTAINER_NAME_MAX + 1], b[SB_WIN_APPCONTAINER_NAME_MAX + 1];

        assert_true(sb_win_appcontainer_name("C:\\sb\\one", "j-1", a, sizeof(a)) > 0);
        assert_true(sb_win_appcontainer_name("C:\\sb\\two", "j-1", b, sizeof(b)) > 0);
        assert_string_not_equal(a, b);
        assert_true(sb_win_appcontainer_name("C:\\sb\\one", "j-2", b, sizeof(b)) > 0);
        assert_string_not_equal(a, b);
}

/* Only the protocol's job ids: nothing else reaches the name. */
static void test_name_refused(void **state)
{
        static const char *const bad[] = {
                "", "J-1", "j_1", "j.1", "j 1", "j\\1", "j/1", "j:1", "j-\xc3\xa9",
                "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",     /* 33 */
        };
        char name[SB_WIN_APPCONTAINER_NAME_MAX + 1];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                strcpy(name, "x");
                assert_int_equal(sb_win_appcontainer_name("C:\\sb", bad[i], name, sizeof(name)),
                                 -EINVAL);
                assert_string_equal(name, "");
        }
        assert_int_equal(sb_win_appcontainer_name(NULL, "j-1", name, sizeof(name)), -EINVAL);
        assert_int_equal(sb_win_appcontainer_name("C:\\sb", "j-1", name, 10), -ENOSPC);
        assert_string_equal(name, "");
}

static void test_dir_sddl_golden(void **state)
{
        const char *sid = "S-1-15-2-1982429040-3180578493-1430468612-4100117713-1637463302-"
                          "3009447232-2357425484";
        char buf[256], want[256];

        strcpy(want, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;");
        strcat(want, sid);
        strcat(want, ")");
        assert_int_equal(sb_win_job_dir_sddl(sid, NULL, buf, sizeof(buf)), (int)strlen(want));
        assert_string_equal(buf, want);
}

/* Low-integrity mode: the token's user and the job's own SID. */
static void test_dir_sddl_two_golden(void **state)
{
        char buf[256];

        assert_true(sb_win_job_dir_sddl("S-1-5-21-1-2-3-1001", "S-1-9-123-7", buf,
                                        sizeof(buf)) > 0);
        assert_string_equal(buf, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
                                 "(A;OICI;0x1301bf;;;S-1-5-21-1-2-3-1001)"
                                 "(A;OICI;0x1301bf;;;S-1-9-123-7)");
}

/* The job's SID: a valid SID string, one per identity and per daemon. */
static void test_job_sid(void **state)
{
        char a[64], b[64];

        assert_int_equal(sb_win_job_sid("C:\\ProgramData\\skillbox", 61003, a, sizeof(a)),
                         (int)strlen("S-1-9-123260582-61003"));
        assert_string_equal(a, "S-1-9-123260582-61003");
        assert_true(sbd_sid_string_valid(a));
        assert_true(sb_win_job_sid("C:\\ProgramData\\skillbox", 61004, b, sizeof(b)) > 0);
        assert_string_not_equal(a, b);
        assert_true(sb_win_job_sid("C:\\other", 61003, b, sizeof(b)) > 0);
        assert_string_not_equal(a, b);
        assert_int_equal(sb_win_job_sid(NULL, 1, a, sizeof(a)), -EINVAL);
        assert_int_equal(sb_win_job_sid("C:\\x", 1, a, 8), -ENOSPC);
        assert_string_equal(a, "");
}

static void test_default_dacl(void **state)
{
        char buf[256];

        assert_true(sb_win_token_default_dacl_sddl("S-1-5-18", "S-1-9-5-7", buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "D:(A;;GA;;;SY)(A;;GA;;;S-1-5-18)(A;;GA;;;S-1-9-5-7)");
        assert_int_equal(sb_win_token_default_dacl_sddl("S-1-5-18", "S-1-9-5-7)(A;;GA;;;WD",
                                                        buf, sizeof(buf)), -EINVAL);
        assert_string_equal(buf, "");
        assert_int_equal(sb_win_token_default_dacl_sddl("WD", "S-1-9-5-7", buf, sizeof(buf)),
                         -EINVAL);
        assert_int_equal(sb_win_token_default_dacl_sddl("S-1-5-18", NULL, buf, sizeof(buf)),
                         -EINVAL);
        assert_int_equal(sb_win_token_default_dacl_sddl("S-1-5-18", "S-1-9-5-7", buf, 16),
                         -ENOSPC);
}

/* The grantee's rights: Modify, never WRITE_DAC, WRITE_OWNER or
 * FILE_DELETE_CHILD on what it does not own. */
static void test_dir_rights(void **state)
{
        unsigned long rights = strtoul(SB_WIN_JOB_DIR_RIGHTS, NULL, 16);

        assert_int_equal(rights & 0x40000, 0);          /* WRITE_DAC */
        assert_int_equal(rights & 0x80000, 0);          /* WRITE_OWNER */
        assert_int_equal(rights & 0x40, 0);             /* FILE_DELETE_CHILD */
        assert_int_equal(rights & 0x10000000, 0);       /* GENERIC_ALL */
        assert_int_equal(rights & 0x3, 0x3);            /* read and write data */
        assert_int_equal(rights & 0x10000, 0x10000);    /* DELETE */
}

/* No SDDL can be injected through the SID. */
static void test_dir_sddl_refused(void **state)
{
        static const char *const bad[] = {
                "", "WD", "BA", "S-1-15-2-1)(A;OICI;FA;;;WD", "S-1-15-2-1;", "s-1-15-2-1",
                "S-1-15-2-", "S-1-15-2-1 ",
        };
        char buf[256];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                strcpy(buf, "x");
                assert_int_equal(sb_win_job_dir_sddl(bad[i], NULL, buf, sizeof(buf)), -EINVAL);
                assert_string_equal(buf, "");
                assert_int_equal(sb_win_job_dir_sddl("S-1-5-18", bad[i], buf, sizeof(buf)),
                                 -EINVAL);
                assert_string_equal(buf, "");
        }
        assert_int_equal(sb_win_job_dir_sddl(NULL, NULL, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(sb_win_job_dir_sddl("S-1-5-18", NULL, buf, 20), -ENOSPC);
        assert_string_equal(buf, "");
}

/* Low integrity, no write up, inherited by files and directories alike. */
static void test_low_label(void **state)
{
        assert_string_equal(SB_WIN_LOW_LABEL_SDDL, "S:(ML;OICI;NW;;;LW)");
}

/* elevated, AppContainer made, low-integrity token made -> the token. */
static void test_choice_table(void **state)
{
        static const struct {
                bool elevated, ac, low;
                enum sb_win_token_mode want;
        } t[] = {
                { true, true, true, SB_WIN_TOKEN_APPCONTAINER },
                { true, true, false, SB_WIN_TOKEN_APPCONTAINER },
                { true, false, true, SB_WIN_TOKEN_LOW_INTEGRITY },
                { true, false, false, SB_WIN_TOKEN_NONE },
                /* Not elevated: never an AppContainer, whatever it says. */
                { false, true, true, SB_WIN_TOKEN_LOW_INTEGRITY },
                { false, true, false, SB_WIN_TOKEN_NONE },
                { false, false, true, SB_WIN_TOKEN_LOW_INTEGRITY },
                { false, false, false, SB_WIN_TOKEN_NONE },
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
                assert_int_equal(sb_win_token_mode_choose(t[i].elevated, t[i].ac, t[i].low),
                                 t[i].want);
        assert_string_equal(sb_win_token_mode_name(SB_WIN_TOKEN_APPCONTAINER), "appcontainer");
        assert_string_equal(sb_win_token_mode_name(SB_WIN_TOKEN_LOW_INTEGRITY), "low integrity");
        assert_string_equal(sb_win_token_mode_name(SB_WIN_TOKEN_NONE), "none");
}

static void record(enum sb_win_token_mode m, enum sb_network net, struct sbp_enforced *e)
{
        struct sb_win_job_limits l;
        struct sb_policy p;

        memset(&p, 0, sizeof(p));
        p.network = net;
        assert_int_equal(sb_win_job_limits_from_policy(&p, 2, &l), 0);
        sb_win_enforced(&l, &p, e);
        sb_win_enforced_token(m, &p, e);
}

/* Only an AppContainer without network capabilities has no network; the
 * low-integrity token keeps the host's, and no mode claims a namespace,
 * a uid or dropped Linux capabilities. */
static void test_enforced_network(void **state)
{
        struct sbp_enforced e;

        record(SB_WIN_TOKEN_APPCONTAINER, SB_NETWORK_NONE, &e);
        assert_string_equal(e.network, "none");
        assert_string_equal(e.token, "appcontainer");
        record(SB_WIN_TOKEN_APPCONTAINER, SB_NETWORK_HOST, &e);
        assert_string_equal(e.network, "host");
        record(SB_WIN_TOKEN_LOW_INTEGRITY, SB_NETWORK_NONE, &e);
        assert_string_equal(e.network, "");
        assert_string_equal(e.token, "low_integrity");
        record(SB_WIN_TOKEN_LOW_INTEGRITY, SB_NETWORK_HOST, &e);
        assert_string_equal(e.network, "host");
        record(SB_WIN_TOKEN_NONE, SB_NETWORK_NONE, &e);
        assert_string_equal(e.network, "");
        assert_string_equal(e.token, "");
        for (int m = SB_WIN_TOKEN_NONE; m <= SB_WIN_TOKEN_LOW_INTEGRITY; m++) {
                record((enum sb_win_token_mode)m, SB_NETWORK_NONE, &e);
                assert_int_equal(e.namespaces, 0);
                assert_int_equal(e.uid, -1);
                assert_false(e.capabilities_dropped);
                assert_false(e.seccomp);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_golden),
                cmocka_unit_test(test_name_longest_id),
                cmocka_unit_test(test_name_distinct),
                cmocka_unit_test(test_name_refused),
                cmocka_unit_test(test_dir_sddl_golden),
                cmocka_unit_test(test_dir_sddl_two_golden),
                cmocka_unit_test(test_job_sid),
                cmocka_unit_test(test_default_dacl),
                cmocka_unit_test(test_dir_rights),
                cmocka_unit_test(test_dir_sddl_refused),
                cmocka_unit_test(test_low_label),
                cmocka_unit_test(test_choice_table),
                cmocka_unit_test(test_enforced_network),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
