/* <sys/random.h> on Windows: getrandom() from the system's generator
 * (BCryptGenRandom, the system-preferred RNG). flags are ignored: it never
 * blocks and has no pools to choose from. */
#pragma once
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <windows.h>
#include <bcrypt.h>

static inline ssize_t getrandom(void *buf, size_t len, unsigned flags)
{
        if (len > 0xffffffffu)
                len = 0xffffffffu;
        if (BCryptGenRandom(NULL, buf, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
                errno = EIO;
                return -1;
        }
        return (ssize_t)len;
}
