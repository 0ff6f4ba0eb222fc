/* util.c — the Windows backend's error texts and UTF-8 conversion. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/windows/win_backend.h"

int sb_win_errno(DWORD err)
{
        switch (err) {
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND:
                return -ENOENT;
        case ERROR_ACCESS_DENIED:
                return -EACCES;
        case ERROR_NOT_ENOUGH_MEMORY:
        case ERROR_OUTOFMEMORY:
        case ERROR_COMMITMENT_LIMIT:
                return -ENOMEM;
        case ERROR_INVALID_PARAMETER:
        case ERROR_BAD_EXE_FORMAT:
                return -EINVAL;
        case ERROR_ALREADY_EXISTS:
        case ERROR_FILE_EXISTS:
                return -EEXIST;
        case ERROR_NOT_SUPPORTED:
        case ERROR_CALL_NOT_IMPLEMENTED:
                return -EOPNOTSUPP;
        case ERROR_FILENAME_EXCED_RANGE:
                return -ENAMETOOLONG;
        default:
                return -EIO;
        }
}

int sb_win_fail(char *errbuf, size_t errlen, DWORD err, const char *step)
{
        char text[256] = "";
        size_t n;

        if (!FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err,
                            MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT), text, sizeof(text), NULL))
                text[0] = '\0';
        /* The system's text ends in ".\r\n". */
        n = strlen(text);
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == '.'))
                text[--n] = '\0';
        if (errbuf && errlen)
                snprintf(errbuf, errlen, "%s: %s%sWin32 error %lu%s", step, text,
                         text[0] ? " (" : "", (unsigned long)err, text[0] ? ")" : "");
        return sb_win_errno(err);
}

int sb_win_widen(const char *s, wchar_t *out, size_t n)
{
        if (n > INT32_MAX)
                n = INT32_MAX;
        if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, (int)n))
                return GetLastError() == ERROR_INSUFFICIENT_BUFFER ? -ENAMETOOLONG : -EINVAL;
        return 0;
}

int sb_backend_fail_text(char *errbuf, size_t errlen, int r, const char *text)
{
        if (errbuf && errlen)
                snprintf(errbuf, errlen, "%s", text);
        return r;
}
