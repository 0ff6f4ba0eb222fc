/* doctor.c — `skillboxctl doctor [--config PATH] [--state-dir DIR]
 * [--uid-range FIRST-LAST] [--json]`.
 *
 * Reads the daemon's configuration file with the daemon's own parser
 * (config/conf.c: --config PATH, else /etc/skillbox/skillboxd.conf when it
 * exists, on top of the built-in defaults), then runs the same host checks
 * skillboxd logs at start with the linux backend (backends/hostcheck.c, and
 * the backend's own, backends/linux/hostcheck.c) against the state
 * directory and uid range that configuration names — no daemon needed, so it
 * also answers "why does the daemon not start". --state-dir and --uid-range
 * override the file, as skillboxd's options do. One line per check, "NAME
 * STATUS detail", and for a missing piece "; fix: ..." on the same line, so
 * the output greps well. Run it as root to see what the daemon will see.
 * Last, the "daemon" line: whether a daemon answers on the socket
 * (skillboxctl's --socket, else the default), and what its host does for
 * the optional features (terminals, network modes); no daemon is a warning.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/hostcheck.h"
#include "backends/linux/hostcheck.h"
#include "client/doctor.h"
#include "client/json.h"
#include "client/skillbox.h"
#include "config.h"
#include "config/conf.h"

#define EXIT_CANNOT 125

static int parse_range(const char *s, uint32_t *first, uint32_t *last)
{
        char *end;
        unsigned long long a, b;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        a = strtoull(s, &end, 10);
        if (errno || *end != '-' || end[1] < '0' || end[1] > '9')
                return -EINVAL;
        b = strtoull(end + 1, &end, 10);
        if (errno || *end || a == 0 || b < a || b >= UINT32_MAX)
                return -EINVAL;
        *first = (uint32_t)a;
        *last = (uint32_t)b;
        return 0;
}

static const char *value_of(int argc, char **argv, int *i, const char *name)
{
        size_t n = strlen(name);

        if (strncmp(argv[*i], name, n) != 0)
                return NULL;
        if (argv[*i][n] == '=')
                return argv[*i] + n + 1;
        if (argv[*i][n] == '\0' && *i + 1 < argc)
                return argv[++*i];
        return NULL;
}

/* The "config" check: the file the daemon would read, and every error in
 * it (skillboxd refuses to start on any). */
static void check_config(struct sb_backend_probe *out, const char *path,
                         const struct sbd_conf_errors *errs, int r)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(out, "config");

        if (!path) {
                snprintf(it->detail, sizeof(it->detail),
                         "no %s: the built-in defaults (skillboxd --print-config shows them)",
                         SKILLBOX_DEFAULT_CONFIG);
                return;
        }
        if (r == 0) {
                snprintf(it->detail, sizeof(it->detail), "%s: no errors", path);
                return;
        }
        it->status = SB_BACKEND_PROBE_FAIL;
        if (r == -ENOMEM) {
                snprintf(it->detail, sizeof(it->detail), "%s: out of memory reading it", path);
                snprintf(it->fix, sizeof(it->fix), "run doctor again");
                return;
        }
        snprintf(it->detail, sizeof(it->detail), "%zu error%s: ", errs->n, errs->n == 1 ? "" : "s");
        for (size_t i = 0; i < errs->n; i++)
                sb_backend_probe_append(it->detail, sizeof(it->detail), "%s%s", i ? "; " : "",
                                        errs->v[i]);
        snprintf(it->fix, sizeof(it->fix), "correct %s (skillboxd refuses to start with it; "
                 "skillboxd --check-config --config %s lists the errors)", path, path);
}

/* What the daemon checks beyond the host check's stat(): it opens the state
 * directory and its jobs/ with O_NOFOLLOW and refuses a symlink, and jobs/
 * must be root's and not group/other-writable like the directory itself. */
static void check_state_dir_more(struct sb_backend_probe *out, const char *dir)
{
        struct sb_backend_probe_item *it = NULL;
        char jobs[4096];
        struct stat st;

        for (size_t i = 0; i < out->n; i++)
                if (strcmp(out->item[i].name, "state-dir") == 0)
                        it = &out->item[i];
        if (!it)
                return;
        if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
                sb_backend_probe_append(it->detail, sizeof(it->detail), ", a symbolic link");
                snprintf(it->fix, sizeof(it->fix), "set StateDirectory= to the directory "
                         "itself, not a symbolic link (skillboxd refuses to follow one)");
                it->status = SB_BACKEND_PROBE_FAIL;
                return;
        }
        if ((size_t)snprintf(jobs, sizeof(jobs), "%s/jobs", dir) >= sizeof(jobs) ||
            lstat(jobs, &st) < 0)
                return;         /* none yet: skillboxd creates it, root, 0700 */
        if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
                sb_backend_probe_append(it->detail, sizeof(it->detail), "; %s is %s", jobs,
                                        S_ISLNK(st.st_mode) ? "a symbolic link"
                                                            : "not a directory");
                snprintf(it->fix, sizeof(it->fix), "remove %s/jobs (skillboxd creates it)", dir);
                it->status = SB_BACKEND_PROBE_FAIL;
        } else if (st.st_uid != 0 || (st.st_mode & 022)) {
                sb_backend_probe_append(it->detail, sizeof(it->detail), "; %s: uid %u, mode %04o",
                                        jobs, (unsigned)st.st_uid,
                                        (unsigned)(st.st_mode & 07777));
                snprintf(it->fix, sizeof(it->fix), "chown root:root %s/jobs && chmod 0700 %s/jobs",
                         dir, dir);
                it->status = SB_BACKEND_PROBE_FAIL;
        }
}

