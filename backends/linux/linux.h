/* linux.h — internals shared by the files of the linux backend.
 *
 * struct sb_backend holds what open() learned about the host (so that a
 * spawn does no probing); the spawn plan (plan.h), built from it and the
 * job, is everything the pre-exec child reads, so that the child allocates
 * nothing.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/backend.h"
#include "backends/internal.h"
#include "backends/linux/cgroup/cgroup.h"
#include "backends/linux/spawn/plan.h"
#include "backends/linux/seccomp_groups.h"

/* What a prepared sandbox's start() takes (caps.prepared_*_max); the
 * child keeps the request in room set aside for it before the job existed
 * (static in the spawner, untouched there: only a child's own copy of the
 * pages it fills costs memory). Larger requests get a sandbox built for
 * them, where only SBP_ARGS_BYTES_MAX bounds argv. */
#define SB_LINUX_START_ENTRIES_MAX 2048u
#define SB_LINUX_START_BYTES_MAX (128u << 10)

/* The job's HOME (caps.home): on its /tmp, so that what tools keep there
 * (.cache, .config, .npm) is bounded by TmpSize= and TmpInodesMax=, counts
 * towards the job's memory, stays out of /work and goes with the job. */
#define SB_LINUX_HOME "/tmp/home"

enum sb_host_kind { SB_HOST_ABSENT = 0, SB_HOST_SYMLINK, SB_HOST_DIR, SB_HOST_FILE };

struct sb_host_path {
        char name[32];                  /* relative to / : "bin", "etc/ld.so.cache" */
        enum sb_host_kind kind;
        char target[256];               /* SB_HOST_SYMLINK: the link text */
};

#define SB_LINUX_TOP_MAX 6      /* bin sbin lib lib32 lib64 libx32 */
/* ld.so.cache alternatives localtime nsswitch.conf, then what common tools
 * read: CA certificates, fonts configuration, os-release, mime.types,
 * services, protocols, locale.alias (linux.c etc_names). */
#define SB_LINUX_ETC_MAX 13

/* The most ptys a job may hold open at once (devpts max=). The kernel's
 * pool (kernel.pty.max) is shared by every devpts instance but the host's
 * reserve (kernel.pty.reserve): without a bound, one job could take all
 * of it from the others. */
#define SB_LINUX_PTYS_MAX "64"

/* A spawner that keeps dying is restarted at most this often (spawner.c). */
#define SB_SPAWNER_RESTARTS_MAX 5
#define SB_SPAWNER_RESTART_WINDOW_S 60

struct sb_backend {
        char state_dir[PATH_MAX];
        char root_mnt[PATH_MAX];        /* <state_dir>/root: where each job's tmpfs root goes */
        uint32_t uid_first, uid_last;
        struct sb_backend_idpool ids;   /* the job uids handed out */
        int cap_last;                   /* /proc/sys/kernel/cap_last_cap */
        struct sb_cgroup cg;
        struct sb_host_path top[SB_LINUX_TOP_MAX];
        struct sb_host_path etc[SB_LINUX_ETC_MAX];
        int landlock_abi;               /* used for jobs: min(kernel, SB_LANDLOCK_ABI_MAX); 0 = none */
        bool seccomp_notify;            /* SECCOMP_RET_USER_NOTIF: refusals can be reported */
        struct sb_seccomp_cache seccomp;        /* compiled filters (seccomp.c) */
        int spawner_fd;                 /* socket to the spawner (spawner.c); -1 = none running */
        pid_t spawner_pid;
        char spawner_exe[PATH_MAX];
        char spawner_lost[64];          /* how the last one ended: "died (signal KILL)" */
        /* When each of the latest restarts happened (CLOCK_MONOTONIC s),
         * oldest first: bounds the restarts of a spawner that keeps dying. */
        uint64_t spawner_starts[SB_SPAWNER_RESTARTS_MAX];
        int spawner_starts_n;
        void (*notice)(const char *msg);        /* the daemon's log; NULL = none */
        /* Prepared sandboxes whose clone was asked for and not yet
         * answered, oldest first: the spawner answers in order. */
        struct sb_backend_job *pending_head, *pending_tail;
        /* The daemon's own network namespace (its loop thread's), to come
         * back to after making a socket in a job's (netns_enter.c). */
        int netns_self;
};

