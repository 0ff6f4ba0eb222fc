/* named_pipe.c — the transport over a Windows named pipe (transport.h),
 * built from pipe.c's instances and peer identity.
 *
 * Listen: libuv 1.44's uv_pipe_bind creates every instance with the
 * default security descriptor (Everyone may read, remote clients too) and
 * has no call to pass another; setting the DACL after bind leaves a window
 * in which anyone may open the pipe. So libuv never listens here. prepare
 * creates the first instance with pipe_sddl.c's descriptor and
 * FILE_FLAG_FIRST_PIPE_INSTANCE, which claims the name before the backend
 * opens (a name someone else made first fails: nobody sits on the daemon's
 * name with a DACL of their own); a thread of the listener's own then
 * waits for a client on the newest instance (overlapped ConnectNamedPipe
 * against a stop event), queues the connected instance, makes the next
 * one, and wakes the loop (uv_async_t). on_connection runs on the loop;
 * sbd_transport_accept() hands the queued instance to the connection's
 * uv_pipe_t with uv_pipe_open(), which libuv supports for connected pipes.
 * The queue is bounded: past it, a connected client is disconnected, as a
 * full listen backlog refuses one.
 *
 * Peer: pipe.c reads the client's token; a named pipe carries no uid. For
 * an account of this machine (its account domain's SID, then one RID) or
 * one of the service accounts S-1-5-18/19/20, the RID stands in for the uid
 * the daemon counts quotas by and [Access] names (1001 for a local user).
 * Any other SID (a domain account, whose RID another domain may repeat)
 * gets SBD_PIPE_UID_FOREIGN (pipe_uid.c), which no [Access] entry should
 * name: such clients share one quota and are admitted only by the
 * Administrators group. A token holding an enabled Administrators group gets the group
 * 544 (that group's RID).
 *
 * Receive: uv_read_start on the connection's own pipe; no handles ride on a
 * named pipe, so every read reports none, and sending one is refused.
 */
#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* transport.h first: <uv.h> takes <winsock2.h> before <windows.h>. */
#include "config.h"
#include "daemon/transport/transport.h"
#include "daemon/log.h"
#include "daemon/transport/pipe.h"
#include "daemon/transport/pipe_uid.h"
#include <ntsecapi.h>
#include <sddl.h>

#define QUEUE_MAX (sizeof(((struct sbd_listener *)0)->queue) / \
                   sizeof(((struct sbd_listener *)0)->queue[0]))
#define ADMINS_RID SBD_PIPE_GID_ADMINS
#define SYSTEM_RID 18   /* S-1-5-18, LocalSystem: the service's own account */

void sbd_handle_close(struct sbd_handle *h)
{
        if (!sbd_handle_valid(*h))
                return;
        _close(h->fd);
        *h = SBD_HANDLE_NONE;
}

/* ---- listening ---- */

/* The configuration shared with POSIX systems names a socket path by
 * default: a name that is not a pipe's is replaced by the default pipe. */
static const char *pipe_name(const char *configured)
{
        static const char prefix[] = "\\\\.\\pipe\\";

        if (_strnicmp(configured, prefix, sizeof(prefix) - 1) == 0 &&
            configured[sizeof(prefix) - 1])
                return configured;
        log_warning("Socket=%s is not a pipe name (\\\\.\\pipe\\NAME): serving %s",
                    configured, SKILLBOX_DEFAULT_SOCKET);
        return SKILLBOX_DEFAULT_SOCKET;
}

/* SocketGroup: a SID, or a group's name, whose SID it stands for; empty
 * for SYSTEM and the Administrators alone. A name that names no group
 * admits nobody more (the configuration shared with POSIX systems names
 * the group skillbox, which a Windows host may lack). */
static const char *group_sid(const char *group, char *buf, size_t len)
{
        int r;

        if (!group || !group[0] || strncmp(group, "S-1-", 4) == 0)
                return group;
        r = sbd_pipe_account_sid(group, buf, len);
        if (r == 0)
                return buf;
        log_warning("SocketGroup=%s: no such group (%s): the pipe admits SYSTEM and the "
                    "Administrators only", group, sbd_errno_name(r));
        return "";
}

