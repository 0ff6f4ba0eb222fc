/* musl_malloc.c — the allocator of the musl-linked skillboxctl
 * (client/meson.build); no other build has it.
 *
 * musl's own allocator gives freed memory back to the kernel at once
 * (munmap, madvise), and on a VM each of those is a TLB shootdown: a `run`
 * of /bin/true made three of them while it ran, one for each message it
 * read. This one never gives memory back: freed blocks go on a free list of
 * their size class (powers of two, 16 bytes to 1 MiB) and serve the next
 * request of that class, so a CLI's memory is its peak, and it lives for
 * one command. Blocks over 1 MiB are mapped and unmapped one by one.
 * skillboxctl is single-threaded; nothing here locks.
 *
 * musl allows its malloc to be replaced this way (malloc, calloc, realloc
 * and free; its aligned_alloc family then fails, and nothing here uses
 * it). Built with -fno-builtin-malloc/-calloc: GCC would otherwise turn
 * calloc()'s malloc + memset into a call to calloc, itself.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MIN_SHIFT 4                     /* class 0: 16 bytes */
#define CLASSES 17                      /* up to 16 << 16 = 1 MiB */
#define ARENA (2u << 20)                /* carved into blocks as needed */
#define BIG SIZE_MAX                    /* header class of a block mapped alone */

/* 16 bytes before every block, so blocks stay 16-aligned. */
struct header {
        size_t cls;                     /* class, or BIG */
        size_t len;                     /* BIG: the whole mapping's length */
};

struct free_block {
        struct free_block *next;
};

/* The largest class with its header must fit in a fresh arena. */
_Static_assert(ARENA >= sizeof(struct header) + ((size_t)1 << (CLASSES - 1 + MIN_SHIFT)),
               "an arena holds a block of the largest class");

static struct free_block *free_list[CLASSES];
static char *arena, *arena_end;

static size_t class_of(size_t n)
{
        size_t c = 0;

        while (c < CLASSES && ((size_t)1 << (c + MIN_SHIFT)) < n)
                c++;
        return c < CLASSES ? c : BIG;
}

static void *map(size_t len)
{
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

void *malloc(size_t n)
{
        size_t c = class_of(n ? n : 1);
        struct header *h;

        if (c == BIG) {
                if (n > SIZE_MAX - sizeof(*h) - 4095) {
                        errno = ENOMEM;
                        return NULL;
                }
                size_t len = (n + sizeof(*h) + 4095) & ~(size_t)4095;
                h = map(len);
                if (!h) {
                        errno = ENOMEM;
                        return NULL;
                }
                h->cls = BIG;
                h->len = len;
                return h + 1;
        }
        if (free_list[c]) {
                struct free_block *b = free_list[c];
                free_list[c] = b->next;
                return b;
        }
        size_t need = sizeof(*h) + ((size_t)1 << (c + MIN_SHIFT));
        if ((size_t)(arena_end - arena) < need) {
                /* The rest of the old arena is left unused. */
                arena = map(ARENA);
                if (!arena) {
                        arena_end = NULL;
                        errno = ENOMEM;
                        return NULL;
                }
                arena_end = arena + ARENA;
        }
        h = (struct header *)arena;
        arena += need;
        h->cls = c;
        h->len = 0;
        return h + 1;
}

void free(void *p)
{
        if (!p)
                return;
        struct header *h = (struct header *)p - 1;
        if (h->cls == BIG) {
                munmap(h, h->len);
                return;
        }
        struct free_block *b = p;
        b->next = free_list[h->cls];
        free_list[h->cls] = b;
}

void *calloc(size_t n, size_t size)
{
        if (size && n > SIZE_MAX / size) {
                errno = ENOMEM;
                return NULL;
        }
        void *p = malloc(n * size);
        if (p)
                memset(p, 0, n * size);
        return p;
}

void *realloc(void *p, size_t n)
{
        if (!p)
                return malloc(n);
        struct header *h = (struct header *)p - 1;
        size_t have = h->cls == BIG ? h->len - sizeof(*h) : (size_t)1 << (h->cls + MIN_SHIFT);
        if (n <= have)
                return p;
        void *q = malloc(n);
        if (!q)
                return NULL;
        memcpy(q, p, n < have ? n : have);
        free(p);
        return q;
}
