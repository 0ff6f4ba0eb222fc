/* main.c — skillbox-proxy, the allowlist egress proxy of skillboxd.
 *
 * Why one process per daemon, fed sockets over a control socket: a socket
 * keeps the network namespace it was created in. The daemon creates a
 * listening socket on 127.0.0.1:<port> inside each allowlist job's network
 * namespace and passes it here (SCM_RIGHTS on the SOCK_SEQPACKET control
 * socket, fd 3); the proxy accepts the job's connections on it while its own
 * outgoing connections are made in the host's namespace. So the job has no
 * route out at all, only this socket, and one unprivileged, filtered process
 * serves every job without entering any namespace. Each listener belongs to
 * one job, and a connection is only ever decided against the allowlist of
 * the job whose listener accepted it.
 *
 * Usage: skillbox-proxy --uid UID --gid GID   (control socket on fd 3)
 * Exits 0 when the daemon closes the control socket, 1 on any failure to
 * start (with the failing step on stderr).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/proxy/proxy.h"

#define CTL_FD 3

static int parse_id(const char *s, unsigned long *out)
{
        char *end;

        errno = 0;
        *out = strtoul(s, &end, 10);
        if (errno || end == s || *end || *out >= 0xffffffffUL || s[0] == '-')
                return -EINVAL;
        return 0;
}

static int usage(void)
{
        fprintf(stderr, "usage: skillbox-proxy --uid UID --gid GID (control socket on fd 3)\n");
        return 1;
}

int main(int argc, char **argv)
{
        unsigned long uid = 0, gid = 0;
        bool have_uid = false, have_gid = false;
        struct proxy p = {0};
        uv_loop_t loop;
        int type, r;
        socklen_t len = sizeof(type);

        for (int i = 1; i < argc; i++) {
                if (i + 1 < argc && strcmp(argv[i], "--uid") == 0) {
                        if (parse_id(argv[++i], &uid) < 0)
                                return usage();
                        have_uid = true;
                } else if (i + 1 < argc && strcmp(argv[i], "--gid") == 0) {
                        if (parse_id(argv[++i], &gid) < 0)
                                return usage();
                        have_gid = true;
                } else {
                        return usage();
                }
        }
        if (!have_uid || !have_gid)
                return usage();
        if (getsockopt(CTL_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET) {
                fprintf(stderr, "skillbox-proxy: fd 3 is not a SOCK_SEQPACKET control socket\n");
                return 1;
        }
        /* The name looked up is the name decided on: without this, a name
         * that does not resolve is tried again with the host's search
         * domains appended ("x.example.org.corp.internal"), a host no entry
         * named. An empty LOCALDOMAIN empties glibc's search list;
         * HOSTALIASES would rename hosts. Set before any resolver thread. */
        if (setenv("LOCALDOMAIN", "", 1) < 0 || unsetenv("HOSTALIASES") < 0) {
                fprintf(stderr, "skillbox-proxy: resolver environment: %s\n", strerror(errno));
                return 1;
        }
        /* A peer closing mid-write must be an error return, not a signal. */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
                fprintf(stderr, "skillbox-proxy: ignore SIGPIPE: %s\n", strerror(errno));
                return 1;
        }
        if (proxy_drop_privileges((uid_t)uid, (gid_t)gid) < 0 || proxy_confine() < 0)
                return 1;
        r = uv_loop_init(&loop);
        if (r < 0) {
                fprintf(stderr, "skillbox-proxy: uv_loop_init: %s\n", uv_strerror(r));
                return 1;
        }
        r = proxy_ctl_start(&p, &loop, CTL_FD);
        if (r < 0) {
                fprintf(stderr, "skillbox-proxy: control socket: %s\n", uv_strerror(r));
                return 1;
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        r = uv_loop_close(&loop);
        free(p.ctl_buf);
        if (r < 0) {
                fprintf(stderr, "skillbox-proxy: uv_loop_close: %s\n", uv_strerror(r));
                return 1;
        }
        return 0;
}
