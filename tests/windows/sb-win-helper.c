/* sb-win-helper — a small Windows program that tests/windows/run.sh runs as
 * a job: what a skill would do, in the few ways the tests need.
 *
 *   sb-win-helper echo TEXT     print TEXT and a newline, exit 0
 *   sb-win-helper exit N        exit with N
 *   sb-win-helper sleep MS      sleep, exit 0
 *   sb-win-helper env NAME      print NAME's value, or "(unset)"
 *   sb-win-helper tree          start "sb-win-helper sleep 600000" (a child
 *                               that outlives this one unless the job
 *                               ends), print "child PID", sleep
 *   sb-win-helper spin MS       burn CPU for MS milliseconds, exit 0
 *   sb-win-helper alive PID     print "alive" or "gone": whether process PID runs
 *   sb-win-helper cat           copy stdin to stdout until end of file
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

static int tree(void)
{
        wchar_t self[MAX_PATH], cmd[MAX_PATH + 64];
        STARTUPINFOW si = { .cb = sizeof(si) };
        PROCESS_INFORMATION pi;

        if (!GetModuleFileNameW(NULL, self, MAX_PATH))
                return 2;
        _snwprintf(cmd, sizeof(cmd) / sizeof(cmd[0]), L"\"%ls\" sleep 600000", self);
        cmd[sizeof(cmd) / sizeof(cmd[0]) - 1] = L'\0';
        if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
                fprintf(stderr, "CreateProcessW: %lu\n", (unsigned long)GetLastError());
                return 2;
        }
        printf("child %lu\n", (unsigned long)pi.dwProcessId);
        fflush(stdout);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
        Sleep(600000);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "echo") == 0) {
                printf("%s\n", argv[2]);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "exit") == 0)
                return atoi(argv[2]);
        if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
                Sleep((DWORD)atoi(argv[2]));
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "env") == 0) {
                const char *v = getenv(argv[2]);

                printf("%s\n", v ? v : "(unset)");
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "tree") == 0)
                return tree();
        if (argc == 2 && strcmp(argv[1], "cat") == 0) {
                char buf[4096];
                size_t n;

                while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
                        fwrite(buf, 1, n, stdout);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "spin") == 0) {
                ULONGLONG end = GetTickCount64() + (ULONGLONG)atoi(argv[2]);
                volatile unsigned long x = 0;

                while (GetTickCount64() < end)
                        x++;
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "alive") == 0) {
                HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
                                       (DWORD)strtoul(argv[2], NULL, 10));
                DWORD code = 0;
                bool alive = h && GetExitCodeProcess(h, &code) && code == STILL_ACTIVE;

                if (h)
                        CloseHandle(h);
                printf("%s\n", alive ? "alive" : "gone");
                return 0;
        }
        fprintf(stderr, "usage: sb-win-helper echo|exit|sleep|env|tree|spin|alive|cat ARG\n");
        return 2;
}
