/* test_units.c — skillboxctl's human units (sizes, durations, integers) and
 * its JSON string escaping, including invalid UTF-8 replaced by U+FFFD.
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

#include "client/json.h"
#include "client/units.h"

static void size_ok(const char *s, uint64_t want)
{
        uint64_t v = 12345;
        int r = sbctl_parse_size(s, &v);

        if (r != 0 || v != want)
                fail_msg("size '%s': r=%d v=%llu, want %llu", s, r, (unsigned long long)v,
                         (unsigned long long)want);
}

static void size_bad(const char *s, int want)
{
        uint64_t v = 12345;
        int r = sbctl_parse_size(s, &v);

        if (r != want)
                fail_msg("size '%s': r=%d, want %d", s, r, want);
        assert_int_equal(v, 12345);   /* untouched on failure */
}

static void test_size_valid(void **state)
{
        (void)state;
        size_ok("0", 0);
        size_ok("512", 512);
        size_ok("512B", 512);
        size_ok("512K", 512ull << 10);
        size_ok("512k", 512ull << 10);
        size_ok("512KiB", 512ull << 10);
        size_ok("512KB", 512ull << 10);
        size_ok("512M", 512ull << 20);
        size_ok("1.5G", 1610612736ull);
        size_ok("2G", 2ull << 30);
        size_ok("2GiB", 2ull << 30);
        size_ok("1T", 1ull << 40);
        size_ok("0.5K", 512);
        size_ok("1.0", 1);                      /* a zero fraction is no fraction */
        size_ok("18446744073709551615", UINT64_MAX);
        size_ok("16777215T", 16777215ull << 40);
}

static void test_size_invalid(void **state)
{
        (void)state;
        size_bad("", -EINVAL);
        size_bad("lots", -EINVAL);
        size_bad("-1", -EINVAL);
        size_bad("-1M", -EINVAL);
        size_bad("+1M", -EINVAL);
        size_bad(" 1M", -EINVAL);
        size_bad("1M ", -EINVAL);
        size_bad("1X", -EINVAL);                /* unknown suffix */
        size_bad("1P", -EINVAL);
        size_bad("1MM", -EINVAL);
        size_bad("1iB", -EINVAL);               /* iB needs a prefix */
        size_bad("1.5", -EINVAL);               /* fractional bytes */
        size_bad("1.5B", -EINVAL);
        size_bad("1.", -EINVAL);
        size_bad(".5G", -EINVAL);
        size_bad("1..5G", -EINVAL);
        size_bad("M", -EINVAL);
        size_bad("18446744073709551616", -ERANGE);   /* overflow */
        size_bad("16777216T", -ERANGE);
        size_bad("99999999999999999999999G", -ERANGE);
        size_bad(NULL, -EINVAL);
}

static void dur_ok(const char *s, uint64_t want)
{
        uint64_t v = 12345;
        int r = sbctl_parse_duration_ms(s, &v);

        if (r != 0 || v != want)
                fail_msg("duration '%s': r=%d v=%llu, want %llu", s, r, (unsigned long long)v,
                         (unsigned long long)want);
}

static void dur_bad(const char *s, int want)
{
        uint64_t v = 12345;
        int r = sbctl_parse_duration_ms(s, &v);

        if (r != want)
                fail_msg("duration '%s': r=%d, want %d", s, r, want);
        assert_int_equal(v, 12345);
}

static void test_duration_valid(void **state)
{
        (void)state;
        dur_ok("250ms", 250);
        dur_ok("30s", 30000);
        dur_ok("30", 30000);                    /* plain number = seconds */
        dur_ok("0", 0);
        dur_ok("1.5m", 90000);
        dur_ok("2min", 120000);
        dur_ok("2h", 7200000);
        dur_ok("0.5", 500);
        dur_ok("1.0005s", 1000);                /* below 1 ms truncates */
        dur_ok("18446744073709551615ms", UINT64_MAX);
}

static void test_duration_invalid(void **state)
{
        (void)state;
        dur_bad("", -EINVAL);
        dur_bad("soon", -EINVAL);
        dur_bad("-1s", -EINVAL);
        dur_bad("1d", -EINVAL);                 /* unknown suffix */
        dur_bad("1 s", -EINVAL);
        dur_bad("1S", -EINVAL);
        dur_bad("0.5ms", -EINVAL);              /* fractional milliseconds */
        dur_bad("1.s", -EINVAL);
        dur_bad("ms", -EINVAL);
        dur_bad("18446744073709551616ms", -ERANGE);
        dur_bad("18446744073709551615s", -ERANGE);
        dur_bad("5124095576030432h", -ERANGE);
        dur_bad(NULL, -EINVAL);
}

static void test_uint(void **state)
{
        uint64_t v = 7;

        (void)state;
        assert_int_equal(sbctl_parse_uint("64", 100, &v), 0);
        assert_int_equal(v, 64);
        assert_int_equal(sbctl_parse_uint("100", 100, &v), 0);
        assert_int_equal(v, 100);
        assert_int_equal(sbctl_parse_uint("101", 100, &v), -ERANGE);
        assert_int_equal(sbctl_parse_uint("", 100, &v), -EINVAL);
        assert_int_equal(sbctl_parse_uint("-1", 100, &v), -EINVAL);
        assert_int_equal(sbctl_parse_uint("1k", 100, &v), -EINVAL);
        assert_int_equal(sbctl_parse_uint("99999999999999999999", UINT64_MAX, &v), -ERANGE);
        assert_int_equal(v, 100);
}

