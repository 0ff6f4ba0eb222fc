/* profile.h — the merge of a request into a profile of a configuration.
 *
 * Pure functions over the configuration passed in: the daemon's current
 * one is owned by settings.c (sbd_settings_conf()), replaced as a whole on
 * reload. A job copies what it needs into its struct sbd_limits at exec,
 * so a reload never changes a running job.
 */
#pragma once

#include "backends/backend.h"
#include "config/conf.h"
#include "protocol/sbp.h"

/* What a job runs with after merging request and profile: the policy the
 * sandbox enforces, and what the daemon enforces and checks itself. */
struct sbd_limits {
        struct sb_policy policy;
        uint64_t timeout_ms;   /* 0 = none */
        uint64_t output_max;   /* stdout + stderr bytes, 0 = unlimited */
        bool output_truncate;  /* past output_max: drop (true) or end the job */
        uint32_t require;      /* SBD_REQ() bits of the profile */
};

/* Merge req's limits into profile p. 0 = the profile's value; a request may
 * only tighten: asking for more is PermissionDenied naming the field and both
 * values. Returns 0 or -EACCES with err filled. */
int sbd_profile_merge(const struct sbd_conf_profile *p, const struct sbp_exec_params *req,
                      struct sbd_limits *out, struct sbp_error *err);

/* Fail closed: the guarantees of l->require that e (what a backend reports
 * for the host or for a job) does not show, space-separated into buf.
 * Returns true if any is missing. */
bool sbd_profile_unmet(const struct sbd_limits *l, const struct sbp_enforced *e, char *buf,
                       size_t len);
