/* profile.c — merging a request into a profile: the one place a job's
 * policy (struct sb_policy) is made. It holds no state; the profile comes
 * from the configuration the caller holds.
 *
 * Invariant: a merged limit is never looser than the profile's. A profile
 * value of 0 means "no limit", so any requested value tightens it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/syscall_groups.h"
#include "daemon/profile.h"
#include "daemon/proxy/allow.h"

_Static_assert(SBD_CONF_ALLOWED_HOSTS_MAX <= SB_POLICY_ALLOW_HOSTS_MAX &&
                       SBD_CONF_ALLOWED_HOSTS_BYTES <= SB_POLICY_ALLOW_HOSTS_BYTES,
               "a profile's AllowedHosts= must fit a policy");
_Static_assert(SBD_CONF_BIND_RO_MAX <= SB_POLICY_BIND_RO_MAX &&
                       SBD_CONF_BIND_RO_BYTES <= SB_POLICY_BIND_RO_BYTES,
               "a profile's BindReadOnlyPaths= must fit a policy");
_Static_assert(SB_POLICY_ALLOW_HOSTS_MAX <= SBD_PROXY_ENTRIES_MAX,
               "a policy's allowlist must fit the proxy's ADD message");

/* A profile's groups are a set of known names (config/conf.c), so they
 * always fit a policy: none is ever dropped. */
#define COUNT_ONE(name) +1
_Static_assert(0 SB_SYSCALL_GROUP_NAMES(COUNT_ONE) <= SB_POLICY_SYSCALL_GROUPS_MAX,
               "more syscall groups than a policy holds");
#undef COUNT_ONE

/* One limit: 0 asks for the profile's value. */
static int merge_one(const char *field, uint64_t profile, uint64_t req, uint64_t *out,
                     struct sbp_error *err)
{
        if (req == 0) {
                *out = profile;
                return 0;
        }
        if (profile != 0 && req > profile) {
                sbp_error_set(err, SBP_E_PERMISSION_DENIED,
                              "%s %" PRIu64 " exceeds the profile's %" PRIu64, field, req,
                              profile);
                return -EACCES;
        }
        *out = req;
        return 0;
}

/* Modes in the order a request may narrow them: host > allowlist > none. */
static int network_rank(const char *mode, enum sb_network *out)
{
        if (strcmp(mode, "none") == 0)
                *out = SB_NETWORK_NONE;
        else if (strcmp(mode, "allowlist") == 0)
                *out = SB_NETWORK_ALLOWLIST;
        else if (strcmp(mode, "host") == 0)
                *out = SB_NETWORK_HOST;
        else
                return -EINVAL;
        return 0;
}

static bool port_covered(const struct allow_entry *p, const struct allow_entry *e)
{
        if (p->port)
                return e->port == p->port;
        return e->port == 0 || e->port == 80 || e->port == 443;
}

/* host is a strict subdomain of suffix (one label or more before it). */
static bool is_subdomain(const char *host, const char *suffix)
{
        size_t hl = strlen(host), sl = strlen(suffix);

        return hl > sl + 1 && host[hl - sl - 1] == '.' && strcmp(host + hl - sl, suffix) == 0;
}

/* Whether profile entry p allows every host:port that entry e allows. */
static bool entry_covered(const struct allow_entry *p, const struct allow_entry *e)
{
        if (!port_covered(p, e))
                return false;
        if (!p->wildcard)
                return !e->wildcard && strcmp(p->host, e->host) == 0;
        if (e->wildcard && strcmp(p->host, e->host) == 0)
                return true;
        return is_subdomain(e->host, p->host);
}

/* The request's entries, each covered by one of the profile's unless the
 * profile grants the host's network (which allows any); none given: the
 * profile's own. */
static int merge_allow_hosts(const struct sbd_conf_profile *cp, const struct sbp_exec_params *req,
                             bool any, struct sb_policy *pol, struct sbp_error *err)
{
        struct allow_entry e, p;
        size_t i, k;

        if (req->n_allow_hosts == 0) {
                for (i = 0; i < cp->allowed_hosts.n; i++)
                        if (sb_policy_allow_host_add(pol, cp->allowed_hosts.v[i]) < 0)
                                return sbp_error_set(err, SBP_E_INTERNAL,
                                                     "the profile's AllowedHosts= exceeds a "
                                                     "policy");
                return 0;
        }
        for (i = 0; i < req->n_allow_hosts; i++) {
                const char *want = req->allow_hosts[i];

                if (allow_entry_parse(want, &e) < 0)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field allow_hosts: entry %zu: not host, host:port, "
                                             "*.suffix[:port] or [v6][:port]", i);
                for (k = 0; !any && k < cp->allowed_hosts.n; k++)
                        if (allow_entry_parse(cp->allowed_hosts.v[k], &p) == 0 &&
                            entry_covered(&p, &e))
                                break;
                if (!any && k == cp->allowed_hosts.n) {
                        sbp_error_set(err, SBP_E_PERMISSION_DENIED,
                                      "allow_hosts %.*s is not within the profile's "
                                      "AllowedHosts=", 200, want);
                        return -EACCES;
                }
                if (sb_policy_allow_host_add(pol, want) < 0)
                        return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                             "field allow_hosts: more than %u bytes in all",
                                             SB_POLICY_ALLOW_HOSTS_BYTES);
        }
        return 0;
}

