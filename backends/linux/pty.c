/* pty.c — a tty job's terminal, made by the daemon before the clone.
 *
 * The pty comes from a devpts instance of the job's own, made here with the
 * new mount API (fsopen, fsconfig, fsmount) as a detached mount that the
 * child attaches at the job's /dev/pts (child/mounts.c) in place of the
 * instance every job gets. Made here rather than in the child because the
 * daemon keeps the master, and a master opened in the child would have to
 * come back over another channel. The instance has the same options as
 * every job's, so the job sees the same /dev/pts either way, with its
 * terminal as /dev/pts/0.
 *
 * Privileged operations, each safe for the reason given:
 * - fsopen/fsconfig/fsmount of devpts: a new, empty instance (devpts
 *   instances share nothing but the kernel's pty count, bounded by max=),
 *   never attached in the daemon's mount namespace: the mount fd is only
 *   moved into the job's namespace by the child.
 * - openat(mount, "ptmx"): a name inside that new instance, on a mount fd
 *   the daemon just made; no client-named path is opened.
 * - fchown of the slave to the job's uid: the one pty of this instance,
 *   made by the line above; the job owns its terminal like a login does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#include "backends/linux/linux.h"

void sb_linux_pty_init(struct sb_linux_pty *t)
{
        t->master = -1;
        t->slave = -1;
        t->tree = -1;
}

void sb_linux_pty_release(struct sb_linux_pty *t)
{
        if (t->master >= 0)
                close(t->master);
        if (t->slave >= 0)
                close(t->slave);
        if (t->tree >= 0)
                close(t->tree);
        sb_linux_pty_init(t);
}

/* fsconfig(FSCONFIG_SET_STRING) or, with value NULL, FSCONFIG_SET_FLAG. */
static int set_opt(int fs, const char *key, const char *value)
{
        if (fsconfig(fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0) < 0)
                return -errno;
        return 0;
}

int sb_linux_pty_open(struct sb_linux_pty *t, uid_t uid, gid_t gid, unsigned rows,
                      unsigned cols, char *errbuf, size_t errlen)
{
        struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
        char gidbuf[16];
        const char *step;
        int fs = -1, ptmx = -1, unlock = 0, r;

        sb_linux_pty_init(t);
        snprintf(gidbuf, sizeof(gidbuf), "%u", (unsigned)gid);
        step = "fsopen devpts";
        fs = fsopen("devpts", FSOPEN_CLOEXEC);
        if (fs < 0) {
                r = -errno;
                goto fail;
        }
        /* As every job's /dev/pts (mounts.c): ptmx for the job's uid to open,
         * slaves rw for their owner and the job's group, at most
         * SB_LINUX_PTYS_MAX of them. */
        step = "fsconfig devpts";
        if ((r = set_opt(fs, "newinstance", NULL)) < 0 ||
            (r = set_opt(fs, "ptmxmode", "0666")) < 0 || (r = set_opt(fs, "mode", "0620")) < 0 ||
            (r = set_opt(fs, "max", SB_LINUX_PTYS_MAX)) < 0 ||
            (r = set_opt(fs, "gid", gidbuf)) < 0)
                goto fail;
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                r = -errno;
                goto fail;
        }
        step = "fsmount devpts";
        t->tree = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
        if (t->tree < 0) {
                r = -errno;
                goto fail;
        }
        step = "open the job's ptmx";
        ptmx = openat(t->tree, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (ptmx < 0) {
                r = -errno;
                goto fail;
        }
        /* Unlock the slave (unlockpt), then open it through the master
         * itself: no path lookup, so it is this pty's slave and nothing else. */
        step = "unlock the job's pty";
        if (ioctl(ptmx, TIOCSPTLCK, &unlock) < 0) {
                r = -errno;
                goto fail;
        }
        step = "open the job's pty";
        t->slave = ioctl(ptmx, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (t->slave < 0) {
                r = -errno;
                goto fail;
        }
        step = "chown the job's pty";
        if (fchown(t->slave, uid, gid) < 0) {
                r = -errno;
                goto fail;
        }
        /* The size is there before the program starts: its first
         * TIOCGWINSZ already sees it. */
        step = "set the job's window size";
        if (ioctl(ptmx, TIOCSWINSZ, &ws) < 0) {
                r = -errno;
                goto fail;
        }
        t->master = ptmx;
        close(fs);
        return 0;
fail:
        if (ptmx >= 0)
                close(ptmx);
        if (fs >= 0)
                close(fs);
        sb_linux_pty_release(t);
        return sb_backend_fail(errbuf, errlen, r, "tty: %s", step);
}
