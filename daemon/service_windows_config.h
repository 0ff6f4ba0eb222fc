/* service_windows_config.h — how skillboxd registers itself with the
 * Windows service control manager (--install-service): the values passed
 * to CreateServiceW and ChangeServiceConfig2W, computed by pure code so the
 * Linux unit suite checks them (service_windows.c makes the calls).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SBD_WIN_SERVICE_NAME "skillbox"
#define SBD_WIN_SERVICE_CMDLINE_MAX 2048

/* winsvc.h / winnt.h values (checked against them in service_windows.c). */
#define SBD_WIN_SERVICE_WIN32_OWN_PROCESS 0x00000010u
#define SBD_WIN_SERVICE_AUTO_START 0x00000002u
#define SBD_WIN_SERVICE_ERROR_NORMAL 0x00000001u
#define SBD_WIN_SC_ACTION_RESTART 1u

struct sbd_win_service_config {
        const char *name;               /* the service's key name */
        const char *display_name;
        const char *description;
        uint32_t service_type;
        uint32_t start_type;
        uint32_t error_control;
        /* NULL: LocalSystem, which job objects, AppContainer profiles and
         * the pipe's DACL need. */
        const char *account;
        /* lpBinaryPathName: the program quoted (an unquoted path with a
         * space is run from the first word that exists), then --service
         * and, when given, --config with its path. */
        char command_line[SBD_WIN_SERVICE_CMDLINE_MAX];
        /* Failure actions: restart after restart_delay_ms, restarts times,
         * the count reset after reset_period_s without a failure. */
        uint32_t restarts;
        uint32_t restart_delay_ms;
        uint32_t reset_period_s;
};

/* The service's configuration for the program at exe (an absolute path,
 * drive letter or UNC; -EINVAL else) reading config_path (NULL: the
 * default). -ENOSPC when the command line is too long. */
int sbd_win_service_config(const char *exe, const char *config_path,
                           struct sbd_win_service_config *out);

/* The configuration as text, one "Field = value" line each: what the
 * golden files hold. Returns the length or -ENOSPC. */
int sbd_win_service_config_format(const struct sbd_win_service_config *c, char *buf, size_t len);
