/* cgroup_v2.c — the unified hierarchy: <root>/<own>/<name>/<job>.
 *
 * The subtree gets +memory +pids +cpu in subtree_control at its own level
 * and at <own>; when <own> itself holds processes (the daemon, without a
 * systemd Delegate= leaf) the no-internal-process rule makes that EBUSY,
 * so the daemon moves itself into a leaf <own>/<name>.daemon first.
 * Job limits: memory.max, memory.swap.max 0, memory.oom.group 1 (an OOM
 * kills the whole job, not one random task), pids.max, cpu.max.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/cgroup/cgroup.h"

static const char controllers[] = "+memory +pids +cpu";

static int enable_controllers(struct sb_cgroup *cg, int dfd)
{
        return sb_cg_write(cg, dfd, "cgroup.subtree_control", controllers);
}

static int v2_open(struct sb_cgroup *cg, const char *root, const char *own_path,
                   char *errbuf, size_t errlen)
{
        char own[PATH_MAX], ownp[PATH_MAX], ctl[256];
        int ofd = -1, r;

        if (own_path)
                r = snprintf(own, sizeof(own), "%s", own_path) < (int)sizeof(own) ? 0 : -ENAMETOOLONG;
        else
                r = sb_cg_own_path(NULL, own, sizeof(own));
        if (r < 0)
                return sb_backend_fail(errbuf, errlen, r, "own cgroup v2 path");
        r = snprintf(ownp, sizeof(ownp), "%s%s", root, strcmp(own, "/") ? own : "");
        if (r < 0 || (size_t)r >= sizeof(ownp))
                return sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "cgroup path");
        ofd = open(ownp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ofd < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "open %s", ownp);
        r = (int)sb_cg_read(ofd, "cgroup.controllers", ctl, sizeof(ctl));
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "read %s/cgroup.controllers", ownp);
                goto out;
        }
        if (!strstr(ctl, "memory") || !strstr(ctl, "pids") || !strstr(ctl, "cpu")) {
                r = sb_backend_fail(errbuf, errlen, -EOPNOTSUPP,
                                    "%s/cgroup.controllers lacks memory, pids or cpu", ownp);
                goto out;
        }
        r = enable_controllers(cg, ofd);
        if (r == -EBUSY && !cg->fake) {
                /* Processes in <own>: move the daemon into a leaf. */
                char leaf[80], pid[24];
                int lfd;

                snprintf(leaf, sizeof(leaf), "%s.daemon", cg->name);
                if (mkdirat(ofd, leaf, 0755) < 0 && errno != EEXIST) {
                        r = sb_backend_fail(errbuf, errlen, -errno, "mkdir %s/%s", ownp, leaf);
                        goto out;
                }
                lfd = openat(ofd, leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (lfd < 0) {
                        r = sb_backend_fail(errbuf, errlen, -errno, "open %s/%s", ownp, leaf);
                        goto out;
                }
                snprintf(pid, sizeof(pid), "%d", (int)getpid());
                r = sb_cg_write(cg, lfd, "cgroup.procs", pid);
                close(lfd);
                if (r < 0) {
                        r = sb_backend_fail(errbuf, errlen, r, "move daemon into %s/%s", ownp, leaf);
                        goto out;
                }
                r = enable_controllers(cg, ofd);
                if (r == -EBUSY) {
                        /* Others still share <own>: not ours to rearrange. */
                        r = sb_backend_fail(errbuf, errlen, r,
                                            "write %s/cgroup.subtree_control: other processes "
                                            "share this cgroup; start skillboxd under systemd "
                                            "or in a cgroup of its own", ownp);
                        goto out;
                }
        }
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "write %s/cgroup.subtree_control", ownp);
                goto out;
        }
        r = snprintf(cg->base[0].path, sizeof(cg->base[0].path), "%s/%s", ownp, cg->name);
        if (r < 0 || (size_t)r >= sizeof(cg->base[0].path)) {
                r = sb_backend_fail(errbuf, errlen, -ENAMETOOLONG, "cgroup path");
                goto out;
        }
        if (mkdirat(ofd, cg->name, 0755) < 0 && errno != EEXIST) {
                r = sb_backend_fail(errbuf, errlen, -errno, "mkdir %s", cg->base[0].path);
                goto out;
        }
        cg->base[0].fd = openat(ofd, cg->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cg->base[0].fd < 0) {
                r = sb_backend_fail(errbuf, errlen, -errno, "open %s", cg->base[0].path);
                goto out;
        }
        cg->base[0].ctrls = SB_CG_MEMORY | SB_CG_PIDS | SB_CG_CPU | SB_CG_CPUACCT;
        cg->nbase = 1;
        r = enable_controllers(cg, cg->base[0].fd);
        if (r < 0) {
                r = sb_backend_fail(errbuf, errlen, r, "write %s/cgroup.subtree_control",
                                    cg->base[0].path);
                goto out;
        }
        /* CLONE_INTO_CGROUP exists since 5.7; spawn falls back to writing
         * cgroup.procs if clone3 refuses it. The fake tree cannot do it. */
        cg->clone_into = !cg->fake;
        r = 0;
