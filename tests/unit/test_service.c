/* test_service.c — the service manager seam (daemon/service.h) for a
 * daemon started by hand: no manager variables in the environment, so no
 * listening handle is passed, and ready and stopping leave nothing behind
 * on the loop (it ends and closes by itself). Built once per
 * implementation: service_none.c, and service_systemd.c on Linux.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/service.h"

static void clear_environment(void)
{
        static const char *const vars[] = {
                "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET",
                "WATCHDOG_USEC", "WATCHDOG_PID",
        };

        for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
                unsetenv(vars[i]);
}

static void test_no_listen_handle(void **state)
{
        struct sbd_handle h = SBD_HANDLE_NONE;

        (void)state;
        clear_environment();
        assert_int_equal(sbd_service_listen_handle(&h), -ENOENT);
}

static void test_ready_and_stopping_leave_the_loop_free(void **state)
{
        static struct sbd_daemon d;
        uv_loop_t loop;

        (void)state;
        clear_environment();
        assert_int_equal(uv_loop_init(&loop), 0);
        memset(&d, 0, sizeof(d));
        d.loop = &loop;
        assert_int_equal(sbd_service_ready(&d), 0);
        d.draining = true;
        sbd_service_stopping(&d);
        assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 0);
        assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_listen_handle),
                cmocka_unit_test(test_ready_and_stopping_leave_the_loop_free),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
