/* log.h — the daemon's only way to say something: one line per event on
 * stderr, "skillboxd: <level>: message", or with a journald "<N>" priority
 * prefix instead when stderr is connected to the journal ($JOURNAL_STREAM).
 * Library-like parts (protocol, backends) never log; the daemon logs once,
 * where it decides, typically `return log_errno(r, "...")`.
 */
#pragma once

enum sbd_log_level {
        SBD_LOG_ERROR = 3,    /* values are the syslog priorities */
        SBD_LOG_WARNING = 4,
        SBD_LOG_INFO = 6,
        SBD_LOG_DEBUG = 7,
};

void sbd_log_init(void);
void sbd_log_set_level(enum sbd_log_level level);
enum sbd_log_level sbd_log_get_level(void);
/* "debug", "info", "warning", "error" -> level; -EINVAL if unknown. */
int sbd_log_level_from_name(const char *name);
/* "EACCES" for -EACCES or EACCES; never NULL. */
const char *sbd_errno_name(int r);

void sbd_log(enum sbd_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Log "<message>: <ERRNO>" at error level and return r. */
int sbd_log_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbd_log_full_errno(enum sbd_log_level level, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_debug(...)   sbd_log(SBD_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    sbd_log(SBD_LOG_INFO, __VA_ARGS__)
#define log_warning(...) sbd_log(SBD_LOG_WARNING, __VA_ARGS__)
#define log_error(...)   sbd_log(SBD_LOG_ERROR, __VA_ARGS__)
#define log_errno(r, ...) sbd_log_errno((r), __VA_ARGS__)
#define log_warning_errno(r, ...) sbd_log_full_errno(SBD_LOG_WARNING, (r), __VA_ARGS__)
