/* hostcheck.c — the host checks of hostcheck.h on Windows.
 *
 * Privileges: job objects and the pipe's DACL need an administrator (or
 * LocalSystem, as the service runs). There are no job uids to check
 * against the accounts (each job is a job object), and the state dir is
 * checked by the daemon itself (statedir_windows.c).
 */
#include <stdio.h>
#include <windows.h>

#include "backends/hostcheck.h"

static BOOL is_admin(void)
{
        SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
        PSID admins = NULL;
        BOOL member = FALSE;

        if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                      DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &admins))
                return FALSE;
        if (!CheckTokenMembership(NULL, admins, &member))
                member = FALSE;
        FreeSid(admins);
        return member;
}

void sb_backend_hostcheck_privileges(struct sb_backend_probe *out)
{
        struct sb_backend_probe_item *it;

        if (is_admin())
                return;
        it = sb_backend_probe_add(out, "privileges");
        snprintf(it->detail, sizeof(it->detail),
                 "not an administrator: results show this user's rights, not the daemon's");
        snprintf(it->fix, sizeof(it->fix), "run elevated, or as the service (LocalSystem)");
        it->status = SB_BACKEND_PROBE_WARN;
}

void sb_backend_hostcheck_run(const struct sb_hostcheck_params *p, struct sb_backend_probe *out)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(out, "uid-range");

        snprintf(it->detail, sizeof(it->detail),
                 "not used on Windows (%u-%u): each job is a job object of its own",
                 (unsigned)p->uid_first, (unsigned)p->uid_last);
}
