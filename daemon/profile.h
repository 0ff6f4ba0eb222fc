/* profile.h — named job policies and the merge of a request into one.
 * Today there is only the built-in "default"; the config file (a later issue)
 * will add more through the same lookup.
 */
#pragma once

#include "protocol/sbp.h"

/* The limits a job runs with after merging request and profile. */
struct sbd_limits {
        uint64_t memory_max;   /* bytes, 0 = unlimited */
        uint64_t tasks_max;
        uint32_t cpu_percent;
        uint64_t timeout_ms;
        uint64_t tmp_size;
        bool network;          /* true = host network */
};

/* All profiles, for the `profiles` method. */
const struct sbp_profile *sbd_profiles(size_t *count);
/* name "" means "default"; NULL if unknown. */
const struct sbp_profile *sbd_profile_find(const char *name);

/* Merge req's limits into profile p. 0 = the profile's value; a request may
 * only tighten: asking for more is PermissionDenied naming the field and both
 * values. Returns 0 or -EACCES with err filled. */
int sbd_profile_merge(const struct sbp_profile *p, const struct sbp_exec_params *req,
                      struct sbd_limits *out, struct sbp_error *err);
