/* admit.c — exec admission: one function runs every check a request must
 * pass before a job is created, in a fixed order, and says yes or names the
 * first that failed (admit.h lists them with their wire errors).
 *
 * The order is part of the contract: checks that need nothing but the
 * request and the caller's identity come first (its fds, may it use the
 * profile, can this host enforce what the profile requires), then the
 * daemon's state (draining), then the merge of the request into the
 * profile, and the quotas last, since they depend on the merged memory
 * limit. The checks themselves live with what they check (fds.c: received
 * descriptors; access.c: who may use a profile; profile.c: the merge and
 * Require=; quota.c: the counters; job_args.c: the environment): this file
 * only decides that they all run, and in which order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/access.h"
#include "daemon/admit.h"
#include "daemon/conn.h"
#include "daemon/job_args.h"
#include "daemon/quota.h"
#include "daemon/settings.h"
#include "daemon/work_keep.h"

/* May c use profile p (AllowedUsers=; PermissionDenied), and can this host
 * enforce what it requires (Require=, fail closed; Unsupported naming what
 * is missing)? */
static int profile_check(struct sbd_conn *c, const struct sbd_conf_profile *p,
                         struct sbp_error *err)
{
        struct sbp_exec_params none;
        struct sbd_limits l;
        struct sbp_enforced host;
        char unmet[SBP_TEXT_MAX + 1];
        int r;

        if (!sbd_access_profile_allowed(sbd_settings_access(c->d), sbd_settings_conf(c->d), c, p))
                return sbp_error_set(err, SBP_E_PERMISSION_DENIED,
                                     "uid %u may not use profile %s", (unsigned)c->uid,
                                     p->p.name);
        /* The profile's own limits: an empty request cannot be refused. */
        memset(&none, 0, sizeof(none));
        r = sbd_profile_merge(p, &none, &l, err);
        if (r < 0)
                return r;
        memset(&host, 0, sizeof(host));
        host.uid = -1;
        host.gid = -1;
        c->d->ops->host_caps(c->d->backend, &host);
        sb_backend_guarantees(&c->d->caps, true, &host);
        if (sbd_profile_unmet(&l, &host, unmet, sizeof(unmet)))
                return sbp_error_set(err, SBP_E_UNSUPPORTED,
                                     "profile %s requires what backend %s cannot enforce "
                                     "here: %s", p->p.name, c->d->ops->name, unmet);
        return 0;
}

int sbd_admit_exec(struct sbd_conn *c, const struct sbp_exec_params *p, struct sbd_admission *a,
                   struct sbp_error *err)
{
        struct sbd_daemon *d = c->d;
        int r;

        memset(a, 0, sizeof(*a));
        /* exec is the one method that takes fds (workdir_fd, mounts). A
         * backend without fd_mounts (no mount namespace) takes a workdir only. */
        r = sbd_fds_exec_check(c, p, d->caps.fd_mounts, err);
        if (r < 0)
                return r;
        if (p->tty && !d->caps.tty)
                return sbp_error_set(err, SBP_E_UNSUPPORTED, "tty: backend %s has no terminals",
                                     d->ops->name);
        a->profile = sbd_conf_profile_find(sbd_settings_conf(d), p->profile);
        /* An unknown profile is NotFound, but only after the draining check. */
        if (a->profile && (r = profile_check(c, a->profile, err)) < 0)
                return r;
        if (d->draining)
                return sbp_error_set(err, SBP_E_UNAVAILABLE, "the daemon is shutting down");
        if (!a->profile)
                return sbp_error_set(err, SBP_E_NOT_FOUND, "unknown profile %s", p->profile);
        r = sbd_profile_merge(a->profile, p, &a->limits, err);
        if (r < 0)
                return r;
        /* The host's network is for admins: a client may have it only from
         * a profile whose AllowedUsers= names it (profile_check matched
         * it), never from one left open to every client. */
        if (a->limits.policy.network == SB_NETWORK_HOST && !c->admin &&
            a->profile->allowed_users.n == 0)
                return sbp_error_set(err, SBP_E_PERMISSION_DENIED,
                                     "network host: profile %s is open to every client "
                                     "(AllowedUsers= empty); only admins may use it",
                                     a->profile->p.name);
        /* A published port is one of the job's own loopback; with the
         * host's network there is none of its own to reach. */
        if (p->n_publish && !d->ops->connect_port)
                return sbp_error_set(err, SBP_E_UNSUPPORTED,
                                     "field publish: backend %s cannot connect to a job's port",
                                     d->ops->name);
        if (p->n_publish && a->limits.policy.network == SB_NETWORK_HOST)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field publish: a job with network host listens on the "
                                     "host's loopback; connect to it there");
        /* Jobs (also those still being cleaned up) and memory limits, in
         * total and for this uid. */
        a->charge = sbd_quota_memory_charge(d, a->limits.policy.memory_max);
        r = sbd_quota_exec_check(d, (uint32_t)c->uid, a->charge, err);
        if (r < 0)
                return r;
        /* Last: it may drop one of the owner's kept /work to make room. */
        r = sbd_work_keep_admit(c, p, err);
        if (r < 0)
                return r;
        a->env = sbd_job_env_build(p, d->caps.home,
                                   a->limits.policy.network == SB_NETWORK_ALLOWLIST, err);
        if (!a->env)
                return -EINVAL;
        return 0;
}

void sbd_admission_clear(struct sbd_admission *a)
{
        free(a->env);
        a->env = NULL;
}
