/* test_protocol_doc.c — protocol/PROTOCOL.md covers the codec's tables: every
 * method and notification has a "### `name`" section heading, and every wire
 * error code and job state name appears as `name` in the text. Reads the file
 * from $SKILLBOX_SOURCE_ROOT (set by meson).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/sbp.h"

static char *doc;

static int load(void **state)
{
        const char *root = getenv("SKILLBOX_SOURCE_ROOT");
        char path[4096];
        FILE *f;
        long n;

        (void)state;
        if (!root)
                root = ".";
        snprintf(path, sizeof(path), "%s/protocol/PROTOCOL.md", root);
        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "cannot open %s\n", path);
                return -1;
        }
        if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                fclose(f);
                return -1;
        }
        doc = calloc(1, (size_t)n + 1);
        if (!doc || fread(doc, 1, (size_t)n, f) != (size_t)n) {
                fclose(f);
                return -1;
        }
        fclose(f);
        return 0;
}

static int unload(void **state)
{
        (void)state;
        free(doc);
        return 0;
}

/* A line that is exactly "### `name`". */
static bool has_heading(const char *name)
{
        char want[128];
        size_t n = (size_t)snprintf(want, sizeof(want), "### `%s`", name);

        for (const char *p = doc; (p = strstr(p, want)); p += n)
                if ((p == doc || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

static bool mentions(const char *name)
{
        char want[128];

        snprintf(want, sizeof(want), "`%s`", name);
        return strstr(doc, want) != NULL;
}

static void test_methods(void **state)
{
        static const char *const methods[] = {
#define M(m) #m,
                SBP_METHODS(M)
#undef M
        };

        (void)state;
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
                if (!has_heading(methods[i]))
                        fail_msg("PROTOCOL.md has no \"### `%s`\" section", methods[i]);
}

static void test_notifications(void **state)
{
        static const char *const notes[] = {
#define N(m) #m,
                SBP_NOTIFICATIONS(N)
#undef N
        };

        (void)state;
        for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
                if (!has_heading(notes[i]))
                        fail_msg("PROTOCOL.md has no \"### `%s`\" section", notes[i]);
}

static void test_errors(void **state)
{
        (void)state;
        for (int c = SBP_OK + 1; c < SBP_E__COUNT; c++)
                if (!mentions(sbp_error_name(c)))
                        fail_msg("PROTOCOL.md does not name error `%s`", sbp_error_name(c));
}

static void test_states(void **state)
{
        (void)state;
        for (int s = 0; s < SBP_JOB__COUNT; s++)
                if (!mentions(sbp_job_state_name(s)))
                        fail_msg("PROTOCOL.md does not name job state `%s`", sbp_job_state_name(s));
}

static void test_limits(void **state)
{
        static const char *const limits[] = {
                "SBP_MESSAGE_MAX", "SBP_DEPTH_MAX", "SBP_METHOD_LEN_MAX", "SBP_ARGV_COUNT_MAX",
                "SBP_ENV_COUNT_MAX", "SBP_STRING_MAX", "SBP_ARGS_BYTES_MAX", "SBP_DATA_MAX",
                "SBP_JOB_ID_MAX", "SBP_NAME_MAX", "SBP_TEXT_MAX",
        };

        (void)state;
        for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
                if (!mentions(limits[i]))
                        fail_msg("PROTOCOL.md does not name limit `%s`", limits[i]);
}

static void test_namespaces(void **state)
{
        char quoted[32];
        const char *n;

        (void)state;
        for (unsigned b = 0; (n = sbp_ns_name(b)); b++) {
                snprintf(quoted, sizeof(quoted), "\"%s\"", n);
                if (!strstr(doc, quoted))
                        fail_msg("PROTOCOL.md does not name namespace %s", quoted);
        }
}

static void test_network_modes(void **state)
{
        char quoted[32];
        const char *n;

        (void)state;
        if (!strstr(doc, "`network_modes`"))
                fail_msg("PROTOCOL.md does not describe hello's network_modes");
        for (unsigned b = 0; (n = sbp_network_mode_name(b)); b++) {
                snprintf(quoted, sizeof(quoted), "\"%s\"", n);
                if (!strstr(doc, quoted))
                        fail_msg("PROTOCOL.md does not name network mode %s", quoted);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_methods),
                cmocka_unit_test(test_notifications),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_states),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_namespaces),
                cmocka_unit_test(test_network_modes),
        };

        return cmocka_run_group_tests(tests, load, unload);
}
