/* musl_compat.h — force-included (-include) when skillboxctl is built with
 * musl-gcc (client/meson.build); nothing else sees it.
 *
 * musl defines stdin, stdout and stderr as parenthesised macros, which
 * breaks the protocol's and the library's fields named `stdin`
 * (`p.stdin` would expand to `p.(stdin)`); without the macros the names are
 * musl's FILE pointers all the same. strerrorname_np() is a glibc
 * extension the host check prints errno names with. SB_CLI_EXIT_UNFREED:
 * `run` leaves its last buffers to the process's exit (skillboxctl.c).
 */
#pragma once

#include <stdio.h>

#undef stdin
#undef stdout
#undef stderr

const char *strerrorname_np(int errnum);

#define SB_CLI_EXIT_UNFREED 1
