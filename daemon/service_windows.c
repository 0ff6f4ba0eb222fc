/* service_windows.c — the Windows service control manager's side of
 * skillboxd (service_windows.h).
 *
 * One service per process (SERVICE_WIN32_OWN_PROCESS): the dispatcher
 * thread is the process's main thread, ServiceMain runs the body, and the
 * control handler only forwards stop. The status handle and the current
 * status are this file's, as the manager allows one of each per service.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "daemon/service_windows.h"
#include "daemon/service_windows_config.h"

_Static_assert(SBD_WIN_SERVICE_WIN32_OWN_PROCESS == SERVICE_WIN32_OWN_PROCESS, "winnt.h");
_Static_assert(SBD_WIN_SERVICE_AUTO_START == SERVICE_AUTO_START, "winnt.h");
_Static_assert(SBD_WIN_SERVICE_ERROR_NORMAL == SERVICE_ERROR_NORMAL, "winnt.h");
_Static_assert(SBD_WIN_SC_ACTION_RESTART == SC_ACTION_RESTART, "winsvc.h");

#define START_WAIT_MS 30000

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static const struct sbd_win_service_body *service_body;
static int service_result;

static int fail(char *errbuf, size_t errlen, const char *step, DWORD e)
{
        if (errbuf && errlen)
                snprintf(errbuf, errlen, "%s: Win32 error %lu", step, (unsigned long)e);
        switch (e) {
        case ERROR_ACCESS_DENIED:
                return -EACCES;
        case ERROR_SERVICE_EXISTS:
                return -EEXIST;
        case ERROR_SERVICE_DOES_NOT_EXIST:
                return -ENOENT;
        case ERROR_FAILED_SERVICE_CONTROLLER_CONNECT:
                return -ENOTSUP;
        default:
                return -EIO;
        }
}

static void report(DWORD state, DWORD exit_code, DWORD wait_hint)
{
        status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
        status.dwCurrentState = state;
        /* Stop is accepted once running, never while starting. */
        status.dwControlsAccepted = state == SERVICE_RUNNING
                ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
        status.dwWin32ExitCode = exit_code ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
        status.dwServiceSpecificExitCode = exit_code;
        status.dwWaitHint = wait_hint;
        if (state == SERVICE_RUNNING || state == SERVICE_STOPPED)
                status.dwCheckPoint = 0;
        else
                status.dwCheckPoint++;
        if (status_handle)
                SetServiceStatus(status_handle, &status);
}

void sbd_win_service_running(void)
{
        report(SERVICE_RUNNING, 0, 0);
}

void sbd_win_service_stopping(uint32_t wait_ms)
{
        report(SERVICE_STOP_PENDING, 0, wait_ms);
}

static DWORD WINAPI control(DWORD code, DWORD type, void *data, void *ctx)
{
        switch (code) {
        case SERVICE_CONTROL_STOP:
        case SERVICE_CONTROL_SHUTDOWN:
                report(SERVICE_STOP_PENDING, 0, START_WAIT_MS);
                service_body->stop(service_body->ctx);
                return NO_ERROR;
        case SERVICE_CONTROL_INTERROGATE:
                return NO_ERROR;
        default:
                return ERROR_CALL_NOT_IMPLEMENTED;
        }
}

static void WINAPI service_main(DWORD argc, wchar_t **argv)
{
        status_handle = RegisterServiceCtrlHandlerExW(L"" SBD_WIN_SERVICE_NAME, control, NULL);
        if (!status_handle) {
                service_result = -EIO;
                return;
        }
        report(SERVICE_START_PENDING, 0, START_WAIT_MS);
        service_result = service_body->run(service_body->ctx);
        /* The exit code is the errno, positive, as a service-specific one. */
        report(SERVICE_STOPPED, service_result < 0 ? (DWORD)-service_result : 0, 0);
}

int sbd_win_service_dispatch(const struct sbd_win_service_body *body, char *errbuf,
                             size_t errlen)
{
        static wchar_t name[] = L"" SBD_WIN_SERVICE_NAME;
        const SERVICE_TABLE_ENTRYW table[] = {
                { name, service_main },
                { NULL, NULL },
        };

        service_body = body;
        if (!StartServiceCtrlDispatcherW(table))
                return fail(errbuf, errlen, "StartServiceCtrlDispatcherW", GetLastError());
        return service_result;
}

