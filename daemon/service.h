/* service.h — the daemon's side of the service manager that starts it:
 * the listening handle it passes (socket activation), readiness, status
 * text, the watchdog, the stopping notice, and a cgroup of the daemon's own.
 *
 * service_systemd.c speaks systemd's protocol; service_none.c stands in
 * where the build has no service manager to talk to. Started by hand, with
 * no manager listening, every call is a no-op: no handle is passed, and
 * ready, status, watchdog and stopping reach nobody.
 */
#pragma once

#include <stddef.h>

#include "daemon/daemon.h"
#include "daemon/transport/transport.h"

/* The listening socket the service manager passed, in *out: 0, or -ENOENT
 * when none was passed, or another -errno (logged) when what was passed
 * is not a listening socket the transport can serve. Call once, before
 * anything else reads the environment; the manager's variables are
 * removed so no job inherits them. */
int sbd_service_listen_handle(struct sbd_handle *out);

/* After listening and the host checks: the daemon is ready. From then on
 * the manager gets a status text that follows the running job count and
 * the drain (rate-limited, so a burst of jobs costs one message), and
 * watchdog pings from the loop itself (a stuck loop stops them). Handles
 * are unreferenced so they never keep the loop alive; the final uv_walk()
 * closes them. Returns 0 or <0 (logged). */
int sbd_service_ready(struct sbd_daemon *d);

/* On drain: the daemon is stopping, and says how many jobs it waits for. */
void sbd_service_stopping(struct sbd_daemon *d);

/* A cgroup of the daemon's own on a systemd host.
 *
 * Under cgroup v2, systemd owns every cgroup that was not delegated to a
 * unit (Delegate=yes marks the delegated ones with the trusted.delegate
 * xattr). A daemon started by hand, from a shell or from another unit,
 * sits in such a cgroup beside other processes, where it may neither
 * create job cgroups with controllers nor move anyone else: it asks
 * systemd for a transient scope with Delegate=yes around itself instead,
 * as container runtimes do.
 *
 * Move the calling process into the scope skillboxd-<cgroup_name>.scope
 * when this is a systemd host with cgroup v2 and the caller's cgroup is not
 * delegated. Returns 1 when it moved, 0 when nothing was needed (cgroup v1,
 * no systemd, already delegated), or -errno with the reason in errbuf. A
 * scope of that name left by an instance that died (with its jobs still in
 * it) is stopped first: the caller must hold the instance lock of
 * cgroup_name, so no live instance owns it. */
int sbd_service_cgroup_enter(const char *cgroup_name, char *errbuf, size_t errlen);
