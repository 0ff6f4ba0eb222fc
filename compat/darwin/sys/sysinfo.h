/* sys/sysinfo.h — Linux's sysinfo(2), what skillboxd reads of it (the
 * host's RAM, for its memory quotas), from macOS's sysctl hw.memsize. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <sys/sysctl.h>

struct sysinfo {
        unsigned long totalram;
        unsigned int mem_unit;
};

static inline int sysinfo(struct sysinfo *si)
{
        uint64_t mem = 0;
        size_t len = sizeof(mem);

        if (sysctlbyname("hw.memsize", &mem, &len, NULL, 0) < 0)
                return -1;
        si->totalram = (unsigned long)mem;
        si->mem_unit = 1;
        return 0;
}
