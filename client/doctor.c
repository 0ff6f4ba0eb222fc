/* doctor.c — `skillboxctl doctor [--state-dir DIR] [--uid-range FIRST-LAST] [--json]`.
 *
 * Runs the same host checks skillboxd logs at start with the linux backend
 * (backends/hostcheck.c, and the backend's own, backends/linux/hostcheck.c)
 * in this process — no daemon needed, so it also answers "why does the
 * daemon not start". One line per check, "NAME STATUS detail", and for a
 * missing piece "; fix: ..." on the same line, so the output greps well.
 * Run it as root to see what the daemon will see.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/hostcheck.h"
#include "backends/linux/hostcheck.h"
#include "client/doctor.h"
#include "client/json.h"
#include "config.h"

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

int sbctl_doctor(int argc, char **argv)
{
        struct sb_hostcheck_params p = {
                .state_dir = SKILLBOX_DEFAULT_STATE_DIR,
                .uid_first = 60000,
                .uid_last = 60999,
        };
        struct sb_backend_probe hc;
        struct sb_linux_hostcheck lhc = { .out = &hc };
        bool json = false, ok;
        const char *v;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0) {
                        json = true;
                } else if ((v = value_of(argc, argv, &i, "--state-dir"))) {
                        if (!*v) {
                                fprintf(stderr, "skillboxctl: doctor: --state-dir: empty path\n");
                                return EXIT_CANNOT;
                        }
                        p.state_dir = v;
                } else if ((v = value_of(argc, argv, &i, "--uid-range"))) {
                        if (parse_range(v, &p.uid_first, &p.uid_last) < 0) {
                                fprintf(stderr, "skillboxctl: doctor: --uid-range: invalid range "
                                        "'%s' (FIRST-LAST, 0 < FIRST <= LAST)\n", v);
                                return EXIT_CANNOT;
                        }
                } else {
                        fprintf(stderr, "skillboxctl: doctor: unexpected argument '%s' (usage: "
                                "doctor [--state-dir DIR] [--uid-range FIRST-LAST] [--json])\n",
                                argv[i]);
                        return EXIT_CANNOT;
                }
        }

        memset(&hc, 0, sizeof(hc));
        sb_backend_hostcheck_privileges(&hc);
        sb_linux_hostcheck_run(NULL, &lhc);
        sb_backend_hostcheck_run(&p, &hc);
        ok = sb_backend_probe_ok(&hc);
        if (json) {
                fputs("{\"ok\": ", stdout);
                fputs(ok ? "true" : "false", stdout);
                fputs(", \"checks\": [", stdout);
                for (size_t i = 0; i < hc.n; i++) {
                        const struct sb_backend_probe_item *it = &hc.item[i];

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
                printf("],\n \"landlock_abi\": %u}\n", lhc.landlock_abi);
        } else {
                for (size_t i = 0; i < hc.n; i++) {
                        const struct sb_backend_probe_item *it = &hc.item[i];

                        printf("%-11s %-4s %s%s%s\n", it->name,
                               sb_backend_probe_status_name(it->status), it->detail,
                               it->fix[0] ? "; fix: " : "", it->fix);
                }
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "skillboxctl: doctor: writing the report: %s\n", strerror(errno));
                return EXIT_CANNOT;
        }
        return ok ? 0 : 1;
}
