/* copy_tree_windows.c — copy_tree.h on Windows: a job's kept /work reaches
 * the client as a descriptor (sb_work_fd()), and none crosses a named
 * pipe. skillboxctl refuses fetch and --keep-work there (ctl_os_windows.c). */
#include <errno.h>
#include <stdio.h>

#include "client/copy_tree.h"

int sbctl_copy_tree(int src, const char *dst, unsigned *skipped, char *err, size_t errlen)
{
        (void)src;
        (void)dst;
        if (skipped)
                *skipped = 0;
        snprintf(err, errlen, "not supported on Windows");
        return -EOPNOTSUPP;
}
