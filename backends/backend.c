/* backend.c — the table of backends built into this binary, and the
 * helpers every backend and the daemon share over the contract's types.
 *
 * Lookup is by exact name; an unknown or NULL name gives NULL, never a
 * fallback: a mistyped --backend is an error, not some other backend.
 */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "backends/backend.h"

static const struct sb_backend_ops *const backends[] = {
#if HAVE_BACKEND_LINUX
        &sb_backend_linux_ops,
#endif
#if HAVE_BACKEND_MACOS
        &sb_backend_macos_ops,
#endif
#if HAVE_BACKEND_WINDOWS
        &sb_backend_windows_ops,
#else
        &sb_backend_posix_ops,
#endif
};

const struct sb_backend_ops *sb_backend_find(const char *name)
{
        if (!name)
                return NULL;
        for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
                if (strcmp(backends[i]->name, name) == 0)
                        return backends[i];
        return NULL;
}

/* Bytes a packed list (entries back to back, each NUL-terminated) of n
 * entries holds now. */
static size_t packed_used(const char *buf, uint32_t n)
{
        size_t used = 0;

        for (uint32_t i = 0; i < n; i++)
                used += strlen(buf + used) + 1;
        return used;
}

static int packed_add(char *buf, size_t size, uint32_t *n, uint32_t max, const char *entry)
{
        size_t used = packed_used(buf, *n), len = strlen(entry);

        if (*n >= max || len + 1 > size - used)
                return -E2BIG;
        memcpy(buf + used, entry, len + 1);
        (*n)++;
        return 0;
}

static const char *packed_next(const char *buf, uint32_t n, const char *prev)
{
        const char *next;

        if (n == 0)
                return NULL;
        if (!prev)
                return buf;
        next = prev + strlen(prev) + 1;
        return next < buf + packed_used(buf, n) ? next : NULL;
}

/* Two packed lists of n entries each: the same entries in the same order
 * are the same bytes up to the last NUL, and nothing past it counts. */
static bool packed_equal(const char *a, const char *b, uint32_t n)
{
        size_t len = packed_used(a, n);

        return len == packed_used(b, n) && memcmp(a, b, len) == 0;
}

/* Field by field, never memcmp: padding and the group pointers (two
 * spellings of one name would still be one group) are not the policy. */
bool sb_policy_equal(const struct sb_policy *a, const struct sb_policy *b)
{
        if (a->memory_max != b->memory_max || a->tasks_max != b->tasks_max ||
            a->cpu_percent != b->cpu_percent || a->network != b->network ||
            a->tmp_size != b->tmp_size || a->tmp_inodes_max != b->tmp_inodes_max ||
            a->work_size_max != b->work_size_max || a->work_inodes_max != b->work_inodes_max ||
            a->n_allow_hosts != b->n_allow_hosts || a->n_bind_ro != b->n_bind_ro)
                return false;
        if (!packed_equal(a->bind_ro, b->bind_ro, a->n_bind_ro) ||
            !packed_equal(a->allow_hosts, b->allow_hosts, a->n_allow_hosts))
                return false;
        for (size_t i = 0; i <= SB_POLICY_SYSCALL_GROUPS_MAX; i++) {
                const char *x = a->syscall_allow[i], *y = b->syscall_allow[i];

                if (!x || !y)
                        return !x && !y;
                if (strcmp(x, y) != 0)
                        return false;
        }
        return true;   /* not reached: the last entry is the terminator */
}

int sb_policy_allow_host_add(struct sb_policy *p, const char *entry)
{
        return packed_add(p->allow_hosts, sizeof(p->allow_hosts), &p->n_allow_hosts,
                          SB_POLICY_ALLOW_HOSTS_MAX, entry);
}

const char *sb_policy_allow_host_next(const struct sb_policy *p, const char *prev)
{
        return packed_next(p->allow_hosts, p->n_allow_hosts, prev);
}

int sb_policy_bind_ro_add(struct sb_policy *p, const char *entry)
{
        return packed_add(p->bind_ro, sizeof(p->bind_ro), &p->n_bind_ro, SB_POLICY_BIND_RO_MAX,
                          entry);
}

const char *sb_policy_bind_ro_next(const struct sb_policy *p, const char *prev)
{
        return packed_next(p->bind_ro, p->n_bind_ro, prev);
}

void sb_job_spec_init(struct sb_job_spec *spec, const char *job_id, uint32_t uid,
                      const struct sb_policy *policy)
{
        memset(spec, 0, sizeof(*spec));
        spec->job_id = job_id;
        spec->uid = uid;
        spec->gid = uid;
        spec->policy = *policy;
        spec->stdin_fd = SB_HANDLE_NONE;
        spec->stdout_fd = SB_HANDLE_NONE;
        spec->stderr_fd = SB_HANDLE_NONE;
        spec->workdir_fd = SB_HANDLE_NONE;
}
