/* seccomp_groups.h — the job's system call filter: named groups (data), compiled
 * once per (network, extra groups) in the parent, loaded raw in the child.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <linux/filter.h>

/* One named group of system calls. Groups are plain data (seccomp.c);
 * a name that does not exist on the native architecture (mmap2 on x86_64)
 * is skipped when the filter is built. */
struct sb_seccomp_group {
        const char *name;               /* "@basic-io" */
        const char *doc;                /* one line: why a job needs it */
        bool optional;                  /* only when a profile names it */
        const char *const *syscalls;    /* NULL-terminated */
};

/* The groups every job gets, then the optional ones; NULL-terminated. */
extern const struct sb_seccomp_group sb_seccomp_groups[];
/* Calls that no group, optional or not, may ever allow (unit-tested), and
 * which the integration suite checks one by one; NULL-terminated. */
extern const char *const sb_seccomp_never[];
/* Calls no default group allows; an optional group may (e.g. ptrace in
 * "@debug"); NULL-terminated. */
extern const char *const sb_seccomp_refused[];

const struct sb_seccomp_group *sb_seccomp_group_find(const char *name);

/* A compiled filter, ready for the child: two classic BPF programs. The
 * allowlist (default EPERM) and a small denylist (default allow) for the
 * argument checks an allowlist cannot express: ioctl's command is an
 * unsigned int, so "not TIOCSTI" must ignore the upper 32 bits, which only
 * a masked equality can, and only in a deny rule. The kernel runs every
 * loaded filter and the most severe answer wins. */
struct sb_seccomp_prog {
        bool network;
        char key[128];                  /* the extra groups, comma-joined */
        char name[64];                  /* enforced.syscall_filter */
        struct sock_fprog allow;
        struct sock_fprog deny;
};

#define SB_SECCOMP_CACHE_MAX 8

struct sb_seccomp_cache {
        struct sb_seccomp_prog *prog[SB_SECCOMP_CACHE_MAX];
};

/* Parent: the compiled filter for this combination, from the cache or
 * built now (libseccomp allocates, so never in the child). *out stays
 * owned by the cache. */
int sb_linux_seccomp_get(struct sb_seccomp_cache *cache, bool network,
                         const char *const *extra, const struct sb_seccomp_prog **out,
                         char *errbuf, size_t errlen);
void sb_linux_seccomp_cache_free(struct sb_seccomp_cache *cache);

/* Child: load both programs with the raw seccomp() syscall (no_new_privs
 * must be set). Allocation-free. Returns 0 or -errno with *step set. */
int sb_linux_seccomp_load(const struct sock_filter *allow, unsigned allow_len,
                          const struct sock_filter *deny, unsigned deny_len, const char **step);

/* Refusals reported (denied_syscalls.c reads them): turn every EPERM
 * answer of a loaded-last program (the allowlist, chained or not) into
 * SECCOMP_RET_USER_NOTIF, in place. The listener answers each with EPERM
 * again, so a job sees exactly the errno it saw before; other answers (the
 * bad-arch kill, clone3's ENOSYS) stay the kernel's. Returns how many. */
unsigned sb_linux_seccomp_to_notify(struct sock_filter *prog, unsigned len);

/* Child: sb_linux_seccomp_load(), with the allowlist program (loaded last;
 * see sb_linux_seccomp_to_notify) loaded with a new listener, which comes
 * back in *listener (O_CLOEXEC). Allocation-free. */
int sb_linux_seccomp_load_listen(const struct sock_filter *allow, unsigned allow_len,
                                 const struct sock_filter *deny, unsigned deny_len,
                                 int *listener, const char **step);
/* Child: hand the listener to the daemon over the sync socket (one byte
 * with the fd as SCM_RIGHTS). Allocation-free. */
int sb_linux_seccomp_send_listener(int sock, int listener, const char **step);
