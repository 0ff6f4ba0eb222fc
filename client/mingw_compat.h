/* mingw_compat.h — included first into the protocol codec and libskillbox
 * and the Windows backend when they are built for Windows (meson.build).
 *
 * Their structs have a field named stdin (sbp_exec_params, and the public
 * sb_exec_opts), and mingw-w64's <stdio.h> defines stdin as a macro, which
 * would turn the field into an expression. These sources never read the C
 * stream stdin, so they take <stdio.h> here, once, and drop the macro.
 * The errno values the codec maps that the Windows C runtime lacks get
 * numbers of their own, past the runtime's; strndup() an implementation.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#undef stdin

#ifndef ESHUTDOWN
#define ESHUTDOWN 200
#endif

#include <stdlib.h>
#include <string.h>

/* POSIX 2008; the Windows C runtime has none. */
static inline char *sb_mingw_strndup(const char *s, size_t n)
{
        size_t len = strnlen(s, n);
        char *p = malloc(len + 1);

        if (p) {
                memcpy(p, s, len);
                p[len] = '\0';
        }
        return p;
}
#define strndup sb_mingw_strndup

/* The backend contract (backends/backend.h) carries the client's uid and
 * gid for file ownership; Windows has SIDs instead, and the Windows
 * backend leaves these fields unread. */
#include <sys/types.h>
typedef unsigned int uid_t;
typedef unsigned int gid_t;
