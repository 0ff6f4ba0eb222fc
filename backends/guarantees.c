/* guarantees.c — an `enforced` record's guarantees (protocol/sbp.h,
 * struct sbp_guarantees): what a job (or, in hello, this host) gets, each
 * enforced, monitored or absent, read off the record's mechanisms and the
 * backend's caps. One rule per guarantee for every backend, so a new
 * backend gets honest answers by filling the record, never by a table of
 * its own. A guarantee counts only when the record shows its mechanism. */
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"

static const char *const level_name[] = {
        [SB_BACKEND_LIMIT_ABSENT] = "absent",
        [SB_BACKEND_LIMIT_MONITORED] = "monitored",
        [SB_BACKEND_LIMIT_ENFORCED] = "enforced",
};

static void set(char *field, enum sb_backend_limit l)
{
        snprintf(field, SBP_GUARANTEE_TEXT, "%s", level_name[l]);
}

static enum sb_backend_limit when(bool b)
{
        return b ? SB_BACKEND_LIMIT_ENFORCED : SB_BACKEND_LIMIT_ABSENT;
}

/* A limit: what the backend does with it, but a record that shows it was
 * not applied (a job without its own uid has no RLIMIT_NPROC of its own)
 * says absent. host records (hello) carry no limits: the caps decide. */
static enum sb_backend_limit limit(enum sb_backend_limit cap, bool host, uint64_t applied)
{
        if (cap == SB_BACKEND_LIMIT_ENFORCED && !host && applied == 0)
                return SB_BACKEND_LIMIT_ABSENT;
        return cap;
}

void sb_backend_guarantees(const struct sb_backend_caps *caps, bool host, struct sbp_enforced *e)
{
        struct sbp_guarantees *g = &e->guarantees;
        bool cgroup = strcmp(e->cgroup, "v1") == 0 || strcmp(e->cgroup, "v2") == 0;
        bool own_uid = e->uid > 0;

        set(g->files, when((e->namespaces & SBP_NS_MOUNT) || caps->profile_confined ||
                           strcmp(e->token, "appcontainer") == 0));
        set(g->network, when(strcmp(e->network, "none") == 0 ||
                             strcmp(e->network, "allowlist") == 0));
        set(g->memory, limit(caps->memory, host, e->memory_max));
        set(g->tasks, own_uid || cgroup ? limit(caps->tasks, host, e->tasks_max)
                                        : SB_BACKEND_LIMIT_ABSENT);
        set(g->cpu, limit(caps->cpu, host, e->cpu_percent));
        set(g->identity, when(own_uid));
        set(g->syscalls, when(e->seccomp));
        set(g->privileges, when(e->no_new_privs));
        set(g->kill_tree, when(cgroup || (caps->kill_by_uid && own_uid)));
}
