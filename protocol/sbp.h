/* sbp.h — the skillbox wire protocol: MessagePack-RPC framing and the typed
 * params and results of every method, shared by the daemon and the client.
 *
 * This layer is pure: bytes in, typed structs out, no I/O, no libuv, no
 * logging. Decoders used by the daemon are strict (unknown fields, wrong types
 * and out-of-range values are errors); decoders used by the client are lenient
 * about unknown fields so that a newer daemon does not break an older client.
 *
 * protocol/PROTOCOL.md is the human-readable definition of everything here.
 * Functions return 0 or a negative errno; decoders fill a struct sbp_error with
 * the wire code and a message naming the offending field.
 */
#pragma once

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SBP_PROTOCOL_VERSION 1

/* ---- Named limits (PROTOCOL.md, "Limits") ---- */
#define SBP_MESSAGE_MAX      (4u << 20)  /* one whole message on the wire, bytes */
#define SBP_DEPTH_MAX        6u          /* nesting of arrays and maps, envelope included */
#define SBP_METHOD_LEN_MAX   32u         /* method name, bytes */
#define SBP_ARGV_COUNT_MAX   1024u       /* exec argv entries */
#define SBP_ENV_COUNT_MAX    256u        /* exec env entries */
#define SBP_STRING_MAX       (64u << 10) /* one argv entry, env key or value */
#define SBP_ARGS_BYTES_MAX   (1u << 20)  /* argv plus env, summed, bytes */
#define SBP_DATA_MAX         (1u << 20)  /* one stdin_write or job_output chunk */
#define SBP_JOB_ID_MAX       32u         /* job id, bytes (ids are [a-z0-9-]) */
#define SBP_NAME_MAX         63u         /* profile, client and similar names */
#define SBP_TEXT_MAX         255u        /* error messages and similar text */
#define SBP_FDS_MAX          16u         /* SCM_RIGHTS fds attached to one message */
#define SBP_MOUNTS_MAX       8u          /* exec mounts entries */
#define SBP_PUBLISH_MAX      8u          /* exec publish entries (ports) */
#define SBP_TARGET_MAX       127u        /* exec mounts target path, bytes */
#define SBP_CWD_MAX          255u        /* exec cwd, bytes */
#define SBP_ALLOW_HOSTS_MAX  64u         /* exec allow_hosts entries */
#define SBP_DENIED_MAX       16u         /* result denied entries */
#define SBP_DENIED_WHAT_MAX  263u        /* one denied entry's what, bytes */
#define SBP_ALLOW_HOST_MAX   263u        /* one allow_hosts entry, bytes */
#define SBP_LIST_MAX         256u        /* list entries in one answer (one page) */
#define SBP_ARGV_KEPT_MAX    4096u       /* argv bytes kept for inspect/list */
#define SBP_TTY_SIZE_MAX     4096u       /* exec/resize rows and cols (a terminal's cells) */

/* ---- Wire error codes: one table, code enum + wire name + default text ---- */
#define SBP_ERRORS(X)                                                        \
        X(INVALID_ARGUMENT, "InvalidArgument", "invalid argument")           \
        X(PERMISSION_DENIED, "PermissionDenied", "permission denied")        \
        X(NOT_FOUND, "NotFound", "not found")                                \
        X(RESOURCE_EXHAUSTED, "ResourceExhausted", "resource exhausted")     \
        X(UNAVAILABLE, "Unavailable", "unavailable")                         \
        X(UNSUPPORTED, "Unsupported", "unsupported")                         \
        X(PROTOCOL_ERROR, "ProtocolError", "protocol error")                 \
        X(INTERNAL, "Internal", "internal error")

enum sbp_error_code {
        SBP_OK = 0,
#define SBP_X_(e, name, text) SBP_E_##e,
        SBP_ERRORS(SBP_X_)
#undef SBP_X_
        SBP_E__COUNT
};

struct sbp_error {
        enum sbp_error_code code;
        char message[SBP_TEXT_MAX + 1];
};

