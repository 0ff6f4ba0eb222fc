/* egress_none.c — no egress proxy (egress.h), where the backend offers no
 * allowlist network (Windows: caps.network_modes has no ALLOWLIST; hello
 * says so, main.c makes no proxy, and a job that asks for one fails
 * closed in job.c, its backend having no listener to give).
 */
#include <errno.h>

#include "daemon/egress.h"

struct sbd_egress *sbd_egress_new(uv_loop_t *loop, const char *proxy_path, uint32_t uid,
                                  uint32_t gid, sbd_egress_denied_fn denied, void *userdata)
{
        (void)loop;
        (void)proxy_path;
        (void)uid;
        (void)gid;
        (void)denied;
        (void)userdata;
        return NULL;
}

int sbd_egress_add(struct sbd_egress *e, const char *job_id, const char *const *entries,
                   size_t n, int listen_fd)
{
        (void)e;
        (void)job_id;
        (void)entries;
        (void)n;
        (void)listen_fd;
        return -EOPNOTSUPP;
}

void sbd_egress_remove(struct sbd_egress *e, const char *job_id)
{
        (void)e;
        (void)job_id;
}

int sbd_egress_pid(const struct sbd_egress *e)
{
        (void)e;
        return 0;
}

void sbd_egress_close(struct sbd_egress *e)
{
        (void)e;
}

const char *sbd_egress_proxy_find(char *buf, size_t len)
{
        (void)buf;
        (void)len;
        return NULL;
}
