/* inet_aton.h — inet_aton's forms of an IPv4 address, for the Windows
 * build (Winsock has no inet_aton; compat.h wraps this). Pure code: the
 * Linux unit suite checks it against glibc's inet_aton.
 */
#pragma once

#include <stdint.h>

/* One to four parts, each decimal, octal (leading 0) or hex (0x), the last
 * filling the bytes left, up to the end or white space. Returns 1 and *out (host order), or 0. */
static inline int sb_inet_aton_parse(const char *s, uint32_t *out)
{
        uint32_t part[4];
        unsigned n = 0;
        uint32_t v;

        for (;;) {
                unsigned base = 10, digits = 0;
                uint64_t x = 0;

                if (n == 4 || *s < '0' || *s > '9')
                        return 0;
                if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                        base = 16;
                        s += 2;
                } else if (s[0] == '0') {
                        base = 8;
                }
                for (;; s++, digits++) {
                        unsigned d;

                        if (*s >= '0' && *s <= '9')
                                d = (unsigned)(*s - '0');
                        else if (base == 16 && *s >= 'a' && *s <= 'f')
                                d = (unsigned)(*s - 'a' + 10);
                        else if (base == 16 && *s >= 'A' && *s <= 'F')
                                d = (unsigned)(*s - 'A' + 10);
                        else
                                break;
                        if (d >= base)
                                return 0;
                        x = x * base + d;
                        if (x > 0xffffffffu)
                                return 0;
                }
                if (base == 16 && digits == 0)
                        return 0;
                part[n++] = (uint32_t)x;
                /* glibc ends the address at white space, ignoring what
                 * follows. */
                if (*s == '\0' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
                        break;
                if (*s++ != '.')
                        return 0;
        }
        /* Each part but the last is one byte; the last takes the rest. */
        v = 0;
        for (unsigned i = 0; i + 1 < n; i++) {
                if (part[i] > 0xff)
                        return 0;
                v |= part[i] << (24 - 8 * i);
        }
        if (n > 1 && n < 4 && part[n - 1] >> (8 * (5 - n)) != 0)
                return 0;
        if (n == 4 && part[3] > 0xff)
                return 0;
        v |= part[n - 1];
        *out = v;
        return 1;
}
