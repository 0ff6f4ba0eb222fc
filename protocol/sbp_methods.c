/* sbp_methods.c — method names: which method a request names.
 *
 * The name is the peer's bytes, unchecked by the reader beyond its length:
 * it may be any bytes, not UTF-8, with NULs and terminal escapes. What goes
 * back to the peer (as a str) and into the log is only a short printable
 * rendering of it.
 */
#include <errno.h>
#include <string.h>

#include "protocol/sbp_internal.h"

static const char *const names[] = {
#define SBP_X_(name) #name,
        SBP_METHODS(SBP_X_)
#undef SBP_X_
};

int sbp_method_find(const char *name, size_t len, struct sbp_error *err)
{
        /* Only the first 44 bytes are shown; 64 still says "cut". */
        msgpack_object_str s = { .size = (uint32_t)(len < 64 ? len : 64), .ptr = name };
        char shown[48];

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
                        return (int)i;
        sbp_describe_key(&s, shown, sizeof(shown));
        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "unknown method %s", shown);
}
