/* exit_watch_posix.c — an exit descriptor polled for readable
 * (exit_watch.h). */
#include "daemon/exit_watch.h"
#include "daemon/list.h"

int sbd_exit_watch_init(uv_loop_t *loop, struct sbd_exit_watch *w, sb_handle h, void *data)
{
        int r = uv_poll_init(loop, &w->poll, h);

        if (r < 0)
                return r;
        w->poll.data = data;
        w->data = data;
        return 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
        struct sbd_exit_watch *w = sbd_container_of(h, struct sbd_exit_watch, poll);

        (void)status;
        (void)events;
        w->cb(w->data);
}

int sbd_exit_watch_start(struct sbd_exit_watch *w, sbd_exit_watch_cb cb)
{
        w->cb = cb;
        return uv_poll_start(&w->poll, UV_READABLE, on_readable);
}

uv_handle_t *sbd_exit_watch_stop(struct sbd_exit_watch *w)
{
        uv_poll_stop(&w->poll);
        return (uv_handle_t *)&w->poll;
}
