/* dirfd.c — directories passed by handle (backend.h) on Windows: none are
 * taken. The backend's caps say fd_mounts = false, so exec refuses mounts
 * with Unsupported before asking; a working directory by handle is
 * refused here.
 */
#include <errno.h>

#include "backends/backend.h"

int sb_backend_check_dir_fd(sb_handle fd)
{
        (void)fd;
        return -EOPNOTSUPP;
}

int sb_backend_check_mount_fd(sb_handle fd)
{
        (void)fd;
        return -EOPNOTSUPP;
}
