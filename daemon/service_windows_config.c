/* service_windows_config.c — the Windows service's registration
 * (service_windows_config.h). Pure: no Windows headers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "backends/windows/cmdline.h"
#include "daemon/service_windows_config.h"

static int append(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
        if (*pos + n >= len) {
                if (*pos < len)
                        buf[*pos] = '\0';
                return -ENOSPC;
        }
        memcpy(buf + *pos, s, n);
        *pos += n;
        buf[*pos] = '\0';
        return 0;
}

/* C:\... or \\server\share\... */
static bool absolute(const char *p)
{
        if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' &&
            (p[2] == '\\' || p[2] == '/'))
                return true;
        return p[0] == '\\' && p[1] == '\\' && p[2] && p[2] != '\\';
}

int sbd_win_service_config(const char *exe, const char *config_path,
                           struct sbd_win_service_config *out)
{
        size_t pos = 0;
        int r;

        memset(out, 0, sizeof(*out));
        if (!exe || !absolute(exe) || (config_path && !absolute(config_path)))
                return -EINVAL;
        out->name = SBD_WIN_SERVICE_NAME;
        out->display_name = "skillbox sandbox service";
        out->description = "Runs untrusted skill code in job objects with limits and accounting "
                           "(skillboxd).";
        out->service_type = SBD_WIN_SERVICE_WIN32_OWN_PROCESS;
        out->start_type = SBD_WIN_SERVICE_AUTO_START;
        out->error_control = SBD_WIN_SERVICE_ERROR_NORMAL;
        out->account = NULL;
        out->restarts = 3;
        out->restart_delay_ms = 5000;
        out->reset_period_s = 86400;

        r = sb_win_quote_arg(exe, out->command_line, sizeof(out->command_line), &pos);
        /* Always quoted, even without a space: a path is never split. */
        if (r == 0 && out->command_line[0] != '"') {
                pos = 0;
                r = append(out->command_line, sizeof(out->command_line), &pos, "\"", 1);
                if (r == 0)
                        r = append(out->command_line, sizeof(out->command_line), &pos, exe,
                                   strlen(exe));
                if (r == 0)
                        r = append(out->command_line, sizeof(out->command_line), &pos, "\"", 1);
        }
        if (r == 0)
                r = append(out->command_line, sizeof(out->command_line), &pos, " --service",
                           strlen(" --service"));
        if (r == 0 && config_path) {
                r = append(out->command_line, sizeof(out->command_line), &pos, " --config ",
                           strlen(" --config "));
                if (r == 0)
                        r = sb_win_quote_arg(config_path, out->command_line,
                                              sizeof(out->command_line), &pos);
        }
        return r;
}

int sbd_win_service_config_format(const struct sbd_win_service_config *c, char *buf, size_t len)
{
        int n = snprintf(buf, len,
                         "ServiceName = %s\n"
                         "DisplayName = %s\n"
                         "Description = %s\n"
                         "ServiceType = 0x%08" PRIx32 "\n"
                         "StartType = 0x%08" PRIx32 "\n"
                         "ErrorControl = 0x%08" PRIx32 "\n"
                         "Account = %s\n"
                         "BinaryPathName = %s\n"
                         "FailureActions = %" PRIu32 " x restart after %" PRIu32 " ms, reset after %" PRIu32 " s\n",
                         c->name, c->display_name, c->description, c->service_type, c->start_type,
                         c->error_control, c->account ? c->account : "LocalSystem",
                         c->command_line, c->restarts, c->restart_delay_ms, c->reset_period_s);

        if (n < 0 || (size_t)n >= len)
                return -ENOSPC;
        return n;
}