int sbd_transport_prepare(struct sbd_listener *l, const struct sbd_listen_spec *s)
{
        char err[200], sid[192];
        PSECURITY_DESCRIPTOR sd = NULL;
        const char *name = pipe_name(s->path);
        HANDLE h;
        int r;

        if (l->activated)
                return log_errno(-ENOTSUP, "%s: the Windows service manager passes no pipe",
                                 name);
        if (snprintf(l->pipe_name, sizeof(l->pipe_name), "%s", name) >=
            (int)sizeof(l->pipe_name))
                return log_errno(-ENAMETOOLONG, "%s: pipe name", name);
        r = sbd_pipe_security(group_sid(s->group, sid, sizeof(sid)), &sd, err, sizeof(err));
        if (r < 0)
                return log_errno(r, "%s: %s", name, err);
        h = sbd_pipe_instance(name, sd, true, err, sizeof(err));
        if (h == INVALID_HANDLE_VALUE) {
                DWORD e = GetLastError();

                LocalFree(sd);
                return log_errno(e == ERROR_ACCESS_DENIED ? -EADDRINUSE : -EIO,
                                 "%s: %s (another server holds the name?)", name, err);
        }
        l->sd = sd;
        l->first = h;
        return 0;
}

/* Queue a connected instance for the loop; false when the queue is full
 * (the caller disconnects it) or the listener is stopping. */
static bool enqueue(struct sbd_listener *l, HANDLE h)
{
        bool ok = false;

        uv_mutex_lock(&l->lock);
        if (l->nqueue < QUEUE_MAX) {
                l->queue[l->nqueue++] = h;
                ok = true;
        }
        uv_mutex_unlock(&l->lock);
        if (ok)
                uv_async_send(&l->async);
        return ok;
}

static void thread_failed(struct sbd_listener *l, const char *err)
{
        uv_mutex_lock(&l->lock);
        snprintf(l->thread_error, sizeof(l->thread_error), "%s", err);
        uv_mutex_unlock(&l->lock);
        uv_async_send(&l->async);
}

/* Wait for a client on h; 1 connected, 0 the client left before, -1 stop,
 * -2 an error (in err). */
static int wait_client(struct sbd_listener *l, HANDLE h, OVERLAPPED *ov, char *err, size_t errlen)
{
        HANDLE w[2] = { ov->hEvent, l->stop };
        DWORD n, e;

        ResetEvent(ov->hEvent);
        if (ConnectNamedPipe(h, ov))
                return 1;
        e = GetLastError();
        if (e == ERROR_PIPE_CONNECTED)
                return 1;
        if (e == ERROR_NO_DATA)
                return 0;
        if (e != ERROR_IO_PENDING) {
                snprintf(err, errlen, "ConnectNamedPipe: Win32 error %lu", (unsigned long)e);
                return -2;
        }
        switch (WaitForMultipleObjects(2, w, FALSE, INFINITE)) {
        case WAIT_OBJECT_0:
                break;
        case WAIT_OBJECT_0 + 1:
                CancelIo(h);
                GetOverlappedResult(h, ov, &n, TRUE);
                return -1;
        default:
                snprintf(err, errlen, "WaitForMultipleObjects: Win32 error %lu",
                         (unsigned long)GetLastError());
                return -2;
        }
        /* Failed: the client left before it was connected. */
        return GetOverlappedResult(h, ov, &n, FALSE) ? 1 : 0;
}

static DWORD WINAPI accept_thread(void *arg)
{
        struct sbd_listener *l = arg;
        OVERLAPPED ov = { 0 };
        HANDLE h = l->first;
        char err[200];
        int r;

        l->first = INVALID_HANDLE_VALUE;
        ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (!ov.hEvent) {
                snprintf(err, sizeof(err), "CreateEvent: Win32 error %lu",
                         (unsigned long)GetLastError());
                thread_failed(l, err);
                CloseHandle(h);
                return 1;
        }
        for (;;) {
                r = wait_client(l, h, &ov, err, sizeof(err));
                if (r == -1)
                        break;
                if (r == -2) {
                        thread_failed(l, err);
                        break;
                }
                if (r == 1 && enqueue(l, h)) {
                        h = INVALID_HANDLE_VALUE;
                } else {
                        DisconnectNamedPipe(h);
                        CloseHandle(h);
                        h = INVALID_HANDLE_VALUE;
                }
                h = sbd_pipe_instance(l->pipe_name, l->sd, false, err, sizeof(err));
                if (h == INVALID_HANDLE_VALUE) {
                        thread_failed(l, err);
                        break;
                }
        }
        if (h != INVALID_HANDLE_VALUE)
                CloseHandle(h);
        CloseHandle(ov.hEvent);
        return 0;
}

