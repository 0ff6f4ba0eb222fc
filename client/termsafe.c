/* termsafe.c — job output made safe for a terminal (see termsafe.h).
 *
 * A small UTF-8 decoder: lead byte, then as many continuation bytes as it
 * announces, with the second byte's range narrowed where the standard does
 * (no overlong forms, no surrogates, nothing above U+10FFFF). A sequence
 * that breaks off is shown byte by byte and the byte that broke it is
 * looked at again on its own.
 */
#include <stdbool.h>
#include <stdint.h>

#include "client/termsafe.h"

static const char hex[] = "0123456789abcdef";

static size_t put_hex(char *out, unsigned char c)
{
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hex[c >> 4];
        out[3] = hex[c & 15];
        return 4;
}

static size_t put_ascii(char *out, unsigned char c)
{
        if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\r') {
                out[0] = (char)c;
                return 1;
        }
        /* ^@ .. ^_ for C0, ^? for DEL. */
        out[0] = '^';
        out[1] = (char)(c ^ 0x40);
        return 2;
}

/* The range of the byte after lead (the others: 0x80..0xbf). */
static void second_range(unsigned char lead, unsigned char *lo, unsigned char *hi)
{
        *lo = 0x80;
        *hi = 0xbf;
        if (lead == 0xe0)
                *lo = 0xa0;             /* overlong */
        else if (lead == 0xed)
                *hi = 0x9f;             /* surrogates */
        else if (lead == 0xf0)
                *lo = 0x90;             /* overlong */
        else if (lead == 0xf4)
                *hi = 0x8f;             /* above U+10FFFF */
}

static size_t put_seq(struct sbctl_termsafe *t, char *out)
{
        size_t n = 0;

        /* The only two-byte forms of C1 controls: U+0080..U+009F. */
        if (t->have == 2 && t->seq[0] == 0xc2 && t->seq[1] < 0xa0) {
                const char *s = "\\u00";

                while (*s)
                        out[n++] = *s++;
                out[n++] = hex[t->seq[1] >> 4];
                out[n++] = hex[t->seq[1] & 15];
        } else {
                for (size_t i = 0; i < t->have; i++)
                        out[n++] = (char)t->seq[i];
        }
        t->have = t->need = 0;
        return n;
}

size_t sbctl_termsafe_finish(struct sbctl_termsafe *t, char *out)
{
        size_t n = 0;

        for (size_t i = 0; i < t->have; i++)
                n += put_hex(out + n, t->seq[i]);
        t->have = t->need = 0;
        return n;
}

size_t sbctl_termsafe_filter(struct sbctl_termsafe *t, const void *data, size_t len, char *out)
{
        const unsigned char *p = data;
        size_t n = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = p[i], lo = 0x80, hi = 0xbf;

                if (t->need > 0) {
                        if (t->have == 1)
                                second_range(t->seq[0], &lo, &hi);
                        if (c >= lo && c <= hi) {
                                t->seq[t->have++] = c;
                                if (--t->need == 0)
                                        n += put_seq(t, out + n);
                                continue;
                        }
                        n += sbctl_termsafe_finish(t, out + n);
                }
                if (c < 0x80) {
                        n += put_ascii(out + n, c);
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        t->need = 1;
                else if (c >= 0xe0 && c <= 0xef)
                        t->need = 2;
                else if (c >= 0xf0 && c <= 0xf4)
                        t->need = 3;
                else {
                        n += put_hex(out + n, c);
                        continue;
                }
                t->seq[0] = c;
                t->have = 1;
        }
        return n;
}
