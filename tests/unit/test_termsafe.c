/* test_termsafe.c — skillboxctl's terminal filter for job output: text and
 * \n \t \r pass, every other control is shown (caret form, \u00XX for C1),
 * invalid UTF-8 as \xNN, whatever the chunk boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/termsafe.h"

/* Filter in chunks of `step` bytes (0: all at once), then finish. */
static void expect_step(const char *in, size_t len, size_t step, const char *want)
{
        char *out = malloc(SBCTL_TERMSAFE_OUT_MAX(len));
        struct sbctl_termsafe t = { 0 };
        size_t n = 0, off = 0;

        assert_non_null(out);
        if (!step)
                step = len ? len : 1;
        while (off < len) {
                size_t k = len - off < step ? len - off : step;

                n += sbctl_termsafe_filter(&t, in + off, k, out + n);
                off += k;
        }
        n += sbctl_termsafe_finish(&t, out + n);
        if (n != strlen(want) || memcmp(out, want, n) != 0)
                fail_msg("filter (step %zu) of %zu bytes gave \"%.*s\", want \"%s\"", step, len,
                         (int)n, out, want);
        free(out);
}

static void expect(const char *in, size_t len, const char *want)
{
        for (size_t step = 0; step <= 4; step++)
                expect_step(in, len, step, want);
}

#define EXPECT(lit, want) expect(lit, sizeof(lit) - 1, want)

static void test_text_passes(void **state)
{
        (void)state;
        EXPECT("hello, world\n", "hello, world\n");
        EXPECT("a\tb\r\n", "a\tb\r\n");
        EXPECT("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
        EXPECT("\xc2\xa0\xef\xbf\xbd\xf4\x8f\xbf\xbf", "\xc2\xa0\xef\xbf\xbd\xf4\x8f\xbf\xbf");
        EXPECT("", "");
}

static void test_controls_shown(void **state)
{
        (void)state;
        /* Clipboard write, screen clear, title, bell, backspace, DEL, NUL. */
        EXPECT("\x1b]52;c;aGk=\x07", "^[]52;c;aGk=^G");
        EXPECT("\x1b[2J\x1b[H", "^[[2J^[[H");
        EXPECT("x\by\x7fz", "x^Hy^?z");
        expect("a\0b", 3, "a^@b");
        /* C1 controls as UTF-8 (CSI, OSC, ST) and as lone 8-bit bytes. */
        EXPECT("\xc2\x9b" "2J\xc2\x9d" "0;t\xc2\x9c", "\\u009b2J\\u009d0;t\\u009c");
        EXPECT("\x9b" "2J", "\\x9b2J");
}

static void test_invalid_utf8_shown(void **state)
{
        (void)state;
        EXPECT("\xff\xfe", "\\xff\\xfe");
        EXPECT("\xc0\xaf", "\\xc0\\xaf");                 /* overlong / */
        EXPECT("\xe0\x80\xaf", "\\xe0\\x80\\xaf");        /* overlong */
        EXPECT("\xed\xa0\x80", "\\xed\\xa0\\x80");        /* surrogate */
        EXPECT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
        /* A sequence broken off by a control: both shown, nothing swallowed. */
        EXPECT("\xe2\x82\x1b[1m", "\\xe2\\x82^[[1m");
        /* Cut off at the end of the stream. */
        EXPECT("ok\xf0\x9f", "ok\\xf0\\x9f");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_passes),
                cmocka_unit_test(test_controls_shown),
                cmocka_unit_test(test_invalid_utf8_shown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