/* binds.c: the directories a client passed by fd, as detached mounts made
 * by the parent (open_tree clone + mount_setattr) and attached by the child. */
struct sb_linux_binds {
        int work_tree;                  /* detached mount for /work; -1 = the fresh job dir */
        int trees[SBP_MOUNTS_MAX];      /* detached mounts for the extra targets; -1 = unused */
        char targets[SBP_MOUNTS_MAX][SBP_TARGET_MAX + 1];
        bool read_only[SBP_MOUNTS_MAX];
        bool is_file[SBP_MOUNTS_MAX];   /* one regular file, bound onto a file target */
        uint32_t n;
        int chown_fd;                   /* workdir fd kept for the ownership fix; -1 = none */
        uid_t job_uid, owner_uid;
        gid_t job_gid, owner_gid;
        char workdir[8];                /* enforced: "fresh" | "idmap" | "chown" */
};

/* pty.c: a tty job's terminal (spec->tty), made before the clone: the
 * master (the daemon's, by tty_take), the slave (the job's stdio) and the
 * detached mount of the devpts instance it is in (the job's /dev/pts).
 * -1 = none. */
struct sb_linux_pty {
        int master, slave, tree;
};
void sb_linux_pty_init(struct sb_linux_pty *t);
/* Every descriptor field of a new (zeroed) job: none held yet. */
void sb_linux_job_fds_init(struct sb_backend_job *j);
/* A new devpts instance and its first pty, the slave owned by uid:gid,
 * the window rows x cols. 0, or -errno with errbuf naming the step. */
int sb_linux_pty_open(struct sb_linux_pty *t, uid_t uid, gid_t gid, unsigned rows,
                      unsigned cols, char *errbuf, size_t errlen);
/* Close what is left (-1 what was taken). */
void sb_linux_pty_release(struct sb_linux_pty *t);

struct sb_backend_job {
        struct sb_backend *b;
        char id[SBP_JOB_ID_MAX + 1];
        pid_t pid;
        int pidfd;                      /* exit fd and signal target */
        int err_fd;                     /* read end of the child's error pipe */
        struct sb_cgroup_job cgj;
        bool cg_created;
        bool cg_empty;                  /* reap() saw it empty: no process can join */
        uid_t uid;
        gid_t gid;
        struct sb_policy policy;        /* applied: start() compares it, enforced() reports it */
        bool reaped;
        bool init_exiting;              /* reaped on the init's record; its exit still to wait for */
        uint64_t memory_peak;           /* at reap: what destroy_quick goes by */
        const struct sb_seccomp_prog *seccomp;  /* the filter the child loads (cache-owned) */
        char syscall_filter[64];        /* its name, for enforced (the cache may drop it) */
        struct sb_linux_binds binds;    /* files by descriptor (binds.c) */
        struct sb_linux_pty pty;        /* a tty job's terminal; after the clone only
                                         * the master, until tty_take */
        /* A prepared sandbox (prepare op): the child waits at the end of
         * its setup for the start request on start_fd (start.c). */
        bool prepared;
        int start_fd;                   /* the daemon's end; -1 once started */
        /* Refused syscalls reported (spec->denied_report): the child sends
         * its seccomp listener up the sync socket, kept here until it came
         * (denied_syscalls.c); denied_ep polls both. -1 = none. */
        bool denied_report;
        int listener_sock;
        int listener;
        int denied_ep;
        bool work_tmpfs;                /* /work is the job's own tmpfs (no workdir_fd) */
        /* spec->keep_work (work_keep.c): our reference to its /work tmpfs,
         * -1 = none or handed on; chowned once the client owns it all. */
        int kept_work;
        bool kept_chowned;
        uid_t keep_owner_uid;
        gid_t keep_owner_gid;
        /* The job's mount and network namespaces, held from the clone to
         * destroy(): without them the init's exit would tear down its ~60
         * mounts, and start the network namespace's cleanup (expedited RCU
         * grace periods that preempt everything, the daemon included),
         * before the daemon hears of the exit: on every job's critical
         * path. destroy() closes them, off that path. */
        int mntns_fd;
        int netns_fd;
        /* Network allowlist: the egress proxy's listener on the job's
         * 127.0.0.1:SB_NETWORK_PROXY_PORT, made before the job's program
         * can run (before the "go", or the start request); -1 = none. */
        int egress_fd;
        /* A prepared sandbox's clone is asked for without waiting for the
         * answer (spawner.c): pending until then, failed if none came. */
        bool pending;
        struct sb_backend_job *pending_next;
        int pending_err;                /* positive errno; 0 = cloned */
        char pending_step[96];
        /* A persistent sandbox (sandbox_create op): prepared, and its init
         * serves exec requests on start_fd for as long as it lives
         * (child/sandbox_init.c). */
        bool sandbox;
        /* A command run in a sandbox (sandbox_exec op): err_fd is the
         * daemon's end of its report socket; nothing else of the above is
         * its own (sandbox.c). */
        bool command;
        struct sbp_enforced *cmd_enforced;
};

