/* test_protocol_wire.c — what stock MessagePack-RPC clients send and get:
 * notifications with any params and a bin method name (pynvim), params
 * arrays other than [map] refused as InvalidArgument (not a broken frame),
 * argv and env bytes as bin (decoded to the exact bytes, sent back as bin
 * only where they are not UTF-8), integers as float64 (msgpack-lite), and
 * the msgid of a packed response (what the daemon counts answers with).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/sbp.h"
#include "protocol_fixture.h"

static void pack_bin(msgpack_packer *pk, const char *s, size_t n)
{
        msgpack_pack_bin(pk, n);
        msgpack_pack_bin_body(pk, s, n);
}

#define assert_invalid(c, r, needle)                                                  \
        do {                                                                          \
                assert_int_equal((r), -EINVAL);                                       \
                assert_int_equal((c)->err.code, SBP_E_INVALID_ARGUMENT);              \
                if (!strstr((c)->err.message, (needle)))                              \
                        fail_msg("error \"%s\" lacks \"%s\"", (c)->err.message, (needle)); \
        } while (0)

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
        assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
        for (uint32_t i = 0; i < m->via.map.size; i++) {
                const msgpack_object *k = &m->via.map.ptr[i].key;

                if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
                    memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
                        return &m->via.map.ptr[i].val;
        }
        fail_msg("no key %s", key);
        return NULL;
}

/* pynvim's socket_session() opens with [2, b"nvim_set_client_info", [five
 * args]]: a well-formed notification, read as one (the daemon ignores it). */
static void test_stock_notification(void **state)
{
        struct ctx *c = *state;

        msgpack_pack_array(&c->pk, 3);
        msgpack_pack_uint8(&c->pk, 2);
        pack_bin(&c->pk, "nvim_set_client_info", 20);
        msgpack_pack_array(&c->pk, 5);
        for (int i = 0; i < 3; i++)
                sbp_pack_str(&c->pk, "client");
        msgpack_pack_map(&c->pk, 0);
        msgpack_pack_map(&c->pk, 0);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.type, SBP_NOTIFICATION);
        assert_false(c->has_msgid);
        assert_int_equal(c->msg.method_len, 20);

        /* A request may name its method with bin too (pynvim's b"hello"). */
        msgpack_pack_array(&c->pk, 4);
        msgpack_pack_uint8(&c->pk, 0);
        msgpack_pack_uint8(&c->pk, 9);
        pack_bin(&c->pk, "hello", 5);
        msgpack_pack_array(&c->pk, 0);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.type, SBP_REQUEST);
        assert_int_equal(sbp_method_find(c->msg.method, c->msg.method_len, &c->err), 0);
}

/* [0, msgid, method, then the params array the caller packs. */
static void request_raw(struct ctx *c, uint32_t msgid, const char *method)
{
        msgpack_pack_array(&c->pk, 4);
        msgpack_pack_uint8(&c->pk, 0);
        msgpack_pack_uint32(&c->pk, msgid);
        sbp_pack_str(&c->pk, method);
}

/* params that are an array, but not [map] or []: the frame is msgpack-rpc,
 * so the method refuses it (InvalidArgument, the connection goes on). */
static void test_positional_params(void **state)
{
        struct ctx *c = *state;
        struct sbp_job_params jp;

        request_raw(c, 3, "wait");
        msgpack_pack_array(&c->pk, 1);
        sbp_pack_str(&c->pk, "0123456789ab");
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.params.type, MSGPACK_OBJECT_ARRAY);
        assert_invalid(c, sbp_job_params_decode(&c->msg.params, false, &jp, &c->err),
                       "params: expected an array holding one map");

        request_raw(c, 4, "stats");
        msgpack_pack_array(&c->pk, 2);
        msgpack_pack_map(&c->pk, 0);
        msgpack_pack_map(&c->pk, 0);
        assert_int_equal(roundtrip(c), 1);
        assert_invalid(c, sbp_empty_params_decode(&c->msg.params, &c->err), "params");
}

