/* access.h — who may use the daemon, in which role, with which profiles.
 *
 * Built from the [Access] section and the profiles' AllowedUsers= of one
 * configuration: names are resolved to uids and gids when the configuration
 * is loaded (start, SIGHUP), so admitting a peer needs no name lookup.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "config/conf.h"

struct sbd_conn;
struct sbd_access;
struct sbd_peer;

/* Resolve c's names; an unknown user or group is logged (warning) and
 * matches nobody. Returns 0 or -ENOMEM. */
int sbd_access_new(const struct sbd_conf *c, struct sbd_access **out);
struct sbd_access *sbd_access_free(struct sbd_access *a);

/* Give c the identity of its peer p (uid, gid, pid, groups) and its role.
 * Returns 1 if admitted (c->admin set for admins), 0 if the peer has no
 * role. */
int sbd_access_admit(const struct sbd_access *a, struct sbd_conn *c, const struct sbd_peer *p);

/* Whether c may run jobs under profile p of configuration conf (the one a
 * was built from): admins may use all; clients those whose AllowedUsers=
 * is empty or names them or one of their groups. */
bool sbd_access_profile_allowed(const struct sbd_access *a, const struct sbd_conf *conf,
                                const struct sbd_conn *c, const struct sbd_conf_profile *p);
