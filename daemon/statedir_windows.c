/* statedir_windows.c — the daemon's directories on Windows (statedir.h).
 *
 * POSIX modes become security descriptors: a private directory is created
 * owned by the Administrators with a protected DACL (nothing inherited)
 * granting SYSTEM and the Administrators everything, inherited by what is
 * created inside. One that exists is trusted only when its owner is SYSTEM,
 * the Administrators or the daemon's own account, it is a directory and no reparse point (the
 * O_NOFOLLOW of statedir.c), and its DACL lets nobody else write: no
 * allowing entry, for itself or inherited by its children, with a right
 * that changes the directory, its entries, or its descriptor for anyone but
 * SYSTEM, the Administrators and its owner. A NULL DACL (everyone may do
 * everything) is refused. The parents are created with the default
 * descriptor (inherited from theirs): they are only traversed, mode is not
 * used.
 */
#include <errno.h>
#include <io.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include "daemon/log.h"
#include "daemon/statedir.h"

#define PRIVATE_DIR_SDDL "O:BAG:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
/* What counts as writing to a directory: its entries (add a file or a
 * subdirectory, delete a child), its attributes, itself, its descriptor. */
#define DIR_WRITE_RIGHTS (FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | \
                          FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES | DELETE | WRITE_DAC | \
                          WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL)

static int win_errno(DWORD e)
{
        switch (e) {
        case ERROR_ACCESS_DENIED:
                return -EACCES;
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND:
                return -ENOENT;
        case ERROR_NOT_ENOUGH_MEMORY:
                return -ENOMEM;
        case ERROR_FILENAME_EXCED_RANGE:
                return -ENAMETOOLONG;
        default:
                return -EIO;
        }
}

static bool to_wide(const char *s, wchar_t *w, int n)
{
        return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != 0;
}

int sbd_mkdir_parents(const char *path, mode_t mode)
{
        char buf[MAX_PATH];
        wchar_t w[MAX_PATH];
        char *p;

        if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
                return log_errno(-ENAMETOOLONG, "mkdir %s", path);
        /* Past a drive ("C:\") or the root: those exist. */
        p = buf + (buf[0] && buf[1] == ':' ? 3 : 1);
        for (; p < buf + strlen(path); p++) {
                if (*p != '\\' && *p != '/')
                        continue;
                *p = '\0';
                if (!to_wide(buf, w, MAX_PATH))
                        return log_errno(-EINVAL, "mkdir %s: not UTF-8", buf);
                if (!CreateDirectoryW(w, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
                        return log_errno(win_errno(GetLastError()), "mkdir %s", buf);
                *p = '\\';
        }
        return 0;
}

/* Whether sid is the user of this process's token (the daemon's account:
 * SYSTEM as a service): statedir.c's "owned by our effective uid". */
static bool sid_is_self(PSID sid)
{
        union {
                TOKEN_USER user;
                char buf[256];
        } tu;
        HANDLE token;
        DWORD len = 0;
        bool self = false;

        if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
                return false;
        if (GetTokenInformation(token, TokenUser, &tu, sizeof(tu), &len))
                self = EqualSid(sid, tu.user.User.Sid) != FALSE;
        CloseHandle(token);
        return self;
}

static bool sid_trusted(PSID sid, PSID owner)
{
        return IsWellKnownSid(sid, WinLocalSystemSid) ||
               IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
               (owner && EqualSid(sid, owner));
}

/* 0 when the descriptor of h lets only the trusted write, else -EPERM with
 * the reason in why. */
static int check_security(HANDLE h, char *why, size_t whylen)
{
        PSECURITY_DESCRIPTOR sd = NULL;
        PSID owner = NULL;
        PACL dacl = NULL;
        DWORD e, i;
        int r = 0;

        e = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION |
                            DACL_SECURITY_INFORMATION, &owner, NULL, &dacl, NULL, &sd);
        if (e != ERROR_SUCCESS) {
                snprintf(why, whylen, "GetSecurityInfo: Win32 error %lu", (unsigned long)e);
                return win_errno(e);
        }
        if (!owner || !(IsWellKnownSid(owner, WinLocalSystemSid) ||
                        IsWellKnownSid(owner, WinBuiltinAdministratorsSid) ||
                        sid_is_self(owner))) {
                snprintf(why, whylen, "not owned by SYSTEM, the Administrators or the daemon's "
                         "account");
                r = -EPERM;
                goto out;
        }
        if (!dacl) {
                snprintf(why, whylen, "no DACL: everyone may write");
                r = -EPERM;
                goto out;
        }
        for (i = 0; i < dacl->AceCount; i++) {
                ACE_HEADER *ace;
                ACCESS_ALLOWED_ACE *allow;

                if (!GetAce(dacl, i, (void **)&ace)) {
                        snprintf(why, whylen, "GetAce: Win32 error %lu",
                                 (unsigned long)GetLastError());
                        r = -EIO;
                        goto out;
                }
                if (ace->AceType == ACCESS_DENIED_ACE_TYPE)
                        continue;
                if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE) {
                        /* Object or callback entries: not ours, not read. */
                        snprintf(why, whylen, "an entry of type %u in its DACL",
                                 (unsigned)ace->AceType);
                        r = -EPERM;
                        goto out;
                }
                allow = (ACCESS_ALLOWED_ACE *)ace;
                if ((allow->Mask & DIR_WRITE_RIGHTS) &&
                    !sid_trusted((PSID)&allow->SidStart, owner)) {
                        char *s = NULL;

                        ConvertSidToStringSidA((PSID)&allow->SidStart, &s);
                        snprintf(why, whylen, "%s may write to it (rights 0x%lx)",
                                 s ? s : "a SID", (unsigned long)allow->Mask);
                        LocalFree(s);
                        r = -EPERM;
                        goto out;
                }
        }
out:
        LocalFree(sd);
        return r;
}

