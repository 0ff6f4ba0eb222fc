/* rpc_publish.c — job_connect {job, port}: a stream socket connected to
 * 127.0.0.1:port on the job's own loopback, passed to the client with the
 * response (SCM_RIGHTS), so that a host-side browser or test reaches a
 * server the job runs, without the job getting any route to the host.
 *
 * Who: the job as the caller may see it (its owner; admins see all), like
 * every job method. What: only a port the exec request listed in
 * `publish` (at most SBP_PUBLISH_MAX), while the job runs. Each call makes
 * one connection and keeps nothing: the client holds the socket, so a
 * client cannot make the daemon hold anything per connection. The
 * connection comes from the job's 127.0.0.1, as any local client's would.
 * The socket belongs to the job's network namespace for its whole life:
 * its holder could disconnect it (connect AF_UNSPEC) and connect it again
 * to another port of the job's loopback. That reaches nothing but the job
 * (its namespace has only lo; with network allowlist also the job's proxy
 * listener, which allows the holder no more than its own host network
 * does), so `publish` says which ports a client is offered, and the
 * boundary stays the job's namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/job.h"
#include "daemon/log.h"
#include "daemon/rpc_publish.h"

static bool published(const struct sbd_job *j, uint32_t port)
{
        for (uint32_t i = 0; i < j->n_publish; i++)
                if (j->publish[i] == port)
                        return true;
        return false;
}

int sbd_rpc_job_connect(struct sbd_conn *c, uint32_t msgid, const msgpack_object *params,
                        struct sbp_error *err)
{
        struct sbd_daemon *d = c->d;
        struct sbp_job_connect_params p;
        char errbuf[SBP_TEXT_MAX + 1] = "";
        struct sbd_out *o;
        struct sbd_job *j;
        sb_handle fd = SB_HANDLE_NONE;
        int r;

        r = sbp_job_connect_params_decode(params, &p, err);
        if (r < 0)
                return r;
        j = sbd_job_lookup(d, c, p.job);
        if (!j)
                return sbp_error_set(err, SBP_E_NOT_FOUND, "no job %s", p.job);
        if (!published(j, p.port))
                return sbp_error_set(err, SBP_E_PERMISSION_DENIED,
                                     "port %u is not published by job %s", p.port, j->id);
        if (j->reaped || j->finished || !j->bj || !d->ops->connect_port)
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "job %s is not running", j->id);
        r = d->ops->connect_port(j->bj, (uint16_t)p.port, &fd, errbuf, sizeof(errbuf));
        if (r < 0)
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "job %s: %s", j->id,
                                     errbuf[0] ? errbuf : sbd_errno_name(r));
        o = sbd_out_response(msgid);
        if (!o) {
                close(fd);
                return sbp_error_set(err, SBP_E_RESOURCE_EXHAUSTED, "out of memory");
        }
        msgpack_pack_map(&o->pk, 1);
        sbp_pack_str(&o->pk, "fd");
        msgpack_pack_uint32(&o->pk, 0);
        r = sbd_conn_send_handle(c, o, (struct sbd_handle){ .fd = fd });
        close(fd);
        if (r < 0) {
                sbd_out_free(o);
                if (r == -EAGAIN)
                        return sbp_error_set(err, SBP_E_UNAVAILABLE,
                                             "replies are still queued on this connection: "
                                             "read them and call again, or call on a "
                                             "connection of its own");
                return sbp_error_set(err, SBP_E_INTERNAL, "send the connection: %s",
                                     sbd_errno_name(r));
        }
        log_debug("job %s: port %u connected for uid %u", j->id, p.port, (unsigned)c->uid);
        return 0;
}
