/* values.c — the value syntax of skillboxd.conf, in systemd's vocabulary.
 *
 * Sizes as systemd.resource-control(5) writes them (512M, 1G: powers of
 * 1024), times as systemd.time(7) (30, 30s, 5min, "1min 30s", 500ms),
 * CPUQuota= as a percentage of one CPU, booleans as systemd accepts them.
 * "infinity" is 0, our "no limit". Every parser rejects overflow, trailing
 * junk and negative numbers rather than guessing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/conf.h"

/* A decimal number at *s; advances *s. No sign, no spaces. */
static int parse_digits(const char **s, uint64_t *out)
{
        uint64_t v = 0;
        const char *p = *s;

        if (!isdigit((unsigned char)*p))
                return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
                unsigned d = (unsigned)(*p - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        *s = p;
        *out = v;
        return 0;
}

int sbd_conf_parse_size(const char *s, uint64_t *out)
{
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
        uint64_t v;
        size_t i;

        if (strcmp(s, "infinity") == 0) {
                *out = 0;
                return 0;
        }
        if (parse_digits(&s, &v) < 0)
                return -EINVAL;
        if (*s == '\0' || (*s == 'B' && s[1] == '\0')) {
                *out = v;
                return 0;
        }
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (*s != units[i].suffix || s[1] != '\0')
                        continue;
                if (v > (UINT64_MAX >> units[i].shift))
                        return -EINVAL;
                *out = v << units[i].shift;
                return 0;
        }
        return -EINVAL;
}

int sbd_conf_parse_time_ms(const char *s, uint64_t *out)
{
        /* Microseconds per unit; the longest spellings first, so "ms" is not
         * read as "m" followed by junk. */
        static const struct {
                const char *name;
                uint64_t usec;
        } units[] = {
                { "usec", 1 }, { "us", 1 },
                { "msec", 1000 }, { "ms", 1000 },
                { "seconds", 1000000 }, { "second", 1000000 }, { "sec", 1000000 },
                { "s", 1000000 },
                { "minutes", 60000000 }, { "minute", 60000000 }, { "min", 60000000 },
                { "m", 60000000 },
                { "hours", 3600000000ull }, { "hour", 3600000000ull },
                { "hr", 3600000000ull }, { "h", 3600000000ull },
                { "days", 86400000000ull }, { "day", 86400000000ull },
                { "d", 86400000000ull },
                { "weeks", 604800000000ull }, { "week", 604800000000ull },
                { "w", 604800000000ull },
        };
        uint64_t total = 0;
        bool any = false;

        if (strcmp(s, "infinity") == 0) {
                *out = 0;
                return 0;
        }
        for (;;) {
                uint64_t v, unit = 1000000;   /* a bare number is seconds */
                size_t i, n;

                while (*s == ' ')
                        s++;
                if (*s == '\0')
                        break;
                if (parse_digits(&s, &v) < 0)
                        return -EINVAL;
                while (*s == ' ')
                        s++;
                for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                        n = strlen(units[i].name);
                        if (strncmp(s, units[i].name, n) == 0 && !isalpha((unsigned char)s[n])) {
                                unit = units[i].usec;
                                s += n;
                                break;
                        }
                }
                if (isalpha((unsigned char)*s))
                        return -EINVAL;
                if (v > UINT64_MAX / unit || total > UINT64_MAX - v * unit)
                        return -EINVAL;
                total += v * unit;
                any = true;
        }
        if (!any)
                return -EINVAL;
        /* Milliseconds, rounded up: 1us asks for a limit, not for none. */
        *out = total / 1000 + (total % 1000 != 0);
        return 0;
}

int sbd_conf_parse_percent(const char *s, uint32_t *out)
{
        uint64_t v;

        if (parse_digits(&s, &v) < 0 || strcmp(s, "%") != 0 || v == 0 || v > 100000)
                return -EINVAL;
        *out = (uint32_t)v;
        return 0;
}

int sbd_conf_parse_bool(const char *s, bool *out)
{
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };
        size_t i;

        for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *out = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *out = false;
                        return 0;
                }
        }
        return -EINVAL;
}
