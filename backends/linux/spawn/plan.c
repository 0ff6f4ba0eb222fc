/* plan.c — build a spawn plan (daemon) and check one (spawner), plan.h.
 *
 * The check runs in the spawner before its clone reads the plan: it
 * allocates nothing and believes no offset or count it has not bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/linux/spawn/plan.h"

int sb_plan_begin(struct sb_plan_builder *b, size_t blob_cap)
{
        b->err = 0;
        b->cap = blob_cap;
        b->p = calloc(1, sizeof(*b->p) + blob_cap);
        if (!b->p)
                return b->err = -ENOMEM;
        b->p->version = SB_SPAWN_PLAN_VERSION;
        memset(b->p->fd_index, -1, sizeof(b->p->fd_index));
        return 0;
}

uint32_t sb_plan_add(struct sb_plan_builder *b, const void *data, size_t len, size_t align)
{
        size_t off;

        if (!b->p || b->err)
                return 0;
        off = (b->p->blob_len + align - 1) & ~(align - 1);
        if (off > b->cap || len > b->cap - off) {
                b->err = -E2BIG;
                return 0;
        }
        memset((char *)(b->p + 1) + b->p->blob_len, 0, off - b->p->blob_len);
        if (len && data)
                memcpy((char *)(b->p + 1) + off, data, len);
        else if (len)
                memset((char *)(b->p + 1) + off, 0, len);
        b->p->blob_len = (uint32_t)(off + len);
        return (uint32_t)off;
}

struct sb_plan_str sb_plan_add_str(struct sb_plan_builder *b, const char *s)
{
        struct sb_plan_str r;

        if (!s)
                s = "";
        r.len = (uint32_t)strlen(s);
        r.off = sb_plan_add(b, s, (size_t)r.len + 1, 1);
        return r;
}

int sb_plan_finish(struct sb_plan_builder *b)
{
        if (b->err)
                return b->err;
        b->p->size = (uint32_t)(sizeof(*b->p) + b->p->blob_len);
        return 0;
}

/* ---- spawner side ---- */

static bool str_ok(const struct sb_spawn_plan *p, struct sb_plan_str s)
{
        return s.off < p->blob_len && s.len < p->blob_len - s.off &&
               sb_plan_blob(p)[s.off + s.len] == '\0' &&
               memchr(sb_plan_blob(p) + s.off, '\0', s.len) == NULL;
}

static bool host_ok(const struct sb_spawn_plan *p, const struct sb_plan_host *h)
{
        if (h->kind > SB_PLAN_HOST_FILE)
                return false;
        if (h->kind == SB_PLAN_HOST_ABSENT)
                return true;
        /* A name relative to the new root, never out of it. */
        if (!str_ok(p, h->name) || h->name.len == 0 || sb_plan_s(p, h->name)[0] == '/' ||
            strstr(sb_plan_s(p, h->name), ".."))
                return false;
        return h->kind != SB_PLAN_HOST_SYMLINK || str_ok(p, h->target);
}

/* An absolute path of at most SB_PLAN_BIND_PATH_MAX bytes, never out of
 * the root by "..". */
static bool bind_path_ok(const struct sb_spawn_plan *p, struct sb_plan_str s)
{
        return str_ok(p, s) && s.len > 0 && s.len <= SB_PLAN_BIND_PATH_MAX &&
               sb_plan_s(p, s)[0] == '/' && !strstr(sb_plan_s(p, s), "..");
}

/* argc + envc strings, each ending inside [strv_off, strv_off + strv_len). */
static bool strv_ok(const struct sb_spawn_plan *p)
{
        const char *s, *end;

        if (p->strv_off > p->blob_len || p->strv_len > p->blob_len - p->strv_off)
                return false;
        s = sb_plan_blob(p) + p->strv_off;
        end = s + p->strv_len;
        for (uint32_t i = 0; i < p->argc + p->envc; i++) {
                const char *nul = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;

                if (!nul)
                        return false;
                s = nul + 1;
        }
        return true;
}

/* A directory name under /sys/fs/cgroup, made in the job's root: one
 * component; "" (the whole of /sys/fs/cgroup) only for a single hierarchy. */
