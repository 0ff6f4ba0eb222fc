/* sb-win-service — the service plumbing of skillboxd (daemon/service_windows.c)
 * in a program of its own, for tests/windows/run.sh under Wine: it installs
 * itself as the "skillbox" service, runs as it (a body that waits for
 * stop), and drives the service control manager. Built, not installed.
 *
 *   sb-win-service install | start | stop | status | config | uninstall
 *   sb-win-service wait-running | wait-stopped   (whatever program the service runs)
 *   sb-win-service --service        (how the manager starts it)
 */
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "daemon/service_windows.h"
#include "daemon/service_windows_config.h"

static HANDLE stop_event;

static int body_run(void *ctx)
{
        sbd_win_service_running();
        WaitForSingleObject(stop_event, INFINITE);
        sbd_win_service_stopping(2000);
        return 0;
}

static void body_stop(void *ctx)
{
        SetEvent(stop_event);
}

static const char *state_name(DWORD s)
{
        switch (s) {
        case SERVICE_STOPPED: return "stopped";
        case SERVICE_START_PENDING: return "start_pending";
        case SERVICE_STOP_PENDING: return "stop_pending";
        case SERVICE_RUNNING: return "running";
        default: return "other";
        }
}

/* Poll until the service is in want (or 20 s passed); prints the state. */
static int wait_state(SC_HANDLE svc, DWORD want)
{
        SERVICE_STATUS st = { 0 };

        for (int i = 0; i < 200; i++) {
                if (!QueryServiceStatus(svc, &st))
                        break;
                if (st.dwCurrentState == want)
                        break;
                Sleep(100);
        }
        printf("state %s\n", state_name(st.dwCurrentState));
        return st.dwCurrentState == want ? 0 : 1;
}

int main(int argc, char **argv)
{
        char errbuf[256] = "", self[MAX_PATH];
        SC_HANDLE scm, svc;
        SERVICE_STATUS st;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: sb-win-service install|start|stop|status|wait-running|wait-stopped|config|uninstall\n");
                return 2;
        }
        if (strcmp(argv[1], "--service") == 0) {
                const struct sbd_win_service_body body = { body_run, body_stop, NULL };

                stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
                r = sbd_win_service_dispatch(&body, errbuf, sizeof(errbuf));
                if (r < 0)
                        fprintf(stderr, "%s\n", errbuf);
                return r < 0 ? 1 : 0;
        }
        if (strcmp(argv[1], "install") == 0) {
                if (!GetModuleFileNameA(NULL, self, sizeof(self)))
                        return 1;
                r = sbd_win_service_install(self, NULL, errbuf, sizeof(errbuf));
                printf("%s\n", r < 0 ? errbuf : "installed");
                return r < 0;
        }
        if (strcmp(argv[1], "uninstall") == 0) {
                r = sbd_win_service_uninstall(10000, errbuf, sizeof(errbuf));
                printf("%s\n", r < 0 ? errbuf : "uninstalled");
                return r < 0;
        }
        scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
        svc = scm ? OpenServiceW(scm, L"" SBD_WIN_SERVICE_NAME, SERVICE_ALL_ACCESS) : NULL;
        if (!svc) {
                printf("open: Win32 error %lu\n", (unsigned long)GetLastError());
                return 1;
        }
        r = 0;
        if (strcmp(argv[1], "start") == 0) {
                if (!StartServiceW(svc, 0, NULL))
                        printf("start: Win32 error %lu\n", (unsigned long)GetLastError());
                r = wait_state(svc, SERVICE_RUNNING);
        } else if (strcmp(argv[1], "stop") == 0) {
                if (!ControlService(svc, SERVICE_CONTROL_STOP, &st))
                        printf("stop: Win32 error %lu\n", (unsigned long)GetLastError());
                r = wait_state(svc, SERVICE_STOPPED);
        } else if (strcmp(argv[1], "wait-running") == 0) {
                r = wait_state(svc, SERVICE_RUNNING);
        } else if (strcmp(argv[1], "wait-stopped") == 0) {
                r = wait_state(svc, SERVICE_STOPPED);
        } else if (strcmp(argv[1], "status") == 0) {
                if (QueryServiceStatus(svc, &st))
                        printf("state %s\n", state_name(st.dwCurrentState));
        } else if (strcmp(argv[1], "config") == 0) {
                union {
                        QUERY_SERVICE_CONFIGW c;
                        char buf[8192];
                } q;
                DWORD need;

                if (QueryServiceConfigW(svc, &q.c, sizeof(q), &need))
                        printf("binary %ls\nstart_type %lu\naccount %ls\n", q.c.lpBinaryPathName,
                               (unsigned long)q.c.dwStartType,
                               q.c.lpServiceStartName ? q.c.lpServiceStartName : L"(none)");
        }
        CloseServiceHandle(svc);
        CloseServiceHandle(scm);
        return r;
}
