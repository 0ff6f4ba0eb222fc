/* conf.h — skillboxd's configuration file: parse, validate, layer, print.
 *
 * Pure code: no logging, no libuv, no name-service lookups. Errors are
 * collected as "FILE:LINE: key: reason" lines, all of them, not just the
 * first, so --check-config can list every mistake in one run.
 *
 * Layering: a configuration starts as the built-in text (the example file
 * config/skillboxd.conf, embedded at build time), and a file given with
 * --config is applied on top of it. [Daemon] and [Access] keys override one
 * by one. Profiles: when the file has any [Profile NAME] section, its
 * profiles replace the built-in ones (the built-in "default" is kept if the
 * file defines no "default"); a key left out of a profile takes the value of
 * the built-in "default" profile, so a new profile is never unlimited by
 * omission. Within one file a list key appends, an empty assignment resets
 * it, and a scalar key given twice keeps the last value (as systemd does).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/sbp.h"

/* Guarantees a profile can require (Require=). A job whose guarantees the
 * host cannot enforce fails with Unsupported instead of running with less. */
#define SBD_CONF_REQUIRES(X)                                            \
        X(NAMESPACES, "namespaces")  /* mount pid net ipc uts cgroup */  \
        X(CGROUP, "cgroup")          /* memory/tasks/cpu via a cgroup */ \
        X(SECCOMP, "seccomp")                                          \
        X(LANDLOCK, "landlock")                                        \
        X(NO_NEW_PRIVS, "no-new-privileges")                           \
        X(CAPABILITIES, "capabilities") /* every capability dropped */  \
        X(RLIMITS, "rlimits")                                          \
        X(UID, "uid")                /* a job uid of its own */        \
        X(NETWORK, "network")        /* Network=none/allowlist: own netns enforced */ \
        /* Read off the record's guarantees map: enforced, not monitored. */ \
        X(FILES, "files")            /* the job sees and writes only its own files */ \
        X(MEMORY, "memory")          /* MemoryMax= enforced by the system */ \
        X(KILL_TREE, "kill-tree")    /* a kill reaches every process of the job */

enum {
#define SBD_X_(e, name) SBD_REQ_BIT_##e,
        SBD_CONF_REQUIRES(SBD_X_)
#undef SBD_X_
        SBD_REQ__COUNT
};
#define SBD_REQ(e) (1u << SBD_REQ_BIT_##e)

#define SBD_CONF_ALLOWED_HOSTS_MAX 64
#define SBD_CONF_ALLOWED_HOSTS_BYTES 4096
#define SBD_CONF_BIND_RO_MAX 16
#define SBD_CONF_BIND_RO_BYTES 4096
#define SBD_CONF_BIND_PATH_MAX 255      /* one SRC or DST, bytes */

/* A list of words (user names, "@group" names, syscall groups, ...). */
struct sbd_conf_list {
        char **v;
        size_t n;
};

struct sbd_conf_profile {
        struct sbp_profile p;            /* name and limits, as `profiles` reports them */
        uint32_t require;                /* SBD_REQ() bits */
        struct sbd_conf_list syscall_filter;   /* "@group" names to allow; empty = backend's baseline */
        struct sbd_conf_list allowed_users;    /* "user" / "@group"; empty = every client */
        /* AllowedHosts=: allowlist entries (the proxy's syntax, checked by
         * its parser), at most SBD_CONF_ALLOWED_HOSTS_MAX of them in
         * SBD_CONF_ALLOWED_HOSTS_BYTES with a NUL each: what a job's
         * policy holds. */
        struct sbd_conf_list allowed_hosts;
        /* BindReadOnlyPaths=: "[-]SRC[:DST]" words as written, each
         * checked (absolute, normalized, DST not / nor under /proc /dev
         * /sys /work /tmp), at most SBD_CONF_BIND_RO_MAX of them in
         * SBD_CONF_BIND_RO_BYTES with a NUL each. */
        struct sbd_conf_list bind_ro;
        char file[128];                  /* where it was defined, for messages */
        unsigned line;
};

/* A memory quota: a share of the host's RAM or a size; both 0 = infinity. */
struct sbd_conf_share {
        uint64_t bytes;
        uint32_t percent;                /* of MemTotal, 1..100 */
};

