/* vmclone.h — a job's init cloned into the spawner's address space
 * (vmclone.c explains why and what keeps it apart). */
#pragma once

#include <linux/sched.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sb_vm_slot;

/* Once, in the spawner: probe the TLS layout and prove it with a test
 * clone. false: CLONE_VM children are not available; fork instead. */
bool sb_vmclone_init(void);

/* A slot with at least data_len bytes of request room, or NULL (not
 * available, or out of memory: fork this one). Slots whose child is gone
 * are recycled here. */
struct sb_vm_slot *sb_vmclone_slot_get(size_t data_len);
void *sb_vmclone_slot_data(struct sb_vm_slot *s);
/* The child's pidfd, which the slot now owns: it is free again once the
 * child's process has ended (vmclone.c says why not earlier). */
void sb_vmclone_slot_watch(struct sb_vm_slot *s, int pidfd);

/* clone3(ca) with CLONE_VM on the slot's stack and TLS copy; the child runs
 * fn(arg) and must not return. Returns the pid, or -1 with errno (the slot
 * is then free again). */
pid_t sb_vmclone(struct sb_vm_slot *s, struct clone_args *ca, void (*fn)(void *), void *arg);
