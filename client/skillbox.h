/* skillbox.h — libskillbox, the C client of skillboxd.
 *
 * One sb_client is one connection to the daemon (a Unix stream socket). It is
 * not thread-safe: use one client per thread, or lock. The library depends on
 * msgpack-c only; this header includes nothing of it.
 *
 * Two ways to call, one code path: every method has an asynchronous form
 * (sb_exec_async(), ...) that queues the request and returns at once, its
 * completion callback run later from sb_process(); and a blocking form
 * (sb_exec(), ...) that is that request plus a loop running the connection
 * until it completes. For an event loop: watch sb_fd() for sb_events()
 * (POLLIN, plus POLLOUT while bytes wait to be sent) and call
 * sb_process(c, 0, cb) when it is ready.
 *
 * Errors: every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure. Errors the daemon answered map as follows:
 * InvalidArgument -EINVAL, PermissionDenied -EACCES, NotFound -ENOENT,
 * ResourceExhausted -EAGAIN, Unavailable -ESHUTDOWN, Unsupported -EOPNOTSUPP,
 * ProtocolError -EPROTO, Internal -EIO. sb_errmsg() then returns the text,
 * e.g. "PermissionDenied: memory_max 2147483648 exceeds profile default's
 * 536870912". Local failures (-ECONNRESET when the daemon closed the
 * connection, -EPROTO for a malformed reply, -ENOMEM, socket errors) set a
 * message too. After -ECONNRESET, -EPROTO or an I/O error the client is
 * unusable; only sb_close() remains. Backpressure is -EAGAIN from an _async
 * call: the send queue is full (SB_SEND_QUEUE_MAX), or the job has not yet
 * taken SB_STDIN_INFLIGHT_MAX bytes of stdin; run sb_process() and retry.
 *
 * Notifications: the daemon streams a job's output to the connection that
 * started it as job_output notifications, then one job_exit. They can arrive
 * at any time, also while a blocking call waits for its response. Those are
 * handed to the callbacks set with sb_set_callbacks() at once, or, when none
 * are set, queued and delivered by the next sb_process() or sb_wait().
 *
 * Callbacks (notifications and completions) may call into the same client:
 * issue requests (sb_kill_async() from a job_output callback), cancel
 * requests, even make blocking calls; they may free their own userdata. Only
 * sb_close() must not be called from a callback.
 */
#ifndef SKILLBOX_H
#define SKILLBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SB_JOB_ID_MAX 32        /* a job id is at most this many bytes */
#define SB_NAME_MAX   63        /* profile and similar names */
#define SB_MOUNTS_MAX 8         /* sb_exec_options.nmounts */
#define SB_TTY_SIZE_MAX 4096    /* sb_exec_options.rows and cols, sb_resize() */
#define SB_TARGET_MAX 127       /* sb_mount.target, bytes */
#define SB_ALLOW_HOSTS_MAX 64   /* sb_exec_options.allow_hosts entries */
#define SB_PUBLISH_MAX 8        /* sb_exec_options.publish entries */
#define SB_TEXT_MAX   255       /* error messages */

typedef struct sb_client sb_client;

/* The structs below mirror the wire's (protocol/sbp.h: sbp_stats_result,
 * sbp_profile, ...) field for field, on purpose: this header is installed
 * and is the library's ABI, so it cannot include protocol/ (internal, and
 * built on msgpack-c) nor change layout when the wire gains a field; the
 * library copies from one to the other (client/calls.c). */

/* A request in flight, from an _async call: valid until its callback has
 * returned or it was cancelled with sb_request_cancel(). */
typedef struct sb_request sb_request;

/* Bytes the client holds unsent (requests queued while the socket does not
 * take them). An _async call that would pass it fails -EAGAIN, unless the
 * queue is empty. */
#define SB_SEND_QUEUE_MAX (4u << 20)

