/* fds.c — reading a connection with recvmsg, and the fds that come with it.
 *
 * Invariants:
 *  - every fd received is either queued in c->fds.pending, moved to
 *    c->fds.msg for the message being dispatched, or closed; nothing is
 *    left open when the connection goes;
 *  - fds arrive O_CLOEXEC (MSG_CMSG_CLOEXEC), so no job or helper inherits
 *    one by accident;
 *  - a truncated control message (MSG_CTRUNC: more fds than we make room
 *    for) or a queue over SBD_CONN_FDS_MAX is a protocol error that closes
 *    the connection: the stream and its fds are out of step;
 *  - the daemon only inspects a received fd with fstat/fstatfs/fcntl here;
 *    it never resolves a path through one (the backends use them with
 *    AT_EMPTY_PATH / fchdir only).
 * Association: the kernel delivers a sendmsg's fds with its first bytes and
 * ends a recvmsg right after the chunk that carried them, so the fds belong
 * to the message containing the last byte of that read. They are tagged
 * with that stream offset and claimed by the first message ending at or
 * after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backend.h"
#include "daemon/conn.h"
#include "daemon/fds.h"
#include "daemon/log.h"

#define READ_CHUNK (64u << 10)

static void close_all(int *fds, uint32_t *n)
{
        for (uint32_t i = 0; i < *n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        *n = 0;
}

static void protocol_error(struct sbd_conn *c, const char *why)
{
        struct sbp_error err;

        log_warning("connection %" PRIu64 " (uid %u): %s", c->id, (unsigned)c->uid, why);
        sbp_error_set(&err, SBP_E_PROTOCOL_ERROR, "%s", why);
        sbd_conn_reply_error(c, 0, &err);
        sbd_conn_close(c, true);
}

/* Queue the fds of one control message; false if they do not fit. */
static bool queue_fds(struct sbd_conn *c, const struct cmsghdr *cm, uint64_t at)
{
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *data = CMSG_DATA(cm);
        bool ok = true;

        for (size_t i = 0; i < n; i++) {
                int fd;

                memcpy(&fd, data + i * sizeof(int), sizeof(int));
                if (c->fds.npending >= SBD_CONN_FDS_MAX) {
                        close(fd);
                        ok = false;
                        continue;
                }
                c->fds.pending[c->fds.npending] = fd;
                c->fds.pending_at[c->fds.npending] = at;
                c->fds.npending++;
        }
        return ok;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
        struct sbd_conn *c = h->data;
        /* Room for one message's worth of fds and one more, so a peer that
         * sends more shows up as more than the cap, not as MSG_CTRUNC. */
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * (SBP_FDS_MAX + 1))];
        } cbuf;
        struct msghdr mh;
        struct iovec iov;
        struct cmsghdr *cm;
        bool too_many = false;
        char *base = NULL;
        size_t len = 0;
        ssize_t n;

        (void)events;
        if (c->closing)
                return;
        if (status < 0) {
                log_debug("connection %" PRIu64 ": poll: %s", c->id, uv_err_name(status));
                sbd_conn_close(c, false);
                return;
        }
        if (sbp_reader_reserve(&c->reader, READ_CHUNK, &base, &len) < 0 || len == 0) {
                sbd_conn_input(c, UV_ENOBUFS);
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
                n = recvmsg(c->fds.sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                        return;
                sbd_conn_input(c, uv_translate_sys_error(errno));
                return;
        }
        for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    !queue_fds(c, cm, c->fds.rx_total + (uint64_t)n))
                        too_many = true;
        if (mh.msg_flags & MSG_CTRUNC) {
                protocol_error(c, "too many file descriptors with one message");
                return;
        }
        if (too_many) {
                protocol_error(c, "too many file descriptors queued on the connection");
                return;
        }
        c->fds.rx_total += (uint64_t)n;
        sbd_conn_input(c, n == 0 ? UV_EOF : n);
}

int sbd_fds_start(struct sbd_conn *c)
{
        uv_os_fd_t fd;
        int r;

        c->fds.sock = -1;
        r = uv_fileno((uv_handle_t *)&c->pipe, &fd);
        if (r < 0)
                return r;
        /* A dup: epoll tracks (file, fd) pairs, so the poll handle and the
         * pipe's own write watcher do not collide. */
        c->fds.sock = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (c->fds.sock < 0)
                return -errno;
        r = uv_poll_init(c->d->loop, &c->fds.poll, c->fds.sock);
        if (r < 0) {
                close(c->fds.sock);
                c->fds.sock = -1;
                return r;
        }
        c->fds.poll.data = c;
        c->fds.poll_open = true;
        return uv_poll_start(&c->fds.poll, UV_READABLE, on_readable);
}

int sbd_fds_pause(struct sbd_conn *c, bool pause)
{
        if (!c->fds.poll_open || uv_is_closing((uv_handle_t *)&c->fds.poll))
                return 0;
        if (pause)
                return uv_poll_stop(&c->fds.poll);
        return uv_poll_start(&c->fds.poll, UV_READABLE, on_readable);
}

