/* transport.h — the OS side of the daemon's socket: listening, who a peer
 * is, and the bytes and handles a peer sends.
 *
 * Everything above this interface (server.c, conn.c, fds.c) speaks
 * MessagePack-RPC over a uv_pipe_t and never asks the OS about a connection
 * itself. A transport names the peer by the kernel's word, never by what
 * the peer says; reads bytes into the buffer the connection offers; and
 * hands over the handles that came with them, each to exactly one owner.
 * unix.c implements it for AF_UNIX stream sockets (SO_PEERCRED,
 * SCM_RIGHTS); a named-pipe transport implements the same calls, with its
 * own fields in the structs below.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* ---- handles ---- */

/* An OS handle a peer passed: a file descriptor here, a HANDLE on Windows.
 * Whoever holds one closes it with sbd_handle_close(). */
struct sbd_handle {
        int fd;
};

#define SBD_HANDLE_NONE ((struct sbd_handle){ .fd = -1 })

static inline bool sbd_handle_valid(struct sbd_handle h)
{
        return h.fd >= 0;
}

/* Close *h and set it to SBD_HANDLE_NONE; a no-op on SBD_HANDLE_NONE. */
void sbd_handle_close(struct sbd_handle *h);

/* ---- listening ---- */

/* Where and for whom the daemon listens (from struct sbd_options). */
struct sbd_listen_spec {
        const char *path;
        const char *group;      /* NULL: "skillbox"; "": leave root's group */
        uint32_t mode;          /* 0: 0660 */
};

struct sbd_listener {
        uv_pipe_t pipe;
        bool open;              /* pipe initialized, until sbd_transport_unlisten() */
        /* Passed by the service manager (socket activation; set before
         * sbd_transport_prepare()): it owns the name, its mode and group,
         * and keeps it across our restarts. */
        bool activated;
        struct sbd_handle activated_handle;
#ifdef _WIN32
        /* named_pipe.c: instances are created and connected by a thread of
         * the listener's own, each with the pipe's security descriptor,
         * and queued for the loop (async); never libuv's listener, whose
         * instances carry the default DACL. */
        uv_connection_cb on_connection;
        uv_async_t async;
        bool async_open;
        void *sd;               /* PSECURITY_DESCRIPTOR, LocalFree()d */
        void *first;            /* the first instance (HANDLE), from prepare */
        void *thread, *stop;    /* HANDLEs */
        void *queue[128];       /* connected instances, not yet accepted */
        uint32_t nqueue;
        char pipe_name[256];    /* s->path, for the thread */
        char thread_error[160]; /* why the thread stopped, for the loop to log */
        uv_mutex_t lock;        /* queue, nqueue, thread_error */
        bool lock_init;
#endif
};

/* Before the backend opens (it reaps a previous instance's leftovers):
 * make sure no other daemon serves s->path, create its directory, remove a
 * stale socket. Nothing to do for an activated listener. Logs and returns
 * <0 on failure. */
int sbd_transport_prepare(struct sbd_listener *l, const struct sbd_listen_spec *s);
/* Listen on s->path (owner, group and mode set before anyone can connect)
 * or on the activated handle; on_connection gets l->pipe with data set to
 * data. Logs and returns <0 on failure. */
int sbd_transport_listen(struct sbd_listener *l, uv_loop_t *loop, const struct sbd_listen_spec *s,
                         uv_connection_cb on_connection, void *data);
/* From on_connection: accept the connection it announced into client (a
 * uv_pipe_init()ed pipe). Returns 0 or a libuv error. */
int sbd_transport_accept(uv_stream_t *server, uv_pipe_t *client);
/* Stop accepting; remove the name unless the service manager owns it.
 * Idempotent. */
void sbd_transport_unlisten(struct sbd_listener *l, const struct sbd_listen_spec *s);

/* ---- the peer ---- */

#define SBD_PEER_GROUPS_MAX 64

struct sbd_peer {
        uid_t uid;
        gid_t gid;
        pid_t pid;
        /* Primary group first, then the supplementary ones the kernel
         * recorded at connect; capped, which can only deny, never grant. */
        gid_t groups[SBD_PEER_GROUPS_MAX];
        uint32_t ngroups;
        /* Always an admin ([Access] aside): uid 0 here; SYSTEM or a token
         * with the Administrators group enabled on Windows. */
        bool superuser;
        char name[64];          /* for logs: "uid 1000 pid 4242" */
};

/* Identify the peer of an accepted connection, before a byte is read from
 * it. Returns 0 or -errno. */
int sbd_transport_peer(uv_pipe_t *pipe, struct sbd_peer *out);

/* ---- sending a handle ---- */

/* Send the first bytes of buf (len >= 1) on pipe now, without blocking,
 * with a copy of h riding on the first byte (libuv 1.44 sends only its own
 * handles, and only on ipc pipes). The caller makes sure nothing is queued
 * on the pipe before them. Returns how many bytes the socket took (>= 1;
 * the rest is the caller's to queue), or -EAGAIN (none taken) or another
 * negative errno. */
ssize_t sbd_transport_send_handle(uv_pipe_t *pipe, const void *buf, size_t len,
                                  struct sbd_handle h);

/* ---- receiving ---- */

/* Offer a buffer for the next read; *len = 0 offers none (the read is
 * reported as UV_ENOBUFS, or skipped when the connection is closing). */
typedef void (*sbd_rx_alloc_cb)(void *data, char **base, size_t *len);
/* n >= 0 bytes arrived in the offered buffer (0: the peer closed its end)
 * with nh handles, which the callback now owns; truncated: the peer sent
 * more handles than one read takes, so the stream and its handles are out
 * of step. n < 0: a libuv error, no handles. */
typedef void (*sbd_rx_read_cb)(void *data, ssize_t n, struct sbd_handle *h, uint32_t nh,
                               bool truncated);
/* The reader's own OS handles are closed; nothing will be called again. */
typedef void (*sbd_rx_closed_cb)(void *data);

/* Reads one connection. libuv 1.44 cannot hand received fds to us, so the
 * unix transport polls a dup of the socket and reads it with recvmsg;
 * writes still go through the uv_pipe_t. */
struct sbd_rx {
#ifdef _WIN32
        /* named_pipe.c reads with uv_read_start on the pipe itself (no
         * handles ride on a named pipe), borrowing the pipe's data field
         * until sbd_rx_stop(); it holds no handle of its own (open stays
         * false). */
        uv_pipe_t *pipe;
        void *pipe_data;
        bool reading, stopped;
#else
        uv_poll_t poll;
        int sock;               /* dup of the pipe's fd */
#endif
        bool open;              /* the poll handle exists (until its close callback) */
        void *data;
        sbd_rx_alloc_cb alloc;
        sbd_rx_read_cb read;
        sbd_rx_closed_cb closed;
};

/* Start reading pipe (instead of uv_read_start); rx->data, alloc, read and
 * closed must be set. Returns 0 or a libuv error; after an error
 * sbd_rx_stop() still has to be called. */
int sbd_rx_start(struct sbd_rx *rx, uv_pipe_t *pipe);
/* Backpressure: stop or restart reading; a no-op once stopping. */
int sbd_rx_pause(struct sbd_rx *rx, bool pause);
/* Stop reading for good; closed() follows once the reader's handles are
 * closed, and never when none was open (sbd_rx_open() false). Idempotent. */
void sbd_rx_stop(struct sbd_rx *rx);
/* The reader still holds an OS handle open (closed() is still to come). */
static inline bool sbd_rx_open(const struct sbd_rx *rx)
{
        return rx->open;
}
