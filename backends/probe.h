/* probe.h — what a host check found, one item per mechanism.
 *
 * The neutral result of a backend's probe() (backend.h) and of the host
 * checks `skillboxctl doctor` prints: no libc beyond stdio and string, so
 * the CLI links it without the backends.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum sb_backend_probe_status {
        SB_BACKEND_PROBE_OK,
        SB_BACKEND_PROBE_WARN,   /* works, but weaker or surprising */
        SB_BACKEND_PROBE_FAIL,   /* the default profile cannot be enforced */
};

struct sb_backend_probe_item {
        const char *name;                 /* "namespaces", "cgroup", ... */
        enum sb_backend_probe_status status;
        char detail[384];                 /* what the host has */
        char fix[384];                    /* how to fix it; "" when nothing to fix */
};

#define SB_BACKEND_PROBE_ITEMS_MAX 12

struct sb_backend_probe {
        size_t n;
        struct sb_backend_probe_item item[SB_BACKEND_PROBE_ITEMS_MAX];
        /* "" when the backend can run jobs on this host; else why it cannot
         * (the daemon then refuses to start with it). */
        char unusable[512];
};

/* A new item, OK and empty. The checks are a fixed list well below the
 * capacity; past it the last item is reused rather than overrun. */
static inline struct sb_backend_probe_item *sb_backend_probe_add(struct sb_backend_probe *p,
                                                                 const char *name)
{
        struct sb_backend_probe_item *it;

        if (p->n < SB_BACKEND_PROBE_ITEMS_MAX)
                p->n++;
        it = &p->item[p->n - 1];
        it->name = name;
        it->status = SB_BACKEND_PROBE_OK;
        it->detail[0] = it->fix[0] = '\0';
        return it;
}

/* Raise an item's status to s (never lower it). */
static inline void sb_backend_probe_worsen(struct sb_backend_probe_item *it,
                                           enum sb_backend_probe_status s)
{
        if (s > it->status)
                it->status = s;
}

/* Append to a fixed buffer; silently truncated (these are messages). */
__attribute__((format(printf, 3, 4)))
static inline void sb_backend_probe_append(char *buf, size_t len, const char *fmt, ...)
{
        size_t n = strlen(buf);
        va_list ap;

        if (n + 1 >= len)
                return;
        va_start(ap, fmt);
        vsnprintf(buf + n, len - n, fmt, ap);
        va_end(ap);
}

/* True when no item is SB_BACKEND_PROBE_FAIL. */
static inline bool sb_backend_probe_ok(const struct sb_backend_probe *p)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->item[i].status == SB_BACKEND_PROBE_FAIL)
                        return false;
        return true;
}

/* "ok", "warn", "fail". */
static inline const char *sb_backend_probe_status_name(enum sb_backend_probe_status s)
{
        switch (s) {
        case SB_BACKEND_PROBE_OK:
                return "ok";
        case SB_BACKEND_PROBE_WARN:
                return "warn";
        case SB_BACKEND_PROBE_FAIL:
                return "fail";
        }
        return "fail";
}
