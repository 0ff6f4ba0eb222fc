/* platform.h — what main.c asks of the system it runs on: how it is
 * entered, what it sets up before anything starts, whether it registers
 * itself as an instance, and what asks it to stop (or reload).
 *
 * platform_posix.c: signals (SIGTERM and SIGINT drain, SIGHUP reloads),
 * the controlling terminal left, SIGPIPE caught. platform_windows.c: the
 * service control manager (--service, --install-service,
 * --uninstall-service) and the console's Ctrl-C, Ctrl-Break and close.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct sbd_daemon;

/* The daemon's body: parses argv, runs until drained; the exit code. */
typedef int (*sbd_platform_run_fn)(int argc, char **argv);
/* A stop request (why: "SIGTERM", "service stop", ...). */
typedef void (*sbd_platform_stop_fn)(struct sbd_daemon *d, const char *why);
/* A reload request (SIGHUP). */
typedef void (*sbd_platform_reload_fn)(struct sbd_daemon *d);

/* main(): run(argc, argv) as this platform enters a daemon (on Windows
 * possibly as a service, or a service's installation instead). */
int sbd_platform_main(int argc, char **argv, sbd_platform_run_fn run);

/* The options sbd_platform_main() takes itself, for --help (none on POSIX
 * systems). */
void sbd_platform_usage(FILE *f);

/* Once the options are read, before any process is started. 0, or <0
 * (logged). */
int sbd_platform_prepare(void);

/* Whether this daemon registers itself in the instance registry
 * (instance.h): where it could take another daemon's cgroup, uids or job
 * directories. */
bool sbd_platform_registers_instance(void);

/* Watch for requests to stop and reload on d's loop. 0 or <0 (logged).
 * The handles keep the loop alive until ..._close(). */
int sbd_platform_requests_start(struct sbd_daemon *d, sbd_platform_stop_fn stop,
                                sbd_platform_reload_fn reload);
/* Stop watching (the drain closes every handle). */
void sbd_platform_requests_close(struct sbd_daemon *d);
