/* pipe.c — the daemon's named pipe on Windows (pipe.h): instances with the
 * DACL of pipe_sddl.c, and the client's identity from its token.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/transport/pipe.h"
#include <sddl.h>       /* after <windows.h> (pipe.h), which it needs */
#include "daemon/transport/pipe_sddl.h"

/* Bytes each direction of an instance buffers; the daemon reads whatever
 * arrives, so this bounds nothing but a write's single step. */
#define PIPE_BUFFER (64u << 10)

static int fail(char *errbuf, size_t errlen, const char *step, DWORD e)
{
        if (errbuf && errlen)
                snprintf(errbuf, errlen, "%s: Win32 error %lu", step, (unsigned long)e);
        switch (e) {
        case ERROR_ACCESS_DENIED:
                return -EACCES;
        case ERROR_PIPE_BUSY:
        case ERROR_ALREADY_EXISTS:
                return -EADDRINUSE;
        case ERROR_NOT_ENOUGH_MEMORY:
                return -ENOMEM;
        default:
                return -EIO;
        }
}

int sbd_pipe_security(const char *group_sid, PSECURITY_DESCRIPTOR *out, char *errbuf,
                      size_t errlen)
{
        char sddl[512];
        int r = sbd_pipe_sddl(group_sid, sddl, sizeof(sddl));

        *out = NULL;
        if (r < 0) {
                if (errbuf && errlen)
                        snprintf(errbuf, errlen, "pipe group %s: not a SID", group_sid);
                return r;
        }
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, out,
                                                                  NULL))
                return fail(errbuf, errlen, "ConvertStringSecurityDescriptorToSecurityDescriptor",
                            GetLastError());
        return 0;
}

HANDLE sbd_pipe_instance(const char *name, PSECURITY_DESCRIPTOR sd, bool first, char *errbuf,
                         size_t errlen)
{
        SECURITY_ATTRIBUTES sa = {
                .nLength = sizeof(sa),
                .lpSecurityDescriptor = sd,
                .bInheritHandle = FALSE,
        };
        wchar_t wname[256];
        HANDLE h;

        if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, wname, 256)) {
                fail(errbuf, errlen, "pipe name", GetLastError());
                return INVALID_HANDLE_VALUE;
        }
        h = CreateNamedPipeW(wname,
                             PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
                                     (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
                             PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                                     PIPE_REJECT_REMOTE_CLIENTS,
                             PIPE_UNLIMITED_INSTANCES, PIPE_BUFFER, PIPE_BUFFER, 0, &sa);
        if (h == INVALID_HANDLE_VALUE)
                fail(errbuf, errlen, first ? "CreateNamedPipeW (first instance)"
                                           : "CreateNamedPipeW", GetLastError());
        return h;
}

int sbd_pipe_peer(HANDLE h, struct sbd_pipe_peer *out, char *errbuf, size_t errlen)
{
        union {
                TOKEN_USER user;
                char buf[256];
        } tu;
        HANDLE token = NULL;
        ULONG pid = 0;
        DWORD len = 0;
        BOOL member = FALSE;
        PSID admins = NULL;
        SID_IDENTIFIER_AUTHORITY nt = { SECURITY_NT_AUTHORITY };
        char *sid = NULL;
        int r = 0;

        memset(out, 0, sizeof(*out));
        if (!GetNamedPipeClientProcessId(h, &pid))
                return fail(errbuf, errlen, "GetNamedPipeClientProcessId", GetLastError());
        out->pid = pid;
        /* The client's token, not its process's: a process id can be
         * reused, the token is what the client connected with. */
        if (!ImpersonateNamedPipeClient(h))
                return fail(errbuf, errlen, "ImpersonateNamedPipeClient", GetLastError());
        if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token))
                r = fail(errbuf, errlen, "OpenThreadToken", GetLastError());
        /* Back to the daemon's own identity before anything else runs. */
        if (!RevertToSelf()) {
                /* Going on as the client would be worse than stopping. */
                if (token)
                        CloseHandle(token);
                return fail(errbuf, errlen, "RevertToSelf", GetLastError());
        }
        if (r < 0)
                return r;
        if (!GetTokenInformation(token, TokenUser, &tu, sizeof(tu), &len)) {
                r = fail(errbuf, errlen, "GetTokenInformation(TokenUser)", GetLastError());
                goto out;
        }
        if (!ConvertSidToStringSidA(tu.user.User.Sid, &sid)) {
                r = fail(errbuf, errlen, "ConvertSidToStringSid", GetLastError());
                goto out;
        }
        snprintf(out->user_sid, sizeof(out->user_sid), "%s", sid);
        LocalFree(sid);
        if (AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                     DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &admins)) {
                /* An enabled group only: a deny-only Administrators (a
                 * filtered admin token) does not make an admin. */
                if (CheckTokenMembership(token, admins, &member))
                        out->admin = member != FALSE;
                FreeSid(admins);
        }
out:
        CloseHandle(token);
        return r;
}

int sbd_pipe_account_sid(const char *name, char *buf, size_t len)
{
        wchar_t wname[256], domain[256];
        BYTE sid[SECURITY_MAX_SID_SIZE];
        DWORD sid_len = sizeof(sid), domain_len = 256;
        SID_NAME_USE use;
        char *s = NULL;
        size_t n;

        if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, wname, 256))
                return -EINVAL;
        if (!LookupAccountNameW(NULL, wname, sid, &sid_len, domain, &domain_len, &use))
                return -ENOENT;
        if (!ConvertSidToStringSidA(sid, &s))
                return -ENOMEM;
        n = strlen(s);
        if (n >= len) {
                LocalFree(s);
                return -ENAMETOOLONG;
        }
        memcpy(buf, s, n + 1);
        LocalFree(s);
        return 0;
}
