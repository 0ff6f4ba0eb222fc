/* hostcheck.c — probe what this Linux host can enforce: namespaces, the
 * cgroup controllers, the mount API, seccomp and Landlock, one item each.
 *
 * Each check fills one probe item (backends/probe.h): what is there (detail)
 * and, when something is missing, how an administrator fixes it (fix). FAIL
 * means the built-in default profile (mount/pid/net/ipc/uts/cgroup
 * namespaces, memory, tasks and CPU limits, a seccomp filter) cannot be
 * enforced; WARN means a weaker or surprising setup that still runs it.
 * The checks of the identity pool and the state directory, which are not
 * Linux's, are in backends/hostcheck.c.
 *
 * Invariants: nothing is changed on the host. The namespace probe unshares
 * in forked children that only call unshare() and _exit(), so it is safe in
 * a daemon before its loop starts threads. The cgroup version is chosen the
 * way the linux backend chooses it (backends/linux/cgroup.c): v2 only when
 * the unified hierarchy at the root owns the memory controller. No NSS call:
 * the static skillbox-spawner links this file too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/linux/hostcheck.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#define LANDLOCK_VERSION_FLAG (1u << 0)   /* LANDLOCK_CREATE_RULESET_VERSION */
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#define RET_KILL_PROCESS 0x80000000u      /* SECCOMP_RET_KILL_PROCESS */
#define RET_USER_NOTIF   0x7fc00000u      /* SECCOMP_RET_USER_NOTIF */

/* ---- namespaces ---- */

/* 0 if a child can unshare(flag), else -errno of the failure. */
static int probe_unshare(int flag)
{
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0)
                _exit(unshare(flag) < 0 ? (errno & 0xff) : 0);
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
        if (!WIFEXITED(status))
                return -EIO;
        return -WEXITSTATUS(status);
}

static void check_namespaces(struct sb_linux_hostcheck *hc)
{
        static const struct {
                int flag;
                const char *name;
                bool required;     /* by the default profile */
        } ns[] = {
                { CLONE_NEWNS, "mount", true },   { CLONE_NEWPID, "pid", true },
                { CLONE_NEWNET, "net", true },    { CLONE_NEWIPC, "ipc", true },
                { CLONE_NEWUTS, "uts", true },    { CLONE_NEWCGROUP, "cgroup", true },
                { CLONE_NEWUSER, "user", false },
        };
        struct sb_backend_probe_item *it = sb_backend_probe_add(hc->out, "namespaces");
        char missing[160] = "";
        int first_err = 0;

        hc->namespaces_ok = true;
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
                int r = probe_unshare(ns[i].flag);

                if (r == 0) {
                        sb_backend_probe_append(it->detail, sizeof(it->detail), "%s%s", it->detail[0] ? " " : "",
                               ns[i].name);
                        continue;
                }
                sb_backend_probe_append(missing, sizeof(missing), " %s (%s)", ns[i].name, strerrorname_np(-r) ?: "?");
                if (ns[i].required) {
                        hc->namespaces_ok = false;
                        if (!first_err)
                                first_err = -r;
                        sb_backend_probe_worsen(it, SB_BACKEND_PROBE_FAIL);
                } else {
                        /* Jobs never get a user namespace by default (DESIGN). */
                        sb_backend_probe_worsen(it, SB_BACKEND_PROBE_WARN);
                }
        }
        if (!it->detail[0])
                snprintf(it->detail, sizeof(it->detail), "none available");
        if (missing[0])
                sb_backend_probe_append(it->detail, sizeof(it->detail), "; unavailable:%s", missing);
        if (it->status == SB_BACKEND_PROBE_OK)
                return;
        if (first_err == EPERM)
                snprintf(it->fix, sizeof(it->fix),
                         "run skillboxd as root with CAP_SYS_ADMIN; under systemd use the shipped "
                         "unit (no RestrictNamespaces=, PrivateUsers= or CapabilityBoundingSet= "
                         "without CAP_SYS_ADMIN)");
        else if (first_err == ENOSPC)
                snprintf(it->fix, sizeof(it->fix),
                         "raise the user.max_*_namespaces sysctls above 0");
        else if (first_err)
                snprintf(it->fix, sizeof(it->fix),
                         "use a kernel built with CONFIG_NAMESPACES and the PID, NET, IPC, UTS "
                         "and CGROUP namespaces (every distribution kernel has them)");
        else
                snprintf(it->fix, sizeof(it->fix),
                         "user namespaces are not needed by the default profile; to allow them "
                         "set sysctl user.max_user_namespaces > 0");
}

