/* plan.h — the spawn plan: exactly what a job's pre-exec child reads,
 * flat, sent by the daemon to the spawner (spawner.c, spawner_serve.c).
 *
 * One message: struct sb_spawn_plan, then one blob holding every string
 * and the BPF programs; the plan names them by offset into the blob. No
 * pointer, no struct of the daemon by value, nothing patched on arrival:
 * the spawner checks it (sb_spawn_plan_check) and its clone reads it as it
 * came. Descriptors travel beside it by SCM_RIGHTS; fd_index says which
 * of them fills which slot.
 *
 * A change of layout or meaning is a new SB_SPAWN_PLAN_VERSION: the
 * spawner's hello answer refuses a daemon of another version.
 */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/sbp.h"

#define SB_SPAWN_PLAN_VERSION 10u

#define SB_PLAN_TOP_MAX 6       /* bin sbin lib lib32 lib64 libx32 */
#define SB_PLAN_ETC_MAX 13      /* SB_LINUX_ETC_MAX: linux.c etc_names */
#define SB_PLAN_CG_MAX 8        /* cgroup hierarchies (SB_CGROUP_BASES_MAX) */
#define SB_PLAN_CG_NAME_MAX 32u
#define SB_PLAN_BIND_RO_MAX 16  /* SB_POLICY_BIND_RO_MAX */
#define SB_PLAN_BIND_PATH_MAX 255u      /* SBD_CONF_BIND_PATH_MAX */

#define SB_PLAN_ARGS_MAX 4096u                  /* argv + envp entries */
#define SB_PLAN_BPF_MAX 4096u                   /* BPF_MAXINSNS, per program */
#define SB_PLAN_BLOB_MAX ((2u << 20) + 2 * SB_PLAN_BPF_MAX * sizeof(struct sock_filter))

/* Descriptor slots. */
enum {
        SB_PLAN_FD_SYNC_R,              /* the parent's "go" (and a prepared child's start) */
        SB_PLAN_FD_ERR_W,               /* the child's error record */
        SB_PLAN_FD_STDIN,
        SB_PLAN_FD_STDOUT,
        SB_PLAN_FD_STDERR,
        SB_PLAN_FD_CLONE_CG,            /* for CLONE_INTO_CGROUP; absent = the child attaches */
        SB_PLAN_FD_WORK_TREE,           /* detached mount for /work; absent = none */
        SB_PLAN_FD_PTS_TREE,            /* SB_PLAN_TTY: the detached devpts for /dev/pts */
        SB_PLAN_FD_TREES,               /* detached mounts of binds[i] */
        SB_PLAN_FD_CG = SB_PLAN_FD_TREES + SBP_MOUNTS_MAX,     /* the job's cgroup dirs */
        SB_PLAN_FDS = SB_PLAN_FD_CG + SB_PLAN_CG_MAX,
};

/* A NUL-terminated string in the blob: len bytes, then the NUL. */
struct sb_plan_str {
        uint32_t off, len;
};

enum sb_plan_host_kind { SB_PLAN_HOST_ABSENT = 0, SB_PLAN_HOST_SYMLINK, SB_PLAN_HOST_DIR,
                         SB_PLAN_HOST_FILE };

/* A host path the root gets: a directory or file bound, or a symlink made. */
struct sb_plan_host {
        uint32_t kind;                  /* enum sb_plan_host_kind */
        struct sb_plan_str name;        /* relative to /: "bin", "etc/ld.so.cache" */
        struct sb_plan_str target;      /* SB_PLAN_HOST_SYMLINK: the link text */
};

struct sb_plan_bind {
        struct sb_plan_str target;      /* absolute path in the job */
        uint32_t read_only;
        uint32_t is_file;               /* the target is made a file, not a directory */
};

/* A host path of the profile's BindReadOnlyPaths=, bound read-only
 * nosuid nodev at dst; both absolute, without "..", dst not "/". */
struct sb_plan_bind_ro {
        struct sb_plan_str src, dst;
        uint32_t optional;              /* a missing src is skipped */
};

