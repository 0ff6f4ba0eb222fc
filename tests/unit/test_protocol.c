/* test_protocol.c — the codec: every params/result/notification struct through
 * pack -> reader -> decode, framing (byte by byte, several messages in one
 * buffer), and every class of malformed or hostile input the reader and the
 * strict decoders must refuse without crashing or allocating without bound.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/sbp.h"
#include "protocol_fixture.h"

/* ---- helpers ---- */

static int feed_next(struct ctx *c, const void *data, size_t len)
{
        feed(&c->rd, data, len);
        return next(c);
}

static bool method_is(const struct sbp_message *m, const char *name)
{
        return m->method_len == strlen(name) && memcmp(m->method, name, m->method_len) == 0;
}

#define assert_err(c, r, code_, needle)                                              \
        do {                                                                          \
                assert_int_equal((r), -EINVAL);                                       \
                assert_int_equal((c)->err.code, (code_));                             \
                if (!strstr((c)->err.message, (needle)))                              \
                        fail_msg("error \"%s\" lacks \"%s\"", (c)->err.message, (needle)); \
        } while (0)

static void fill_enforced(struct sbp_enforced *e)
{
        memset(e, 0, sizeof(*e));
        strcpy(e->backend, "linux");
        e->namespaces = SBP_NS_MOUNT | SBP_NS_PID | SBP_NS_NET | SBP_NS_CGROUP;
        strcpy(e->cgroup, "v1");
        e->seccomp = true;
        e->landlock = 3;
        e->no_new_privs = true;
        e->capabilities_dropped = true;
        e->rlimits = true;
        e->process_group = false;
        e->uid = 61003;
        e->gid = -1;
        strcpy(e->network, "none");
        e->memory_max = 512u << 20;
        e->tasks_max = 64;
        e->cpu_percent = 100;
        e->timeout_ms = 60000;
}

static void fill_result(struct sbp_job_result *r)
{
        memset(r, 0, sizeof(*r));
        strcpy(r->job, "3f9a0c12be47");
        r->state = SBP_JOB_SIGNALED;
        r->exit_code = -1;
        r->signal = 9;
        r->wall_ms = 1234;
        r->cpu_user_ms = 100;
        r->cpu_sys_ms = 20;
        r->memory_peak = UINT64_C(5) << 40;
        r->tasks_peak = -1;
        r->stdout_bytes = 7;
        r->stderr_bytes = 0;
        r->output_truncated = true;
        fill_enforced(&r->enforced);
}

/* ---- tables ---- */

static void test_tables(void **state)
{
        enum sbp_job_state s;

        (void)state;
        assert_string_equal(sbp_error_name(SBP_E_INVALID_ARGUMENT), "InvalidArgument");
        assert_null(sbp_error_name(SBP_OK));
        assert_int_equal(sbp_error_from_name("NotFound", 8), SBP_E_NOT_FOUND);
        assert_int_equal(sbp_error_from_name("Bogus", 5), SBP_E_INTERNAL);
        assert_int_equal(sbp_error_to_errno(SBP_E_UNAVAILABLE), -ESHUTDOWN);
        assert_int_equal(sbp_error_to_errno(SBP_E_PROTOCOL_ERROR), -EPROTO);
        for (int i = SBP_OK + 1; i < SBP_E__COUNT; i++) {
                const char *n = sbp_error_name(i);

                assert_int_equal(sbp_error_from_name(n, strlen(n)), i);
                assert_non_null(sbp_error_text(i));
        }
        for (int i = 0; i < SBP_JOB__COUNT; i++) {
                const char *n = sbp_job_state_name(i);

                assert_int_equal(sbp_job_state_from_name(n, strlen(n), &s), 0);
                assert_int_equal(s, i);
        }
        assert_int_equal(sbp_job_state_from_name("zombie", 6, &s), -EINVAL);
        assert_string_equal(sbp_ns_name(0), "mount");
        assert_string_equal(sbp_ns_name(6), "user");
        assert_null(sbp_ns_name(7));
        assert_string_equal(sbp_network_mode_name(0), "none");
        assert_string_equal(sbp_network_mode_name(2), "host");
        assert_null(sbp_network_mode_name(3));
}

/* ---- round trips: params ---- */

static void test_hello_params(void **state)
{
        struct ctx *c = *state;
        struct sbp_hello_params in = { .client = "skillboxctl", .protocol = 1 }, out;

        sbp_pack_request_begin(&c->pk, 7, "hello");
        sbp_hello_params_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.type, SBP_REQUEST);
        assert_int_equal(c->msg.msgid, 7);
        assert_true(method_is(&c->msg, "hello"));
        assert_int_equal(sbp_hello_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_string_equal(out.client, "skillboxctl");
        assert_int_equal(out.protocol, 1);

        /* All optional: {} is fine, and [] means {}. */
        memset(&in, 0, sizeof(in));
        sbp_pack_request_begin(&c->pk, 8, "hello");
        sbp_hello_params_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.params.via.map.size, 0);
        assert_int_equal(sbp_hello_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_string_equal(out.client, "");
}

static void test_empty_params_array(void **state)
{
        struct ctx *c = *state;
        struct sbp_hello_params out;

        msgpack_pack_array(&c->pk, 4);
        msgpack_pack_uint8(&c->pk, 0);
        msgpack_pack_uint32(&c->pk, UINT32_MAX);
        sbp_pack_str(&c->pk, "list");
        msgpack_pack_array(&c->pk, 0);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.msgid, UINT32_MAX);
        assert_int_equal(c->msg.params.type, MSGPACK_OBJECT_MAP);
        assert_int_equal(c->msg.params.via.map.size, 0);
        assert_int_equal(sbp_empty_params_decode(&c->msg.params, &c->err), 0);
        assert_int_equal(sbp_hello_params_decode(&c->msg.params, &out, &c->err), 0);
}

