/* fuzz_reader.c — libFuzzer harness for the protocol codec.
 *
 * Arbitrary bytes go through sbp_reader (cut into reads at points taken from
 * the input itself, so the incremental scanner is exercised), and every
 * message that comes out goes through every decoder, strict and lenient.
 * What a strict decoder accepts is packed again and must decode to the same
 * struct (pack/decode agree). Nothing may crash, leak or allocate without
 * bound (run with -rss_limit_mb / -malloc_limit_mb).
 *
 * Linked with standalone.c instead of libFuzzer, any compiler builds it as a
 * smoke test over corpus/reader.
 */
#include <errno.h>
#include <string.h>

#include "protocol/sbp.h"
#include "tests/fuzz/fuzz.h"

static msgpack_object *unpack_one(msgpack_sbuffer *sb, msgpack_unpacked *u)
{
        msgpack_unpacked_init(u);
        CHECK(msgpack_unpack_next(u, sb->data, sb->size, NULL) == MSGPACK_UNPACK_SUCCESS);
        return &u->data;
}

static void exec_again(const struct sbp_exec_params *p)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_unpacked u;
        struct sbp_exec_params q;
        struct sbp_error err;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        sbp_exec_params_pack(&pk, p);
        CHECK(sbp_exec_params_decode(unpack_one(&sb, &u), &q, &err) == 0);
        CHECK(q.argc == p->argc && q.envc == p->envc);
        for (uint32_t i = 0; i < p->argc; i++)
                CHECK(strcmp(q.argv[i], p->argv[i]) == 0);
        for (uint32_t i = 0; i < p->envc; i++)
                CHECK(strcmp(q.env[i], p->env[i]) == 0);
        CHECK(strcmp(q.profile, p->profile) == 0);
        CHECK(q.memory_max == p->memory_max && q.tasks_max == p->tasks_max &&
              q.cpu_percent == p->cpu_percent && q.timeout_ms == p->timeout_ms &&
              q.detach == p->detach && q.stdin == p->stdin);
        sbp_exec_params_free(&q);
        msgpack_unpacked_destroy(&u);
        msgpack_sbuffer_destroy(&sb);
}

static void result_again(const struct sbp_job_result *r)
{
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_unpacked u;
        struct sbp_job_result q;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        sbp_job_result_pack(&pk, r);
        CHECK(sbp_job_result_decode(unpack_one(&sb, &u), &q) == 0);
        CHECK(strcmp(q.job, r->job) == 0 && q.state == r->state &&
              q.exit_code == r->exit_code && q.signal == r->signal &&
              q.tasks_peak == r->tasks_peak && strcmp(q.error, r->error) == 0 &&
              q.enforced.uid == r->enforced.uid && q.enforced.namespaces == r->enforced.namespaces);
        msgpack_unpacked_destroy(&u);
        msgpack_sbuffer_destroy(&sb);
}

/* Every decoder on one object; none may crash whatever it is. */
static void decode_all(const msgpack_object *o)
{
        struct sbp_error err;
        struct sbp_hello_params hp;
        struct sbp_exec_params ep;
        struct sbp_job_params jp;
        struct sbp_hello_result hr;
        struct sbp_enforced en;
        struct sbp_job_result jr;
        struct sbp_job_info ji;
        struct sbp_stats_result st;
        struct sbp_profile pr;
        struct sbp_job_output jo;
        char job[SBP_JOB_ID_MAX + 1];

        (void)sbp_hello_params_decode(o, &hp, &err);
        if (sbp_exec_params_decode(o, &ep, &err) == 0) {
                CHECK(ep.argc >= 1 && ep.argv[ep.argc] == NULL);
                exec_again(&ep);
                sbp_exec_params_free(&ep);
        } else {
                CHECK(err.code != SBP_OK && ep.argv == NULL && ep.env == NULL);
        }
        (void)sbp_job_params_decode(o, false, &jp, &err);
        if (sbp_job_params_decode(o, true, &jp, &err) == 0)
                CHECK(jp.data_len <= SBP_DATA_MAX);
        (void)sbp_empty_params_decode(o, &err);
        (void)sbp_hello_result_decode(o, &hr);
        (void)sbp_enforced_decode(o, &en);
        if (sbp_job_result_decode(o, &jr) == 0)
                result_again(&jr);
        if (sbp_job_info_decode(o, &ji) == 0)
                sbp_job_info_free(&ji);
        (void)sbp_stats_result_decode(o, &st);
        (void)sbp_profile_decode(o, &pr);
        (void)sbp_exec_result_decode(o, job);
        (void)sbp_job_output_decode(o, &jo);
        if (sbp_job_exit_decode(o, &jr) == 0)
                result_again(&jr);
        (void)sbp_error_decode(o, &err);
        if (o->type == MSGPACK_OBJECT_ARRAY)
                for (uint32_t i = 0; i < o->via.array.size; i++)
                        if (o->via.array.ptr[i].type == MSGPACK_OBJECT_MAP) {
                                if (sbp_job_info_decode(&o->via.array.ptr[i], &ji) == 0)
                                        sbp_job_info_free(&ji);
                                (void)sbp_profile_decode(&o->via.array.ptr[i], &pr);
                        }
}

static void check_message(const struct sbp_message *msg)
{
        if (msg->type == SBP_RESPONSE) {
                decode_all(&msg->result);
                decode_all(&msg->error);
                return;
        }
        /* [map] or [] give a map; other params arrays are left to the
         * method's decoder, which refuses them. */
        CHECK(msg->params.type == MSGPACK_OBJECT_MAP || msg->params.type == MSGPACK_OBJECT_ARRAY);
        CHECK(msg->method_len >= 1 && msg->method_len <= SBP_METHOD_LEN_MAX);
        decode_all(&msg->params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sbp_reader rd;
        struct sbp_message msg;
        struct sbp_error err;
        bool has_msgid;
        size_t off = 0, step;
        /* The first byte picks the read size (1..256), so both byte-by-byte
         * and bulk delivery get explored; a small cap reaches the limit. */
        step = size > 0 ? (size_t)data[0] + 1 : 1;

        if (sbp_reader_init(&rd, 1u << 16) < 0)
                return 0;
        while (off < size) {
                size_t n = size - off < step ? size - off : step;
                char *buf;
                size_t cap;
                int r;

                if (sbp_reader_reserve(&rd, n, &buf, &cap) < 0)
                        break;
                CHECK(cap >= 1);
                if (n > cap)
                        n = cap;
                memcpy(buf, data + off, n);
                sbp_reader_commit(&rd, n);
                off += n;
                /* The reader's buffer never holds much more than the cap. */
                CHECK(rd.unpacker.used - rd.unpacker.off <= rd.max_message + 256);
                for (;;) {
                        r = sbp_reader_next(&rd, &msg, &has_msgid, &err);
                        if (r == 1) {
                                check_message(&msg);
                                continue;
                        }
                        /* A bad envelope in a well-formed frame leaves the
                         * stream in step; keep going to explore more. */
                        if (r == -EBADMSG && !rd.scan.failed) {
                                CHECK(err.code == SBP_E_PROTOCOL_ERROR);
                                continue;
                        }
                        break;
                }
                if (r < 0)
                        break;
        }
        sbp_reader_destroy(&rd);
        return 0;
}