static void on_async(uv_async_t *a)
{
        struct sbd_listener *l = a->data;
        char err[sizeof(l->thread_error)];
        uint32_t before;

        for (;;) {
                uv_mutex_lock(&l->lock);
                before = l->nqueue;
                uv_mutex_unlock(&l->lock);
                if (before == 0)
                        break;
                l->on_connection((uv_stream_t *)&l->pipe, 0);
                uv_mutex_lock(&l->lock);
                if (l->nqueue == before) {
                        /* Not accepted (out of memory): refused. */
                        HANDLE h = l->queue[0];

                        memmove(&l->queue[0], &l->queue[1], (--l->nqueue) * sizeof(l->queue[0]));
                        CloseHandle(h);
                }
                uv_mutex_unlock(&l->lock);
        }
        uv_mutex_lock(&l->lock);
        snprintf(err, sizeof(err), "%s", l->thread_error);
        l->thread_error[0] = '\0';
        uv_mutex_unlock(&l->lock);
        if (err[0])
                log_error("listener stopped accepting: %s", err);
}

int sbd_transport_listen(struct sbd_listener *l, uv_loop_t *loop, const struct sbd_listen_spec *s,
                         uv_connection_cb on_connection, void *data)
{
        int r;

        if (l->first == NULL || l->first == INVALID_HANDLE_VALUE)
                return log_errno(-EINVAL, "%s: not prepared", s->path);
        r = uv_pipe_init(loop, &l->pipe, 0);
        if (r < 0)
                return log_errno(r, "%s: uv_pipe_init", s->path);
        l->pipe.data = data;
        l->open = true;
        l->on_connection = on_connection;
        r = uv_mutex_init(&l->lock);
        if (r < 0)
                return log_errno(r, "%s: uv_mutex_init", s->path);
        l->lock_init = true;
        r = uv_async_init(loop, &l->async, on_async);
        if (r < 0)
                return log_errno(r, "%s: uv_async_init", s->path);
        l->async.data = l;
        l->async_open = true;
        l->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (!l->stop)
                return log_errno(-EIO, "%s: CreateEvent: Win32 error %lu", s->path,
                                 (unsigned long)GetLastError());
        l->thread = CreateThread(NULL, 0, accept_thread, l, 0, NULL);
        if (!l->thread)
                return log_errno(-EIO, "%s: CreateThread: Win32 error %lu", s->path,
                                 (unsigned long)GetLastError());
        return 0;
}

int sbd_transport_accept(uv_stream_t *server, uv_pipe_t *client)
{
        struct sbd_listener *l = (struct sbd_listener *)((char *)server -
                                                         offsetof(struct sbd_listener, pipe));
        HANDLE h = INVALID_HANDLE_VALUE;
        int fd, r;

        uv_mutex_lock(&l->lock);
        if (l->nqueue > 0) {
                h = l->queue[0];
                memmove(&l->queue[0], &l->queue[1], (--l->nqueue) * sizeof(l->queue[0]));
        }
        uv_mutex_unlock(&l->lock);
        if (h == INVALID_HANDLE_VALUE)
                return UV_EAGAIN;
        fd = uv_open_osfhandle(h);
        if (fd < 0) {
                CloseHandle(h);
                return UV_EMFILE;
        }
        r = uv_pipe_open(client, fd);
        if (r < 0)
                _close(fd);
        return r;
}

static void close_handle(void **h)
{
        if (*h && *h != INVALID_HANDLE_VALUE)
                CloseHandle(*h);
        *h = NULL;
}

void sbd_transport_unlisten(struct sbd_listener *l, const struct sbd_listen_spec *s)
{
        uint32_t i;

        if (l->thread) {
                SetEvent(l->stop);
                WaitForSingleObject(l->thread, INFINITE);
                close_handle(&l->thread);
        }
        close_handle(&l->stop);
        close_handle(&l->first);
        if (l->lock_init) {
                for (i = 0; i < l->nqueue; i++)
                        CloseHandle(l->queue[i]);
                l->nqueue = 0;
        }
        if (l->async_open && !uv_is_closing((uv_handle_t *)&l->async))
                uv_close((uv_handle_t *)&l->async, NULL);
        if (l->open && !uv_is_closing((uv_handle_t *)&l->pipe))
                uv_close((uv_handle_t *)&l->pipe, NULL);
        l->open = false;
        if (l->sd)
                LocalFree(l->sd);
        l->sd = NULL;
}

