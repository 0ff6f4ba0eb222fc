/* token.c — a Windows job's restricted token, applied (token_plan.h says
 * which one and why).
 *
 * userenv's AppContainer functions are looked up at run time: a Windows
 * without them gets the low-integrity token, as one where they fail does.
 * Every step's failure is kept as text: the job's error when neither token
 * can be made, the reason AppContainer was not taken otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <aclapi.h>
#include <sddl.h>

#include "backends/windows/win_backend.h"

typedef HRESULT(WINAPI *create_profile_fn)(PCWSTR, PCWSTR, PCWSTR, PSID_AND_ATTRIBUTES, DWORD,
                                           PSID *);
typedef HRESULT(WINAPI *delete_profile_fn)(PCWSTR);

struct userenv {
        create_profile_fn create;
        delete_profile_fn remove;
};

/* The daemon is single-threaded: one lookup, kept (never unloaded). */
static bool userenv_get(struct userenv *u)
{
        static HMODULE mod;
        FARPROC c, d;

        if (!mod)
                mod = LoadLibraryExW(L"userenv.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
        if (!mod)
                return false;
        c = GetProcAddress(mod, "CreateAppContainerProfile");
        d = GetProcAddress(mod, "DeleteAppContainerProfile");
        if (!c || !d)
                return false;
        u->create = (create_profile_fn)(void (*)(void))c;
        u->remove = (delete_profile_fn)(void (*)(void))d;
        return true;
}

static int hr_fail(char *errbuf, size_t errlen, HRESULT hr, const char *step)
{
        if (HRESULT_FACILITY(hr) == FACILITY_WIN32)
                return sb_win_fail(errbuf, errlen, HRESULT_CODE(hr), step);
        snprintf(errbuf, errlen, "%s: HRESULT 0x%08lx", step, (unsigned long)hr);
        return -EIO;
}

static bool daemon_elevated(void)
{
        TOKEN_ELEVATION e;
        HANDLE t;
        DWORD n;
        bool yes;

        if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t))
                return false;
        yes = GetTokenInformation(t, TokenElevation, &e, sizeof(e), &n) && e.TokenIsElevated;
        CloseHandle(t);
        return yes;
}

/* The job's directory: only grantee and also (a SID string, or NULL),
 * with SYSTEM and the Administrators, may use it; labelled low as well
 * when low is set. */
static int dir_grant(struct sb_backend_job *j, PSID grantee, const char *also, bool low,
                     char *errbuf, size_t errlen)
{
        PSECURITY_DESCRIPTOR sd = NULL;
        BOOL present = FALSE, defaulted = FALSE;
        PACL acl = NULL;
        char *sid = NULL, sddl[384];
        HANDLE h;
        DWORD e;
        int r;

        if (!ConvertSidToStringSidA(grantee, &sid))
                return sb_win_fail(errbuf, errlen, GetLastError(), "ConvertSidToStringSidA");
        r = sb_win_job_dir_sddl(sid, also, sddl, sizeof(sddl));
        LocalFree(sid);
        if (r < 0)
                return sb_backend_fail_text(errbuf, errlen, r, "job directory DACL: bad SID");
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd,
                                                                  NULL))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "ConvertStringSecurityDescriptorToSecurityDescriptorA(DACL)");
        if (!GetSecurityDescriptorDacl(sd, &present, &acl, &defaulted) || !present) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "GetSecurityDescriptorDacl");
                LocalFree(sd);
                return r;
        }
        e = SetNamedSecurityInfoW(j->dir, SE_FILE_OBJECT,
                                  DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                  NULL, NULL, acl, NULL);
        LocalFree(sd);
        if (e != ERROR_SUCCESS)
                return sb_win_fail(errbuf, errlen, e, "SetNamedSecurityInfoW(job directory DACL)");
        if (!low)
                return 0;

        /* By a handle opened for WRITE_OWNER, which is what a label needs
         * (the path-based call asks for the SACL's right as well). */
        sd = NULL;
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(SB_WIN_LOW_LABEL_SDDL,
                                                                  SDDL_REVISION_1, &sd, NULL))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "ConvertStringSecurityDescriptorToSecurityDescriptorA(label)");
        h = CreateFileW(j->dir, READ_CONTROL | WRITE_OWNER,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                        OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
                        NULL);
        if (h == INVALID_HANDLE_VALUE) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "CreateFileW(job directory)");
                LocalFree(sd);
                return r;
        }
        r = 0;
        if (!SetKernelObjectSecurity(h, LABEL_SECURITY_INFORMATION, sd))
                r = sb_win_fail(errbuf, errlen, GetLastError(),
                                "SetKernelObjectSecurity(low label)");
        CloseHandle(h);
        LocalFree(sd);
        return r;
}

