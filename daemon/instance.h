/* instance.h — one skillboxd per cgroup subtree, uid range and state dir. */
#pragma once

#include <stdint.h>

/* The host-wide registry of running instances: one file per daemon, each
 * write-locked by its daemon for as long as it lives. */
#define SBD_INSTANCE_REGISTRY "/run/skillbox-instances"

/* This daemon's registration; fd < 0 when there is none. */
struct sbd_instance {
        int fd;                 /* our registry file, write-locked */
        int dirfd;              /* the registry directory */
        char name[24];          /* our file's name in it */
};

#define SBD_INSTANCE_NONE ((struct sbd_instance){ .fd = -1, .dirfd = -1 })

/* Registers this process in registry_dir (created 0700 if missing; it must
 * be the caller's own and writable by nobody else), unless a live instance
 * there holds the same cgroup name, an overlapping uid range or the same
 * state dir (an existing directory): then logs which, naming that daemon's
 * pid, and returns -EBUSY. Entries of dead instances are removed, so a
 * restart after a crash goes on to reap what they left. Must run before the
 * backend touches cgroups, uids or job dirs. */
int sbd_instance_claim(struct sbd_instance *in, const char *registry_dir, const char *cgroup_name,
                       uint32_t uid_first, uint32_t uid_last, const char *state_dir);

/* Drops the registration (after the backend let go of everything). */
void sbd_instance_release(struct sbd_instance *in);
