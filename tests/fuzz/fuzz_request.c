/* fuzz_request.c — libFuzzer harness for the daemon's request decoders.
 *
 * Input: one byte choosing the method, then the bytes of the params object.
 * A byte below 0x80 is an index into SBP_METHODS; from 0x80 on, its low five
 * bits are the length - 1 of a method name (any bytes) that follows. The
 * harness wraps them in a request envelope, [0, 1, METHOD, [PARAMS]], reads
 * that through sbp_reader (so msgpack-c only ever sees what the reader's
 * bounds let through, as in the daemon), finds the method with
 * sbp_method_find and decodes the params with the decoder daemon/dispatch.c
 * uses for it. The fuzzer spends its time inside the params, not on
 * framing, which fuzz_reader covers.
 *
 * What the daemon relies on is checked: a decoder that accepts leaves a
 * struct within every documented bound (argv count and bytes, env "K=V"
 * without duplicates, mount targets normalized and apart, fd indexes below
 * SBP_FDS_MAX, job ids of [a-z0-9-], every str field UTF-8, as the daemon
 * sends it back as str; argv and env entries are NUL-free bytes, sent back
 * as bin where they are not UTF-8); packing it again decodes to the same
 * struct; a decoder that refuses says InvalidArgument (Internal only for
 * memory), leaves nothing allocated, and its message is printable ASCII
 * (it goes back to the peer as a str and into the log). Leaks are found by
 * LeakSanitizer.
 *
 * Linked with standalone.c instead of libFuzzer, any compiler builds it as a
 * smoke test over corpus/request.
 */
#include <errno.h>
#include <string.h>

#include "protocol/sbp.h"
#include "tests/fuzz/fuzz.h"

/* Larger than any input libFuzzer makes by default (-max_len 4096) plus the
 * envelope; small enough to stay fast. */
#define MESSAGE_MAX (1u << 16)

enum decoder { HELLO, EXEC, JOB, JOB_DATA, EMPTY, RESIZE, JOB_CONNECT, SANDBOX_CREATE,
               SANDBOX_REF };

static const struct {
        const char *name;
        enum decoder decoder;
} methods[] = {
        /* As daemon/dispatch.c decodes them. */
        { "hello", HELLO },         { "exec", EXEC },       { "wait", JOB },
        { "kill", JOB },            { "list", EMPTY },      { "inspect", JOB },
        { "stdin_write", JOB_DATA }, { "stdin_close", JOB }, { "stats", EMPTY },
        { "profiles", EMPTY },
        { "resize", RESIZE },
        { "job_connect", JOB_CONNECT },
        { "sandbox_create", SANDBOX_CREATE }, { "sandbox_destroy", SANDBOX_REF },
        { "sandbox_list", EMPTY },
        { "work_fd", JOB },
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))
_Static_assert(N_METHODS < 0x80, "index bytes are below 0x80");

/* Every method of the protocol has its row above. */
#define COUNT_METHOD(name) +1
_Static_assert(N_METHODS == 0 SBP_METHODS(COUNT_METHOD), "a method has no decoder here");
#undef COUNT_METHOD

static void check_refusal(int r, const struct sbp_error *err)
{
        size_t n = strnlen(err->message, sizeof(err->message));

        CHECK(r == -EINVAL || r == -ENOMEM);
        CHECK(err->code == (r == -ENOMEM ? SBP_E_INTERNAL : SBP_E_INVALID_ARGUMENT));
        CHECK(n >= 1 && n < sizeof(err->message));
        for (size_t i = 0; i < n; i++)
                CHECK(err->message[i] >= 0x20 && err->message[i] < 0x7f);
}

/* Pack with pack(), then unpack the one object that makes. */
struct repacked {
        msgpack_sbuffer sb;
        msgpack_unpacked u;
};

static const msgpack_object *repack_begin(struct repacked *rp, msgpack_packer *pk)
{
        msgpack_sbuffer_init(&rp->sb);
        msgpack_packer_init(pk, &rp->sb, msgpack_sbuffer_write);
        msgpack_unpacked_init(&rp->u);
        return &rp->u.data;
}

