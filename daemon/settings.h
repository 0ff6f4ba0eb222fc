/* settings.h — the configuration file in the daemon: load at start (with
 * the command line on top), --check-config, --print-config, SIGHUP reload,
 * and the current access rules.
 */
#pragma once

#include "config/conf.h"
#include "daemon/access.h"
#include "daemon/daemon.h"

/* Load the file (d->opt.config_path; else /etc/skillbox/skillboxd.conf if it
 * exists; else the built-in) into d->opt. Called after a first pass over the
 * command line (which found --config) and before a second one (whose
 * options then override the file). Errors are printed; returns 0 or <0. */
int sbd_settings_load(struct sbd_daemon *d);
/* After the second pass: note what the command line overrode (it keeps
 * winning on reload), resolve the access rules, and do --check-config or
 * --print-config. Returns 0 to run, 1 to exit 0, <0 to exit 1. */
int sbd_settings_finish(struct sbd_daemon *d);
/* SIGHUP: load the file again; an invalid one is refused and logged and the
 * current configuration stays. New jobs get the new profiles; running jobs
 * keep the limits they copied at exec. */
void sbd_settings_reload(struct sbd_daemon *d);
void sbd_settings_free(struct sbd_daemon *d);

/* The current configuration (its profiles are what an exec merges into,
 * sbd_conf_profile_find()) and its access rules; both change only on reload. */
const struct sbd_conf *sbd_settings_conf(const struct sbd_daemon *d);
const struct sbd_access *sbd_settings_access(const struct sbd_daemon *d);