static void test_exec_params(void **state)
{
        struct ctx *c = *state;
        char *argv[] = { "/bin/sh", "-c", "echo hi", NULL };
        char *env[] = { "FOO=bar", "EMPTY=", "EQ=a=b", NULL };
        struct sbp_exec_params in = {
                .argv = argv, .argc = 3, .env = env, .envc = 3, .profile = "default",
                .memory_max = 256u << 20, .tasks_max = 32, .cpu_percent = 50,
                .timeout_ms = 30000, .detach = true, .stdin = true,
        }, out;

        sbp_pack_request_begin(&c->pk, 1, "exec");
        sbp_exec_params_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_true(method_is(&c->msg, "exec"));
        assert_int_equal(sbp_exec_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_int_equal(out.argc, 3);
        assert_string_equal(out.argv[0], "/bin/sh");
        assert_string_equal(out.argv[2], "echo hi");
        assert_null(out.argv[3]);
        assert_int_equal(out.envc, 3);
        assert_string_equal(out.env[0], "FOO=bar");
        assert_string_equal(out.env[1], "EMPTY=");
        assert_string_equal(out.env[2], "EQ=a=b");
        assert_null(out.env[3]);
        assert_string_equal(out.profile, "default");
        assert_int_equal(out.memory_max, 256u << 20);
        assert_int_equal(out.tasks_max, 32);
        assert_int_equal(out.cpu_percent, 50);
        assert_int_equal(out.timeout_ms, 30000);
        assert_true(out.detach);
        assert_true(out.stdin);
        sbp_exec_params_free(&out);
        assert_null(out.argv);
        sbp_exec_params_free(&out);     /* twice is harmless */

        /* Minimal: argv only; everything else takes its default. */
        struct sbp_exec_params min = { .argv = argv, .argc = 1 };

        sbp_pack_request_begin(&c->pk, 2, "exec");
        sbp_exec_params_pack(&c->pk, &min);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.params.via.map.size, 1);
        assert_int_equal(sbp_exec_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_int_equal(out.argc, 1);
        assert_int_equal(out.envc, 0);
        assert_false(out.detach);
        sbp_exec_params_free(&out);
}

/* network and allow_hosts: entries imply allowlist; another mode with
 * entries, or a mode that does not exist, is InvalidArgument. */
static void test_exec_params_network(void **state)
{
        struct ctx *c = *state;
        char *argv[] = { "true", NULL };
        char *hosts[] = { "pypi.org", "*.example.org:8443", NULL };
        struct sbp_exec_params in = { .argv = argv, .argc = 1, .allow_hosts = hosts,
                                      .n_allow_hosts = 2 }, out;

        sbp_pack_request_begin(&c->pk, 1, "exec");
        sbp_exec_params_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_exec_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_string_equal(out.network, "allowlist");
        assert_int_equal(out.n_allow_hosts, 2);
        assert_string_equal(out.allow_hosts[1], "*.example.org:8443");
        sbp_exec_params_free(&out);
        assert_null(out.allow_hosts);

        strcpy(in.network, "none");
        sbp_pack_request_begin(&c->pk, 2, "exec");
        sbp_exec_params_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_exec_params_decode(&c->msg.params, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "only with network allowlist");

        in.n_allow_hosts = 0;
        in.allow_hosts = NULL;
        strcpy(in.network, "open");
        sbp_pack_request_begin(&c->pk, 3, "exec");
        sbp_exec_params_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_exec_params_decode(&c->msg.params, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "not none, allowlist or host");

        strcpy(in.network, "host");
        sbp_pack_request_begin(&c->pk, 4, "exec");
        sbp_exec_params_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_exec_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_string_equal(out.network, "host");
        sbp_exec_params_free(&out);
}

static void test_job_params(void **state)
{
        struct ctx *c = *state;
        struct sbp_job_params out;

        sbp_pack_request_begin(&c->pk, 3, "wait");
        sbp_job_params_pack(&c->pk, "3f9a0c12be47", NULL, 0, false);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_job_params_decode(&c->msg.params, false, &out, &c->err), 0);
        assert_string_equal(out.job, "3f9a0c12be47");
        assert_null(out.data);
        /* stdin_write wants data */
        assert_err(c, sbp_job_params_decode(&c->msg.params, true, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "missing field data");

        sbp_pack_request_begin(&c->pk, 4, "stdin_write");
        sbp_job_params_pack(&c->pk, "abc-123", "x\0y", 3, true);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_job_params_decode(&c->msg.params, true, &out, &c->err), 0);
        assert_string_equal(out.job, "abc-123");
        assert_int_equal(out.data_len, 3);
        assert_memory_equal(out.data, "x\0y", 3);
        /* and the {job}-only methods refuse it */
        assert_err(c, sbp_job_params_decode(&c->msg.params, false, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "unknown field data");

        /* empty data is allowed (a no-op write) */
        sbp_pack_request_begin(&c->pk, 5, "stdin_write");
        sbp_job_params_pack(&c->pk, "abc", "", 0, true);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_job_params_decode(&c->msg.params, true, &out, &c->err), 0);
        assert_int_equal(out.data_len, 0);
}

/* exec's terminal fields, and resize's {job, rows, cols}. */
static void test_tty_params(void **state)
{
        struct ctx *c = *state;
        struct sbp_exec_params ep = { 0 }, eout;
        struct sbp_resize_params rp = { .rows = 50, .cols = 132 }, rout;
        char *argv[] = { "sh", NULL };

        ep.argv = argv;
        ep.argc = 1;
        ep.tty = true;
        ep.rows = 50;
        ep.cols = 132;
        sbp_pack_request_begin(&c->pk, 1, "exec");
        sbp_exec_params_pack(&c->pk, &ep);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_exec_params_decode(&c->msg.params, &eout, &c->err), 0);
        assert_true(eout.tty);
        assert_int_equal(eout.rows, 50);
        assert_int_equal(eout.cols, 132);
        sbp_exec_params_free(&eout);
        /* A size means nothing without a terminal; one over the bound. */
        ep.tty = false;
        sbp_pack_request_begin(&c->pk, 2, "exec");
        sbp_exec_params_pack(&c->pk, &ep);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_exec_params_decode(&c->msg.params, &eout, &c->err),
                   SBP_E_INVALID_ARGUMENT, "only with tty");
        ep.tty = true;
        ep.cols = SBP_TTY_SIZE_MAX + 1;
        sbp_pack_request_begin(&c->pk, 3, "exec");
        sbp_exec_params_pack(&c->pk, &ep);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_exec_params_decode(&c->msg.params, &eout, &c->err),
                   SBP_E_INVALID_ARGUMENT, "cols");

        snprintf(rp.job, sizeof(rp.job), "3f9a0c12be47");
        sbp_pack_request_begin(&c->pk, 4, "resize");
        sbp_resize_params_pack(&c->pk, &rp);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_resize_params_decode(&c->msg.params, &rout, &c->err), 0);
        assert_string_equal(rout.job, "3f9a0c12be47");
        assert_int_equal(rout.rows, 50);
        assert_int_equal(rout.cols, 132);
        /* Both sizes are required, and at least 1. */
        rp.rows = 0;
        sbp_pack_request_begin(&c->pk, 5, "resize");
        sbp_resize_params_pack(&c->pk, &rp);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_resize_params_decode(&c->msg.params, &rout, &c->err),
                   SBP_E_INVALID_ARGUMENT, "rows");
        sbp_pack_request_begin(&c->pk, 6, "resize");
        msgpack_pack_map(&c->pk, 2);
        sbp_pack_str(&c->pk, "job");
        sbp_pack_str(&c->pk, "abc");
        sbp_pack_str(&c->pk, "rows");
        msgpack_pack_uint32(&c->pk, 10);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_resize_params_decode(&c->msg.params, &rout, &c->err),
                   SBP_E_INVALID_ARGUMENT, "missing field cols");
}

static void test_empty_params(void **state)
{
        struct ctx *c = *state;

        sbp_pack_request_begin(&c->pk, 9, "stats");
        sbp_empty_params_pack(&c->pk);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_empty_params_decode(&c->msg.params, &c->err), 0);

        sbp_pack_request_begin(&c->pk, 9, "stats");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "verbose");
        msgpack_pack_true(&c->pk);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_empty_params_decode(&c->msg.params, &c->err), SBP_E_INVALID_ARGUMENT,
                   "unknown field verbose");
}

