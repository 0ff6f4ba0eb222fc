/* egress_host.c — the egress proxy's listener for a job that shares the
 * host's loopback (the macos and posix backends), and the job's proxy
 * variables pointed at it.
 *
 * A Linux job has a loopback of its own, where the listener takes the
 * fixed SB_NETWORK_PROXY_PORT. Here every job and every host service share
 * one: a fixed port would be taken by the second job (or by any local
 * program first), so the kernel picks a free port per job and the job's
 * HTTP_PROXY and friends name it (backend.h says how).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/internal.h"

/* The variables the daemon sets to SB_NETWORK_PROXY_URL (daemon/job_args.c). */
static const char *const proxy_keys[] = {
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
};
#define N_PROXY_KEYS (sizeof(proxy_keys) / sizeof(proxy_keys[0]))
/* "https_proxy=http://127.0.0.1:65535" and its NUL, with room to spare. */
#define PROXY_ENTRY_MAX 48

int sb_backend_egress_listen(uint16_t *port, char *errbuf, size_t errlen)
{
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        int fd, r;

        /* No SOCK_CLOEXEC on macOS: the flag is set right after. Only the
         * daemon's loop thread forks, and it is the one running here. */
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "network allowlist: socket");
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "network allowlist: FD_CLOEXEC");
                goto fail;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = 0;   /* the kernel picks a free one */
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "network allowlist: bind 127.0.0.1:0");
                goto fail;
        }
        if (listen(fd, SOMAXCONN) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "network allowlist: listen");
                goto fail;
        }
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "network allowlist: getsockname");
                goto fail;
        }
        if (sa.sin_family != AF_INET || ntohs(sa.sin_port) == 0) {
                r = sb_backend_fail(errbuf, errlen, -EADDRNOTAVAIL,
                                    "network allowlist: no port from getsockname");
                goto fail;
        }
        *port = ntohs(sa.sin_port);
        return fd;
fail:
        close(fd);
        return r;
}

/* envp[i] is KEY=SB_NETWORK_PROXY_URL for one of proxy_keys. */
static bool is_default_proxy(const char *entry)
{
        for (size_t k = 0; k < N_PROXY_KEYS; k++) {
                size_t n = strlen(proxy_keys[k]);

                if (strncmp(entry, proxy_keys[k], n) == 0 && entry[n] == '=' &&
                    strcmp(entry + n + 1, SB_NETWORK_PROXY_URL) == 0)
                        return true;
        }
        return false;
}

char **sb_backend_egress_env(char *const *envp, uint16_t port)
{
        size_t n = 0, m = 0;
        char **env, *slot;

        for (; envp && envp[n]; n++)
                if (is_default_proxy(envp[n]))
                        m++;
        /* One allocation: the pointers, then a slot per rewritten entry. */
        env = malloc((n + 1) * sizeof(char *) + m * PROXY_ENTRY_MAX);
        if (!env)
                return NULL;
        slot = (char *)(env + n + 1);
        for (size_t i = 0; i < n; i++) {
                if (!is_default_proxy(envp[i])) {
                        env[i] = envp[i];
                        continue;
                }
                size_t klen = (size_t)(strchr(envp[i], '=') - envp[i]);

                snprintf(slot, PROXY_ENTRY_MAX, "%.*s=http://127.0.0.1:%u", (int)klen, envp[i],
                         (unsigned)port);
                env[i] = slot;
                slot += PROXY_ENTRY_MAX;
        }
        env[n] = NULL;
        return env;
}

int sb_backend_egress_open(struct sb_backend_egress *e, char *const *envp, char *errbuf,
                           size_t errlen)
{
        uint16_t port;
        char **env;
        int fd;

        fd = sb_backend_egress_listen(&port, errbuf, errlen);
        if (fd < 0)
                return fd;
        env = sb_backend_egress_env(envp, port);
        if (!env) {
                close(fd);
                return sb_backend_fail(errbuf, errlen, -ENOMEM, "environment");
        }
        *e = (struct sb_backend_egress){ .fd = fd, .envp = env, .port = port };
        return 0;
}

void sb_backend_egress_close(struct sb_backend_egress *e)
{
        if (e->fd >= 0)
                close(e->fd);
        free(e->envp);
        *e = SB_BACKEND_EGRESS_NONE;
}
