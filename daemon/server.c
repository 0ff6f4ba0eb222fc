/* server.c — the listening socket and the admission of peers.
 *
 * Listen: the socket's directory is created 0755 if missing; an existing
 * socket file is removed only when nothing answers on it (a stale leftover),
 * never when another daemon is serving it, and never if it is not a socket.
 * The socket is bound owner-only (umask around bind), then owned by
 * root:SocketGroup when that group exists, then given SocketMode (0660).
 *
 * Accept: the peer is identified with SO_PEERCRED/SO_PEERGROUPS on the
 * accepted fd and admitted only if [Access] gives it a role (access.c; root
 * is always admin) — before a single byte is read from it. The socket's
 * mode and group only decide who can reach it. Refused peers are closed
 * without a word.
 * Over the connection caps (total, per uid), the peer gets one
 * ResourceExhausted error (msgid 0) and is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/sdnotify.h"
#include "daemon/server.h"
#include "daemon/settings.h"

#define SKILLBOX_GROUP "skillbox"

/* The listening fd systemd passed (socket activation), or -1. systemd owns
 * that socket file, its mode and group: we neither bind, chmod nor unlink. */
static int activated_fd = -1;

/* mkdir -p for the socket's directory, 0755: clients must reach the socket. */
static int mkdir_parents(const char *path)
{
        char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
        char *p;

        if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
                return -ENAMETOOLONG;
        p = strrchr(buf, '/');
        if (!p || p == buf)
                return 0;
        *p = '\0';
        for (p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return log_errno(-errno, "mkdir %s", buf);
                *p = '/';
        }
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return log_errno(-errno, "mkdir %s", buf);
        return 0;
}

/* 1 if a server answers on path, 0 if the file is a stale socket, <0 on error. */
static int socket_alive(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        r = r == 0 ? 1 : (errno == ECONNREFUSED || errno == ENOENT) ? 0 : -errno;
        close(fd);
        return r;
}

