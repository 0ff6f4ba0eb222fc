/* units.c — parsing and printing of sizes and durations for skillboxctl.
 *
 * Values are computed exactly in integers (128-bit intermediates), never via
 * floating point, so "1.5G" is exactly 1610612736 and overflow is detected
 * rather than wrapped. Only the first 9 fraction digits count.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "client/units.h"

#define FRAC_DIGITS_MAX 9

struct decimal {
        uint64_t ip;            /* integer part */
        uint64_t frac;          /* fraction digits as an integer */
        uint64_t scale;         /* 10^(fraction digits kept) */
        bool has_frac;          /* a non-zero fraction was given */
};

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Parse "123" or "1.25" at *p (NULL is -EINVAL); advance *p. */
static int parse_decimal(const char **p, struct decimal *d)
{
        const char *s = *p;
        unsigned kept = 0;

        *d = (struct decimal){ .scale = 1 };
        if (!s || !is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++) {
                unsigned digit = (unsigned)(*s - '0');

                if (d->ip > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                d->ip = d->ip * 10 + digit;
        }
        if (*s == '.') {
                s++;
                if (!is_digit(*s))
                        return -EINVAL;
                for (; is_digit(*s); s++) {
                        if (*s != '0')
                                d->has_frac = true;
                        if (kept < FRAC_DIGITS_MAX) {
                                d->frac = d->frac * 10 + (uint64_t)(*s - '0');
                                d->scale *= 10;
                                kept++;
                        }
                }
        }
        *p = s;
        return 0;
}

/* d * mult, truncated to an integer; -ERANGE if it does not fit. mult 1 is
 * the smallest unit (byte, millisecond): a fraction of it is meaningless. */
static int scale(const struct decimal *d, uint64_t mult, uint64_t *out)
{
        unsigned __int128 v = (unsigned __int128)d->ip * mult;

        if (mult == 1 && d->has_frac)
                return -EINVAL;
        v += (unsigned __int128)d->frac * mult / d->scale;
        if (v > UINT64_MAX)
                return -ERANGE;
        *out = (uint64_t)v;
        return 0;
}

int sbctl_parse_size(const char *s, uint64_t *out)
{
        struct decimal d;
        uint64_t mult = 1;
        int r;

        r = parse_decimal(&s, &d);
        if (r < 0)
                return r;
        switch (*s) {
        case 'k': case 'K': mult = 1ull << 10; s++; break;
        case 'm': case 'M': mult = 1ull << 20; s++; break;
        case 'g': case 'G': mult = 1ull << 30; s++; break;
        case 't': case 'T': mult = 1ull << 40; s++; break;
        default: break;
        }
        if (strcmp(s, "B") == 0 || strcmp(s, "b") == 0)
                s++;
        else if (mult > 1 && strcmp(s, "iB") == 0)
                s += 2;
        if (*s)
                return -EINVAL;
        return scale(&d, mult, out);
}

int sbctl_parse_duration_ms(const char *s, uint64_t *out)
{
        struct decimal d;
        uint64_t mult;
        int r;

        r = parse_decimal(&s, &d);
        if (r < 0)
                return r;
        if (*s == '\0' || strcmp(s, "s") == 0)
                mult = 1000;
        else if (strcmp(s, "ms") == 0)
                mult = 1;
        else if (strcmp(s, "m") == 0 || strcmp(s, "min") == 0)
                mult = 60 * 1000;
        else if (strcmp(s, "h") == 0)
                mult = 3600 * 1000;
        else
                return -EINVAL;
        return scale(&d, mult, out);
}

int sbctl_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
        uint64_t v = 0;

        if (!s || !is_digit(*s))
                return -EINVAL;
        for (; *s; s++) {
                unsigned digit;

                if (!is_digit(*s))
                        return -EINVAL;
                digit = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                v = v * 10 + digit;
        }
        if (v > max)
                return -ERANGE;
        *out = v;
        return 0;
}

void sbctl_format_size(uint64_t bytes, char *buf, size_t len)
{
        static const char units[] = "KMGTPE";
        uint64_t div = 1024;
        unsigned u = 0;

        if (bytes < 1024) {
                snprintf(buf, len, "%lluB", (unsigned long long)bytes);
                return;
        }
        while (u + 1 < sizeof(units) - 1 && bytes / div >= 1024) {
                div *= 1024;
                u++;
        }
        /* One decimal, truncated, computed in integers. */
        snprintf(buf, len, "%llu.%llu%c", (unsigned long long)(bytes / div),
                 (unsigned long long)(bytes % div * 10 / div), units[u]);
}

void sbctl_format_duration(uint64_t ms, char *buf, size_t len)
{
        if (ms < 1000)
                snprintf(buf, len, "%llums", (unsigned long long)ms);
        else if (ms < 60 * 1000)
                snprintf(buf, len, "%llu.%llus", (unsigned long long)(ms / 1000),
                         (unsigned long long)(ms % 1000 / 100));
        else if (ms < 3600 * 1000)
                snprintf(buf, len, "%llum%02llus", (unsigned long long)(ms / 60000),
                         (unsigned long long)(ms % 60000 / 1000));
        else
                snprintf(buf, len, "%lluh%02llum", (unsigned long long)(ms / 3600000),
                         (unsigned long long)(ms % 3600000 / 60000));
}