static bool cg_name_ok(const struct sb_spawn_plan *p, struct sb_plan_str s, uint32_t ncg)
{
        const char *n;

        if (!str_ok(p, s) || s.len > SB_PLAN_CG_NAME_MAX)
                return false;
        n = sb_plan_s(p, s);
        if (s.len == 0)
                return ncg == 1;
        return !strchr(n, '/') && strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

int sb_spawn_plan_check(const struct sb_spawn_plan *p, size_t len, int nfds)
{
        static const int required[] = { SB_PLAN_FD_SYNC_R, SB_PLAN_FD_ERR_W, SB_PLAN_FD_STDIN,
                                        SB_PLAN_FD_STDOUT, SB_PLAN_FD_STDERR };

        if (len < sizeof(p->version))
                return -EPROTO;
        if (p->version != SB_SPAWN_PLAN_VERSION)
                return -EPROTONOSUPPORT;
        if (len < sizeof(*p) || p->size != len || p->blob_len != len - sizeof(*p) ||
            p->blob_len > SB_PLAN_BLOB_MAX || (p->flags & ~SB_PLAN_FLAGS_ALL))
                return -EPROTO;
        for (int i = 0; i < SB_PLAN_FDS; i++)
                if (p->fd_index[i] < -1 || p->fd_index[i] >= nfds)
                        return -EPROTO;
        for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
                if (p->fd_index[required[i]] < 0)
                        return -EPROTO;
        if (p->ncg > SB_PLAN_CG_MAX)
                return -EPROTO;
        for (uint32_t i = 0; i < p->ncg; i++)
                if (p->fd_index[SB_PLAN_FD_CG + i] < 0 || !cg_name_ok(p, p->cg_name[i], p->ncg) ||
                    !str_ok(p, p->cg_src[i]) || sb_plan_s(p, p->cg_src[i])[0] != '/')
                        return -EPROTO;
        if (!str_ok(p, p->root_mnt) || p->root_mnt.len == 0 || !str_ok(p, p->passwd) ||
            !str_ok(p, p->group) || !str_ok(p, p->tmp_opts) || !str_ok(p, p->shm_opts) ||
            !str_ok(p, p->work_opts) || !str_ok(p, p->cwd) || p->cwd.len == 0 ||
            sb_plan_s(p, p->cwd)[0] != '/')
                return -EPROTO;
        for (int i = 0; i < SB_PLAN_TOP_MAX; i++)
                if (!host_ok(p, &p->top[i]))
                        return -EPROTO;
        for (int i = 0; i < SB_PLAN_ETC_MAX; i++)
                if (!host_ok(p, &p->etc[i]))
                        return -EPROTO;
        if (p->nbinds > SBP_MOUNTS_MAX)
                return -EPROTO;
        for (uint32_t i = 0; i < p->nbinds; i++) {
                const struct sb_plan_bind *bd = &p->binds[i];

                if (!str_ok(p, bd->target) || bd->target.len > SBP_TARGET_MAX ||
                    sb_plan_s(p, bd->target)[0] != '/' || bd->read_only > 1 || bd->is_file > 1 ||
                    p->fd_index[SB_PLAN_FD_TREES + i] < 0)
                        return -EPROTO;
        }
        if (p->nbind_ro > SB_PLAN_BIND_RO_MAX)
                return -EPROTO;
        for (uint32_t i = 0; i < p->nbind_ro; i++) {
                const struct sb_plan_bind_ro *br = &p->bind_ro[i];

                if (!bind_path_ok(p, br->src) || !bind_path_ok(p, br->dst) || br->dst.len < 2 ||
                    br->optional > 1)
                        return -EPROTO;
        }
        /* A job has a program; a prepared sandbox gets its with the start. */
        bool prepared = p->flags & SB_PLAN_PREPARED;
        /* A terminal comes with its devpts, and only to a job whose stdio
         * is known now. */
        bool tty = p->flags & SB_PLAN_TTY;
        if (tty != (p->fd_index[SB_PLAN_FD_PTS_TREE] >= 0) || (tty && prepared))
                return -EPROTO;
        if (p->argc > SB_PLAN_ARGS_MAX || p->envc > SB_PLAN_ARGS_MAX - p->argc ||
            (p->argc == 0) != prepared || !strv_ok(p) ||
            ((p->flags & SB_PLAN_SANDBOX) && !prepared))
                return -EPROTO;
        if (p->allow_len == 0 || p->allow_len > SB_PLAN_BPF_MAX || p->deny_len > SB_PLAN_BPF_MAX ||
            (p->bpf_off & 7u) || p->bpf_off > p->blob_len ||
            (size_t)(p->allow_len + p->deny_len) * sizeof(struct sock_filter) >
                    p->blob_len - p->bpf_off)
                return -EPROTO;
        return 0;
}
