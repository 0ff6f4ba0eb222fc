/* exit_watch_windows.c — an exit HANDLE waited for by the thread pool,
 * which wakes the loop (exit_watch.h).
 */
#include <errno.h>
#include <windows.h>

#include "daemon/exit_watch.h"
#include "daemon/list.h"

static void on_async(uv_async_t *a)
{
        struct sbd_exit_watch *w = sbd_container_of(a, struct sbd_exit_watch, async);

        if (w->cb)
                w->cb(w->data);
}

int sbd_exit_watch_init(uv_loop_t *loop, struct sbd_exit_watch *w, sb_handle h, void *data)
{
        int r;

        w->handle = LongToHandle(h);
        w->wait = NULL;
        w->cb = NULL;
        w->data = data;
        r = uv_async_init(loop, &w->async, on_async);
        if (r < 0)
                return r;
        w->async.data = data;
        return 0;
}

/* The thread pool's thread: only the async send, which is thread-safe. */
static void CALLBACK on_signalled(void *ctx, BOOLEAN timed_out)
{
        struct sbd_exit_watch *w = ctx;

        (void)timed_out;
        uv_async_send(&w->async);
}

int sbd_exit_watch_start(struct sbd_exit_watch *w, sbd_exit_watch_cb cb)
{
        HANDLE wait;

        w->cb = cb;
        if (!RegisterWaitForSingleObject(&wait, w->handle, on_signalled, w, INFINITE,
                                         WT_EXECUTEONLYONCE))
                return -EIO;
        w->wait = wait;
        return 0;
}

uv_handle_t *sbd_exit_watch_stop(struct sbd_exit_watch *w)
{
        /* INVALID_HANDLE_VALUE: returns once a callback that already began
         * has ended, so none sends to the handle being closed. */
        if (w->wait)
                UnregisterWaitEx(w->wait, INVALID_HANDLE_VALUE);
        w->wait = NULL;
        w->cb = NULL;
        return (uv_handle_t *)&w->async;
}
