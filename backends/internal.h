/* internal.h — helpers shared by the backends (not part of the contract).
 *
 * Three groups: error text for the parent ("STEP: ENAME" into an errbuf),
 * the allocation-free toolkit used between fork/clone and execve (error
 * records on a pipe, stdio setup, PATH search), and the job directory
 * <state_dir>/jobs/<id>/work that both posix and linux jobs run in.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "backends/backend.h"

/* ---- parent side: error text ---- */

/* Symbolic name of an errno value ("EPERM"); "E?" if unknown. */
const char *sb_backend_errname(int err);

/* errbuf = "<fmt...>: ENAME" (r is a negative errno); returns r. */
int sb_backend_fail(char *errbuf, size_t errlen, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* ---- child side (after fork/clone, before execve): no malloc, no stdio ---- */

/* One record on the O_CLOEXEC error pipe. Fixed size, smaller than PIPE_BUF
 * so the write is atomic. err > 0: setup failed at `step` (the child then
 * exits). err == 0: an exit record from the linux job's init, carrying the
 * wait status of the job's program (the init itself exits right after). */
#define SB_CHILD_STEP_MAX 124
struct sb_child_error {
        int32_t err;                    /* positive errno, or 0 for an exit record */
        int32_t wstatus;                /* exit record: the program's wait status */
        char step[SB_CHILD_STEP_MAX];   /* NUL-terminated, e.g. "mount /usr on /usr" */
};

/* Write {err, step + arg} to errfd and _exit(127). Never returns. */
__attribute__((noreturn))
void sb_child_fail(int errfd, int err, const char *step, const char *arg);

/* In a child before exec: set resource res to v (soft and hard), never
 * above the hard limit the daemon was started with: raising that needs
 * CAP_SYS_RESOURCE, which a daemon in a container may lack, and a lower
 * limit only tightens the job. A failure is the child's (sb_child_fail). */
void sb_child_rlimit(int errfd, int res, unsigned long long v, const char *name);

/* First thing in a child: every signal back to SIG_DFL (SIG_IGN would
 * survive execve, and a daemon handler must never run in the copy), an
 * empty signal mask, umask 022. The parent blocks all signals around
 * fork/clone (sb_backend_block_signals) so none arrives before this. */
void sb_child_reset_signals(void);
/* Its second half alone, for a child whose handlers are known to be
 * SIG_DFL already: an empty signal mask, umask 022. */
void sb_child_reset_mask(void);

/* Block every signal in the calling thread; *old gets the previous mask. */
void sb_backend_block_signals(sigset_t *old);
void sb_backend_restore_signals(const sigset_t *old);

/* If *fd is one of 0..2, move it above (close-on-exec kept). */
int sb_child_fd_above_stdio(int *fd);

/* Put in/out/err on 0/1/2 (coping with any overlap), then close every fd
 * >= 3 except the nkeep in keep[] (-1 = none; kept ones must be
 * O_CLOEXEC). Returns 0 or -errno and sets *step on failure. */
int sb_child_stdio(int in, int out, int err, const int *keep, int nkeep, const char **step);

/* execve argv[0], searching PATH from envp when it has no '/', like execvp
 * but using only stack buffers. Returns only on failure, with errno set. */
void sb_child_exec(char *const *argv, char *const *envp);

/* Read the records on a (non-blocking or closed) error pipe. A setup
 * failure becomes "STEP: ENAME" in out; an exit record's status goes to
 * *wstatus (left at -1 when there is none; wstatus may be NULL). Returns 1
 * if a setup failure was read, 0 if none. */
int sb_backend_read_child_error(int fd, char *out, size_t outlen, int *wstatus);

/* ---- job directory: <state_dir>/jobs/<id> (root, 0700) and work/ (uid, 0700) ---- */

/* Create <state_dir>/jobs (once) and the job's dirs; writes the absolute path
 * of work/ into work_path. */
int sb_backend_jobdir_create(const char *state_dir, const char *job_id, uid_t uid, gid_t gid,
                             char *work_path, size_t work_len, char *errbuf, size_t errlen);
/* Remove <state_dir>/jobs/<id> recursively without following links or
 * crossing mount points. -ENOENT if it was not there. */
int sb_backend_jobdir_remove(const char *state_dir, const char *job_id);
/* Remove every entry under <state_dir>/jobs/ (leftovers of a previous run). */
int sb_backend_jobdir_remove_all(const char *state_dir);
/* Remove the tree `name` under dirfd (same rules as above). */
int sb_backend_remove_tree(int dirfd, const char *name);

/* A job id names a directory and a cgroup: [a-z0-9-], 1..SBP_JOB_ID_MAX. */
int sb_backend_job_id_valid(const char *id);

/* ---- the identity pool (idpool.c): ids first..last, each held by one job ---- */

struct sb_backend_idpool {
        uint32_t first, count;
        uint32_t cursor;        /* where the next search starts */
        uint8_t *used;          /* a bit per id */
};

/* -EINVAL for an empty range or one starting at 0 (root), -ENOMEM. */
int sb_backend_idpool_init(struct sb_backend_idpool *p, uint32_t first, uint32_t last);
void sb_backend_idpool_free(struct sb_backend_idpool *p);
/* A free id, marked taken; -EAGAIN when every one is. */
int sb_backend_idpool_take(struct sb_backend_idpool *p, uint32_t *out);
void sb_backend_idpool_give(struct sb_backend_idpool *p, uint32_t id);

/* ---- network allowlist on the host's loopback (egress_host.c) ---- */

/* A TCP socket listening on 127.0.0.1 at a port the kernel picked (into
 * *port), close-on-exec: the egress proxy's for one job. The fd, or -errno
 * with errbuf naming the step ("network allowlist: bind 127.0.0.1:0: ..."). */
int sb_backend_egress_listen(uint16_t *port, char *errbuf, size_t errlen);
/* envp with each proxy variable that still holds SB_NETWORK_PROXY_URL
 * pointing at port instead; the other entries are envp's own strings. One
 * allocation (free() it), NULL on no memory. */
char **sb_backend_egress_env(char *const *envp, uint16_t port);

/* A job's side of the proxy on the host's loopback: the listener and the
 * environment naming its port. fd -1 and envp NULL when there is none. */
struct sb_backend_egress {
        int fd;
        char **envp;
        uint16_t port;
};
#define SB_BACKEND_EGRESS_NONE ((struct sb_backend_egress){ .fd = -1 })
/* Both of the above for a job whose spec's environment is envp; 0, or
 * -errno with errbuf naming the step (e left as none). */
int sb_backend_egress_open(struct sb_backend_egress *e, char *const *envp, char *errbuf,
                           size_t errlen);
/* Closes and frees what open() made; e is none after. */
void sb_backend_egress_close(struct sb_backend_egress *e);
