/* msgids.c — a connection's msgids in flight: open addressing with linear
 * probing, removal by backward shift (no tombstones, so a long-lived
 * connection never degrades). The table stays at most 3/4 full and is
 * halved when under 1/8 full, so its memory follows the peak of requests
 * in flight only while they are.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon/msgids.h"

#define MIN_CAP 16u

static size_t home(uint32_t id, size_t cap)
{
        /* Fibonacci hashing: clients count msgids up, which this spreads. */
        return (size_t)((id * UINT32_C(2654435761)) & (cap - 1));
}

static struct sbd_msgid_slot *find(const struct sbd_msgids *s, uint32_t id)
{
        if (s->cap == 0)
                return NULL;
        for (size_t i = home(id, s->cap);; i = (i + 1) & (s->cap - 1)) {
                if (s->slots[i].count == 0)
                        return NULL;
                if (s->slots[i].id == id)
                        return &s->slots[i];
        }
}

static void put(struct sbd_msgid_slot *slots, size_t cap, struct sbd_msgid_slot e)
{
        size_t i = home(e.id, cap);

        while (slots[i].count != 0)
                i = (i + 1) & (cap - 1);
        slots[i] = e;
}

static int resize(struct sbd_msgids *s, size_t cap)
{
        struct sbd_msgid_slot *slots = calloc(cap, sizeof(*slots));

        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
                if (s->slots[i].count != 0)
                        put(slots, cap, s->slots[i]);
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
        return 0;
}

int sbd_msgids_add(struct sbd_msgids *s, uint32_t id)
{
        struct sbd_msgid_slot *e = find(s, id);

        if (e) {
                /* A duplicate is answered at once, so counts stay tiny. */
                if (e->count == UINT32_MAX)
                        return -ENOMEM;
                e->count++;
                return 2;
        }
        if ((s->n + 1) * 4 > s->cap * 3) {
                int r = resize(s, s->cap ? s->cap * 2 : MIN_CAP);

                if (r < 0)
                        return r;
        }
        put(s->slots, s->cap, (struct sbd_msgid_slot){ .id = id, .count = 1 });
        s->n++;
        return 1;
}

void sbd_msgids_remove(struct sbd_msgids *s, uint32_t id)
{
        struct sbd_msgid_slot *e = find(s, id);
        size_t hole, i, mask = s->cap - 1;

        if (!e || --e->count > 0)
                return;
        /* Backward shift: move up every later entry of the run that may
         * sit in the hole (its home is not cyclically in (hole, i]). */
        hole = (size_t)(e - s->slots);
        for (i = (hole + 1) & mask; s->slots[i].count != 0; i = (i + 1) & mask) {
                size_t h = home(s->slots[i].id, s->cap);

                if (((i - h) & mask) >= ((i - hole) & mask)) {
                        s->slots[hole] = s->slots[i];
                        hole = i;
                }
        }
        s->slots[hole].count = 0;
        s->n--;
        /* Shrinking may fail for lack of memory: then the table stays. */
        if (s->cap > MIN_CAP && s->n * 8 < s->cap)
                (void)resize(s, s->cap / 2);
}

uint32_t sbd_msgids_count(const struct sbd_msgids *s, uint32_t id)
{
        const struct sbd_msgid_slot *e = find(s, id);

        return e ? e->count : 0;
}

void sbd_msgids_free(struct sbd_msgids *s)
{
        free(s->slots);
        s->slots = NULL;
        s->cap = 0;
        s->n = 0;
}