static void test_list_params(void **state)
{
        struct ctx *c = *state;
        struct sbp_list_params in = { .after = 41, .limit = 10 }, out;

        /* Absent fields: from the first job, a whole page. */
        sbp_pack_request_begin(&c->pk, 10, "list");
        sbp_empty_params_pack(&c->pk);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_list_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_int_equal(out.after, 0);
        assert_int_equal(out.limit, SBP_LIST_MAX);

        sbp_pack_request_begin(&c->pk, 11, "list");
        sbp_list_params_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_list_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_int_equal(out.after, 41);
        assert_int_equal(out.limit, 10);

        sbp_pack_request_begin(&c->pk, 12, "list");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "limit");
        msgpack_pack_uint32(&c->pk, SBP_LIST_MAX + 1);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_list_params_decode(&c->msg.params, &out, &c->err), -EINVAL);
        assert_int_equal(c->err.code, SBP_E_INVALID_ARGUMENT);

        sbp_pack_request_begin(&c->pk, 13, "list");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "page");
        msgpack_pack_true(&c->pk);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_list_params_decode(&c->msg.params, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "unknown field page");
}

/* ---- round trips: results and notifications ---- */

static void test_job_result(void **state)
{
        struct ctx *c = *state;
        struct sbp_job_result in, out;

        fill_result(&in);
        sbp_pack_response_begin(&c->pk, 11);
        sbp_job_result_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.type, SBP_RESPONSE);
        assert_int_equal(c->msg.msgid, 11);
        assert_int_equal(c->msg.error.type, MSGPACK_OBJECT_NIL);
        assert_int_equal(sbp_job_result_decode(&c->msg.result, &out), 0);
        assert_memory_equal(&in, &out, sizeof(in));

        /* exited with an error text and every nil the other way round */
        in.state = SBP_JOB_FAILED;
        in.exit_code = 0;
        in.signal = 0;
        in.tasks_peak = 12;
        strcpy(in.error, "pivot_root: EINVAL");
        in.enforced.uid = -1;
        in.enforced.gid = 61003;
        memset(in.enforced.network, 0, sizeof(in.enforced.network));
        in.enforced.namespaces = 0;
        sbp_pack_response_begin(&c->pk, 12);
        sbp_job_result_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_job_result_decode(&c->msg.result, &out), 0);
        assert_memory_equal(&in, &out, sizeof(in));
        assert_string_equal(out.error, "pivot_root: EINVAL");
        assert_int_equal(out.exit_code, 0);

        /* What was refused, when anything was; absent otherwise. */
        in.n_denied = 2;
        strcpy(in.denied[0].kind, "network");
        strcpy(in.denied[0].what, "pypi.org:443");
        in.denied[0].count = 3;
        strcpy(in.denied[1].kind, "network");
        strcpy(in.denied[1].what, "[::1]:22");
        in.denied[1].count = 1;
        sbp_pack_response_begin(&c->pk, 13);
        sbp_job_result_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_job_result_decode(&c->msg.result, &out), 0);
        assert_memory_equal(&in, &out, sizeof(in));
        assert_string_equal(out.denied[1].what, "[::1]:22");
}

static void test_lenient_results(void **state)
{
        struct ctx *c = *state;
        struct sbp_job_result out;

        /* Unknown fields are skipped, absent ones keep their "none" value,
         * known ones are still type-checked. */
        msgpack_pack_map(&c->pk, 4);
        sbp_pack_str(&c->pk, "job");
        sbp_pack_str(&c->pk, "abc");
        sbp_pack_str(&c->pk, "state");
        sbp_pack_str(&c->pk, "running");
        sbp_pack_str(&c->pk, "future_field");
        msgpack_pack_array(&c->pk, 0);
        sbp_pack_str(&c->pk, "wall_ms");
        msgpack_pack_uint8(&c->pk, 5);
        {
                msgpack_unpacked u;

                msgpack_unpacked_init(&u);
                assert_int_equal(msgpack_unpack_next(&u, c->sb.data, c->sb.size, NULL),
                                 MSGPACK_UNPACK_SUCCESS);
                assert_int_equal(sbp_job_result_decode(&u.data, &out), 0);
                assert_int_equal(out.state, SBP_JOB_RUNNING);
                assert_int_equal(out.exit_code, -1);
                assert_int_equal(out.tasks_peak, -1);
                assert_int_equal(out.enforced.uid, -1);
                assert_int_equal(out.wall_ms, 5);
                msgpack_unpacked_destroy(&u);
        }
        msgpack_sbuffer_clear(&c->sb);

        /* wrong type in a known field */
        msgpack_pack_map(&c->pk, 3);
        sbp_pack_str(&c->pk, "job");
        sbp_pack_str(&c->pk, "abc");
        sbp_pack_str(&c->pk, "state");
        sbp_pack_str(&c->pk, "exited");
        sbp_pack_str(&c->pk, "wall_ms");
        sbp_pack_str(&c->pk, "5");
        {
                msgpack_unpacked u;

                msgpack_unpacked_init(&u);
                assert_int_equal(msgpack_unpack_next(&u, c->sb.data, c->sb.size, NULL),
                                 MSGPACK_UNPACK_SUCCESS);
                assert_int_equal(sbp_job_result_decode(&u.data, &out), -EBADMSG);
                msgpack_unpacked_destroy(&u);
        }
        msgpack_sbuffer_clear(&c->sb);
}

static void test_hello_result(void **state)
{
        struct ctx *c = *state;
        struct sbp_hello_result in = { .server = "skillboxd", .version = "0.1.0",
                                       .protocol = SBP_PROTOCOL_VERSION, .uid = 1000,
                                       .role = "client", .sandboxes = true, .tty = true,
                                       .network_modes = SBP_NETWORK_MODE_NONE |
                                                        SBP_NETWORK_MODE_HOST }, out;

        fill_enforced(&in.host);
        sbp_pack_response_begin(&c->pk, 1);
        sbp_hello_result_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_hello_result_decode(&c->msg.result, &out), 0);
        assert_memory_equal(&in, &out, sizeof(in));
}

static void test_enforced(void **state)
{
        struct ctx *c = *state;
        struct sbp_enforced in, out;

        fill_enforced(&in);
        in.namespaces = 0x7f;
        sbp_pack_response_begin(&c->pk, 1);
        sbp_enforced_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_enforced_decode(&c->msg.result, &out), 0);
        assert_memory_equal(&in, &out, sizeof(in));
}

static void test_exec_result(void **state)
{
        struct ctx *c = *state;
        char job[SBP_JOB_ID_MAX + 1];

        sbp_pack_response_begin(&c->pk, 2);
        sbp_exec_result_pack(&c->pk, "3f9a0c12be47");
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_exec_result_decode(&c->msg.result, job), 0);
        assert_string_equal(job, "3f9a0c12be47");

        sbp_pack_response_begin(&c->pk, 2);
        msgpack_pack_nil(&c->pk);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_exec_result_decode(&c->msg.result, job), -EBADMSG);
}

