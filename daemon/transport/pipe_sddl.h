/* pipe_sddl.h — the named pipe's security descriptor, as SDDL text, built
 * by pure code so the Linux unit suite checks it (pipe.c converts it with
 * ConvertStringSecurityDescriptorToSecurityDescriptorW).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What a client may do with the pipe: read and write data, read its
 * attributes and security, wait on it. Not FILE_GENERIC_WRITE: that holds
 * FILE_APPEND_DATA, which on a pipe is FILE_CREATE_PIPE_INSTANCE, and a
 * client that may create instances can serve the daemon's clients itself. */
#define SBD_PIPE_CLIENT_RIGHTS "0x120083"

/* s is a SID in string form: "S-1-" then an authority and at least one
 * subauthority, decimal, each within its type's range. Nothing else (no
 * SDDL aliases such as "BA", no ACE syntax). */
bool sbd_sid_string_valid(const char *s);

/* The pipe's descriptor: owner and group SYSTEM; a protected DACL (nothing
 * inherited) that denies network logons everything and grants all to
 * SYSTEM and the Administrators, and SBD_PIPE_CLIENT_RIGHTS to group_sid
 * (NULL or "": no such entry). Returns the length, -EINVAL for a
 * group_sid that sbd_sid_string_valid() refuses, or -ENOSPC. */
int sbd_pipe_sddl(const char *group_sid, char *buf, size_t len);