/* stdin_write bytes of one job sent but not yet written into its stdin pipe
 * (the daemon answers each write once the job's pipe took it). Past it,
 * sb_stdin_write_async() fails -EAGAIN; one write of up to 1 MiB is always
 * accepted when none is in flight. Below the daemon's default StdinQueueMax=
 * (1 MiB), so the daemon never stops reading this connection (a kill still
 * gets through). */
#define SB_STDIN_INFLIGHT_MAX (256u << 10)

/* How a job ended ("running" while it runs). Wire names via sb_job_state_name(). */
enum sb_job_state {
        SB_JOB_RUNNING,
        SB_JOB_EXITED,          /* exit_code is set */
        SB_JOB_SIGNALED,        /* signal is set */
        SB_JOB_TIMEOUT,         /* wall clock timeout */
        SB_JOB_CPU_LIMIT,
        SB_JOB_OOM,
        SB_JOB_OUTPUT_LIMIT,
        SB_JOB_KILLED,          /* by request, connection close or shutdown */
        SB_JOB_FAILED,          /* could not start; error says why */
};

/* Namespace bits of sb_enforced.namespaces; names via sb_ns_name(). */
enum {
        SB_NS_MOUNT  = 1u << 0,
        SB_NS_PID    = 1u << 1,
        SB_NS_NET    = 1u << 2,
        SB_NS_IPC    = 1u << 3,
        SB_NS_UTS    = 1u << 4,
        SB_NS_CGROUP = 1u << 5,
        SB_NS_USER   = 1u << 6,
};
#define SB_NS_COUNT 7

/* Network mode bits of sb_hello.network_modes; names via
 * sb_network_mode_name(): "none", "allowlist", "host". */
enum {
        SB_NETWORK_MODE_NONE      = 1u << 0,
        SB_NETWORK_MODE_ALLOWLIST = 1u << 1,
        SB_NETWORK_MODE_HOST      = 1u << 2,
};
#define SB_NETWORK_MODE_COUNT 3

enum sb_stream { SB_STDOUT = 1, SB_STDERR = 2 };

/* Isolation actually applied to a job (in hello: what the host can apply). */
struct sb_enforced {
        char backend[16];               /* "linux", "posix", ... */
        uint32_t namespaces;            /* SB_NS_* bits */
        char cgroup[8];                 /* "v2", "v1" or "none" */
        bool seccomp;
        uint32_t landlock;              /* Landlock ABI used, 0 = none */
        bool no_new_privs;
        bool capabilities_dropped;
        bool rlimits;
        bool process_group;
        int64_t uid;                    /* job uid, -1 = unchanged */
        int64_t gid;                    /* job gid, -1 = unchanged */
        char network[8];                /* "none" (own namespace: also for allowlist), "host",
                                         * "" = not isolated; network_mode has the mode */
        uint64_t memory_max;            /* bytes, 0 = none */
        uint64_t tasks_max;             /* 0 = none */
        uint32_t cpu_percent;           /* 100 = one CPU, 0 = none */
        uint64_t timeout_ms;            /* 0 = none */
        char workdir[8];                /* /work: "fresh", "idmap", "chown", "cwd"; "" = unknown */
        bool securebits;                /* securebits set and locked */
        char syscall_filter[64];        /* seccomp allowlist applied, "" = none */
        uint64_t work_size_max;         /* bytes a fresh /work (its own tmpfs) holds, 0 = unbounded */
        uint64_t work_inodes_max;       /* files and directories it holds, 0 = unbounded */
        char network_mode[16];          /* "none", "allowlist", "host", "" = not isolated */
        char token[16];                 /* windows: "appcontainer", "low_integrity"; "" = none */
        /* Per guarantee: "enforced", "monitored" or "absent" (PROTOCOL.md,
         * the enforced record); "" from a daemon that does not say. */
        struct sb_guarantees {
                char files[12], network[12], memory[12], tasks[12], cpu[12];
                char identity[12], syscalls[12], privileges[12], kill_tree[12];
        } guarantees;
};