/* The capabilities that give an AppContainer the host's network. */
static int network_caps(struct sb_backend_job *j, char *errbuf, size_t errlen)
{
        static const WELL_KNOWN_SID_TYPE want[SB_WIN_NET_CAPS] = {
                WinCapabilityInternetClientSid,
                WinCapabilityInternetClientServerSid,
                WinCapabilityPrivateNetworkClientServerSid,
        };

        j->ncaps = 0;
        if (j->policy.network != SB_NETWORK_HOST)
                return 0;
        for (int i = 0; i < SB_WIN_NET_CAPS; i++) {
                DWORD n = sizeof(j->cap_sid[i]);

                if (!CreateWellKnownSid(want[i], NULL, j->cap_sid[i], &n))
                        return sb_win_fail(errbuf, errlen, GetLastError(),
                                           "CreateWellKnownSid(network capability)");
                j->caps[i].Sid = j->cap_sid[i];
                j->caps[i].Attributes = SE_GROUP_ENABLED;
                j->ncaps++;
        }
        return 0;
}

static int appcontainer_make(struct sb_backend_job *j, char *errbuf, size_t errlen)
{
        struct userenv u;
        char name[SB_WIN_APPCONTAINER_NAME_MAX + 1];
        HRESULT hr;
        int r;

        r = sb_win_appcontainer_name(j->b->state_dir, j->id, name, sizeof(name));
        if (r < 0)
                return sb_backend_fail_text(errbuf, errlen, r, "AppContainer name: bad job id");
        r = sb_win_widen(name, j->container, SB_WIN_APPCONTAINER_NAME_MAX + 1);
        if (r < 0)
                return sb_backend_fail_text(errbuf, errlen, r, "AppContainer name: bad job id");
        if (!userenv_get(&u))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "userenv.dll: CreateAppContainerProfile");
        r = network_caps(j, errbuf, errlen);
        if (r < 0)
                return r;
        hr = u.create(j->container, j->container, L"skillbox job", NULL, 0, &j->container_sid);
        if (hr == HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS)) {
                /* A previous instance's job of the same id, ended with it:
                 * its profile goes, so nothing of it is reused. */
                hr = u.remove(j->container);
                if (FAILED(hr))
                        return hr_fail(errbuf, errlen, hr, "DeleteAppContainerProfile(stale)");
                hr = u.create(j->container, j->container, L"skillbox job", NULL, 0,
                              &j->container_sid);
        }
        if (FAILED(hr)) {
                j->container_sid = NULL;
                return hr_fail(errbuf, errlen, hr, "CreateAppContainerProfile");
        }
        j->container_made = true;
        if (!j->container_sid || !IsValidSid(j->container_sid))
                return sb_backend_fail_text(errbuf, errlen, -EIO,
                                            "CreateAppContainerProfile: no valid SID");
        return dir_grant(j, j->container_sid, NULL, false, errbuf, errlen);
}

static void appcontainer_release(struct sb_backend_job *j)
{
        struct userenv u;

        if (j->container_made && userenv_get(&u))
                (void)u.remove(j->container);
        j->container_made = false;
        if (j->container_sid)
                FreeSid(j->container_sid);
        j->container_sid = NULL;
}

/* What the job's processes create (their own process and thread objects
 * too) grants the job's SID as well: with writes restricted to it, they
 * could otherwise not write to their own objects. */
static int default_dacl(HANDLE token, PSID user, const char *job_sid, char *errbuf,
                        size_t errlen)
{
        PSECURITY_DESCRIPTOR sd = NULL;
        BOOL present = FALSE, defaulted = FALSE;
        TOKEN_DEFAULT_DACL dd;
        char *sid = NULL, sddl[256];
        int r;

        if (!ConvertSidToStringSidA(user, &sid))
                return sb_win_fail(errbuf, errlen, GetLastError(), "ConvertSidToStringSidA(user)");
        r = sb_win_token_default_dacl_sddl(sid, job_sid, sddl, sizeof(sddl));
        LocalFree(sid);
        if (r < 0)
                return sb_backend_fail_text(errbuf, errlen, r, "default DACL: bad SID");
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd,
                                                                  NULL))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "ConvertStringSecurityDescriptorToSecurityDescriptorA"
                                   "(default DACL)");
        r = 0;
        if (!GetSecurityDescriptorDacl(sd, &present, &dd.DefaultDacl, &defaulted) || !present)
                r = sb_win_fail(errbuf, errlen, GetLastError(), "GetSecurityDescriptorDacl");
        else if (!SetTokenInformation(token, TokenDefaultDacl, &dd, sizeof(dd)))
                r = sb_win_fail(errbuf, errlen, GetLastError(),
                                "SetTokenInformation(TokenDefaultDacl)");
        LocalFree(sd);
        return r;
}

