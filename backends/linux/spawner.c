/* spawner.c — the process that clones each linux job.
 *
 * A clone of the daemon copies the daemon's page tables, and for as long as
 * the job's init lives the daemon takes a copy-on-write fault on every page
 * it writes. So open() forks this small single-threaded process first thing
 * after the probe, while the daemon is still small, and every job is cloned
 * from here instead: the daemon sends one fixed-layout request (the child's
 * whole context by value, the strings and seccomp programs after it, every
 * fd by SCM_RIGHTS) over a SOCK_SEQPACKET socket pair and gets back the pid
 * and a pidfd (SCM_RIGHTS), or the failed step and errno.
 *
 * The job must stay the daemon's child (waitid(P_PIDFD), rusage): clone3
 * with CLONE_PARENT. The kernel refuses CLONE_PARENT|CLONE_NEWPID, so before
 * each clone the spawner goes back to its own pid namespace for children
 * (setns) and unshares a fresh one: the clone is then pid 1 there.
 *
 * Invariants: the spawner serves only its end of the socket pair (it closes
 * every other fd it inherited), dies with the daemon (PR_SET_PDEATHSIG,
 * then a getppid() check for a daemon that died before the prctl), never
 * runs as a job uid, and holds a received fd only until the clone is done.
 * What the child reads from struct sb_backend (root_mnt, top, etc,
 * cap_last, landlock_abi, cg.nbase, cg.fake) is fixed once open() probed the
 * host, so the spawner's snapshot from the fork is the daemon's. If the
 * spawner is gone the daemon clones in-process as before (spawn.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define SPAWN_NS_FLAGS (CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* Every struct below travels by value and is then patched (pointers, fds)
 * in unpack(). A new field changes its size and stops the build here: carry
 * it (by value it already is; a pointer or an fd needs pack()/unpack()
 * code), then update the number. Sizes are those of x86_64. */
#if defined(__x86_64__)
_Static_assert(sizeof(struct sb_job_spec) == 120, "sb_job_spec changed: update spawner.c");
_Static_assert(sizeof(struct sb_backend_job) == 5512, "sb_backend_job changed: update spawner.c");
_Static_assert(sizeof(struct sb_linux_binds) == 1100, "sb_linux_binds changed: update spawner.c");
_Static_assert(sizeof(struct sb_child_ctx) == 664, "sb_child_ctx changed: update spawner.c");
_Static_assert(sizeof(struct sb_seccomp_prog) == 232, "sb_seccomp_prog changed: update spawner.c");
_Static_assert(sizeof(struct sb_cgroup_job) == 64, "sb_cgroup_job changed: update spawner.c");
#endif

/* Fixed fd slots of a request; -1 in the context = not sent. */
enum {
        SLOT_SYNC_R,
        SLOT_ERR_W,
        SLOT_STDIN,
        SLOT_STDOUT,
        SLOT_STDERR,
        SLOT_CLONE_CG,
        SLOT_WORK_TREE,
        SLOT_TREES,
        SLOT_CG = SLOT_TREES + SBP_MOUNTS_MAX,
        SLOT_MAX = SLOT_CG + SB_CGROUP_BASES_MAX,
};

#define ARGS_MAX 4096u                          /* argv + envp entries */
#define BPF_INSNS_MAX 4096u                     /* BPF_MAXINSNS */
#define BLOB_MAX ((2u << 20) + 2 * BPF_INSNS_MAX * sizeof(struct sock_filter))

struct spawn_req {
        uint32_t magic;
        uint32_t argc, envc;
        uint32_t strings_len;                   /* argv then envp, each NUL-terminated */
        uint32_t allow_len, deny_len;           /* BPF instructions, after the strings (8-aligned) */
        int8_t slot_fd[SLOT_MAX];               /* index among the passed fds, -1 = none */
        bool attach;                            /* the child attaches itself (no CLONE_INTO_CGROUP) */
        struct sb_job_spec spec;
        struct sb_backend_job j;
        struct sb_child_ctx c;
};

