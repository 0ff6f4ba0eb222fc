/* cgroup.c — what v1 and v2 share: choosing the version, file helpers,
 * emptiness, kill-and-wait, removal with retry, and leftover reaping.
 *
 * All file access is relative to directory fds opened once at open() (the
 * subtree) or at job creation (the job cgroup), so a job costs no path
 * walks beyond the first.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "backends/internal.h"
#include "backends/linux/cgroup/cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int cg_write(bool fake, int dfd, const char *file, const char *text)
{
        int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
        size_t len = strlen(text);
        ssize_t n;
        int fd, r = 0;

        /* A real cgroupfs has every file already and refuses O_CREAT; the
         * fake tree of the unit tests needs it. */
        if (fake)
                flags |= O_CREAT | O_TRUNC;
        fd = openat(dfd, file, flags, 0644);
        if (fd < 0)
                return -errno;
        do
                n = write(fd, text, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                r = -errno;
        else if ((size_t)n != len)
                r = -EIO;
        close(fd);
        return r;
}

int sb_cg_write(const struct sb_cgroup *cg, int dfd, const char *file, const char *text)
{
        return cg_write(cg->fake, dfd, file, text);
}

int sb_cgroup_job_oom_one(struct sb_cgroup_job *job)
{
        if (job->cg->ops != &sb_cgroup_v2_ops)
                return 0;       /* v1 kills one task: nothing to change */
        return sb_cg_write(job->cg, job->fd[0], "memory.oom.group", "0");
}


static int parse_u64(const char *s, uint64_t *out)
{
        char *end;
        unsigned long long v;

        while (*s == ' ' || *s == '\t')
                s++;
        if (!strncmp(s, "max", 3)) {
                *out = UINT64_MAX;
                return 0;
        }
        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        if (*end && *end != '\n' && *end != ' ')
                return -EINVAL;
        *out = v;
        return 0;
}

int sb_cg_read_u64(int dfd, const char *file, uint64_t *out)
{
        char buf[64];
        ssize_t n = sb_cg_read(dfd, file, buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        return parse_u64(buf, out);
}

int sb_cg_read_key(int dfd, const char *file, const char *key, uint64_t *out)
{
        char buf[4096];
        size_t klen = strlen(key);
        ssize_t n = sb_cg_read(dfd, file, buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        for (char *line = buf; line && *line;) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (!strncmp(line, key, klen) && line[klen] == ' ')
                        return parse_u64(line + klen + 1, out);
                line = next;
        }
        return -ENOENT;
}


int sb_cg_mkdir_p(const char *path)
{
        char buf[PATH_MAX];
        int r = snprintf(buf, sizeof(buf), "%s", path);

        if (r < 0 || (size_t)r >= sizeof(buf))
                return -ENAMETOOLONG;
        for (char *p = buf + 1;; p++) {
                if (*p == '/' || *p == '\0') {
                        char c = *p;
                        *p = '\0';
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = c;
                        if (!c)
                                break;
                }
        }
        return 0;
}

int sb_cg_kill_procs(int dfd)
{
        char buf[65536];
        ssize_t n = sb_cg_read(dfd, "cgroup.procs", buf, sizeof(buf));
        int count = 0;

        if (n < 0)
                return (int)n;
        for (char *p = buf; *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (pid > 1)    /* never our own namespace's init */
                        (void)kill((pid_t)pid, SIGKILL);
                count++;
                p = end;
                while (*p == '\n' || *p == ' ')
                        p++;
        }
        return count;
}

int sb_cgroup_open(struct sb_cgroup *cg, int version, const char *root, const char *own_path,
                   const char *name, bool fake, char *errbuf, size_t errlen)
{
        int r;

        memset(cg, 0, sizeof(*cg));
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                cg->base[i].fd = -1;
        for (int i = 0; i < 5; i++)
                cg->ctrl_base[i] = -1;
        cg->fake = fake;
        if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
            strlen(name) >= sizeof(cg->name))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "cgroup name");
        snprintf(cg->name, sizeof(cg->name), "%s", name);
        if (!root)
                root = "/sys/fs/cgroup";
        if (version == 0) {
                struct statfs sfs;
                char ctl[64];
                /* v2 only when the unified hierarchy owns the controllers:
                 * a hybrid host (empty cgroup2 at .../unified) runs v1. */
                version = 1;
                if (statfs(root, &sfs) == 0 && (unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC) {
                        int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (rfd >= 0) {
                                if (sb_cg_read(rfd, "cgroup.controllers", ctl, sizeof(ctl)) > 0 &&
                                    strstr(ctl, "memory"))
                                        version = 2;
                                close(rfd);
                        }
                }
        }
        cg->ops = version == 2 ? &sb_cgroup_v2_ops : &sb_cgroup_v1_ops;
        r = cg->ops->open(cg, root, own_path, errbuf, errlen);
        if (r < 0)
                sb_cgroup_close(cg);
        return r;
}

void sb_cgroup_close(struct sb_cgroup *cg)
{
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++) {
                if (cg->base[i].fd >= 0) {
                        close(cg->base[i].fd);
                        /* Leave the host as we found it. Best effort: a
                         * subtree still holding job cgroups stays (EBUSY),
                         * and the next instance reaps it. */
                        if (!cg->fake)
                                (void)rmdir(cg->base[i].path);
                }
                cg->base[i].fd = -1;
        }
        cg->nbase = 0;
}

int sb_cgroup_job_create(struct sb_cgroup *cg, const char *id, const struct sb_policy *lim,
                         struct sb_cgroup_job *job, char *errbuf, size_t errlen)
{
        int r;