/* UTF-8 to a fresh UTF-16 copy; NULL for NULL or on failure. */
static wchar_t *widen(const char *s)
{
        wchar_t *w;
        int n;

        if (!s)
                return NULL;
        n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
        if (n <= 0)
                return NULL;
        w = calloc((size_t)n, sizeof(wchar_t));
        if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
                free(w);
                w = NULL;
        }
        return w;
}

int sbd_win_service_install(const char *exe, const char *config_path, char *errbuf,
                            size_t errlen)
{
        struct sbd_win_service_config cfg;
        SERVICE_DESCRIPTIONW desc;
        SERVICE_FAILURE_ACTIONSW fa;
        SC_ACTION actions[3];
        wchar_t *name = NULL, *display = NULL, *cmd = NULL, *text = NULL;
        SC_HANDLE scm = NULL, svc = NULL;
        int r;

        r = sbd_win_service_config(exe, config_path, &cfg);
        if (r < 0) {
                if (errbuf && errlen)
                        snprintf(errbuf, errlen, r == -EINVAL
                                 ? "the program and config paths must be absolute"
                                 : "the service's command line is too long");
                return r;
        }
        name = widen(cfg.name);
        display = widen(cfg.display_name);
        cmd = widen(cfg.command_line);
        text = widen(cfg.description);
        if (!name || !display || !cmd || !text) {
                r = -EINVAL;
                if (errbuf && errlen)
                        snprintf(errbuf, errlen, "the service's paths: not UTF-8");
                goto out;
        }
        scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
        if (!scm) {
                r = fail(errbuf, errlen, "OpenSCManagerW", GetLastError());
                goto out;
        }
        svc = CreateServiceW(scm, name, display, SERVICE_ALL_ACCESS, cfg.service_type,
                             cfg.start_type, cfg.error_control, cmd, NULL, NULL, NULL,
                             NULL /* LocalSystem */, NULL);
        if (!svc) {
                r = fail(errbuf, errlen, "CreateServiceW", GetLastError());
                goto out;
        }
        desc.lpDescription = text;
        if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc)) {
                r = fail(errbuf, errlen, "ChangeServiceConfig2W(description)", GetLastError());
                goto out;
        }
        for (uint32_t i = 0; i < 3; i++) {
                actions[i].Type = i < cfg.restarts ? SC_ACTION_RESTART : SC_ACTION_NONE;
                actions[i].Delay = cfg.restart_delay_ms;
        }
        memset(&fa, 0, sizeof(fa));
        fa.dwResetPeriod = cfg.reset_period_s;
        fa.cActions = 3;
        fa.lpsaActions = actions;
        if (!ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa)) {
                r = fail(errbuf, errlen, "ChangeServiceConfig2W(failure actions)", GetLastError());
                goto out;
        }
        r = 0;
out:
        /* A half-made registration does not stay. */
        if (r < 0 && svc)
                DeleteService(svc);
        if (svc)
                CloseServiceHandle(svc);
        if (scm)
                CloseServiceHandle(scm);
        free(name);
        free(display);
        free(cmd);
        free(text);
        return r;
}

int sbd_win_service_uninstall(uint32_t wait_ms, char *errbuf, size_t errlen)
{
        SERVICE_STATUS st;
        SC_HANDLE scm, svc;
        int r = 0;

        scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
        if (!scm)
                return fail(errbuf, errlen, "OpenSCManagerW", GetLastError());
        svc = OpenServiceW(scm, L"" SBD_WIN_SERVICE_NAME,
                           SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
        if (!svc) {
                r = fail(errbuf, errlen, "OpenServiceW", GetLastError());
                CloseServiceHandle(scm);
                return r;
        }
        if (ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
                for (uint32_t waited = 0; waited < wait_ms; waited += 100) {
                        if (!QueryServiceStatus(svc, &st) || st.dwCurrentState == SERVICE_STOPPED)
                                break;
                        Sleep(100);
                }
        }
        if (!DeleteService(svc))
                r = fail(errbuf, errlen, "DeleteService", GetLastError());
        CloseServiceHandle(svc);
        CloseServiceHandle(scm);
        return r;
}
