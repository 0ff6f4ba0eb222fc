/* cgroup_v1.c — one hierarchy per controller: for C in memory, pids, cpu,
 * cpuacct, freezer the job cgroup is <root>/C/<own path for C>/<name>/<job>.
 * Co-mounted controllers (cpu,cpuacct behind two symlinks) share one
 * directory, recognised by device and inode, and are handled once.
 *
 * memory, pids, cpu and cpuacct are required; freezer is optional (without
 * it, kill loops over cgroup.procs instead of freezing first).
 * Limits: memory.limit_in_bytes and memory.memsw.limit_in_bytes at the same
 * value (no swap) when memsw exists, pids.max, cpu.cfs_period_us/quota_us.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/cgroup/cgroup.h"

static const char *const ctrl_names[5] = { "memory", "pids", "cpu", "cpuacct", "freezer" };

static int base_of(const struct sb_cgroup *cg, unsigned ctrl_bit)
{
        return cg->ctrl_base[__builtin_ctz(ctrl_bit)];
}

static int v1_open(struct sb_cgroup *cg, const char *root, const char *own_path,
                   char *errbuf, size_t errlen)
{
        struct stat hst[SB_CGROUP_BASES_MAX];

        for (int c = 0; c < 5; c++) {
                char hier[PATH_MAX], own[PATH_MAX];
                struct stat st;
                int r, b;

                r = snprintf(hier, sizeof(hier), "%s/%s", root, ctrl_names[c]);
                if (r < 0 || (size_t)r >= sizeof(hier))
                        return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "cgroup path");
                if (stat(hier, &st) < 0)
                        r = -errno;
                else
                        r = S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
                if (r < 0) {
                        if (c == 4)     /* freezer is optional */
                                continue;
                        return sb_backend_fail(errbuf, errlen, r, "cgroup v1 %s", hier);
                }
                for (b = 0; b < cg->nbase; b++)
                        if (hst[b].st_dev == st.st_dev && hst[b].st_ino == st.st_ino)
                                break;
                if (b < cg->nbase) {
                        cg->base[b].ctrls |= 1u << c;
                        cg->ctrl_base[c] = b;
                        continue;
                }
                if (own_path)
                        r = snprintf(own, sizeof(own), "%s", own_path) < (int)sizeof(own) ? 0 : -ENAMETOOLONG;
                else
                        r = sb_cg_own_path(ctrl_names[c], own, sizeof(own));
                if (r < 0) {
                        if (c == 4)
                                continue;
                        return sb_backend_fail(errbuf, errlen, r, "own cgroup path for %s", ctrl_names[c]);
                }
                b = cg->nbase;
                r = snprintf(cg->base[b].path, sizeof(cg->base[b].path), "%s%s/%s", hier,
                             strcmp(own, "/") ? own : "", cg->name);
                if (r < 0 || (size_t)r >= sizeof(cg->base[b].path))
                        return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "cgroup path");
                r = sb_cg_mkdir_p(cg->base[b].path);
                if (r < 0)
                        return sb_backend_fail(errbuf, errlen, r, "mkdir %s", cg->base[b].path);
                cg->base[b].fd = open(cg->base[b].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cg->base[b].fd < 0)
                        return sb_backend_fail(errbuf, errlen, -errno, "open %s", cg->base[b].path);
                cg->base[b].ctrls = 1u << c;
                hst[b] = st;
                cg->ctrl_base[c] = b;
                cg->nbase++;
        }
        return 0;
}

static int v1_job_create(struct sb_cgroup *cg, const char *id, const struct sb_policy *lim,
                         struct sb_cgroup_job *job, char *errbuf, size_t errlen)
{
        char v[64];
        int r, fd;

        memset(job, 0, sizeof(*job));
        job->cg = cg;
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                job->fd[i] = -1;
        snprintf(job->id, sizeof(job->id), "%s", id);
        for (int b = 0; b < cg->nbase; b++) {
                if (mkdirat(cg->base[b].fd, id, 0755) < 0)
                        return sb_backend_fail(errbuf, errlen, -errno, "mkdir %s/%s",
                                               cg->base[b].path, id);
                job->fd[b] = openat(cg->base[b].fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (job->fd[b] < 0) {
                        r = -errno;
                        (void)unlinkat(cg->base[b].fd, id, AT_REMOVEDIR);
                        return sb_backend_fail(errbuf, errlen, r, "open %s/%s", cg->base[b].path, id);
                }
        }

#define W(ctrl, file, text) do { \
                int b_ = base_of(cg, ctrl); \
                r = sb_cg_write(cg, job->fd[b_], file, text); \
                if (r < 0) \
                        return sb_backend_fail(errbuf, errlen, r, "write %s/%s/%s", \
                                               cg->base[b_].path, id, file); \
        } while (0)
        fd = job->fd[base_of(cg, SB_CG_MEMORY)];
        if (lim->memory_max) {
                snprintf(v, sizeof(v), "%llu", (unsigned long long)lim->memory_max);
                /* limit first: memsw must never be below it. */
                W(SB_CG_MEMORY, "memory.limit_in_bytes", v);
                /* memsw == limit: no swap. Absent without swap accounting,
                 * and then nothing of this cgroup is swapped either. */
                r = sb_cg_write(cg, fd, "memory.memsw.limit_in_bytes", v);
                if (r < 0 && r != -ENOENT)
                        return sb_backend_fail(errbuf, errlen, r, "write %s/%s/memory.memsw.limit_in_bytes",
                                               cg->base[base_of(cg, SB_CG_MEMORY)].path, id);
        }
        if (lim->tasks_max) {
                snprintf(v, sizeof(v), "%llu", (unsigned long long)lim->tasks_max);
                W(SB_CG_PIDS, "pids.max", v);
        } else {
                W(SB_CG_PIDS, "pids.max", "max");
        }
        snprintf(v, sizeof(v), "%u", SB_CGROUP_CPU_PERIOD_US);
        W(SB_CG_CPU, "cpu.cfs_period_us", v);
        if (lim->cpu_percent) {
                snprintf(v, sizeof(v), "%llu",
                         (unsigned long long)lim->cpu_percent * SB_CGROUP_CPU_PERIOD_US / 100);
                W(SB_CG_CPU, "cpu.cfs_quota_us", v);
        } else {
                W(SB_CG_CPU, "cpu.cfs_quota_us", "-1");
        }
#undef W
        return 0;
}

