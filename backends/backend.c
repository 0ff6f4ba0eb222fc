/* backend.c — the table of backends built into this binary.
 *
 * Lookup is by exact name; an unknown or NULL name gives NULL, never a
 * fallback: a mistyped --backend is an error, not some other backend.
 */
#include <string.h>

#include "config.h"
#include "backends/backend.h"

static const struct sb_backend_ops *const backends[] = {
#if HAVE_BACKEND_LINUX
        &sb_backend_linux_ops,
#endif
        &sb_backend_posix_ops,
};

const struct sb_backend_ops *sb_backend_find(const char *name)
{
        if (!name)
                return NULL;
        for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
                if (strcmp(backends[i]->name, name) == 0)
                        return backends[i];
        return NULL;
}
