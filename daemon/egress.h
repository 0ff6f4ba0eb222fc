/* egress.h — skillboxd's side of skillbox-proxy, the allowlist egress proxy
 * (daemon/proxy/): one proxy process for the daemon, started on the first
 * allowlist job, fed each job's listening socket, restarted when it dies.
 *
 * The proxy runs as an unprivileged uid of its own: the last uid of
 * UidRange=, which the daemon then never gives to a job (so no job can
 * signal or trace it, and it shares its uid with no other service, as
 * "nobody" would). It drops to that uid itself, after the daemon started
 * it with the control socket on fd 3 (daemon/proxy/main.c).
 *
 * Each registered job keeps a duplicate of its listening socket here, so a
 * restarted proxy gets every live job's listener again: a crash of the
 * proxy interrupts connections, never a job's access for good.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct sbd_egress;

/* A refusal the proxy reported: count is its running total for
 * host:port in that job. */
typedef void (*sbd_egress_denied_fn)(void *userdata, const char *job_id, const char *host,
                                     uint16_t port, uint32_t count);

/* Nothing starts until the first sbd_egress_add(). proxy_path: the
 * skillbox-proxy executable. NULL on no memory. */
struct sbd_egress *sbd_egress_new(uv_loop_t *loop, const char *proxy_path, uint32_t uid,
                                  uint32_t gid, sbd_egress_denied_fn denied, void *userdata);

/* Registers job_id (1..15 of [0-9A-Za-z_-]) with its allowlist entries and
 * its listening socket (a duplicate is kept; the caller closes its own),
 * starting the proxy if it is not running. 0, -EEXIST, -EINVAL (entries),
 * -E2BIG, or the errno of starting the proxy or of sending. */
int sbd_egress_add(struct sbd_egress *e, const char *job_id, const char *const *entries,
                   size_t n, int listen_fd);

/* Forgets job_id and has the proxy close its listener and connections. */
void sbd_egress_remove(struct sbd_egress *e, const char *job_id);

/* The proxy's pid, 0 when it is not running (tests, logs). */
int sbd_egress_pid(const struct sbd_egress *e);

/* Closes the control socket (the proxy exits on it) and every handle;
 * frees e once libuv has let go of them. */
void sbd_egress_close(struct sbd_egress *e);

/* The skillbox-proxy to run: beside the running program first (a build
 * tree runs its own), else the installed one; NULL if neither exists, or
 * if this system cannot give it its control socket (SOCK_SEQPACKET Unix
 * sockets: macOS has none), which is logged: hello then offers no
 * allowlist rather than jobs that fail at start. */
const char *sbd_egress_proxy_find(char *buf, size_t len);