/* argv and env entries as bin: the exact bytes, still no NUL, same bounds. */
static void test_bin_argv_env(void **state)
{
        struct ctx *c = *state;
        struct sbp_exec_params p;

        sbp_pack_request_begin(&c->pk, 1, "exec");
        msgpack_pack_map(&c->pk, 2);
        sbp_pack_str(&c->pk, "argv");
        msgpack_pack_array(&c->pk, 3);
        sbp_pack_str(&c->pk, "printf");
        pack_bin(&c->pk, "%s", 2);
        pack_bin(&c->pk, "name\xff", 5);
        sbp_pack_str(&c->pk, "env");
        msgpack_pack_map(&c->pk, 1);
        pack_bin(&c->pk, "K\xfe", 2);
        pack_bin(&c->pk, "v\xc0\xaf", 3);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_exec_params_decode(&c->msg.params, &p, &c->err), 0);
        assert_int_equal(p.argc, 3);
        assert_string_equal(p.argv[1], "%s");
        assert_string_equal(p.argv[2], "name\xff");
        assert_int_equal(p.envc, 1);
        assert_string_equal(p.env[0], "K\xfe=v\xc0\xaf");
        sbp_exec_params_free(&p);

        /* bin is bytes for a C string: NUL is still refused */
        sbp_pack_request_begin(&c->pk, 1, "exec");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "argv");
        msgpack_pack_array(&c->pk, 1);
        pack_bin(&c->pk, "a\0b", 3);
        assert_int_equal(roundtrip(c), 1);
        assert_invalid(c, sbp_exec_params_decode(&c->msg.params, &p, &c->err),
                       "field argv: entry contains NUL");

        /* ... and str must still be UTF-8 */
        sbp_pack_request_begin(&c->pk, 1, "exec");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "argv");
        msgpack_pack_array(&c->pk, 1);
        sbp_pack_strn(&c->pk, "\xff", 1);
        assert_int_equal(roundtrip(c), 1);
        assert_invalid(c, sbp_exec_params_decode(&c->msg.params, &p, &c->err),
                       "field argv: entry is not UTF-8");

        /* other str fields take no bin */
        sbp_pack_request_begin(&c->pk, 1, "exec");
        msgpack_pack_map(&c->pk, 2);
        sbp_pack_str(&c->pk, "argv");
        msgpack_pack_array(&c->pk, 1);
        sbp_pack_str(&c->pk, "true");
        sbp_pack_str(&c->pk, "profile");
        pack_bin(&c->pk, "default", 7);
        assert_int_equal(roundtrip(c), 1);
        assert_invalid(c, sbp_exec_params_decode(&c->msg.params, &p, &c->err),
                       "field profile: expected str");
}

/* What goes out: an entry is str where it is UTF-8, else bin; the client's
 * packer does the same, so skillboxctl passes any file name. */
static void test_bytes_sent_as_bin(void **state)
{
        struct ctx *c = *state;
        char *argv[] = { "ls", "caf\xc3\xa9", "name\xff", NULL };
        char *env[] = { "K=\xfe", NULL };
        struct sbp_job_info in, out;
        struct sbp_exec_params ep = { .argv = argv, .argc = 3, .env = env, .envc = 1 }, back;
        const msgpack_object *a;

        memset(&in, 0, sizeof(in));
        snprintf(in.result.job, sizeof(in.result.job), "0123456789ab");
        in.result.state = SBP_JOB_RUNNING;
        in.result.exit_code = -1;
        in.result.tasks_peak = -1;
        in.result.enforced.uid = -1;
        in.result.enforced.gid = -1;
        snprintf(in.profile, sizeof(in.profile), "default");
        in.argv = argv;
        in.argc = 3;
        sbp_pack_response_begin(&c->pk, 2);
        sbp_job_info_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        a = map_get(&c->msg.result, "argv");
        assert_int_equal(a->type, MSGPACK_OBJECT_ARRAY);
        assert_int_equal(a->via.array.ptr[0].type, MSGPACK_OBJECT_STR);
        assert_int_equal(a->via.array.ptr[1].type, MSGPACK_OBJECT_STR);
        assert_int_equal(a->via.array.ptr[2].type, MSGPACK_OBJECT_BIN);
        /* the client reads both back as the same bytes */
        assert_int_equal(sbp_job_info_decode(&c->msg.result, &out), 0);
        assert_string_equal(out.argv[1], "caf\xc3\xa9");
        assert_string_equal(out.argv[2], "name\xff");
        sbp_job_info_free(&out);

        sbp_pack_request_begin(&c->pk, 3, "exec");
        sbp_exec_params_pack(&c->pk, &ep);
        assert_int_equal(roundtrip(c), 1);
        a = map_get(&c->msg.params, "env");
        assert_int_equal(a->via.map.ptr[0].key.type, MSGPACK_OBJECT_STR);
        assert_int_equal(a->via.map.ptr[0].val.type, MSGPACK_OBJECT_BIN);
        assert_int_equal(sbp_exec_params_decode(&c->msg.params, &back, &c->err), 0);
        assert_string_equal(back.argv[2], "name\xff");
        assert_string_equal(back.env[0], "K=\xfe");
        sbp_exec_params_free(&back);
}

