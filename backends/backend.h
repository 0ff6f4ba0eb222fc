/* backend.h — the interface between the daemon and a sandboxing backend.
 *
 * One ops table per platform mechanism (linux: namespaces + cgroups; posix:
 * rlimits + process group + timeouts only; later macos and windows). The
 * daemon chooses one at start. Nothing here knows about libuv or the wire
 * protocol beyond the plain struct sbp_enforced record, so a backend can be
 * exercised from a unit test or a tiny driver program. The daemon reads what
 * a backend can do from caps() and probe(), never from its name; what is
 * one platform's alone lives in that platform's sub-config and folder.
 *
 * Lifecycle of a job, all calls from the daemon's loop thread except destroy:
 *   spawn()  -> the job's main process exists (setup may still be running in it)
 *   exit_handle() becomes readable when the job has ended (its main process
 *               exited, or the backend knows no process of it runs any more)
 *   reap()   -> exit status, setup error if any, accounting; no process of
 *               the job runs any more when it returns (a backend's own
 *               helper, e.g. linux's init, may still be exiting: destroy()
 *               waits for it)
 *   finish_files() when reap() said files_pending: the ownership fix-up of
 *               a client's directory, which may take long (a tree as large
 *               as the job made it), so the daemon runs it on the
 *               threadpool and publishes the result after it
 *   destroy() removes the job's cgroup and directory; it may block, so the
 *               daemon runs it on the threadpool; it touches only that job.
 * kill() may be called at any time before reap() and is idempotent.
 *
 * Functions return 0 or a negative errno and, where given, write a one-line
 * reason into errbuf ("mkdir /sys/fs/cgroup/pids/skillbox: EACCES").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"          /* HAVE_BACKEND_LINUX, HAVE_BACKEND_WINDOWS */
#include "backends/probe.h"
#include "protocol/sbp.h"

struct sb_backend;        /* one per daemon; private to the implementation */
struct sb_backend_job;    /* one per job; private to the implementation */

/* A stdio end, a directory or a waitable "job ended": a file descriptor on
 * POSIX systems (a HANDLE fits here on Windows). SB_HANDLE_NONE is none. */
typedef int sb_handle;
#define SB_HANDLE_NONE (-1)

/* What only the linux backend reads. */
struct sb_backend_linux_config {
        const char *cgroup_name;   /* the daemon's subtree name, e.g. "skillbox" */
        /* The skillbox-spawner executable that clones every job; NULL = the
         * one beside the running program, else the installed one; open()
         * fails when there is none. */
        const char *spawner_path;
        /* Told what the daemon should log (a spawner restarted); may be NULL. */
        void (*notice)(const char *msg);
};

struct sb_backend_config {
        const char *state_dir;     /* made by the caller, with jobs/ (root-owned, 0700):
                                    * job dirs go under <state_dir>/jobs/ */
        uint32_t uid_first;        /* job uid/gid range, inclusive */
        uint32_t uid_last;
        struct sb_backend_linux_config linux_cfg;
};

/* How a backend applies a limit of the spec. */
enum sb_backend_limit {
        SB_BACKEND_LIMIT_ABSENT,     /* not applied: the spec's value is ignored */
        SB_BACKEND_LIMIT_MONITORED,  /* measured; the backend ends the job once it crosses it */
        SB_BACKEND_LIMIT_ENFORCED,   /* the system refuses the job anything past it */
};

/* What a backend can do, by design; the daemon reads this, never the
 * backend's name. What this host gives within it: host_caps(). */
struct sb_backend_caps {
        enum sb_backend_limit memory;    /* memory_max */
        enum sb_backend_limit tasks;     /* tasks_max */
        enum sb_backend_limit cpu;       /* cpu_percent */
        /* Directories by handle shown to the job at their targets (mounts). */
        bool fd_mounts;
        /* prepare() and start(): sandboxes built ahead of the request. */
        bool prepared;
        /* The largest request start() takes: entries of argv and envp
         * together, and their bytes with the NULs. A larger one gets a
         * sandbox built for it (spawn()). */
        uint32_t prepared_entries_max;
        uint32_t prepared_bytes_max;
        /* sandbox_create(), sandbox_exec(), sandbox_stats(): persistent
         * sandboxes. */
        bool sandboxes;
        /* Before open(), the daemon must sit in a cgroup subtree delegated
         * to it (systemd: a transient scope with Delegate=yes). */
        bool needs_delegated_cgroup;
        /* spec.tty and tty_take(): a job's stdio may be a terminal. */
        bool tty;
        /* SBP_NETWORK_MODE_* bits: the network modes a job of this backend
         * gets as the mode says (hello's network_modes). ALLOWLIST also
         * needs the daemon's egress proxy, which the daemon checks. */
        uint32_t network_modes;
        /* Files and network confined by a profile per job rather than by
         * namespaces (macOS: Seatbelt); the job's uid, when it has its
         * own, lets kill() reach every process of the job. */
        bool profile_confined;
        bool kill_by_uid;
        /* The job's HOME: a writable directory of its own outside /work,
         * which the sandbox makes; NULL = /work (no such place). */
        const char *home;
};

