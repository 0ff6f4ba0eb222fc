/* token_plan.c — the restricted token of a Windows job, as pure code
 * (token_plan.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "backends/windows/token_plan.h"
#include "daemon/transport/pipe_sddl.h"

static bool job_id_valid(const char *id)
{
        size_t n = 0;

        for (; id[n]; n++)
                if (!((id[n] >= 'a' && id[n] <= 'z') || (id[n] >= '0' && id[n] <= '9') ||
                      id[n] == '-'))
                        return false;
        return n > 0 && n <= SBP_JOB_ID_MAX;
}

static uint32_t fnv1a(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s; s++) {
                h ^= (uint8_t)*s;
                h *= 16777619u;
        }
        return h;
}

static int fits(int n, char *out, size_t len)
{
        if (n < 0 || (size_t)n >= len) {
                if (len)
                        out[0] = '\0';
                return -ENOSPC;
        }
        return n;
}

int sb_win_appcontainer_name(const char *state_dir, const char *job_id, char *out, size_t len)
{
        if (len)
                out[0] = '\0';
        if (!state_dir || !job_id || !job_id_valid(job_id))
                return -EINVAL;
        return fits(snprintf(out, len, "skillbox.%08x.%s", (unsigned)fnv1a(state_dir), job_id),
                    out, len);
}

int sb_win_job_sid(const char *state_dir, uint32_t identity, char *out, size_t len)
{
        if (len)
                out[0] = '\0';
        if (!state_dir)
                return -EINVAL;
        return fits(snprintf(out, len, "S-1-9-%u-%u", (unsigned)fnv1a(state_dir),
                             (unsigned)identity),
                    out, len);
}

int sb_win_token_default_dacl_sddl(const char *user_sid, const char *job_sid, char *out,
                                   size_t len)
{
        if (len)
                out[0] = '\0';
        if (!user_sid || !job_sid || !sbd_sid_string_valid(user_sid) ||
            !sbd_sid_string_valid(job_sid))
                return -EINVAL;
        return fits(snprintf(out, len, "D:(A;;GA;;;SY)(A;;GA;;;%s)(A;;GA;;;%s)", user_sid,
                             job_sid),
                    out, len);
}

int sb_win_job_dir_sddl(const char *grantee_sid, const char *also_sid, char *out, size_t len)
{
        if (len)
                out[0] = '\0';
        if (!grantee_sid || !sbd_sid_string_valid(grantee_sid) ||
            (also_sid && !sbd_sid_string_valid(also_sid)))
                return -EINVAL;
        return fits(snprintf(out, len,
                             "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;" SB_WIN_JOB_DIR_RIGHTS
                             ";;;%s)%s%s%s", grantee_sid,
                             also_sid ? "(A;OICI;" SB_WIN_JOB_DIR_RIGHTS ";;;" : "",
                             also_sid ? also_sid : "", also_sid ? ")" : ""),
                    out, len);
}

enum sb_win_token_mode sb_win_token_mode_choose(bool elevated, bool appcontainer_ok,
                                                bool low_integrity_ok)
{
        if (elevated && appcontainer_ok)
                return SB_WIN_TOKEN_APPCONTAINER;
        if (low_integrity_ok)
                return SB_WIN_TOKEN_LOW_INTEGRITY;
        return SB_WIN_TOKEN_NONE;
}

const char *sb_win_token_mode_name(enum sb_win_token_mode m)
{
        switch (m) {
        case SB_WIN_TOKEN_APPCONTAINER:
                return "appcontainer";
        case SB_WIN_TOKEN_LOW_INTEGRITY:
                return "low integrity";
        case SB_WIN_TOKEN_NONE:
        default:
                return "none";
        }
}

void sb_win_enforced_token(enum sb_win_token_mode m, const struct sb_policy *p,
                           struct sbp_enforced *out)
{
        if (m == SB_WIN_TOKEN_APPCONTAINER)
                snprintf(out->token, sizeof(out->token), "appcontainer");
        else if (m == SB_WIN_TOKEN_LOW_INTEGRITY)
                snprintf(out->token, sizeof(out->token), "low_integrity");
        if (m == SB_WIN_TOKEN_APPCONTAINER && p && p->network != SB_NETWORK_HOST)
                snprintf(out->network, sizeof(out->network), "none");
}
