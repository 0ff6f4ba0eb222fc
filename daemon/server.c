/* server.c — the listening socket and the admission of peers.
 *
 * Listen: the socket's directory is created 0755 if missing; an existing
 * socket file is removed only when nothing answers on it (a stale leftover),
 * never when another daemon is serving it, and never if it is not a socket.
 * The socket is created 0660 (umask around bind, so it is never briefly
 * wider), then owned by root:skillbox when that group exists.
 *
 * Accept: the peer is identified with SO_PEERCRED on the accepted fd and
 * admitted only if it is root or a member of the socket's group (primary, or
 * supplementary as the kernel reports them in /proc/PID/status) — before a
 * single byte is read from it. Refused peers are closed without a word.
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
#include "daemon/server.h"

#define SKILLBOX_GROUP "skillbox"

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

/* Whether the process behind the peer is in group gid (supplementary groups
 * as the kernel has them, falling back to the passwd/group databases). */
static bool peer_in_group(pid_t pid, uid_t uid, gid_t gid)
{
        char path[64], line[4096];
        FILE *f;
        bool found = false, have = false;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        if (f) {
                while (fgets(line, sizeof(line), f)) {
                        char *s, *end;

                        if (strncmp(line, "Groups:", 7) != 0)
                                continue;
                        have = true;
                        for (s = line + 7;; s = end) {
                                unsigned long g = strtoul(s, &end, 10);

                                if (end == s)
                                        break;
                                if ((gid_t)g == gid)
                                        found = true;
                        }
                        break;
                }
                fclose(f);
        }
        if (have)
                return found;

        {
                struct passwd *pw = getpwuid(uid);
                gid_t groups[256];
                int n = 256, i;

                if (!pw)
                        return false;
                if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
                        return false;
                for (i = 0; i < n; i++)
                        if (groups[i] == gid)
                                return true;
        }
        return false;
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
        socklen_t len = sizeof(cred);
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
        if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                r = -errno;
        if (r < 0) {
                log_warning("connection %" PRIu64 ": SO_PEERCRED: %s", c->id,
                            sbd_errno_name(r));
                sbd_conn_close(c, false);
                return;
        }
        c->uid = cred.uid;
        c->gid = cred.gid;
        c->pid = cred.pid;
        c->admin = cred.uid == 0;
        if (!c->admin && cred.gid != d->socket_gid &&
            !peer_in_group(cred.pid, cred.uid, d->socket_gid)) {
                log_warning("connection %" PRIu64 ": refused uid %u pid %d: not in group %u",
                            c->id, (unsigned)cred.uid, (int)cred.pid, (unsigned)d->socket_gid);
                sbd_conn_close(c, false);
                return;
        }
        log_debug("connection %" PRIu64 ": uid %u gid %u pid %d", c->id, (unsigned)cred.uid,
                  (unsigned)cred.gid, (int)cred.pid);

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

        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return log_errno(-ENAMETOOLONG, "socket path %s", path);
        r = mkdir_parents(path);
        if (r < 0)
                return r;
        return remove_stale(path);
}

int sbd_server_listen(struct sbd_daemon *d)
{
        const char *path = d->opt.socket_path;
        struct group *gr;
        struct stat st;
        mode_t old_umask;
        int r;

        /* Again: a stale file may have appeared since sbd_server_prepare(). */
        r = remove_stale(path);
        if (r < 0)
                return r;

        r = uv_pipe_init(d->loop, &d->listener, 0);
        if (r < 0)
                return log_errno(r, "listen %s: init", path);
        d->listener.data = d;
        d->listening = true;
        /* Single-threaded here (no threadpool yet): umask is safe to flip. */
        old_umask = umask(0117);
        r = uv_pipe_bind(&d->listener, path);
        umask(old_umask);
        if (r < 0)
                return log_errno(r, "bind %s", path);
        if (chmod(path, 0660) < 0)
                return log_errno(-errno, "chmod %s", path);
        gr = getgrnam(SKILLBOX_GROUP);
        if (gr && chown(path, 0, gr->gr_gid) < 0)
                return log_errno(-errno, "chown %s to root:%s", path, SKILLBOX_GROUP);
        if (stat(path, &st) < 0)
                return log_errno(-errno, "stat %s", path);
        d->socket_gid = st.st_gid;
        r = uv_listen((uv_stream_t *)&d->listener, 128, on_connection);
        if (r < 0)
                return log_errno(r, "listen %s", path);
        log_info("listening on %s (group %u%s)", path, (unsigned)d->socket_gid,
                 gr ? ", " SKILLBOX_GROUP : "");
        return 0;
}

void sbd_server_close(struct sbd_daemon *d)
{
        if (!d->listening)
                return;
        d->listening = false;
        uv_close((uv_handle_t *)&d->listener, NULL);
        /* Ours (we bound it): remove so the next start finds no stale file. */
        if (unlink(d->opt.socket_path) < 0 && errno != ENOENT)
                log_warning_errno(-errno, "unlink %s", d->opt.socket_path);
}
