/* sbp_reader.c — framing: bytes from a stream socket in, checked envelopes out.
 *
 * Invariants:
 *  - msgpack-c only ever parses complete messages that sbp_scan_feed() has
 *    already bounded (size under the cap, depth, no ext), so its allocations
 *    are bounded by a small multiple of the cap;
 *  - after sbp_reader_next() returns 0 the bytes buffered for the partial
 *    message are fewer than the cap, so a reading loop that drains next()
 *    after every commit never holds more than cap + one read;
 *  - byte-level errors (not MessagePack, too deep, too big) are sticky: the
 *    stream has lost its boundaries. A well-formed frame that is not a valid
 *    envelope is consumed and reported once; the stream stays in step, but
 *    the daemon still answers ProtocolError and closes.
 */
#include <errno.h>
#include <string.h>

#include "protocol/sbp_internal.h"

/* Small on purpose: an idle connection costs this much; the buffer grows
 * (by doubling, up to about the cap) only while a big message arrives. */
#define READER_INITIAL_BUFFER 4096u

int sbp_reader_init(struct sbp_reader *r, size_t max_message)
{
        memset(r, 0, sizeof(*r));
        if (max_message == 0 || max_message > SBP_MESSAGE_MAX)
                max_message = SBP_MESSAGE_MAX;
        r->max_message = max_message;
        if (!msgpack_unpacker_init(&r->unpacker, READER_INITIAL_BUFFER)) {
                memset(r, 0, sizeof(*r));
                return -ENOMEM;
        }
        msgpack_unpacked_init(&r->current);
        sbp_scan_reset(&r->scan);
        return 0;
}

void sbp_reader_destroy(struct sbp_reader *r)
{
        if (!r || !r->unpacker.buffer)
                return;
        msgpack_unpacked_destroy(&r->current);
        msgpack_unpacker_destroy(&r->unpacker);
        memset(r, 0, sizeof(*r));
}

int sbp_reader_reserve(struct sbp_reader *r, size_t want, char **buf, size_t *len)
{
        size_t unparsed = r->unpacker.used - r->unpacker.off;

        /* Only a caller that stops draining sbp_reader_next() gets here. */
        if (unparsed > r->max_message)
                return -ENOBUFS;
        if (want == 0)
                want = 1;
        if (want > r->max_message)
                want = r->max_message;
        if (!msgpack_unpacker_reserve_buffer(&r->unpacker, want))
                return -ENOMEM;
        *buf = msgpack_unpacker_buffer(&r->unpacker);
        *len = msgpack_unpacker_buffer_capacity(&r->unpacker);
        return 0;
}

void sbp_reader_commit(struct sbp_reader *r, size_t n)
{
        if (n > msgpack_unpacker_buffer_capacity(&r->unpacker))
                n = msgpack_unpacker_buffer_capacity(&r->unpacker);
        msgpack_unpacker_buffer_consumed(&r->unpacker, n);
}

/* The msgid of a request (type 0) or response (type 1) from its first
 * bytes, without parsing the rest (which may be garbage): fixarray(4), the
 * type, then a uint up to UINT32_MAX. */
static bool peek_msgid(const uint8_t *p, size_t len, uint8_t type, uint32_t *msgid)
{
        uint64_t v = 0;
        unsigned n;

        if (len < 3 || p[0] != 0x94 || p[1] != type)
                return false;
        if (p[2] <= 0x7f) {
                *msgid = p[2];
                return true;
        }
        switch (p[2]) {
        case 0xcc: n = 1; break;
        case 0xcd: n = 2; break;
        case 0xce: n = 4; break;
        case 0xcf: n = 8; break;
        default: return false;
        }
        if (len < 3 + n)
                return false;
        for (unsigned i = 0; i < n; i++)
                v = (v << 8) | p[3 + i];
        if (v > UINT32_MAX)
                return false;
        *msgid = (uint32_t)v;
        return true;
}

bool sbp_response_msgid(const void *buf, size_t len, uint32_t *msgid)
{
        return peek_msgid(buf, len, SBP_RESPONSE, msgid);
}

static int bad(struct sbp_error *err, const char *what)
{
        sbp_error_set(err, SBP_E_PROTOCOL_ERROR, "%s", what);
        return -EBADMSG;
}

static bool get_msgid(const msgpack_object *o, uint32_t *msgid)
{
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > UINT32_MAX)
                return false;
        *msgid = (uint32_t)o->via.u64;
        return true;
}

/* The method is a str; bin is taken too, as the msgpack-rpc spec predates
 * the str/bin split and stock clients (pynvim) send bytes names as bin.
 * msgpack-c lays str and bin out alike. */
static int get_method(const msgpack_object *o, struct sbp_message *out, struct sbp_error *err)
{
        if (o->type != MSGPACK_OBJECT_STR && o->type != MSGPACK_OBJECT_BIN)
                return bad(err, "method is not a str");
        if (o->via.str.size == 0 || o->via.str.size > SBP_METHOD_LEN_MAX) {
                sbp_error_set(err, SBP_E_PROTOCOL_ERROR, "method name empty or longer than %u bytes",
                              SBP_METHOD_LEN_MAX);
                return -EBADMSG;
        }
        out->method = o->via.str.ptr;
        out->method_len = o->via.str.size;
        return 0;
}

