/* service_windows.h — skillboxd under the Windows service control manager:
 * the service entry point (StartServiceCtrlDispatcherW), its status (start
 * pending, running, stop pending, stopped) and stop control, and
 * --install-service / --uninstall-service.
 *
 * The registration's values are service_windows_config.c's (pure, tested
 * on Linux); this file makes the calls.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* How the service's work runs: run(ctx) from the service's main thread,
 * after SERVICE_START_PENDING; it calls sbd_win_service_running() once
 * ready and returns when stop(ctx) (called on SERVICE_CONTROL_STOP or
 * SHUTDOWN, from the control handler's thread) made it finish; its return
 * value (0 or -errno) becomes the service's exit code. */
struct sbd_win_service_body {
        int (*run)(void *ctx);
        void (*stop)(void *ctx);
        void *ctx;
};

/* Hand this process to the service control manager as SBD_WIN_SERVICE_NAME
 * (the caller was started with --service); returns when the service
 * stopped: 0, or -errno with the reason in errbuf (not started by the
 * manager: -ENOTSUP, "StartServiceCtrlDispatcherW: ..."). */
int sbd_win_service_dispatch(const struct sbd_win_service_body *body, char *errbuf,
                             size_t errlen);
/* From run(): ready (SERVICE_RUNNING, stop accepted). */
void sbd_win_service_running(void);
/* From run() while draining: SERVICE_STOP_PENDING for up to wait_ms more. */
void sbd_win_service_stopping(uint32_t wait_ms);

/* Register the service for the program exe (an absolute path) reading
 * config_path (NULL: the default), started automatically as LocalSystem,
 * restarted on failure. 0, -EEXIST when it exists, or -errno; errbuf says
 * which call failed. */
int sbd_win_service_install(const char *exe, const char *config_path, char *errbuf,
                            size_t errlen);
/* Stop the service if it runs (waiting up to wait_ms) and remove it. 0,
 * -ENOENT when it is not installed, or -errno. */
int sbd_win_service_uninstall(uint32_t wait_ms, char *errbuf, size_t errlen);