/* The result record of a job (wait, inspect, job_exit). */
#define SB_DENIED_MAX 16         /* sb_job_result.denied entries */

/* Something the sandbox refused a job, and how often. */
struct sb_denied {
        char kind[16];                  /* "network" */
        char what[264];                 /* network: "host:port" */
        uint64_t count;
};

struct sb_job_result {
        char job[SB_JOB_ID_MAX + 1];
        enum sb_job_state state;
        int32_t exit_code;              /* -1 = none (not exited) */
        int32_t signal;                 /* 0 = none */
        uint64_t wall_ms;
        uint64_t cpu_user_ms;
        uint64_t cpu_sys_ms;
        uint64_t memory_peak;           /* bytes */
        int64_t tasks_peak;             /* -1 = unknown */
        uint64_t stdout_bytes;
        uint64_t stderr_bytes;
        bool output_truncated;
        char error[SB_TEXT_MAX + 1];    /* "" unless failed */
        struct sb_enforced enforced;
        struct sb_denied denied[SB_DENIED_MAX];
        uint32_t n_denied;              /* 0: nothing was refused */
};

/* One job as sb_list() and sb_inspect() describe it. */
struct sb_job_info {
        struct sb_job_result result;    /* state SB_JOB_RUNNING while it runs */
        char profile[SB_NAME_MAX + 1];
        uint32_t owner_uid;
        uint64_t started_ms;            /* Unix time, milliseconds */
        bool detached;
        char **argv;                    /* argv[argc] == NULL; freed by sb_job_info_free() */
        uint32_t argc;
        bool argv_truncated;            /* the daemon keeps only the first 4 KiB of argv */
        char sandbox[SB_JOB_ID_MAX + 1];  /* the persistent sandbox it ran in; "" = none */
};

struct sb_hello {
        char server[SB_NAME_MAX + 1];   /* "skillboxd" */
        char version[SB_NAME_MAX + 1];  /* daemon version */
        uint32_t protocol;              /* protocol version the daemon speaks */
        uint32_t uid;                   /* our uid as the daemon sees it */
        char role[16];                  /* "client" or "admin" */
        struct sb_enforced host;        /* what this host can enforce */
        bool sandboxes;                 /* sb_sandbox_create() works here */
        bool tty;                       /* exec with tty works here (the backend has terminals) */
        /* SB_NETWORK_MODE_* bits: the exec network modes a job of this host
         * gets as the mode says. ALLOWLIST only when the daemon found its
         * egress proxy; a backend that cannot confine a job's network (posix)
         * has only HOST, whatever mode is asked for. */
        uint32_t network_modes;
};

struct sb_stats {
        uint64_t uptime_ms;
        uint32_t connections;
        uint32_t jobs_running;
        uint64_t jobs_started;
        uint64_t jobs_failed;
        uint64_t jobs_retained;         /* finished, result still retrievable */
        uint64_t memory_rss;            /* daemon resident memory, bytes */
};

struct sb_profile {
        char name[SB_NAME_MAX + 1];
        uint64_t memory_max;            /* bytes, 0 = unlimited */
        uint64_t tasks_max;
        uint32_t cpu_percent;
        uint64_t timeout_ms;
        uint64_t tmp_size;              /* bytes */
        char network[8];                /* "none" (also for allowlist) or "host" */
        uint64_t output_max;            /* stdout + stderr bytes, 0 = unlimited */
        bool output_truncate;           /* past output_max: drop the rest, else end the job */
        uint64_t tmp_inodes_max;        /* files in /tmp (and /dev/shm) */
        uint64_t work_size_max;         /* bytes of a fresh /work */
        uint64_t work_inodes_max;       /* files in a fresh /work */
        char network_mode[16];          /* "none", "allowlist" or "host" */
};

/* What to run. Limits of 0 mean "as the profile says"; a request may only
 * tighten its profile. */