/* params is an array (msgpack-rpc). [map] gives that map, [] the empty
 * map; any other array is handed on as it is, for the method's decoder to
 * refuse with InvalidArgument: the frame itself is well-formed msgpack-rpc. */
static int get_params(const msgpack_object *o, struct sbp_message *out, struct sbp_error *err)
{
        if (o->type != MSGPACK_OBJECT_ARRAY)
                return bad(err, "params is not an array");
        if (o->via.array.size == 0) {
                out->params.type = MSGPACK_OBJECT_MAP;
                out->params.via.map.size = 0;
                out->params.via.map.ptr = NULL;
                return 0;
        }
        if (o->via.array.size == 1 && o->via.array.ptr[0].type == MSGPACK_OBJECT_MAP)
                out->params = o->via.array.ptr[0];
        else
                out->params = *o;
        return 0;
}

static int check_envelope(const msgpack_object *o, struct sbp_message *out, bool *has_msgid,
                          struct sbp_error *err)
{
        const msgpack_object *e;
        uint64_t type;

        if (o->type != MSGPACK_OBJECT_ARRAY)
                return bad(err, "message is not an array");
        if (o->via.array.size < 3 || o->via.array.size > 4)
                return bad(err, "message is not an array of 3 or 4 elements");
        e = o->via.array.ptr;
        if (e[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || e[0].via.u64 > SBP_NOTIFICATION)
                return bad(err, "unknown message type");
        type = e[0].via.u64;
        out->type = (enum sbp_msg_type)type;

        switch (out->type) {
        case SBP_REQUEST:
                if (o->via.array.size != 4)
                        return bad(err, "request is not an array of 4 elements");
                if (!get_msgid(&e[1], &out->msgid))
                        return bad(err, "msgid is not a uint up to 2^32-1");
                *has_msgid = true;
                if (get_method(&e[2], out, err) < 0)
                        return -EBADMSG;
                return get_params(&e[3], out, err);
        case SBP_RESPONSE:
                if (o->via.array.size != 4)
                        return bad(err, "response is not an array of 4 elements");
                if (!get_msgid(&e[1], &out->msgid))
                        return bad(err, "msgid is not a uint up to 2^32-1");
                if (e[2].type != MSGPACK_OBJECT_NIL && e[2].type != MSGPACK_OBJECT_MAP)
                        return bad(err, "error is neither nil nor a map");
                out->error = e[2];
                out->result = e[3];
                return 1;
        case SBP_NOTIFICATION:
                if (o->via.array.size != 3)
                        return bad(err, "notification is not an array of 3 elements");
                if (get_method(&e[1], out, err) < 0)
                        return -EBADMSG;
                return get_params(&e[2], out, err);
        }
        return bad(err, "unknown message type");
}

int sbp_reader_next(struct sbp_reader *r, struct sbp_message *out, bool *has_msgid,
                    struct sbp_error *err)
{
        struct sbp_error dummy;
        bool dummy_has;
        const uint8_t *start;
        size_t avail, off;
        int ret;

        if (!err)
                err = &dummy;
        if (!has_msgid)
                has_msgid = &dummy_has;
        *has_msgid = false;
        memset(out, 0, sizeof(*out));
        err->code = SBP_OK;
        err->message[0] = '\0';

        /* The previous message's pointers die here, as documented. */
        msgpack_unpacked_destroy(&r->current);

        off = r->unpacker.off;
        start = (const uint8_t *)r->unpacker.buffer + off;
        avail = r->unpacker.used - off;
        ret = sbp_scan_feed(&r->scan, start, avail, r->max_message, err);
        if (ret == -EBADMSG || ret == -EMSGSIZE) {
                uint32_t id;

                if (peek_msgid(start, avail, SBP_REQUEST, &id)) {
                        out->type = SBP_REQUEST;
                        out->msgid = id;
                        *has_msgid = true;
                }
                return ret;
        }
        if (ret <= 0)
                return ret;

        switch (msgpack_unpacker_next(&r->unpacker, &r->current)) {
        case MSGPACK_UNPACK_SUCCESS:
                break;
        case MSGPACK_UNPACK_NOMEM_ERROR:
                r->scan.failed = -ENOMEM;
                sbp_error_set(err, SBP_E_INTERNAL, "out of memory");
                return -ENOMEM;
        default:
                /* The scanner accepted what msgpack-c did not: both read
                 * the same grammar, so this is a bug; fail closed. */
                r->scan.failed = -EBADMSG;
                return bad(err, "not MessagePack");
        }
        if (r->unpacker.off - off != r->scan.pos) {
                r->scan.failed = -EBADMSG;
                return bad(err, "message boundary mismatch");
        }
        sbp_scan_reset(&r->scan);

        ret = check_envelope(&r->current.data, out, has_msgid, err);
        if (ret < 0) {
                if (!*has_msgid) {
                        uint32_t type = out->type;

                        memset(out, 0, sizeof(*out));
                        out->type = type;
                } else {
                        uint32_t id = out->msgid;

                        memset(out, 0, sizeof(*out));
                        out->type = SBP_REQUEST;
                        out->msgid = id;
                }
                return -EBADMSG;
        }
        return 1;
}
