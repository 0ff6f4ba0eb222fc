/* fds.c — the handles received with requests: queued by stream offset,
 * claimed by the message they came with (fds.h), checked for exec.
 *
 * Invariants:
 *  - every handle received is either queued in c->fds.pending, moved to
 *    c->fds.msg for the message being dispatched, or closed; nothing is
 *    left open when the connection goes (sbd_fds_release);
 *  - a queue over SBD_CONN_FDS_MAX is a protocol error that closes the
 *    connection (conn.c): the stream and its handles are out of step;
 *  - the daemon only inspects a received fd with fstat/fstatfs/fcntl here;
 *    it never resolves a path through one (the backends use them with
 *    AT_EMPTY_PATH / fchdir only).
 * Association: the transport reports the handles of one read with that
 * read's bytes; they belong to the message containing the read's last
 * byte. They are tagged with that stream offset and claimed by the first
 * message ending at or after it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"
#include "daemon/conn.h"
#include "daemon/fds.h"

static void close_all(struct sbd_handle *h, uint32_t *n)
{
        for (uint32_t i = 0; i < *n; i++)
                sbd_handle_close(&h[i]);
        *n = 0;
}

bool sbd_fds_received(struct sbd_conn *c, size_t n, struct sbd_handle *h, uint32_t nh)
{
        uint64_t at = c->fds.rx_total + (uint64_t)n;
        bool ok = true;

        for (uint32_t i = 0; i < nh; i++) {
                if (c->fds.npending >= SBD_CONN_FDS_MAX) {
                        sbd_handle_close(&h[i]);
                        ok = false;
                        continue;
                }
                c->fds.pending[c->fds.npending] = h[i];
                c->fds.pending_at[c->fds.npending] = at;
                c->fds.npending++;
        }
        return ok;
}

void sbd_fds_release(struct sbd_conn *c)
{
        close_all(c->fds.pending, &c->fds.npending);
        close_all(c->fds.msg, &c->fds.nmsg);
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
                        sbd_handle_close(&c->fds.pending[i]);
        }
        memmove(c->fds.pending, c->fds.pending + k,
                (c->fds.npending - k) * sizeof(c->fds.pending[0]));
        memmove(c->fds.pending_at, c->fds.pending_at + k,
                (c->fds.npending - k) * sizeof(uint64_t));
        c->fds.npending -= k;
        if (k > SBP_FDS_MAX) {
                close_all(c->fds.msg, &c->fds.nmsg);
                /* The stream is still in step: the request is refused,
                 * the connection goes on. */
                sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                              "more than %u file descriptors with one request", SBP_FDS_MAX);
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
static int check_dir(struct sbd_conn *c, uint32_t index, const char *what, bool file_ok,
                     struct sbp_error *err)
{
        const char *why;
        int r;

        if (index >= c->fds.nmsg)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "%s: fd index %u, but %u fds came with the request", what,
                                     index, c->fds.nmsg);
        r = file_ok ? sb_backend_check_mount_fd(c->fds.msg[index].fd)
                    : sb_backend_check_dir_fd(c->fds.msg[index].fd);
        switch (r) {
        case 0:
                return 0;
        case -ENOTDIR:
                why = file_ok ? "neither a directory nor a regular file" : "not a directory";
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

        if (p->has_workdir_fd && (r = check_dir(c, p->workdir_fd, "workdir_fd", false, err)) < 0)
                return r;
        for (uint32_t i = 0; i < p->nmounts; i++) {
                snprintf(what, sizeof(what), "mounts[%u]", i);
                if ((r = check_dir(c, p->mounts[i].fd, what, true, err)) < 0)
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
                                   ? c->fds.msg[p->workdir_fd].fd : -1;
        spec->owner_uid = c->uid;
        spec->owner_gid = c->gid;
        spec->nmounts = 0;
        spec->mounts = mounts;
        for (uint32_t i = 0; i < p->nmounts && i < SBP_MOUNTS_MAX; i++) {
                if (p->mounts[i].fd >= c->fds.nmsg)
                        continue;       /* checked before; never reached */
                mounts[spec->nmounts].fd = c->fds.msg[p->mounts[i].fd].fd;
                mounts[spec->nmounts].target = p->mounts[i].target;
                mounts[spec->nmounts].read_only = p->mounts[i].read_only;
                mounts[spec->nmounts].owner_uid = c->uid;
                mounts[spec->nmounts].owner_gid = c->gid;
                spec->nmounts++;
        }
}