/* A directory the client passed by fd, mounted at target inside the job. */
struct sb_job_mount {
        sb_handle fd;              /* O_PATH or readable directory fd; the daemon owns it */
        const char *target;        /* checked by the protocol: under /skill /data /input /mnt */
        bool read_only;
        uid_t owner_uid;           /* the client: the job's uid is mapped to it (idmap) */
        gid_t owner_gid;
};

/* The most syscall groups a policy allows beyond the backend's baseline. */
#define SB_POLICY_SYSCALL_GROUPS_MAX 32

/* A job's network. NONE is 0 so a zeroed policy is the isolated one, and
 * "the network is granted" (seccomp's socket families, Landlock's TCP
 * rules) reads as policy.network != SB_NETWORK_NONE. */
enum sb_network {
        SB_NETWORK_NONE = 0,    /* its own namespace: loopback only */
        SB_NETWORK_ALLOWLIST,   /* its own namespace; egress through the proxy */
        SB_NETWORK_HOST,        /* the host's namespace (admin profiles) */
};

/* The allowlist a policy carries: entries ("host", "*.suffix:port", ...,
 * the proxy's syntax) back to back, each NUL-terminated, in a fixed buffer
 * so the policy stays a value. Bounds: the proxy's own (proxy_msg.h). */
/* ALLOWLIST: the proxy listens for the job on 127.0.0.1 at this port
 * inside the job's namespace. The daemon gives the job HTTP_PROXY,
 * HTTPS_PROXY and ALL_PROXY, each in both cases, SB_NETWORK_PROXY_URL.
 * A backend whose jobs share the host's loopback (macos, posix) cannot
 * take a fixed port there: it listens at a port of its own per job and, in
 * the environment it gives the job, puts that port in each of these
 * variables whose value is still SB_NETWORK_PROXY_URL
 * (backends/egress_host.c); a value the client set is left alone. */
#define SB_NETWORK_PROXY_PORT 3128
#define SB_NETWORK_PROXY_URL "http://127.0.0.1:3128"
#define SB_POLICY_ALLOW_HOSTS_MAX 64
#define SB_POLICY_ALLOW_HOSTS_BYTES 4096

/* BindReadOnlyPaths=: host paths bound read-only into the job, entries
 * "[-]SRC[:DST]" as the profile wrote them (both absolute and normalized,
 * checked by the config parser; '-' = skip a missing SRC) back to back, each NUL-terminated, in a fixed buffer like allow_hosts. */
#define SB_POLICY_BIND_RO_MAX 16
#define SB_POLICY_BIND_RO_BYTES 4096

/* What a sandbox enforces: the one shape of a job's policy from the profile
 * merge (daemon/profile.c) to the backend. A backend keeps a copy of what
 * it applied; a prepared sandbox serves a request only when the request's
 * policy is sb_policy_equal() to its own. Sizes in bytes; 0 = no limit,
 * except where said. */
struct sb_policy {
        uint64_t memory_max;       /* no swap */
        uint64_t tasks_max;
        uint32_t cpu_percent;      /* 100 = one CPU */
        enum sb_network network;
        uint32_t n_allow_hosts;    /* ALLOWLIST: entries in allow_hosts */
        char allow_hosts[SB_POLICY_ALLOW_HOSTS_BYTES];
        uint32_t n_bind_ro;        /* entries in bind_ro (the profile's, never a request's) */
        char bind_ro[SB_POLICY_BIND_RO_BYTES];
        uint64_t tmp_size;         /* the /tmp tmpfs (and /dev/shm's); 0 = the backend's default */
        uint64_t tmp_inodes_max;   /* files each of them may hold; 0 = the backend's default */
        /* A fresh /work (workdir_fd -1): linux mounts a tmpfs of these
         * bounds in the job's mount namespace; 0 = the backend's default.
         * posix cannot, and reports no bound. */
        uint64_t work_size_max;
        uint64_t work_inodes_max;
        /* Extra syscall groups allowed, NULL-terminated; static strings
         * (sbd_conf_syscall_group()), so a copy outlives any reload. */
        const char *syscall_allow[SB_POLICY_SYSCALL_GROUPS_MAX + 1];
};

