/* server.c — the listening socket and the admission of peers.
 *
 * Listen: on the socket the service manager passed (service.h), else on
 * the configured path; the transport creates, guards and removes it
 * (transport.h).
 *
 * Accept: the peer is identified by the transport (the kernel's record of
 * who connected) and admitted only if [Access] gives it a role (access.c;
 * root is always admin) — before a single byte is read from it. Refused
 * peers are closed without a word.
 * Over the connection caps (total, per uid), the peer's first request is
 * answered with ResourceExhausted (its own msgid: a response never carries
 * a msgid the client did not send), then it is closed. Such connections
 * count in no cap meanwhile, and at most SBD_CONNS_REFUSED_MAX wait at once;
 * past that a peer over a cap is closed unanswered.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "daemon/access.h"
#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/service.h"
#include "daemon/settings.h"
#include "daemon/transport/transport.h"

static struct sbd_listen_spec listen_spec(const struct sbd_daemon *d)
{
        return (struct sbd_listen_spec){
                .path = d->opt.socket_path,
                .group = d->opt.socket_group,
                .mode = d->opt.socket_mode,
        };
}

static uint32_t conns_of_uid(struct sbd_daemon *d, uid_t uid)
{
        struct sbd_list *pos, *tmp;
        uint32_t n = 0;

        sbd_list_for_each_safe(pos, tmp, &d->conns) {
                struct sbd_conn *c = sbd_container_of(pos, struct sbd_conn, node);

                if (!c->closing && !c->refused && c->uid == uid)
                        n++;
        }
        return n;
}

static void on_connection(uv_stream_t *server, int status)
{
        struct sbd_daemon *d = server->data;
        struct sbd_conn *c;
        struct sbd_peer peer;
        struct sbp_error err;
        int r;

        if (status < 0) {
                log_warning("accept: %s", uv_err_name(status));
                return;
        }
        c = sbd_conn_new(d);
        if (!c) {
                log_error("accept: out of memory");
                return;
        }
        /* uid 0 until identified: the caps below must not count it. */
        c->uid = (uid_t)-1;
        r = sbd_transport_accept(server, &c->pipe);
        if (r < 0) {
                log_warning("accept: %s", uv_err_name(r));
                sbd_conn_close(c, false);
                return;
        }
        /* Identify the peer and its role ([Access], access.c) before a
         * single byte is read from it. */
        r = sbd_transport_peer(&c->pipe, &peer);
        if (r < 0) {
                log_warning("connection %" PRIu64 ": peer identity: %s", c->id,
                            sbd_errno_name(r));
                sbd_conn_close(c, false);
                return;
        }
        r = sbd_access_admit(sbd_settings_access(d), c, &peer);
        if (r == 0) {
                log_warning("connection %" PRIu64 ": refused %s: no role in [Access]", c->id,
                            peer.name);
                sbd_conn_close(c, false);
                return;
        }
        log_debug("connection %" PRIu64 ": %s gid %u, %s", c->id, peer.name, (unsigned)peer.gid,
                  c->admin ? "admin" : "client");

        memset(&err, 0, sizeof(err));
        if (d->conns_open > d->opt.max_connections)
                sbp_error_set(&err, SBP_E_RESOURCE_EXHAUSTED, "too many connections (limit %u)",
                              d->opt.max_connections);
        else if (conns_of_uid(d, c->uid) > d->opt.max_connections_per_uid)
                sbp_error_set(&err, SBP_E_RESOURCE_EXHAUSTED,
                              "too many connections for uid %u (limit %u)",
                              (unsigned)c->uid, d->opt.max_connections_per_uid);
        if (err.code != SBP_OK) {
                log_warning("connection %" PRIu64 ": %s", c->id, err.message);
                if (d->conns_refused >= SBD_CONNS_REFUSED_MAX) {
                        sbd_conn_close(c, false);
                        return;
                }
                sbd_conn_refuse(c, &err);
        }
        r = sbd_conn_start(c);
        if (r < 0) {
                log_warning("connection %" PRIu64 ": start: %s", c->id, sbd_errno_name(r));
                sbd_conn_close(c, false);
        }
}

int sbd_server_prepare(struct sbd_daemon *d)
{
        struct sbd_listen_spec spec = listen_spec(d);
        struct sbd_handle h;
        int r;

        r = sbd_service_listen_handle(&h);
        if (r == 0) {
                d->listener.activated = true;
                d->listener.activated_handle = h;
        } else if (r != -ENOENT) {
                return r;
        }
        return sbd_transport_prepare(&d->listener, &spec);
}

int sbd_server_listen(struct sbd_daemon *d)
{
        struct sbd_listen_spec spec = listen_spec(d);

        return sbd_transport_listen(&d->listener, d->loop, &spec, on_connection, d);
}

void sbd_server_close(struct sbd_daemon *d)
{
        struct sbd_listen_spec spec = listen_spec(d);

        sbd_transport_unlisten(&d->listener, &spec);
}
