/* text.h — text built into a caller's fixed buffer, piece by piece, for
 * the generators of policy text (Seatbelt profiles, job-object limits):
 * each piece is checked once here, and the first one that does not fit
 * marks the text overflowed, so a generator tests one flag at its end. */
#ifndef SKILLBOX_BACKENDS_TEXT_H
#define SKILLBOX_BACKENDS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct sb_text {
        char *buf;
        size_t len;     /* > 0 */
        size_t used;    /* bytes written, without the NUL */
        bool overflow;  /* a piece did not fit; later pieces are dropped */
};

/* Appends printf(fmt, ...). On overflow the text stays NUL-terminated
 * after the last piece that fitted. */
__attribute__((format(printf, 2, 3)))
void sb_text_put(struct sb_text *t, const char *fmt, ...);

#endif
