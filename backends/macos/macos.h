/* macos.h — internals of the macOS backend (macos.c): the few system
 * calls that differ from the posix backend's, each in a small file. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Seatbelt (libsandbox, in libSystem): the SDK ships no header for it, so
 * its two calls are declared here as Apple's own tools use them. flags 0:
 * profile is SBPL text; parameters is name, value, ..., NULL. */
int sandbox_init_with_parameters(const char *profile, uint64_t flags,
                                 const char *const parameters[], char **errorbuf);
void sandbox_free_error(char *errorbuf);

/* A kqueue that becomes readable when pid exits (EVFILT_PROC, NOTE_EXIT)
 * and, with interval_ms > 0, every interval_ms (EVFILT_TIMER) so memory
 * can be sampled; close-on-exec. A pid that is already a zombie makes it
 * readable at once. -errno on failure. */
int sb_macos_exit_kqueue(pid_t pid, uint32_t interval_ms);
/* Empties the kqueue's pending events (it stays readable otherwise);
 * returns 1 when the exit was among them, 0 when not, -errno. */
int sb_macos_exit_kqueue_drain(int kq);

/* Bytes of physical memory the processes of uid use (phys_footprint, what
 * Activity Monitor shows), summed; with uid_owned false only pid's. */
uint64_t sb_macos_memory_sample(uid_t uid, bool uid_owned, pid_t pid);

/* How many processes uid has (at most a buffer's worth), or -errno. */
int sb_macos_uid_processes(uid_t uid);

/* SIGKILL every process of uid, atomically with respect to forks: a child
 * that takes the uid and kill(-1)s (it cannot signal anyone else). Only for
 * a uid no one but the job has. 0 or -errno. */
int sb_macos_uid_sweep(uid_t uid, gid_t gid);