struct sb_exec_options {
        /* argv and env entries are bytes: the job gets them exactly, also
         * where they are not UTF-8 (sent as bin on the wire). */
        const char *const *argv;        /* NULL-terminated, argv[0] required */
        const char *const *env;         /* NULL-terminated "KEY=VALUE" list, or NULL */
        const char *profile;            /* NULL or "" = "default" */
        uint64_t memory_max;            /* bytes */
        uint64_t tasks_max;
        uint32_t cpu_percent;           /* 100 = one CPU */
        uint64_t timeout_ms;            /* wall clock */
        bool detach;                    /* keep running when this connection closes */
        /* We will sb_stdin_write(); else the job's stdin is /dev/null.
         * stdin_pipe is the name that compiles everywhere: where <stdio.h>
         * defines stdin as an expression (mingw-w64, MSVC: a function
         * call; musl: "(stdin)"), opts.stdin cannot be written. On Windows
         * the field has only that name; elsewhere `stdin` is the same
         * flag, so existing code compiles unchanged. */
#if defined(_WIN32)
        bool stdin_pipe;
#else
        union {
                bool stdin_pipe;
                bool stdin;
        };
#endif
        uint64_t output_max;            /* stdout + stderr bytes; past it the job ends
                                         * output_limit (or, if the profile says so, the
                                         * rest is dropped) */
        /* Files by descriptor (sent with SCM_RIGHTS; the caller keeps its fds).
         * Open directories as yourself, O_PATH | O_DIRECTORY | O_CLOEXEC is
         * enough: the job can reach only what you passed. */
        bool has_workdir_fd;            /* mount workdir_fd at /work instead of a fresh dir */
        int workdir_fd;
        const struct sb_mount *mounts;  /* extra directories, or NULL */
        size_t nmounts;                 /* at most 8 */
        uint64_t work_size_max;         /* bytes of a fresh /work (no workdir_fd) */
        uint64_t work_inodes_max;       /* files and directories in it */
        const char *cwd;                /* the program's working directory (absolute,
                                         * normalized, at most 255 bytes); NULL = /work */
        /* NULL = the profile's; "none", "allowlist" or "host", only
         * narrowing the profile's (host > allowlist > none). */
        const char *network;
        /* NULL-terminated host[:port] entries, at most 64, or NULL; they
         * imply "allowlist" and must lie within the profile's. */
        const char *const *allow_hosts;
        /* A terminal: the job's stdin, stdout and stderr are one pty, its
         * controlling terminal. Its output (stdout and stderr alike) comes
         * as SB_STDOUT; sb_stdin_write() types into it (no stdin needed),
         * sb_stdin_close() sends its end-of-file character (^D); rows x
         * cols is its size, at most 4096 each, 0 = 24 x 80; sb_resize()
         * changes it. -EOPNOTSUPP from a backend without terminals. */
        bool tty;
        uint32_t rows, cols;
        /* Ports (1-65535, each once, at most 8) of the job's own loopback
         * that sb_job_connect() may reach; not with network "host". */
        const uint16_t *publish;
        size_t npublish;
        /* Keep the fresh /work (no workdir_fd) after the job, for
         * sb_work_fd(): the way to a detached job's files. */
        bool keep_work;
};

/* A directory shown to the job at target: /skill, /data, /input or /mnt or
 * below (absolute, normalized). Files the job writes into a writable one
 * (and into workdir_fd) end up owned by the calling user. */
struct sb_mount {
        int fd;                         /* a directory fd */
        const char *target;
        bool read_only;
};

/* Receivers of notifications. Either pointer may be NULL (then dropped).
 * data of job_output and the result are valid only during the call. */
struct sb_callbacks {
        void (*job_output)(const char *job, enum sb_stream stream, const void *data,
                           size_t len, void *userdata);
        void (*job_exit)(const struct sb_job_result *result, void *userdata);
        void *userdata;
};

