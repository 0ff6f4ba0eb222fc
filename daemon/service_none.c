/* service_none.c — the service manager seam (service.h) where the build
 * knows no service manager: the daemon is started by hand, serves the
 * socket it binds itself, and tells nobody that it is ready or stopping.
 * A host's own manager (launchd, the Windows service manager) gets a file
 * of its own beside this one.
 */
#include <errno.h>

#include "daemon/service.h"

int sbd_service_listen_handle(struct sbd_handle *out)
{
        *out = SBD_HANDLE_NONE;
        return -ENOENT;
}

int sbd_service_ready(struct sbd_daemon *d)
{
        (void)d;
        return 0;
}

void sbd_service_stopping(struct sbd_daemon *d)
{
        (void)d;
}

/* Without systemd no one else owns the cgroup tree the daemon sits in. */
int sbd_service_cgroup_enter(const char *cgroup_name, char *errbuf, size_t errlen)
{
        (void)cgroup_name;
        (void)errbuf;
        (void)errlen;
        return 0;
}
