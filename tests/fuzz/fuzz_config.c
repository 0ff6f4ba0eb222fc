/* fuzz_config.c — libFuzzer harness for the configuration parser.
 *
 * Input: the text of a skillboxd.conf (up to its first NUL: a file with a
 * NUL byte is refused before it is parsed, see sbd_conf_apply_file). It is
 * applied on top of the built-in configuration, as skillboxd --config and
 * SIGHUP do. Checked:
 *  - the result is 0, -EINVAL with at least one "NAME:LINE: ..." error, or
 *    -ENOMEM; every error is a line of its own;
 *  - an accepted configuration holds only what the parser promises: a
 *    "default" profile, valid and distinct profile names, a uid range in
 *    order, known syscall groups;
 *  - --print-config's text (sbd_conf_format) of an accepted configuration
 *    is itself accepted and prints the same (the round trip the daemon's
 *    --print-config documents);
 *  - the Require= check of every profile writes a bounded, terminated text.
 * Nothing may leak (LeakSanitizer) on either path.
 *
 * Linked with standalone.c instead of libFuzzer, any compiler builds it as a
 * smoke test over corpus/config.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "config/conf.h"
#include "tests/fuzz/fuzz.h"

#define NAME "fuzz.conf"

static void check_errors(int r, const struct sbd_conf_errors *errs)
{
        CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        CHECK(r != -EINVAL || errs->n >= 1);
        CHECK(r != 0 || errs->n == 0);
        for (size_t i = 0; i < errs->n; i++) {
                CHECK(strncmp(errs->v[i], NAME ":", strlen(NAME ":")) == 0);
                CHECK(isdigit((unsigned char)errs->v[i][strlen(NAME ":")]));
                CHECK(strchr(errs->v[i], '\n') == NULL);
        }
}

static void check_profile(const struct sbd_conf *c, size_t index)
{
        const struct sbd_conf_profile *p = &c->profiles[index];
        size_t n = strnlen(p->p.name, sizeof(p->p.name));
        struct sbp_enforced none;
        char missing[64];

        CHECK(n >= 1 && n <= SBP_NAME_MAX);
        CHECK(strspn(p->p.name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-_.") == n);
        CHECK(sbd_conf_profile_find(c, p->p.name) == p);   /* names are distinct */
        CHECK(strcmp(p->p.network, "none") == 0 || strcmp(p->p.network, "host") == 0);
        CHECK(p->require < (1u << SBD_REQ__COUNT));
        for (size_t i = 0; i < p->syscall_filter.n; i++)
                CHECK(sbd_conf_syscall_group(p->syscall_filter.v[i]) != NULL);
        memset(&none, 0, sizeof(none));
        CHECK(sbd_conf_require_missing(p->require, &none, true, missing, sizeof(missing)) <=
              SBD_REQ__COUNT);
        CHECK(strnlen(missing, sizeof(missing)) < sizeof(missing));
}

static void round_trip(const struct sbd_conf *c)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *again;
        char *text, *text2;
        int r;

        text = sbd_conf_format(c);
        again = sbd_conf_new_builtin();
        if (!text || !again) {
                free(text);
                sbd_conf_free(again);
                return;
        }
        r = sbd_conf_apply_text(again, NAME, text, &errs);
        if (r == -ENOMEM)
                goto out;
        if (r != 0) {
                for (size_t i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.v[i]);
                fprintf(stderr, "--- printed configuration:\n%s---\n", text);
        }
        CHECK(r == 0);
        text2 = sbd_conf_format(again);
        if (text2 && strcmp(text, text2) != 0)
                fprintf(stderr, "--- printed:\n%s--- printed again:\n%s---\n", text, text2);
        CHECK(!text2 || strcmp(text, text2) == 0);
        free(text2);
out:
        sbd_conf_errors_clear(&errs);
        sbd_conf_free(again);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *c;
        char *text;
        int r;

        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        c = sbd_conf_new_builtin();
        CHECK(c != NULL);
        r = sbd_conf_apply_text(c, NAME, text, &errs);
        check_errors(r, &errs);
        if (r == 0) {
                CHECK(sbd_conf_profile_find(c, "default") != NULL);
                CHECK(c->daemon.uid_first >= 1 && c->daemon.uid_first <= c->daemon.uid_last);
                for (size_t i = 0; i < c->n_profiles; i++)
                        check_profile(c, i);
                round_trip(c);
        }
        sbd_conf_errors_clear(&errs);
        sbd_conf_free(c);
        free(text);
        return 0;
}
