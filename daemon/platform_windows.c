/* platform_windows.c — skillboxd on Windows (platform.h).
 *
 * Entered one of four ways: --install-service and --uninstall-service
 * register or remove the service and exit; --service (the command line the
 * registration gives the manager) runs the daemon as the service; anything
 * else runs it in the console it was started from.
 *
 * Stop requests: the console's Ctrl-C, Ctrl-Break and close (libuv's
 * signals SIGINT, SIGBREAK, SIGHUP), and the manager's stop, which arrives
 * on the dispatcher's thread and reaches the loop through an async handle.
 * A stop that arrives before the loop watches, or after it stopped
 * watching, is kept or dropped under a lock, never sent to a closed handle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/platform.h"
#include "daemon/service_windows.h"

#define UNINSTALL_WAIT_MS 30000

static sbd_platform_stop_fn stop_fn;
static SRWLOCK stop_lock = SRWLOCK_INIT;
static uv_async_t stop_async;
static bool stop_armed;        /* stop_async is open: a request may be sent */
static bool stop_early;        /* the manager asked before the loop watched */

/* ---- entry ---- */

struct service_args {
        int argc;
        char **argv;
        sbd_platform_run_fn run;
};

static int service_run(void *ctx)
{
        struct service_args *a = ctx;

        return a->run(a->argc, a->argv) == 0 ? 0 : -EIO;
}

/* The manager's thread: the loop's async handle is told, under the lock. */
static void service_stop(void *ctx)
{
        (void)ctx;
        AcquireSRWLockExclusive(&stop_lock);
        if (stop_armed)
                uv_async_send(&stop_async);
        else
                stop_early = true;
        ReleaseSRWLockExclusive(&stop_lock);
}

/* This program's path, UTF-8, into buf. */
static int self_path(char *buf, size_t len)
{
        wchar_t w[MAX_PATH];
        DWORD n = GetModuleFileNameW(NULL, w, MAX_PATH);

        if (n == 0 || n >= MAX_PATH)
                return -ENAMETOOLONG;
        if (!WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)len, NULL, NULL))
                return -ENAMETOOLONG;
        return 0;
}

static int install_service(int argc, char **argv)
{
        const char *config = NULL;
        char exe[MAX_PATH * 3], err[256];
        int i, r;

        for (i = 2; i < argc; i++) {
                if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
                        config = argv[++i];
                } else {
                        fprintf(stderr, "skillboxd: error: --install-service takes only "
                                "--config FILE, not \"%s\"\n", argv[i]);
                        return 1;
                }
        }
        r = self_path(exe, sizeof(exe));
        if (r < 0) {
                fprintf(stderr, "skillboxd: error: GetModuleFileNameW: %s\n", sbd_errno_name(r));
                return 1;
        }
        err[0] = '\0';
        r = sbd_win_service_install(exe, config, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "skillboxd: error: installing the service: %s\n",
                        r == -EEXIST ? "it is installed already" : err);
                return 1;
        }
        printf("skillboxd: service installed: %s\n", exe);
        return 0;
}

static int uninstall_service(int argc)
{
        char err[256];
        int r;

        if (argc > 2) {
                fprintf(stderr, "skillboxd: error: --uninstall-service takes no arguments\n");
                return 1;
        }
        err[0] = '\0';
        r = sbd_win_service_uninstall(UNINSTALL_WAIT_MS, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "skillboxd: error: removing the service: %s\n",
                        r == -ENOENT ? "it is not installed" : err);
                return 1;
        }
        printf("skillboxd: service removed\n");
        return 0;
}

void sbd_platform_usage(FILE *f)
{
        fprintf(f, "\nWindows (the first option):\n"
                "  --install-service [--config FILE]\n"
                "                            register the service skillbox, which runs this\n"
                "                            program with --service (and --config FILE)\n"
                "  --uninstall-service       stop the service and remove it\n"
                "  --service [OPTION]...     run as the service (its manager's command line)\n");
}

int sbd_platform_main(int argc, char **argv, sbd_platform_run_fn run)
{
        struct service_args args;
        struct sbd_win_service_body body;
        char err[256];
        int r;

        if (argc >= 2 && strcmp(argv[1], "--install-service") == 0)
                return install_service(argc, argv);
        if (argc >= 2 && strcmp(argv[1], "--uninstall-service") == 0)
                return uninstall_service(argc);
        if (argc < 2 || strcmp(argv[1], "--service") != 0)
                return run(argc, argv);

        /* The service: the same options without --service. */
        argv[1] = argv[0];
        args = (struct service_args){ .argc = argc - 1, .argv = argv + 1, .run = run };
        body = (struct sbd_win_service_body){ .run = service_run, .stop = service_stop,
                                              .ctx = &args };
        err[0] = '\0';
        r = sbd_win_service_dispatch(&body, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "skillboxd: error: --service: %s\n",
                        r == -ENOTSUP ? "not started by the service control manager" : err);
                return 1;
        }
        return 0;
}

/* ---- start-up ---- */

int sbd_platform_prepare(void)
{
        /* No dialog box for a crash or a missing drive: a service has no
         * one to click it away. */
        SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
        return 0;
}

/* The claim is a lock file in the state dir (instance_windows.c), which
 * any daemon may take and a second one on that dir must not. */
bool sbd_platform_registers_instance(void)
{
        return true;
}

/* ---- stop requests ---- */

static void on_stop_async(uv_async_t *h)
{
        stop_fn(h->data, "service stop");
}

static void on_console(uv_signal_t *h, int signum)
{
        stop_fn(h->data, signum == SIGINT ? "Ctrl-C" : signum == SIGBREAK ? "Ctrl-Break"
                                                                           : "console closed");
}

int sbd_platform_requests_start(struct sbd_daemon *d, sbd_platform_stop_fn stop,
                                sbd_platform_reload_fn reload)
{
        struct {
                uv_signal_t *h;
                int signum;
        } s[] = { { &d->sig_int, SIGINT }, { &d->sig_term, SIGBREAK }, { &d->sig_hup, SIGHUP } };
        bool early;
        size_t i;
        int r;

        (void)reload;   /* nothing asks a Windows daemon to reload */
        stop_fn = stop;
        for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
                r = uv_signal_init(d->loop, s[i].h);
                if (r < 0)
                        return log_errno(r, "console signal init");
                s[i].h->data = d;
                r = uv_signal_start(s[i].h, on_console, s[i].signum);
                if (r < 0)
                        return log_errno(r, "console signal %d", s[i].signum);
        }
        r = uv_async_init(d->loop, &stop_async, on_stop_async);
        if (r < 0)
                return log_errno(r, "service stop handle");
        stop_async.data = d;
        AcquireSRWLockExclusive(&stop_lock);
        stop_armed = true;
        early = stop_early;
        ReleaseSRWLockExclusive(&stop_lock);
        if (early)
                uv_async_send(&stop_async);
        return 0;
}

void sbd_platform_requests_close(struct sbd_daemon *d)
{
        uv_signal_t *s[] = { &d->sig_term, &d->sig_int, &d->sig_hup };
        size_t i;

        for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
                if (s[i]->loop && !uv_is_closing((uv_handle_t *)s[i]))
                        uv_close((uv_handle_t *)s[i], NULL);
        AcquireSRWLockExclusive(&stop_lock);
        if (stop_armed) {
                stop_armed = false;
                uv_close((uv_handle_t *)&stop_async, NULL);
        }
        ReleaseSRWLockExclusive(&stop_lock);
}