/* The network modes as "none allowlist host" ("-" when there is none). */
static void network_modes_text(uint32_t modes, char *buf, size_t len)
{
        const char *name;
        size_t at = 0;

        buf[0] = '\0';
        for (unsigned b = 0; (name = sb_network_mode_name(b)) && at < len; b++)
                if (modes & (1u << b))
                        at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? " " : "", name);
        if (!buf[0])
                snprintf(buf, len, "-");
}

/* Whether a daemon answers on socket_path (NULL: the default), and its
 * hello; *have set when it answered. */
static void check_daemon(struct sb_backend_probe *out, const char *socket_path,
                         struct sb_hello *h, bool *have)
{
        struct sb_backend_probe_item *it = sb_backend_probe_add(out, "daemon");
        const char *path = socket_path ? socket_path : sb_default_socket();
        char modes[64];
        sb_client *c = NULL;
        int r;

        *have = false;
        r = sb_connect(socket_path, &c);
        if (r >= 0)
                r = sb_hello(c, "skillboxctl doctor", h);
        if (r < 0) {
                it->status = SB_BACKEND_PROBE_WARN;
                snprintf(it->detail, sizeof(it->detail), "no answer at %s: %s", path,
                         sb_errmsg(c));
                snprintf(it->fix, sizeof(it->fix), "start skillboxd, or name its socket with "
                         "skillboxctl --socket PATH doctor");
                sb_close(c);
                return;
        }
        sb_close(c);
        *have = true;
        network_modes_text(h->network_modes, modes, sizeof(modes));
        it->status = SB_BACKEND_PROBE_OK;
        snprintf(it->detail, sizeof(it->detail),
                 "%s %s at %s, backend %s: tty %s, network modes %s, sandboxes %s", h->server,
                 h->version, path, h->host.backend[0] ? h->host.backend : "unknown",
                 h->tty ? "yes" : "no", modes, h->sandboxes ? "yes" : "no");
}

static void print_json_daemon(const struct sb_hello *h, bool have)
{
        const char *name;
        bool first = true;

        if (!have) {
                fputs("null", stdout);
                return;
        }
        fputs("{\"server\": ", stdout);
        sbctl_json_cstr(stdout, h->server);
        fputs(", \"version\": ", stdout);
        sbctl_json_cstr(stdout, h->version);
        fputs(", \"backend\": ", stdout);
        sbctl_json_cstr(stdout, h->host.backend);
        printf(", \"tty\": %s, \"sandboxes\": %s, \"network_modes\": [",
               h->tty ? "true" : "false", h->sandboxes ? "true" : "false");
        for (unsigned b = 0; (name = sb_network_mode_name(b)); b++) {
                if (!(h->network_modes & (1u << b)))
                        continue;
                fputs(first ? "" : ", ", stdout);
                sbctl_json_cstr(stdout, name);
                first = false;
        }
        fputs("]}", stdout);
}

static void print_json(const struct sb_backend_probe *hc, bool ok, const char *path,
                       const struct sbd_conf_errors *errs, const struct sb_hostcheck_params *p,
                       unsigned landlock_abi, const struct sb_hello *h, bool have_daemon)
{
        fputs("{\"ok\": ", stdout);
        fputs(ok ? "true" : "false", stdout);
        fputs(", \"config\": {\"path\": ", stdout);
        sbctl_json_cstr(stdout, path);
        fputs(", \"errors\": [", stdout);
        for (size_t i = 0; i < errs->n; i++) {
                fputs(i ? ", " : "", stdout);
                sbctl_json_cstr(stdout, errs->v[i]);
        }
        fputs("], \"state_dir\": ", stdout);
        sbctl_json_cstr(stdout, p->state_dir);
        printf(", \"uid_range\": [%" PRIu32 ", %" PRIu32 "]},\n \"checks\": [",
               p->uid_first, p->uid_last);
        for (size_t i = 0; i < hc->n; i++) {
                const struct sb_backend_probe_item *it = &hc->item[i];

                fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", stdout);
                sbctl_json_cstr(stdout, it->name);
                fputs(", \"status\": ", stdout);
                sbctl_json_cstr(stdout, sb_backend_probe_status_name(it->status));
                fputs(", \"detail\": ", stdout);
                sbctl_json_cstr(stdout, it->detail);
                fputs(", \"fix\": ", stdout);
                sbctl_json_cstr(stdout, it->fix[0] ? it->fix : NULL);
                fputc('}', stdout);
        }
        printf("],\n \"landlock_abi\": %u,\n \"daemon\": ", landlock_abi);
        print_json_daemon(h, have_daemon);
        fputs("}\n", stdout);
}