static void test_job_info_and_list(void **state)
{
        struct ctx *c = *state;
        char *argv[] = { "sleep", "10", NULL };
        struct sbp_job_info in = { .profile = "default", .owner_uid = 1000,
                                   .started_ms = UINT64_C(1700000000000), .detached = true,
                                   .argv = argv, .argc = 2, .argv_truncated = true,
                                   .seq = 77 }, out;

        fill_result(&in.result);
        in.result.state = SBP_JOB_RUNNING;
        sbp_pack_response_begin(&c->pk, 3);
        msgpack_pack_array(&c->pk, 2);
        sbp_job_info_pack(&c->pk, &in);
        sbp_job_info_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.result.type, MSGPACK_OBJECT_ARRAY);
        assert_int_equal(c->msg.result.via.array.size, 2);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(sbp_job_info_decode(&c->msg.result.via.array.ptr[i], &out), 0);
                assert_memory_equal(&in.result, &out.result, sizeof(in.result));
                assert_string_equal(out.profile, "default");
                assert_int_equal(out.owner_uid, 1000);
                assert_int_equal(out.started_ms, UINT64_C(1700000000000));
                assert_true(out.detached);
                assert_true(out.argv_truncated);
                assert_int_equal(out.seq, 77);
                assert_int_equal(out.argc, 2);
                assert_string_equal(out.argv[0], "sleep");
                assert_string_equal(out.argv[1], "10");
                assert_null(out.argv[2]);
                sbp_job_info_free(&out);
                assert_null(out.argv);
        }
}

static void test_stats_and_profiles(void **state)
{
        struct ctx *c = *state;
        struct sbp_stats_result s, so;
        struct sbp_profile p, po;

        /* memset first: assert_memory_equal also compares the padding */
        memset(&s, 0, sizeof(s));
        s.uptime_ms = 99;
        s.connections = 2;
        s.jobs_running = 3;
        s.jobs_started = 4;
        s.jobs_failed = 5;
        s.jobs_retained = 6;
        s.memory_rss = 7 << 20;
        memset(&p, 0, sizeof(p));
        strcpy(p.name, "default");
        p.memory_max = 512u << 20;
        p.tasks_max = 64;
        p.cpu_percent = 100;
        p.timeout_ms = 60000;
        p.tmp_size = 64u << 20;
        strcpy(p.network, "none");

        sbp_pack_response_begin(&c->pk, 4);
        sbp_stats_result_pack(&c->pk, &s);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_stats_result_decode(&c->msg.result, &so), 0);
        assert_memory_equal(&s, &so, sizeof(s));

        sbp_pack_response_begin(&c->pk, 5);
        msgpack_pack_array(&c->pk, 1);
        sbp_profile_pack(&c->pk, &p);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_profile_decode(&c->msg.result.via.array.ptr[0], &po), 0);
        assert_memory_equal(&p, &po, sizeof(p));
}

static void test_error_response(void **state)
{
        struct ctx *c = *state;
        struct sbp_error in, out;

        sbp_error_set(&in, SBP_E_PERMISSION_DENIED, "memory_max %d above the profile's", 5);
        sbp_pack_response_error(&c->pk, 77, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.msgid, 77);
        assert_int_equal(c->msg.result.type, MSGPACK_OBJECT_NIL);
        assert_int_equal(sbp_error_decode(&c->msg.error, &out), 0);
        assert_int_equal(out.code, SBP_E_PERMISSION_DENIED);
        assert_string_equal(out.message, "memory_max 5 above the profile's");

        /* no message: the default text */
        in.code = SBP_E_NOT_FOUND;
        in.message[0] = '\0';
        sbp_pack_response_error(&c->pk, 78, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_error_decode(&c->msg.error, &out), 0);
        assert_int_equal(out.code, SBP_E_NOT_FOUND);
        assert_string_equal(out.message, "not found");

        /* nil error: success */
        msgpack_object nil = { .type = MSGPACK_OBJECT_NIL };

        assert_int_equal(sbp_error_decode(&nil, &out), 0);
        assert_int_equal(out.code, SBP_OK);
}

static void test_notifications(void **state)
{
        struct ctx *c = *state;
        struct sbp_job_output o;
        struct sbp_job_result in, out;

        sbp_job_output_pack(&c->pk, "3f9a0c12be47", SBP_STDERR, "oops\n", 5);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.type, SBP_NOTIFICATION);
        assert_true(method_is(&c->msg, "job_output"));
        assert_int_equal(sbp_job_output_decode(&c->msg.params, &o), 0);
        assert_string_equal(o.job, "3f9a0c12be47");
        assert_int_equal(o.stream, SBP_STDERR);
        assert_int_equal(o.len, 5);
        assert_memory_equal(o.data, "oops\n", 5);

        fill_result(&in);
        in.state = SBP_JOB_EXITED;
        in.exit_code = 3;
        in.signal = 0;
        sbp_job_exit_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_true(method_is(&c->msg, "job_exit"));
        assert_int_equal(sbp_job_exit_decode(&c->msg.params, &out), 0);
        assert_memory_equal(&in, &out, sizeof(in));

        /* the two job ids must agree */
        msgpack_sbuffer_clear(&c->sb);
        sbp_pack_notification_begin(&c->pk, "job_exit");
        msgpack_pack_map(&c->pk, 2);
        sbp_pack_str(&c->pk, "result");
        sbp_job_result_pack(&c->pk, &in);
        sbp_pack_str(&c->pk, "job");
        sbp_pack_str(&c->pk, "other");
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_job_exit_decode(&c->msg.params, &out), -EBADMSG);
}

/* ---- framing ---- */

static void test_byte_by_byte(void **state)
{
        struct ctx *c = *state;
        struct sbp_exec_params out;
        char *argv[] = { "/bin/echo", "hello", NULL };
        struct sbp_exec_params in = { .argv = argv, .argc = 2 };

        sbp_pack_request_begin(&c->pk, 42, "exec");
        sbp_exec_params_pack(&c->pk, &in);
        for (size_t i = 0; i + 1 < c->sb.size; i++) {
                feed(&c->rd, c->sb.data + i, 1);
                assert_int_equal(next(c), 0);
        }
        feed(&c->rd, c->sb.data + c->sb.size - 1, 1);
        assert_int_equal(next(c), 1);
        assert_int_equal(c->msg.msgid, 42);
        assert_int_equal(sbp_exec_params_decode(&c->msg.params, &out, &c->err), 0);
        assert_string_equal(out.argv[1], "hello");
        sbp_exec_params_free(&out);
        assert_int_equal(next(c), 0);
}

static void test_two_in_one(void **state)
{
        struct ctx *c = *state;

        sbp_pack_request_begin(&c->pk, 1, "list");
        sbp_empty_params_pack(&c->pk);
        sbp_pack_request_begin(&c->pk, 2, "stats");
        sbp_empty_params_pack(&c->pk);
        /* and the first byte of a third */
        msgpack_pack_array(&c->pk, 4);
        feed(&c->rd, c->sb.data, c->sb.size);
        msgpack_sbuffer_clear(&c->sb);
        assert_int_equal(next(c), 1);
        assert_int_equal(c->msg.msgid, 1);
        assert_true(method_is(&c->msg, "list"));
        assert_int_equal(next(c), 1);
        assert_int_equal(c->msg.msgid, 2);
        assert_true(method_is(&c->msg, "stats"));
        assert_int_equal(next(c), 0);
        /* complete the third */
        msgpack_pack_uint8(&c->pk, 0);
        msgpack_pack_uint8(&c->pk, 3);
        sbp_pack_str(&c->pk, "profiles");
        msgpack_pack_array(&c->pk, 0);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(c->msg.msgid, 3);
        assert_true(method_is(&c->msg, "profiles"));
}

