/* admit.h — exec admission: every check a request passes before a job is
 * created, in one function (admit.c).
 */
#pragma once

#include <stdint.h>

#include "daemon/profile.h"
#include "protocol/sbp.h"

struct sbd_conn;

/* What admission decided for one exec request; the job is built from it. */
struct sbd_admission {
        const struct sbd_conf_profile *profile;  /* of the current configuration */
        struct sbd_limits limits;    /* the profile merged with the request */
        uint64_t charge;             /* what the job counts in the memory quotas */
        char **env;                  /* the job's environment (job_args.h); borrowed strings */
};

/* May c run the job p asks for? 0 with *a filled (release it with
 * sbd_admission_clear), or <0 with err naming the first check that failed:
 *  - the fds the request refers to (InvalidArgument; Unsupported: mounts on
 *    a backend without them),
 *  - the profile's AllowedUsers= (PermissionDenied) and Require= against
 *    what this host can enforce (Unsupported),
 *  - the daemon is draining (Unavailable),
 *  - the profile exists (NotFound) and the request's overrides fit it
 *    (InvalidArgument, PermissionDenied),
 *  - the job and memory quotas, in total and for c's uid (ResourceExhausted),
 *  - the environment's entries (InvalidArgument).
 * Nothing is held on failure. Resources (a job uid, a quota charge) are
 * taken afterwards, by sbd_job_exec. */
int sbd_admit_exec(struct sbd_conn *c, const struct sbp_exec_params *p, struct sbd_admission *a,
                   struct sbp_error *err);
void sbd_admission_clear(struct sbd_admission *a);
