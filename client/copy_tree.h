/* copy_tree.h — copy a job's kept /work into a directory (copy_tree.c). */
#pragma once

#include <stddef.h>

/* Copy the tree under the directory fd src into dst (made if missing; an
 * existing entry is an error, never overwritten). 0, or -errno with err
 * naming the entry; *skipped (may be NULL) counts the special files left out. */
int sbctl_copy_tree(int src, const char *dst, unsigned *skipped, char *err, size_t errlen);
