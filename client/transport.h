/* transport.h — libskillbox's byte stream to the daemon: a Unix stream
 * socket (transport_unix.c) or a Windows named pipe (transport_pipe.c).
 *
 * conn.c frames, queues and dispatches; it holds the connection as an int
 * (c->fd: the socket, or on Windows a C runtime descriptor of the pipe's
 * handle) and asks this interface for the rest. Every call returns a
 * negative errno on failure; -EAGAIN means "not now".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The most descriptors one read takes in (the daemon sends one per reply). */
#define CLIENT_TRANSPORT_FDS_MAX 8

/* The events of sb_events(): poll()'s values, on every platform. */
#define CLIENT_EV_IN 0x001
#define CLIENT_EV_OUT 0x004

/* Connect to the daemon at path; the connection in *fd. On failure the
 * error text in errbuf ("connect: ..." is the caller's). */
int client_transport_connect(const char *path, int *fd);
void client_transport_close(int fd);
/* Send up to len bytes (with fds, which travel with the first byte); the
 * count taken, or -EAGAIN when none. -EOPNOTSUPP: this transport passes no
 * descriptors. */
ssize_t client_transport_send(int fd, const char *data, size_t len, const int *fds, size_t nfds);
/* Read up to len bytes: the count, 0 at the daemon's end of stream, or
 * -EAGAIN when there is nothing now. Descriptors that came with them
 * (job_connect's), at most fds_max, go to fds and their count to *nfds;
 * any past fds_max are closed. A transport that passes none sets 0. */
ssize_t client_transport_recv(int fd, char *buf, size_t len, int *fds, size_t *nfds,
                              size_t fds_max);
/* Wait up to timeout_ms (-1: forever) until fd is readable (or closed) or,
 * with want_write, writable. 0 on timeout, else CLIENT_EV_* ready. */
int client_transport_wait(int fd, bool want_write, int timeout_ms);
/* A descriptor of the caller's to keep until it is sent: a dup, closed
 * with client_transport_fd_close(). -EOPNOTSUPP where none can be passed. */
int client_transport_fd_dup(int fd);
void client_transport_fd_close(int fd);
/* The default address: $SKILLBOX_SOCKET, else the platform's. */
const char *client_transport_default(void);
