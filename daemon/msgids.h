/* msgids.h — the msgids of a connection's requests not answered yet
 * (msgids.c), so that a msgid reused while its request is in flight is
 * refused instead of getting two answers the client cannot tell apart.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct sbd_msgid_slot {
        uint32_t id;
        uint32_t count;      /* requests with this id not answered; 0 = free slot */
};

/* A hash set with a count per msgid; zeroed = empty, nothing allocated. Its
 * size follows the requests in flight, each of which the daemon holds
 * anyway (a waiter, a stdin write), and shrinks again as they are answered. */
struct sbd_msgids {
        struct sbd_msgid_slot *slots;
        size_t cap;          /* 0 or a power of two */
        size_t n;            /* slots in use */
};

/* One more request with id in flight: 1 when it is the only one, 2 when
 * another with id is in flight too, or -ENOMEM (nothing changed). */
int sbd_msgids_add(struct sbd_msgids *s, uint32_t id);
/* One request with id answered; an id not in flight is ignored. */
void sbd_msgids_remove(struct sbd_msgids *s, uint32_t id);
/* The requests with id in flight (0 = none). */
uint32_t sbd_msgids_count(const struct sbd_msgids *s, uint32_t id);
void sbd_msgids_free(struct sbd_msgids *s);