static const msgpack_object *repack_unpack(struct repacked *rp)
{
        CHECK(msgpack_unpack_next(&rp->u, rp->sb.data, rp->sb.size, NULL) ==
              MSGPACK_UNPACK_SUCCESS);
        return &rp->u.data;
}

static void repack_end(struct repacked *rp)
{
        msgpack_unpacked_destroy(&rp->u);
        msgpack_sbuffer_destroy(&rp->sb);
}

/* UTF-8 by decoding it: each sequence gives a code point that needs
 * exactly that many bytes and is a scalar value (not a surrogate, at most
 * U+10FFFF). A second way to say what sbp_fields.c checks. */
static bool is_utf8(const char *str)
{
        const unsigned char *s = (const unsigned char *)str;

        while (*s) {
                static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
                uint32_t cp;
                size_t n;

                if (*s < 0x80) {
                        s++;
                        continue;
                }
                if ((*s & 0xe0) == 0xc0) {
                        n = 1;
                        cp = *s & 0x1f;
                } else if ((*s & 0xf0) == 0xe0) {
                        n = 2;
                        cp = *s & 0x0f;
                } else if ((*s & 0xf8) == 0xf0) {
                        n = 3;
                        cp = *s & 0x07;
                } else {
                        return false;
                }
                for (size_t k = 1; k <= n; k++) {
                        if ((s[k] & 0xc0) != 0x80)
                                return false;   /* also the terminating NUL */
                        cp = cp << 6 | (s[k] & 0x3f);
                }
                if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                s += n + 1;
        }
        return true;
}

static void hello(const msgpack_object *params)
{
        struct sbp_hello_params p, q;
        struct sbp_error err = { 0 };
        struct repacked rp;
        msgpack_packer pk;
        int r;

        r = sbp_hello_params_decode(params, &p, &err);
        if (r < 0) {
                check_refusal(r, &err);
                return;
        }
        CHECK(strnlen(p.client, sizeof(p.client)) <= SBP_NAME_MAX && is_utf8(p.client));
        repack_begin(&rp, &pk);
        sbp_hello_params_pack(&pk, &p);
        CHECK(sbp_hello_params_decode(repack_unpack(&rp), &q, &err) == 0);
        CHECK(strcmp(p.client, q.client) == 0 && p.protocol == q.protocol);
        repack_end(&rp);
}

static size_t env_key_len(const char *kv)
{
        const char *eq = strchr(kv, '=');

        CHECK(eq != NULL && eq != kv);
        return (size_t)(eq - kv);
}

/* What sbp.h promises of a decoded exec, and what the daemon builds on. */
static void exec_check(const struct sbp_exec_params *p)
{
        size_t bytes = 0;

        CHECK(p->argc >= 1 && p->argc <= SBP_ARGV_COUNT_MAX && p->argv[p->argc] == NULL);
        CHECK(p->envc <= SBP_ENV_COUNT_MAX && (p->envc == 0 || p->env[p->envc] == NULL));
        for (uint32_t i = 0; i < p->argc; i++) {
                CHECK(strlen(p->argv[i]) <= SBP_STRING_MAX);
                bytes += strlen(p->argv[i]) + 1;
        }
        for (uint32_t i = 0; i < p->envc; i++) {
                size_t kl = env_key_len(p->env[i]);

                CHECK(kl <= SBP_STRING_MAX && strlen(p->env[i] + kl + 1) <= SBP_STRING_MAX);
                for (uint32_t j = 0; j < i; j++)
                        CHECK(env_key_len(p->env[j]) != kl ||
                              memcmp(p->env[j], p->env[i], kl) != 0);
                bytes += strlen(p->env[i]) + 1;
        }
        CHECK(bytes <= SBP_ARGS_BYTES_MAX);
        CHECK(strnlen(p->profile, sizeof(p->profile)) <= SBP_NAME_MAX && is_utf8(p->profile));
        CHECK(!p->has_workdir_fd || p->workdir_fd < SBP_FDS_MAX);
        CHECK(p->has_workdir_fd || p->workdir_fd == 0);
        CHECK(p->nmounts <= SBP_MOUNTS_MAX);
        CHECK(p->rows <= SBP_TTY_SIZE_MAX && p->cols <= SBP_TTY_SIZE_MAX);
        CHECK(p->tty || (p->rows == 0 && p->cols == 0));
        for (uint32_t i = 0; i < p->nmounts; i++) {
                const char *t = p->mounts[i].target;

                CHECK(p->mounts[i].fd < SBP_FDS_MAX);
                CHECK(sbp_mount_target_valid(t) && is_utf8(t));
                CHECK(strstr(t, "//") == NULL && strstr(t, "/./") == NULL &&
                      strstr(t, "/../") == NULL);
                for (uint32_t k = 0; k < i; k++) {
                        const char *o = p->mounts[k].target;
                        size_t lo = strlen(o), lt = strlen(t);

                        /* Neither is the other, nor a directory above it. */
                        CHECK(strcmp(o, t) != 0);
                        CHECK(!(lo < lt && strncmp(o, t, lo) == 0 && t[lo] == '/'));
                        CHECK(!(lt < lo && strncmp(o, t, lt) == 0 && o[lt] == '/'));
                }
        }
}

