/* cgroup_scope.h — a cgroup of the daemon's own on a systemd host.
 *
 * Under cgroup v2, systemd owns every cgroup that was not delegated to a
 * unit (Delegate=yes marks the delegated ones with the trusted.delegate
 * xattr). A daemon started by hand, from a shell or from another unit,
 * sits in such a cgroup beside other processes, where it may neither
 * create job cgroups with controllers nor move anyone else: it asks
 * systemd for a transient scope with Delegate=yes around itself instead,
 * as container runtimes do.
 */
#pragma once

#include <stddef.h>

/* Move the calling process into the scope skillboxd-<cgroup_name>.scope
 * when this is a systemd host with cgroup v2 and the caller's cgroup is not
 * delegated. Returns 1 when it moved, 0 when nothing was needed (cgroup v1,
 * no systemd, already delegated), or -errno with the reason in errbuf. A
 * scope of that name left by an instance that died (with its jobs still in
 * it) is stopped first: the caller must hold the instance lock of
 * cgroup_name, so no live instance owns it. */
int sbd_cgroup_scope_enter(const char *cgroup_name, char *errbuf, size_t errlen);
