/* pipe_uid.h — the uid the daemon gives a named-pipe client, from its
 * user SID (named_pipe.c reads the SID and the machine's account domain;
 * this is the pure rule, unit-tested on Linux).
 */
#pragma once

#include <stdint.h>

/* The uid of a client whose SID is not this machine's. */
#define SBD_PIPE_UID_FOREIGN 0xfffffffeu
/* The gid a client gets for the Administrators group (S-1-5-32-544), when
 * its token has it enabled: the only group a pipe client carries. */
#define SBD_PIPE_GID_ADMINS 544u
/* The first RID of an account in a machine's domain (Administrator). */
#define SBD_PIPE_RID_FIRST 500

/* For a SID of this machine's account domain (machine_domain, "S-1-5-21-
 * a-b-c"; NULL or "" when unknown) followed by one RID of an account (SBD_PIPE_RID_FIRST or more), or one of the
 * service accounts S-1-5-18, -19, -20: that RID. For any other SID (a
 * domain account, whose RID another domain may repeat; anything
 * malformed): SBD_PIPE_UID_FOREIGN. */
uint32_t sbd_pipe_uid_of_sid(const char *sid, const char *machine_domain);