int sbd_private_dir_open(int dfd, const char *name, mode_t mode, const char *what)
{
        SECURITY_ATTRIBUTES sa = { .nLength = sizeof(sa) };
        BY_HANDLE_FILE_INFORMATION info;
        wchar_t w[MAX_PATH];
        char why[256];
        HANDLE h;
        int fd, r;

        /* Paths only: the Windows C runtime has no directory descriptors. */
        if (dfd != AT_FDCWD)
                return log_errno(-ENOTSUP, "%s: %s relative to a directory", what, name);
        if (!to_wide(name, w, MAX_PATH))
                return log_errno(-EINVAL, "%s: %s: not UTF-8", what, name);
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(
                    PRIVATE_DIR_SDDL, SDDL_REVISION_1, &sa.lpSecurityDescriptor, NULL))
                return log_errno(win_errno(GetLastError()), "%s: the descriptor", what);
        if (!CreateDirectoryW(w, &sa) && GetLastError() != ERROR_ALREADY_EXISTS) {
                r = win_errno(GetLastError());
                LocalFree(sa.lpSecurityDescriptor);
                return log_errno(r, "%s: mkdir %s", what, name);
        }
        LocalFree(sa.lpSecurityDescriptor);
        h = CreateFileW(w, READ_CONTROL | FILE_READ_ATTRIBUTES,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                        OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
                        NULL);
        if (h == INVALID_HANDLE_VALUE)
                return log_errno(win_errno(GetLastError()), "%s: open %s", what, name);
        if (!GetFileInformationByHandle(h, &info)) {
                r = win_errno(GetLastError());
                CloseHandle(h);
                return log_errno(r, "%s: stat %s", what, name);
        }
        if (!(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ||
            (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
                CloseHandle(h);
                log_error("%s: %s: not a directory (or a link); refusing to trust it", what,
                          name);
                return -EPERM;
        }
        r = check_security(h, why, sizeof(why));
        if (r < 0) {
                CloseHandle(h);
                log_error("%s: %s: %s; refusing to trust it", what, name, why);
                return r;
        }
        fd = _open_osfhandle((intptr_t)h, 0);
        if (fd < 0) {
                CloseHandle(h);
                return log_errno(-EMFILE, "%s: %s", what, name);
        }
        return fd;
}

int sbd_statedir_prepare(const char *dir)
{
        char what[MAX_PATH + 16], jobs[MAX_PATH];
        int fd;

        fd = sbd_mkdir_parents(dir, SBD_DIR_MODE_PARENT);
        if (fd < 0)
                return fd;
        fd = sbd_private_dir_open(AT_FDCWD, dir, SBD_DIR_MODE_STATE, "state dir");
        if (fd < 0)
                return fd;
        _close(fd);
        if (snprintf(jobs, sizeof(jobs), "%s\\jobs", dir) >= (int)sizeof(jobs))
                return log_errno(-ENAMETOOLONG, "state dir %s", dir);
        snprintf(what, sizeof(what), "state dir %s", dir);
        fd = sbd_private_dir_open(AT_FDCWD, jobs, SBD_DIR_MODE_JOBS, what);
        if (fd < 0)
                return fd;
        _close(fd);
        return 0;
}
