/* doctor_windows.c — `skillboxctl doctor [--json]` on Windows.
 *
 * The Linux doctor (doctor.c) runs the daemon's host checks itself; the
 * Windows backend's checks are the daemon's own (a job object, the pipe's
 * DACL), so here doctor asks the daemon: whether one answers on the pipe
 * (--socket, else the default), and what its host enforces, one line per
 * guarantee ("NAME STATUS detail", as doctor.c prints). --config,
 * --state-dir and --uid-range name Linux's checks: refused by name.
 */
#include <stdio.h>
#include <string.h>

#include "client/ctl_os.h"
#include "client/doctor.h"
#include "client/json.h"
#include "client/skillbox.h"

#define EXIT_CANNOT 125

struct guarantee {
        const char *name;
        const char *state;
};

static size_t guarantees_of(const struct sb_guarantees *g, struct guarantee *out)
{
        const struct guarantee all[] = {
                { "files", g->files },           { "network", g->network },
                { "memory", g->memory },         { "tasks", g->tasks },
                { "cpu", g->cpu },               { "identity", g->identity },
                { "syscalls", g->syscalls },     { "privileges", g->privileges },
                { "kill_tree", g->kill_tree },
        };

        memcpy(out, all, sizeof(all));
        return sizeof(all) / sizeof(all[0]);
}

static void print_text(const struct sb_hello *h, bool have, const char *path, const char *why)
{
        struct guarantee g[9];
        size_t n;

        if (!have) {
                printf("%-11s %-4s no answer at %s: %s; fix: start skillboxd (the service), or "
                       "name its pipe with skillboxctl --socket PIPE doctor\n", "daemon", "warn",
                       path, why);
                return;
        }
        printf("%-11s %-4s %s %s at %s, backend %s, sandboxes %s\n", "daemon", "ok", h->server,
               h->version, path, h->host.backend[0] ? h->host.backend : "unknown",
               h->sandboxes ? "yes" : "no");
        n = guarantees_of(&h->host.guarantees, g);
        for (size_t i = 0; i < n; i++)
                printf("%-11s %-4s %s\n", g[i].name, "info", g[i].state[0] ? g[i].state :
                       "not reported");
}

static void print_json(const struct sb_hello *h, bool have, const char *path, const char *why)
{
        fputs("{\"ok\": ", stdout);
        fputs(have ? "true" : "false", stdout);
        fputs(", \"socket\": ", stdout);
        sbctl_json_cstr(stdout, path);
        fputs(", \"daemon\": ", stdout);
        if (!have) {
                fputs("null, \"error\": ", stdout);
                sbctl_json_cstr(stdout, why);
                fputs("}\n", stdout);
                return;
        }
        fputs("{\"server\": ", stdout);
        sbctl_json_cstr(stdout, h->server);
        fputs(", \"version\": ", stdout);
        sbctl_json_cstr(stdout, h->version);
        printf(", \"sandboxes\": %s, \"host\": ", h->sandboxes ? "true" : "false");
        sbctl_json_enforced(stdout, &h->host);
        fputs("}}\n", stdout);
}

int sbctl_doctor(int argc, char **argv, const char *socket_path)
{
        const char *path = socket_path ? socket_path : sb_default_socket();
        const char *why = "";
        struct sb_hello h;
        bool json = false, have;
        sb_client *c = NULL;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0) {
                        json = true;
                } else if (strncmp(argv[i], "--config", 8) == 0 ||
                           strncmp(argv[i], "--state-dir", 11) == 0 ||
                           strncmp(argv[i], "--uid-range", 11) == 0) {
                        char what[32];

                        snprintf(what, sizeof(what), "doctor %.*s", (int)strcspn(argv[i], "="),
                                 argv[i]);
                        return ctl_os_unsupported(what);
                } else {
                        fprintf(stderr, "skillboxctl: doctor: unexpected argument '%s' (usage: "
                                "doctor [--json])\n", argv[i]);
                        return EXIT_CANNOT;
                }
        }
        memset(&h, 0, sizeof(h));
        r = sb_connect(socket_path, &c);
        if (r >= 0)
                r = sb_hello(c, "skillboxctl doctor", &h);
        have = r >= 0;
        if (!have)
                why = sb_errmsg(c);
        if (json)
                print_json(&h, have, path, why);
        else
                print_text(&h, have, path, why);
        sb_close(c);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "skillboxctl: doctor: writing the report failed\n");
                return EXIT_CANNOT;
        }
        return have ? 0 : 1;
}
