/* sbp_scan.c — incremental pre-scan of raw MessagePack bytes.
 *
 * msgpack-c allocates n * sizeof(msgpack_object) the moment it reads an array
 * or map header, before any element has arrived, and buffers a whole str or
 * bin before it returns. A hostile peer could therefore make it allocate
 * gigabytes with a five-byte header. This scanner walks the headers first:
 * every announced element needs at least one byte, so
 *     scanned + body bytes still to come + elements still announced
 * is a lower bound of the message size, and the message is refused as soon as
 * that bound passes the cap. Nesting deeper than SBP_DEPTH_MAX, ext types and
 * the never-used byte 0xc1 are refused here too. Only a complete message that
 * passed all this is handed to msgpack-c, whose allocations are then bounded
 * by a small multiple of the message size.
 *
 * The state is resumable: each call scans only bytes it has not seen, and a
 * header split across reads is re-read whole on the next call.
 */
#include <errno.h>
#include <string.h>

#include "protocol/sbp_internal.h"

void sbp_scan_reset(struct sbp_scan *scan)
{
        memset(scan, 0, sizeof(*scan));
        scan->left[0] = 1;      /* the message is one object */
        scan->pending = 1;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
        uint64_t v = 0;

        for (unsigned i = 0; i < n; i++)
                v = (v << 8) | p[i];
        return v;
}

/* Classify the header at p: its length in bytes, the container element count
 * (maps: keys plus values) or the body length that follows it. */
enum kind { K_SCALAR, K_BODY, K_CONTAINER, K_BAD_EXT, K_BAD_BYTE };

static enum kind classify(const uint8_t *p, size_t avail, unsigned *hlen, uint64_t *n)
{
        uint8_t b = p[0];
        unsigned extra;

        *n = 0;
        *hlen = 1;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
                return K_SCALAR;
        if (b >= 0x80 && b <= 0x8f) {
                *n = 2u * (b & 0x0f);
                return K_CONTAINER;
        }
        if (b >= 0x90 && b <= 0x9f) {
                *n = b & 0x0f;
                return K_CONTAINER;
        }
        if (b >= 0xa0 && b <= 0xbf) {
                *n = b & 0x1f;
                return K_BODY;
        }
        switch (b) {
        case 0xca: *hlen = 5; return K_SCALAR;                  /* float 32 */
        case 0xcb: *hlen = 9; return K_SCALAR;                  /* float 64 */
        case 0xcc: case 0xd0: *hlen = 2; return K_SCALAR;       /* (u)int 8 */
        case 0xcd: case 0xd1: *hlen = 3; return K_SCALAR;       /* (u)int 16 */
        case 0xce: case 0xd2: *hlen = 5; return K_SCALAR;       /* (u)int 32 */
        case 0xcf: case 0xd3: *hlen = 9; return K_SCALAR;       /* (u)int 64 */
        case 0xc4: case 0xd9: extra = 1; break;                 /* bin/str 8 */
        case 0xc5: case 0xda: extra = 2; break;                 /* bin/str 16 */
        case 0xc6: case 0xdb: extra = 4; break;                 /* bin/str 32 */
        case 0xdc: case 0xde: extra = 2; break;                 /* array/map 16 */
        case 0xdd: case 0xdf: extra = 4; break;                 /* array/map 32 */
        case 0xc7: case 0xc8: case 0xc9:
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
                return K_BAD_EXT;
        default:
                return K_BAD_BYTE;                              /* 0xc1 */
        }
        *hlen = 1 + extra;
        if (avail < *hlen)
                return K_SCALAR;        /* caller sees avail < hlen and waits */
        *n = be(p + 1, extra);
        if (b == 0xdc || b == 0xdd)
                return K_CONTAINER;
        if (b == 0xde || b == 0xdf) {
                *n *= 2;
                return K_CONTAINER;
        }
        return K_BODY;
}

/* Errors are sticky: after one, the byte stream has no known boundary left. */
static int fail(struct sbp_scan *scan, int r)
{
        scan->failed = r;
        return r;
}

/* Re-establish the invariant that the top open level still expects elements. */
static void pop_done(struct sbp_scan *scan)
{
        while (scan->depth > 0 && scan->left[scan->depth] == 0)
                scan->depth--;
}

int sbp_scan_feed(struct sbp_scan *scan, const uint8_t *data, size_t len, size_t max,
                  struct sbp_error *err)
{
        if (scan->failed) {
                sbp_error_set(err, SBP_E_PROTOCOL_ERROR, "stream unusable after an earlier error");
                return scan->failed;
        }

        for (;;) {
                size_t avail = len - scan->pos;
                unsigned hlen;
                uint64_t n;
                enum kind k;

                if (scan->skip > 0) {
                        uint64_t take = scan->skip < avail ? scan->skip : avail;

                        scan->pos += take;
                        scan->skip -= take;
                        if (scan->skip > 0)
                                break;
                        continue;
                }
                if (scan->depth == 0 && scan->left[0] == 0)
                        return 1;       /* complete: scan->pos bytes */
                if (avail == 0)
                        break;

                k = classify(data + scan->pos, avail, &hlen, &n);
                if (k == K_BAD_EXT || k == K_BAD_BYTE) {
                        sbp_error_set(err, SBP_E_PROTOCOL_ERROR, "%s at offset %zu",
                                      k == K_BAD_EXT ? "ext type (not used by this protocol)"
                                                     : "not MessagePack (byte 0xc1)",
                                      scan->pos);
                        return fail(scan, -EBADMSG);
                }
                if (avail < hlen)
                        break;

                scan->pos += hlen;
                scan->left[scan->depth]--;
                scan->pending--;
                if (k == K_BODY)
                        scan->skip = n;
                if (k == K_CONTAINER) {
                        /* An empty container still counts as a level. */
                        if (scan->depth + 1 > SBP_DEPTH_MAX) {
                                sbp_error_set(err, SBP_E_PROTOCOL_ERROR,
                                              "nesting deeper than %u levels", SBP_DEPTH_MAX);
                                return fail(scan, -EBADMSG);
                        }
                        if (n > 0) {
                                scan->depth++;
                                scan->left[scan->depth] = n;
                                scan->pending += n;
                        }
                }
                pop_done(scan);

                /* The sum was at most max before this header, which adds
                 * below 2^34, so it cannot wrap. */
                if (scan->pos + scan->skip + scan->pending > max) {
                        sbp_error_set(err, SBP_E_PROTOCOL_ERROR, "message larger than %zu bytes", max);
                        return fail(scan, -EMSGSIZE);
                }
        }

        /* Incomplete: all len bytes belong to this message, which is longer. */
        if (len >= max) {
                sbp_error_set(err, SBP_E_PROTOCOL_ERROR, "message larger than %zu bytes", max);
                return fail(scan, -EMSGSIZE);
        }
        return 0;
}
