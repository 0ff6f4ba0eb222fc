/* token_plan.h — the restricted token of a Windows job, decided and written
 * out by pure code (no Windows headers) so that the Linux unit suite checks
 * it; token.c applies it.
 *
 * A job runs in an AppContainer of its own where the daemon is elevated
 * and the system makes one: the container's SID is granted the job's
 * directory and nothing else (reads of the system's files go through ALL
 * APPLICATION PACKAGES, which Windows grants them), and it holds no network
 * capability unless the policy gives the host's network. Elsewhere a
 * restricted token of the daemon's (every privilege but change-notify
 * removed, Administrators deny-only, writes restricted to the job's own
 * SID) at low integrity: it may write only objects labelled low that grant
 * its SID, which the job's directory alone is made; it still reads what
 * the daemon's user may.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

/* CreateAppContainerProfile's bound on a name, in characters. */
#define SB_WIN_APPCONTAINER_NAME_MAX 64

enum sb_win_token_mode {
        SB_WIN_TOKEN_NONE = 0,          /* neither could be made: the job fails */
        SB_WIN_TOKEN_APPCONTAINER,
        SB_WIN_TOKEN_LOW_INTEGRITY,
};

/* The label that makes the job's directory (and, inherited, everything
 * created in it) writable by a low-integrity token: SACL only, applied
 * with LABEL_SECURITY_INFORMATION. */
#define SB_WIN_LOW_LABEL_SDDL "S:(ML;OICI;NW;;;LW)"

/* What the container's SID may do in the job's directory: read, write,
 * execute, delete (Modify), never change its DACL or owner. */
#define SB_WIN_JOB_DIR_RIGHTS "0x1301bf"

/* The job's AppContainer name: "skillbox.<8 hex digits of the state
 * directory's FNV-1a hash>.<job id>", so two daemons with their own state
 * directories never share a container. Only job ids as the protocol makes
 * them ([a-z0-9-], 1..SBP_JOB_ID_MAX) are taken; the name then matches
 * CreateAppContainerProfile's [-_. A-Za-z0-9]{1,64}. Returns the length,
 * -EINVAL for another job id or a NULL state_dir, -ENOSPC when len is too
 * small (out then holds ""). */
int sb_win_appcontainer_name(const char *state_dir, const char *job_id, char *out, size_t len);

/* The job's own SID in low-integrity mode: "S-1-9-<FNV-1a of the state
 * directory>-<identity>" (a resource manager's SID, which no account or
 * group is), the identity being the one identity_take() gave the job,
 * unique among the daemon's running jobs. It is the token's only
 * restricting SID (write-restricted): a write needs it granted, so one
 * job can never write another's directory though both are low and of the
 * daemon's user. Returns the length, -EINVAL for a NULL state_dir,
 * -ENOSPC. */
int sb_win_job_sid(const char *state_dir, uint32_t identity, char *out, size_t len);

/* The low-integrity token's default DACL (what its processes create,
 * their own process and thread objects included): all to SYSTEM, the
 * token's user and the job's SID, so that writes restricted to the job's
 * SID still reach the job's own objects. -EINVAL, -ENOSPC as below. */
int sb_win_token_default_dacl_sddl(const char *user_sid, const char *job_sid, char *out,
                                   size_t len);

/* The job directory's DACL: protected (nothing inherited from the jobs
 * directory), full access for SYSTEM and the Administrators (an elevated
 * daemon, which removes it), and SB_WIN_JOB_DIR_RIGHTS for grantee_sid and,
 * unless NULL, also_sid, each inherited by what is created inside. In
 * AppContainer mode the grantee is the container's SID; in low-integrity
 * mode the token's user (whose Administrators membership is deny-only
 * there), and also the job's SID (sb_win_job_sid). Returns the length,
 * -EINVAL for a SID that is not a plain SID string (no SDDL can be
 * injected), -ENOSPC. */
int sb_win_job_dir_sddl(const char *grantee_sid, const char *also_sid, char *out, size_t len);

/* Which token a job gets: AppContainer when the daemon is elevated and
 * the container could be made; else low integrity when that token could be
 * made; else none, and the job fails (never runs with the daemon's own
 * token). */
enum sb_win_token_mode sb_win_token_mode_choose(bool elevated, bool appcontainer_ok,
                                                bool low_integrity_ok);

/* "appcontainer", "low integrity" or "none". */
const char *sb_win_token_mode_name(enum sb_win_token_mode m);

/* What the token adds to a job's enforcement record (filled by
 * sb_win_enforced() before): an AppContainer without a network capability
 * (any policy but the host's network) has no network at all, not even
 * loopback, so network is "none" there. The low-integrity token keeps the
 * host's network, and neither mode is a mount namespace or a uid of the
 * job's own. token names the mode; an AppContainer's counts as file
 * isolation (guarantees.c), the low-integrity token's does not: it limits
 * writes, not reads. */
void sb_win_enforced_token(enum sb_win_token_mode m, const struct sb_policy *p,
                           struct sbp_enforced *out);
