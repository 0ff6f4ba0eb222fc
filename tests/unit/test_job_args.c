/* test_job_args.c — the argv a job keeps for inspect and list: cut to
 * SBP_ARGV_KEPT_MAX bytes (each entry + 1), marked, never more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/job_args.h"

static size_t kept_bytes(char **v, uint32_t n)
{
        size_t sum = 0;

        for (uint32_t i = 0; i < n; i++)
                sum += strlen(v[i]) + 1;
        return sum;
}

static char **make(uint32_t n, size_t len)
{
        char **src = calloc(n + 1, sizeof(char *)), **v;

        assert_non_null(src);
        for (uint32_t i = 0; i < n; i++) {
                src[i] = malloc(len + 1);
                assert_non_null(src[i]);
                memset(src[i], 'a' + (int)(i % 26), len);
                src[i][len] = '\0';
        }
        v = sbd_job_argv_copy(src, n);
        assert_non_null(v);
        for (uint32_t i = 0; i < n; i++)
                free(src[i]);
        free(src);
        return v;
}

static void test_small_argv_untouched(void **state)
{
        char **v = make(3, 10);
        uint32_t n = 3;
        bool cut = false;

        (void)state;
        assert_int_equal(sbd_job_argv_keep(&v, &n, &cut), 0);
        assert_false(cut);
        assert_int_equal(n, 3);
        assert_null(v[3]);
        sbd_job_argv_free(v);
}

static void test_exactly_the_bound_untouched(void **state)
{
        /* 4 entries of 1023 bytes + NUL = 4096. */
        char **v = make(4, 1023);
        uint32_t n = 4;
        bool cut = false;

        (void)state;
        assert_int_equal(sbd_job_argv_keep(&v, &n, &cut), 0);
        assert_false(cut);
        assert_int_equal(n, 4);
        sbd_job_argv_free(v);
}

static void test_long_entry_cut(void **state)
{
        char **v = make(16, 60000);
        uint32_t n = 16;
        bool cut = false;

        (void)state;
        assert_int_equal(sbd_job_argv_keep(&v, &n, &cut), 0);
        assert_true(cut);
        assert_int_equal(n, 1);
        assert_int_equal(kept_bytes(v, n), SBP_ARGV_KEPT_MAX);
        assert_int_equal(v[0][0], 'a');
        assert_null(v[1]);
        sbd_job_argv_free(v);
}

static void test_many_entries_dropped(void **state)
{
        char **v = make(1000, 9);     /* 10 bytes each */
        uint32_t n = 1000;
        bool cut = false;

        (void)state;
        assert_int_equal(sbd_job_argv_keep(&v, &n, &cut), 0);
        assert_true(cut);
        assert_true(kept_bytes(v, n) <= SBP_ARGV_KEPT_MAX);
        /* 409 whole entries (4090 bytes), then 6 left: 5 bytes of the next one. */
        assert_int_equal(n, 410);
        assert_int_equal(strlen(v[409]), 5);
        assert_null(v[410]);
        sbd_job_argv_free(v);
}

/* The cut never splits a UTF-8 sequence: a str entry stays a str on the
 * wire (an entry cut inside a sequence would go out as bin). */
static void test_cut_at_utf8_boundary(void **state)
{
        /* "e" then 3-byte euro signs: the bound falls inside one of them. */
        char *src[2] = { NULL, NULL };
        size_t len = 1 + 3 * 2000;
        char **v;
        uint32_t n = 1;
        bool cut = false;

        (void)state;
        src[0] = malloc(len + 1);
        assert_non_null(src[0]);
        src[0][0] = 'e';
        for (size_t i = 1; i < len; i += 3)
                memcpy(src[0] + i, "\xe2\x82\xac", 3);
        src[0][len] = '\0';
        v = sbd_job_argv_copy(src, 1);
        free(src[0]);
        assert_non_null(v);
        assert_int_equal(sbd_job_argv_keep(&v, &n, &cut), 0);
        assert_true(cut);
        assert_int_equal(n, 1);
        /* 4095 bytes would fit: 'e' + 1364 whole signs is 4093, the next
         * one would end past the bound. */
        assert_int_equal(strlen(v[0]), 1 + 3 * 1364);
        assert_int_equal((unsigned char)v[0][strlen(v[0]) - 1], 0xac);
        sbd_job_argv_free(v);
}

static const char *env_get(char **env, const char *key)
{
        size_t kl = strlen(key);

        for (; *env; env++)
                if (strncmp(*env, key, kl) == 0 && (*env)[kl] == '=')
                        return *env + kl + 1;
        return NULL;
}

/* An allowlist job's environment names the proxy on its loopback, in both
 * spellings, and keeps the job's own loopback direct; other jobs get none
 * of it; the client's env still wins. */
static void test_env_proxy(void **state)
{
        static const char *const keys[] = { "HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
                                            "https_proxy", "ALL_PROXY", "all_proxy" };
        char *client_env[] = { "https_proxy=http://127.0.0.1:9", NULL };
        char *argv[] = { "true", NULL };
        struct sbp_exec_params p;
        struct sbp_error err;
        char **env;
        size_t i;

        (void)state;
        memset(&p, 0, sizeof(p));
        p.argv = argv;
        p.argc = 1;
        env = sbd_job_env_build(&p, NULL, false, &err);
        assert_non_null(env);
        assert_null(env_get(env, "HTTP_PROXY"));
        assert_null(env_get(env, "no_proxy"));
        free(env);

        env = sbd_job_env_build(&p, NULL, true, &err);
        assert_non_null(env);
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                assert_string_equal(env_get(env, keys[i]), "http://127.0.0.1:3128");
        assert_string_equal(env_get(env, "NO_PROXY"), "localhost,127.0.0.1,::1");
        assert_string_equal(env_get(env, "no_proxy"), "localhost,127.0.0.1,::1");
        assert_string_equal(env_get(env, "HOME"), "/work");
        free(env);

        p.env = client_env;
        p.envc = 1;
        env = sbd_job_env_build(&p, NULL, true, &err);
        assert_non_null(env);
        assert_string_equal(env_get(env, "https_proxy"), "http://127.0.0.1:9");
        free(env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_small_argv_untouched),
                cmocka_unit_test(test_exactly_the_bound_untouched),
                cmocka_unit_test(test_long_entry_cut),
                cmocka_unit_test(test_many_entries_dropped),
                cmocka_unit_test(test_cut_at_utf8_boundary),
                cmocka_unit_test(test_env_proxy),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
