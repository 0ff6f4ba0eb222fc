/* access_names_posix.c — [Access] names from the passwd and group
 * databases (access_names.h). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>

#include "daemon/access_names.h"

int sbd_access_user_id(const char *name, uid_t *out)
{
        struct passwd *pw = getpwnam(name);

        if (!pw)
                return -ENOENT;
        *out = pw->pw_uid;
        return 0;
}

int sbd_access_group_id(const char *name, gid_t *out)
{
        struct group *gr = getgrnam(name);

        if (!gr)
                return -ENOENT;
        *out = gr->gr_gid;
        return 0;
}
