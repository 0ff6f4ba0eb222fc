/* spawner.h — the messages between the daemon (spawner.c) and the spawner
 * process (spawner_serve.c), which clones every linux job.
 *
 * All travel over one SOCK_SEQPACKET socket pair, one message each:
 *   hello    daemon -> spawner, once, only to the spawner executable: the
 *            host facts of struct sb_backend by value (a fork has them)
 *   request  daemon -> spawner: the child's whole context by value, the
 *            strings and seccomp program after it, every fd by SCM_RIGHTS
 *   reply    spawner -> daemon, one per request (and one for the hello):
 *            the pid and a pidfd, or the failed step and errno
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/filter.h>
#include <sys/types.h>

#include "backends/linux/linux.h"

/* Every struct below travels by value and is then patched (pointers, fds)
 * by the spawner (spawner_serve.c, unpack). A new field changes its size and
 * stops the build here: carry it (by value it already is; a pointer or an
 * fd needs code on both sides), then update the number. Sizes are those of
 * x86_64. */
#if defined(__x86_64__)
_Static_assert(sizeof(struct sb_job_spec) == 4496, "sb_job_spec changed: update spawner.h");
_Static_assert(sizeof(struct sb_backend_job) == 5824, "sb_backend_job changed: update spawner.h");
_Static_assert(sizeof(struct sb_linux_binds) == 1100, "sb_linux_binds changed: update spawner.h");
_Static_assert(sizeof(struct sb_child_ctx) == 864, "sb_child_ctx changed: update spawner.h");
_Static_assert(sizeof(struct sb_seccomp_prog) == 232, "sb_seccomp_prog changed: update spawner.h");
_Static_assert(sizeof(struct sb_cgroup_job) == 64, "sb_cgroup_job changed: update spawner.h");
#endif

/* Fixed fd slots of a request; -1 in the context = not sent. */
enum {
        SB_SPAWN_SYNC_R,
        SB_SPAWN_ERR_W,
        SB_SPAWN_STDIN,
        SB_SPAWN_STDOUT,
        SB_SPAWN_STDERR,
        SB_SPAWN_CLONE_CG,
        SB_SPAWN_WORK_TREE,
        SB_SPAWN_TREES,
        SB_SPAWN_CG = SB_SPAWN_TREES + SBP_MOUNTS_MAX,
        SB_SPAWN_SLOTS = SB_SPAWN_CG + SB_CGROUP_BASES_MAX,
};

#define SB_SPAWN_ARGS_MAX 4096u                 /* argv + envp entries */
#define SB_SPAWN_BPF_MAX 4096u                  /* BPF_MAXINSNS */
#define SB_SPAWN_BLOB_MAX ((2u << 20) + 2 * SB_SPAWN_BPF_MAX * sizeof(struct sock_filter))

struct sb_spawn_req {
        uint32_t magic;
        uint32_t argc, envc;
        uint32_t strings_len;                   /* argv then envp, each NUL-terminated */
        uint32_t allow_len, deny_len;           /* BPF instructions, after the strings (8-aligned) */
        int8_t slot_fd[SB_SPAWN_SLOTS];         /* index among the passed fds, -1 = none */
        bool attach;                            /* the child attaches itself (no CLONE_INTO_CGROUP) */
        struct sb_job_spec spec;
        struct sb_backend_job j;
        struct sb_child_ctx c;
};

struct sb_spawn_reply {
        int32_t err;                            /* 0, or the positive errno of `step` */
        int32_t pid;
        char step[32];
};

/* The spawner executable and the daemon must come from the same build: the
 * hello carries the sizes of everything passed by value, and the spawner
 * refuses any other. */
struct sb_spawn_hello {
        uint32_t magic;
        uint32_t req_size, backend_size;
        pid_t daemon;
        struct sb_backend b;
};

/* One magic number per message type, so that one is never read as the
 * other. */
#define SB_SPAWN_HELLO_MAGIC 0x5b5a0003u
#define SB_SPAWN_MAGIC 0x5b5a0002u

/* spawner_serve.c: the spawner's life from its first instruction after the
 * fork (or, in the executable, after the hello): serve requests on sock
 * until the daemon closes it. b is the daemon's host facts. */
__attribute__((noreturn)) void sb_linux_spawner_serve(int sock, pid_t daemon, struct sb_backend *b);
