/* exit_watch.h — waiting on the loop for a backend's exit handle
 * (ops->exit_handle) to be signalled.
 *
 * On POSIX systems the handle is a descriptor that turns readable, polled
 * by libuv (exit_watch_posix.c). On Windows it is a waitable HANDLE (the
 * job's process), and libuv polls only sockets there: the system's thread
 * pool waits for it (RegisterWaitForSingleObject) and wakes the loop
 * through an async handle (exit_watch_windows.c). The struct holds what
 * either needs, so its users need no #ifdef.
 */
#pragma once

#include <uv.h>

#include "backends/backend.h"

typedef void (*sbd_exit_watch_cb)(void *data);

struct sbd_exit_watch {
        uv_poll_t poll;         /* POSIX */
        uv_async_t async;       /* Windows */
        void *handle;           /* Windows: the HANDLE waited for */
        void *wait;             /* Windows: the registered wait, NULL when none */
        sbd_exit_watch_cb cb;
        void *data;
};

/* One libuv handle of w's made on loop for h, its data set to data: 0, or
 * <0 with nothing made. Then ..._start(); the handle is the caller's to
 * close (with what ..._stop() returns) whether or not that succeeds. */
int sbd_exit_watch_init(uv_loop_t *loop, struct sbd_exit_watch *w, sb_handle h, void *data);
/* cb(data) on the loop once h is signalled (on POSIX: each time it is
 * readable, until stopped). 0 or <0. */
int sbd_exit_watch_start(struct sbd_exit_watch *w, sbd_exit_watch_cb cb);
/* No more callbacks (on Windows: none still running on another thread);
 * returns the handle for the caller to close. */
uv_handle_t *sbd_exit_watch_stop(struct sbd_exit_watch *w);
