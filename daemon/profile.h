/* profile.h — named job policies and the merge of a request into one.
 * The profiles are those of the current configuration (config/conf.h),
 * replaced as a whole on reload; a job copies what it needs into its
 * struct sbd_limits at exec, so a reload never changes a running job.
 */
#pragma once

#include "config/conf.h"
#include "protocol/sbp.h"

/* The limits a job runs with after merging request and profile. */
struct sbd_limits {
        uint64_t memory_max;   /* bytes, 0 = unlimited */
        uint64_t tasks_max;
        uint32_t cpu_percent;
        uint64_t timeout_ms;
        uint64_t tmp_size;
        uint64_t tmp_inodes_max;
        uint64_t work_size_max;  /* a fresh /work's tmpfs: bytes and files */
        uint64_t work_inodes_max;
        bool network;          /* true = host network */
        uint64_t output_max;   /* stdout + stderr bytes, 0 = unlimited */
        bool output_truncate;  /* past output_max: drop (true) or end the job */
        /* SystemCallFilter= groups, NULL-terminated; static strings, so the
         * copy in a job outlives any reload. */
        const char *syscall_allow[SBD_CONF_SYSCALL_GROUPS_MAX + 1];
        uint32_t require;      /* SBD_REQ() bits of the profile */
};

/* Make conf's profiles the current ones (conf must outlive its use; the
 * caller frees the previous one after this). NULL: the built-in config. */
void sbd_profiles_use(const struct sbd_conf *conf);
/* The configuration profile p (from sbd_profile_find()) belongs to; NULL
 * for anything else (a caller's copy). */
const struct sbd_conf_profile *sbd_profile_conf(const struct sbp_profile *p);

/* All profiles, for the `profiles` method. */
const struct sbp_profile *sbd_profiles(size_t *count);
/* name "" means "default"; NULL if unknown. */
const struct sbp_profile *sbd_profile_find(const char *name);

/* Merge req's limits into profile p. 0 = the profile's value; a request may
 * only tighten: asking for more is PermissionDenied naming the field and both
 * values. Returns 0 or -EACCES with err filled. */
int sbd_profile_merge(const struct sbp_profile *p, const struct sbp_exec_params *req,
                      struct sbd_limits *out, struct sbp_error *err);

/* Fail closed: the guarantees of l->require that e (what a backend reports
 * for the host or for a job) does not show, space-separated into buf.
 * Returns true if any is missing. */
bool sbd_profile_unmet(const struct sbd_limits *l, const struct sbp_enforced *e, char *buf,
                       size_t len);
