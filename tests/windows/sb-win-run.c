/* sb-win-run — runs one job through the Windows backend without the
 * daemon, as tests/windows/run.sh does under Wine. Built, not installed.
 *
 *   sb-win-run [--memory BYTES] [--tasks N] [--cpu PERCENT] [--state-dir DIR]
 *              [--kill-after MS] [--network none|host] [--env K=V]... -- PROG [ARG...]
 *
 * The job's stdout and stderr are copied to ours. Then one line each:
 *   killed: active_before=N          (with --kill-after, when it killed)
 *   result: exit_code=N signal=N cpu_user_ms=N cpu_sys_ms=N memory_peak=N oom=0|1 active_after=N
 *   enforced: backend=windows memory_max=N tasks_max=N cpu_percent=N network=...
 *   token: appcontainer|low integrity [(appcontainer: why not)]
 *   process token: integrity=0xRID appcontainer=0|1    (as the system reports
 *                  the job's process's token, queried while it runs)
 * or "spawn: <error>" and exit status 1. sb-win-run --probe prints the
 * backend's probe, "probe: NAME: DETAIL" a line. --network host gives the job the
 * host's network (the policy's default is none).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "backends/windows/win_backend.h"

#define ENV_MAX 32

static void copy_out(HANDLE r, HANDLE to)
{
        char buf[4096];
        DWORD avail = 0, n = 0, w;

        while (PeekNamedPipe(r, NULL, 0, NULL, &avail, NULL) && avail > 0 &&
               ReadFile(r, buf, avail < sizeof(buf) ? avail : sizeof(buf), &n, NULL) && n > 0)
                WriteFile(to, buf, n, &w, NULL);
}

/* What the system says of a process's token: its integrity level's RID
 * and whether it is an AppContainer's. */
static void proc_token(HANDLE process, char *out, size_t len)
{
        union {
                TOKEN_MANDATORY_LABEL label;
                BYTE bytes[sizeof(TOKEN_MANDATORY_LABEL) + SECURITY_MAX_SID_SIZE];
        } il;
        DWORD n, ac = 0;
        HANDLE t;

        snprintf(out, len, "unknown");
        if (!OpenProcessToken(process, TOKEN_QUERY, &t)) {
                snprintf(out, len, "OpenProcessToken: error %lu", (unsigned long)GetLastError());
                return;
        }
        if (!GetTokenInformation(t, TokenIsAppContainer, &ac, sizeof(ac), &n))
                ac = 0;
        if (GetTokenInformation(t, TokenIntegrityLevel, &il, sizeof(il), &n) &&
            *GetSidSubAuthorityCount(il.label.Label.Sid) > 0)
                snprintf(out, len, "integrity=0x%lx appcontainer=%d",
                         (unsigned long)*GetSidSubAuthority(
                                 il.label.Label.Sid, *GetSidSubAuthorityCount(il.label.Label.Sid) - 1),
                         ac != 0);
        else
                snprintf(out, len, "TokenIntegrityLevel: error %lu", (unsigned long)GetLastError());
        CloseHandle(t);
}

