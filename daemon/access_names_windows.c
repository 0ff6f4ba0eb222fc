/* access_names_windows.c — [Access] names on Windows (access_names.h).
 *
 * A name is looked up with LookupAccountNameW ("alice", "HOST\alice",
 * "Administrators") and its SID mapped as a pipe client's is
 * (named_pipe.c, pipe_uid.h): a local account to its RID, LocalSystem and
 * the service accounts to theirs, anything else (a domain account) to no
 * uid at all. A pipe client carries one group besides its own: the
 * Administrators, when enabled in its token; so that is the only group a
 * name can stand for.
 */
#include <errno.h>
#include <string.h>
#include <windows.h>

#include "daemon/access_names.h"
#include "daemon/log.h"
#include "daemon/transport/pipe.h"
#include "daemon/transport/pipe_uid.h"

static int lookup_sid(const char *name, char *buf, size_t len)
{
        int r = sbd_pipe_account_sid(name, buf, len);

        if (r < 0)
                log_debug("[Access] %s: no SID: %s", name, sbd_errno_name(r));
        return r;
}

int sbd_access_user_id(const char *name, uid_t *out)
{
        char sid[192];
        uint32_t uid;
        int r;

        r = lookup_sid(name, sid, sizeof(sid));
        if (r < 0)
                return r;
        uid = sbd_pipe_uid_of_sid(sid, sbd_pipe_machine_domain());
        if (uid == SBD_PIPE_UID_FOREIGN) {
                log_warning("[Access] %s is %s, not an account of this machine: no pipe client "
                            "is ever given its uid", name, sid);
                return -ENOENT;
        }
        *out = (uid_t)uid;
        return 0;
}

int sbd_access_group_id(const char *name, gid_t *out)
{
        char sid[192];
        int r;

        r = lookup_sid(name, sid, sizeof(sid));
        if (r < 0)
                return r;
        if (strcmp(sid, "S-1-5-32-544") != 0) {
                log_warning("[Access] @%s is %s: a pipe client carries no group but the "
                            "Administrators", name, sid);
                return -ENOENT;
        }
        *out = (gid_t)SBD_PIPE_GID_ADMINS;
        return 0;
}