static void test_format(void **state)
{
        char buf[32];

        (void)state;
        sbctl_format_size(512, buf, sizeof(buf));
        assert_string_equal(buf, "512B");
        sbctl_format_size(1536, buf, sizeof(buf));
        assert_string_equal(buf, "1.5K");
        sbctl_format_size(512ull << 20, buf, sizeof(buf));
        assert_string_equal(buf, "512.0M");
        sbctl_format_size(1610612736ull, buf, sizeof(buf));
        assert_string_equal(buf, "1.5G");
        sbctl_format_size(UINT64_MAX, buf, sizeof(buf));
        assert_string_equal(buf, "15.9E");
        sbctl_format_duration(250, buf, sizeof(buf));
        assert_string_equal(buf, "250ms");
        sbctl_format_duration(1500, buf, sizeof(buf));
        assert_string_equal(buf, "1.5s");
        sbctl_format_duration(125000, buf, sizeof(buf));
        assert_string_equal(buf, "2m05s");
        sbctl_format_duration(3720000, buf, sizeof(buf));
        assert_string_equal(buf, "1h02m");
}

/* JSON-escape len bytes and compare with want. */
static void json_is(const char *in, size_t len, const char *want)
{
        char *out = NULL;
        size_t out_len = 0;
        FILE *f = open_memstream(&out, &out_len);

        assert_non_null(f);
        sbctl_json_string(f, in, len);
        assert_int_equal(fclose(f), 0);
        if (strcmp(out, want) != 0)
                fail_msg("json of %zu bytes: got %s, want %s", len, out, want);
        free(out);
}

#define JSON_IS(lit, want) json_is((lit), sizeof(lit) - 1, (want))
#define FFFD "\xef\xbf\xbd"

static void test_json_escape(void **state)
{
        (void)state;
        JSON_IS("", "\"\"");
        JSON_IS("hi\n", "\"hi\\n\"");
        JSON_IS("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
        JSON_IS("\b\f\r\t", "\"\\b\\f\\r\\t\"");
        JSON_IS("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
        JSON_IS("nul\0byte", "\"nul\\u0000byte\"");
        /* valid UTF-8 passes through: é, €, U+10FFFF */
        JSON_IS("\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf", "\"\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf\"");
}

static void test_json_invalid_utf8(void **state)
{
        (void)state;
        JSON_IS("\xff", "\"" FFFD "\"");                        /* never valid */
        JSON_IS("a\x80z", "\"a" FFFD "z\"");                    /* stray continuation */
        JSON_IS("\xc0\xaf", "\"" FFFD FFFD "\"");               /* overlong lead */
        JSON_IS("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");      /* overlong 3-byte */
        JSON_IS("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");      /* surrogate D800 */
        JSON_IS("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* above U+10FFFF */
        JSON_IS("\xe2\x82", "\"" FFFD "\"");                    /* truncated at end */
        JSON_IS("\xe2\x82z", "\"" FFFD "z\"");                  /* truncated before ASCII */
        JSON_IS("\xf0\x9f\x98", "\"" FFFD "\"");
        JSON_IS("ok\xf0\x9f\x98\x80", "\"ok\xf0\x9f\x98\x80\"");  /* U+1F600 */
        JSON_IS("\xc3\n", "\"" FFFD "\\n\"");
}

static void test_json_cstr_null(void **state)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        (void)state;
        assert_non_null(f);
        sbctl_json_cstr(f, NULL);
        fputc(' ', f);
        sbctl_json_cstr(f, "x");
        assert_int_equal(fclose(f), 0);
        assert_string_equal(out, "null \"x\"");
        free(out);
}

/* Wire nils print as null; the record carries every documented field. */
static void test_json_result_nulls(void **state)
{
        struct sb_job_result r;
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        (void)state;
        assert_non_null(f);
        memset(&r, 0, sizeof(r));
        strcpy(r.job, "3f9a0c12be47");
        r.state = SB_JOB_SIGNALED;
        r.exit_code = -1;
        r.signal = 9;
        r.tasks_peak = -1;
        r.enforced.uid = -1;
        r.enforced.gid = 61003;
        r.enforced.namespaces = SB_NS_PID | SB_NS_NET;
        fputc('{', f);
        sbctl_json_result_members(f, &r);
        fputc('}', f);
        assert_int_equal(fclose(f), 0);
        assert_non_null(strstr(out, "\"job\": \"3f9a0c12be47\""));
        assert_non_null(strstr(out, "\"state\": \"signaled\""));
        assert_non_null(strstr(out, "\"exit_code\": null"));
        assert_non_null(strstr(out, "\"signal\": 9"));
        assert_non_null(strstr(out, "\"tasks_peak\": null"));
        assert_non_null(strstr(out, "\"error\": null"));
        assert_non_null(strstr(out, "\"uid\": null"));
        assert_non_null(strstr(out, "\"gid\": 61003"));
        assert_non_null(strstr(out, "\"namespaces\": [\"pid\", \"net\"]"));
        assert_non_null(strstr(out, "\"output_truncated\": false"));
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size_valid),
                cmocka_unit_test(test_size_invalid),
                cmocka_unit_test(test_duration_valid),
                cmocka_unit_test(test_duration_invalid),
                cmocka_unit_test(test_uint),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_json_escape),
                cmocka_unit_test(test_json_invalid_utf8),
                cmocka_unit_test(test_json_cstr_null),
                cmocka_unit_test(test_json_result_nulls),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
