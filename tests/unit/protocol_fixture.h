/* protocol_fixture.h — the cmocka fixture the codec's tests share: a packer
 * into a buffer, a reader, and one message read back from what was packed.
 * Header-only (static inline): each test program is one file.
 */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/sbp.h"

struct ctx {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        struct sbp_reader rd;
        struct sbp_message msg;
        struct sbp_error err;
        bool has_msgid;
};

static inline int setup(void **state)
{
        struct ctx *c = calloc(1, sizeof(*c));

        assert_non_null(c);
        msgpack_sbuffer_init(&c->sb);
        msgpack_packer_init(&c->pk, &c->sb, msgpack_sbuffer_write);
        assert_int_equal(sbp_reader_init(&c->rd, 0), 0);
        *state = c;
        return 0;
}

static inline int teardown(void **state)
{
        struct ctx *c = *state;

        sbp_reader_destroy(&c->rd);
        msgpack_sbuffer_destroy(&c->sb);
        free(c);
        return 0;
}

/* Hand len bytes to the reader, in as many pieces as its buffer takes. */
static inline void feed(struct sbp_reader *rd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                char *buf;
                size_t cap, n;

                assert_int_equal(sbp_reader_reserve(rd, len, &buf, &cap), 0);
                n = cap < len ? cap : len;
                memcpy(buf, p, n);
                sbp_reader_commit(rd, n);
                p += n;
                len -= n;
        }
}

static inline int next(struct ctx *c)
{
        return sbp_reader_next(&c->rd, &c->msg, &c->has_msgid, &c->err);
}

/* Feed what was packed into c->sb and read one message. */
static inline int roundtrip(struct ctx *c)
{
        feed(&c->rd, c->sb.data, c->sb.size);
        msgpack_sbuffer_clear(&c->sb);
        return next(c);
}