struct spawn_reply {
        int32_t err;                            /* 0, or the positive errno of `step` */
        int32_t pid;
        char step[32];
};

#define SPAWN_MAGIC 0x5b5a0001u

/* ---- the spawner process ---- */

static unsigned char rbuf[sizeof(struct spawn_req) + BLOB_MAX] __attribute__((aligned(16)));
static char *args[ARGS_MAX + 2];

static void reply(int sock, int err, pid_t pid, const char *step, int pidfd)
{
        struct spawn_reply rep;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        struct iovec iov = { &rep, sizeof(rep) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        memset(&rep, 0, sizeof(rep));
        rep.err = err;
        rep.pid = pid;
        snprintf(rep.step, sizeof(rep.step), "%s", step ? step : "");
        if (pidfd >= 0) {
                memset(&cm, 0, sizeof(cm));
                mh.msg_control = cm.buf;
                mh.msg_controllen = sizeof(cm.buf);
                cm.h.cmsg_level = SOL_SOCKET;
                cm.h.cmsg_type = SCM_RIGHTS;
                cm.h.cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(&cm.h), &pidfd, sizeof(int));
        }
        while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0) {
                if (errno != EINTR)
                        _exit(1);       /* the daemon is gone */
        }
}

static int slot(const struct spawn_req *q, const int *fds, int nfds, int s)
{
        int k = q->slot_fd[s];

        return k >= 0 && k < nfds ? fds[k] : -1;
}

/* Rebuild pointers and fds of the request in place; -EINVAL if it does not
 * add up (the daemon is trusted, this only guards against a bug). */
static int unpack(struct spawn_req *q, size_t len, const int *fds, int nfds,
                  struct sb_backend *b, struct sb_seccomp_prog *sp)
{
        char *s = (char *)(q + 1);
        size_t off;

        /* No argv only for a prepared sandbox: its comes with the start. */
        if (len < sizeof(*q) || q->magic != SPAWN_MAGIC || (q->argc == 0 && !q->c.held) ||
            q->argc + q->envc > ARGS_MAX || q->strings_len > len - sizeof(*q) ||
            q->allow_len > BPF_INSNS_MAX || q->deny_len > BPF_INSNS_MAX)
                return -EINVAL;
        off = (q->strings_len + 7u) & ~7u;
        if (sizeof(*q) + off + (size_t)(q->allow_len + q->deny_len) * sizeof(struct sock_filter) != len)
                return -EINVAL;
        if (sb_linux_strv_unpack(s, q->strings_len, q->argc, q->envc, args) < 0)
                return -EINVAL;

        struct sock_filter *bpf = (struct sock_filter *)((char *)(q + 1) + off);
        *sp = (struct sb_seccomp_prog){ 0 };
        sp->allow.len = (unsigned short)q->allow_len;
        sp->allow.filter = bpf;
        sp->deny.len = (unsigned short)q->deny_len;
        sp->deny.filter = bpf + q->allow_len;

        q->spec.argv = args;
        q->spec.envp = args + q->argc + 1;
        q->spec.job_id = q->j.id;
        q->spec.mounts = NULL;          /* read by binds_prepare (parent) only */
        q->spec.syscall_allow = NULL;   /* compiled into sp by the parent */
        q->spec.stdin_fd = slot(q, fds, nfds, SLOT_STDIN);
        q->spec.stdout_fd = slot(q, fds, nfds, SLOT_STDOUT);
        q->spec.stderr_fd = slot(q, fds, nfds, SLOT_STDERR);
        q->spec.workdir_fd = -1;

        q->j.b = b;
        q->j.seccomp = sp;
        q->j.pidfd = -1;
        q->j.err_fd = -1;
        q->j.start_fd = -1;             /* the daemon's end */
        q->j.mntns_fd = -1;
        q->j.netns_fd = -1;
        q->j.pending = false;           /* the daemon's bookkeeping */
        q->j.pending_next = NULL;
        q->j.cgj.cg = &b->cg;
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                q->j.cgj.fd[i] = slot(q, fds, nfds, SLOT_CG + i);
        q->j.binds.work_tree = slot(q, fds, nfds, SLOT_WORK_TREE);
        for (uint32_t i = 0; i < SBP_MOUNTS_MAX; i++)
                q->j.binds.trees[i] = slot(q, fds, nfds, SLOT_TREES + (int)i);
        q->j.binds.chown_fd = -1;       /* the parent's, after the job */

