/* require.c — does an enforcement record satisfy a profile's Require=?
 *
 * The record is what a backend reports (hello's `host`, or a job's
 * `enforced`). A guarantee counts only when the record shows it, so a
 * backend that does not know about something never satisfies it: this is
 * the fail-closed half of the policy.
 */
#include <stdio.h>
#include <string.h>

#include "config/conf.h"

#define NS_ISOLATION (SBP_NS_MOUNT | SBP_NS_PID | SBP_NS_NET | SBP_NS_IPC | SBP_NS_UTS | \
                      SBP_NS_CGROUP)

static bool enforced(const char *guarantee)
{
        return strcmp(guarantee, "enforced") == 0;
}

static bool holds(unsigned bit, const struct sbp_enforced *e, bool private_network)
{
        switch (bit) {
        case SBD_REQ_BIT_NAMESPACES: {
                /* Network host is the host's network namespace by design:
                 * the profile that grants it asked for exactly that. */
                uint32_t want = private_network ? NS_ISOLATION : NS_ISOLATION & ~SBP_NS_NET;
                return (e->namespaces & want) == want;
        }
        case SBD_REQ_BIT_CGROUP:
                return strcmp(e->cgroup, "v1") == 0 || strcmp(e->cgroup, "v2") == 0;
        case SBD_REQ_BIT_SECCOMP:
                return e->seccomp;
        case SBD_REQ_BIT_LANDLOCK:
                return e->landlock > 0;
        case SBD_REQ_BIT_NO_NEW_PRIVS:
                return e->no_new_privs;
        case SBD_REQ_BIT_CAPABILITIES:
                return e->capabilities_dropped;
        case SBD_REQ_BIT_RLIMITS:
                return e->rlimits;
        case SBD_REQ_BIT_UID:
                return e->uid > 0;
        case SBD_REQ_BIT_NETWORK:
                /* Asked for a network namespace of the job's own (none,
                 * allowlist): it must be one. */
                return !private_network || strcmp(e->network, "none") == 0 ||
                       strcmp(e->network, "allowlist") == 0;
        case SBD_REQ_BIT_FILES:
                return enforced(e->guarantees.files);
        case SBD_REQ_BIT_MEMORY:
                return enforced(e->guarantees.memory);
        case SBD_REQ_BIT_KILL_TREE:
                return enforced(e->guarantees.kill_tree);
        }
        return false;
}

unsigned sbd_conf_require_missing(uint32_t required, const struct sbp_enforced *e,
                                  bool private_network, char *buf, size_t len)
{
        unsigned i, missing = 0;
        size_t used = 0;

        if (buf && len)
                buf[0] = '\0';
        for (i = 0; i < SBD_REQ__COUNT; i++) {
                if (!(required & (1u << i)) || holds(i, e, private_network))
                        continue;
                if (buf && used < len) {
                        int n = snprintf(buf + used, len - used, "%s%s", missing ? " " : "",
                                         sbd_conf_require_name(i));

                        if (n > 0)
                                used += (size_t)n;
                }
                missing++;
        }
        return missing;
}