const char *sbp_error_name(enum sbp_error_code code);   /* "InvalidArgument"; NULL for SBP_OK */
const char *sbp_error_text(enum sbp_error_code code);   /* default message */
/* Wire name to code; SBP_E_INTERNAL for an unknown name. */
enum sbp_error_code sbp_error_from_name(const char *name, size_t len);
/* Fill err (code + printf-style message); returns -EINVAL for convenience. */
int sbp_error_set(struct sbp_error *err, enum sbp_error_code code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The errno a client API returns for a wire code (InvalidArgument -EINVAL,
 * PermissionDenied -EACCES, NotFound -ENOENT, ResourceExhausted -EAGAIN,
 * Unavailable -ESHUTDOWN, Unsupported -EOPNOTSUPP, ProtocolError -EPROTO,
 * Internal -EIO). */
int sbp_error_to_errno(enum sbp_error_code code);

/* ---- Job states: one table ---- */
#define SBP_JOB_STATES(X)                  \
        X(RUNNING, "running")              \
        X(EXITED, "exited")                \
        X(SIGNALED, "signaled")            \
        X(TIMEOUT, "timeout")              \
        X(CPU_LIMIT, "cpu_limit")          \
        X(OOM, "oom")                      \
        X(OUTPUT_LIMIT, "output_limit")    \
        X(KILLED, "killed")                \
        X(FAILED, "failed")

enum sbp_job_state {
#define SBP_X_(e, name) SBP_JOB_##e,
        SBP_JOB_STATES(SBP_X_)
#undef SBP_X_
        SBP_JOB__COUNT
};

const char *sbp_job_state_name(enum sbp_job_state s);
int sbp_job_state_from_name(const char *name, size_t len, enum sbp_job_state *out); /* -EINVAL if unknown */

/* ---- Isolation actually applied (or, in hello, what the host can apply) ---- */
enum {
        SBP_NS_MOUNT  = 1u << 0,
        SBP_NS_PID    = 1u << 1,
        SBP_NS_NET    = 1u << 2,
        SBP_NS_IPC    = 1u << 3,
        SBP_NS_UTS    = 1u << 4,
        SBP_NS_CGROUP = 1u << 5,
        SBP_NS_USER   = 1u << 6,
};
/* Wire names, in bit order: "mount", "pid", "net", "ipc", "uts", "cgroup", "user". */
const char *sbp_ns_name(unsigned bit_index);

/* hello's network_modes: the exec `network` modes a job of this host gets
 * as the mode says. */
enum {
        SBP_NETWORK_MODE_NONE      = 1u << 0,
        SBP_NETWORK_MODE_ALLOWLIST = 1u << 1,
        SBP_NETWORK_MODE_HOST      = 1u << 2,
};
/* Wire names, in bit order: "none", "allowlist", "host". */
const char *sbp_network_mode_name(unsigned bit_index);

/* Per guarantee, how it holds: "enforced" (the system refuses the job
 * anything past it), "monitored" (measured; the job is ended past it) or
 * "absent". Filled by sb_backend_guarantees() (backends/guarantees.c) from
 * the rest of the record and the backend's caps. */
#define SBP_GUARANTEE_TEXT 12
struct sbp_guarantees {
        char files[SBP_GUARANTEE_TEXT];       /* the job sees or writes only its own files */
        char network[SBP_GUARANTEE_TEXT];     /* network as the profile says (none, allowlist) */
        char memory[SBP_GUARANTEE_TEXT];      /* memory_max */
        char tasks[SBP_GUARANTEE_TEXT];       /* tasks_max */
        char cpu[SBP_GUARANTEE_TEXT];         /* cpu_percent */
        char identity[SBP_GUARANTEE_TEXT];    /* a uid of the job's own */
        char syscalls[SBP_GUARANTEE_TEXT];    /* a system call filter */
        char privileges[SBP_GUARANTEE_TEXT];  /* no privilege gained at exec (setuid files) */
        char kill_tree[SBP_GUARANTEE_TEXT];   /* a kill reaches every process of the job */
};

struct sbp_enforced {
        char backend[16];        /* "linux", "posix", ... */
        uint32_t namespaces;     /* SBP_NS_* bits; wire: array of names */
        char cgroup[8];          /* "v2", "v1" or "none" */
        bool seccomp;
        uint32_t landlock;       /* Landlock ABI used; 0 = none */
        bool no_new_privs;
        bool capabilities_dropped;
        bool rlimits;
        bool process_group;
        int64_t uid;             /* job uid; -1 = not changed (wire: nil) */
        int64_t gid;             /* job gid; -1 = not changed (wire: nil) */
        char network[16];        /* "none" (own netns, loopback), "allowlist", "host",
                                  * or "" = not isolated */
        uint64_t memory_max;     /* bytes enforced; 0 = none */
        uint64_t tasks_max;      /* 0 = none */
        uint32_t cpu_percent;    /* 100 = one CPU; 0 = none */
        uint64_t timeout_ms;     /* wall clock; 0 = none */
        char workdir[8];         /* /work: "fresh", "idmap", "chown" (linux), "cwd" (posix);
                                  * "" = not reported (wire: nil) */
        bool securebits;         /* securebits set and locked (no root magic, no setuid fixup) */
        char syscall_filter[64]; /* the seccomp allowlist's name; "" = none (wire: nil) */
        uint64_t work_size_max;  /* bytes a fresh /work holds (its own tmpfs); 0 = unbounded */
        uint64_t work_inodes_max; /* files and directories a fresh /work holds; 0 = unbounded */
        char token[16];          /* windows: the job's token, "appcontainer" or "low_integrity";
                                  * "" = not reported (wire: nil) */
        struct sbp_guarantees guarantees;
};

/* ---- The result record (wait, inspect, job_exit, skillboxctl --json) ---- */

/* Something the sandbox refused the job, and how often. */
struct sbp_denied {
        char kind[16];                      /* "network" */
        char what[SBP_DENIED_WHAT_MAX + 1]; /* network: "host:port" */
        uint64_t count;
};

struct sbp_job_result {
        char job[SBP_JOB_ID_MAX + 1];
        enum sbp_job_state state;
        int32_t exit_code;       /* -1 = none (wire: nil) */
        int32_t signal;          /* 0 = none (wire: nil) */
        uint64_t wall_ms;
        uint64_t cpu_user_ms;
        uint64_t cpu_sys_ms;
        uint64_t memory_peak;    /* bytes */
        int64_t tasks_peak;      /* -1 = unknown (wire: nil) */
        uint64_t stdout_bytes;
        uint64_t stderr_bytes;
        bool output_truncated;
        char error[SBP_TEXT_MAX + 1];  /* "" unless state is failed (wire: nil) */
        struct sbp_enforced enforced;
        struct sbp_denied denied[SBP_DENIED_MAX];   /* wire: absent when empty */
        uint32_t n_denied;
};

/* ---- Method params ---- */

struct sbp_hello_params {
        char client[SBP_NAME_MAX + 1];  /* free text naming the client, optional */
        uint32_t protocol;              /* client's protocol version; 0 = not given */
};

/* exec. Limits of 0 mean "as the profile says"; a request may only tighten. */
struct sbp_exec_params {
        char **argv;               /* NUL-terminated copies; argv[argc] == NULL */
        uint32_t argc;             /* >= 1 */
        char **env;                /* "KEY=VALUE" copies; env[envc] == NULL; wire: map str->str */
        uint32_t envc;
        char profile[SBP_NAME_MAX + 1];  /* "" = "default" */
        uint64_t memory_max;       /* bytes */
        uint64_t tasks_max;
        uint32_t cpu_percent;      /* 100 = one CPU */
        uint64_t timeout_ms;
        bool detach;               /* keep running when the connection closes */
        bool stdin;                /* the client will send stdin_write/stdin_close; else /dev/null */
        uint64_t output_max;       /* bytes of stdout + stderr; 0 = the profile's */
        uint64_t work_size_max;    /* a fresh /work's bytes; 0 = the profile's */
        uint64_t work_inodes_max;  /* a fresh /work's files; 0 = the profile's */
        /* Files by descriptor: fds are indexes into the SCM_RIGHTS array that
         * came with the request (PROTOCOL.md, "Transport"). */
        uint32_t workdir_fd;       /* index of a directory fd to mount at /work ... */
        bool has_workdir_fd;       /* ... if set; wire: workdir_fd absent = a fresh /work.
                                    * (A flag, not -1, so a zeroed struct means "none".) */
        struct sbp_mount {
                uint32_t fd;                        /* index into the request's fds */
                char target[SBP_TARGET_MAX + 1];    /* absolute, normalized, under a fixed prefix */
                bool read_only;
        } mounts[SBP_MOUNTS_MAX];
        uint32_t nmounts;
        char cwd[SBP_CWD_MAX + 1]; /* the program's working directory; "" = /work */
        char network[16];          /* "none", "allowlist", "host"; "" = the profile's */
        char **allow_hosts;        /* host[:port] patterns; implies "allowlist" */
        uint32_t n_allow_hosts;
        /* A terminal: the job's stdin, stdout and stderr are one pty's
         * slave; its output comes as stream stdout. rows and cols: its
         * initial size, 1..SBP_TTY_SIZE_MAX, only with tty; 0 = 24 x 80. */
        bool tty;
        uint32_t rows, cols;
        /* Ports of the job's loopback its owner may connect to (job_connect):
         * 1..65535, each once. */
        uint32_t publish[SBP_PUBLISH_MAX];
        uint32_t n_publish;
        /* Run in this persistent sandbox (sandbox_create); "" = a job of
         * its own. Then only argv, env, cwd, timeout_ms, output_max, stdin
         * and detach may be given: the rest is the sandbox's. */
        char sandbox[SBP_JOB_ID_MAX + 1];
        bool keep_work;            /* a fresh /work kept for its owner after the job (work_fd) */
};

/* A mount target the daemon accepts: absolute, normalized (no "//", no "."
 * or ".." component, no trailing '/'), and /skill, /data, /input or /mnt or
 * below one of them. */
bool sbp_mount_target_valid(const char *target);

/* An exec cwd the daemon accepts: absolute and normalized, anywhere in the
 * job's tree; whether it exists is the sandbox's to say. */
bool sbp_cwd_valid(const char *cwd);

/* wait, kill, inspect, stdin_close take {job}; stdin_write takes {job, data}. */
struct sbp_job_params {
        char job[SBP_JOB_ID_MAX + 1];
        const uint8_t *data;       /* stdin_write only: points into the decoded message */
        size_t data_len;
};

/* resize takes {job, rows, cols}: a tty job's new window size. */
struct sbp_resize_params {
        char job[SBP_JOB_ID_MAX + 1];
        uint32_t rows, cols;       /* 1..SBP_TTY_SIZE_MAX */
};
int sbp_resize_params_decode(const msgpack_object *params, struct sbp_resize_params *out,
                             struct sbp_error *err);
void sbp_resize_params_pack(msgpack_packer *pk, const struct sbp_resize_params *p);
/* job_connect: {job, port}; answered with {fd}, the index of the one fd
 * sent with the response: a stream socket connected to the job's
 * 127.0.0.1:port. */
struct sbp_job_connect_params {
        char job[SBP_JOB_ID_MAX + 1];
        uint32_t port;
};

/* ---- Method results ---- */

struct sbp_hello_result {
        char server[SBP_NAME_MAX + 1];   /* "skillboxd" */
        char version[SBP_NAME_MAX + 1];  /* daemon version, "0.1.0" */
        uint32_t protocol;               /* SBP_PROTOCOL_VERSION */
        uint32_t uid;                    /* the peer's uid as the daemon sees it */
        char role[16];                   /* "client" or "admin" */
        struct sbp_enforced host;        /* what this host can enforce */
        bool sandboxes;                  /* sandbox_create works (the backend has them) */
        bool tty;                        /* exec tty works (the backend has terminals) */
        uint32_t network_modes;          /* SBP_NETWORK_MODE_* bits; wire: array of names */
};

/* One entry of list; also the result of inspect. */
struct sbp_job_info {
        struct sbp_job_result result;    /* state "running" while it runs */
        char profile[SBP_NAME_MAX + 1];
        uint32_t owner_uid;
        uint64_t started_ms;             /* Unix time, milliseconds */
        bool detached;
        char **argv;                     /* copies; argv[argc] == NULL */
        uint32_t argc;
        bool argv_truncated;             /* argv cut at SBP_ARGV_KEPT_MAX bytes */
        uint64_t seq;                    /* start order, the list cursor */
        char sandbox[SBP_JOB_ID_MAX + 1];   /* the persistent sandbox it ran in; "" = none
                                             * (wire: absent) */
};
void sbp_job_info_free(struct sbp_job_info *info);   /* frees argv only */

/* A persistent sandbox as sandbox_list shows it: its record and totals. */
struct sbp_sandbox_info {
        char sandbox[SBP_JOB_ID_MAX + 1];
        char state[16];                  /* "running", "ended" */
        char error[SBP_TEXT_MAX + 1];    /* why it ended, "" = it was destroyed (wire: nil) */
        char profile[SBP_NAME_MAX + 1];
        uint32_t owner_uid;
        uint64_t created_ms;             /* Unix time, milliseconds */
        uint64_t idle_ms;                /* since its last command ended (0 while one runs) */
        uint64_t idle_timeout_ms;        /* it ends after this long idle */
        uint64_t lifetime_max_ms;        /* it ends this long after created_ms */
        uint64_t execs;                  /* commands started in it */
        uint32_t running;                /* of them still running */
        uint64_t cpu_user_ms;            /* totals of the whole sandbox so far */
        uint64_t cpu_sys_ms;
        uint64_t memory_peak;
        int64_t tasks_peak;              /* -1 = unknown (wire: nil) */
        struct sbp_enforced enforced;
};

/* sandbox_create's params: exec's profile and limits (profile, memory_max,
 * tasks_max, cpu_percent, work_size_max, work_inodes_max), into an exec
 * params struct with no argv. */
int sbp_sandbox_create_params_decode(const msgpack_object *params, struct sbp_exec_params *out,
                                     struct sbp_error *err);
void sbp_sandbox_create_params_pack(msgpack_packer *pk, const struct sbp_exec_params *p);
/* {sandbox}: sandbox_create's result and sandbox_destroy's params; strict
 * for the daemon (err set), lenient for the client (err may be NULL). */
int sbp_sandbox_ref_decode(const msgpack_object *obj, char id[SBP_JOB_ID_MAX + 1], bool strict,
                           struct sbp_error *err);
void sbp_sandbox_ref_pack(msgpack_packer *pk, const char *id);
void sbp_sandbox_info_pack(msgpack_packer *pk, const struct sbp_sandbox_info *info);
int sbp_sandbox_info_decode(const msgpack_object *obj, struct sbp_sandbox_info *out);

struct sbp_stats_result {
        uint64_t uptime_ms;
        uint32_t connections;
        uint32_t jobs_running;
        uint64_t jobs_started;           /* since the daemon started */
        uint64_t jobs_failed;
        uint64_t jobs_retained;          /* finished, result still retrievable */
        uint64_t memory_rss;             /* daemon resident memory, bytes */
};

struct sbp_profile {
        char name[SBP_NAME_MAX + 1];
        uint64_t memory_max;             /* bytes, 0 = unlimited */
        uint64_t tasks_max;
        uint32_t cpu_percent;
        uint64_t timeout_ms;
        uint64_t tmp_size;               /* /tmp tmpfs size, bytes */
        uint64_t tmp_inodes_max;         /* files in /tmp (and in /dev/shm) */
        uint64_t work_size_max;          /* a fresh /work's tmpfs size, bytes */
        uint64_t work_inodes_max;        /* files in a fresh /work */
        char network[16];                /* "none", "allowlist" or "host" */
        uint64_t output_max;             /* stdout + stderr bytes; 0 = unlimited */
        bool output_truncate;            /* past output_max: drop output (true) or end the job (false) */
};

/* ---- Framing ---- */

enum sbp_msg_type { SBP_REQUEST = 0, SBP_RESPONSE = 1, SBP_NOTIFICATION = 2 };

/* A decoded envelope. Pointers are into the reader's current message and stay
 * valid until the next sbp_reader_next() or sbp_reader_destroy(). */
struct sbp_message {
        enum sbp_msg_type type;
        uint32_t msgid;               /* request, response */
        const char *method;           /* request, notification; not NUL-terminated */
        size_t method_len;
        msgpack_object params;        /* request, notification: the single map ({} if [] was
                                       * sent); any other params array as it came */
        msgpack_object error;         /* response: nil or {code, message} */
        msgpack_object result;        /* response */
};

/* Incremental pre-scan of the message being received; private to the reader.
 * msgpack-c allocates a container's slots as soon as it reads the header, so
 * the reader checks declared lengths, depth and the cap on the raw bytes and
 * hands msgpack-c only complete, bounded messages. */
struct sbp_scan {
        size_t pos;                       /* bytes of the current message scanned */
        uint64_t skip;                    /* str/bin body bytes still to pass */
        uint64_t pending;                 /* elements announced but not yet seen */
        uint32_t depth;                   /* open containers; level 0 = the message */
        uint64_t left[SBP_DEPTH_MAX + 1]; /* per level: elements still expected */
        int failed;                       /* sticky: -EMSGSIZE or -EBADMSG */
};

/* Streaming reader over a byte stream. Enforces SBP_MESSAGE_MAX (or a smaller
 * cap given at init), SBP_DEPTH_MAX and the envelope shape. */
struct sbp_reader {
        msgpack_unpacker unpacker;
        msgpack_unpacked current;
        size_t max_message;
        struct sbp_scan scan;             /* added: see struct sbp_scan */
};

int sbp_reader_init(struct sbp_reader *r, size_t max_message);  /* 0 = SBP_MESSAGE_MAX */
void sbp_reader_destroy(struct sbp_reader *r);
/* Space for at least `want` more bytes; read into *buf (up to *len), then commit. */
int sbp_reader_reserve(struct sbp_reader *r, size_t want, char **buf, size_t *len);
void sbp_reader_commit(struct sbp_reader *r, size_t n);
/* Next message: 1 = *out filled; 0 = need more bytes;
 * -EMSGSIZE = a message over the cap (stream unusable);
 * -EBADMSG = not MessagePack, or not a valid envelope. For -EBADMSG, if the
 * frame was a request whose msgid could be read, *has_msgid is set and
 * out->msgid holds it, so the caller can answer ProtocolError before closing.
 * err says what was wrong. */
int sbp_reader_next(struct sbp_reader *r, struct sbp_message *out, bool *has_msgid,
                    struct sbp_error *err);

/* The msgid of a packed response starting at buf (len bytes): true and
 * *msgid set, or false when buf is not a response. For a sender that
 * tracks which requests are answered. */
bool sbp_response_msgid(const void *buf, size_t len, uint32_t *msgid);

/* Envelope packing. The *_begin functions pack the envelope up to the point
 * where the caller packs exactly one object: the params map (request,
 * notification) or the result (response). */
void sbp_pack_request_begin(msgpack_packer *pk, uint32_t msgid, const char *method);
void sbp_pack_notification_begin(msgpack_packer *pk, const char *method);
void sbp_pack_response_begin(msgpack_packer *pk, uint32_t msgid);   /* error nil */
void sbp_pack_response_error(msgpack_packer *pk, uint32_t msgid, const struct sbp_error *err);
/* Decode a response's error object ({code, message}) into err. */
int sbp_error_decode(const msgpack_object *obj, struct sbp_error *err);

/* Small packing helpers used by the encoders below and by callers. */
void sbp_pack_str(msgpack_packer *pk, const char *s);
void sbp_pack_strn(msgpack_packer *pk, const char *s, size_t n);

/* ---- Params: strict decoders (daemon) and packers (client) ---- */
int sbp_hello_params_decode(const msgpack_object *params, struct sbp_hello_params *out,
                            struct sbp_error *err);
void sbp_hello_params_pack(msgpack_packer *pk, const struct sbp_hello_params *p);

int sbp_exec_params_decode(const msgpack_object *params, struct sbp_exec_params *out,
                           struct sbp_error *err);
void sbp_exec_params_free(struct sbp_exec_params *p);
void sbp_exec_params_pack(msgpack_packer *pk, const struct sbp_exec_params *p);

/* want_data: stdin_write (data required) versus the {job}-only methods. */
int sbp_job_params_decode(const msgpack_object *params, bool want_data,
                          struct sbp_job_params *out, struct sbp_error *err);
void sbp_job_params_pack(msgpack_packer *pk, const char *job, const void *data, size_t len,
                         bool with_data);
int sbp_job_connect_params_decode(const msgpack_object *params,
                                  struct sbp_job_connect_params *out, struct sbp_error *err);
void sbp_job_connect_params_pack(msgpack_packer *pk, const struct sbp_job_connect_params *p);
/* list, stats, profiles: only an empty map is accepted. */
/* list: {after, limit}, both optional; limit 0 = SBP_LIST_MAX. */
struct sbp_list_params {
        uint64_t after;                  /* only jobs whose seq is greater */
        uint32_t limit;                  /* at most this many entries */
};
int sbp_list_params_decode(const msgpack_object *params, struct sbp_list_params *out,
                           struct sbp_error *err);
void sbp_list_params_pack(msgpack_packer *pk, const struct sbp_list_params *p);
int sbp_empty_params_decode(const msgpack_object *params, struct sbp_error *err);
void sbp_empty_params_pack(msgpack_packer *pk);

/* ---- Results: packers (daemon) and lenient decoders (client) ---- */
void sbp_hello_result_pack(msgpack_packer *pk, const struct sbp_hello_result *r);
int sbp_hello_result_decode(const msgpack_object *obj, struct sbp_hello_result *out);

void sbp_enforced_pack(msgpack_packer *pk, const struct sbp_enforced *e);
int sbp_enforced_decode(const msgpack_object *obj, struct sbp_enforced *out);

void sbp_job_result_pack(msgpack_packer *pk, const struct sbp_job_result *r);
int sbp_job_result_decode(const msgpack_object *obj, struct sbp_job_result *out);

/* exec's result: {job}. */
void sbp_exec_result_pack(msgpack_packer *pk, const char *job);
int sbp_exec_result_decode(const msgpack_object *obj, char job[SBP_JOB_ID_MAX + 1]);

/* inspect: one map with the result fields plus profile, owner_uid, started_ms,
 * detached, argv. list: an array of the same maps. */
void sbp_job_info_pack(msgpack_packer *pk, const struct sbp_job_info *info);
int sbp_job_info_decode(const msgpack_object *obj, struct sbp_job_info *out);

void sbp_stats_result_pack(msgpack_packer *pk, const struct sbp_stats_result *s);
int sbp_stats_result_decode(const msgpack_object *obj, struct sbp_stats_result *out);

void sbp_profile_pack(msgpack_packer *pk, const struct sbp_profile *p);
int sbp_profile_decode(const msgpack_object *obj, struct sbp_profile *out);

/* ---- Notifications ---- */
enum sbp_stream { SBP_STDOUT = 1, SBP_STDERR = 2 };   /* wire: "stdout", "stderr" */

/* These two pack the whole notification, envelope included:
 * [2, "job_output", [{job, stream, data}]] and [2, "job_exit", [{job, result}]].
 * The decoders take the params map of a received notification. */
void sbp_job_output_pack(msgpack_packer *pk, const char *job, enum sbp_stream stream,
                         const void *data, size_t len);
struct sbp_job_output {
        char job[SBP_JOB_ID_MAX + 1];
        enum sbp_stream stream;
        const uint8_t *data;   /* into the decoded message */
        size_t len;
};
int sbp_job_output_decode(const msgpack_object *params, struct sbp_job_output *out);
void sbp_job_exit_pack(msgpack_packer *pk, const struct sbp_job_result *r);
int sbp_job_exit_decode(const msgpack_object *params, struct sbp_job_result *out);

/* Method names, for dispatch tables and the PROTOCOL.md coverage test. */
#define SBP_METHODS(X)                                                       \
        X(hello) X(exec) X(wait) X(kill) X(list) X(inspect)                  \
        X(stdin_write) X(stdin_close) X(stats) X(profiles)                  \
        X(resize) X(job_connect) X(sandbox_create) X(sandbox_destroy)      \
        X(sandbox_list) X(work_fd)
#define SBP_NOTIFICATIONS(X) X(job_output) X(job_exit)

/* The index of the method called name (len bytes, any bytes) in
 * SBP_METHODS, or -EINVAL with err InvalidArgument "unknown method NAME",
 * NAME shown in printable ASCII ('?' for other bytes), cut at 44 bytes. */
int sbp_method_find(const char *name, size_t len, struct sbp_error *err);