static void test_big_message_in_pieces(void **state)
{
        struct ctx *c = *state;
        static uint8_t data[SBP_DATA_MAX];
        struct sbp_job_params out;

        /* A legitimate 1 MiB stdin_write arrives in 4 KiB reads. */
        memset(data, 'z', sizeof(data));
        sbp_pack_request_begin(&c->pk, 5, "stdin_write");
        sbp_job_params_pack(&c->pk, "abc", data, sizeof(data), true);
        for (size_t off = 0; off < c->sb.size; off += 4096) {
                size_t n = c->sb.size - off < 4096 ? c->sb.size - off : 4096;

                feed(&c->rd, c->sb.data + off, n);
                assert_int_equal(next(c), off + n == c->sb.size ? 1 : 0);
        }
        msgpack_sbuffer_clear(&c->sb);
        assert_int_equal(sbp_job_params_decode(&c->msg.params, true, &out, &c->err), 0);
        assert_int_equal(out.data_len, SBP_DATA_MAX);

        /* one byte more than SBP_DATA_MAX is InvalidArgument */
        static uint8_t big[SBP_DATA_MAX + 1];

        sbp_pack_request_begin(&c->pk, 6, "stdin_write");
        sbp_job_params_pack(&c->pk, "abc", big, sizeof(big), true);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_job_params_decode(&c->msg.params, true, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "field data: longer than");
}

/* ---- malformed envelopes ---- */

static void expect_bad(struct ctx *c, const void *bytes, size_t len, int want, const char *needle)
{
        int r = feed_next(c, bytes, len);

        assert_int_equal(r, want);
        assert_int_equal(c->err.code, SBP_E_PROTOCOL_ERROR);
        if (needle && !strstr(c->err.message, needle))
                fail_msg("error \"%s\" lacks \"%s\"", c->err.message, needle);
}

static void test_not_msgpack(void **state)
{
        struct ctx *c = *state;

        expect_bad(c, "\xc1garbage", 8, -EBADMSG, "not MessagePack");
        assert_false(c->has_msgid);
        /* sticky: the stream has lost its boundaries */
        assert_int_equal(next(c), -EBADMSG);
}

static void test_http_garbage(void **state)
{
        struct ctx *c = *state;
        const char *get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

        /* 'G' is a positive fixint: a complete, well-formed, non-array frame */
        expect_bad(c, get, strlen(get), -EBADMSG, "not an array");
}

static void test_ext_refused(void **state)
{
        struct ctx *c = *state;

        /* [0, 1, "x", [ fixext1 ]] */
        expect_bad(c, "\x94\x00\x01\xa1x\x91\xd4\x01\x00", 9, -EBADMSG, "ext");
        assert_true(c->has_msgid);
        assert_int_equal(c->msg.msgid, 1);
}

static void test_envelope_shapes(void **state)
{
        struct ctx *c = *state;

        /* wrong arity; the stream stays in step after an envelope error */
        expect_bad(c, "\x92\x00\x01", 3, -EBADMSG, "3 or 4");
        expect_bad(c, "\x95\x00\x01\xa1x\x90\xc0", 7, -EBADMSG, "3 or 4");
        /* request of 3 */
        expect_bad(c, "\x93\x00\x01\xa1x", 5, -EBADMSG, "request");
        /* notification of 4 */
        expect_bad(c, "\x94\x02\xa1x\x90\xc0", 6, -EBADMSG, "notification");
        /* type tag: 3, -1, "0", float */
        expect_bad(c, "\x94\x03\x01\xa1x\x90", 6, -EBADMSG, "type");
        expect_bad(c, "\x94\xff\x01\xa1x\x90", 6, -EBADMSG, "type");
        expect_bad(c, "\x94\xa1" "0\x01\xa1x\x90", 7, -EBADMSG, "type");
        expect_bad(c, "\x94\xca\x00\x00\x00\x00\x01\xa1x\x90", 10, -EBADMSG, "type");
        /* msgid: 2^32, negative, str */
        expect_bad(c, "\x94\x00\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xa1x\x90", 14, -EBADMSG, "msgid");
        assert_false(c->has_msgid);
        expect_bad(c, "\x94\x00\xff\xa1x\x90", 6, -EBADMSG, "msgid");
        expect_bad(c, "\x94\x00\xa1" "1\xa1x\x90", 7, -EBADMSG, "msgid");
        /* method: neither str nor bin, empty, too long (msgid is known: answerable) */
        expect_bad(c, "\x94\x00\x05\x07\x90", 5, -EBADMSG, "method");
        assert_true(c->has_msgid);
        assert_int_equal(c->msg.msgid, 5);
        expect_bad(c, "\x94\x00\x05\xa0\x90", 5, -EBADMSG, "method");
        {
                char buf[64] = "\x94\x00\x06\xd9";   /* str8: the limit is above fixstr's 31 */

                buf[4] = (char)(SBP_METHOD_LEN_MAX + 1);
                memset(buf + 5, 'm', SBP_METHOD_LEN_MAX + 1);
                buf[5 + SBP_METHOD_LEN_MAX + 1] = (char)0x90;
                expect_bad(c, buf, 5 + SBP_METHOD_LEN_MAX + 2, -EBADMSG, "method");
                assert_int_equal(c->msg.msgid, 6);
                /* exactly the limit is fine */
                buf[4] = (char)SBP_METHOD_LEN_MAX;
                buf[5 + SBP_METHOD_LEN_MAX] = (char)0x90;
                assert_int_equal(feed_next(c, buf, 5 + SBP_METHOD_LEN_MAX + 1), 1);
        }
        /* params: a bare map, nil; not an array, so not msgpack-rpc */
        expect_bad(c, "\x94\x00\x07\xa1x\x80", 6, -EBADMSG, "params");
        expect_bad(c, "\x94\x00\x07\xa1x\xc0", 6, -EBADMSG, "params");
        /* response error neither nil nor map */
        expect_bad(c, "\x94\x01\x07\xa1x\xc0", 6, -EBADMSG, "error");
        /* still in step: a good message goes through */
        assert_int_equal(feed_next(c, "\x94\x00\x08\xa4list\x90", 9), 1);
        assert_int_equal(c->msg.msgid, 8);
}

