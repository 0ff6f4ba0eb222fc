/* job_args.c — a job's argv and environment: the environment built from
 * scratch for the sandbox, the argv copy the job keeps, and its cut to
 * SBP_ARGV_KEPT_MAX bytes once the program started (what inspect and list
 * show; a 1 MiB argv is not held for the whole retention).
 */
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "daemon/job_args.h"

/* The value a backend on the host's loopback looks for (backend.h). */
#define PROXY_URL SB_NETWORK_PROXY_URL

/* ---- environment ---- */

/* The environment is built from scratch: nothing of the daemon's leaks in.
 * Returns a NULL-terminated array of borrowed pointers (defaults are static
 * or, for HOME, stored behind the array; the rest point into p->env); free()
 * only the array. home: the backend's HOME for jobs, NULL = /work; proxied:
 * the job's egress goes through the allowlist proxy on its loopback. */
char **sbd_job_env_build(const struct sbp_exec_params *p, const char *home, bool proxied,
                         struct sbp_error *err)
{
        enum { NDEF = 5 };
        /* Both spellings: curl reads only http_proxy in lowercase, Python
         * and pip read either, npm reads the uppercase ones. The job's
         * own loopback never goes through the proxy. */
        static char *const proxy_env[] = {
                "HTTP_PROXY=" PROXY_URL,  "http_proxy=" PROXY_URL,
                "HTTPS_PROXY=" PROXY_URL, "https_proxy=" PROXY_URL,
                "ALL_PROXY=" PROXY_URL,   "all_proxy=" PROXY_URL,
                "NO_PROXY=localhost,127.0.0.1,::1",
                "no_proxy=localhost,127.0.0.1,::1",
        };
        size_t nproxy = proxied ? sizeof(proxy_env) / sizeof(proxy_env[0]) : 0;
        static char env_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
        static char env_lang[] = "LANG=C.UTF-8";
        static char env_tmpdir[] = "TMPDIR=/tmp";
        static char env_user[] = "USER=skillbox";
        size_t nslots = NDEF + nproxy + (size_t)p->envc + 1, n = 0, i, k;
        size_t hlen = strlen(home ? home : "/work");
        char **env = calloc(1, nslots * sizeof(char *) + sizeof("HOME=") + hlen);
        char *env_home;

        if (!env) {
                sbp_error_set(err, SBP_E_INTERNAL, "out of memory");
                return NULL;
        }
        env_home = (char *)(env + nslots);
        memcpy(env_home, "HOME=", 5);
        memcpy(env_home + 5, home ? home : "/work", hlen + 1);

        char *defaults[NDEF] = { env_path, env_home, env_lang, env_tmpdir, env_user };
        for (i = 0; i < NDEF; i++)
                env[n++] = defaults[i];
        for (i = 0; i < nproxy; i++)
                env[n++] = proxy_env[i];
        for (i = 0; i < p->envc; i++) {
                const char *e = p->env[i], *eq = strchr(e, '=');
                size_t klen;

                if (!eq || eq == e) {
                        sbp_error_set(err, SBP_E_INVALID_ARGUMENT, "env: bad entry");
                        free(env);
                        return NULL;
                }
                klen = (size_t)(eq - e) + 1;   /* with the '=' */
                for (k = 0; k < n; k++)
                        if (strncmp(env[k], e, klen) == 0)
                                break;
                env[k] = p->env[i];   /* override in place, or append */
                if (k == n)
                        n++;
        }
        env[n] = NULL;
        return env;
}

char **sbd_job_argv_copy(char *const *argv, uint32_t argc)
{
        char **v = calloc(argc + 1, sizeof(char *));
        uint32_t i;

        if (!v)
                return NULL;
        for (i = 0; i < argc; i++) {
                v[i] = strdup(argv[i]);
                if (!v[i]) {
                        while (i > 0)
                                free(v[--i]);
                        free(v);
                        return NULL;
                }
        }
        return v;
}

void sbd_job_argv_free(char **v)
{
        char **p;

        if (!v)
                return;
        for (p = v; *p; p++)
                free(*p);
        free(v);
}

/* Keep entries while their bytes (each + 1 for its NUL, as execve counts
 * them) fit in SBP_ARGV_KEPT_MAX; the entry that crosses it is cut. */
int sbd_job_argv_keep(char ***argv, uint32_t *argc, bool *truncated)
{
        size_t used = 0, len;
        uint32_t n;
        char **v = *argv, **kept;

        for (n = 0; n < *argc; n++) {
                len = strlen(v[n]) + 1;
                if (used + len > SBP_ARGV_KEPT_MAX)
                        break;
                used += len;
        }
        if (n == *argc)
                return 0;
        /* One more, cut, when room is left for a useful part of it. */
        len = SBP_ARGV_KEPT_MAX - used;
        kept = calloc((size_t)n + 2, sizeof(char *));
        if (!kept)
                return -1;
        memcpy(kept, v, n * sizeof(char *));
        /* A cut inside a UTF-8 sequence would turn a str entry into bin
         * on the wire: cut before the sequence's lead byte instead. */
        while (len > 1 && ((unsigned char)v[n][len - 1] & 0xc0) == 0x80)
                len--;
        if (len > 1) {
                kept[n] = strndup(v[n], len - 1);
                if (!kept[n]) {
                        free(kept);
                        return -1;
                }
                n++;
        }
        /* The entries now in kept stay; the rest go. */
        for (uint32_t i = len > 1 ? n - 1 : n; i < *argc; i++)
                free(v[i]);
        free(v);
        *argv = kept;
        *argc = n;
        *truncated = true;
        return 0;
}
