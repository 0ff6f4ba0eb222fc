/* spawn.c — a Windows job's main process.
 *
 * Created suspended, assigned to the job object, then resumed: by its first
 * instruction it is in the job, and so is every process it creates (no
 * breakaway is allowed). It inherits exactly its three stdio handles
 * (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), never another handle the daemon
 * holds; its environment is the spec's alone; its working directory is the
 * job's directory. Its token is the job's (token.c): the AppContainer by
 * PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES, the low-integrity token by
 * CreateProcessAsUserW (a restricted copy of the daemon's own, which needs
 * no privilege to assign). When the system refuses the process its
 * AppContainer, the low-integrity token is tried once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/windows/cmdline.h"
#include "backends/windows/win_backend.h"

#define CMDLINE_MAX 32767          /* CreateProcessW's bound, in characters */
#define ENV_MAX (1u << 20)         /* bytes of UTF-16 environment block */

/* envp as a UTF-16 block: "K=V\0K=V\0\0". */
static wchar_t *env_block(char *const *envp)
{
        size_t cap = 1, pos = 0;
        wchar_t *block;

        for (size_t i = 0; envp && envp[i]; i++)
                cap += strlen(envp[i]) + 1;
        if (cap > ENV_MAX / sizeof(wchar_t))
                return NULL;
        block = calloc(cap, sizeof(wchar_t));
        if (!block)
                return NULL;
        for (size_t i = 0; envp && envp[i]; i++) {
                /* UTF-16 needs no more units than UTF-8 has bytes. */
                int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, envp[i], -1,
                                            block + pos, (int)(cap - pos));

                if (n <= 0) {
                        free(block);
                        return NULL;
                }
                pos += (size_t)n;
        }
        block[pos] = L'\0';
        return block;
}

/* The stdio handles the spec gives (NULL for none), and the distinct ones
 * in list (HANDLE_LIST refuses duplicates); returns how many. */
static size_t stdio_list(const struct sb_job_spec *spec, HANDLE std[3], HANDLE list[3])
{
        const sb_handle in[3] = { spec->stdin_fd, spec->stdout_fd, spec->stderr_fd };
        size_t n = 0;

        for (int i = 0; i < 3; i++) {
                bool seen = false;

                std[i] = in[i] == SB_HANDLE_NONE ? NULL : LongToHandle(in[i]);
                if (!std[i])
                        continue;
                for (size_t k = 0; k < n; k++)
                        seen = seen || list[k] == std[i];
                if (!seen)
                        list[n++] = std[i];
        }
        return n;
}

/* Inheritable only for the CreateProcessW that names them in its handle
 * list: a process the daemon starts otherwise must not get them. */
static void inheritable(HANDLE *list, size_t n, bool on)
{
        for (size_t i = 0; i < n; i++)
                SetHandleInformation(list[i], HANDLE_FLAG_INHERIT, on ? HANDLE_FLAG_INHERIT : 0);
}

static void attrs_free(STARTUPINFOEXW *si)
{
        if (si->lpAttributeList) {
                DeleteProcThreadAttributeList(si->lpAttributeList);
                free(si->lpAttributeList);
        }
        si->lpAttributeList = NULL;
}

/* The attribute list: the handles to inherit, and the AppContainer (sc
 * must outlive the list) when the job has one. */
static int attrs_make(struct sb_backend_job *j, HANDLE *list, size_t nlist,
                      SECURITY_CAPABILITIES *sc, STARTUPINFOEXW *si, char *errbuf, size_t errlen)
{
        SIZE_T size = 0;
        DWORD n = j->token == SB_WIN_TOKEN_APPCONTAINER ? 2 : 1;

        InitializeProcThreadAttributeList(NULL, n, 0, &size);
        si->lpAttributeList = malloc(size);
        if (!si->lpAttributeList)
                return sb_backend_fail_text(errbuf, errlen, -ENOMEM,
                                            "attribute list: out of memory");
        if (!InitializeProcThreadAttributeList(si->lpAttributeList, n, 0, &size)) {
                free(si->lpAttributeList);
                si->lpAttributeList = NULL;
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "InitializeProcThreadAttributeList");
        }
        if (nlist > 0 && !UpdateProcThreadAttribute(si->lpAttributeList, 0,
                                                    PROC_THREAD_ATTRIBUTE_HANDLE_LIST, list,
                                                    nlist * sizeof(HANDLE), NULL, NULL))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "UpdateProcThreadAttribute(handle list)");
        if (j->token != SB_WIN_TOKEN_APPCONTAINER)
                return 0;
        memset(sc, 0, sizeof(*sc));
        sc->AppContainerSid = j->container_sid;
        sc->Capabilities = j->ncaps ? j->caps : NULL;
        sc->CapabilityCount = j->ncaps;
        if (!UpdateProcThreadAttribute(si->lpAttributeList, 0,
                                       PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES, sc,
                                       sizeof(*sc), NULL, NULL))
                return sb_win_fail(errbuf, errlen, GetLastError(),
                                   "UpdateProcThreadAttribute(security capabilities)");
        return 0;
}

