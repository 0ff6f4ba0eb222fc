/* list.h — a tiny intrusive circular doubly-linked list for daemon objects.
 *
 * A node is embedded in the object it links; an empty list is a head that
 * points at itself. Nodes removed with sbd_list_remove() point at themselves
 * again, so removing twice is harmless and sbd_list_linked() tells whether a
 * node is on a list. No allocation, no locking: the daemon is single-threaded.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct sbd_list {
        struct sbd_list *prev, *next;
};

#define sbd_container_of(ptr, type, member) \
        ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void sbd_list_init(struct sbd_list *l)
{
        l->prev = l->next = l;
}

static inline bool sbd_list_empty(const struct sbd_list *l)
{
        return l->next == l;
}

static inline bool sbd_list_linked(const struct sbd_list *n)
{
        return n->next != n;
}

static inline void sbd_list_append(struct sbd_list *head, struct sbd_list *n)
{
        n->prev = head->prev;
        n->next = head;
        head->prev->next = n;
        head->prev = n;
}

static inline void sbd_list_remove(struct sbd_list *n)
{
        n->prev->next = n->next;
        n->next->prev = n->prev;
        n->prev = n->next = n;
}

/* Iterate allowing removal of the current node. */
#define sbd_list_for_each_safe(pos, tmp, head) \
        for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
             (pos) = (tmp), (tmp) = (pos)->next)