static void test_depth(void **state)
{
        struct ctx *c = *state;
        /* [0, 1, "x", [{"a": [[[ 1 ]]] }]]: envelope 1, params 2, map 3, 4, 5, 6 */
        const char ok[] = "\x94\x00\x01\xa1x\x91\x81\xa1" "a\x91\x91\x91\x01";
        const char deep[] = "\x94\x00\x01\xa1x\x91\x81\xa1" "a\x91\x91\x91\x91\x01";
        const char deep_empty[] = "\x94\x00\x01\xa1x\x91\x81\xa1" "a\x91\x91\x91\x90";

        assert_int_equal(feed_next(c, ok, sizeof(ok) - 1), 1);
        expect_bad(c, deep_empty, sizeof(deep_empty) - 1, -EBADMSG, "nesting");
        assert_true(c->has_msgid);
        sbp_reader_destroy(&c->rd);
        assert_int_equal(sbp_reader_init(&c->rd, 0), 0);
        expect_bad(c, deep, sizeof(deep) - 1, -EBADMSG, "nesting");

        /* a thousand open arrays, refused at the seventh */
        sbp_reader_destroy(&c->rd);
        assert_int_equal(sbp_reader_init(&c->rd, 0), 0);
        char many[1000];

        memset(many, 0x91, sizeof(many));
        expect_bad(c, many, sizeof(many), -EBADMSG, "nesting");
}

static void test_over_cap_in_pieces(void **state)
{
        struct ctx *c = *state;
        char chunk[4096];
        int r = 0;

        /* A small cap so the test is quick: 64 KiB. An array of fixints that
         * declares few elements but grows past the cap one read at a time
         * cannot exist, so use a str body that is honest but too long. */
        sbp_reader_destroy(&c->rd);
        assert_int_equal(sbp_reader_init(&c->rd, 65536), 0);
        /* [0, 1, "x", [{"s": str32 of 100000 bytes}]] */
        const char head[] = "\x94\x00\x01\xa1x\x91\x81\xa1s\xdb\x00\x01\x86\xa0";

        r = feed_next(c, head, sizeof(head) - 1);
        /* declared length already passes the cap: refused at once */
        assert_int_equal(r, -EMSGSIZE);
        assert_true(c->has_msgid);

        /* Now one whose size is only visible as bytes keep coming: a map of
         * 60000 entries declared up front fits 64 KiB only if every entry is
         * one byte; entries of 3 bytes make it overflow part-way. */
        sbp_reader_destroy(&c->rd);
        assert_int_equal(sbp_reader_init(&c->rd, 65536), 0);
        const char head2[] = "\x94\x00\x01\xa1x\x91\xdc\x75\x30";   /* array16 of 30000 */

        r = feed_next(c, head2, sizeof(head2) - 1);
        assert_int_equal(r, 0);
        memset(chunk, 0xcd, sizeof(chunk)); /* uint16 headers, 3 bytes each... */
        size_t fed = 0;

        for (int i = 0; i < 100 && r == 0; i++) {
                /* 0xcd 0xcd 0xcd = uint16 0xcdcd: 3 bytes per element */
                feed(&c->rd, chunk, 4095);
                fed += 4095;
                r = next(c);
        }
        assert_int_equal(r, -EMSGSIZE);
        assert_true(fed <= 65536 + 4095 * 2);
        assert_int_equal(next(c), -EMSGSIZE);   /* sticky */
}