/* What a request answered, for its completion callback. Only the fields of
 * its method are set; all point into memory valid during the callback, except
 * where "yours" is said: that memory the callback owns and frees. */
struct sb_reply {
        const char *job;                        /* exec: the new job's id */
        const struct sb_job_result *result;     /* wait */
        struct sb_job_info *info;               /* inspect; yours: sb_job_info_free(info),
                                                 * then free(info) */
        struct sb_job_info *jobs;               /* list; yours: sb_job_info_list_free() */
        size_t njobs;
        const struct sb_hello *hello;           /* hello */
        const struct sb_stats *stats;           /* stats */
        struct sb_profile *profiles;            /* profiles; yours: sb_profiles_free() */
        size_t nprofiles;
        int fd;                                 /* job_connect: the connected socket;
                                                 * yours to close */
        const char *sandbox;                    /* sandbox_create: the new sandbox's id */
        struct sb_sandbox_info *sandboxes;      /* sandbox_list; yours: free() */
        size_t nsandboxes;
        int work_fd;                            /* work_fd; yours: close() it */
};

/* Completion of an _async call. error is 0 or a negative errno as the
 * blocking call would return it (sb_errmsg(c) says why); reply is NULL on
 * error. Runs from sb_process() (or any blocking call on c), never from
 * within the _async call itself. */
typedef void (*sb_reply_fn)(sb_client *c, int error, struct sb_reply *reply, void *userdata);

/* The library is built with -fvisibility=hidden; these are its interface. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* The library version, the project's ("0.1.0"). */
const char *sb_version(void);

/* Wire name of a job state ("exited"); "unknown" when out of range. */
const char *sb_job_state_name(enum sb_job_state state);

/* Wire name of namespace bit `index` (0 = "mount"); NULL when out of range. */
const char *sb_ns_name(unsigned index);

/* Wire name of network mode bit `index` (0 = "none"); NULL when out of range. */
const char *sb_network_mode_name(unsigned index);

/* The socket sb_connect(NULL) uses: $SKILLBOX_SOCKET if set and not empty,
 * else the built-in default (/run/skillbox/skillboxd.sock). */
const char *sb_default_socket(void);

/* Connect to the daemon at `path` (NULL: sb_default_socket()).
 * On success *out is a new client, to be freed with sb_close().
 * On failure *out is still a client (so sb_errmsg() says "cannot connect to
 * PATH: ..."), or NULL if memory ran out; sb_close() it either way.
 * Returns 0, -ENAMETOOLONG (path too long for a Unix socket), -ENOMEM, or the
 * errno of socket()/connect() (-ENOENT, -ECONNREFUSED, -EACCES, ...). */
int sb_connect(const char *path, sb_client **out);

/* Close the connection and free the client. NULL is fine. Always NULL. */
sb_client *sb_close(sb_client *c);

/* Text of the last error on this client ("" if none). Valid until the next
 * call on the client. NULL client: a fixed text. */
const char *sb_errmsg(sb_client *c);

/* Route notifications that arrive during blocking calls to `cb` at once
 * instead of queueing them (NULL: queue again). The struct is copied. */
void sb_set_callbacks(sb_client *c, const struct sb_callbacks *cb);

/* Say hello: exchange versions and learn what the host enforces.
 * client_name: free text, may be NULL. Fills *out.
 * Errors: as any call (see top), -EPROTO if the daemon speaks another protocol. */
int sb_hello(sb_client *c, const char *client_name, struct sb_hello *out);

/* Start a job. On success job_out (SB_JOB_ID_MAX + 1 bytes) holds its id; its
 * output then arrives as notifications, and its end as a job_exit.
 * Errors: -EINVAL (no argv, an env entry without '=', too many or too long
 * arguments, or the daemon's InvalidArgument), -EACCES (asked for more than the
 * profile allows), -ENOENT (no such profile), -EAGAIN (job caps reached),
 * -EOPNOTSUPP, -ESHUTDOWN (daemon draining), plus the connection errors. */
