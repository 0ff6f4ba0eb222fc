/* spawner_exe.c — main() of skillbox-spawner, the executable skillboxd
 * starts at open() to clone its linux jobs (spawner_serve.c).
 *
 * Why a program of its own rather than a fork of the daemon: every job's
 * init is a clone of the spawner and lives as long as the job. Linked
 * statically, a clone copies a handful of mappings, where a copy of
 * skillboxd has about 90 across a dozen shared libraries.
 *
 * It takes nothing from argv or the environment. fd 3 is its end of the
 * daemon's socket pair; the first message is the hello (spawner.h). Run any
 * other way it exits 2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/linux/spawn/spawner.h"

#define SOCK_FD 3

static void answer(int err, const char *step)
{
        struct sb_spawn_reply rep = { .err = err, .pid = (int32_t)getpid() };

        snprintf(rep.step, sizeof(rep.step), "%s", step);
        (void)send(SOCK_FD, &rep, sizeof(rep), MSG_NOSIGNAL);
}

int main(void)
{
        struct sb_spawn_hello h;
        const char *step = "";
        char what[32];
        ssize_t n;
        int r;

        do
                n = recv(SOCK_FD, &h, sizeof(h), MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return 2;       /* not started by skillboxd: fd 3 is no socket */
        if ((size_t)n != sizeof(h) || h.magic != SB_SPAWN_HELLO_MAGIC) {
                answer(EPROTO, "hello (not from this build?)");
                return 2;
        }
        /* Another plan: refuse it rather than misread it. */
        if (h.plan_version != SB_SPAWN_PLAN_VERSION || h.plan_size != sizeof(struct sb_spawn_plan)) {
                snprintf(what, sizeof(what), "plan v%u/%u, spawner: v%u/%zu", h.plan_version,
                         h.plan_size, SB_SPAWN_PLAN_VERSION, sizeof(struct sb_spawn_plan));
                answer(EPROTO, what);
                return 2;
        }
        if (h.daemon != getppid()) {
                answer(ESRCH, "daemon gone");
                return 2;
        }
        r = sb_linux_spawner_setup(SOCK_FD, h.daemon, h.cap_last, &step);
        answer(r, step);
        if (r)
                return 2;
        sb_linux_spawner_serve(SOCK_FD);
}
