/* instance.h — one skillboxd per cgroup subtree, uid range and state dir. */
#pragma once

#include "daemon/daemon.h"

/* The host-wide registry of running instances: one file per daemon, each
 * write-locked by its daemon for as long as it lives. */
#define SBD_INSTANCE_REGISTRY "/run/skillbox-instances"

/* Registers this daemon in registry_dir, unless a live instance there holds
 * the same cgroup name, an overlapping uid range or the same state dir: then
 * logs which and whose pid, and returns -EBUSY. Entries of dead instances
 * are removed, so a restart after a crash goes on to reap what they left.
 * Must run before the backend touches cgroups, uids or job dirs. */
int sbd_instance_claim(struct sbd_daemon *d, const char *registry_dir);

/* Drops the registration (after the backend let go of everything). */
void sbd_instance_release(struct sbd_daemon *d);
