/* spawner_exe.c — main() of skillbox-spawner, the executable skillboxd
 * starts at open() to clone its linux jobs (spawner_serve.c).
 *
 * Why a program of its own rather than a fork of the daemon: every job's
 * init is a clone of the spawner and lives as long as the job. Linked
 * statically, a clone copies a handful of mappings, where a copy of
 * skillboxd has about 90 across a dozen shared libraries.
 *
 * It takes nothing from argv or the environment. fd 3 is its end of the
 * daemon's socket pair; the first message is the hello (spawner.h), with
 * the host facts a fork would have inherited. Run any other way it exits 2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/linux/spawner.h"

#define SOCK_FD 3

static struct sb_spawn_hello h;

static void answer(int err, const char *step)
{
        struct sb_spawn_reply rep = { .err = err, .pid = (int32_t)getpid() };

        snprintf(rep.step, sizeof(rep.step), "%s", step);
        (void)send(SOCK_FD, &rep, sizeof(rep), MSG_NOSIGNAL);
}

int main(void)
{
        ssize_t n;

        do
                n = recv(SOCK_FD, &h, sizeof(h), MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return 2;       /* not started by skillboxd: fd 3 is no socket */
        /* Another build's daemon: say nothing it could misread, just go. */
        if ((size_t)n != sizeof(h) || h.magic != SB_SPAWN_HELLO_MAGIC ||
            h.req_size != sizeof(struct sb_spawn_req) || h.backend_size != sizeof(struct sb_backend))
                return 2;
        if (h.daemon != getppid()) {
                answer(ESRCH, "daemon gone");
                return 2;
        }
        /* Only the host facts are the daemon's; what points into its memory
         * or names its fds means nothing here (the cgroup base fds are reset
         * by sb_linux_spawner_serve(), for a forked spawner too). */
        struct sb_backend *b = &h.b;
        b->cg.ops = NULL;
        memset(&b->seccomp, 0, sizeof(b->seccomp));
        b->spawner_fd = -1;
        b->spawner_pid = 0;
        b->pending_head = b->pending_tail = NULL;
        b->notice = NULL;
        answer(0, "");
        sb_linux_spawner_serve(SOCK_FD, h.daemon, b);
}
