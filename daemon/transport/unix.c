/* unix.c — the transport over an AF_UNIX stream socket (transport.h).
 *
 * Listen: the socket's directory is created 0755 if missing; an existing
 * socket file is removed only when nothing answers on it (a stale leftover),
 * never when another daemon is serving it, and never if it is not a socket.
 * The socket is bound owner-only (umask around bind), then owned by
 * root:SocketGroup when that group exists, then given SocketMode (0660).
 * The socket's mode and group only decide who can reach it; who may use
 * it is decided by the peer's identity ([Access], access.c).
 *
 * Peer: uid, gid and pid from SO_PEERCRED and the supplementary groups from
 * SO_PEERGROUPS, both recorded by the kernel at connect(): a peer cannot
 * claim to be someone else (reading /proc/PID/status later could see
 * another process that reused the pid). Where SO_PEERGROUPS is missing
 * (Linux < 4.13) the group database is asked for the user's groups.
 *
 * Receive: recvmsg(MSG_CMSG_CLOEXEC) on a dup of the socket, straight into
 * the buffer the connection offers. Invariants:
 *  - every fd received is handed to the read callback, which owns it from
 *    then on; none is held here;
 *  - fds arrive O_CLOEXEC, so no job or helper inherits one by accident;
 *  - the control buffer holds one message's fds and one more, so a peer
 *    that sends more shows up as more than the protocol allows, not as a
 *    truncated read; past that, MSG_CTRUNC is reported as truncated;
 *  - the kernel delivers a sendmsg's fds with its first bytes and ends a
 *    recvmsg right after the chunk that carried them, so the fds of one
 *    read belong to the message containing its last byte (fds.c).
 *
 * Send a handle: sendmsg on the pipe's own fd, non-blocking, the fd as
 * SCM_RIGHTS on the first byte; only when conn.c knows nothing is queued
 * before those bytes (libuv writes everything else).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/statedir.h"
#include "daemon/transport/transport.h"
#include "protocol/sbp.h"

#define SKILLBOX_GROUP "skillbox"
#define LISTEN_BACKLOG 128

/* The control buffer of one read, and the fds it can hold (its alignment
 * padding may take one more than asked for). */
#define RX_CONTROL_LEN CMSG_SPACE(sizeof(int) * (SBP_FDS_MAX + 1))
#define RX_FDS_ROOM ((RX_CONTROL_LEN - CMSG_LEN(0)) / sizeof(int))

void sbd_handle_close(struct sbd_handle *h)
{
        if (!sbd_handle_valid(*h))
                return;
        close(h->fd);
        *h = SBD_HANDLE_NONE;
}

/* ---- listening ---- */

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