static int exec_with_double(struct ctx *c, const char *field, double v, uint64_t *got)
{
        struct sbp_exec_params p;
        int r;

        sbp_pack_request_begin(&c->pk, 1, "exec");
        msgpack_pack_map(&c->pk, 2);
        sbp_pack_str(&c->pk, "argv");
        msgpack_pack_array(&c->pk, 1);
        sbp_pack_str(&c->pk, "true");
        sbp_pack_str(&c->pk, field);
        msgpack_pack_double(&c->pk, v);
        assert_int_equal(roundtrip(c), 1);
        r = sbp_exec_params_decode(&c->msg.params, &p, &c->err);
        if (r == 0) {
                *got = strcmp(field, "cpu_percent") == 0 ? p.cpu_percent : p.memory_max;
                sbp_exec_params_free(&p);
        }
        return r;
}

/* msgpack-lite sends integers from 2^31 up as float64: taken when the value
 * is exactly a uint (integral, 0 to 2^53), else InvalidArgument naming the
 * field. */
static void test_float64_uint(void **state)
{
        struct ctx *c = *state;
        uint64_t got = 0;

        assert_int_equal(exec_with_double(c, "memory_max", 2147483648.0, &got), 0);
        assert_int_equal(got, UINT64_C(2147483648));
        assert_int_equal(exec_with_double(c, "memory_max", 9007199254740992.0, &got), 0);
        assert_int_equal(got, UINT64_C(9007199254740992));
        assert_int_equal(exec_with_double(c, "memory_max", 0.0, &got), 0);
        assert_int_equal(got, 0);

        assert_invalid(c, exec_with_double(c, "memory_max", 9007199254740994.0, &got),
                       "field memory_max: expected uint");
        assert_invalid(c, exec_with_double(c, "memory_max", 1.5, &got),
                       "field memory_max: expected uint");
        assert_invalid(c, exec_with_double(c, "memory_max", -1.0, &got),
                       "field memory_max: expected uint");
        assert_invalid(c, exec_with_double(c, "memory_max", NAN, &got),
                       "field memory_max: expected uint");
        assert_invalid(c, exec_with_double(c, "memory_max", INFINITY, &got),
                       "field memory_max: expected uint");
        /* the field's own bound still applies: cpu_percent is a uint32 */
        assert_int_equal(exec_with_double(c, "cpu_percent", 50.0, &got), 0);
        assert_int_equal(got, 50);
        assert_invalid(c, exec_with_double(c, "cpu_percent", 4294967296.0, &got),
                       "field cpu_percent: above");
}

static void test_response_msgid(void **state)
{
        struct ctx *c = *state;
        static const uint32_t ids[] = { 0, 127, 128, 255, 256, 65535, 65536, UINT32_MAX };
        uint32_t got;

        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                sbp_pack_response_begin(&c->pk, ids[i]);
                msgpack_pack_nil(&c->pk);
                assert_true(sbp_response_msgid(c->sb.data, c->sb.size, &got));
                assert_int_equal(got, ids[i]);
                msgpack_sbuffer_clear(&c->sb);
        }
        /* a notification is not a response */
        sbp_job_output_pack(&c->pk, "0123456789ab", SBP_STDOUT, "x", 1);
        assert_false(sbp_response_msgid(c->sb.data, c->sb.size, &got));
        msgpack_sbuffer_clear(&c->sb);
        assert_false(sbp_response_msgid("\x94\x01", 2, &got));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
                T(test_stock_notification),
                T(test_positional_params),
                T(test_bin_argv_env),
                T(test_bytes_sent_as_bin),
                T(test_float64_uint),
                T(test_response_msgid),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