int sb_exec(sb_client *c, const struct sb_exec_options *opts, char *job_out);

/* Wait for a job to end and store its result in *out. Notifications that
 * arrive meanwhile (the job's output, and any other job's) go to `cb` (NULL:
 * the callbacks of sb_set_callbacks(), else they are dropped). For a job this
 * client started, returns only once its job_exit (after all its output) was
 * delivered; a job_exit already seen by sb_process() counts.
 * Errors: -ENOENT (no such job, or not ours), plus the connection errors. */
int sb_wait(sb_client *c, const char *job, const struct sb_callbacks *cb,
            struct sb_job_result *out);

/* The socket's file descriptor (non-blocking), for poll()ing it alongside
 * others for sb_events(). Do not read from or write to it. Before blocking in
 * poll(), call sb_process(c, 0, cb) until sb_pending() is 0: a blocking call
 * may have read notifications already. On Windows it is a C runtime
 * descriptor of the named pipe, which nothing can poll: drive the
 * connection with sb_process() and a timeout there. */
int sb_fd(sb_client *c);

/* The poll() events sb_fd() must be watched for: POLLIN, plus POLLOUT while
 * requests wait in the send queue. Ask again after every sb_process() and
 * _async call. */
int sb_events(sb_client *c);

/* Bytes in the send queue. */
size_t sb_queued(sb_client *c);

/* Number of notifications read but not yet delivered. */
size_t sb_pending(sb_client *c);

/* Drive the connection: deliver queued notifications to `cb`, send what the
 * send queue holds, then wait up to timeout_ms (-1 = for ever, 0 = not at
 * all) for the socket and dispatch every complete message read: replies to
 * their requests' callbacks, notifications to `cb` (NULL: those of
 * sb_set_callbacks(), else dropped). Returns the number of notifications and
 * completions delivered (0 on timeout), or a negative errno: -ECONNRESET when
 * the daemon closed the connection, -EPROTO, -EINTR if a signal interrupted
 * the wait. After such a failure requests in flight are never completed. */
int sb_process(sb_client *c, int timeout_ms, const struct sb_callbacks *cb);

/* Write data to the stdin of a job started with opts.stdin_pipe. Blocks until the
 * daemon has written it into the job's stdin pipe (backpressure), so for as
 * long as the job does not read: an event loop uses sb_stdin_write_async(). Data over
 * the protocol's chunk cap (1 MiB) is sent in several chunks. len 0 is a no-op.
 * Errors: -ENOENT (no such job), -EINVAL (not started with stdin, or stdin
 * closed), -EPIPE-like daemon errors as their wire code, connection errors. */
int sb_stdin_write(sb_client *c, const char *job, const void *data, size_t len);

/* Close the job's stdin (the job reads EOF). Errors as sb_stdin_write(). */
int sb_stdin_close(sb_client *c, const char *job);

/* A tty job's new window size (the job gets SIGWINCH), rows and cols
 * 1..SB_TTY_SIZE_MAX. Errors: -ENOENT (no such job, or not ours), -EINVAL
 * (not a tty job, or a size out of range), -ESHUTDOWN (its terminal is
 * closed: the job ended), connection errors. */
int sb_resize(sb_client *c, const char *job, uint32_t rows, uint32_t cols);

/* Kill a running job (its whole cgroup). Its job_exit follows with state
 * "killed". Errors: -ENOENT (no such job, or not ours), connection errors. */
int sb_kill(sb_client *c, const char *job);

/* A stream socket connected to 127.0.0.1:port inside the job, a port it
 * published (sb_exec_options.publish): the fd (O_CLOEXEC, yours to close)
 * or a negative errno: -ENOENT (no such job), -EACCES (port not
 * published), -ESHUTDOWN (nothing listens there yet, the job is not
 * running, or replies were queued before this one: a connection of its own
 * avoids that), connection errors. */
int sb_job_connect(sb_client *c, const char *job, uint16_t port);

