/* spawn.c — create a linux job's main process.
 *
 * The spawner (spawner.c) clones it: clone3() with CLONE_PIDFD and new
 * mount, pid, net, ipc and uts namespaces, and CLONE_INTO_CGROUP where the
 * kernel and cgroup version allow it, so the child is born in the job
 * cgroup. Otherwise the child moves itself into the job cgroup(s) as its
 * first step after the parent's "go" (child.c): it runs no code of the job
 * before it is accounted and limited, and a failure there ends the job
 * `failed` with the step and errno. The child then unshares its cgroup
 * namespace itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/linux.h"

/* The sync socket pair and the error pipe. */
static int open_pipes(struct sb_child_ctx *c, int syncp[2], int errp[2])
{
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, syncp) < 0 ||
            pipe2(errp, O_CLOEXEC) < 0)
                return -errno;
        c->sync_r = syncp[0];
        c->sync_w = syncp[1];
        c->err_r = errp[0];
        c->err_w = errp[1];
        return 0;
}

static void prepare_ctx(struct sb_child_ctx *c, const struct sb_job_spec *spec)
{
        unsigned long long tmp = spec->tmp_size ? spec->tmp_size : SB_BACKEND_TMP_SIZE_DEFAULT;
        unsigned long long tmp_inodes = spec->tmp_inodes ? spec->tmp_inodes
                                                         : SB_BACKEND_TMP_INODES_DEFAULT;
        unsigned long long work = spec->work_size ? spec->work_size : SB_BACKEND_WORK_SIZE_DEFAULT;
        unsigned long long work_inodes = spec->work_inodes ? spec->work_inodes
                                                           : SB_BACKEND_WORK_INODES_DEFAULT;

        snprintf(c->passwd, sizeof(c->passwd),
                 "root:x:0:0:root:/root:/bin/sh\n"
                 "skillbox:x:%u:%u:skillbox:/work:/bin/sh\n"
                 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                 (unsigned)spec->uid, (unsigned)spec->gid);
        snprintf(c->group, sizeof(c->group),
                 "root:x:0:\nskillbox:x:%u:\nnogroup:x:65534:\n", (unsigned)spec->gid);
        /* nr_inodes counts the root directory too: one more, so that the
         * job can make exactly as many entries as the bound says. */
        snprintf(c->tmp_opts, sizeof(c->tmp_opts), "size=%llu,nr_inodes=%llu,mode=1777", tmp,
                 tmp_inodes + 1);
        snprintf(c->shm_opts, sizeof(c->shm_opts), "size=%llu,nr_inodes=%llu,mode=1777", tmp,
                 tmp_inodes + 1);
        /* The job's own /work: owned by its uid like the job directory it
         * replaces, so that nothing of it is on the host's disk. */
        snprintf(c->work_opts, sizeof(c->work_opts),
                 "size=%llu,nr_inodes=%llu,mode=0700,uid=%u,gid=%u", work, work_inodes + 1,
                 (unsigned)spec->uid, (unsigned)spec->gid);
}

void sb_linux_spawn_done(struct sb_backend_job *j, pid_t pid, int pidfd)
{
        char ns[64];

        j->pid = pid;
        j->pidfd = pidfd;
        /* Our unreaped child (CLONE_PARENT), so the pid is still its. Only
         * an optimisation (struct sb_backend_job): without the fds the
         * namespaces go with the init. */
        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
        j->mntns_fd = open(ns, O_RDONLY | O_CLOEXEC);
        snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)pid);
        j->netns_fd = open(ns, O_RDONLY | O_CLOEXEC);
}

int sb_linux_spawn(struct sb_backend *b, const struct sb_job_spec *spec, struct sb_backend_job *j,
                   char *errbuf, size_t errlen)
{
        struct sb_child_ctx c;
        int syncp[2] = { -1, -1 }, errp[2] = { -1, -1 };
        int pidfd = -1, r;
        pid_t pid;

        memset(&c, 0, sizeof(c));
        c.b = b;
        c.spec = spec;
        c.j = j;
        c.held = j->held;
        prepare_ctx(&c, spec);
        /* The sync channel is a socket pair so that releasing a child that
         * died meanwhile is EPIPE (MSG_NOSIGNAL), not SIGPIPE. */
        if ((r = open_pipes(&c, syncp, errp)) < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "sync pipes");
                goto out;
        }
        c.attach = &j->cgj;

        int cgfd = sb_cgroup_job_clone_fd(&j->cgj);
        if (j->held) {
                /* A prepared sandbox: ask, and read the answer later
                 * (sb_linux_spawner_settle). The child does not wait for a
                 * "go": it builds its sandbox and then waits for the start
                 * request, which only a tracked job ever gets. */
                r = sb_linux_spawner_clone_async(b, &c, cgfd, j, errbuf, errlen);
                if (r < 0)
                        goto out;
                goto ends;      /* the request holds its own copies */
        }
        r = sb_linux_spawner_clone(b, &c, cgfd, &pidfd, &pid, errbuf, errlen);
        if (r < 0)
                goto out;

        /* Go: the child runs nothing of the job before it. */
        while ((r = (int)send(syncp[1], "g", 1, MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        if (r != 1) {
                r = sb_backend_fail(errbuf, errlen, r < 0 ? -errno : -EIO, "release child");
                (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                close(pidfd);
                goto out;
        }
        sb_linux_spawn_done(j, pid, pidfd);
ends:
        /* Our copies of the child's ends go. */
        close(syncp[0]);
        syncp[0] = -1;
        close(errp[1]);
        errp[1] = -1;
        /* reap() reads it when it is readable, while the init may still
         * hold the write end (init.c writes its record before it exits). */
        (void)fcntl(errp[0], F_SETFL, O_NONBLOCK);
        j->err_fd = errp[0];
        errp[0] = -1;
        if (j->held) {
                /* The start request goes on it later (start.c). */
                j->start_fd = syncp[1];
                syncp[1] = -1;
        }
        r = 0;
out:
        for (int i = 0; i < 2; i++) {
                if (syncp[i] >= 0)
                        close(syncp[i]);
                if (errp[i] >= 0)
                        close(errp[i]);
        }
        return r;
}
