/* cmdline.h — a Windows command line from an argv, as CommandLineToArgvW
 * and the C runtime split it back. Pure: the Linux unit suite tests it.
 */
#pragma once

#include <stddef.h>

/* Quote arg: as is when it has no space, tab, newline or quote (and is not
 * empty), else in quotes with quotes and the backslashes before them
 * doubled. Appends to buf at *pos; -ENOSPC when it does not fit (buf stays
 * terminated). */
int sb_win_quote_arg(const char *arg, char *buf, size_t len, size_t *pos);

/* argv (NULL-terminated, argv[0] not empty) joined by spaces, each
 * argument quoted: the length, -EINVAL, or -ENOSPC. */
int sb_win_cmdline(char *const *argv, char *buf, size_t len);