        if (!sb_backend_job_id_valid(id))
                return sb_backend_fail(errbuf, errlen, -EINVAL, "job id");
        r = cg->ops->job_create(cg, id, lim, job, errbuf, errlen);
        if (r < 0)
                (void)sb_cgroup_job_destroy(job);
        return r;
}

int sb_cgroup_attach_self(const int *fd, int n, bool fake)
{
        for (int i = 0; i < n; i++) {
                /* Every hierarchy, no exception: a job outside one of them
                 * would not be limited or accounted there. */
                int r = fd[i] < 0 ? -EBADF : cg_write(fake, fd[i], "cgroup.procs", "0");
                if (r < 0)
                        return r;
        }
        return 0;
}

int sb_cgroup_job_clone_fd(const struct sb_cgroup_job *job)
{
        return job->cg->clone_into ? job->fd[0] : -1;
}

int sb_cgroup_job_empty(struct sb_cgroup_job *job)
{
        char buf[32];

        /* The first hierarchy tells for all: a process joins them in index
         * order (sb_cgroup_attach_self, or CLONE_INTO_CGROUP into the
         * only one), before it runs anything of the job, and none can move
         * itself out (no cgroup file system in the sandbox, no capability),
         * so the first holds every process any of them holds. */
        for (int i = 0; i < job->cg->nbase; i++) {
                if (job->fd[i] < 0)
                        continue;
                ssize_t n = sb_cg_read(job->fd[i], "cgroup.procs", buf, sizeof(buf));
                if (n < 0)
                        return (int)n;
                return n == 0;
        }
        return 1;
}

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int sb_cgroup_job_kill_wait(struct sb_cgroup_job *job, int timeout_ms)
{
        int r, waited = 0;

        for (;;) {
                r = sb_cgroup_job_empty(job);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (waited >= timeout_ms)
                        return -EBUSY;
                r = job->cg->ops->job_kill(job);
                if (r < 0)
                        return r;
                /* Dying tasks leave cgroup.procs when they are reaped; give
                 * them a moment, quickly at first. */
                int step = waited < 10 ? 1 : 10;
                sleep_ms(step);
                waited += step;
        }
}

/* Only the unit tests' fake tree has regular files in a cgroup dir. */
static void fake_clear_files(int dfd)
{
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
        DIR *d;
        struct dirent *de;

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        while ((de = readdir(d)))
                if (de->d_type == DT_REG)
                        (void)unlinkat(dfd, de->d_name, 0);
        closedir(d);
}

int sb_cgroup_job_destroy(struct sb_cgroup_job *job)
{
        struct sb_cgroup *cg = job->cg;
        int result = 0;

        for (int i = 0; i < cg->nbase; i++) {
                if (job->fd[i] < 0)
                        continue;
                if (cg->fake)
                        fake_clear_files(job->fd[i]);
                close(job->fd[i]);
                job->fd[i] = -1;
                /* rmdir fails with EBUSY while exiting tasks are still
                 * attached; they drain within milliseconds. */
                for (int tries = 0;; tries++) {
                        if (unlinkat(cg->base[i].fd, job->id, AT_REMOVEDIR) == 0 || errno == ENOENT)
                                break;
                        if (errno != EBUSY || tries >= 200) {
                                if (result == 0)
                                        result = -errno;
                                break;
                        }
                        sleep_ms(tries < 10 ? 1 : 10);
                }
        }
        return result;
}

/* Open an existing job cgroup in whichever hierarchies have it. */
static int job_open_existing(struct sb_cgroup *cg, const char *id, struct sb_cgroup_job *job)
{
        bool any = false;

        memset(job, 0, sizeof(*job));
        job->cg = cg;
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++)
                job->fd[i] = -1;
        if (strlen(id) >= sizeof(job->id))
                return -ENAMETOOLONG;
        memcpy(job->id, id, strlen(id) + 1);
        for (int i = 0; i < SB_CGROUP_BASES_MAX; i++) {
                if (i >= cg->nbase)
                        continue;
                job->fd[i] = openat(cg->base[i].fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (job->fd[i] >= 0)
                        any = true;
                else if (errno != ENOENT)
                        return -errno;
        }
        return any ? 0 : -ENOENT;
}

int sb_cgroup_reap_leftovers(struct sb_cgroup *cg, char *errbuf, size_t errlen)
{
        for (int i = 0; i < cg->nbase; i++) {
                int fd = fcntl(cg->base[i].fd, F_DUPFD_CLOEXEC, 0);
                DIR *d;
                struct dirent *de;

                if (fd < 0)
                        return sb_backend_fail(errbuf, errlen, -errno, "dup");
                d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        return sb_backend_fail(errbuf, errlen, -errno, "opendir %s", cg->base[i].path);
                }
                /* Removing entries while reading the directory is fine for
                 * cgroupfs (kernfs keeps its position by name hash). */
                while ((de = readdir(d))) {
                        struct sb_cgroup_job job;
                        int r;

                        if (de->d_type != DT_DIR || !sb_backend_job_id_valid(de->d_name))
                                continue;
                        r = job_open_existing(cg, de->d_name, &job);
                        if (r == -ENOENT)
                                continue;
                        if (r == 0)
                                r = sb_cgroup_job_kill_wait(&job, 2000);
                        if (r == 0)
                                r = sb_cgroup_job_destroy(&job);
                        else
                                (void)sb_cgroup_job_destroy(&job);
                        if (r < 0) {
                                closedir(d);
                                return sb_backend_fail(errbuf, errlen, r, "remove cgroup %s/%s",
                                                       cg->base[i].path, de->d_name);
                        }
                }
                closedir(d);
        }
        return 0;
}