out:
        close(ofd);
        return r;
}

static int v2_job_create(struct sb_cgroup *cg, const char *id, const struct sb_policy *lim,
                         struct sb_cgroup_job *job, char *errbuf, size_t errlen)
{
        const char *base = cg->base[0].path;
        char v[64];
        int fd, r;

        memset(job, 0, sizeof(*job));
        job->cg = cg;
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                job->fd[i] = -1;
        snprintf(job->id, sizeof(job->id), "%s", id);
        if (mkdirat(cg->base[0].fd, id, 0755) < 0)
                return sb_backend_fail(errbuf, errlen, -errno, "mkdir %s/%s", base, id);
        fd = openat(cg->base[0].fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                (void)unlinkat(cg->base[0].fd, id, AT_REMOVEDIR);
                return sb_backend_fail(errbuf, errlen, r, "open %s/%s", cg->base[0].path, job->id);
        }
        job->fd[0] = fd;

#define W(file, text) do { \
                r = sb_cg_write(cg, fd, file, text); \
                if (r < 0) \
                        return sb_backend_fail(errbuf, errlen, r, "write %s/%s/%s", base, id, file); \
        } while (0)
        if (lim->memory_max) {
                snprintf(v, sizeof(v), "%llu", (unsigned long long)lim->memory_max);
                W("memory.max", v);
        } else {
                W("memory.max", "max");
        }
        /* No swap: absent when the kernel has no swap accounting, which
         * also means it cannot swap this cgroup's memory out. */
        r = sb_cg_write(cg, fd, "memory.swap.max", "0");
        if (r < 0 && r != -ENOENT)
                return sb_backend_fail(errbuf, errlen, r, "write %s/%s/memory.swap.max", base, id);
        W("memory.oom.group", "1");
        if (lim->tasks_max) {
                snprintf(v, sizeof(v), "%llu", (unsigned long long)lim->tasks_max);
                W("pids.max", v);
        } else {
                W("pids.max", "max");
        }
        if (lim->cpu_percent) {
                snprintf(v, sizeof(v), "%llu %u",
                         (unsigned long long)lim->cpu_percent * SB_CGROUP_CPU_PERIOD_US / 100,
                         SB_CGROUP_CPU_PERIOD_US);
                W("cpu.max", v);
        } else {
                W("cpu.max", "max");
        }
#undef W
        return 0;
}

static int v2_job_attach(struct sb_cgroup_job *job, pid_t pid)
{
        char v[24];

        snprintf(v, sizeof(v), "%d", (int)pid);
        return sb_cg_write(job->cg, job->fd[0], "cgroup.procs", v);
}

static int v2_job_kill(struct sb_cgroup_job *job)
{
        int r = sb_cg_write(job->cg, job->fd[0], "cgroup.kill", "1");

        if (r != -ENOENT)
                return r;
        /* Before 5.14: freeze, kill what is listed, thaw. */
        r = sb_cg_write(job->cg, job->fd[0], "cgroup.freeze", "1");
        if (r < 0 && r != -ENOENT)
                return r;
        r = sb_cg_kill_procs(job->fd[0]);
        (void)sb_cg_write(job->cg, job->fd[0], "cgroup.freeze", "0");
        return r < 0 ? r : 0;
}

static int v2_job_stats(struct sb_cgroup_job *job, struct sb_cgroup_stats *out)
{
        int fd = job->fd[0], r;
        uint64_t v;

        memset(out, 0, sizeof(*out));
        out->tasks_peak = -1;
        r = sb_cg_read_key(fd, "cpu.stat", "user_usec", &out->cpu_user_us);
        if (r < 0)
                return r;
        r = sb_cg_read_key(fd, "cpu.stat", "system_usec", &out->cpu_sys_us);
        if (r < 0)
                return r;
        /* memory.peak appeared in 5.19. */
        r = sb_cg_read_u64(fd, "memory.peak", &out->memory_peak);
        if (r < 0 && r != -ENOENT)
                return r;
        r = sb_cg_read_key(fd, "memory.events", "oom_kill", &out->oom_kills);
        if (r < 0)
                return r;
        if (sb_cg_read_key(fd, "memory.events", "oom_group_kill", &v) == 0 && v > out->oom_kills)
                out->oom_kills = v;
        if (sb_cg_read_u64(fd, "pids.peak", &v) == 0)
                out->tasks_peak = (int64_t)v;
        return 0;
}

const struct sb_cgroup_ops sb_cgroup_v2_ops = {
        .name = "v2",
        .open = v2_open,
        .job_create = v2_job_create,
        .job_attach = v2_job_attach,
        .job_kill = v2_job_kill,
        .job_stats = v2_job_stats,
};
