/* harden_darwin.c — what skillbox-proxy gives up on macOS before it reads a
 * byte from a job (harden_linux.c: Linux). skillboxd runs as root under
 * launchd and starts the proxy as root with --uid and --gid (the last job
 * uid, a uid no job is given: daemon/main.c); the proxy needs no privilege
 * after that. Each step is checked and a failure ends the process with the
 * step named:
 *   1. supplementary groups set to gid alone (when root), then gid, then
 *      uid: as root, setgid() and setuid() set the real, effective and
 *      saved ids, so root cannot be had back; that is verified, not
 *      assumed, by trying;
 *   2. a Seatbelt profile (seatbelt_profile.c): no file written, nothing
 *      forked or executed, no other process signalled; reading the system
 *      and the resolver's files, the network. macOS has no capabilities and
 *      no no_new_privs: a setuid binary could not be run anyway, since the
 *      profile allows no exec.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backends/macos/macos.h"
#include "daemon/proxy/proxy.h"
#include "daemon/proxy/seatbelt_profile.h"

static int fail(const char *step, int r)
{
        fprintf(stderr, "skillbox-proxy: %s: %s\n", step, strerror(-r));
        return r;
}

int proxy_drop_privileges(uid_t uid, gid_t gid)
{
        gid_t groups[1] = { gid };

        if (uid == 0 || gid == 0)
                return fail("refusing to run as uid or gid 0", -EINVAL);
        if (geteuid() == 0 && setgroups(1, groups) < 0)
                return fail("setgroups", -errno);
        if (setgid(gid) < 0)
                return fail("setgid", -errno);
        if (setuid(uid) < 0)
                return fail("setuid", -errno);
        if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
                return fail("uid and gid not changed", -EPERM);
        /* A saved uid of 0 would let these succeed. */
        if (setuid(0) == 0 || seteuid(0) == 0)
                return fail("root regained after setuid", -EPERM);
        return 0;
}

int proxy_confine(void)
{
        static char text[PROXY_SEATBELT_TEXT_MAX];
        const char *const params[] = { NULL };
        char *err = NULL;
        int r;

        r = proxy_seatbelt_profile(text, sizeof(text));
        if (r < 0)
                return fail("Seatbelt profile", r);
        if (sandbox_init_with_parameters(text, 0, params, &err) != 0) {
                fprintf(stderr, "skillbox-proxy: sandbox_init_with_parameters: %s\n",
                        err ? err : "refused");
                if (err)
                        sandbox_free_error(err);
                return -EPERM;
        }
        return 0;
}
