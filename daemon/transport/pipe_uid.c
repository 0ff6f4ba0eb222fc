/* pipe_uid.c — a named-pipe client's uid from its SID (pipe_uid.h). */
#include <string.h>

#include "daemon/transport/pipe_uid.h"

/* Decimal digits only, no sign or leading zero, below SBD_PIPE_UID_FOREIGN;
 * UINT64_MAX otherwise. */
static uint64_t rid_value(const char *s)
{
        uint64_t v = 0;

        if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
                return UINT64_MAX;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return UINT64_MAX;
                v = v * 10 + (uint64_t)(*s - '0');
                if (v >= SBD_PIPE_UID_FOREIGN)
                        return UINT64_MAX;
        }
        return v;
}

uint32_t sbd_pipe_uid_of_sid(const char *sid, const char *machine_domain)
{
        static const char service_prefix[] = "S-1-5-";
        size_t n = machine_domain ? strlen(machine_domain) : 0;
        uint64_t v;

        if (strncmp(sid, service_prefix, sizeof(service_prefix) - 1) == 0) {
                const char *rest = sid + sizeof(service_prefix) - 1;

                if (strcmp(rest, "18") == 0 || strcmp(rest, "19") == 0 ||
                    strcmp(rest, "20") == 0)
                        return (uint32_t)rid_value(rest);
        }
        if (n == 0 || strncmp(sid, machine_domain, n) != 0 || sid[n] != '-')
                return SBD_PIPE_UID_FOREIGN;
        v = rid_value(sid + n + 1);
        /* Accounts start at 500 (Administrator); below is reserved, and
         * never a uid such as 0, which means root to the POSIX code. */
        return v == UINT64_MAX || v < SBD_PIPE_RID_FIRST ? SBD_PIPE_UID_FOREIGN : (uint32_t)v;
}
