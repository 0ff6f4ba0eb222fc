/* access_names.h — the ids [Access] and AllowedUsers= names stand for, as
 * the transport will report them for a peer (transport.h): the passwd and
 * group databases on POSIX systems (access_names_posix.c), the account
 * database's SIDs on Windows (access_names_windows.c, with pipe_uid.h's
 * rule).
 */
#pragma once

#include <sys/types.h>

/* The uid of user name: 0, or -ENOENT when there is none (or it can never
 * be a peer's). */
int sbd_access_user_id(const char *name, uid_t *out);
/* The gid of group name: 0, or -ENOENT when there is none (or no peer can
 * carry it). */
int sbd_access_group_id(const char *name, gid_t *out);
