/* ini_stream.c — ini_parse_stream() with libinih's documented behaviour at
 * its default settings (multi-line values, a BOM, ';' and '#' comments,
 * inline ';' comments after whitespace, 200-byte lines, '=' or ':'), for
 * the cross builds: Debian's archive here serves no inih source package.
 * config/conf.c is its only caller; scripts/build-macos.sh builds it with
 * the installed <ini.h>, and the unit suite runs test_config against it
 * (tests/unit/meson.build) so both parsers read the same. */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <ini.h>

#define LINE_MAX 200   /* INI_MAX_LINE */
#define NAME_MAX_LEN 50   /* inih's MAX_NAME: section and key names kept */

static char *skip_space(char *s)
{
        while (*s && isspace((unsigned char)*s))
                s++;
        return s;
}

static void strip_end(char *s)
{
        size_t n = strlen(s);

        while (n > 0 && isspace((unsigned char)s[n - 1]))
                s[--n] = '\0';
}

/* The first of chars in s, or an inline comment (';' after whitespace), or
 * the end of s. */
static char *find_stop(char *s, const char *chars)
{
        bool after_space = false;

        for (; *s; s++) {
                if (chars && strchr(chars, *s))
                        break;
                if (after_space && *s == ';')
                        break;
                after_space = isspace((unsigned char)*s) != 0;
        }
        return s;
}

static void copy_name(char *dst, const char *src)
{
        size_t n = strlen(src);

        if (n >= NAME_MAX_LEN)
                n = NAME_MAX_LEN - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

int ini_parse_stream(ini_reader reader, void *stream, ini_handler handler, void *user)
{
        char line[LINE_MAX], section[NAME_MAX_LEN] = "", prev[NAME_MAX_LEN] = "";
        int lineno = 0, error = 0;

        while (reader(line, (int)sizeof(line), stream)) {
                char *start = line, *end;

                lineno++;
                if (lineno == 1 && (unsigned char)start[0] == 0xEF &&
                    (unsigned char)start[1] == 0xBB && (unsigned char)start[2] == 0xBF)
                        start += 3;
                strip_end(start);
                {
                        char *first = skip_space(start);
                        bool indented = first > start;

                        start = first;
                        if (*start == ';' || *start == '#')
                                continue;
                        if (prev[0] && *start && indented) {
                                /* A continuation of the previous value. */
                                end = find_stop(start, NULL);
                                *end = '\0';
                                strip_end(start);
                                if (!handler(user, section, prev, start) && !error)
                                        error = lineno;
                                continue;
                        }
                }
                if (*start == '[') {
                        end = find_stop(start + 1, "]");
                        if (*end == ']') {
                                *end = '\0';
                                copy_name(section, start + 1);
                                prev[0] = '\0';
                        } else if (!error) {
                                error = lineno;
                        }
                } else if (*start) {
                        char *value;

                        end = find_stop(start, "=:");
                        if (*end != '=' && *end != ':') {
                                if (!error)
                                        error = lineno;
                                continue;
                        }
                        *end = '\0';
                        strip_end(start);
                        value = end + 1;
                        end = find_stop(value, NULL);
                        *end = '\0';
                        value = skip_space(value);
                        strip_end(value);
                        copy_name(prev, start);
                        if (!handler(user, section, start, value) && !error)
                                error = lineno;
                }
        }
        return error;
}
