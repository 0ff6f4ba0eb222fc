/* cgroup.h — one interface over cgroup v1 and v2 for the linux backend.
 *
 * An sb_cgroup is the daemon's subtree: <root>/<own path>/<name> (v2) or,
 * per v1 controller C, <root>/C/<own path for C>/<name>. A job cgroup is
 * <subtree>/<job id>. The root directory and the own path are runtime
 * parameters so unit tests can point them at a plain temporary directory
 * laid out like a cgroup tree; `fake` then makes writes create the files
 * the kernel would have created.
 *
 * Every function returns 0 or a negative errno; those taking an errbuf name
 * the failing file there ("write .../memory.max: EINVAL").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <sys/types.h>

#include "backends/backend.h"
#include "protocol/sbp.h"

#define SB_CGROUP_BASES_MAX 5   /* v1: memory pids cpu cpuacct freezer; v2: 1 */
#define SB_CGROUP_CPU_PERIOD_US 100000u

struct sb_cgroup_stats {
        uint64_t cpu_user_us;
        uint64_t cpu_sys_us;
        uint64_t memory_peak;   /* bytes */
        int64_t tasks_peak;     /* -1 = unknown */
        uint64_t oom_kills;     /* kernel OOM kills inside the job cgroup */
};

struct sb_cgroup_base {
        char path[PATH_MAX];    /* the subtree directory */
        int fd;                 /* O_DIRECTORY fd on it */
        uint32_t ctrls;         /* SB_CG_* controllers in this hierarchy (v1) */
};

enum {
        SB_CG_MEMORY  = 1u << 0,
        SB_CG_PIDS    = 1u << 1,
        SB_CG_CPU     = 1u << 2,
        SB_CG_CPUACCT = 1u << 3,
        SB_CG_FREEZER = 1u << 4,
};

struct sb_cgroup;

struct sb_cgroup_job {
        struct sb_cgroup *cg;
        char id[SBP_JOB_ID_MAX + 1];
        int fd[SB_CGROUP_BASES_MAX];    /* job cgroup dir per base; -1 = absent */
};

struct sb_cgroup_ops {
        const char *name;       /* "v1", "v2" */
        /* Find/create the subtree under root; own_path NULL = from /proc/self/cgroup. */
        int (*open)(struct sb_cgroup *cg, const char *root, const char *own_path,
                    char *errbuf, size_t errlen);
        int (*job_create)(struct sb_cgroup *cg, const char *id, const struct sb_policy *lim,
                          struct sb_cgroup_job *job, char *errbuf, size_t errlen);
        /* Attach pid to every hierarchy of the job (before the child runs). */
        int (*job_attach)(struct sb_cgroup_job *job, pid_t pid);
        /* Kill every process in the job cgroup (does not wait). */
        int (*job_kill)(struct sb_cgroup_job *job);
        int (*job_stats)(struct sb_cgroup_job *job, struct sb_cgroup_stats *out);
};

struct sb_cgroup {
        const struct sb_cgroup_ops *ops;
        bool fake;              /* plain directory tree (unit tests) */
        char name[64];
        int nbase;
        struct sb_cgroup_base base[SB_CGROUP_BASES_MAX];
        int ctrl_base[5];       /* v1: base index per SB_CG_* bit index; -1 = missing */
        bool clone_into;        /* v2: clone3(CLONE_INTO_CGROUP) usable */
};

extern const struct sb_cgroup_ops sb_cgroup_v1_ops;
extern const struct sb_cgroup_ops sb_cgroup_v2_ops;

/* Pick v2 when root is a cgroup2 mount with controllers, else v1 (version 0),
 * or force one (1, 2); root NULL = /sys/fs/cgroup. */
int sb_cgroup_open(struct sb_cgroup *cg, int version, const char *root, const char *own_path,
                   const char *name, bool fake, char *errbuf, size_t errlen);
void sb_cgroup_close(struct sb_cgroup *cg);

/* Create the job cgroup with the limits of lim (memory_max, no swap;
 * tasks_max; cpu_percent: 0 = none each); on failure nothing is left. */
int sb_cgroup_job_create(struct sb_cgroup *cg, const char *id, const struct sb_policy *lim,
                         struct sb_cgroup_job *job, char *errbuf, size_t errlen);
/* Move the calling process into every hierarchy of a job, given as the n
 * directory fds of its cgroup ("0" to each cgroup.procs; fake: the unit
 * tests' tree). Allocation-free: runs in the clone3 child, before exec. */
int sb_cgroup_attach_self(const int *fd, int n, bool fake);
/* fd for clone3(CLONE_INTO_CGROUP), or -1 when not usable. */
int sb_cgroup_job_clone_fd(const struct sb_cgroup_job *job);
/* 1 if no process is left in the job cgroup, 0 if some are, <0 error. */
int sb_cgroup_job_empty(struct sb_cgroup_job *job);
/* Kill, wait up to timeout_ms for it to empty; -EBUSY if it did not. */
int sb_cgroup_job_kill_wait(struct sb_cgroup_job *job, int timeout_ms);
/* Remove the job cgroup from every hierarchy (retrying while tasks drain)
 * and close its fds. */
int sb_cgroup_job_destroy(struct sb_cgroup_job *job);
/* Kill and remove every job cgroup under the subtree (previous instance). */
int sb_cgroup_reap_leftovers(struct sb_cgroup *cg, char *errbuf, size_t errlen);

/* ---- shared file helpers (cgroup.c) ---- */
int sb_cg_write(const struct sb_cgroup *cg, int dfd, const char *file, const char *text);
/* A persistent sandbox's cgroup: an OOM kills the largest task, as on v1,
 * not the whole group (its init with it); a job's keeps oom.group 1. */
int sb_cgroup_job_oom_one(struct sb_cgroup_job *job);
/* Read up to len-1 bytes, NUL-terminated; returns bytes read or -errno. */
ssize_t sb_cg_read(int dfd, const char *file, char *buf, size_t len);
/* Value of "key N" in a flat-keyed file (cpu.stat, memory.events, oom_control). */
int sb_cg_read_key(int dfd, const char *file, const char *key, uint64_t *out);
/* A file holding one number (or "max" -> UINT64_MAX). */
int sb_cg_read_u64(int dfd, const char *file, uint64_t *out);
/* Own cgroup path for a v1 controller ("memory") or v2 (ctrl NULL). */
int sb_cg_own_path(const char *ctrl, char *out, size_t len);
/* mkdir -p of an absolute path. */
int sb_cg_mkdir_p(const char *path);
/* SIGKILL every pid listed in dfd/cgroup.procs; returns how many were listed. */
int sb_cg_kill_procs(int dfd);