/* ---- cgroups ---- */

static ssize_t read_file(const char *path, char *buf, size_t len)
{
        ssize_t n, total = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        while ((size_t)total + 1 < len) {
                n = read(fd, buf + total, len - 1 - (size_t)total);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        n = -errno;
                        close(fd);
                        return n;
                }
                if (n == 0)
                        break;
                total += n;
        }
        buf[total] = '\0';
        close(fd);
        return total;
}

/* Whether the whitespace-separated list has word. */
static bool has_word(const char *list, const char *word)
{
        size_t wl = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += wl) {
                bool start = p == list || p[-1] == ' ' || p[-1] == '\n' || p[-1] == ',';
                char end = p[wl];

                if (start && (end == '\0' || end == ' ' || end == '\n' || end == ','))
                        return true;
        }
        return false;
}

/* This process's cgroup path for controller ctrl (v1), or the v2 line when
 * ctrl is NULL, from /proc/self/cgroup. */
static int own_cgroup(const char *ctrl, char *out, size_t len)
{
        char buf[8192];
        ssize_t n = read_file("/proc/self/cgroup", buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        for (char *line = buf, *next; line && *line; line = next) {
                char *c1, *c2;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                c1 = strchr(line, ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                if (ctrl ? has_word(c1 + 1, ctrl) : c1[1] == '\0') {
                        int r = snprintf(out, len, "%s", c2 + 1);

                        return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
                }
        }
        return -ENOENT;
}

static void check_cgroup_v1(struct sb_backend_probe_item *it, struct sb_linux_hostcheck *hc,
                            const char *root)
{
        static const struct {
                const char *name;
                bool required;
        } ctrls[] = {
                { "memory", true }, { "pids", true }, { "cpu", true },
                { "cpuacct", false }, { "freezer", false },
        };
        char usable[128] = "", missing[256] = "", ro[256] = "", own[PATH_MAX / 2];
        bool req_missing = false, opt_missing = false;

        for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
                char mnt[PATH_MAX], dir[PATH_MAX];
                struct statfs sfs;

                snprintf(mnt, sizeof(mnt), "%s/%s", root, ctrls[i].name);
                if (statfs(mnt, &sfs) < 0 || (unsigned long)sfs.f_type != CGROUP_SUPER_MAGIC ||
                    own_cgroup(ctrls[i].name, own, sizeof(own)) < 0) {
                        sb_backend_probe_append(missing, sizeof(missing), " %s", ctrls[i].name);
                        req_missing |= ctrls[i].required;
                        opt_missing |= !ctrls[i].required;
                        continue;
                }
                if (snprintf(dir, sizeof(dir), "%s%s", mnt, own) >= (int)sizeof(dir))
                        errno = ENAMETOOLONG;
                else if (access(dir, W_OK) == 0)
                        dir[0] = '\0';
                if (dir[0]) {
                        sb_backend_probe_append(ro, sizeof(ro), " %s (%s: %s)", ctrls[i].name, dir,
                               strerrorname_np(errno) ?: "?");
                        req_missing |= ctrls[i].required;
                        opt_missing |= !ctrls[i].required;
                        continue;
                }
                sb_backend_probe_append(usable, sizeof(usable), " %s", ctrls[i].name);
        }
        snprintf(it->detail, sizeof(it->detail), "v1; usable:%s", usable[0] ? usable : " none");
        if (missing[0])
                sb_backend_probe_append(it->detail, sizeof(it->detail), "; not mounted:%s", missing);
        if (ro[0])
                sb_backend_probe_append(it->detail, sizeof(it->detail), "; not writable:%s", ro);
        hc->cgroup_ok = !req_missing;
        if (req_missing)
                sb_backend_probe_worsen(it, SB_BACKEND_PROBE_FAIL);
        else if (opt_missing)
                sb_backend_probe_worsen(it, SB_BACKEND_PROBE_WARN);
        if (missing[0])
                snprintf(it->fix, sizeof(it->fix),
                         "mount each controller, e.g. mount -t cgroup -o memory cgroup %s/memory "
                         "(a v1 host needs memory, pids, cpu,cpuacct and freezer hierarchies), "
                         "or boot with the unified hierarchy (systemd.unified_cgroup_hierarchy=1)",
                         root);
        else if (ro[0])
                snprintf(it->fix, sizeof(it->fix),
                         "run skillboxd as root with %s writable (under systemd: Delegate=yes, "
                         "no ProtectControlGroups=)", root);
        else if (!usable[0])
                snprintf(it->fix, sizeof(it->fix), "mount the cgroup hierarchies under %s", root);
}

static void check_cgroup_v2(struct sb_backend_probe_item *it, struct sb_linux_hostcheck *hc,
                            const char *root)
{
        static const char *const need[] = { "memory", "pids", "cpu" };
        char own[PATH_MAX / 2], dir[PATH_MAX], file[PATH_MAX + 32], ctl[512];
        char missing[64] = "";
        bool writable;

        if (own_cgroup(NULL, own, sizeof(own)) < 0)
                snprintf(own, sizeof(own), "/");
        snprintf(dir, sizeof(dir), "%s%s", root, strcmp(own, "/") ? own : "");
        snprintf(file, sizeof(file), "%s/cgroup.controllers", dir);
        if (read_file(file, ctl, sizeof(ctl)) < 0)
                ctl[0] = '\0';
        ctl[strcspn(ctl, "\n")] = '\0';
        for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
                if (!has_word(ctl, need[i]))
                        sb_backend_probe_append(missing, sizeof(missing), " %s", need[i]);
        snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
        writable = access(dir, W_OK) == 0 && access(file, W_OK) == 0;
        sb_backend_probe_append(it->detail, sizeof(it->detail), "v2 at %s; controllers:%s%s%s", dir,
                 ctl[0] ? " " : " none", ctl,
                 writable ? "; subtree writable" : "; subtree not writable");
        if (missing[0])
                sb_backend_probe_append(it->detail, sizeof(it->detail), "; not delegated:%s", missing);
        hc->cgroup_ok = !missing[0] && writable;
        if (hc->cgroup_ok)
                return;
        sb_backend_probe_worsen(it, SB_BACKEND_PROBE_FAIL);
        snprintf(it->fix, sizeof(it->fix),
                 "delegate a subtree with memory, pids and cpu to skillboxd: run it from the "
                 "shipped skillboxd.service (Delegate=yes), or as root enable them in every "
                 "parent, e.g. echo '+memory +pids +cpu' > %s/cgroup.subtree_control", root);
}

static void check_cgroup(struct sb_linux_hostcheck *hc, const char *root)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(hc->out, "cgroup");
        struct statfs sfs;
        char path[PATH_MAX], ctl[512];

        if (statfs(root, &sfs) < 0) {
                snprintf(it->detail, sizeof(it->detail), "%s: %s", root,
                         strerrorname_np(errno) ?: "?");
                snprintf(it->fix, sizeof(it->fix), "mount the cgroup filesystem at %s", root);
                it->status = SB_BACKEND_PROBE_FAIL;
                hc->cgroup_ok = false;
                return;
        }
        snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
        if ((unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC && read_file(path, ctl, sizeof(ctl)) > 0 &&
            has_word(ctl, "memory"))
                check_cgroup_v2(it, hc, root);
        else
                check_cgroup_v1(it, hc, root);
}

/* ---- seccomp and Landlock ---- */

static void check_seccomp(struct sb_linux_hostcheck *hc)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(hc->out, "seccomp");
        uint32_t action = RET_KILL_PROCESS;
        int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);

        if (mode < 0 && errno == EINVAL) {
                snprintf(it->detail, sizeof(it->detail), "not available");
                snprintf(it->fix, sizeof(it->fix),
                         "use a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER");
                it->status = SB_BACKEND_PROBE_FAIL;
                return;
        }
        if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
                snprintf(it->detail, sizeof(it->detail), "filter actions unknown (%s)",
                         strerrorname_np(errno) ?: "?");
                if (errno == ENOSYS) {
                        snprintf(it->fix, sizeof(it->fix),
                                 "use a kernel with the seccomp() system call (3.17 or newer, "
                                 "CONFIG_SECCOMP_FILTER)");
                        it->status = SB_BACKEND_PROBE_FAIL;
                } else {
                        snprintf(it->fix, sizeof(it->fix),
                                 "a kernel older than 4.14 kills only the thread on a filter "
                                 "violation; upgrade the kernel");
                        it->status = SB_BACKEND_PROBE_WARN;
                }
                return;
        }
        snprintf(it->detail, sizeof(it->detail), "filters with kill-process");
        action = RET_USER_NOTIF;
        if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
                sb_backend_probe_append(it->detail, sizeof(it->detail), " and user-notify");
        if (mode == 2)
                sb_backend_probe_append(it->detail, sizeof(it->detail),
                       "; this process already runs under a filter (its rules also bind jobs)");
}