/* spawn.c: clone3 into namespaces (and the job cgroup), release the child. */
/* A prepared sandbox (j->prepared) may come back pending: its clone was asked
 * of the spawner, and sb_linux_spawn_done() completes it when the answer is
 * read (spawner.c, sb_linux_spawner_settle). */
void sb_linux_spawn_done(struct sb_backend_job *j, pid_t pid, int pidfd);
/* Network allowlist: make j->egress_fd, the proxy's listener on the job's
 * 127.0.0.1:SB_NETWORK_PROXY_PORT (j->pid or j->netns_fd set); 0 or -errno
 * with errbuf set ("network allowlist: bind 127.0.0.1:3128: EADDRINUSE"). */
int sb_linux_egress_listen(struct sb_backend_job *j, char *errbuf, size_t errlen);
int sb_linux_spawn(struct sb_backend *b, const struct sb_job_spec *spec, struct sb_backend_job *j,
                   char *errbuf, size_t errlen);
/* The plan of j's child (plan.h) into pb (its p is the caller's to free,
 * set even on failure), and the fds it names into fds[SB_PLAN_FDS] and
 * *nfds: the pipes' child ends, stdio, the cgroup and bind fds. */
int sb_linux_spawn_plan(struct sb_plan_builder *pb, const struct sb_backend *b,
                        const struct sb_job_spec *spec, const struct sb_backend_job *j,
                        int sync_r, int err_w, int *fds, int *nfds, char *errbuf, size_t errlen);

/* spawner.c: start (end of open()) and stop (close()) the process that
 * clones the jobs, the executable exe (spawner_exe.c). clone: 0 and the
 * pidfd and pid, or -errno with errbuf set (the failed step, or a spawner
 * that died or was stuck with the request: a new one starts for the next). */
int sb_linux_spawner_start(struct sb_backend *b, const char *exe, char *errbuf, size_t errlen);
void sb_linux_spawner_stop(struct sb_backend *b);
int sb_linux_spawner_clone(struct sb_backend *b, const struct sb_spawn_plan *p, const int *fds,
                           int nfds, int *pidfd, pid_t *pid, char *errbuf, size_t errlen);
/* A prepared sandbox: only send the plan; j joins the pending list. 0, or
 * -errno with errbuf set. */
int sb_linux_spawner_clone_async(struct sb_backend *b, const struct sb_spawn_plan *p,
                                 const int *fds, int nfds, struct sb_backend_job *j, char *errbuf,
                                 size_t errlen);
/* Read the answers to pending requests, in order, until `until` has its
 * (NULL: all of them). Blocks for as long as the spawner takes. */
void sb_linux_spawner_settle(struct sb_backend *b, struct sb_backend_job *until);

/* child.c: the pre-exec sequence, reading only the plan and the fds it
 * names (by slot, fd[SB_PLAN_FD_*]); attach: the child moves itself into
 * the job cgroup (it was not cloned into it). Never returns. */