        q->c.b = b;
        q->c.spec = &q->spec;
        q->c.j = &q->j;
        q->c.sync_r = slot(q, fds, nfds, SLOT_SYNC_R);
        q->c.err_w = slot(q, fds, nfds, SLOT_ERR_W);
        q->c.sync_w = -1;
        q->c.err_r = -1;
        q->c.attach = q->attach ? &q->j.cgj : NULL;
        /* Every handler was reset when we started and none set since. */
        q->c.signals_default = true;
        if (q->c.sync_r < 0 || q->c.err_w < 0 || q->spec.stdin_fd < 0 ||
            q->spec.stdout_fd < 0 || q->spec.stderr_fd < 0)
                return -EINVAL;
        return 0;
}

static pid_t clone_job(int *pidfd, int cgfd)
{
        struct clone_args ca;

        memset(&ca, 0, sizeof(ca));
        ca.flags = CLONE_PARENT | CLONE_PIDFD | SPAWN_NS_FLAGS;
        ca.pidfd = (uint64_t)(uintptr_t)pidfd;
        /* Must be 0 with CLONE_PARENT (else EINVAL): the child inherits
         * the spawner's own exit signal, SIGCHLD from its fork. */
        ca.exit_signal = 0;
        if (cgfd >= 0) {
                ca.flags |= CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)cgfd;
        }
        return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

static void serve_one(int sock, int pidns, struct sb_backend *b)
{
        static struct sb_seccomp_prog sp;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(SLOT_MAX * sizeof(int))];
        } cm;
        struct iovec iov = { rbuf, sizeof(rbuf) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
        struct spawn_req *q = (struct spawn_req *)rbuf;
        int fds[SLOT_MAX], nfds = 0, pidfd = -1, err = 0;
        const char *step = NULL;
        ssize_t n;
        pid_t pid = -1;

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                _exit(0);               /* the daemon closed its end (or is gone) */
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
                if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k && nfds < SLOT_MAX; i++)
                        memcpy(&fds[nfds++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
        }
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
            unpack(q, (size_t)n, fds, nfds, b, &sp) < 0) {
                err = EINVAL;
                step = "spawner request";
                goto done;
        }
        /* Back to our own namespace for children, then a fresh one: the
         * clone below is its pid 1 (CLONE_NEWPID is refused with
         * CLONE_PARENT). unshare() alone would fail the second time, since
         * the new namespace must be a child of the active one. */
        if (setns(pidns, CLONE_NEWPID) < 0) {
                err = errno;
                step = "setns pid";
                goto done;
        }
        if (unshare(CLONE_NEWPID) < 0) {
                err = errno;
                step = "unshare CLONE_NEWPID";
                goto done;
        }
        static bool no_clone_into;
        int cgfd = no_clone_into ? -1 : slot(q, fds, nfds, SLOT_CLONE_CG);
        sigset_t old;
        if (slot(q, fds, nfds, SLOT_CLONE_CG) >= 0 && cgfd < 0)
                q->c.attach = &q->j.cgj;
        sb_backend_block_signals(&old);
        pid = clone_job(&pidfd, cgfd);
        if (pid < 0 && cgfd >= 0 && (errno == EINVAL || errno == EOPNOTSUPP || errno == E2BIG)) {
                /* An older kernel: the child attaches itself instead. */
                no_clone_into = true;
                q->c.attach = &q->j.cgj;
                pid = clone_job(&pidfd, -1);
        }
        if (pid == 0) {
                /* Not ours to hold: while a child that waits for its "go"
                 * kept the socket open, a spawner killed before its reply
                 * would never read as EOF and the daemon would wait forever. */
                close(sock);
                close(pidns);
                /* The job's init is named like before, not like us. */
                (void)prctl(PR_SET_NAME, "skillboxd");
                sb_linux_child(&q->c);
        }
        err = pid < 0 ? errno : 0;
        sb_backend_restore_signals(&old);
        if (pid < 0)
                step = "clone3";