int main(int argc, char **argv)
{
        const struct sb_backend_ops *ops = &sb_backend_windows_ops;
        char state[MAX_PATH], errbuf[512] = "", job_id[32], proc_tok[128];
        char *envp[ENV_MAX + 1] = { 0 };
        struct sb_backend_config cfg = { .uid_first = 1, .uid_last = 16 };
        struct sb_job_spec spec;
        struct sb_policy policy;
        struct sb_backend *b = NULL;
        struct sb_backend_job *j = NULL;
        struct sb_backend_exit ex;
        struct sbp_enforced enf;
        SECURITY_ATTRIBUTES sa = { .nLength = sizeof(sa), .bInheritHandle = FALSE };
        HANDLE out_r, out_w, nul;
        long kill_after = -1;
        size_t nenv = 0;
        uint32_t id, active = 0;
        ULONGLONG start;
        int i, r;

        if (argc == 2 && strcmp(argv[1], "--probe") == 0) {
                struct sb_backend_probe pr;

                ops->probe(&cfg, &pr);
                for (size_t k = 0; k < pr.n; k++)
                        printf("probe: %s: %s\n", pr.item[k].name, pr.item[k].detail);
                return 0;
        }
        memset(&policy, 0, sizeof(policy));
        snprintf(state, sizeof(state), "%s\\sb-win-run", getenv("TEMP") ? getenv("TEMP") : ".");
        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        i++;
                        break;
                }
                if (i + 1 >= argc)
                        break;
                if (strcmp(argv[i], "--memory") == 0)
                        policy.memory_max = strtoull(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--tasks") == 0)
                        policy.tasks_max = strtoull(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--cpu") == 0)
                        policy.cpu_percent = (uint32_t)strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--kill-after") == 0)
                        kill_after = strtol(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--state-dir") == 0)
                        snprintf(state, sizeof(state), "%s", argv[++i]);
                else if (strcmp(argv[i], "--network") == 0)
                        policy.network = strcmp(argv[++i], "host") == 0 ? SB_NETWORK_HOST
                                                                         : SB_NETWORK_NONE;
                else if (strcmp(argv[i], "--env") == 0 && nenv < ENV_MAX)
                        envp[nenv++] = argv[++i];
                else
                        break;
        }
        if (i >= argc) {
                fprintf(stderr, "usage: sb-win-run [options] -- PROG [ARG...]\n");
                return 2;
        }
        /* A job's environment is what the spec says, and Windows programs
         * need SystemRoot to start at all. */
        if (nenv < ENV_MAX && getenv("SystemRoot")) {
                static char sysroot[MAX_PATH + 16];

                snprintf(sysroot, sizeof(sysroot), "SystemRoot=%s", getenv("SystemRoot"));
                envp[nenv++] = sysroot;
        }
        cfg.state_dir = state;
        r = ops->open(&cfg, &b, errbuf, sizeof(errbuf));
        if (r < 0) {
                printf("open: %s\n", errbuf);
                return 1;
        }
        r = ops->identity_take(b, &id);
        if (r < 0)
                return 1;
        snprintf(job_id, sizeof(job_id), "job-%lu", (unsigned long)GetCurrentProcessId());
        sb_job_spec_init(&spec, job_id, id, &policy);
        spec.argv = argv + i;
        spec.envp = envp;
        spec.workdir_fd = SB_HANDLE_NONE;
        if (!CreatePipe(&out_r, &out_w, &sa, 1 << 16))
                return 1;
        nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                          OPEN_EXISTING, 0, NULL);
        spec.stdin_fd = HandleToLong(nul);
        spec.stdout_fd = HandleToLong(out_w);
        spec.stderr_fd = HandleToLong(out_w);
        r = ops->spawn(b, &spec, &j, errbuf, sizeof(errbuf));
        CloseHandle(out_w);
        CloseHandle(nul);
        if (r < 0) {
                printf("spawn: %s\n", errbuf);
                fflush(stdout);
                return 1;
        }
        proc_token(j->process, proc_tok, sizeof(proc_tok));
        start = GetTickCount64();
        for (;;) {
                HANDLE h = LongToHandle(ops->exit_handle(j));
                DWORD w = WaitForSingleObject(h, 20);

                copy_out(out_r, GetStdHandle(STD_OUTPUT_HANDLE));
                if (w == WAIT_OBJECT_0)
                        break;
                if (kill_after >= 0 && GetTickCount64() - start >= (ULONGLONG)kill_after) {
                        JOBOBJECT_BASIC_ACCOUNTING_INFORMATION acct;

                        memset(&acct, 0, sizeof(acct));
                        QueryInformationJobObject(j->job, JobObjectBasicAccountingInformation,
                                                  &acct, sizeof(acct), NULL);
                        printf("killed: active_before=%lu\n", (unsigned long)acct.ActiveProcesses);
                        fflush(stdout);
                        ops->kill(j);
                        kill_after = -1;
                }
        }
        copy_out(out_r, GetStdHandle(STD_OUTPUT_HANDLE));
        r = ops->reap(j, &ex);
        if (r < 0) {
                printf("reap: error %d\n", r);
                return 1;
        }
        {
                struct sb_backend_exit again;

                memset(&again, 0, sizeof(again));
                sb_win_job_account(j, &again, &active);
        }
        ops->enforced(j, &enf);
        printf("result: exit_code=%" PRId32 " signal=%" PRId32 " cpu_user_ms=%" PRIu64
               " cpu_sys_ms=%" PRIu64 " memory_peak=%" PRIu64 " oom=%d active_after=%" PRIu32 "\n",
               ex.exit_code, ex.signal, ex.cpu_user_ms, ex.cpu_sys_ms, ex.memory_peak, ex.oom,
               active);
        printf("enforced: backend=%s memory_max=%" PRIu64 " tasks_max=%" PRIu64
               " cpu_percent=%" PRIu32 " network=%s workdir=%s\n",
               enf.backend, enf.memory_max, enf.tasks_max, enf.cpu_percent,
               enf.network[0] ? enf.network : "(not isolated)", enf.workdir);
        printf("token: %s%s%s%s\n", sb_win_token_mode_name(j->token),
               j->token_note[0] ? " (appcontainer: " : "", j->token_note,
               j->token_note[0] ? ")" : "");
        printf("process token: %s\n", proc_tok);
        fflush(stdout);
        ops->destroy(j);
        ops->identity_give(b, id);
        ops->close(b);
        CloseHandle(out_r);
        return 0;
}
