/* sb-win-transport — the daemon's named-pipe transport
 * (daemon/transport/named_pipe.c) on a libuv loop under Wine, driven by a
 * plain Win32 client on a thread of its own. Built, not installed.
 *
 *   sb-win-transport PIPE
 *
 * Prints "squat: refused" (a second listener on the name fails; Wine
 * allows it: "squat: ALLOWED"), "peer: SID (uid N) pid N uid-local=1" (the
 * client, an account of this machine, gets its RID as uid), "peer:
 * pid=N self=1" (the client identified by its token), "reply: pong" (the
 * client's bytes read through sbd_rx, the answer written with uv_write),
 * "eof" (the client's close seen) and "done".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "daemon/log.h"
#include "daemon/transport/transport.h"

static struct sbd_listener listener, squatter;
static struct sbd_listen_spec spec;
static uv_pipe_t conn;
static struct sbd_rx rx;
static char rxbuf[64];
static size_t rxlen;
static uv_write_t wreq;
static int failures;

static void client(void *arg)
{
        const char *name = arg;
        wchar_t wname[256];
        char buf[16];
        DWORD n = 0;
        HANDLE h = INVALID_HANDLE_VALUE;
        int i;

        MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 256);
        for (i = 0; i < 100 && h == INVALID_HANDLE_VALUE; i++) {
                h = CreateFileW(wname, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0,
                                NULL);
                if (h == INVALID_HANDLE_VALUE)
                        Sleep(50);
        }
        if (h == INVALID_HANDLE_VALUE) {
                printf("client: connect: Win32 error %lu\n", (unsigned long)GetLastError());
                fflush(stdout);
                return;
        }
        if (!WriteFile(h, "ping", 4, &n, NULL) || n != 4)
                printf("client: write failed\n");
        else if (!ReadFile(h, buf, sizeof(buf) - 1, &n, NULL))
                printf("client: read failed\n");
        else
                printf("reply: %.*s\n", (int)n, buf);
        fflush(stdout);
        CloseHandle(h);
}

static void closed(uv_handle_t *h)
{
        printf("done\n");
        fflush(stdout);
}

static void on_alloc(void *data, char **base, size_t *len)
{
        *base = rxbuf + rxlen;
        *len = sizeof(rxbuf) - rxlen;
}

static void on_read(void *data, ssize_t n, struct sbd_handle *h, uint32_t nh, bool truncated)
{
        static uv_buf_t pong = { .base = "pong", .len = 4 };

        if (nh != 0 || truncated) {
                printf("FAIL: handles on a named pipe\n");
                failures++;
        }
        if (n > 0) {
                rxlen += (size_t)n;
                if (rxlen == 4 && memcmp(rxbuf, "ping", 4) == 0 &&
                    uv_write(&wreq, (uv_stream_t *)&conn, &pong, 1, NULL) < 0) {
                        printf("FAIL: write\n");
                        failures++;
                }
                return;
        }
        printf(n == 0 ? "eof\n" : "read: %s\n", uv_err_name((int)n));
        sbd_rx_stop(&rx);
        uv_close((uv_handle_t *)&conn, closed);
        sbd_transport_unlisten(&listener, &spec);
}

static void on_connection(uv_stream_t *server, int status)
{
        struct sbd_peer peer;
        int r;

        if (uv_pipe_init(server->loop, &conn, 0) < 0 ||
            sbd_transport_accept(server, &conn) < 0) {
                printf("FAIL: accept\n");
                failures++;
                return;
        }
        r = sbd_transport_peer(&conn, &peer);
        if (r < 0) {
                printf("FAIL: peer: %d\n", r);
                failures++;
        } else {
                printf("peer: pid=%u self=%d\n", (unsigned)peer.pid,
                       (DWORD)peer.pid == GetCurrentProcessId());
                /* Wine's user is an account of its machine: a RID. */
                printf("peer: %s uid-local=%d\n", peer.name, peer.uid < 0xfffffffeu);
        }
        rx.alloc = on_alloc;
        rx.read = on_read;
        if (sbd_rx_start(&rx, &conn) < 0) {
                printf("FAIL: rx start\n");
                failures++;
        }
        fflush(stdout);
}

int main(int argc, char **argv)
{
        uv_loop_t *loop = uv_default_loop();
        uv_thread_t t;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: sb-win-transport PIPE\n");
                return 2;
        }
        sbd_log_init();
        spec.path = argv[1];
        spec.group = "";
        if (sbd_transport_prepare(&listener, &spec) < 0)
                return 1;
        /* Windows refuses a second first instance; Wine does not (run.sh
         * names the skip), so this is reported, not counted. */
        r = sbd_transport_prepare(&squatter, &spec);
        printf(r == -EADDRINUSE ? "squat: refused\n" : "squat: ALLOWED (%d)\n", r);
        sbd_transport_unlisten(&squatter, &spec);
        fflush(stdout);
        if (sbd_transport_listen(&listener, loop, &spec, on_connection, NULL) < 0)
                return 1;
        uv_thread_create(&t, client, argv[1]);
        uv_run(loop, UV_RUN_DEFAULT);
        uv_thread_join(&t);
        return failures ? 1 : 0;
}