__attribute__((noreturn)) void sb_linux_child(const struct sb_spawn_plan *p, const int *fd,
                                              bool attach);

/* init.c: pid 1 of the job's pid namespace once the program is forked off:
 * reaps, then reports the program's wait status on errfd. Never returns. */
__attribute__((noreturn)) void sb_linux_init(int errfd, pid_t program, uid_t uid);

/* mounts.c: build the job's root and pivot into it. */
int sb_linux_mounts(const struct sb_spawn_plan *p, const int *fd, char *step, size_t steplen);

/* binds.c. prepare (parent, before clone): validate the spec's fds and make
 * the detached mounts; release closes them (and the kept workdir fd); attach
 * (child, cwd = the new root, after /work is bound): stack them in place;
 * after_job (finish_files, on the daemon's threadpool; destroy if that never
 * ran): the ownership fix when the idmap was not available. */
void sb_linux_binds_init(struct sb_linux_binds *bd);
int sb_linux_binds_prepare(struct sb_linux_binds *bd, const struct sb_job_spec *spec,
                           char *errbuf, size_t errlen);
int sb_linux_binds_attach(const struct sb_spawn_plan *p, const int *fd, char *step,
                          size_t steplen);
void sb_linux_binds_release(struct sb_linux_binds *bd, bool keep_chown_fd);
int sb_linux_binds_after_job(struct sb_linux_binds *bd);

/* strv.c: argv then envp as one block of NUL-terminated strings. measure
 * counts both (either may be NULL) and returns the block's size; pack writes
 * it and returns its end; unpack points args (argc + envc + 2 slots: argv,
 * NULL, envp, NULL) into a received block, -EINVAL if it holds fewer
 * strings than said. unpack allocates nothing (spawner, child). */
size_t sb_linux_strv_measure(char *const *argv, char *const *envp, uint32_t *argc,
                             uint32_t *envc);
char *sb_linux_strv_pack(char *dst, char *const *argv, uint32_t argc, char *const *envp,
                         uint32_t envc);
int sb_linux_strv_unpack(char *s, size_t len, uint32_t argc, uint32_t envc, char **args);

/* The start request's header; SCM_RIGHTS stdio, then argv and envp. */
struct sb_start_hdr {
        uint32_t magic;
        uint32_t argc, envc;
        uint32_t strings_len;
};

#define SB_START_MAGIC 0x5b5a0002u

/* start.c (send) and child/start_recv.c: the start request of a prepared sandbox. send: daemon side, one
 * message with argv, envp and the spec's stdio fds. recv: in the prepared child,
 * static buffers only; argv/envp point into them, stdio gets the three fds. */
int sb_linux_start_send(int fd, const struct sb_job_spec *spec, char *errbuf, size_t errlen);
/* Send len bytes of buf on the stream socket sock, with nfds (1-4) fds on
 * the first part: 0 or -errno (EPIPE: the reader is gone). start.c. */
int sb_linux_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds);
/* The child reads it into static room of its own copy of the spawner's
 * memory (touched only by a prepared child, so the spawner's clones copy
 * none of it). */
int sb_linux_start_recv(int fd, char ***argv, char ***envp, int stdio[3], const char **step);

/* A persistent sandbox's exec request (sandbox.c sends it, the sandbox's
 * init serves it: child/sandbox_init.c): this header with the command's
 * stdin, stdout, stderr and the init's end of the command's report socket
 * attached by SCM_RIGHTS, then argv and envp as in the start request. */
#define SB_SANDBOX_CWD_MAX 1024
struct sb_sandbox_exec_hdr {
        uint32_t magic;
        uint32_t argc, envc;
        uint32_t strings_len;
        char cwd[SB_SANDBOX_CWD_MAX + 1];       /* "" = the sandbox's own (/work) */
};
#define SB_SANDBOX_EXEC_MAGIC 0x5b5a0003u

/* On a command's report socket (SOCK_SEQPACKET): the init sends one of
 * these when the command's main process ended (then closes it); the daemon
 * sends SB_SANDBOX_KILL to have the command's process group killed. */