enum {
        SB_PLAN_PREPARED = 1u << 0,     /* wait for the start request (start.c) */
        SB_PLAN_NETWORK = 1u << 1,      /* Landlock leaves TCP alone */
        SB_PLAN_WORK_TMPFS = 1u << 2,   /* /work is a tmpfs of its own (work_opts) */
        SB_PLAN_CG_FAKE = 1u << 3,      /* the unit tests' cgroup tree (files made) */
        /* stdio is a pty's slave of PTS_TREE's instance: the program makes
         * it its controlling terminal (a session of its own, TIOCSCTTY). */
        SB_PLAN_TTY = 1u << 4,
        SB_PLAN_HOST_NET = 1u << 5,     /* network host: no network namespace of its own */
        SB_PLAN_SANDBOX = 1u << 6,      /* with PREPARED: serve exec requests (sandbox_init.c) */
        /* The filter's refusals go to a listener that the child sends up
         * the sync socket (seccomp_load.c); the daemon answers them. */
        SB_PLAN_SECCOMP_NOTIFY = 1u << 7,
};
#define SB_PLAN_FLAGS_ALL 0xffu

struct sb_spawn_plan {
        uint32_t version;               /* SB_SPAWN_PLAN_VERSION */
        uint32_t size;                  /* of the whole message: this struct and the blob */
        uint32_t flags;
        uint32_t uid, gid;
        uint32_t landlock_abi;          /* 0 = none */
        uint64_t tasks_max;             /* RLIMIT_NPROC; 0 = none */
        int8_t fd_index[SB_PLAN_FDS];   /* which received fd fills the slot; -1 = none */
        uint32_t ncg;                   /* cgroup hierarchies: SB_PLAN_FD_CG + i, each present */
        /* Where hierarchy i's job cgroup shows, read-only, under
         * /sys/fs/cgroup: "" = /sys/fs/cgroup itself (v2), else one name
         * ("memory", "cpu,cpuacct"), no slash, SB_PLAN_CG_NAME_MAX at most. */
        struct sb_plan_str cg_name[SB_PLAN_CG_MAX];
        /* The job cgroup directory of hierarchy i, absolute, as the host
         * mounts it: the bind's source (a cgroup fd of the host's mount
         * namespace cannot be cloned from the job's, EINVAL). */
        struct sb_plan_str cg_src[SB_PLAN_CG_MAX];
        struct sb_plan_str root_mnt;    /* where the root tmpfs is mounted */
        struct sb_plan_host top[SB_PLAN_TOP_MAX];
        struct sb_plan_host etc[SB_PLAN_ETC_MAX];
        struct sb_plan_str passwd, group;       /* /etc/passwd and /etc/group */
        struct sb_plan_str tmp_opts, shm_opts, work_opts;       /* tmpfs options */
        uint32_t nbinds;
        struct sb_plan_bind binds[SBP_MOUNTS_MAX];
        uint32_t nbind_ro;
        struct sb_plan_bind_ro bind_ro[SB_PLAN_BIND_RO_MAX];
        struct sb_plan_str cwd;         /* the program's working directory, absolute */
        uint32_t argc, envc;            /* none for a prepared sandbox */
        uint32_t strv_off, strv_len;    /* argv then envp, each NUL-terminated */
        uint32_t bpf_off;               /* 8-aligned: allow_len, then deny_len instructions */
        uint32_t allow_len, deny_len;
        uint32_t blob_len;
        /* then: char blob[blob_len] */
};

static inline const char *sb_plan_blob(const struct sb_spawn_plan *p)
{
        return (const char *)(p + 1);
}

static inline const char *sb_plan_s(const struct sb_spawn_plan *p, struct sb_plan_str s)
{
        return sb_plan_blob(p) + s.off;
}

static inline const struct sock_filter *sb_plan_bpf(const struct sb_spawn_plan *p)
{
        return (const struct sock_filter *)(const void *)(sb_plan_blob(p) + p->bpf_off);
}

/* The blob as it is filled (plan.c, daemon side). */
struct sb_plan_builder {
        struct sb_spawn_plan *p;        /* malloc'd: header and blob */
        size_t cap;                     /* bytes of blob room */
        int err;                        /* first failure, -errno */
};

/* Daemon side: a plan of blob_cap bytes of blob; add strings (NULL is "")
 * and data (NULL: zeroed room, filled by the caller), each returning its
 * offset; finish sets size. Errors stick in b->err. */
int sb_plan_begin(struct sb_plan_builder *b, size_t blob_cap);
struct sb_plan_str sb_plan_add_str(struct sb_plan_builder *b, const char *s);
uint32_t sb_plan_add(struct sb_plan_builder *b, const void *data, size_t len, size_t align);
int sb_plan_finish(struct sb_plan_builder *b);

/* Spawner side, allocation-free: 0 if the len bytes at p are a whole plan
 * of this version whose every string, slot and count is in bounds; else
 * -EPROTO (another version: -EPROTONOSUPPORT). nfds: how many fds came. */
int sb_spawn_plan_check(const struct sb_spawn_plan *p, size_t len, int nfds);