/* Every job's file system gets its flags with mount_setattr(); without it
 * (kernels before 5.12) each job would fail at its mounts. Asked with an
 * invalid size, which a kernel that has the call refuses with EINVAL. */
static void check_mount_api(struct sb_linux_hostcheck *hc)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(hc->out, "mount-api");

        errno = 0;
        if (syscall(SYS_mount_setattr, -1, "", 0, NULL, (size_t)0) < 0 && errno == ENOSYS) {
                hc->mount_api_ok = false;
                snprintf(it->detail, sizeof(it->detail), "mount_setattr: not available (ENOSYS)");
                snprintf(it->fix, sizeof(it->fix), "use a kernel 5.12 or newer");
                it->status = SB_BACKEND_PROBE_FAIL;
                return;
        }
        hc->mount_api_ok = true;
        snprintf(it->detail, sizeof(it->detail), "mount_setattr, open_tree, move_mount");
}

static void check_landlock(struct sb_linux_hostcheck *hc)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(hc->out, "landlock");
        long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_VERSION_FLAG);

        if (abi > 0) {
                hc->landlock_abi = (unsigned)abi;
                snprintf(it->detail, sizeof(it->detail), "ABI %ld", abi);
                return;
        }
        hc->landlock_abi = 0;
        /* Jobs are still confined by namespaces, uids and seccomp: a warning. */
        it->status = SB_BACKEND_PROBE_WARN;
        if (errno == EOPNOTSUPP) {
                snprintf(it->detail, sizeof(it->detail), "built into the kernel but disabled");
                snprintf(it->fix, sizeof(it->fix),
                         "add landlock to the lsm= kernel command line (see "
                         "/sys/kernel/security/lsm for the current list)");
        } else {
                snprintf(it->detail, sizeof(it->detail), "not available (%s)",
                         strerrorname_np(errno) ?: "?");
                snprintf(it->fix, sizeof(it->fix),
                         "use a kernel 5.13 or newer with CONFIG_SECURITY_LANDLOCK=y");
        }
}

void sb_linux_hostcheck_run(const char *cgroup_root, struct sb_linux_hostcheck *hc)
{
        check_namespaces(hc);
        check_cgroup(hc, cgroup_root ? cgroup_root : "/sys/fs/cgroup");
        check_mount_api(hc);
        check_seccomp(hc);
        check_landlock(hc);
}
