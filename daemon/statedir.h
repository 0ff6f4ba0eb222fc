/* statedir.h — every directory skillboxd creates, with its mode, and the
 * two helpers that create them (statedir.c).
 *
 *   directory                     mode  created by          why this mode
 *   parents of the state dir      0755  sbd_statedir_prepare  only traversed
 *   the state dir (--state-dir)   0700  sbd_statedir_prepare  job dirs are the
 *                                                          clients' files
 *   <state dir>/jobs              0700  sbd_statedir_prepare  one dir per job
 *   <state dir>/jobs/<id>/...     0700  the backend (jobdir.c), per job
 *   <state dir>/root              0755  the linux backend: the mount point
 *                                       jobs' roots are built on
 *   the socket's dir and parents  0755  the transport (sbd_mkdir_parents): clients
 *                                       must reach the socket
 *   SBD_INSTANCE_REGISTRY         0700  instance.c (sbd_private_dir_open): a
 *                                       file there decides who may start
 * A directory that already exists keeps its mode; the private ones (state
 * dir, jobs, registry) must then be ours and writable by nobody else, or
 * the daemon refuses to start: whoever else can write there can swap a
 * job's directory or forge a registration.
 */
#pragma once

#include <sys/types.h>

#define SBD_DIR_MODE_PARENT   0755
#define SBD_DIR_MODE_STATE    0700
#define SBD_DIR_MODE_JOBS     0700
#define SBD_DIR_MODE_SOCKET   0755
#define SBD_DIR_MODE_REGISTRY 0700

/* mkdir -p of path's parents (not of path itself, which may be a file such
 * as a socket), each missing one with mode; existing ones are left as they
 * are. Logs the directory that failed; 0 or -errno. */
int sbd_mkdir_parents(const char *path, mode_t mode);

/* Create name (relative to dfd, or AT_FDCWD) with mode if missing, open it
 * without following a symlink, and check that it is a directory owned by
 * our effective uid that neither group nor others may write. what names it
 * in the log ("state dir"). Returns the open fd (O_CLOEXEC) or -errno
 * (-EPERM for a directory not to be trusted). */
int sbd_private_dir_open(int dfd, const char *name, mode_t mode, const char *what);

/* The state dir and its jobs/ (modes above), created and checked before
 * the backend opens. 0 or -errno, logged. */
int sbd_statedir_prepare(const char *dir);