static int v1_job_attach(struct sb_cgroup_job *job, pid_t pid)
{
        char v[24];
        int r;

        snprintf(v, sizeof(v), "%d", (int)pid);
        for (int b = 0; b < job->cg->nbase; b++) {
                r = sb_cg_write(job->cg, job->fd[b], "cgroup.procs", v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v1_job_kill(struct sb_cgroup_job *job)
{
        struct sb_cgroup *cg = job->cg;
        int fb = cg->ctrl_base[4];
        int r;

        if (fb < 0 || job->fd[fb] < 0) {
                /* No freezer: kill what pids lists (every process of the job). */
                int pb = base_of(cg, SB_CG_PIDS);
                r = sb_cg_kill_procs(job->fd[pb]);
                return r < 0 ? r : 0;
        }
        /* Frozen tasks cannot fork or exit, so the pid list we read is
         * complete and no pid in it can be recycled before the kill. */
        r = sb_cg_write(cg, job->fd[fb], "freezer.state", "FROZEN");
        if (r < 0)
                return r;
        for (int i = 0; i < 100; i++) {
                char st[32];
                if (sb_cg_read(job->fd[fb], "freezer.state", st, sizeof(st)) < 0 ||
                    !strncmp(st, "FROZEN", 6) || cg->fake)
                        break;
                struct timespec ts = { 0, 1000000L };
                nanosleep(&ts, NULL);
        }
        r = sb_cg_kill_procs(job->fd[fb]);
        int t = sb_cg_write(cg, job->fd[fb], "freezer.state", "THAWED");
        if (r < 0)
                return r;
        return t;
}

static int v1_job_stats(struct sb_cgroup_job *job, struct sb_cgroup_stats *out)
{
        struct sb_cgroup *cg = job->cg;
        int afd = job->fd[base_of(cg, SB_CG_CPUACCT)];
        int mfd = job->fd[base_of(cg, SB_CG_MEMORY)];
        int pfd = job->fd[base_of(cg, SB_CG_PIDS)];
        uint64_t u, s;
        int r;

        memset(out, 0, sizeof(*out));
        out->tasks_peak = -1;
        if (sb_cg_read_u64(afd, "cpuacct.usage_user", &u) == 0 &&
            sb_cg_read_u64(afd, "cpuacct.usage_sys", &s) == 0) {
                out->cpu_user_us = u / 1000;
                out->cpu_sys_us = s / 1000;
        } else {
                /* Older kernels: clock ticks in cpuacct.stat. */
                long hz = sysconf(_SC_CLK_TCK);
                if (hz <= 0)
                        hz = 100;
                r = sb_cg_read_key(afd, "cpuacct.stat", "user", &u);
                if (r < 0)
                        return r;
                r = sb_cg_read_key(afd, "cpuacct.stat", "system", &s);
                if (r < 0)
                        return r;
                out->cpu_user_us = u * 1000000 / (uint64_t)hz;
                out->cpu_sys_us = s * 1000000 / (uint64_t)hz;
        }
        r = sb_cg_read_u64(mfd, "memory.max_usage_in_bytes", &out->memory_peak);
        if (r < 0)
                return r;
        r = sb_cg_read_key(mfd, "memory.oom_control", "oom_kill", &out->oom_kills);
        if (r < 0 && r != -ENOENT)
                return r;
        if (sb_cg_read_u64(pfd, "pids.peak", &u) == 0)
                out->tasks_peak = (int64_t)u;
        return 0;
}

const struct sb_cgroup_ops sb_cgroup_v1_ops = {
        .name = "v1",
        .open = v1_open,
        .job_create = v1_job_create,
        .job_attach = v1_job_attach,
        .job_kill = v1_job_kill,
        .job_stats = v1_job_stats,
};