static void poll_closed(uv_handle_t *h)
{
        struct sbd_conn *c = h->data;

        c->fds.poll_open = false;
        if (c->fds.sock >= 0)
                close(c->fds.sock);
        c->fds.sock = -1;
        close_all(c->fds.pending, &c->fds.npending);
        close_all(c->fds.msg, &c->fds.nmsg);
        if (c->fds.pipe_closed)
                sbd_conn_free(c);
}

void sbd_fds_stop(struct sbd_conn *c)
{
        if (!c->fds.poll_open || uv_is_closing((uv_handle_t *)&c->fds.poll))
                return;
        uv_poll_stop(&c->fds.poll);
        uv_close((uv_handle_t *)&c->fds.poll, poll_closed);
}

int sbd_fds_begin_message(struct sbd_conn *c, uint64_t end, struct sbp_error *err)
{
        uint32_t k = 0;

        close_all(c->fds.msg, &c->fds.nmsg);
        while (k < c->fds.npending && c->fds.pending_at[k] <= end)
                k++;
        if (k == 0)
                return 0;
        for (uint32_t i = 0; i < k; i++) {
                if (c->fds.nmsg < SBP_FDS_MAX)
                        c->fds.msg[c->fds.nmsg++] = c->fds.pending[i];
                else
                        close(c->fds.pending[i]);
        }
        memmove(c->fds.pending, c->fds.pending + k, (c->fds.npending - k) * sizeof(int));
        memmove(c->fds.pending_at, c->fds.pending_at + k,
                (c->fds.npending - k) * sizeof(uint64_t));
        c->fds.npending -= k;
        if (k > SBP_FDS_MAX) {
                close_all(c->fds.msg, &c->fds.nmsg);
                sbp_error_set(err, SBP_E_PROTOCOL_ERROR,
                              "more than %u file descriptors with one message", SBP_FDS_MAX);
                return -EPROTO;
        }
        return 0;
}

void sbd_fds_end_message(struct sbd_conn *c)
{
        close_all(c->fds.msg, &c->fds.nmsg);
}

/* A received fd a job may see: a directory on a real file system (not
 * procfs, sysfs or another kernel pseudo fs), O_PATH or readable. The rules
 * are the backends' (sb_backend_check_dir_fd); this names the failure. */
static int check_dir(struct sbd_conn *c, uint32_t index, const char *what, struct sbp_error *err)
{
        const char *why;
        int r;

        if (index >= c->fds.nmsg)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "%s: fd index %u, but %u fds came with the request", what,
                                     index, c->fds.nmsg);
        r = sb_backend_check_dir_fd(c->fds.msg[index]);
        switch (r) {
        case 0:
                return 0;
        case -ENOTDIR:
                why = "not a directory";
                break;
        case -EPERM:
                why = "on /proc, /sys or another kernel file system";
                break;
        case -EBADF:
                why = "neither O_PATH nor readable";
                break;
        default:
                why = strerror(-r);
                break;
        }
        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "%s: fd %u: %s", what, index, why);
}

int sbd_fds_exec_check(struct sbd_conn *c, const struct sbp_exec_params *p, bool mounts_ok,
                       struct sbp_error *err)
{
        char what[32];
        int r;

        if (p->has_workdir_fd && (r = check_dir(c, p->workdir_fd, "workdir_fd", err)) < 0)
                return r;
        for (uint32_t i = 0; i < p->nmounts; i++) {
                snprintf(what, sizeof(what), "mounts[%u]", i);
                if ((r = check_dir(c, p->mounts[i].fd, what, err)) < 0)
                        return r;
        }
        if (p->nmounts > 0 && !mounts_ok)
                return sbp_error_set(err, SBP_E_UNSUPPORTED,
                                     "mounts: this backend cannot mount directories");
        return 0;
}

void sbd_fds_exec_spec(struct sbd_conn *c, const struct sbp_exec_params *p,
                       struct sb_job_spec *spec, struct sb_job_mount *mounts)
{
        spec->workdir_fd = p->has_workdir_fd && p->workdir_fd < c->fds.nmsg
                                   ? c->fds.msg[p->workdir_fd] : -1;
        spec->owner_uid = c->uid;
        spec->owner_gid = c->gid;
        spec->nmounts = 0;
        spec->mounts = mounts;
        for (uint32_t i = 0; i < p->nmounts && i < SBP_MOUNTS_MAX; i++) {
                if (p->mounts[i].fd >= c->fds.nmsg)
                        continue;       /* checked before; never reached */
                mounts[spec->nmounts].fd = c->fds.msg[p->mounts[i].fd];
                mounts[spec->nmounts].target = p->mounts[i].target;
                mounts[spec->nmounts].read_only = p->mounts[i].read_only;
                mounts[spec->nmounts].owner_uid = c->uid;
                mounts[spec->nmounts].owner_gid = c->gid;
                spec->nmounts++;
        }
}