static void exec_same(const struct sbp_exec_params *p, const struct sbp_exec_params *q)
{
        CHECK(q->argc == p->argc && q->envc == p->envc && q->nmounts == p->nmounts);
        for (uint32_t i = 0; i < p->argc; i++)
                CHECK(strcmp(q->argv[i], p->argv[i]) == 0);
        for (uint32_t i = 0; i < p->envc; i++)
                CHECK(strcmp(q->env[i], p->env[i]) == 0);
        CHECK(strcmp(q->profile, p->profile) == 0);
        CHECK(q->memory_max == p->memory_max && q->tasks_max == p->tasks_max &&
              q->cpu_percent == p->cpu_percent && q->timeout_ms == p->timeout_ms &&
              q->detach == p->detach && q->stdin == p->stdin &&
              q->output_max == p->output_max && q->has_workdir_fd == p->has_workdir_fd &&
              q->workdir_fd == p->workdir_fd);
        CHECK(q->tty == p->tty && q->rows == p->rows && q->cols == p->cols);
        for (uint32_t i = 0; i < p->nmounts; i++)
                CHECK(q->mounts[i].fd == p->mounts[i].fd &&
                      strcmp(q->mounts[i].target, p->mounts[i].target) == 0 &&
                      q->mounts[i].read_only == p->mounts[i].read_only);
}

static void exec(const msgpack_object *params)
{
        struct sbp_exec_params p, q;
        struct sbp_error err = { 0 };
        struct repacked rp;
        msgpack_packer pk;
        int r;

        r = sbp_exec_params_decode(params, &p, &err);
        if (r < 0) {
                check_refusal(r, &err);
                CHECK(p.argv == NULL && p.env == NULL && p.argc == 0 && p.envc == 0);
                return;
        }
        exec_check(&p);
        repack_begin(&rp, &pk);
        sbp_exec_params_pack(&pk, &p);
        CHECK(sbp_exec_params_decode(repack_unpack(&rp), &q, &err) == 0);
        exec_same(&p, &q);
        sbp_exec_params_free(&q);
        repack_end(&rp);
        sbp_exec_params_free(&p);
        CHECK(p.argv == NULL && p.env == NULL);
}