/* Whether a and b enforce the same: every limit, the network mode and its
 * allowlist entries, and the syscall groups, each in the same order. */
bool sb_policy_equal(const struct sb_policy *a, const struct sb_policy *b);

/* The policy travels by value: the spec crosses into another process
 * (linux's spawner) as bytes, and every holder (a job, a prepared sandbox,
 * a backend's job) keeps its own copy with no lifetime to share. */
struct sb_job_spec {
        const char *job_id;        /* [a-z0-9-], unique among live jobs; names cgroup and dir */
        char *const *argv;         /* argv[0] without '/' is searched in the job's PATH */
        char *const *envp;         /* the complete environment, built by the daemon */
        uint32_t uid, gid;         /* one identity_take() gave (uid == gid) */
        struct sb_policy policy;
        sb_handle stdin_fd;        /* the job's ends; the backend dup2()s them onto 0, 1, 2 */
        sb_handle stdout_fd;
        sb_handle stderr_fd;
        /* Files by descriptor (additive; zeroed spec = none, but workdir_fd
         * must then be -1). The backend dups what it keeps. */
        sb_handle workdir_fd;      /* -1 = fresh dir; else a directory fd mounted at /work */
        uid_t owner_uid;           /* the client: files the job writes into workdir_fd */
        gid_t owner_gid;           /* end up owned by it (idmap, or chown after the job) */
        const struct sb_job_mount *mounts;
        uint32_t nmounts;
        const char *cwd;           /* the program's working directory; NULL = /work */
        /* A terminal (caps.tty): the backend makes a pty whose slave is the
         * job's stdin, stdout and stderr (the three fds above are then
         * ignored) and its controlling terminal, rows x cols (each >= 1)
         * before the program starts; tty_take() hands the master over. */
        bool tty;
        uint32_t rows, cols;
        /* The caller reads denied_handle() from spawn()/start() until
         * reap(): a backend that reports refusals may then leave them to it.
         * false: the backend answers them itself, unreported. */
        bool denied_report;
        /* A fresh /work (workdir_fd -1) the job leaves behind for its owner
         * (owner_uid/owner_gid): work_take() hands it over after the job. */
        bool keep_work;
};

/* A spec for job_id running as uid (= gid) under policy, with no program,
 * no stdio and nothing passed by descriptor: what prepare() takes, and
 * what spawn() and start() take once argv, envp and stdio are set. */
/* Appends an allowlist entry; -E2BIG past either bound. */
int sb_policy_allow_host_add(struct sb_policy *p, const char *entry);
/* The entry after prev (NULL: the first), or NULL after the last. */
const char *sb_policy_allow_host_next(const struct sb_policy *p, const char *prev);
/* The same for the read-only binds ("[-]SRC[:DST]"). */
int sb_policy_bind_ro_add(struct sb_policy *p, const char *entry);
const char *sb_policy_bind_ro_next(const struct sb_policy *p, const char *prev);

void sb_job_spec_init(struct sb_job_spec *spec, const char *job_id, uint32_t uid,
                      const struct sb_policy *policy);

struct sb_backend_exit {
        int32_t exit_code;          /* -1 if killed by a signal or setup failed */
        int32_t signal;             /* 0 if it exited */
        bool setup_failed;          /* the sandbox could not be built or exec failed */
        char error[SBP_TEXT_MAX + 1];   /* when setup_failed: "pivot_root: EINVAL" */
        uint64_t cpu_user_ms;
        uint64_t cpu_sys_ms;
        uint64_t memory_peak;       /* bytes */
        int64_t tasks_peak;         /* -1 = unknown */
        bool oom;                   /* the kernel OOM killer acted inside the job */
        /* Slow file work is left (the ownership fix-up of a client's
         * directory): call finish_files() before the result is published. */
        bool files_pending;
};

/* One refusal of the sandbox, as the result's `denied` shows it. */
struct sb_backend_denied {
        char kind[16];                        /* "syscall" */
        char what[SBP_DENIED_WHAT_MAX + 1];   /* "socket(AF_NETLINK)", "mount" */
};

struct sb_backend_ops {
        const char *name;          /* "linux", "posix": for logs and messages only */

        /* What this backend can do (no backend needed: the daemon reads it
         * before open()). */
        void (*caps)(struct sb_backend_caps *out);
        /* Check the host for this backend before open(): one item per
         * mechanism it relies on, and out->unusable set when it cannot run
         * jobs here at all. Changes nothing; never fails (a check that errs
         * is an item saying so). */
        void (*probe)(const struct sb_backend_config *cfg, struct sb_backend_probe *out);

