/* golden.h — compare a generated text with a file under tests/unit/golden/.
 * With SKILLBOX_UPDATE_GOLDEN=1 the file is written instead (then review the
 * diff). The source root comes from SKILLBOX_SOURCE_ROOT (meson sets it).
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void golden_check(const char *name, const char *text)
{
        const char *root = getenv("SKILLBOX_SOURCE_ROOT");
        const char *update = getenv("SKILLBOX_UPDATE_GOLDEN");
        char path[4096], want[16384];
        size_t n;
        FILE *f;

        assert_non_null(root);
        assert_true((size_t)snprintf(path, sizeof(path), "%s/tests/unit/golden/%s", root, name) <
                    sizeof(path));
        if (update && strcmp(update, "1") == 0) {
                f = fopen(path, "w");
                assert_non_null(f);
                assert_int_equal(fputs(text, f) >= 0, 1);
                assert_int_equal(fclose(f), 0);
                return;
        }
        f = fopen(path, "r");
        if (!f)
                fail_msg("golden file %s missing (SKILLBOX_UPDATE_GOLDEN=1 writes it)", path);
        n = fread(want, 1, sizeof(want) - 1, f);
        fclose(f);
        want[n] = '\0';
        if (strcmp(want, text) != 0)
                fail_msg("%s differs:\n--- want\n%s--- got\n%s", name, want, text);
}