static bool job_id_valid(const char *id)
{
        size_t n = strnlen(id, SBP_JOB_ID_MAX + 1);

        return n >= 1 && n <= SBP_JOB_ID_MAX && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static void job(const msgpack_object *params, bool want_data, const uint8_t *msg,
                size_t msg_len)
{
        struct sbp_job_params p, q;
        struct sbp_error err = { 0 };
        struct repacked rp;
        msgpack_packer pk;
        int r;

        r = sbp_job_params_decode(params, want_data, &p, &err);
        if (r < 0) {
                check_refusal(r, &err);
                return;
        }
        CHECK(job_id_valid(p.job));
        CHECK(p.data_len <= SBP_DATA_MAX);
        CHECK(want_data || (p.data == NULL && p.data_len == 0));
        /* The data points into the message the daemon holds. */
        CHECK(p.data_len == 0 || (p.data >= msg && p.data + p.data_len <= msg + msg_len));
        repack_begin(&rp, &pk);
        sbp_job_params_pack(&pk, p.job, p.data, p.data_len, want_data);
        CHECK(sbp_job_params_decode(repack_unpack(&rp), want_data, &q, &err) == 0);
        CHECK(strcmp(p.job, q.job) == 0 && p.data_len == q.data_len &&
              (p.data_len == 0 || memcmp(p.data, q.data, p.data_len) == 0));
        repack_end(&rp);
}

static void resize(const msgpack_object *params)
{
        struct sbp_resize_params p, q;
        struct sbp_error err = { 0 };
        struct repacked rp;
        msgpack_packer pk;
        int r;

        r = sbp_resize_params_decode(params, &p, &err);
        if (r < 0) {
                check_refusal(r, &err);
                return;
        }
        CHECK(job_id_valid(p.job));
        CHECK(p.rows >= 1 && p.rows <= SBP_TTY_SIZE_MAX && p.cols >= 1 &&
              p.cols <= SBP_TTY_SIZE_MAX);
        repack_begin(&rp, &pk);
        sbp_resize_params_pack(&pk, &p);
        CHECK(sbp_resize_params_decode(repack_unpack(&rp), &q, &err) == 0);
        CHECK(strcmp(p.job, q.job) == 0 && p.rows == q.rows && p.cols == q.cols);
        repack_end(&rp);
}

static void job_connect(const msgpack_object *params)
{
        struct sbp_job_connect_params p, q;
        struct sbp_error err = { 0 };
        struct repacked rp;
        msgpack_packer pk;
        int r;

        r = sbp_job_connect_params_decode(params, &p, &err);
        if (r < 0) {
                check_refusal(r, &err);
                return;
        }
        CHECK(job_id_valid(p.job));
        CHECK(p.port <= 65535);
        repack_begin(&rp, &pk);
        sbp_job_connect_params_pack(&pk, &p);
        CHECK(sbp_job_connect_params_decode(repack_unpack(&rp), &q, &err) == 0);
        CHECK(strcmp(p.job, q.job) == 0 && p.port == q.port);
        repack_end(&rp);
}

static void empty(const msgpack_object *params)
{
        struct sbp_error err = { 0 };
        int r;

        r = sbp_empty_params_decode(params, &err);
        if (r < 0)
                check_refusal(r, &err);
        else
                CHECK(params->type == MSGPACK_OBJECT_MAP && params->via.map.size == 0);
}

/* sandbox_create: exec's policy fields only, no program. */
static void sandbox_create(const msgpack_object *params)
{
        struct sbp_exec_params p, q;
        struct sbp_error err = { 0 };
        struct repacked rp;
        msgpack_packer pk;
        int r;

        r = sbp_sandbox_create_params_decode(params, &p, &err);
        if (r < 0) {
                check_refusal(r, &err);
                sbp_exec_params_free(&p);
                return;
        }
        CHECK(p.argc == 0 && p.argv == NULL && p.envc == 0 && p.nmounts == 0 &&
              !p.has_workdir_fd);
        repack_begin(&rp, &pk);
        sbp_sandbox_create_params_pack(&pk, &p);
        CHECK(sbp_sandbox_create_params_decode(repack_unpack(&rp), &q, &err) == 0);
        CHECK(strcmp(p.profile, q.profile) == 0 && p.memory_max == q.memory_max &&
              p.tasks_max == q.tasks_max && p.cpu_percent == q.cpu_percent &&
              p.work_size_max == q.work_size_max && p.work_inodes_max == q.work_inodes_max);
        repack_end(&rp);
        sbp_exec_params_free(&p);
        sbp_exec_params_free(&q);
}

static void sandbox_ref(const msgpack_object *params)
{
        struct sbp_error err = { 0 };
        char id[SBP_JOB_ID_MAX + 1];
        int r;

        r = sbp_sandbox_ref_decode(params, id, true, &err);
        if (r < 0)
                check_refusal(r, &err);
        else
                CHECK(job_id_valid(id));
}

/* The table above is in SBP_METHODS order, as sbp_method_find counts. */
static void check_table(void)
{
        static bool checked;
        struct sbp_error err;

        if (checked)
                return;
        for (size_t i = 0; i < N_METHODS; i++)
                CHECK(sbp_method_find(methods[i].name, strlen(methods[i].name), &err) == (int)i);
        checked = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct sbp_reader rd;
        struct sbp_message msg;
        struct sbp_error err;
        const uint8_t *name, *params;
        size_t name_len, params_len, head, cap;
        bool has_msgid;
        char *buf;
        int r, method;

        check_table();
        if (size < 1 || size > MESSAGE_MAX - 64)
                return 0;
        if (data[0] < 0x80) {
                /* A method by index: the fuzzer's time goes to its params. */
                name = (const uint8_t *)methods[data[0] % N_METHODS].name;
                name_len = strlen((const char *)name);
                params = data + 1;
        } else {
                /* A method name of 1 to 32 bytes, any bytes, from the input. */
                name_len = (size_t)(data[0] & 0x1f) + 1;
                if (size < 1 + name_len)
                        return 0;
                name = data + 1;
                params = data + 1 + name_len;
        }
        params_len = size - (size_t)(params - data);

        if (sbp_reader_init(&rd, MESSAGE_MAX) < 0)
                return 0;
        head = 5 + name_len;
        CHECK(sbp_reader_reserve(&rd, head + 1 + params_len, &buf, &cap) == 0 &&
              cap >= head + 1 + params_len);
        buf[0] = (char)0x94;                    /* array of 4 */
        buf[1] = SBP_REQUEST;
        buf[2] = 1;                             /* msgid */
        buf[3] = (char)0xd9;                    /* str 8 */
        buf[4] = (char)name_len;
        memcpy(buf + 5, name, name_len);
        buf[head] = (char)0x91;                 /* params: array of 1 */
        memcpy(buf + head + 1, params, params_len);
        sbp_reader_commit(&rd, head + 1 + params_len);

        r = sbp_reader_next(&rd, &msg, &has_msgid, &err);
        if (r != 1) {
                /* Incomplete, or refused by the reader: a ProtocolError the
                 * daemon answers to msgid 1. */
                CHECK(r == 0 || (r < 0 && err.code != SBP_OK));
                goto out;
        }
        CHECK(msg.type == SBP_REQUEST && msg.msgid == 1 && msg.method_len == name_len);
        /* As daemon/dispatch.c: the method, then its params. */
        method = sbp_method_find(msg.method, msg.method_len, &err);
        if (method < 0) {
                check_refusal(method, &err);
                goto out;
        }
        CHECK((size_t)method < N_METHODS);
        switch (methods[method].decoder) {
        case HELLO:
                hello(&msg.params);
                break;
        case EXEC:
                exec(&msg.params);
                break;
        case JOB:
        case JOB_DATA:
                job(&msg.params, methods[method].decoder == JOB_DATA,
                    (const uint8_t *)rd.unpacker.buffer, rd.unpacker.used);
                break;
        case EMPTY:
                empty(&msg.params);
                break;
        case RESIZE:
                resize(&msg.params);
                break;
        case JOB_CONNECT:
                job_connect(&msg.params);
                break;
        case SANDBOX_CREATE:
                sandbox_create(&msg.params);
                break;
        case SANDBOX_REF:
                sandbox_ref(&msg.params);
                break;
        }
out:
        sbp_reader_destroy(&rd);
        return 0;
}
