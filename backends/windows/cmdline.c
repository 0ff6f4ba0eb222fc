/* cmdline.c — argv as one Windows command line (cmdline.h). Pure. */
#include <errno.h>
#include <string.h>

#include "backends/windows/cmdline.h"

static int append(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
        if (*pos + n >= len) {
                if (*pos < len)
                        buf[*pos] = '\0';
                return -ENOSPC;
        }
        memcpy(buf + *pos, s, n);
        *pos += n;
        buf[*pos] = '\0';
        return 0;
}

static int append_backslashes(char *buf, size_t len, size_t *pos, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = append(buf, len, pos, "\\", 1);

                if (r < 0)
                        return r;
        }
        return 0;
}

int sb_win_quote_arg(const char *arg, char *buf, size_t len, size_t *pos)
{
        size_t slashes = 0;
        int r;

        if (*arg && !strpbrk(arg, " \t\n\v\""))
                return append(buf, len, pos, arg, strlen(arg));
        r = append(buf, len, pos, "\"", 1);
        for (const char *s = arg; r == 0 && *s; s++) {
                if (*s == '\\') {
                        slashes++;
                        continue;
                }
                /* Backslashes count only before a quote: doubled there, and
                 * the quote escaped; elsewhere they stand as they are. */
                r = append_backslashes(buf, len, pos, *s == '"' ? slashes * 2 + 1 : slashes);
                if (r == 0)
                        r = append(buf, len, pos, s, 1);
                slashes = 0;
        }
        /* Before the closing quote, too. */
        if (r == 0)
                r = append_backslashes(buf, len, pos, slashes * 2);
        if (r == 0)
                r = append(buf, len, pos, "\"", 1);
        return r;
}

int sb_win_cmdline(char *const *argv, char *buf, size_t len)
{
        size_t pos = 0;
        int r;

        if (len == 0)
                return -ENOSPC;
        buf[0] = '\0';
        if (!argv || !argv[0] || !*argv[0])
                return -EINVAL;
        for (size_t i = 0; argv[i]; i++) {
                if (i > 0) {
                        r = append(buf, len, &pos, " ", 1);
                        if (r < 0)
                                return r;
                }
                r = sb_win_quote_arg(argv[i], buf, len, &pos);
                if (r < 0)
                        return r;
        }
        return (int)pos;
}