/* ---- the peer ---- */

const char *sbd_pipe_machine_domain(void)
{
        static char sid[192];
        static bool done;
        LSA_OBJECT_ATTRIBUTES oa = { 0 };
        POLICY_ACCOUNT_DOMAIN_INFO *info = NULL;
        LSA_HANDLE policy;
        char *s = NULL;

        if (done)
                return sid;
        done = true;
        if (LsaOpenPolicy(NULL, &oa, POLICY_VIEW_LOCAL_INFORMATION, &policy) != 0) {
                log_warning("peer: LsaOpenPolicy failed: only service accounts get a uid");
                return sid;
        }
        if (LsaQueryInformationPolicy(policy, PolicyAccountDomainInformation,
                                      (void **)&info) == 0 && info && info->DomainSid &&
            ConvertSidToStringSidA(info->DomainSid, &s)) {
                snprintf(sid, sizeof(sid), "%s", s);
                LocalFree(s);
        } else {
                log_warning("peer: the machine's account domain is unknown: only service "
                            "accounts get a uid");
        }
        if (info)
                LsaFreeMemory(info);
        LsaClose(policy);
        return sid;
}

int sbd_transport_peer(uv_pipe_t *pipe, struct sbd_peer *out)
{
        struct sbd_pipe_peer pp;
        uv_os_fd_t h;
        char err[200];
        int r;

        memset(out, 0, sizeof(*out));
        r = uv_fileno((uv_handle_t *)pipe, &h);
        if (r < 0)
                return r;
        r = sbd_pipe_peer(h, &pp, err, sizeof(err));
        if (r < 0) {
                log_warning("peer: %s", err);
                return r;
        }
        out->uid = (uid_t)sbd_pipe_uid_of_sid(pp.user_sid, sbd_pipe_machine_domain());
        out->gid = out->uid;
        out->pid = (pid_t)pp.pid;
        out->groups[out->ngroups++] = out->gid;
        if (pp.admin)
                out->groups[out->ngroups++] = ADMINS_RID;
        out->superuser = pp.admin || out->uid == SYSTEM_RID;
        snprintf(out->name, sizeof(out->name), "%s (uid %u) pid %u", pp.user_sid,
                 (unsigned)out->uid, (unsigned)pp.pid);
        return 0;
}

/* ---- sending a handle ---- */

ssize_t sbd_transport_send_handle(uv_pipe_t *pipe, const void *buf, size_t len,
                                  struct sbd_handle h)
{
        return -ENOTSUP;
}

/* ---- receiving ---- */

static void rx_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct sbd_rx *rx = h->data;
        char *base = NULL;
        size_t len = 0;

        rx->alloc(rx->data, &base, &len);
        *buf = uv_buf_init(base, (unsigned)len);
}

static void rx_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
        struct sbd_rx *rx = s->data;

        if (n == 0)
                return;         /* nothing read: EAGAIN in libuv's words */
        if (n == UV_EOF)
                n = 0;
        rx->read(rx->data, n, NULL, 0, false);
}

int sbd_rx_start(struct sbd_rx *rx, uv_pipe_t *pipe)
{
        rx->pipe = pipe;
        rx->pipe_data = pipe->data;
        rx->open = false;
        pipe->data = rx;
        rx->reading = true;
        return uv_read_start((uv_stream_t *)pipe, rx_alloc, rx_read);
}

int sbd_rx_pause(struct sbd_rx *rx, bool pause)
{
        if (!rx->pipe || rx->stopped || rx->reading == !pause)
                return 0;
        rx->reading = !pause;
        if (pause)
                return uv_read_stop((uv_stream_t *)rx->pipe);
        return uv_read_start((uv_stream_t *)rx->pipe, rx_alloc, rx_read);
}

void sbd_rx_stop(struct sbd_rx *rx)
{
        if (!rx->pipe || rx->stopped)
                return;
        rx->stopped = true;
        uv_read_stop((uv_stream_t *)rx->pipe);
        rx->pipe->data = rx->pipe_data;
}
