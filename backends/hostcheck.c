/* hostcheck.c — the host checks that are not a backend's: whether the
 * daemon runs with root's rights, whether the job uid range clashes with
 * accounts, and whether the state directory is safe. POSIX: getpwent,
 * stat, statvfs. A backend's own checks are its probe() (backend.h); the
 * linux ones are backends/linux/hostcheck.c.
 *
 * Shared by skillboxd (logged at start) and `skillboxctl doctor`. Pure
 * probing: nothing here logs or changes the host.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backends/hostcheck.h"

void sb_backend_hostcheck_privileges(struct sb_backend_probe *out)
{
        struct sb_backend_probe_item *it;

        if (geteuid() == 0)
                return;
        it = sb_backend_probe_add(out, "privileges");
        snprintf(it->detail, sizeof(it->detail),
                 "not root (uid %u): results show this user's rights, not the daemon's",
                 (unsigned)geteuid());
        snprintf(it->fix, sizeof(it->fix), "run as root for the daemon's view");
        it->status = SB_BACKEND_PROBE_WARN;
}

/* ---- uid range ---- */

static void check_uid_range(struct sb_backend_probe *out, uint32_t first, uint32_t last)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(out, "uid-range");
        char clash[256] = "";
        unsigned nclash = 0;
        struct passwd *pw;
        struct group *gr;

        snprintf(it->detail, sizeof(it->detail), "%u-%u (%u uids)", first, last,
                 last - first + 1);
        /* One pass over the databases: getpwuid() per uid would be slow
         * with a large range or a network directory. */
#ifdef SB_HOSTCHECK_FILES_ONLY
        /* The static skillboxctl: NSS modules cannot be loaded there, so
         * the local files only (accounts from a directory are not seen). */
        FILE *pf = fopen("/etc/passwd", "re"), *gf = fopen("/etc/group", "re");
#define NEXT_PW() (pf ? fgetpwent(pf) : NULL)
#define NEXT_GR() (gf ? fgetgrent(gf) : NULL)
#else
        setpwent();
        setgrent();
#define NEXT_PW() getpwent()
#define NEXT_GR() getgrent()
#endif
        while ((pw = NEXT_PW()))
                if (pw->pw_uid >= first && pw->pw_uid <= last && nclash++ < 4)
                        sb_backend_probe_append(clash, sizeof(clash), " user %s (%u)", pw->pw_name,
                               (unsigned)pw->pw_uid);
        /* Jobs run with gid == uid, so a group there would be shared too. */
        while ((gr = NEXT_GR()))
                if (gr->gr_gid >= first && gr->gr_gid <= last && nclash++ < 4)
                        sb_backend_probe_append(clash, sizeof(clash), " group %s (%u)", gr->gr_name,
                               (unsigned)gr->gr_gid);
#undef NEXT_PW
#undef NEXT_GR
#ifdef SB_HOSTCHECK_FILES_ONLY
        if (pf)
                fclose(pf);
        if (gf)
                fclose(gf);
#else
        endpwent();
        endgrent();
#endif
        if (nclash) {
                sb_backend_probe_append(it->detail, sizeof(it->detail), "; in use by%s%s", clash,
                       nclash > 4 ? " ..." : "");
                snprintf(it->fix, sizeof(it->fix),
                         "jobs must not share ids with accounts: choose a free range "
                         "(skillboxd --uid-range or the configuration file)");
                it->status = SB_BACKEND_PROBE_FAIL;
                return;
        }
        /* systemd's DynamicUser= range; a clash only when both allocate. */
        if (first <= 65519 && last >= 61184) {
                sb_backend_probe_append(it->detail, sizeof(it->detail),
                       "; overlaps systemd's DynamicUser= range 61184-65519");
                snprintf(it->fix, sizeof(it->fix),
                         "choose a range outside 61184-65519 if services use DynamicUser=");
                it->status = SB_BACKEND_PROBE_WARN;
        } else {
                sb_backend_probe_append(it->detail, sizeof(it->detail), "; no account uses them");
        }
}

/* ---- state directory ---- */

static void check_state_dir(struct sb_backend_probe *out, const char *dir)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(out, "state-dir");
        struct statvfs vfs;
        struct stat st;

        if (stat(dir, &st) < 0) {
                if (errno == ENOENT) {
                        snprintf(it->detail, sizeof(it->detail),
                                 "%s does not exist yet (skillboxd creates it, root, 0700)", dir);
                } else {
                        snprintf(it->detail, sizeof(it->detail), "%s: %s", dir,
                                 strerrorname_np(errno) ?: "?");
                        snprintf(it->fix, sizeof(it->fix), "run as root, or fix the path");
                        it->status = errno == EACCES ? SB_BACKEND_PROBE_WARN : SB_BACKEND_PROBE_FAIL;
                }
                return;
        }
        snprintf(it->detail, sizeof(it->detail), "%s: uid %u, mode %04o", dir,
                 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        if (!S_ISDIR(st.st_mode)) {
                sb_backend_probe_append(it->detail, sizeof(it->detail), ", not a directory");
                snprintf(it->fix, sizeof(it->fix), "remove %s or choose another --state-dir", dir);
                it->status = SB_BACKEND_PROBE_FAIL;
                return;
        }
        if (st.st_uid != 0 || (st.st_mode & 022)) {
                /* Whoever else can write there can swap a job's directory. */
                snprintf(it->fix, sizeof(it->fix), "chown root:root %s && chmod 0700 %s", dir,
                         dir);
                it->status = SB_BACKEND_PROBE_FAIL;
        } else if (st.st_mode & 077) {
                snprintf(it->fix, sizeof(it->fix), "chmod 0700 %s (job dirs need not be "
                         "visible to other users)", dir);
                it->status = SB_BACKEND_PROBE_WARN;
        }
        if (statvfs(dir, &vfs) == 0) {
                if (vfs.f_flag & ST_RDONLY) {
                        sb_backend_probe_append(it->detail, sizeof(it->detail), ", read-only file system");
                        snprintf(it->fix, sizeof(it->fix),
                                 "put the state directory on a writable file system "
                                 "(under systemd: StateDirectory=skillbox)");
                        it->status = SB_BACKEND_PROBE_FAIL;
                } else if (vfs.f_flag & ST_NOEXEC) {
                        /* A posix job's /work is a directory here: it keeps
                         * noexec (a linux job's is a tmpfs of its own). */
                        sb_backend_probe_append(it->detail, sizeof(it->detail), ", noexec");
                        if (it->status == SB_BACKEND_PROBE_OK)
                                snprintf(it->fix, sizeof(it->fix),
                                         "programs a posix job writes to /work cannot run; "
                                         "use a state directory on a file system without "
                                         "noexec");
                        sb_backend_probe_worsen(it, SB_BACKEND_PROBE_WARN);
                }
        }
}

void sb_backend_hostcheck_run(const struct sb_hostcheck_params *p, struct sb_backend_probe *out)
{
        check_uid_range(out, p->uid_first, p->uid_last);
        check_state_dir(out, p->state_dir);
}
