/* test_egress.c — the daemon's supervision of skillbox-proxy (daemon/
 * egress.c) with the real proxy: started on the first job, a job's listener
 * served and its refusals reported to the daemon by job, the proxy started
 * again after it was killed with the job's listener added again, and a
 * removed job's reports no longer delivered. Runs as root (the proxy drops
 * to its uid itself); skipped otherwise or without SKILLBOX_PROXY.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "daemon/egress.h"

struct seen {
        char job[32];
        char host[256];
        uint16_t port;
        uint32_t count;
        unsigned calls;
};

static void on_denied(void *ud, const char *job, const char *host, uint16_t port,
                      uint32_t count)
{
        struct seen *s = ud;

        snprintf(s->job, sizeof(s->job), "%s", job);
        snprintf(s->host, sizeof(s->host), "%s", host);
        s->port = port;
        s->count = count;
        s->calls++;
}

static bool timed_out;

static void on_guard(uv_timer_t *t)
{
        (void)t;
        timed_out = true;
}

/* Runs the loop until cond holds; a generous guard only ends a hang. */
static void run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg)
{
        uv_timer_t guard;

        timed_out = false;
        assert_int_equal(uv_timer_init(loop, &guard), 0);
        assert_int_equal(uv_timer_start(&guard, on_guard, 30000, 0), 0);
        while (!cond(arg) && !timed_out)
                uv_run(loop, UV_RUN_ONCE);
        uv_timer_stop(&guard);
        uv_close((uv_handle_t *)&guard, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        assert_false(timed_out);
}

static int listener(uint16_t *port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(fd, 16), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        *port = ntohs(a.sin_port);
        return fd;
}

/* A CONNECT to a host no entry names: the proxy's first line back. */
static void connect_refused(uint16_t port, const char *target)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct timeval tv = { .tv_sec = 30 };
        char req[300], buf[64];
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ssize_t n;

        assert_true(fd >= 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
        assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
        n = read(fd, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_non_null(strstr(buf, " 403 "));
        close(fd);
}

static bool seen_calls(void *arg)
{
        struct seen *s = arg;

        return s->calls > 0;
}

struct restarted {
        struct sbd_egress *e;
        int old_pid;
};

static bool new_pid(void *arg)
{
        struct restarted *r = arg;
        int pid = sbd_egress_pid(r->e);

        return pid != 0 && pid != r->old_pid;
}

static void test_supervise(void **state)
{
        const char *proxy = getenv("SKILLBOX_PROXY");
        const char *const entries[] = { "allowed.example.org:443" };
        struct seen seen = { 0 };
        struct restarted rs;
        struct sbd_egress *e;
        uv_loop_t loop;
        uint16_t port;
        int lfd, pid;

        (void)state;
        if (!proxy || !*proxy || access(proxy, X_OK) != 0 || geteuid() != 0)
                skip();
        signal(SIGPIPE, SIG_IGN);
        assert_int_equal(uv_loop_init(&loop), 0);
        e = sbd_egress_new(&loop, proxy, 65534, 65534, on_denied, &seen);
        assert_non_null(e);
        /* Nothing runs before the first job. */
        assert_int_equal(sbd_egress_pid(e), 0);

        lfd = listener(&port);
        assert_int_equal(sbd_egress_add(e, "job1", entries, 1, lfd), 0);
        close(lfd);   /* the egress keeps its own duplicate */
        pid = sbd_egress_pid(e);
        assert_true(pid > 0);
        assert_int_equal(sbd_egress_add(e, "job1", entries, 1, 0), -EEXIST);
        assert_int_equal(sbd_egress_add(e, "bad id!", entries, 1, 0), -EINVAL);

        connect_refused(port, "other.example.org:443");
        run_until(&loop, seen_calls, &seen);
        assert_string_equal(seen.job, "job1");
        assert_string_equal(seen.host, "other.example.org");
        assert_int_equal(seen.port, 443);
        assert_int_equal(seen.count, 1);

        /* Killed: started again, and the job's listener served again. */
        assert_int_equal(kill(pid, SIGKILL), 0);
        rs.e = e;
        rs.old_pid = pid;
        run_until(&loop, new_pid, &rs);
        seen.calls = 0;
        connect_refused(port, "third.example.org:8443");
        run_until(&loop, seen_calls, &seen);
        assert_string_equal(seen.job, "job1");
        assert_string_equal(seen.host, "third.example.org");
        assert_int_equal(seen.port, 8443);

        sbd_egress_remove(e, "job1");
        sbd_egress_remove(e, "job1");   /* twice is harmless */
        sbd_egress_close(e);
        uv_run(&loop, UV_RUN_DEFAULT);   /* returns once the proxy exited */
        assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_supervise),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