static int merge_network(const struct sbd_conf_profile *cp, const struct sbp_exec_params *req,
                         struct sb_policy *pol, struct sbp_error *err)
{
        enum sb_network profile, want;

        if (network_rank(cp->p.network, &profile) < 0)
                return sbp_error_set(err, SBP_E_INTERNAL, "profile network %s unknown",
                                     cp->p.network);
        want = profile;
        if (req->network[0] && network_rank(req->network, &want) < 0)
                return sbp_error_set(err, SBP_E_INVALID_ARGUMENT,
                                     "field network: not none, allowlist or host");
        if (want > profile) {
                sbp_error_set(err, SBP_E_PERMISSION_DENIED,
                              "network %s exceeds the profile's %s", req->network,
                              cp->p.network);
                return -EACCES;
        }
        pol->network = want;
        if (want != SB_NETWORK_ALLOWLIST)
                return 0;
        return merge_allow_hosts(cp, req, profile == SB_NETWORK_HOST, pol, err);
}

int sbd_profile_merge(const struct sbd_conf_profile *cp, const struct sbp_exec_params *req,
                      struct sbd_limits *out, struct sbp_error *err)
{
        const struct sbp_profile *p = &cp->p;
        struct sb_policy *pol = &out->policy;
        uint64_t cpu;
        size_t i, n = 0;
        int r;

        memset(out, 0, sizeof(*out));
        r = merge_one("memory_max", p->memory_max, req->memory_max, &pol->memory_max, err);
        if (r < 0)
                return r;
        r = merge_one("tasks_max", p->tasks_max, req->tasks_max, &pol->tasks_max, err);
        if (r < 0)
                return r;
        r = merge_one("cpu_percent", p->cpu_percent, req->cpu_percent, &cpu, err);
        if (r < 0)
                return r;
        pol->cpu_percent = (uint32_t)cpu;
        r = merge_one("timeout_ms", p->timeout_ms, req->timeout_ms, &out->timeout_ms, err);
        if (r < 0)
                return r;
        r = merge_one("output_max", p->output_max, req->output_max, &out->output_max, err);
        if (r < 0)
                return r;
        out->output_truncate = p->output_truncate;
        pol->tmp_size = p->tmp_size;
        pol->tmp_inodes_max = p->tmp_inodes_max;
        r = merge_one("work_size_max", p->work_size_max, req->work_size_max, &pol->work_size_max,
                      err);
        if (r < 0)
                return r;
        r = merge_one("work_inodes_max", p->work_inodes_max, req->work_inodes_max,
                      &pol->work_inodes_max, err);
        if (r < 0)
                return r;
        r = merge_network(cp, req, pol, err);
        if (r < 0)
                return r;
        /* The profile's alone: a request names no host path. */
        for (i = 0; i < cp->bind_ro.n; i++)
                if (sb_policy_bind_ro_add(pol, cp->bind_ro.v[i]) < 0)
                        return sbp_error_set(err, SBP_E_INTERNAL,
                                             "the profile's BindReadOnlyPaths= exceeds a policy");
        out->require = cp->require;
        for (i = 0; i < cp->syscall_filter.n && n < SB_POLICY_SYSCALL_GROUPS_MAX; i++) {
                const char *g = sbd_conf_syscall_group(cp->syscall_filter.v[i]);

                if (g)   /* always: the parser admits only known groups */
                        pol->syscall_allow[n++] = g;
        }
        pol->syscall_allow[n] = NULL;
        return 0;
}

bool sbd_profile_unmet(const struct sbd_limits *l, const struct sbp_enforced *e, char *buf,
                       size_t len)
{
        return sbd_conf_require_missing(l->require, e, l->policy.network != SB_NETWORK_HOST, buf,
                                        len) > 0;
}
