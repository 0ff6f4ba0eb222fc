/* backend_handle.h — what the backend takes (sb_handle) for one of the
 * daemon's descriptors: the descriptor itself on POSIX systems; on
 * Windows, where the daemon's descriptors are the C runtime's and the
 * backend works with the system's handles, the HANDLE under it (still
 * owned, and closed, by the descriptor).
 */
#pragma once

#include "backends/backend.h"

#ifdef _WIN32
#include <io.h>
#include <windows.h>

static inline sb_handle sbd_backend_handle(int fd)
{
        intptr_t h = fd < 0 ? -1 : _get_osfhandle(fd);

        return h == -1 ? SB_HANDLE_NONE : HandleToLong((HANDLE)h);
}
#else
static inline sb_handle sbd_backend_handle(int fd)
{
        return fd;
}
#endif