        /* Prepare the cgroup subtree and state dir, and reap what a previous
         * instance left behind (processes, cgroups, job dirs). */
        int (*open)(const struct sb_backend_config *cfg, struct sb_backend **out,
                    char *errbuf, size_t errlen);
        void (*close)(struct sb_backend *b);

        /* The identity pool: the uid (= gid) a job runs as, unique among
         * the jobs the daemon holds from take() until give() (a job still
         * being cleaned up holds its own). -EAGAIN when every one is taken.
         * The spec of spawn() and prepare() carries a taken one. */
        int (*identity_take)(struct sb_backend *b, uint32_t *out);
        void (*identity_give)(struct sb_backend *b, uint32_t id);

        /* What this host can enforce (hello), with limits left at 0. */
        void (*host_caps)(struct sb_backend *b, struct sbp_enforced *out);

        int (*spawn)(struct sb_backend *b, const struct sb_job_spec *spec,
                     struct sb_backend_job **out, char *errbuf, size_t errlen);
        /* A waitable handle (here a pollable fd) that becomes readable once
         * the job ended; reap() may still answer -EAGAIN (woken early), and
         * is called again on the next readiness. */
        sb_handle (*exit_handle)(struct sb_backend_job *j);
        /* Host pid of the job's main process (for inspect and tests). */
        int (*pid)(struct sb_backend_job *j);
        int (*kill)(struct sb_backend_job *j);
        int (*reap)(struct sb_backend_job *j, struct sb_backend_exit *out);
        /* What was applied to this job. */
        void (*enforced)(struct sb_backend_job *j, struct sbp_enforced *out);
        /* Optional: for a policy with network ALLOWLIST, a TCP socket
         * listening on 127.0.0.1:SB_NETWORK_PROXY_PORT inside the job's
         * network namespace, or, on the host's loopback, at the port the
         * job's proxy variables name (SB_NETWORK_PROXY_URL); made before
         * the job's program ran (so its first connection already queues
         * there). The backend owns it until
         * destroy(); the daemon hands a duplicate to the egress proxy.
         * SB_HANDLE_NONE when there is none (then the daemon ends the job:
         * an allowlist job never runs without its proxy). */
        sb_handle (*egress_listener)(struct sb_backend_job *j);
        /* Optional (caps.tty): the master of a spec.tty job's pty, once,
         * to the caller, who closes it; SB_HANDLE_NONE for any other job
         * or a second call. Writes to it are the job's input; reads its
         * output, then EIO once no process of the job holds the slave;
         * TIOCSWINSZ on it resizes the job's window (SIGWINCH). */
        sb_handle (*tty_take)(struct sb_backend_job *j);
        /* Optional: a new stream socket connected (or connecting) to
         * 127.0.0.1:port on the job's own loopback, for a port the job
         * published; the caller owns it. 0, or -errno with errbuf set
         * ("connect: ECONNREFUSED"). */
        int (*connect_port)(struct sb_backend_job *j, uint16_t port, sb_handle *out,
                            char *errbuf, size_t errlen);
        /* Optional: the file work reap() left (files_pending). May block;
         * thread-safe with respect to other jobs, touches only j; 0 or the
         * first error (it goes on past errors). destroy() does it if it was
         * never called. */
        int (*finish_files)(struct sb_backend_job *j);
        /* Remove cgroup and job dir, free j. Thread-safe with respect to other jobs. */
        void (*destroy)(struct sb_backend_job *j);
        /* Optional. destroy() when that cannot block: the job was reaped and
         * its directory holds only a few plain entries. 0 = done (j freed);
         * -EAGAIN = nothing done, call destroy() off the loop. The daemon
         * uses it so that the threadpool (whose threads make every later
         * clone of the daemon dearer) starts only for large job dirs. */
        int (*destroy_quick)(struct sb_backend_job *j);
        /* Optional, together: a sandbox prepared ahead of the request.
         * prepare() builds everything spawn() would but runs nothing: spec
         * gives id, uid/gid and policy;
         * argv, envp and stdio are ignored and nothing may be passed by fd.
         * start() hands it the program: spec must carry the same id,
         * uid/gid and an equal policy (else -EINVAL) plus argv, envp and stdio; from
         * then on it is an ordinary job (exit_handle, kill, reap, destroy). A
         * prepared sandbox that is never started goes with kill, reap and
         * destroy; one whose setup failed makes start() fail (-EPIPE), and
         * reap() then says why. start() takes argv and envp of at most
         * caps.prepared_entries_max entries and caps.prepared_bytes_max bytes
         * (strings with their NULs; else -E2BIG): the daemon gives a larger
         * request a sandbox built for it instead. Both or neither, as
         * caps.prepared says. */
        int (*prepare)(struct sb_backend *b, const struct sb_job_spec *spec,
                       struct sb_backend_job **out, char *errbuf, size_t errlen);
        int (*start)(struct sb_backend_job *j, const struct sb_job_spec *spec, char *errbuf,
                     size_t errlen);
        /* Optional, together, as caps.sandboxes says: persistent sandboxes.
         * sandbox_create() builds one as prepare() does (spec: id, uid/gid,
         * policy; nothing by fd, no program) that then runs many commands in
         * its namespaces, cgroup (limits for all of them together), /work
         * and /tmp. To the daemon it is a job: exit_handle (it died: setup
         * failed, or killed), kill (everything in it), reap, destroy; after
         * kill() on the loop, its destroy() may run on the threadpool.
         * sandbox_exec() runs one command in a live sandbox (spec: argv,
         * envp, stdio and cwd; id names the command in logs, the rest is the
         * sandbox's) and gives a job handle for that command alone:
         * exit_handle, kill (the command's process group), reap (its own
         * status and rusage; processes it left running are not waited for),
         * enforced (the sandbox's) and destroy/destroy_quick, which never
         * block. A command's handle outlives its sandbox: when the sandbox
         * goes first, its running commands reap as killed (SIGKILL).
         * sandbox_stats(): the sandbox's totals so far (cpu, memory and
         * tasks peaks). */
        int (*sandbox_create)(struct sb_backend *b, const struct sb_job_spec *spec,
                              struct sb_backend_job **out, char *errbuf, size_t errlen);
        int (*sandbox_exec)(struct sb_backend_job *sandbox, const struct sb_job_spec *spec,
                            struct sb_backend_job **out, char *errbuf, size_t errlen);
        int (*sandbox_stats)(struct sb_backend_job *sandbox, struct sb_backend_exit *out);
        /* Optional, together: what the sandbox refuses, as it happens, for
         * a job spawned or prepared with spec->denied_report. A pollable
         * handle (SB_HANDLE_NONE: nothing to report for this job), valid
         * until destroy(); on readiness denied_read() handles at most max
         * refusals, fills out with each and returns how many (0: none was
         * ready). A negative errno: nothing more comes (stop polling); the
         * job is never left waiting for an answer then. */
        sb_handle (*denied_handle)(struct sb_backend_job *j);
        int (*denied_read)(struct sb_backend_job *j, struct sb_backend_denied *out, unsigned max);
        /* Optional: for spec->keep_work, once reaped and finish_files() done,
         * the job's /work as a readable directory handle whose every file
         * belongs to the owner; the caller owns it (the backend keeps none).
         * SB_HANDLE_NONE when there is none (or its hand-over failed). */
        sb_handle (*work_take)(struct sb_backend_job *j);
};

