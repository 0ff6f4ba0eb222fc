/* binds_attach.c — in the child: stack the detached mounts the daemon made
 * of the client's directories (binds.c) at their targets in the new root,
 * the plan's binds[] on its TREES fds and /work on WORK_TREE.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backends/linux/linux.h"

/* In the child: step = a b, truncated (no stdio here). */
static void set_step2(char *step, size_t len, const char *a, const char *b)
{
        size_t n = 0;

        for (const char *p = a; *p && n + 1 < len; p++)
                step[n++] = *p;
        for (const char *p = b; p && *p && n + 1 < len; p++)
                step[n++] = *p;
        if (len)
                step[n] = '\0';
}

/* In the child. mkdir -p of a validated absolute target, relative to the
 * cwd (the new root), in a stack buffer; a file target gets its parents
 * made so and itself made an empty file (an existing one is reused: two
 * file mounts cannot share a target, the protocol refuses overlaps). */
static int make_target(const char *target, char *path, size_t size, bool file)
{
        size_t n = strlen(target);

        if (n < 2 || n >= size)
                return -ENAMETOOLONG;
        memcpy(path, target + 1, n);    /* drop the leading '/', NUL included */
        for (char *p = path; ; p++) {
                if (*p == '/' || *p == '\0') {
                        char c = *p;

                        *p = '\0';
                        if (c == '\0' && file) {
                                if (mknod(path, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
                                        return -errno;
                        } else if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                                return -errno;
                        }
                        *p = c;
                        if (c == '\0')
                                break;
                }
        }
        return 0;
}

int sb_linux_binds_attach(const struct sb_spawn_plan *p, const int *fd, char *step,
                          size_t steplen)
{
        char path[SBP_TARGET_MAX + 2];
        int r;

        if (fd[SB_PLAN_FD_WORK_TREE] >= 0 &&
            syscall(SYS_move_mount, fd[SB_PLAN_FD_WORK_TREE], "", AT_FDCWD, "work",
                    MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                r = -errno;
                set_step2(step, steplen, "move_mount workdir_fd on /work", NULL);
                return r;
        }
        for (uint32_t i = 0; i < p->nbinds; i++) {
                const char *target = sb_plan_s(p, p->binds[i].target);

                r = make_target(target, path, sizeof(path), p->binds[i].is_file);
                if (r < 0) {
                        set_step2(step, steplen, p->binds[i].is_file ? "create " : "mkdir ", target);
                        return r;
                }
                if (syscall(SYS_move_mount, fd[SB_PLAN_FD_TREES + i], "", AT_FDCWD, path,
                            MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        r = -errno;
                        set_step2(step, steplen, "move_mount on ", target);
                        return r;
                }
        }
        return 0;
}

