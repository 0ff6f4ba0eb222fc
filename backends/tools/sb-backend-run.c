/* sb-backend-run — manual driver: run one job through a backend without
 * the daemon, for end-to-end checks and timing. Built, never installed.
 *
 *   sb-backend-run [--backend linux|posix] [--state-dir DIR] [--cgroup NAME]
 *                  [--uid-range A-B] [--uid N] [--memory BYTES] [--tasks N]
 *                  [--cpu PERCENT] [--tmp BYTES] [--timeout MS] [--id ID]
 *                  [--repeat N] [--quiet] [--abandon] [--open-only] [--timing]
 *                  -- PROG [ARG...]
 *
 * stdio of the job is the driver's own. The result goes to stderr as one
 * line "result: ..." per run. --abandon leaves the job running and exits
 * (to test leftover reaping by the next open); --open-only opens and closes
 * the backend (which reaps leftovers); --timing prints the mean time of each
 * phase (spawn, run until the exit fd is readable, reap, destroy).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "backends/backend.h"

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t now_ms(void)
{
        return now_us() / 1000;
}

static void usage(void)
{
        fprintf(stderr, "usage: sb-backend-run [options] -- PROG [ARG...]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        const char *backend = HAVE_BACKEND_LINUX ? "linux" : "posix";
        struct sb_backend_config cfg = {
                .state_dir = "/tmp/sb-backend-run",
                .uid_first = 61000,
                .uid_last = 61099,
                .linux_cfg.cgroup_name = "sb-backend-run",
        };
        struct sb_job_spec spec = {
                .policy = {
                        .memory_max = 512ull << 20,
                        .tasks_max = 64,
                        .cpu_percent = 100,
                        .tmp_size = 64ull << 20,
                },
                .stdin_fd = 0,
                .stdout_fd = 1,
                .stderr_fd = 2,
                .workdir_fd = -1,       /* a fresh /work */
        };
        char *envp[] = {
                "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/work", "LANG=C.UTF-8",
                "TMPDIR=/tmp", "USER=skillbox", NULL,
        };
        uint64_t timeout_ms = 10000;
        long repeat = 1, uid = -1;
        bool quiet = false, abandon = false, open_only = false, timing = false;
        uint64_t t_spawn = 0, t_run = 0, t_reap = 0, t_destroy = 0;
        const char *id = NULL;
        char errbuf[256] = "";
        int i, r, failures = 0;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!strcmp(a, "--")) {
                        i++;
                        break;
                } else if (!strcmp(a, "--quiet")) {
                        quiet = true;
                        continue;
                } else if (!strcmp(a, "--abandon")) {
                        abandon = true;
                        continue;
                } else if (!strcmp(a, "--timing")) {
                        timing = true;
                        continue;
                } else if (!strcmp(a, "--open-only")) {
                        open_only = true;
                        continue;
                }
                if (!v)
                        usage();
                i++;
                if (!strcmp(a, "--backend"))
                        backend = v;
                else if (!strcmp(a, "--state-dir"))
                        cfg.state_dir = v;
                else if (!strcmp(a, "--cgroup"))
                        cfg.linux_cfg.cgroup_name = v;
                else if (!strcmp(a, "--uid-range")) {
                        if (sscanf(v, "%" SCNu32 "-%" SCNu32, &cfg.uid_first, &cfg.uid_last) != 2)
                                usage();
                } else if (!strcmp(a, "--uid"))
                        uid = strtol(v, NULL, 10);
                else if (!strcmp(a, "--memory"))
                        spec.policy.memory_max = strtoull(v, NULL, 10);
                else if (!strcmp(a, "--tasks"))
                        spec.policy.tasks_max = strtoull(v, NULL, 10);
                else if (!strcmp(a, "--cpu"))
                        spec.policy.cpu_percent = (uint32_t)strtoul(v, NULL, 10);
                else if (!strcmp(a, "--tmp"))
                        spec.policy.tmp_size = strtoull(v, NULL, 10);
                else if (!strcmp(a, "--timeout"))
                        timeout_ms = strtoull(v, NULL, 10);
                else if (!strcmp(a, "--id"))
                        id = v;
                else if (!strcmp(a, "--repeat"))
                        repeat = strtol(v, NULL, 10);
                else
                        usage();
        }
        if (i >= argc && !open_only)
                usage();
        spec.argv = argv + i;
        spec.envp = envp;
        spec.uid = spec.gid = uid >= 0 ? (uint32_t)uid : cfg.uid_first;

        const struct sb_backend_ops *ops = sb_backend_find(backend);
        if (!ops) {
                fprintf(stderr, "sb-backend-run: no backend %s\n", backend);
                return 2;
        }
        struct sb_backend *b;
        /* The backend takes a state dir its caller made (the daemon's
         * statedir.c): this tool's own, private. */
        char jobs[256];
        snprintf(jobs, sizeof(jobs), "%s/jobs", cfg.state_dir);
        if ((mkdir(cfg.state_dir, 0700) < 0 && errno != EEXIST) ||
            (mkdir(jobs, 0700) < 0 && errno != EEXIST)) {
                fprintf(stderr, "sb-backend-run: mkdir %s: %s\n", jobs, strerror(errno));
                return 1;
        }
        r = ops->open(&cfg, &b, errbuf, sizeof(errbuf));
        if (r < 0) {
                fprintf(stderr, "sb-backend-run: open: %s\n", errbuf);
                return 1;
        }
        if (open_only) {
                ops->close(b);
                return 0;
        }
        for (long n = 0; n < repeat; n++) {
                char idbuf[SBP_JOB_ID_MAX + 1];
                struct sb_backend_job *j;
                struct sb_backend_exit ex;
                struct sbp_enforced enf;
                bool timed_out = false;

                if (id && repeat == 1)
                        snprintf(idbuf, sizeof(idbuf), "%s", id);
                else
                        snprintf(idbuf, sizeof(idbuf), "run%d-%ld", (int)getpid(), n);
                spec.job_id = idbuf;
                uint64_t t0 = now_ms(), u0 = now_us();
                r = ops->spawn(b, &spec, &j, errbuf, sizeof(errbuf));
                uint64_t u1 = now_us();
                if (r < 0) {
                        fprintf(stderr, "sb-backend-run: spawn: %s\n", errbuf);
                        failures++;
                        continue;
                }
                if (abandon) {
                        fprintf(stderr, "abandoned: job %s pid %d\n", idbuf, ops->pid(j));
                        return 0;       /* no kill, no reap: a leftover on purpose */
                }
                struct pollfd pfd = { .fd = ops->exit_handle(j), .events = POLLIN };
                for (;;) {
                        uint64_t el = now_ms() - t0;
                        int left = el >= timeout_ms ? 0 : (int)(timeout_ms - el);
                        r = poll(&pfd, 1, left);
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r == 0 && !timed_out) {
                                timed_out = true;
                                ops->kill(j);
                                continue;
                        }
                        break;
                }
                uint64_t u2 = now_us();
                r = ops->reap(j, &ex);
                /* Woken early (the contract allows it): wait for the next
                 * readiness and ask again. */
                while (r == -EAGAIN && (poll(&pfd, 1, -1) >= 0 || errno == EINTR))
                        r = ops->reap(j, &ex);
                uint64_t u3 = now_us();
                uint64_t wall = now_ms() - t0;
                if (r < 0) {
                        fprintf(stderr, "sb-backend-run: reap: %s\n", strerror(-r));
                        failures++;
                }
                ops->enforced(j, &enf);
                if (!quiet) {
                        fprintf(stderr,
                                "result: job=%s exit_code=%d signal=%d setup_failed=%d error=\"%s\" "
                                "timeout=%d oom=%d wall_ms=%" PRIu64 " cpu_user_ms=%" PRIu64
                                " cpu_sys_ms=%" PRIu64 " memory_peak=%" PRIu64 " tasks_peak=%" PRId64 "\n",
                                idbuf, ex.exit_code, ex.signal, ex.setup_failed, ex.error, timed_out,
                                ex.oom, wall, ex.cpu_user_ms, ex.cpu_sys_ms, ex.memory_peak,
                                ex.tasks_peak);
                        fprintf(stderr,
                                "enforced: backend=%s ns=0x%x cgroup=%s seccomp=%d landlock=%u nnp=%d "
                                "caps_dropped=%d rlimits=%d pgrp=%d uid=%" PRId64 " gid=%" PRId64
                                " network=\"%s\" memory_max=%" PRIu64 " tasks_max=%" PRIu64 " cpu=%u\n",
                                enf.backend, enf.namespaces, enf.cgroup, enf.seccomp, enf.landlock,
                                enf.no_new_privs, enf.capabilities_dropped, enf.rlimits,
                                enf.process_group, enf.uid, enf.gid, enf.network, enf.memory_max,
                                enf.tasks_max, enf.cpu_percent);
                }
                if (ex.setup_failed || ex.exit_code != 0)
                        failures++;
                ops->destroy(j);
                t_spawn += u1 - u0;
                t_run += u2 - u1;
                t_reap += u3 - u2;
                t_destroy += now_us() - u3;
        }
        if (timing && repeat > 0)
                fprintf(stderr, "timing (mean of %ld, us): spawn %" PRIu64 " run %" PRIu64
                        " reap %" PRIu64 " destroy %" PRIu64 "\n", repeat, t_spawn / (uint64_t)repeat,
                        t_run / (uint64_t)repeat, t_reap / (uint64_t)repeat,
                        t_destroy / (uint64_t)repeat);
        ops->close(b);
        return failures ? 1 : 0;
}
