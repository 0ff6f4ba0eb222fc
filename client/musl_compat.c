/* musl_compat.c — what skillboxctl needs from glibc that musl lacks (see
 * musl_compat.h). Built only into the musl-linked skillboxctl. */
#include <errno.h>
#include <stddef.h>

#include "musl_compat.h"

/* The errno names the CLI can print (the host check's failed probes). NULL
 * for any other, as glibc answers for a number it does not know. */
const char *strerrorname_np(int errnum)
{
#define NAME(e) case e: return #e
        switch (errnum) {
        NAME(EPERM); NAME(ENOENT); NAME(ESRCH); NAME(EINTR); NAME(EIO); NAME(ENXIO);
        NAME(E2BIG); NAME(ENOEXEC); NAME(EBADF); NAME(ECHILD); NAME(EAGAIN); NAME(ENOMEM);
        NAME(EACCES); NAME(EFAULT); NAME(EBUSY); NAME(EEXIST); NAME(EXDEV); NAME(ENODEV);
        NAME(ENOTDIR); NAME(EISDIR); NAME(EINVAL); NAME(ENFILE); NAME(EMFILE); NAME(ENOTTY);
        NAME(ETXTBSY); NAME(EFBIG); NAME(ENOSPC); NAME(ESPIPE); NAME(EROFS); NAME(EMLINK);
        NAME(EPIPE); NAME(ERANGE); NAME(EDEADLK); NAME(ENAMETOOLONG); NAME(ENOLCK);
        NAME(ENOSYS); NAME(ENOTEMPTY); NAME(ELOOP); NAME(ENODATA); NAME(EPROTO);
        NAME(EOVERFLOW); NAME(ENOTSOCK); NAME(EPROTONOSUPPORT); NAME(EOPNOTSUPP);
        NAME(EAFNOSUPPORT); NAME(EADDRINUSE); NAME(ENETDOWN); NAME(ECONNRESET);
        NAME(ENOTCONN); NAME(ETIMEDOUT); NAME(ECONNREFUSED); NAME(EALREADY);
        NAME(EINPROGRESS); NAME(ESTALE); NAME(EDQUOT);
        default:
                return NULL;
        }
#undef NAME
}
