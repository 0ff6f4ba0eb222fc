/* publish.h — skillboxctl run --publish HOSTPORT:JOBPORT. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define CTL_PUBLISH_MAX 8       /* as exec's publish */

struct ctl_publish {
        uint16_t host_port, job_port;
        int listen_fd;          /* on the host's 127.0.0.1:host_port; -1 = none yet */
};

/* "HOSTPORT:JOBPORT" or "PORT" (the same on both sides): 0 or -EINVAL. */
int ctl_publish_parse(const char *v, struct ctl_publish *p);
/* Listen on 127.0.0.1:p->host_port (as the user running the CLI): 0 or
 * -errno. */
int ctl_publish_listen(struct ctl_publish *p);
/* A process that accepts on every listener and forwards each connection to
 * its port of job (one job_connect per connection, on a connection to the
 * daemon of its own); it ends with us. drop_fd (the CLI's own connection)
 * is closed in it. Its pid, or -errno. */
pid_t ctl_publish_start(const char *socket_path, const char *job, struct ctl_publish *p,
                        size_t n, int drop_fd);
/* End it (SIGTERM) and reap it; a pid <= 0 is none. */
void ctl_publish_stop(pid_t pid);