int sbctl_doctor(int argc, char **argv, const char *socket_path)
{
        struct sb_hello hello;
        bool have_daemon = false;
        struct sb_hostcheck_params p = { 0 };
        struct sb_backend_probe hc;
        struct sb_linux_hostcheck lhc = { .out = &hc };
        struct sbd_conf_errors errs = { 0 };
        struct sbd_conf *conf = NULL;
        const char *v, *config = NULL, *state_dir = NULL, *range = NULL;
        uint32_t first = 0, last = 0;
        bool json = false, ok;
        int r, status;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0) {
                        json = true;
                } else if ((v = value_of(argc, argv, &i, "--config"))) {
                        if (!*v) {
                                fprintf(stderr, "skillboxctl: doctor: --config: empty path\n");
                                return EXIT_CANNOT;
                        }
                        config = v;
                } else if ((v = value_of(argc, argv, &i, "--state-dir"))) {
                        if (!*v) {
                                fprintf(stderr, "skillboxctl: doctor: --state-dir: empty path\n");
                                return EXIT_CANNOT;
                        }
                        state_dir = v;
                } else if ((v = value_of(argc, argv, &i, "--uid-range"))) {
                        if (parse_range(v, &first, &last) < 0) {
                                fprintf(stderr, "skillboxctl: doctor: --uid-range: invalid range "
                                        "'%s' (FIRST-LAST, 0 < FIRST <= LAST)\n", v);
                                return EXIT_CANNOT;
                        }
                        range = v;
                } else {
                        fprintf(stderr, "skillboxctl: doctor: unexpected argument '%s' (usage: "
                                "doctor [--config PATH] [--state-dir DIR] [--uid-range FIRST-LAST] "
                                "[--json])\n", argv[i]);
                        return EXIT_CANNOT;
                }
        }

        /* The daemon's choice of file: --config, else the default if it exists. */
        if (!config && access(SKILLBOX_DEFAULT_CONFIG, F_OK) == 0)
                config = SKILLBOX_DEFAULT_CONFIG;
        /* As sbd_conf_load() does, but a file with errors is kept as far as
         * it parsed: the checks below then use the state directory and uid
         * range it names even when another key is wrong. */
        conf = sbd_conf_new_builtin();
        if (!conf) {
                fprintf(stderr, "skillboxctl: doctor: out of memory\n");
                return EXIT_CANNOT;
        }
        r = config ? sbd_conf_apply_file(conf, config, &errs) : 0;
        if (r == -ENOMEM) {
                conf = sbd_conf_free(conf);
                conf = sbd_conf_new_builtin();
                if (!conf) {
                        fprintf(stderr, "skillboxctl: doctor: out of memory\n");
                        sbd_conf_errors_clear(&errs);
                        return EXIT_CANNOT;
                }
        }
        p.state_dir = state_dir ? state_dir : conf->daemon.state_directory;
        if (!p.state_dir)
                p.state_dir = SKILLBOX_DEFAULT_STATE_DIR;
        p.uid_first = range ? first : conf->daemon.uid_first;
        p.uid_last = range ? last : conf->daemon.uid_last;

        memset(&hc, 0, sizeof(hc));
        check_config(&hc, config, &errs, r);
        sb_backend_hostcheck_privileges(&hc);
        sb_linux_hostcheck_run(NULL, &lhc);
        sb_backend_hostcheck_run(&p, &hc);
        check_state_dir_more(&hc, p.state_dir);
        memset(&hello, 0, sizeof(hello));
        check_daemon(&hc, socket_path, &hello, &have_daemon);
        ok = sb_backend_probe_ok(&hc);
        if (json) {
                print_json(&hc, ok, config, &errs, &p, lhc.landlock_abi, &hello, have_daemon);
        } else {
                for (size_t i = 0; i < hc.n; i++) {
                        const struct sb_backend_probe_item *it = &hc.item[i];

                        printf("%-11s %-4s %s%s%s\n", it->name,
                               sb_backend_probe_status_name(it->status), it->detail,
                               it->fix[0] ? "; fix: " : "", it->fix);
                }
        }
        status = ok ? 0 : 1;
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "skillboxctl: doctor: writing the report: %s\n", strerror(errno));
                status = EXIT_CANNOT;
        }
        sbd_conf_errors_clear(&errs);
        sbd_conf_free(conf);
        return status;
}