struct sb_sandbox_cmd_exit {
        uint32_t magic;
        int32_t wstatus;                /* -1 when it never ran */
        int32_t err;                    /* positive errno of `step`, 0 = it ran */
        char step[32];
        uint64_t cpu_user_us, cpu_sys_us;
        uint64_t maxrss_kb;
};
#define SB_SANDBOX_EXIT_MAGIC 0x5b5a0004u
#define SB_SANDBOX_KILL 'k'
/* Commands one sandbox runs at a time (the init's table). */
#define SB_SANDBOX_CMDS_MAX 64

/* child/sandbox_init.c: pid 1 of a persistent sandbox: serve exec requests
 * on startfd until it reaches EOF, then kill everything and exit. */
__attribute__((noreturn)) void sb_linux_sandbox_init(int errfd, int startfd, uid_t uid);

/* sandbox.c: the daemon side of the sandbox ops and of a command's job. */
int sb_linux_sandbox_exec(struct sb_backend_job *sbx, const struct sb_job_spec *spec,
                          struct sb_backend_job **out, char *errbuf, size_t errlen);
int sb_linux_cmd_kill(struct sb_backend_job *j);
int sb_linux_cmd_reap(struct sb_backend_job *j, struct sb_backend_exit *out);
void sb_linux_cmd_destroy(struct sb_backend_job *j);

/* netns.c: bring lo up in the current network namespace. */
int sb_linux_lo_up(const char **step);

/* netns_enter.c: the daemon's side, sockets in a job's network namespace
 * nsfd. self_open: the calling thread's own namespace (fd or -errno).
 * listen_lo: bring lo up there and listen on its 127.0.0.1:port; the
 * socket or -errno with errbuf set. connect_lo: lo up, then a socket connected (or
 * connecting) to its 127.0.0.1:port into *out; -errno with *step. */
int sb_linux_netns_self_open(void);
int sb_linux_netns_listen_lo(const struct sb_backend *b, int nsfd, uint16_t port, char *errbuf,
                             size_t errlen);
int sb_linux_netns_connect_lo(const struct sb_backend *b, int nsfd, uint16_t port, int *out,
                              const char **step);

/* caps.c: raw syscalls only, callable in the child. */
int sb_linux_caps_drop_bounding(int cap_last, const char **step);  /* before the uid change */
int sb_linux_caps_clear(const char **step);                        /* after the uid change */
int sb_linux_no_new_privs(const char **step);
int sb_linux_securebits_lock(const char **step);                   /* before the uid change */
int sb_linux_caps_verify(const char **step);                       /* after capset, /proc mounted */

/* leftovers.c: what a previous instance left (processes, cgroups, job dirs). */
int sb_linux_reap_leftovers(struct sb_backend *b, char *errbuf, size_t errlen);

/* probe.c: caps() and probe() of the contract (backend.h). */
void sb_linux_backend_caps(struct sb_backend_caps *out);
void sb_linux_probe(const struct sb_backend_config *cfg, struct sb_backend_probe *out);
/* The spawner to start: configured (non-NULL) as it is, else beside the
 * running program (into buf), else the installed one; NULL if none. */
const char *sb_linux_spawner_find(const char *configured, char *buf, size_t len);

/* denied_syscalls.c: the refusals of a job with denied_report (backend.h's
 * denied_handle and denied_read), and closing what they hold. */
sb_handle sb_linux_denied_handle(struct sb_backend_job *j);
int sb_linux_denied_read(struct sb_backend_job *j, struct sb_backend_denied *out, unsigned max);
void sb_linux_denied_close(struct sb_backend_job *j);

/* work_keep.c: a fresh /work kept after the job (spec->keep_work). */
int sb_linux_work_keep_prepare(struct sb_backend_job *j, const struct sb_job_spec *spec,
                               char *errbuf, size_t errlen);
int sb_linux_work_keep_finish(struct sb_backend_job *j);
sb_handle sb_linux_work_take(struct sb_backend_job *j);
