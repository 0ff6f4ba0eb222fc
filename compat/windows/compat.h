/* compat.h — the POSIX and glibc calls the daemon's portable code makes
 * that mingw-w64's C runtime lacks, force-included (after
 * client/mingw_compat.h) into what is built of the daemon for Windows, so no
 * function needs an #ifdef.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <time.h>

/* open()'s flags the runtime spells otherwise (a descriptor no child
 * inherits) or has no use for (there is no controlling terminal). */
#ifndef O_CLOEXEC
#define O_CLOEXEC _O_NOINHERIT
#endif
#ifndef O_NOCTTY
#define O_NOCTTY 0
#endif

/* glibc's name of an errno value; NULL for one it does not know. The
 * values are the Windows C runtime's (and mingw_compat.h's). */
static inline const char *strerrorname_np(int e)
{
#define SB_COMPAT_NAME(x) case x: return #x
        switch (e) {
        SB_COMPAT_NAME(EPERM); SB_COMPAT_NAME(ENOENT); SB_COMPAT_NAME(ESRCH);
        SB_COMPAT_NAME(EINTR); SB_COMPAT_NAME(EIO); SB_COMPAT_NAME(ENXIO);
        SB_COMPAT_NAME(E2BIG); SB_COMPAT_NAME(ENOEXEC); SB_COMPAT_NAME(EBADF);
        SB_COMPAT_NAME(ECHILD); SB_COMPAT_NAME(EAGAIN); SB_COMPAT_NAME(ENOMEM);
        SB_COMPAT_NAME(EACCES); SB_COMPAT_NAME(EFAULT); SB_COMPAT_NAME(EBUSY);
        SB_COMPAT_NAME(EEXIST); SB_COMPAT_NAME(EXDEV); SB_COMPAT_NAME(ENODEV);
        SB_COMPAT_NAME(ENOTDIR); SB_COMPAT_NAME(EISDIR); SB_COMPAT_NAME(EINVAL);
        SB_COMPAT_NAME(ENFILE); SB_COMPAT_NAME(EMFILE); SB_COMPAT_NAME(ENOTTY);
        SB_COMPAT_NAME(EFBIG); SB_COMPAT_NAME(ENOSPC); SB_COMPAT_NAME(ESPIPE);
        SB_COMPAT_NAME(EROFS); SB_COMPAT_NAME(EMLINK); SB_COMPAT_NAME(EPIPE);
        SB_COMPAT_NAME(ERANGE); SB_COMPAT_NAME(EDEADLK); SB_COMPAT_NAME(ENAMETOOLONG);
        SB_COMPAT_NAME(ENOLCK); SB_COMPAT_NAME(ENOSYS); SB_COMPAT_NAME(ENOTEMPTY);
        SB_COMPAT_NAME(ELOOP); SB_COMPAT_NAME(EPROTO); SB_COMPAT_NAME(EOVERFLOW);
        SB_COMPAT_NAME(ENOTSOCK); SB_COMPAT_NAME(EOPNOTSUPP); SB_COMPAT_NAME(ENOTSUP);
        SB_COMPAT_NAME(EAFNOSUPPORT); SB_COMPAT_NAME(EADDRINUSE); SB_COMPAT_NAME(ECONNRESET);
        SB_COMPAT_NAME(ENOTCONN); SB_COMPAT_NAME(ETIMEDOUT); SB_COMPAT_NAME(ECONNREFUSED);
        SB_COMPAT_NAME(EALREADY); SB_COMPAT_NAME(EINPROGRESS); SB_COMPAT_NAME(ENOPROTOOPT);
        SB_COMPAT_NAME(ESHUTDOWN);
        default:
                return NULL;
        }
#undef SB_COMPAT_NAME
}

/* POSIX's argument order; the runtime's localtime_s has them the other way
 * round and returns an errno value. */
static inline struct tm *sb_compat_localtime_r(const time_t *t, struct tm *out)
{
        return localtime_s(out, t) == 0 ? out : NULL;
}
#define localtime_r sb_compat_localtime_r

/* inet_aton, which Winsock lacks (the parser: inet_aton.h). */
#include <winsock2.h>
#include "inet_aton.h"
static inline int sb_compat_inet_aton(const char *s, struct in_addr *out)
{
        uint32_t v;

        if (!sb_inet_aton_parse(s, &v))
                return 0;
        out->s_addr = htonl(v);
        return 1;
}
#define inet_aton sb_compat_inet_aton

/* sysconf: the page size alone (the daemon asks for nothing else). */
#define _SC_PAGESIZE 30
static inline long sb_compat_sysconf(int name)
{
        SYSTEM_INFO si;

        if (name != _SC_PAGESIZE) {
                errno = EINVAL;
                return -1;
        }
        GetSystemInfo(&si);
        return (long)si.dwPageSize;
}
#define sysconf sb_compat_sysconf

/* The "no directory" of the *at() calls; the Windows build takes paths
 * (statedir_windows.c refuses any other dfd). */
#define AT_FDCWD (-100)
