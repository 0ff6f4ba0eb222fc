/* log.c — stderr logging with levels and journald priority prefixes.
 *
 * Under journald (stderr is the stream named by $JOURNAL_STREAM) a line is
 * "<N>message": the journal adds time and name. Elsewhere it is
 * "YYYY-MM-DD HH:MM:SS.mmm skillboxd: <level>: message" in local time.
 *
 * Each message is formatted into one buffer and written with a single
 * write(2), so lines from the daemon never interleave mid-line even when
 * stderr is shared. Messages are truncated, never split. errno is preserved.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

static enum sbd_log_level max_level = SBD_LOG_INFO;
static int use_journal_prefix;

void sbd_log_init(void)
{
        const char *js = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        /* Only if stderr is that very stream: a child of a service inherits
         * the variable with its stderr pointing elsewhere (sd_journal_stream_fd(3)). */
        use_journal_prefix = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
                             fstat(STDERR_FILENO, &st) == 0 &&
                             (unsigned long long)st.st_dev == dev &&
                             (unsigned long long)st.st_ino == ino;
}

void sbd_log_set_level(enum sbd_log_level level)
{
        max_level = level;
}

enum sbd_log_level sbd_log_get_level(void)
{
        return max_level;
}

int sbd_log_level_from_name(const char *name)
{
        if (strcmp(name, "debug") == 0)
                return SBD_LOG_DEBUG;
        if (strcmp(name, "info") == 0)
                return SBD_LOG_INFO;
        if (strcmp(name, "warning") == 0)
                return SBD_LOG_WARNING;
        if (strcmp(name, "error") == 0)
                return SBD_LOG_ERROR;
        return -EINVAL;
}

const char *sbd_errno_name(int r)
{
        const char *s;

        if (r < 0)
                r = -r;
        s = strerrorname_np(r);
        return s ? s : "EUNKNOWN";
}

static const char *level_name(enum sbd_log_level level)
{
        switch (level) {
        case SBD_LOG_ERROR:
                return "error";
        case SBD_LOG_WARNING:
                return "warning";
        case SBD_LOG_INFO:
                return "info";
        case SBD_LOG_DEBUG:
                return "debug";
        }
        return "info";
}

static void log_va(enum sbd_log_level level, int r, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void log_va(enum sbd_log_level level, int r, const char *fmt, va_list ap)
{
        char line[1024];
        size_t n;
        int saved = errno, k;

        if (level > max_level)
                return;
        if (use_journal_prefix) {
                k = snprintf(line, sizeof(line), "<%d>", (int)level);
        } else {
                struct timespec ts = { 0 };
                struct tm tm = { 0 };

                clock_gettime(CLOCK_REALTIME, &ts);
                localtime_r(&ts.tv_sec, &tm);
                k = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
                k += snprintf(line + k, sizeof(line) - (size_t)k, ".%03ld skillboxd: %s: ",
                              ts.tv_nsec / 1000000, level_name(level));
        }
        n = k > 0 ? (size_t)k : 0;
        k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        if (k > 0)
                n += (size_t)k;
        if (n > sizeof(line) - 32)
                n = sizeof(line) - 32;   /* truncated: keep room for the errno */
        if (r < 0) {
                k = snprintf(line + n, sizeof(line) - n, ": %s", sbd_errno_name(r));
                if (k > 0)
                        n += (size_t)k;
        }
        if (n > sizeof(line) - 1)
                n = sizeof(line) - 1;
        line[n++] = '\n';
        /* Best effort: there is nowhere to report a failing stderr. */
        if (write(STDERR_FILENO, line, n) < 0) {
        }
        errno = saved;
}

void sbd_log(enum sbd_log_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(level, 0, fmt, ap);
        va_end(ap);
}

int sbd_log_errno(int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(SBD_LOG_ERROR, r, fmt, ap);
        va_end(ap);
        return r;
}

int sbd_log_full_errno(enum sbd_log_level level, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(level, r, fmt, ap);
        va_end(ap);
        return r;
}