done:
        for (int i = 0; i < nfds; i++)
                close(fds[i]);
        reply(sock, err, pid, step, err ? -1 : pidfd);
        if (pidfd >= 0)
                close(pidfd);
}

static __attribute__((noreturn)) void spawner_main(int sock, pid_t daemon, struct sb_backend *b)
{
        int pidns, fd;

        /* Dies with the daemon; a daemon that died before the prctl took
         * effect has re-parented us already. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != daemon)
                _exit(1);
        sb_child_reset_signals();
        (void)prctl(PR_SET_NAME, "sb-spawner");
        /* Out of the daemon's process group: a terminal's ^C is the
         * daemon's to handle; we go when it goes. */
        (void)setpgid(0, 0);
        /* Keep only the socket (as fd 3) and our pid namespace. */
        if (sock != 3) {
                if (dup3(sock, 3, O_CLOEXEC) < 0)
                        _exit(1);
                sock = 3;
        }
        if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
                _exit(1);
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                b->cg.base[i].fd = -1;  /* closed above; the child uses the job's */
        pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (pidns < 0)
                _exit(1);
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd >= 0 && fd != STDIN_FILENO)
                (void)dup2(fd, STDIN_FILENO);
        for (;;)
                serve_one(sock, pidns, b);
}

/* ---- daemon side ---- */

int sb_linux_spawner_start(struct sb_backend *b, char *errbuf, size_t errlen)
{
        int sv[2], big = (int)(sizeof(struct spawn_req) + BLOB_MAX + 4096);
        pid_t daemon = getpid(), pid;
        sigset_t old;

        b->spawner_fd = -1;
        b->spawner_pid = 0;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "spawner socketpair");
        /* One request may carry 1 MiB of argv and env (SBP_ARGS_BYTES_MAX). */
        if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0 ||
            setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                return sb_backend_fail(errbuf, errlen, r, "spawner socket buffers");
        }
        sb_backend_block_signals(&old);
        pid = fork();
        if (pid == 0) {
                close(sv[0]);
                spawner_main(sv[1], daemon, b);
        }
        int r = -errno;
        sb_backend_restore_signals(&old);
        close(sv[1]);
        if (pid < 0) {
                close(sv[0]);
                return sb_backend_fail(errbuf, errlen, r, "fork spawner");
        }
        b->spawner_fd = sv[0];
        b->spawner_pid = pid;
        return 0;
}

