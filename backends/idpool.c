/* idpool.c — the job identities a backend hands out: here ids (uid = gid)
 * from the configured range, a bitmap taken round-robin, so that an id
 * just given back is reused last (whatever of its job lingers has the
 * longest time to go). Touched from the daemon's loop thread only.
 */
#include <errno.h>
#include <stdlib.h>

#include "backends/internal.h"

int sb_backend_idpool_init(struct sb_backend_idpool *p, uint32_t first, uint32_t last)
{
        p->used = NULL;
        if (first == 0 || first > last || last == UINT32_MAX)
                return -EINVAL;
        p->first = first;
        p->count = last - first + 1;
        p->cursor = 0;
        p->used = calloc((p->count + 7) / 8, 1);
        return p->used ? 0 : -ENOMEM;
}

void sb_backend_idpool_free(struct sb_backend_idpool *p)
{
        free(p->used);
        p->used = NULL;
}

int sb_backend_idpool_take(struct sb_backend_idpool *p, uint32_t *out)
{
        for (uint32_t i = 0; i < p->count; i++) {
                uint32_t k = (p->cursor + i) % p->count;

                if (!(p->used[k / 8] & (1u << (k % 8)))) {
                        p->used[k / 8] |= (uint8_t)(1u << (k % 8));
                        p->cursor = (k + 1) % p->count;
                        *out = p->first + k;
                        return 0;
                }
        }
        return -EAGAIN;
}

void sb_backend_idpool_give(struct sb_backend_idpool *p, uint32_t id)
{
        uint32_t k = id - p->first;

        /* Not one of ours (a caller's bug): nothing to give back. */
        if (id < p->first || k >= p->count)
                return;
        p->used[k / 8] &= (uint8_t)~(1u << (k % 8));
}
