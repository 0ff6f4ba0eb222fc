/* json.h — JSON output for skillboxctl: strings with correct escaping (invalid
 * UTF-8 replaced by U+FFFD) and the job records of skillbox.h.
 *
 * Writers print to a FILE and do not report errors; the caller checks
 * ferror()/fflush() once at the end.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "client/skillbox.h"

/* A JSON string literal, quotes included, from len bytes of any content. */
void sbctl_json_string(FILE *f, const void *s, size_t len);

/* A NUL-terminated string, or null for NULL. */
void sbctl_json_cstr(FILE *f, const char *s);

/* The object members of a result record (no braces), for embedding. */
void sbctl_json_result_members(FILE *f, const struct sb_job_result *r);

/* {"backend": ..., "namespaces": [...], ...} */
void sbctl_json_enforced(FILE *f, const struct sb_enforced *e);

/* One job of list/inspect: the result members plus profile, owner_uid,
 * started_ms, detached, argv. */
void sbctl_json_job_info(FILE *f, const struct sb_job_info *info);

/* The error code of a failed call: the daemon's wire code when it answered
 * ("PermissionDenied", with *message past "Code: "), else ConnectionFailed
 * (connecting), ConnectionLost, ProtocolError or ClientError. err is the
 * call's negative errno, msg its sb_errmsg(). */
const char *sbctl_error_code(int err, bool connecting, const char *msg, const char **message);

/* {"error": {"code": ..., "message": ...}} and a newline: what --json
 * prints on stdout for a refused request. */
void sbctl_json_error(FILE *f, int err, bool connecting, const char *msg);