int sbd_transport_prepare(struct sbd_listener *l, const struct sbd_listen_spec *s)
{
        int r;

        if (l->activated)
                return 0;
        if (strlen(s->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return log_errno(-ENAMETOOLONG, "socket path %s", s->path);
        /* Clients must reach the socket: its directories are 0755. */
        r = sbd_mkdir_parents(s->path, SBD_DIR_MODE_SOCKET);
        if (r < 0)
                return r;
        return remove_stale(s->path);
}

/* Serve the socket the service manager passed; its group (for the log)
 * is the socket file's. */
static int listen_activated(struct sbd_listener *l, uv_connection_cb on_connection)
{
        struct sockaddr_un sa;
        socklen_t len = sizeof(sa);
        int fd = l->activated_handle.fd;
        struct group *gr;
        struct stat st;
        gid_t gid;
        int r;

        memset(&sa, 0, sizeof(sa));
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
                return log_errno(-errno, "socket activation: getsockname");
        if (sa.sun_path[0] && stat(sa.sun_path, &st) == 0) {
                gid = st.st_gid;
        } else {
                gr = getgrnam(SKILLBOX_GROUP);
                gid = gr ? gr->gr_gid : 0;
        }
        r = uv_pipe_open(&l->pipe, fd);
        if (r < 0)
                return log_errno(r, "socket activation: open fd %d", fd);
        r = uv_listen((uv_stream_t *)&l->pipe, LISTEN_BACKLOG, on_connection);
        if (r < 0)
                return log_errno(r, "socket activation: listen");
        log_info("listening on %s (socket activation, group %u)",
                 sa.sun_path[0] ? sa.sun_path : "an abstract socket", (unsigned)gid);
        return 0;
}

static int listen_path(struct sbd_listener *l, const struct sbd_listen_spec *s,
                       uv_connection_cb on_connection)
{
        const char *path = s->path;
        const char *group = s->group ? s->group : SKILLBOX_GROUP;
        struct group *gr;
        struct stat st;
        mode_t old_umask;
        int r;

        /* Single-threaded here (no threadpool yet): umask is safe to flip.
         * Owner-only at bind; the group is set before the mode widens, so
         * the socket is never open to the wrong group. */
        old_umask = umask(0177);
        r = uv_pipe_bind(&l->pipe, path);
        umask(old_umask);
        if (r < 0)
                return log_errno(r, "bind %s", path);
        gr = *group ? getgrnam(group) : NULL;
        if (gr && chown(path, 0, gr->gr_gid) < 0)
                return log_errno(-errno, "chown %s to root:%s", path, group);
        if (!gr && *group)
                log_info("group %s does not exist; %s stays root's group", group, path);
        if (chmod(path, s->mode ? (mode_t)s->mode : 0660) < 0)
                return log_errno(-errno, "chmod %s", path);
        if (stat(path, &st) < 0)
                return log_errno(-errno, "stat %s", path);
        r = uv_listen((uv_stream_t *)&l->pipe, LISTEN_BACKLOG, on_connection);
        if (r < 0)
                return log_errno(r, "listen %s", path);
        log_info("listening on %s (mode %04o, group %u%s%s)", path, (unsigned)(st.st_mode & 0777),
                 (unsigned)st.st_gid, gr ? ", " : "", gr ? group : "");
        return 0;
}

int sbd_transport_listen(struct sbd_listener *l, uv_loop_t *loop, const struct sbd_listen_spec *s,
                         uv_connection_cb on_connection, void *data)
{
        int r;

        /* Again: a stale file may have appeared since the prepare step. */
        if (!l->activated) {
                r = remove_stale(s->path);
                if (r < 0)
                        return r;
        }
        r = uv_pipe_init(loop, &l->pipe, 0);
        if (r < 0)
                return l->activated ? log_errno(r, "socket activation: init")
                                    : log_errno(r, "listen %s: init", s->path);
        l->pipe.data = data;
        l->open = true;
        return l->activated ? listen_activated(l, on_connection)
                            : listen_path(l, s, on_connection);
}

int sbd_transport_accept(uv_stream_t *server, uv_pipe_t *client)
{
        return uv_accept(server, (uv_stream_t *)client);
}

void sbd_transport_unlisten(struct sbd_listener *l, const struct sbd_listen_spec *s)
{
        if (!l->open)
                return;
        l->open = false;
        uv_close((uv_handle_t *)&l->pipe, NULL);
        /* The service manager's socket stays: it queues clients until we
         * are back. */
        if (l->activated)
                return;
        /* Ours (we bound it): removed, so the next start finds no stale file. */
        if (unlink(s->path) < 0 && errno != ENOENT)
                log_warning_errno(-errno, "unlink %s", s->path);
}

/* ---- the peer ---- */

/* The peer's groups: primary first, then what the kernel recorded at
 * connect(); the group database only if the kernel cannot tell. */
static void peer_groups(struct sbd_peer *p, int fd)
{
        gid_t buf[SBD_PEER_GROUPS_MAX * 4];
        socklen_t len = sizeof(buf);
        int n = 0, i;

        p->groups[0] = p->gid;
        p->ngroups = 1;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) == 0) {
                n = (int)(len / sizeof(gid_t));
        } else if (errno == ENOPROTOOPT) {
                struct passwd *pw = getpwuid(p->uid);

                n = SBD_PEER_GROUPS_MAX * 4;
                if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, buf, &n) < 0)
                        n = 0;
        } else {
                /* ERANGE: more groups than we keep. Go on with the primary
                 * group only: this can deny, never grant. */
                log_debug("%s: SO_PEERGROUPS: %s", p->name, sbd_errno_name(-errno));
        }
        for (i = 0; i < n && p->ngroups < SBD_PEER_GROUPS_MAX; i++)
                if (buf[i] != p->gid)
                        p->groups[p->ngroups++] = buf[i];
}