/* The jobs this client may see (its own; all for admins), running and
 * retained, in start order (fetched a page of at most 256 at a time). *out is an array of *n entries, freed with sb_job_info_list_free().
 * Errors: -ENOMEM, connection errors. */
int sb_list(sb_client *c, struct sb_job_info **out, size_t *n);

/* One job. Free out->argv with sb_job_info_free(out).
 * Errors: -ENOENT (no such job, or not ours), connection errors. */
int sb_inspect(sb_client *c, const char *job, struct sb_job_info *out);

/* The /work of our job started with keep_work, after it ended: *fd_out is
 * an open directory (O_CLOEXEC) whose files are ours; close it. Read it with
 * openat() and friends (never following its symlinks: the job made them).
 * Errors: -ENOENT (no such job, not ours, or it kept no /work), -ESHUTDOWN
 * (still running, or our own unread output is queued before the answer:
 * read it and retry; sb_errmsg() says which), -EACCES (not its owner),
 * connection errors. */
int sb_work_fd(sb_client *c, const char *job, int *fd_out);

/* Daemon counters. Errors: connection errors. */
int sb_stats(sb_client *c, struct sb_stats *out);

/* The configured profiles; *out is an array of *n, freed with sb_profiles_free().
 * Errors: -ENOMEM, connection errors. */
int sb_profiles(sb_client *c, struct sb_profile **out, size_t *n);

/* ---- Asynchronous calls ----
 * Each checks its arguments, queues the request and returns 0 at once (or a
 * negative errno, nothing sent, done never called). done(c, error, reply,
 * userdata) (NULL: none) runs later, once unless cancelled, from
 * sb_process() or a blocking call on c. If
 * req is not NULL, *req is the handle, for sb_request_cancel(). Errors of the
 * call itself: those of the blocking form's argument checks, -EAGAIN
 * (backpressure, see SB_SEND_QUEUE_MAX), -ENOTCONN, -ENOMEM. */
int sb_hello_async(sb_client *c, const char *client_name, sb_reply_fn done, void *userdata,
                   sb_request **req);
/* reply->job is the id. The daemon answers exec before any notification of
 * the job, and the library dispatches in arrival order: this callback runs
 * before the job's first job_output is delivered. */
int sb_exec_async(sb_client *c, const struct sb_exec_options *opts, sb_reply_fn done,
                  void *userdata, sb_request **req);
/* reply->result. For a job started on this connection it completes only
 * after its job_exit (and so all its output) was delivered. */
int sb_wait_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                  sb_request **req);
/* reply->fd: see sb_job_connect(). */
int sb_job_connect_async(sb_client *c, const char *job, uint16_t port, sb_reply_fn done,
                         void *userdata, sb_request **req);
int sb_kill_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                  sb_request **req);
/* At most 1 MiB (the protocol's chunk cap), copied. Completes once the
 * daemon wrote it into the job's stdin pipe. -EAGAIN at once when the job
 * has SB_STDIN_INFLIGHT_MAX bytes in flight already: it is not reading. */
int sb_stdin_write_async(sb_client *c, const char *job, const void *data, size_t len,
                         sb_reply_fn done, void *userdata, sb_request **req);
int sb_stdin_close_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                         sb_request **req);
int sb_resize_async(sb_client *c, const char *job, uint32_t rows, uint32_t cols,
                    sb_reply_fn done, void *userdata, sb_request **req);
/* reply->jobs, njobs: every page. */
int sb_list_async(sb_client *c, sb_reply_fn done, void *userdata, sb_request **req);
int sb_inspect_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                     sb_request **req);
int sb_stats_async(sb_client *c, sb_reply_fn done, void *userdata, sb_request **req);
/* reply->work_fd, yours to close. */
int sb_work_fd_async(sb_client *c, const char *job, sb_reply_fn done, void *userdata,
                     sb_request **req);
int sb_profiles_async(sb_client *c, sb_reply_fn done, void *userdata, sb_request **req);

