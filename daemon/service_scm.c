/* service_scm.c — the service manager seam (service.h) on Windows: the
 * service control manager hears of readiness and of the drain through
 * service_windows.c. The daemon's pipe is its own (no handle is passed);
 * Windows has no cgroups. Run from a console, with no manager, the
 * reports reach nobody.
 */
#include <errno.h>

#include "daemon/service.h"
#include "daemon/service_windows.h"

/* How long the manager is told to wait between drain reports: the drain's
 * deadlines (main.c) together, and some. */
#define STOP_WAIT_HINT_MS 20000

int sbd_service_listen_handle(struct sbd_handle *out)
{
        *out = SBD_HANDLE_NONE;
        return -ENOENT;
}

int sbd_service_ready(struct sbd_daemon *d)
{
        (void)d;
        sbd_win_service_running();
        return 0;
}

void sbd_service_stopping(struct sbd_daemon *d)
{
        (void)d;
        sbd_win_service_stopping(STOP_WAIT_HINT_MS);
}

int sbd_service_cgroup_enter(const char *cgroup_name, char *errbuf, size_t errlen)
{
        (void)cgroup_name;
        (void)errbuf;
        (void)errlen;
        return 0;
}