ssize_t sbd_transport_send_handle(uv_pipe_t *pipe, const void *buf, size_t len,
                                  struct sbd_handle h)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        struct iovec iov = { (void *)buf, len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                             .msg_controllen = sizeof(cm.buf) };
        uv_os_fd_t sock;
        ssize_t n;

        if (uv_fileno((uv_handle_t *)pipe, &sock) < 0)
                return -EBADF;
        memset(&cm, 0, sizeof(cm));
        cm.h.cmsg_level = SOL_SOCKET;
        cm.h.cmsg_type = SCM_RIGHTS;
        cm.h.cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(&cm.h), &h.fd, sizeof(int));
        do
                n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        return n;
}

int sbd_transport_peer(uv_pipe_t *pipe, struct sbd_peer *out)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        uv_os_fd_t fd;
        int r;

        r = uv_fileno((uv_handle_t *)pipe, &fd);
        if (r < 0)
                return r;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        memset(out, 0, sizeof(*out));
        out->uid = cred.uid;
        out->superuser = cred.uid == 0;
        out->gid = cred.gid;
        out->pid = cred.pid;
        snprintf(out->name, sizeof(out->name), "uid %u pid %d", (unsigned)cred.uid,
                 (int)cred.pid);
        peer_groups(out, fd);
        return 0;
}

/* ---- receiving ---- */

static void on_readable(uv_poll_t *h, int status, int events)
{
        struct sbd_rx *rx = h->data;
        union {
                struct cmsghdr align;
                char buf[RX_CONTROL_LEN];
        } cbuf;
        struct sbd_handle handles[RX_FDS_ROOM];
        uint32_t nh = 0;
        struct msghdr mh;
        struct iovec iov;
        struct cmsghdr *cm;
        char *base = NULL;
        size_t len = 0;
        ssize_t n;

        (void)events;
        if (status < 0) {
                rx->read(rx->data, status, NULL, 0, false);
                return;
        }
        rx->alloc(rx->data, &base, &len);
        if (len == 0) {
                rx->read(rx->data, UV_ENOBUFS, NULL, 0, false);
                return;
        }
        iov.iov_base = base;
        iov.iov_len = len;
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = sizeof(cbuf.buf);
        do
                n = recvmsg(rx->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return;
                rx->read(rx->data, uv_translate_sys_error(errno), NULL, 0, false);
                return;
        }
        for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                const unsigned char *data = CMSG_DATA(cm);

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                /* The control buffer holds RX_FDS_ROOM fds in all, so
                 * none is dropped here; the check keeps it so. */
                for (size_t i = 0; i < k; i++) {
                        struct sbd_handle fd;

                        memcpy(&fd.fd, data + i * sizeof(int), sizeof(int));
                        if (nh < RX_FDS_ROOM)
                                handles[nh++] = fd;
                        else
                                sbd_handle_close(&fd);
                }
        }
        rx->read(rx->data, n, handles, nh, (mh.msg_flags & MSG_CTRUNC) != 0);
}

int sbd_rx_start(struct sbd_rx *rx, uv_pipe_t *pipe)
{
        uv_os_fd_t fd;
        int r;

        rx->sock = -1;
        r = uv_fileno((uv_handle_t *)pipe, &fd);
        if (r < 0)
                return r;
        /* A dup: epoll tracks (file, fd) pairs, so the poll handle and the
         * pipe's own write watcher do not collide. */
        rx->sock = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (rx->sock < 0)
                return -errno;
        r = uv_poll_init(pipe->loop, &rx->poll, rx->sock);
        if (r < 0) {
                close(rx->sock);
                rx->sock = -1;
                return r;
        }
        rx->poll.data = rx;
        rx->open = true;
        return uv_poll_start(&rx->poll, UV_READABLE, on_readable);
}

int sbd_rx_pause(struct sbd_rx *rx, bool pause)
{
        if (!rx->open || uv_is_closing((uv_handle_t *)&rx->poll))
                return 0;
        if (pause)
                return uv_poll_stop(&rx->poll);
        return uv_poll_start(&rx->poll, UV_READABLE, on_readable);
}

static void poll_closed(uv_handle_t *h)
{
        struct sbd_rx *rx = h->data;

        rx->open = false;
        if (rx->sock >= 0)
                close(rx->sock);
        rx->sock = -1;
        rx->closed(rx->data);
}

void sbd_rx_stop(struct sbd_rx *rx)
{
        if (!rx->open || uv_is_closing((uv_handle_t *)&rx->poll))
                return;
        uv_poll_stop(&rx->poll);
        uv_close((uv_handle_t *)&rx->poll, poll_closed);
}