/* Forget a request: its callback will never be called; req is invalid
 * after. The request itself may already be sent (a kill still happens). Safe
 * from any callback, also for the request being completed. NULL is fine. */
void sb_request_cancel(sb_client *c, sb_request *req);

/* Free what sb_inspect() allocated in *info (not info itself). NULL is fine. */
void sb_job_info_free(struct sb_job_info *info);

/* Free an array from sb_list(). NULL is fine. */
void sb_job_info_list_free(struct sb_job_info *list, size_t n);

/* Free an array from sb_profiles(). NULL is fine. */
void sb_profiles_free(struct sb_profile *list);

/* ---- Persistent sandboxes ----
 *
 * One set of namespaces, one cgroup (the limits hold for everything in it
 * together), one /work and /tmp, in which command after command runs:
 * files and processes one command leaves (a server started with setsid)
 * are there for the next. Each command is a job of its own (its id, output,
 * result record, timeout and kill: sb_wait(), sb_kill() as for any job).
 * A sandbox belongs to the calling user, not to the connection, and ends on
 * sb_sandbox_destroy(), after the daemon's idle timeout or maximum lifetime
 * (SandboxIdleTimeoutSec=, SandboxMaxLifetimeSec=), killing everything in
 * it. A backend without them answers -EOPNOTSUPP (Unsupported). */
struct sb_sandbox_info {
        char sandbox[SB_JOB_ID_MAX + 1];
        char state[16];                 /* "running" */
        char profile[65];
        uint32_t owner_uid;
        uint64_t created_ms;            /* Unix time */
        uint64_t idle_ms;               /* since its last command ended; 0 while one runs */
        uint64_t idle_timeout_ms;       /* 0 = never */
        uint64_t lifetime_max_ms;       /* 0 = unbounded */
        uint64_t execs;                 /* commands started in it */
        uint32_t running;               /* of them still running */
        uint64_t cpu_user_ms;           /* the sandbox's totals so far */
        uint64_t cpu_sys_ms;
        uint64_t memory_peak;
        int64_t tasks_peak;             /* -1 = unknown */
        struct sb_enforced enforced;
};

/* Create a sandbox with the profile and limits of opts (profile,
 * memory_max, tasks_max, cpu_percent, work_size_max, work_inodes_max; the
 * rest, argv included, is ignored; NULL = the default profile's). On
 * success id_out (SB_JOB_ID_MAX + 1 bytes) holds its id. */
int sb_sandbox_create(sb_client *c, const struct sb_exec_options *opts, char *id_out);
/* Start a command in sandbox: as sb_exec() with opts' argv, env, cwd,
 * timeout_ms, output_max, stdin and detach (anything else given is
 * -EINVAL from the daemon: the sandbox's own). */
int sb_sandbox_exec(sb_client *c, const char *sandbox, const struct sb_exec_options *opts,
                    char *job_out);
/* End it: returns once no process of it runs any more. */
int sb_sandbox_destroy(sb_client *c, const char *sandbox);
/* The caller's sandboxes (an admin's: all); *out is yours to free(). */
int sb_sandbox_list(sb_client *c, struct sb_sandbox_info **out, size_t *n);

/* reply->sandbox. */
int sb_sandbox_create_async(sb_client *c, const struct sb_exec_options *opts, sb_reply_fn done,
                            void *userdata, sb_request **req);
/* reply->job. */
int sb_sandbox_exec_async(sb_client *c, const char *sandbox, const struct sb_exec_options *opts,
                          sb_reply_fn done, void *userdata, sb_request **req);
int sb_sandbox_destroy_async(sb_client *c, const char *sandbox, sb_reply_fn done,
                             void *userdata, sb_request **req);
/* reply->sandboxes, nsandboxes. */
int sb_sandbox_list_async(sb_client *c, sb_reply_fn done, void *userdata, sb_request **req);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* SKILLBOX_H */
