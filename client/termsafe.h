/* termsafe.h — job output made safe for a terminal.
 *
 * A job's bytes written to a terminal as they are could drive it: escape
 * sequences clear the screen, retitle the window, write the clipboard
 * (OSC 52) or answer queries into the user's input. When skillboxctl's
 * stdout or stderr is a terminal, the job's output passes through this
 * filter: printable text (valid UTF-8), \n, \t and \r pass; every other C0
 * control and DEL is shown in caret form ("^[" for ESC), a C1 control
 * (U+0080..U+009F) as "\u009b", and a byte that is not valid UTF-8 as
 * "\x9b". A pipe or file gets the bytes as they are (not through here).
 */
#pragma once

#include <stddef.h>

/* One stream's state: a UTF-8 sequence may be split between two chunks. */
struct sbctl_termsafe {
        unsigned char seq[4];
        size_t have, need;
};

/* Filter len bytes of data into out, which must hold at least
 * SBCTL_TERMSAFE_OUT_MAX(len) bytes; returns the bytes written to out. */
#define SBCTL_TERMSAFE_OUT_MAX(len) (6 * ((len) + 4))
size_t sbctl_termsafe_filter(struct sbctl_termsafe *t, const void *data, size_t len, char *out);

/* The end of the stream: a sequence left incomplete, shown byte by byte
 * into out (at least SBCTL_TERMSAFE_OUT_MAX(0) bytes); returns its length. */
size_t sbctl_termsafe_finish(struct sbctl_termsafe *t, char *out);