static int remove_stale(const char *path)
{
        struct stat st;
        int r;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : log_errno(-errno, "stat %s", path);
        if (!S_ISSOCK(st.st_mode))
                return log_errno(-EEXIST, "%s exists and is not a socket", path);
        r = socket_alive(path);
        if (r < 0)
                return log_errno(r, "probe %s", path);
        if (r > 0)
                return log_errno(-EADDRINUSE, "another daemon is serving %s", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return log_errno(-errno, "unlink stale socket %s", path);
        log_info("removed stale socket %s", path);
        return 0;
}

static uint32_t conns_of_uid(struct sbd_daemon *d, uid_t uid)
{
        struct sbd_list *pos, *tmp;
        uint32_t n = 0;

        sbd_list_for_each_safe(pos, tmp, &d->conns) {
                struct sbd_conn *c = sbd_container_of(pos, struct sbd_conn, node);

                if (!c->closing && c->uid == uid)
                        n++;
        }
        return n;
}

static void on_connection(uv_stream_t *server, int status)
{
        struct sbd_daemon *d = server->data;
        struct sbd_conn *c;
        struct ucred cred;
        struct sbp_error err;
        uv_os_fd_t fd;
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
        r = uv_accept(server, (uv_stream_t *)&c->pipe);
        if (r < 0) {
                log_warning("accept: %s", uv_err_name(r));
                sbd_conn_close(c, false);
                return;
        }
        r = uv_fileno((uv_handle_t *)&c->pipe, &fd);
        /* Identify the peer and its role ([Access], access.c) before a
         * single byte is read from it. */
        if (r == 0)
                r = sbd_access_admit(sbd_settings_access(d), c, fd);
        if (r < 0) {
                log_warning("connection %" PRIu64 ": SO_PEERCRED: %s", c->id,
                            sbd_errno_name(r));
                sbd_conn_close(c, false);
                return;
        }
        cred.uid = c->uid;
        cred.gid = c->gid;
        cred.pid = c->pid;
        if (r == 0) {
                log_warning("connection %" PRIu64 ": refused uid %u pid %d: no role in [Access]",
                            c->id, (unsigned)cred.uid, (int)cred.pid);
                sbd_conn_close(c, false);
                return;
        }
        log_debug("connection %" PRIu64 ": uid %u gid %u pid %d, %s", c->id, (unsigned)cred.uid,
                  (unsigned)cred.gid, (int)cred.pid, c->admin ? "admin" : "client");

        memset(&err, 0, sizeof(err));
        if (d->conns_open > d->opt.max_connections)
                sbp_error_set(&err, SBP_E_RESOURCE_EXHAUSTED, "too many connections (limit %u)",
                              d->opt.max_connections);
        else if (conns_of_uid(d, cred.uid) > d->opt.max_connections_per_uid)
                sbp_error_set(&err, SBP_E_RESOURCE_EXHAUSTED,
                              "too many connections for uid %u (limit %u)",
                              (unsigned)cred.uid, d->opt.max_connections_per_uid);
        if (err.code != SBP_OK) {
                log_warning("connection %" PRIu64 ": %s", c->id, err.message);
                sbd_conn_reply_error(c, 0, &err);
                sbd_conn_close(c, true);
                return;
        }
        r = sbd_conn_start(c);
        if (r < 0) {
                log_warning("connection %" PRIu64 ": start: %s", c->id, sbd_errno_name(r));
                sbd_conn_close(c, false);
        }
}

int sbd_server_prepare(struct sbd_daemon *d)
{
        const char *path = d->opt.socket_path;
        int r;

        r = sbd_notify_listen_fd();
        if (r >= 0) {
                activated_fd = r;
                return 0;
        }
        if (r != -ENOENT)
                return r;
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return log_errno(-ENAMETOOLONG, "socket path %s", path);
        r = mkdir_parents(path);
        if (r < 0)
                return r;
        return remove_stale(path);
}

/* Serve the socket systemd passed; peers are admitted by its group. */
static int listen_activated(struct sbd_daemon *d)
{
        struct sockaddr_un sa;
        socklen_t len = sizeof(sa);
        struct group *gr;
        struct stat st;
        int r;

        memset(&sa, 0, sizeof(sa));
        if (getsockname(activated_fd, (struct sockaddr *)&sa, &len) < 0)
                return log_errno(-errno, "socket activation: getsockname");
        if (sa.sun_path[0] && stat(sa.sun_path, &st) == 0) {
                d->socket_gid = st.st_gid;
        } else {
                gr = getgrnam(SKILLBOX_GROUP);
                d->socket_gid = gr ? gr->gr_gid : 0;
        }
        r = uv_pipe_init(d->loop, &d->listener, 0);
        if (r < 0)
                return log_errno(r, "socket activation: init");
        d->listener.data = d;
        d->listening = true;
        r = uv_pipe_open(&d->listener, activated_fd);
        if (r < 0)
                return log_errno(r, "socket activation: open fd %d", activated_fd);
        r = uv_listen((uv_stream_t *)&d->listener, 128, on_connection);
        if (r < 0)
                return log_errno(r, "socket activation: listen");
        log_info("listening on %s (socket activation, group %u)",
                 sa.sun_path[0] ? sa.sun_path : "an abstract socket", (unsigned)d->socket_gid);
        return 0;
}

int sbd_server_listen(struct sbd_daemon *d)
{
        const char *path = d->opt.socket_path;
        struct group *gr;
        struct stat st;
        mode_t old_umask;
        const char *group;
        int r;

        if (activated_fd >= 0)
                return listen_activated(d);
        /* Again: a stale file may have appeared since sbd_server_prepare(). */
        r = remove_stale(path);
        if (r < 0)
                return r;

        r = uv_pipe_init(d->loop, &d->listener, 0);
        if (r < 0)
                return log_errno(r, "listen %s: init", path);
        d->listener.data = d;
        d->listening = true;
        /* Single-threaded here (no threadpool yet): umask is safe to flip.
         * Owner-only at bind; the group is set before the mode widens, so
         * the socket is never open to the wrong group. */
        old_umask = umask(0177);
        r = uv_pipe_bind(&d->listener, path);
        umask(old_umask);
        if (r < 0)
                return log_errno(r, "bind %s", path);
        group = d->opt.socket_group ? d->opt.socket_group : SKILLBOX_GROUP;
        gr = *group ? getgrnam(group) : NULL;
        if (gr && chown(path, 0, gr->gr_gid) < 0)
                return log_errno(-errno, "chown %s to root:%s", path, group);
        if (!gr && *group)
                log_info("group %s does not exist; %s stays root's group", group, path);
        if (chmod(path, d->opt.socket_mode ? (mode_t)d->opt.socket_mode : 0660) < 0)
                return log_errno(-errno, "chmod %s", path);
        if (stat(path, &st) < 0)
                return log_errno(-errno, "stat %s", path);
        d->socket_gid = st.st_gid;
        r = uv_listen((uv_stream_t *)&d->listener, 128, on_connection);
        if (r < 0)
                return log_errno(r, "listen %s", path);
        log_info("listening on %s (mode %04o, group %u%s%s)", path, (unsigned)(st.st_mode & 0777),
                 (unsigned)d->socket_gid, gr ? ", " : "", gr ? group : "");
        return 0;
}

void sbd_server_close(struct sbd_daemon *d)
{
        if (!d->listening)
                return;
        d->listening = false;
        uv_close((uv_handle_t *)&d->listener, NULL);
        /* systemd's socket stays: it queues clients until we are back. */
        if (activated_fd >= 0)
                return;
        /* Ours (we bound it): remove so the next start finds no stale file. */
        if (unlink(d->opt.socket_path) < 0 && errno != ENOENT)
                log_warning_errno(-errno, "unlink %s", d->opt.socket_path);
}