struct sbd_conf_daemon {
        char *socket;                    /* Socket= */
        char *socket_group;              /* SocketGroup= ("" = leave root's) */
        uint32_t socket_mode;            /* SocketMode= */
        char *state_directory;           /* StateDirectory= */
        char *backend;                   /* Backend= */
        char *cgroup_name;               /* CgroupName= */
        uint32_t uid_first, uid_last;    /* UidRange= */
        uint32_t max_connections;
        uint32_t max_connections_per_user;
        uint32_t max_jobs;
        uint32_t max_jobs_per_user;
        uint64_t retain_ms;              /* RetainSec= */
        uint32_t max_retained;           /* MaxRetainedJobs= */
        uint32_t max_retained_per_user;  /* MaxRetainedJobsPerUser= */
        struct sbd_conf_share jobs_memory_max;           /* MaxJobsMemory= */
        struct sbd_conf_share jobs_memory_max_per_user;  /* MaxJobsMemoryPerUser= */
        uint64_t stdin_queue_max;        /* StdinQueueMax= */
        uint32_t prepared_sandboxes;     /* PreparedSandboxes= */
        uint64_t sandbox_idle_ms;        /* SandboxIdleTimeoutSec= (0 = never) */
        uint64_t sandbox_lifetime_ms;    /* SandboxMaxLifetimeSec= (0 = unbounded) */
        uint32_t sandboxes_per_client;   /* SandboxesPerClient= */
        char *log_level;                 /* LogLevel= */
};

struct sbd_conf {
        struct sbd_conf_daemon daemon;
        struct sbd_conf_list admins;     /* [Access] Admins= */
        struct sbd_conf_list clients;    /* [Access] Clients= */
        struct sbd_conf_profile *profiles;
        size_t n_profiles;
};

/* Every error of one parse, in order. */
struct sbd_conf_errors {
        char **v;
        size_t n;
};

/* The example configuration text, compiled in. */
extern const char sbd_conf_builtin_text[];

/* A configuration holding only the built-in text; NULL on allocation failure
 * (the built-in text is checked by a unit test and cannot fail otherwise). */
struct sbd_conf *sbd_conf_new_builtin(void);
struct sbd_conf *sbd_conf_free(struct sbd_conf *c);

/* Apply text (named name in messages) on top of c. Returns 0, -EINVAL with
 * every problem appended to errs, or -ENOMEM. On -EINVAL c may be partly
 * changed: parse into a fresh copy and keep the old one (reload does). */
int sbd_conf_apply_text(struct sbd_conf *c, const char *name, const char *text,
                        struct sbd_conf_errors *errs);
/* Same for a file; an unreadable file is one error "FILE: reason". */
int sbd_conf_apply_file(struct sbd_conf *c, const char *path, struct sbd_conf_errors *errs);

/* The built-in configuration with path (if any) applied: the usual entry. */
int sbd_conf_load(const char *path, struct sbd_conf **out, struct sbd_conf_errors *errs);

void sbd_conf_errors_clear(struct sbd_conf_errors *e);

/* The profile called name ("" = "default"), or NULL. */
const struct sbd_conf_profile *sbd_conf_profile_find(const struct sbd_conf *c, const char *name);

/* The effective configuration as INI text, every key: valid input for
 * sbd_conf_apply_text(). Returns a malloc'ed string or NULL. */
char *sbd_conf_format(const struct sbd_conf *c);

/* The guarantees in required that e does not show, as "seccomp landlock";
 * returns how many are missing (0: all hold). buf may be NULL. */
unsigned sbd_conf_require_missing(uint32_t required, const struct sbp_enforced *e,
                                  bool private_network, char *buf, size_t len);
const char *sbd_conf_require_name(unsigned bit_index);

/* The static spelling of a known SystemCallFilter= group (lives forever, so
 * a job can point at it across reloads), or NULL. */
const char *sbd_conf_syscall_group(const char *name);

/* Value syntax, exposed for tests. Each returns 0 or -EINVAL. */
int sbd_conf_parse_size(const char *s, uint64_t *out);       /* 512M, 1G, infinity (0) */
int sbd_conf_parse_time_ms(const char *s, uint64_t *out);    /* 30, 30s, 5min, 1h 30min, 500ms, infinity (0) */
int sbd_conf_parse_percent(const char *s, uint32_t *out);    /* 50% */
int sbd_conf_parse_bool(const char *s, bool *out);           /* yes/no, true/false, on/off, 1/0 */
