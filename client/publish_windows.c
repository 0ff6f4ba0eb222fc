/* publish_windows.c — publish.h on Windows: --publish forwards each
 * connection over a job_connect descriptor, and none crosses a named pipe.
 * skillboxctl refuses --publish there (ctl_os_windows.c); these stand-ins
 * are never reached. */
#include <errno.h>

#include "client/publish.h"

int ctl_publish_parse(const char *v, struct ctl_publish *p)
{
        (void)v;
        (void)p;
        return -EOPNOTSUPP;
}

int ctl_publish_listen(struct ctl_publish *p)
{
        (void)p;
        return -EOPNOTSUPP;
}

pid_t ctl_publish_start(const char *socket_path, const char *job, struct ctl_publish *p,
                        size_t n, int drop_fd)
{
        (void)socket_path;
        (void)job;
        (void)p;
        (void)n;
        (void)drop_fd;
        return -EOPNOTSUPP;
}

void ctl_publish_stop(pid_t pid)
{
        (void)pid;
}
