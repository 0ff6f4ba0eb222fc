/* <sys/sysinfo.h> on Windows: the physical memory, the one figure the
 * daemon reads (quota.c); the other fields are zero. */
#pragma once
#include <errno.h>
#include <string.h>
#include <windows.h>

struct sysinfo {
        unsigned long long totalram;
        unsigned long long freeram;
        unsigned int mem_unit;
};

static inline int sysinfo(struct sysinfo *si)
{
        MEMORYSTATUSEX ms = { .dwLength = sizeof(ms) };

        memset(si, 0, sizeof(*si));
        if (!GlobalMemoryStatusEx(&ms)) {
                errno = EIO;
                return -1;
        }
        si->totalram = ms.ullTotalPhys;
        si->freeram = ms.ullAvailPhys;
        si->mem_unit = 1;
        return 0;
}