void sb_linux_spawner_stop(struct sb_backend *b)
{
        if (b->spawner_fd >= 0) {
                close(b->spawner_fd);   /* it exits on EOF */
                b->spawner_fd = -1;
        }
        if (b->spawner_pid > 0) {
                (void)kill(b->spawner_pid, SIGKILL);
                while (waitpid(b->spawner_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                b->spawner_pid = 0;
        }
}

static void add_fd(struct spawn_req *q, int *fds, int *nfds, int s, int fd)
{
        if (fd < 0)
                return;
        q->slot_fd[s] = (int8_t)*nfds;
        fds[(*nfds)++] = fd;
}

/* Send one clone request: 0, -errno with errbuf set (nothing sent), or 1
 * when the spawner is gone (it is stopped then). */
static int send_request(struct sb_backend *b, const struct sb_child_ctx *c, int cgfd,
                        char *errbuf, size_t errlen)
{
        const struct sb_job_spec *spec = c->spec;
        const struct sb_seccomp_prog *sp = c->j->seccomp;
        struct spawn_req *q;
        size_t slen, off, len;
        uint32_t argc = 0, envc = 0;
        int fds[SLOT_MAX], nfds = 0, r;
        ssize_t n;

        slen = sb_linux_strv_measure(spec->argv, spec->envp, &argc, &envc);
        if (argc + envc > ARGS_MAX || slen > BLOB_MAX - 2 * BPF_INSNS_MAX * sizeof(struct sock_filter) ||
            sp->allow.len > BPF_INSNS_MAX || sp->deny.len > BPF_INSNS_MAX)
                return sb_backend_fail(errbuf, errlen, -E2BIG, "spawner request");
        off = (slen + 7u) & ~(size_t)7u;
        len = sizeof(*q) + off + (size_t)(sp->allow.len + sp->deny.len) * sizeof(struct sock_filter);
        q = calloc(1, len);
        if (!q)
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "spawner request");
        q->magic = SPAWN_MAGIC;
        q->argc = argc;
        q->envc = envc;
        q->strings_len = (uint32_t)slen;
        q->allow_len = sp->allow.len;
        q->deny_len = sp->deny.len;
        q->attach = c->attach != NULL && cgfd < 0;
        q->spec = *spec;
        q->j = *c->j;
        q->c = *c;
        sb_linux_strv_pack((char *)(q + 1), spec->argv, argc, spec->envp, envc);
        struct sock_filter *bpf = (struct sock_filter *)((char *)(q + 1) + off);
        memcpy(bpf, sp->allow.filter, sp->allow.len * sizeof(*bpf));
        if (sp->deny.len)       /* usually chained into allow (seccomp.c) */
                memcpy(bpf + sp->allow.len, sp->deny.filter, sp->deny.len * sizeof(*bpf));

        memset(q->slot_fd, -1, sizeof(q->slot_fd));
        add_fd(q, fds, &nfds, SLOT_SYNC_R, c->sync_r);
        add_fd(q, fds, &nfds, SLOT_ERR_W, c->err_w);
        add_fd(q, fds, &nfds, SLOT_STDIN, spec->stdin_fd);
        add_fd(q, fds, &nfds, SLOT_STDOUT, spec->stdout_fd);
        add_fd(q, fds, &nfds, SLOT_STDERR, spec->stderr_fd);
        add_fd(q, fds, &nfds, SLOT_CLONE_CG, cgfd);
        add_fd(q, fds, &nfds, SLOT_WORK_TREE, c->j->binds.work_tree);
        for (uint32_t i = 0; i < SBP_MOUNTS_MAX; i++)
                add_fd(q, fds, &nfds, SLOT_TREES + (int)i, c->j->binds.trees[i]);
        /* Always: the spawner falls back to the child attaching itself on
         * a kernel without CLONE_INTO_CGROUP. */
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                add_fd(q, fds, &nfds, SLOT_CG + i, c->j->cgj.fd[i]);

        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(SLOT_MAX * sizeof(int))];
        } cm;
        struct iovec iov = { q, len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
        memset(&cm, 0, sizeof(cm));
        cm.h.cmsg_level = SOL_SOCKET;
        cm.h.cmsg_type = SCM_RIGHTS;
        cm.h.cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(&cm.h), fds, nfds * sizeof(int));
        do
                n = sendmsg(b->spawner_fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        r = n < 0 ? -errno : 0;
        free(q);
        if (r < 0) {
                /* The spawner died: clone in-process from now on (spawn.c). */
                sb_linux_spawner_stop(b);
                return 1;
        }
        return 0;
}

/* Read the answer to the oldest request: 0 with the pidfd and pid, -errno
 * with errbuf set (the spawner's failed step, or a reply we cannot read:
 * the spawner is stopped then), or 1 when the spawner is gone. */
