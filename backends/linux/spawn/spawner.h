/* spawner.h — the messages between the daemon (spawner.c) and the spawner
 * process (spawner_serve.c), which clones every linux job.
 *
 * All travel over one SOCK_SEQPACKET socket pair, one message each:
 *   hello    daemon -> spawner, once: the plan version and size the daemon
 *            speaks, and the host fact the spawner itself needs
 *   plan     daemon -> spawner, per job: struct sb_spawn_plan and its blob
 *            (plan.h), every fd by SCM_RIGHTS
 *   reply    spawner -> daemon, one per plan (and one for the hello): the
 *            pid and a pidfd, or the failed step and errno
 * Nothing in them is a pointer or a struct of either process by value.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "backends/linux/spawn/plan.h"

struct sb_spawn_reply {
        int32_t err;                            /* 0, or the positive errno of `step` */
        int32_t pid;
        char step[32];
};

/* The spawner refuses another plan version or size (answering
 * EPROTONOSUPPORT), so a daemon and spawner of different builds never
 * misread each other. */
struct sb_spawn_hello {
        uint32_t magic;
        uint32_t plan_version;                  /* SB_SPAWN_PLAN_VERSION */
        uint32_t plan_size;                     /* sizeof(struct sb_spawn_plan) */
        int32_t daemon;                         /* its pid: the spawner dies with it */
        int32_t cap_last;                       /* the spawner empties its bounding set */
};

#define SB_SPAWN_HELLO_MAGIC 0x5b5a0003u

/* spawner_serve.c: the spawner's life after the hello: setup (0, or the
 * positive errno with *step: the hello's answer), then serve plans on sock
 * until the daemon closes it. */
int sb_linux_spawner_setup(int sock, pid_t daemon, int cap_last, const char **step);
__attribute__((noreturn)) void sb_linux_spawner_serve(int sock);
