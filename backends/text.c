/* text.c — text built into a fixed buffer (text.h). */
#include <stdarg.h>
#include <stdio.h>

#include "backends/text.h"

void sb_text_put(struct sb_text *t, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (t->overflow)
                return;
        va_start(ap, fmt);
        n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= t->len - t->used) {
                t->overflow = true;
                t->buf[t->used] = '\0';
                return;
        }
        t->used += (size_t)n;
}