static void test_huge_declared_lengths(void **state)
{
        struct ctx *c = *state;
        static const struct {
                const char *bytes;
                size_t len;
        } cases[] = {
                { "\xdd\xff\xff\xff\xff", 5 },                  /* array32 of 2^32-1 */
                { "\xdf\xff\xff\xff\xff", 5 },                  /* map32 of 2^32-1 */
                { "\xdb\xff\xff\xff\xff", 5 },                  /* str32 of 4 GiB */
                { "\xc6\xff\xff\xff\xff", 5 },                  /* bin32 of 4 GiB */
                { "\x94\x00\x01\xa1x\x91\xdf\xff\xff\xff\xff", 11 },
                { "\x94\x00\x01\xa1x\x91\x81\xa1" "a\xdd\x7f\xff\xff\xff", 14 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                sbp_reader_destroy(&c->rd);
                assert_int_equal(sbp_reader_init(&c->rd, 0), 0);
                expect_bad(c, cases[i].bytes, cases[i].len, -EMSGSIZE, "larger than");
        }

        /* A run of array16 headers of 65535 each: every one would make
         * msgpack-c allocate 1.5 MiB at once. Nested, they hit the depth
         * limit at the seventh level. */
        sbp_reader_destroy(&c->rd);
        assert_int_equal(sbp_reader_init(&c->rd, 0), 0);
        char buf[3 * 200];

        for (int i = 0; i < 200; i++)
                memcpy(buf + 3 * i, "\xdc\xff\xff", 3);
        expect_bad(c, buf, sizeof(buf), -EBADMSG, "nesting");

        /* Declared counts add up across levels: the outer array alone fits
         * a 100000-byte cap, its first element's declared count does not. */
        sbp_reader_destroy(&c->rd);
        assert_int_equal(sbp_reader_init(&c->rd, 100000), 0);
        const char head[] = "\x94\x00\x01\xa1x\x91\x81\xa1" "a\xdc\xff\xff";

        assert_int_equal(feed_next(c, head, sizeof(head) - 1), 0);
        expect_bad(c, "\xdc\xff\xff", 3, -EMSGSIZE, "larger than");
        /* Siblings cannot share bytes: each element is at least one byte, so
         * a filled array of arrays costs msgpack-c at most 24 bytes per byte. */
}

static void test_reserve_bounds(void **state)
{
        struct ctx *c = *state;
        char *buf;
        size_t len;

        /* asking for more than the cap gets at most about the cap */
        sbp_reader_destroy(&c->rd);
        assert_int_equal(sbp_reader_init(&c->rd, 8192), 0);
        assert_int_equal(sbp_reader_reserve(&c->rd, SIZE_MAX / 2, &buf, &len), 0);
        assert_true(len >= 1 && len <= 2 * 8192 + 4096);
        assert_int_equal(sbp_reader_reserve(&c->rd, 0, &buf, &len), 0);
        assert_true(len >= 1);
}

/* ---- strict decoders ---- */

/* Pack [0, 1, method, [ <map from the callback> ]] and read it. */
static void request_with(struct ctx *c, void (*fill)(msgpack_packer *pk))
{
        sbp_pack_request_begin(&c->pk, 1, "exec");
        fill(&c->pk);
        assert_int_equal(roundtrip(c), 1);
}

static int exec_decode(struct ctx *c)
{
        struct sbp_exec_params p;
        int r = sbp_exec_params_decode(&c->msg.params, &p, &c->err);

        if (r == 0)
                sbp_exec_params_free(&p);
        else
                assert_null(p.argv);    /* nothing left allocated */
        return r;
}

static void argv1(msgpack_packer *pk)
{
        sbp_pack_str(pk, "argv");
        msgpack_pack_array(pk, 1);
        sbp_pack_str(pk, "/bin/true");
}

static void f_unknown(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "memroy_max");
        msgpack_pack_uint8(pk, 1);
}
static void f_unknown_binary_key(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_strn(pk, "\x01\xffzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 62);
        msgpack_pack_uint8(pk, 1);
}
static void f_wrong_uint(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "memory_max");
        sbp_pack_str(pk, "512M");
}
static void f_negative_uint(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "timeout_ms");
        msgpack_pack_int8(pk, -1);
}
static void f_float(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "tasks_max");
        msgpack_pack_double(pk, 1.5);
}
static void f_u32_overflow(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "cpu_percent");
        msgpack_pack_uint64(pk, UINT64_C(1) << 32);
}
static void f_wrong_bool(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "detach");
        msgpack_pack_uint8(pk, 1);
}
static void f_argv_str(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "argv");
        sbp_pack_str(pk, "/bin/true");
}
static void f_missing_argv(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "timeout_ms");
        msgpack_pack_uint8(pk, 1);
}
static void f_empty_argv(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "argv");
        msgpack_pack_array(pk, 0);
}
static void f_duplicate(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        argv1(pk);
}
static void f_non_str_key(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        msgpack_pack_uint8(pk, 1);
        msgpack_pack_uint8(pk, 1);
}
static void f_nul_argv(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "argv");
        msgpack_pack_array(pk, 1);
        sbp_pack_strn(pk, "/bin/true\0evil", 14);
}
static void f_nul_profile(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "profile");
        sbp_pack_strn(pk, "def\0ault", 8);
}
static void f_long_profile(msgpack_packer *pk)
{
        char name[SBP_NAME_MAX + 1];

        memset(name, 'p', sizeof(name));
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "profile");
        sbp_pack_strn(pk, name, sizeof(name));
}
static void f_env_eq(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "env");
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "A=B");
        sbp_pack_str(pk, "c");
}
static void f_env_empty_key(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "env");
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "");
        sbp_pack_str(pk, "c");
}
static void f_env_nul(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "env");
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "A");
        sbp_pack_strn(pk, "x\0y", 3);
}
static void f_env_dup(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "env");
        msgpack_pack_map(pk, 2);
        sbp_pack_str(pk, "A");
        sbp_pack_str(pk, "1");
        sbp_pack_str(pk, "A");
        sbp_pack_str(pk, "2");
}
static void f_env_value_int(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "env");
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "A");
        msgpack_pack_uint8(pk, 1);
}
static void f_env_array(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "env");
        msgpack_pack_array(pk, 1);
        sbp_pack_str(pk, "A=1");
}
static void f_argv_count(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "argv");
        msgpack_pack_array(pk, SBP_ARGV_COUNT_MAX + 1);
        for (unsigned i = 0; i < SBP_ARGV_COUNT_MAX + 1; i++)
                sbp_pack_str(pk, "a");
}
static void f_argv_count_ok(msgpack_packer *pk)
{
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "argv");
        msgpack_pack_array(pk, SBP_ARGV_COUNT_MAX);
        for (unsigned i = 0; i < SBP_ARGV_COUNT_MAX; i++)
                sbp_pack_str(pk, "a");
}
static void f_env_count(msgpack_packer *pk)
{
        char key[16];

        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "env");
        msgpack_pack_map(pk, SBP_ENV_COUNT_MAX + 1);
        for (unsigned i = 0; i < SBP_ENV_COUNT_MAX + 1; i++) {
                snprintf(key, sizeof(key), "K%u", i);
                sbp_pack_str(pk, key);
                sbp_pack_str(pk, "v");
        }
}
static void f_string_max(msgpack_packer *pk)
{
        static char s[SBP_STRING_MAX + 1];

        memset(s, 'x', sizeof(s));
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "argv");
        msgpack_pack_array(pk, 1);
        sbp_pack_strn(pk, s, sizeof(s));
}
static void f_env_value_max(msgpack_packer *pk)
{
        static char s[SBP_STRING_MAX + 1];

        memset(s, 'x', sizeof(s));
        msgpack_pack_map(pk, 2);
        argv1(pk);
        sbp_pack_str(pk, "env");
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "K");
        sbp_pack_strn(pk, s, sizeof(s));
}
static void f_args_bytes(msgpack_packer *pk)
{
        static char s[SBP_STRING_MAX];
        unsigned n = SBP_ARGS_BYTES_MAX / SBP_STRING_MAX + 1;   /* 17 x 64 KiB > 1 MiB */

        memset(s, 'x', sizeof(s));
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "argv");
        msgpack_pack_array(pk, n);
        for (unsigned i = 0; i < n; i++)
                sbp_pack_strn(pk, s, sizeof(s));
}
static void f_args_bytes_ok(msgpack_packer *pk)
{
        static char s[SBP_STRING_MAX - 1];
        unsigned n = SBP_ARGS_BYTES_MAX / SBP_STRING_MAX;       /* 16 x 64 KiB = 1 MiB */

        memset(s, 'x', sizeof(s));
        msgpack_pack_map(pk, 1);
        sbp_pack_str(pk, "argv");
        msgpack_pack_array(pk, n);
        for (unsigned i = 0; i < n; i++)
                sbp_pack_strn(pk, s, sizeof(s));
}

static void test_strict_exec(void **state)
{
        struct ctx *c = *state;
        static const struct {
                void (*fill)(msgpack_packer *pk);
                const char *needle;
        } cases[] = {
                { f_unknown, "unknown field memroy_max" },
                { f_unknown_binary_key, "unknown field ??zzz" },
                { f_wrong_uint, "field memory_max: expected uint" },
                { f_negative_uint, "field timeout_ms: expected uint" },
                { f_float, "field tasks_max: expected uint" },
                { f_u32_overflow, "field cpu_percent: above" },
                { f_wrong_bool, "field detach: expected bool" },
                { f_argv_str, "field argv: expected array of str" },
                { f_missing_argv, "missing field argv" },
                { f_empty_argv, "field argv: needs at least one entry" },
                { f_duplicate, "duplicate field argv" },
                { f_non_str_key, "field names must be str" },
                { f_nul_argv, "field argv: entry contains NUL" },
                { f_nul_profile, "field profile: value contains NUL" },
                { f_long_profile, "field profile: value longer than 63 bytes" },
                { f_env_eq, "field env: key empty or containing '='" },
                { f_env_empty_key, "field env: key empty" },
                { f_env_nul, "field env: value contains NUL" },
                { f_env_dup, "field env: duplicate key A" },
                { f_env_value_int, "field env: expected map of str or bin to str or bin" },
                { f_env_array, "field env: expected map of str or bin to str or bin" },
                { f_argv_count, "field argv: more than 1024 entries" },
                { f_env_count, "field env: more than 256 entries" },
                { f_string_max, "field argv: entry longer than 65536 bytes" },
                { f_env_value_max, "field env: value longer than 65536 bytes" },
                { f_args_bytes, "more than 1048576 bytes together" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                request_with(c, cases[i].fill);
                assert_err(c, exec_decode(c), SBP_E_INVALID_ARGUMENT, cases[i].needle);
        }
        request_with(c, f_argv_count_ok);
        assert_int_equal(exec_decode(c), 0);
        request_with(c, f_args_bytes_ok);
        assert_int_equal(exec_decode(c), 0);
}

/* The daemon sends a client's strings back as str (list, inspect; to admins
 * too), and str is UTF-8: the strict decoders take nothing else. */
static void exec_with_argv1(struct ctx *c, const char *arg)
{
        sbp_pack_request_begin(&c->pk, 1, "exec");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "argv");
        msgpack_pack_array(&c->pk, 1);
        sbp_pack_str(&c->pk, arg);
        assert_int_equal(roundtrip(c), 1);
}