/* The process, suspended, with the job's token; *err the Win32 error. */
static int create(struct sb_backend_job *j, wchar_t *cmd, wchar_t *env, HANDLE *list,
                  size_t nlist, STARTUPINFOEXW *si, PROCESS_INFORMATION *pi, DWORD *err,
                  char *errbuf, size_t errlen)
{
        const DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT |
                            EXTENDED_STARTUPINFO_PRESENT | CREATE_NO_WINDOW |
                            CREATE_NEW_PROCESS_GROUP;
        BOOL ok;
        DWORD e;

        inheritable(list, nlist, true);
        if (j->token == SB_WIN_TOKEN_LOW_INTEGRITY)
                ok = CreateProcessAsUserW(j->low_token, NULL, cmd, NULL, NULL, nlist > 0, flags,
                                          env, j->dir, &si->StartupInfo, pi);
        else
                ok = CreateProcessW(NULL, cmd, NULL, NULL, nlist > 0, flags, env, j->dir,
                                    &si->StartupInfo, pi);
        e = ok ? 0 : GetLastError();
        *err = e;
        inheritable(list, nlist, false);
        if (!ok)
                return sb_win_fail(errbuf, errlen, e, j->token == SB_WIN_TOKEN_LOW_INTEGRITY
                                                      ? "CreateProcessAsUserW"
                                                      : "CreateProcessW(AppContainer)");
        return 0;
}

int sb_win_spawn(struct sb_backend_job *j, const struct sb_job_spec *spec, char *errbuf,
                 size_t errlen)
{
        STARTUPINFOEXW si;
        SECURITY_CAPABILITIES sc;
        PROCESS_INFORMATION pi;
        HANDLE std[3], list[3];
        char *cmd8 = NULL;
        wchar_t *cmd = NULL, *env = NULL;
        size_t nlist;
        DWORD err = 0;
        int r;

        memset(&si, 0, sizeof(si));
        memset(&pi, 0, sizeof(pi));
        cmd8 = malloc(CMDLINE_MAX);
        cmd = calloc(CMDLINE_MAX + 1, sizeof(wchar_t));
        if (!cmd8 || !cmd) {
                r = sb_backend_fail_text(errbuf, errlen, -ENOMEM, "command line: out of memory");
                goto out;
        }
        r = sb_win_cmdline(spec->argv, cmd8, CMDLINE_MAX);
        if (r < 0) {
                r = sb_backend_fail_text(errbuf, errlen, r, r == -ENOSPC
                                         ? "command line: longer than 32767 characters"
                                         : "command line: no program");
                goto out;
        }
        r = sb_win_widen(cmd8, cmd, CMDLINE_MAX + 1);
        if (r < 0) {
                r = sb_backend_fail_text(errbuf, errlen, r, "command line: not UTF-8");
                goto out;
        }
        env = env_block(spec->envp);
        if (!env) {
                r = sb_backend_fail_text(errbuf, errlen, -EINVAL,
                                         "environment: not UTF-8, or larger than 1 MiB");
                goto out;
        }

        nlist = stdio_list(spec, std, list);
        si.StartupInfo.cb = sizeof(si);
        si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
        si.StartupInfo.hStdInput = std[0];
        si.StartupInfo.hStdOutput = std[1];
        si.StartupInfo.hStdError = std[2];
        r = attrs_make(j, list, nlist, &sc, &si, errbuf, errlen);
        if (r < 0)
                goto out;
        r = create(j, cmd, env, list, nlist, &si, &pi, &err, errbuf, errlen);
        /* A system that cannot start a process in an AppContainer says
         * so; any other failure (no such program, one the container may
         * not read) is the job's, and no weaker token gets around it. */
        if (r < 0 && j->token == SB_WIN_TOKEN_APPCONTAINER &&
            (err == ERROR_INVALID_PARAMETER || err == ERROR_NOT_SUPPORTED ||
             err == ERROR_CALL_NOT_IMPLEMENTED)) {
                char why[256];

                snprintf(why, sizeof(why), "%s", errbuf);
                attrs_free(&si);
                r = sb_win_token_fallback(j, why, errbuf, errlen);
                if (r == 0)
                        r = attrs_make(j, list, nlist, &sc, &si, errbuf, errlen);
                if (r == 0)
                        r = create(j, cmd, env, list, nlist, &si, &pi, &err, errbuf, errlen);
        }
        if (r < 0)
                goto out;
        if (!AssignProcessToJobObject(j->job, pi.hProcess)) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "AssignProcessToJobObject");
                TerminateProcess(pi.hProcess, 1);
                goto out_proc;
        }
        if (ResumeThread(pi.hThread) == (DWORD)-1) {
                r = sb_win_fail(errbuf, errlen, GetLastError(), "ResumeThread");
                TerminateJobObject(j->job, 1);
                goto out_proc;
        }
        CloseHandle(pi.hThread);
        j->process = pi.hProcess;
        j->pid = pi.dwProcessId;
        r = 0;
        goto out;
out_proc:
        WaitForSingleObject(pi.hProcess, INFINITE);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
out:
        attrs_free(&si);
        free(env);
        free(cmd);
        free(cmd8);
        return r;
}
