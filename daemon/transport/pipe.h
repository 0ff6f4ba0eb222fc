/* pipe.h — the Windows named pipe the daemon listens on: its instances,
 * their security descriptor, and who the client at the other end is.
 *
 * Plain Win32, no libuv: the pieces the named-pipe transport
 * (named_pipe.c) is built from, and what tests/windows/ serves libskillbox
 * with under Wine.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <windows.h>

/* The security descriptor of pipe_sddl.c for group_sid (NULL: SYSTEM and
 * Administrators only), for CreateNamedPipeW; LocalFree() it. 0 or
 * -errno with the reason in errbuf. */
int sbd_pipe_security(const char *group_sid, PSECURITY_DESCRIPTOR *out, char *errbuf,
                      size_t errlen);

/* A new instance of the pipe name (UTF-8, "\\.\pipe\..."): byte mode,
 * local clients only (PIPE_REJECT_REMOTE_CLIENTS), with sd. first: the
 * first instance (FILE_FLAG_FIRST_PIPE_INSTANCE), which fails when anyone
 * else already made the name, so nobody can sit on the daemon's name
 * before it. INVALID_HANDLE_VALUE and the reason in errbuf on failure. */
HANDLE sbd_pipe_instance(const char *name, PSECURITY_DESCRIPTOR sd, bool first, char *errbuf,
                         size_t errlen);

/* Who is connected to the instance h, by the system's word: the client's
 * process id (GetNamedPipeClientProcessId) and its token's user SID and
 * whether the token holds the Administrators group (read while
 * impersonating the client at identification level, then reverted). */
struct sbd_pipe_peer {
        uint32_t pid;
        char user_sid[192];
        bool admin;
};
int sbd_pipe_peer(HANDLE h, struct sbd_pipe_peer *out, char *errbuf, size_t errlen);

/* The SID ("S-1-5-...") of the account or group name ("alice",
 * "HOST\\alice", "Administrators") into buf: 0, -ENOENT when there is
 * none, or another -errno. */
int sbd_pipe_account_sid(const char *name, char *buf, size_t len);

/* This machine's account domain SID ("S-1-5-21-a-b-c"), read once from the
 * local security authority; "" when it cannot be read (then only the
 * service accounts map to uids: pipe_uid.h). Loop thread only; the
 * daemon's (named_pipe.c), for peers and for [Access] names alike. */
const char *sbd_pipe_machine_domain(void);