static int read_reply(struct sb_backend *b, int *pidfd, pid_t *pid, char *errbuf, size_t errlen)
{
        struct spawn_reply rep;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(SLOT_MAX * sizeof(int))];
        } cm;
        ssize_t n;
        int got = -1;
        struct iovec riov = { &rep, sizeof(rep) };
        struct msghdr rmh = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = cm.buf,
                              .msg_controllen = sizeof(cm.buf) };
        do
                n = recvmsg(b->spawner_fd, &rmh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
                /* Delivered, then no reply: the spawner may have cloned a
                 * child before it died, which now waits on this job's sync
                 * socket; the caller clones on fresh pipes (spawn.c). */
                goto lost;
        }
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&rmh); h; h = CMSG_NXTHDR(&rmh, h)) {
                if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
                    h->cmsg_len >= CMSG_LEN(sizeof(int)))
                        memcpy(&got, CMSG_DATA(h), sizeof(int));
        }
        if (n != sizeof(rep) || (rep.err == 0 && (got < 0 || rep.pid <= 0))) {
                if (got >= 0)
                        close(got);
                /* A clone without its pidfd (MSG_CTRUNC at the fd limit)
                 * is still our unreaped child (CLONE_PARENT), so its pid
                 * cannot be reused yet: end it rather than leave it waiting
                 * for the "go" and then a zombie. */
                siginfo_t si;
                if (n == sizeof(rep) && rep.err == 0 && rep.pid > 0 &&
                    waitid(P_PID, (id_t)rep.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
                        (void)kill(rep.pid, SIGKILL);
                        while (waitpid(rep.pid, NULL, 0) < 0 && errno == EINTR)
                                ;
                }
                /* A reply we cannot read leaves the stream unusable. */
                sb_linux_spawner_stop(b);
                return sb_backend_fail(errbuf, errlen, -EPROTO, "spawner reply");
        }
        if (rep.err) {
                if (got >= 0)
                        close(got);
                rep.step[sizeof(rep.step) - 1] = '\0';
                return sb_backend_fail(errbuf, errlen, -rep.err, "%s", rep.step);
        }
        *pidfd = got;
        *pid = rep.pid;
        return 0;
lost:
        /* The spawner died: clone in-process from now on (spawn.c). */
        sb_linux_spawner_stop(b);
        return 1;
}

int sb_linux_spawner_clone(struct sb_backend *b, const struct sb_child_ctx *c, int cgfd,
                           int *pidfd, pid_t *pid, char *errbuf, size_t errlen)
{
        int r;

        /* The spawner answers in order: earlier requests first. */
        sb_linux_spawner_settle(b, NULL);
        if (b->spawner_fd < 0)
                return 1;
        r = send_request(b, c, cgfd, errbuf, errlen);
        if (r != 0)
                return r;
        return read_reply(b, pidfd, pid, errbuf, errlen);
}

int sb_linux_spawner_clone_async(struct sb_backend *b, const struct sb_child_ctx *c, int cgfd,
                                 struct sb_backend_job *j, char *errbuf, size_t errlen)
{
        int r = send_request(b, c, cgfd, errbuf, errlen);

        if (r != 0)
                return r;
        j->pending = true;
        j->pending_next = NULL;
        if (b->pending_tail)
                b->pending_tail->pending_next = j;
        else
                b->pending_head = j;
        b->pending_tail = j;
        return 0;
}

void sb_linux_spawner_settle(struct sb_backend *b, struct sb_backend_job *until)
{
        while (b->pending_head) {
                struct sb_backend_job *j = b->pending_head;
                char err[sizeof(j->pending_step)];
                int pidfd = -1, r = 1;
                pid_t pid = 0;

                b->pending_head = j->pending_next;
                if (!b->pending_head)
                        b->pending_tail = NULL;
                j->pending_next = NULL;
                j->pending = false;
                err[0] = '\0';
                if (b->spawner_fd >= 0)
                        r = read_reply(b, &pidfd, &pid, err, sizeof(err));
                if (r == 0) {
                        sb_linux_spawn_done(j, pid, pidfd);
                } else {
                        /* No child we know of: a clone the spawner made
                         * before it died reads EOF on its sync socket when
                         * this job is destroyed, and runs nothing. */
                        j->pending_err = r < 0 ? -r : EPIPE;
                        snprintf(j->pending_step, sizeof(j->pending_step), "%s",
                                 r < 0 && err[0] ? err : "spawner gone");
                }
                if (j == until)
                        break;
        }
}