/* What a 0 in a spec's file system bounds stands for. */
#define SB_BACKEND_TMP_SIZE_DEFAULT (64ull << 20)
#define SB_BACKEND_TMP_INODES_DEFAULT 8192ull
#define SB_BACKEND_WORK_SIZE_DEFAULT (256ull << 20)
#define SB_BACKEND_WORK_INODES_DEFAULT 32768ull

extern const struct sb_backend_ops sb_backend_posix_ops;
#if HAVE_BACKEND_LINUX
extern const struct sb_backend_ops sb_backend_linux_ops;
#endif
#if HAVE_BACKEND_MACOS
extern const struct sb_backend_ops sb_backend_macos_ops;
#endif
#if HAVE_BACKEND_WINDOWS
extern const struct sb_backend_ops sb_backend_windows_ops;
#endif

/* Check a directory fd a client passed (workdir_fd, mounts): 0 if usable;
 * -ENOTDIR, -EPERM (on procfs, sysfs or another kernel file system), -EBADF
 * (opened write-only: neither O_PATH nor readable), or -errno of fstat. */
int sb_backend_check_dir_fd(sb_handle fd);
/* The same for a mount's fd, which may also be a regular file (-ENOTDIR:
 * neither). */
int sb_backend_check_mount_fd(sb_handle fd);

/* Fill e->guarantees from the rest of e (what a backend's enforced() or,
 * with host set, host_caps() wrote) and the backend's caps: each guarantee
 * enforced, monitored or absent, the same rules for every backend. */
void sb_backend_guarantees(const struct sb_backend_caps *caps, bool host, struct sbp_enforced *e);

/* Look a backend up by name ("linux", "posix"); NULL if not built. */
const struct sb_backend_ops *sb_backend_find(const char *name);
