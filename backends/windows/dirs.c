/* dirs.c — a Windows job's directory: removed with everything in it.
 *
 * Links are removed, never followed: a directory junction or symbolic link
 * the job made (FILE_ATTRIBUTE_REPARSE_POINT) goes as an entry of its own,
 * so nothing outside the job's directory is touched.
 */
#include <errno.h>
#include <string.h>
#include <wchar.h>

#include "backends/windows/win_backend.h"

int sb_win_remove_tree(const wchar_t *path)
{
        WIN32_FIND_DATAW fd;
        wchar_t pattern[MAX_PATH], child[MAX_PATH];
        HANDLE h;
        int first = 0;

        if (_snwprintf(pattern, MAX_PATH, L"%ls\\*", path) < 0)
                return -ENAMETOOLONG;
        pattern[MAX_PATH - 1] = L'\0';
        h = FindFirstFileW(pattern, &fd);
        if (h == INVALID_HANDLE_VALUE) {
                DWORD e = GetLastError();

                if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
                        return 0;
                return sb_win_errno(e);
        }
        do {
                int r = 0;

                if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
                        continue;
                if (_snwprintf(child, MAX_PATH, L"%ls\\%ls", path, fd.cFileName) < 0) {
                        r = -ENAMETOOLONG;
                } else {
                        child[MAX_PATH - 1] = L'\0';
                        /* A read-only file cannot be deleted as it is. */
                        if (fd.dwFileAttributes & FILE_ATTRIBUTE_READONLY)
                                SetFileAttributesW(child, fd.dwFileAttributes &
                                                   ~(DWORD)FILE_ATTRIBUTE_READONLY);
                        if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
                            !(fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
                                r = sb_win_remove_tree(child);
                        } else if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
                                if (!RemoveDirectoryW(child))
                                        r = sb_win_errno(GetLastError());
                        } else if (!DeleteFileW(child)) {
                                r = sb_win_errno(GetLastError());
                        }
                }
                if (r < 0 && first == 0)
                        first = r;
        } while (FindNextFileW(h, &fd));
        FindClose(h);
        if (!RemoveDirectoryW(path) && first == 0)
                first = sb_win_errno(GetLastError());
        return first;
}
