/* platform_posix.c — skillboxd on a POSIX system (platform.h): signals,
 * the controlling terminal, SIGPIPE, and root's instance registration.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "daemon/ctty.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/platform.h"

static sbd_platform_stop_fn stop_fn;
static sbd_platform_reload_fn reload_fn;

int sbd_platform_main(int argc, char **argv, sbd_platform_run_fn run)
{
        return run(argc, argv);
}

void sbd_platform_usage(FILE *f)
{
        (void)f;
}

static void on_sigpipe(int signum)
{
        (void)signum;   /* the failing write returns EPIPE; nothing to do here */
}

int sbd_platform_prepare(void)
{
        struct sigaction sa = { .sa_handler = on_sigpipe, .sa_flags = SA_RESTART };
        int r;

        /* Before anything is forked (the spawner): no process of ours keeps
         * the terminal we may have been started from. */
        r = sbd_ctty_drop();
        if (r < 0)
                log_warning_errno(r, "leaving the controlling terminal");

        /* Writes to a vanished client must fail with EPIPE, not kill us.
         * Caught rather than ignored: an ignored disposition would be
         * inherited through execve() by every job (breaking `yes | head`),
         * a caught one is reset to the default there. */
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGPIPE, &sa, NULL) < 0)
                return log_errno(-errno, "SIGPIPE handler");
        return 0;
}

/* Without root there are no cgroups, uids or other users' job dirs to take
 * from another instance (and /run is root's). */
bool sbd_platform_registers_instance(void)
{
        if (geteuid() != 0) {
                log_debug("not root: no instance registration");
                return false;
        }
        return true;
}

static void on_signal(uv_signal_t *h, int signum)
{
        struct sbd_daemon *d = h->data;

        if (signum == SIGHUP) {
                reload_fn(d);
                return;
        }
        stop_fn(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

int sbd_platform_requests_start(struct sbd_daemon *d, sbd_platform_stop_fn stop,
                                sbd_platform_reload_fn reload)
{
        struct {
                uv_signal_t *h;
                int signum;
        } s[] = { { &d->sig_term, SIGTERM }, { &d->sig_int, SIGINT }, { &d->sig_hup, SIGHUP } };
        size_t i;
        int r;

        stop_fn = stop;
        reload_fn = reload;
        for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
                r = uv_signal_init(d->loop, s[i].h);
                if (r < 0)
                        return log_errno(r, "signal init");
                s[i].h->data = d;
                r = uv_signal_start(s[i].h, on_signal, s[i].signum);
                if (r < 0)
                        return log_errno(r, "signal %s", strsignal(s[i].signum));
        }
        return 0;
}

void sbd_platform_requests_close(struct sbd_daemon *d)
{
        uv_signal_t *s[] = { &d->sig_term, &d->sig_int, &d->sig_hup };
        size_t i;

        for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
                if (s[i]->loop && !uv_is_closing((uv_handle_t *)s[i]))
                        uv_close((uv_handle_t *)s[i], NULL);
}