static int low_make(struct sb_backend_job *j, char *errbuf, size_t errlen)
{
        BYTE admins[SECURITY_MAX_SID_SIZE], label[SECURITY_MAX_SID_SIZE];
        union {
                TOKEN_USER user;
                BYTE bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
        } user;
        TOKEN_MANDATORY_LABEL tml;
        SID_AND_ATTRIBUTES deny, only;
        char job_sid[64];
        PSID own = NULL;
        HANDLE self;
        DWORD n;
        int r;

        r = sb_win_job_sid(j->b->state_dir, j->identity, job_sid, sizeof(job_sid));
        if (r < 0)
                return sb_backend_fail_text(errbuf, errlen, r, "job SID: bad state directory");
        if (!ConvertStringSidToSidA(job_sid, &own))
                return sb_win_fail(errbuf, errlen, GetLastError(), "ConvertStringSidToSidA(job)");

        if (!OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE | TOKEN_QUERY |
                              TOKEN_ASSIGN_PRIMARY | TOKEN_ADJUST_DEFAULT, &self)) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "OpenProcessToken");
                LocalFree(own);
                return r;
        }
        n = sizeof(admins);
        if (!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins, &n)) {
                r = sb_win_fail(errbuf, errlen, GetLastError(),
                                "CreateWellKnownSid(Administrators)");
                goto out;
        }
        deny.Sid = admins;
        deny.Attributes = 0;
        only.Sid = own;
        only.Attributes = 0;
        if (!CreateRestrictedToken(self, DISABLE_MAX_PRIVILEGE | WRITE_RESTRICTED, 1, &deny, 0,
                                   NULL, 1, &only, &j->low_token)) {
                j->low_token = NULL;
                r = sb_win_fail(errbuf, errlen, GetLastError(), "CreateRestrictedToken");
                goto out;
        }
        n = sizeof(label);
        if (!CreateWellKnownSid(WinLowLabelSid, NULL, label, &n)) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "CreateWellKnownSid(low label)");
                goto out;
        }
        memset(&tml, 0, sizeof(tml));
        tml.Label.Sid = label;
        tml.Label.Attributes = SE_GROUP_INTEGRITY;
        if (!SetTokenInformation(j->low_token, TokenIntegrityLevel, &tml,
                                 sizeof(tml) + GetLengthSid(label))) {
                r = sb_win_fail(errbuf, errlen, GetLastError(),
                                "SetTokenInformation(TokenIntegrityLevel)");
                goto out;
        }
        if (!GetTokenInformation(self, TokenUser, &user, sizeof(user), &n)) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "GetTokenInformation(TokenUser)");
                goto out;
        }
        r = default_dacl(j->low_token, user.user.User.Sid, job_sid, errbuf, errlen);
        if (r < 0)
                goto out;
        r = dir_grant(j, user.user.User.Sid, job_sid, true, errbuf, errlen);
out:
        CloseHandle(self);
        LocalFree(own);
        return r;
}

static void low_release(struct sb_backend_job *j)
{
        if (j->low_token)
                CloseHandle(j->low_token);
        j->low_token = NULL;
}

/* Low integrity, after AppContainer failed with ac_err: the job's error
 * names both when this fails too. */
static int low_after(struct sb_backend_job *j, const char *ac_err, char *errbuf, size_t errlen)
{
        char low_err[256] = "";
        int r;

        snprintf(j->token_note, sizeof(j->token_note), "%s", ac_err);
        r = low_make(j, low_err, sizeof(low_err));
        j->token = sb_win_token_mode_choose(false, false, r == 0);
        if (j->token == SB_WIN_TOKEN_NONE) {
                low_release(j);
                snprintf(errbuf, errlen, "%s (AppContainer: %s)", low_err, ac_err);
                return r < 0 ? r : -EIO;
        }
        return 0;
}

int sb_win_token_prepare(struct sb_backend_job *j, char *errbuf, size_t errlen)
{
        char ac_err[256] = "";
        bool elevated = daemon_elevated();
        bool ac_ok = false;

        if (!elevated)
                snprintf(ac_err, sizeof(ac_err), "the daemon is not elevated");
        else
                ac_ok = appcontainer_make(j, ac_err, sizeof(ac_err)) == 0;
        j->token = sb_win_token_mode_choose(elevated, ac_ok, false);
        if (j->token == SB_WIN_TOKEN_APPCONTAINER)
                return 0;
        appcontainer_release(j);
        return low_after(j, ac_err, errbuf, errlen);
}

int sb_win_token_fallback(struct sb_backend_job *j, const char *why, char *errbuf, size_t errlen)
{
        appcontainer_release(j);
        return low_after(j, why, errbuf, errlen);
}

enum sb_win_token_mode sb_win_token_probe(char *why, size_t len)
{
        struct userenv u;
        bool elevated = daemon_elevated(), ac = false;

        why[0] = '\0';
        if (!elevated)
                snprintf(why, len, "the daemon is not elevated");
        else if (!(ac = userenv_get(&u)))
                snprintf(why, len, "userenv.dll has no CreateAppContainerProfile");
        /* The low-integrity token is tried per job: it is the fallback. */
        return sb_win_token_mode_choose(elevated, ac, true);
}

void sb_win_token_release(struct sb_backend_job *j)
{
        appcontainer_release(j);
        low_release(j);
}
