/* job_egress.c — an allowlist job and the egress proxy (egress.h): handing
 * the proxy the job's listener and allowlist, and keeping what it refused
 * for the job's result (`denied`, bounded: SBP_DENIED_MAX host:port pairs,
 * each with the proxy's running count; a pair past the bound is dropped,
 * the ones kept still count).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/egress.h"
#include "daemon/job.h"
#include "daemon/log.h"

int sbd_job_egress_start(struct sbd_job *j, int listen_fd)
{
        const struct sb_policy *pol = &j->limits.policy;
        const char *v[SB_POLICY_ALLOW_HOSTS_MAX];
        size_t n = 0;

        if (!j->d->egress)
                return -ENOENT;   /* no skillbox-proxy was found at start */
        for (const char *h = sb_policy_allow_host_next(pol, NULL);
             h && n < SB_POLICY_ALLOW_HOSTS_MAX; h = sb_policy_allow_host_next(pol, h))
                v[n++] = h;
        return sbd_egress_add(j->d->egress, j->id, v, n, listen_fd);
}

void sbd_job_egress_end(struct sbd_job *j)
{
        if (j->d->egress && j->limits.policy.network == SB_NETWORK_ALLOWLIST)
                sbd_egress_remove(j->d->egress, j->id);
}

void sbd_job_egress_denied(void *daemon, const char *job_id, const char *host, uint16_t port,
                           uint32_t count)
{
        struct sbd_job *j = sbd_job_find(daemon, job_id);
        struct sbp_job_result *r;
        char what[SBP_DENIED_WHAT_MAX + 1];
        uint32_t i;

        if (!j || j->finished)
                return;
        r = &j->result;
        /* An IPv6 literal in brackets, so the port stays apart. */
        snprintf(what, sizeof(what), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
        for (i = 0; i < r->n_denied; i++)
                if (strcmp(r->denied[i].kind, "network") == 0 &&
                    strcmp(r->denied[i].what, what) == 0)
                        break;
        if (i == r->n_denied) {
                if (r->n_denied == SBP_DENIED_MAX)
                        return;
                r->n_denied++;
                snprintf(r->denied[i].kind, sizeof(r->denied[i].kind), "network");
                memcpy(r->denied[i].what, what, sizeof(what));
        }
        /* The proxy's count is a running total; a report lost to a full
         * socket is made good by the next one, never counted twice. */
        if (count > r->denied[i].count)
                r->denied[i].count = count;
        log_debug("job %s: network %s denied (%u)", j->id, what, count);
}