static void test_strict_utf8(void **state)
{
        struct ctx *c = *state;
        static const char *const bad[] = {
                "\xff", "a\xfe", "\x80",                /* never in UTF-8; a stray continuation */
                "\xc3", "\xe2\x82",                     /* cut short */
                "\xc0\xaf", "\xe0\x80\xaf",             /* overlong '/' */
                "\xed\xa0\x80",                         /* a surrogate */
                "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",  /* above U+10FFFF */
        };
        static const char *const good[] = {
                "plain", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac", "\xef\xbf\xbd",
                "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf",
        };
        struct sbp_hello_params hp;
        struct sbp_job_info in = { .profile = "default" }, out;
        char *argv[] = { "\xff", NULL };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                exec_with_argv1(c, bad[i]);
                assert_err(c, exec_decode(c), SBP_E_INVALID_ARGUMENT,
                           "field argv: entry is not UTF-8");
        }
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                exec_with_argv1(c, good[i]);
                assert_int_equal(exec_decode(c), 0);
        }

        sbp_pack_request_begin(&c->pk, 1, "exec");
        msgpack_pack_map(&c->pk, 2);
        argv1(&c->pk);
        sbp_pack_str(&c->pk, "env");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "A");
        sbp_pack_str(&c->pk, "\xc0\xaf");
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, exec_decode(c), SBP_E_INVALID_ARGUMENT, "field env: value is not UTF-8");

        sbp_pack_request_begin(&c->pk, 1, "hello");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "client");
        sbp_pack_str(&c->pk, "\xed\xa0\x80");
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_hello_params_decode(&c->msg.params, &hp, &c->err),
                   SBP_E_INVALID_ARGUMENT, "field client: value is not UTF-8");

        /* A client still reads what an older daemon sent. */
        fill_result(&in.result);
        in.argv = argv;
        in.argc = 1;
        sbp_pack_response_begin(&c->pk, 2);
        sbp_job_info_pack(&c->pk, &in);
        assert_int_equal(roundtrip(c), 1);
        assert_int_equal(sbp_job_info_decode(&c->msg.result, &out), 0);
        assert_string_equal(out.argv[0], "\xff");
        sbp_job_info_free(&out);
}

static void test_job_ids(void **state)
{
        struct ctx *c = *state;
        struct sbp_job_params out;
        const char *bad[] = { "", "ABC", "a/b", "../x", "a b", "a\xc3\xa9",
                              "0123456789abcdef0123456789abcdef0" /* 33 */ };
        const char *good[] = { "a", "3f9a0c12be47", "job-1", "0123456789abcdef0123456789abcdef" };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                sbp_pack_request_begin(&c->pk, 1, "kill");
                msgpack_pack_map(&c->pk, 1);
                sbp_pack_str(&c->pk, "job");
                sbp_pack_str(&c->pk, bad[i]);
                assert_int_equal(roundtrip(c), 1);
                assert_err(c, sbp_job_params_decode(&c->msg.params, false, &out, &c->err),
                           SBP_E_INVALID_ARGUMENT, "field job: not a job id");
        }
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                sbp_pack_request_begin(&c->pk, 1, "kill");
                sbp_job_params_pack(&c->pk, good[i], NULL, 0, false);
                assert_int_equal(roundtrip(c), 1);
                assert_int_equal(sbp_job_params_decode(&c->msg.params, false, &out, &c->err), 0);
                assert_string_equal(out.job, good[i]);
        }
        /* NUL inside a job id */
        sbp_pack_request_begin(&c->pk, 1, "kill");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "job");
        sbp_pack_strn(&c->pk, "ab\0c", 4);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_job_params_decode(&c->msg.params, false, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "not a job id");
        /* wrong type */
        sbp_pack_request_begin(&c->pk, 1, "kill");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "job");
        msgpack_pack_uint8(&c->pk, 12);
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_job_params_decode(&c->msg.params, false, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "field job: expected str");
        /* data of the wrong type */
        sbp_pack_request_begin(&c->pk, 1, "stdin_write");
        msgpack_pack_map(&c->pk, 2);
        sbp_pack_str(&c->pk, "job");
        sbp_pack_str(&c->pk, "abc");
        sbp_pack_str(&c->pk, "data");
        sbp_pack_str(&c->pk, "text, not bin");
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_job_params_decode(&c->msg.params, true, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "field data: expected bin");
}

static void test_hello_strict(void **state)
{
        struct ctx *c = *state;
        struct sbp_hello_params out;

        sbp_pack_request_begin(&c->pk, 1, "hello");
        msgpack_pack_map(&c->pk, 1);
        sbp_pack_str(&c->pk, "protocol");
        sbp_pack_str(&c->pk, "1");
        assert_int_equal(roundtrip(c), 1);
        assert_err(c, sbp_hello_params_decode(&c->msg.params, &out, &c->err),
                   SBP_E_INVALID_ARGUMENT, "field protocol: expected uint");
}

/* A method name is the peer's bytes; an unknown one comes back printable. */
static void test_method_find(void **state)
{
        static const char *const names[] = {
#define M(name) #name,
                SBP_METHODS(M)
#undef M
        };
        static const char hostile[] = "\xff\xfe\x1b[2J\x00x";
        char longname[40];
        struct sbp_error err;

        (void)state;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                assert_int_equal(sbp_method_find(names[i], strlen(names[i]), &err), (int)i);
        assert_int_equal(sbp_method_find("exe", 3, &err), -EINVAL);
        assert_int_equal(sbp_method_find("exec\0", 5, &err), -EINVAL);
        assert_int_equal(sbp_method_find(hostile, sizeof(hostile) - 1, &err), -EINVAL);
        assert_int_equal(err.code, SBP_E_INVALID_ARGUMENT);
        assert_string_equal(err.message, "unknown method ???[2J?x");
        memset(longname, 'a', sizeof(longname));
        assert_int_equal(sbp_method_find(longname, sizeof(longname), &err), -EINVAL);
        assert_string_equal(err.message, "unknown method aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tables),
                cmocka_unit_test(test_method_find),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
                T(test_hello_params),
                T(test_empty_params_array),
                T(test_exec_params),
                T(test_exec_params_network),
                T(test_job_params),
                T(test_tty_params),
                T(test_empty_params),
                T(test_list_params),
                T(test_job_result),
                T(test_lenient_results),
                T(test_hello_result),
                T(test_enforced),
                T(test_exec_result),
                T(test_job_info_and_list),
                T(test_stats_and_profiles),
                T(test_error_response),
                T(test_notifications),
                T(test_byte_by_byte),
                T(test_two_in_one),
                T(test_big_message_in_pieces),
                T(test_not_msgpack),
                T(test_http_garbage),
                T(test_ext_refused),
                T(test_envelope_shapes),
                T(test_depth),
                T(test_over_cap_in_pieces),
                T(test_huge_declared_lengths),
                T(test_reserve_bounds),
                T(test_strict_exec),
                T(test_strict_utf8),
                T(test_job_ids),
                T(test_hello_strict),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
