/* pipe_sddl.c — the named pipe's DACL as SDDL (pipe_sddl.h). Pure.
 *
 * The group's SID is the only input, and it comes from the configuration
 * (a SID, or a name pipe.c resolved): it is checked to be a bare SID so no
 * text can add an ACE of its own.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "daemon/transport/pipe_sddl.h"

/* A run of decimal digits no larger than max; advances *p past it. */
static bool decimal(const char **p, uint64_t max)
{
        const char *s = *p;
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return false;
        /* No leading zeros: one spelling per SID. */
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++) {
                v = v * 10 + (uint64_t)(*s - '0');
                if (v > max)
                        return false;
        }
        *p = s;
        return true;
}

bool sbd_sid_string_valid(const char *s)
{
        unsigned n = 0;

        if (!s || strncmp(s, "S-1-", 4) != 0)
                return false;
        s += 4;
        /* The identifier authority: 48 bits. */
        if (!decimal(&s, (1ull << 48) - 1))
                return false;
        /* 1 to 15 subauthorities (SID_MAX_SUB_AUTHORITIES), 32 bits each. */
        while (*s == '-') {
                s++;
                if (!decimal(&s, UINT32_MAX) || ++n > 15)
                        return false;
        }
        return *s == '\0' && n >= 1;
}

/* Owner and group SYSTEM; a protected DACL. */
#define BASE "O:SYG:SYD:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;BA)"

int sbd_pipe_sddl(const char *group_sid, char *buf, size_t len)
{
        bool group = group_sid && *group_sid;
        int n;

        if (group && !sbd_sid_string_valid(group_sid))
                return -EINVAL;
        /* Deny first: the ACE order is the evaluation order. NU (network
         * logons) is refused outright besides PIPE_REJECT_REMOTE_CLIENTS. */
        if (group)
                n = snprintf(buf, len, "%s(A;;" SBD_PIPE_CLIENT_RIGHTS ";;;%s)", BASE, group_sid);
        else
                n = snprintf(buf, len, "%s", BASE);
        if (n < 0 || (size_t)n >= len)
                return -ENOSPC;
        return n;
}
