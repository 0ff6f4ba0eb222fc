/* service_launchd.c — the service manager seam (service.h) for launchd,
 * macOS's: the socket of launchd/org.skillbox.skillboxd.plist, taken with
 * launch_activate_socket(3).
 *
 * launchd has no readiness, status or watchdog protocol: it starts the
 * daemon on the first connection and counts it running from exec, so
 * ready and stopping tell nobody. It owns no cgroups (macOS has none).
 * Started by hand (not by launchd), launch_activate_socket() fails with
 * ESRCH and the daemon binds its socket itself, as service_none.c does.
 */
#include <errno.h>
#include <launch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/service.h"

/* The key under Sockets in the plist (tests/unit/test_launchd_plist.py
 * checks that the two agree). */
#define LAUNCHD_SOCKET_NAME "Listeners"

/* Whether fd is a listening stream socket: what the transport serves. */
static int check_listening(int fd)
{
        int type = 0, listening = 0;
        socklen_t len = sizeof(type);

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return -errno;
        len = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
                return -errno;
        return type == SOCK_STREAM && listening ? 0 : -ENOTSOCK;
}

int sbd_service_listen_handle(struct sbd_handle *out)
{
        int *fds = NULL;
        size_t n = 0;
        int r;

        *out = SBD_HANDLE_NONE;
        r = launch_activate_socket(LAUNCHD_SOCKET_NAME, &fds, &n);
        if (r == ESRCH)
                return -ENOENT;   /* not started by launchd */
        if (r != 0)
                return log_errno(-r, "launchd: socket %s", LAUNCHD_SOCKET_NAME);
        /* The plist names one socket; anything more is not ours to serve. */
        for (size_t i = 1; i < n; i++)
                close(fds[i]);
        if (n == 0) {
                free(fds);
                return log_errno(-ENOENT, "launchd: socket %s: none passed", LAUNCHD_SOCKET_NAME);
        }
        r = check_listening(fds[0]);
        if (r < 0) {
                close(fds[0]);
                free(fds);
                return log_errno(r, "launchd: socket %s: not a listening stream socket",
                                 LAUNCHD_SOCKET_NAME);
        }
        out->fd = fds[0];
        free(fds);
        return 0;
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

int sbd_service_cgroup_enter(const char *cgroup_name, char *errbuf, size_t errlen)
{
        (void)cgroup_name;
        (void)errbuf;
        (void)errlen;
        return 0;
}
