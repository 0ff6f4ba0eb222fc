/* win_backend.h — what the files of the Windows backend share (never included
 * outside backends/windows/).
 *
 * A job is a job object (limits from jobobject.c, an I/O completion port
 * for its notifications, kill-on-close) holding a process created
 * suspended, assigned, then resumed, so no instruction of the job runs
 * outside the job object. Handles cross the backend contract as sb_handle
 * (an int): kernel handles fit in 32 bits on 64-bit Windows
 * (HandleToLong/LongToHandle).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <windows.h>

#include "backends/backend.h"
#include "backends/windows/jobobject.h"
#include "backends/windows/token_plan.h"

/* The network capabilities an AppContainer of the host's network holds. */
#define SB_WIN_NET_CAPS 3

struct sb_backend {
        wchar_t jobs_dir[MAX_PATH];     /* <state_dir>\jobs */
        char state_dir[MAX_PATH];       /* as configured: names the AppContainers */
        uint32_t id_first, id_last;
        uint8_t *id_taken;              /* one byte per id */
};

struct sb_backend_job {
        struct sb_backend *b;
        char id[SBP_JOB_ID_MAX + 1];
        uint32_t identity;              /* from identity_take(): names the job's SID */
        struct sb_policy policy;
        struct sb_win_job_limits limits;
        HANDLE job;                     /* the job object */
        HANDLE iocp;                    /* its notifications */
        HANDLE process;                 /* the main process */
        DWORD pid;
        wchar_t dir[MAX_PATH];          /* the job's directory (its working directory) */
        bool killed;                    /* kill() was called */
        bool reaped;
        bool memory_limit_hit;          /* JOB_OBJECT_MSG_JOB_MEMORY_LIMIT came */
        bool process_limit_hit;         /* JOB_OBJECT_MSG_ACTIVE_PROCESS_LIMIT came */
        /* The main process's token (token.c). */
        enum sb_win_token_mode token;
        wchar_t container[SB_WIN_APPCONTAINER_NAME_MAX + 1];   /* its profile's name */
        bool container_made;            /* the profile exists: deleted at the end */
        PSID container_sid;             /* from CreateAppContainerProfile (FreeSid) */
        SID_AND_ATTRIBUTES caps[SB_WIN_NET_CAPS];
        BYTE cap_sid[SB_WIN_NET_CAPS][SECURITY_MAX_SID_SIZE];
        DWORD ncaps;
        HANDLE low_token;               /* SB_WIN_TOKEN_LOW_INTEGRITY's primary token */
        char token_note[256];           /* why AppContainer was not taken; "" = it was */
};

/* "step: the system's text (Win32 error N)" into errbuf; returns the
 * error as a negative errno. */
int sb_win_fail(char *errbuf, size_t errlen, DWORD err, const char *step);
int sb_win_errno(DWORD err);
/* text into errbuf; returns r. */
int sb_backend_fail_text(char *errbuf, size_t errlen, int r, const char *text);

/* UTF-8 to UTF-16 into out (n wide chars); -ENAMETOOLONG or -EINVAL. */
int sb_win_widen(const char *s, wchar_t *out, size_t n);

/* The job object with j->limits applied and its completion port (job.c). */
int sb_win_job_create(struct sb_backend_job *j, char *errbuf, size_t errlen);
/* Read the notifications waiting on the port (never blocks). */
void sb_win_job_drain(struct sb_backend_job *j);
/* CPU times, peak memory and the processes still running in the job. */
void sb_win_job_account(struct sb_backend_job *j, struct sb_backend_exit *out,
                        uint32_t *active);

/* The job's main process, created suspended in the job's directory with
 * only its three stdio handles inherited, assigned to j->job, resumed
 * (spawn.c). */
int sb_win_spawn(struct sb_backend_job *j, const struct sb_job_spec *spec, char *errbuf,
                 size_t errlen);

/* The job's token: AppContainer, or low integrity where that fails or the
 * daemon is not elevated, with j->dir granted to it alone (token.c). 0, or
 * the error of both in errbuf: the job must not run. */
int sb_win_token_prepare(struct sb_backend_job *j, char *errbuf, size_t errlen);
/* The process could not be created in its AppContainer (why): the
 * low-integrity token instead. */
int sb_win_token_fallback(struct sb_backend_job *j, const char *why, char *errbuf, size_t errlen);
/* The token a job of this host gets first, and why not an AppContainer
 * into why ("" when it is one): for probe(). */
enum sb_win_token_mode sb_win_token_probe(char *why, size_t len);
/* The profile deleted, the SID freed, the token closed. */
void sb_win_token_release(struct sb_backend_job *j);

/* Remove a directory tree (dirs.c); 0 or the first error (goes on). */
int sb_win_remove_tree(const wchar_t *path);
