/* test_protocol_fds.c — exec's workdir_fd and mounts on the wire: round
 * trips, defaults, and the malformed inputs the strict decoder refuses
 * (fd index out of range, bad targets, overlapping targets, too many,
 * wrong types, unknown fields inside a mount).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "protocol/sbp.h"

struct buf {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_unpacked u;
};

static void buf_init(struct buf *b)
{
        msgpack_sbuffer_init(&b->sb);
        msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
        msgpack_unpacked_init(&b->u);
}

static const msgpack_object *buf_obj(struct buf *b)
{
        size_t off = 0;

        assert_int_equal(msgpack_unpack_next(&b->u, b->sb.data, b->sb.size, &off),
                         MSGPACK_UNPACK_SUCCESS);
        return &b->u.data;
}

static void buf_free(struct buf *b)
{
        msgpack_unpacked_destroy(&b->u);
        msgpack_sbuffer_destroy(&b->sb);
}

static char *argv1[] = { "true", NULL };

static void test_roundtrip(void **state)
{
        struct sbp_exec_params in = { .argv = argv1, .argc = 1 }, out;
        struct sbp_error err;
        struct buf b;

        (void)state;
        in.has_workdir_fd = true;
        in.workdir_fd = 2;
        in.nmounts = 2;
        in.mounts[0].fd = 0;
        strcpy(in.mounts[0].target, "/skill");
        in.mounts[0].read_only = true;
        in.mounts[1].fd = 15;
        strcpy(in.mounts[1].target, "/data/in-put.v2");
        buf_init(&b);
        sbp_exec_params_pack(&b.pk, &in);
        assert_int_equal(sbp_exec_params_decode(buf_obj(&b), &out, &err), 0);
        assert_true(out.has_workdir_fd);
        assert_int_equal(out.workdir_fd, 2);
        assert_int_equal(out.nmounts, 2);
        assert_int_equal(out.mounts[0].fd, 0);
        assert_string_equal(out.mounts[0].target, "/skill");
        assert_true(out.mounts[0].read_only);
        assert_int_equal(out.mounts[1].fd, 15);
        assert_string_equal(out.mounts[1].target, "/data/in-put.v2");
        assert_false(out.mounts[1].read_only);
        sbp_exec_params_free(&out);
        buf_free(&b);
}

static void test_absent(void **state)
{
        struct sbp_exec_params in = { .argv = argv1, .argc = 1 }, out;
        struct sbp_error err;
        struct buf b;

        (void)state;
        buf_init(&b);
        sbp_exec_params_pack(&b.pk, &in);
        /* A zeroed struct packs neither field. */
        assert_int_equal(buf_obj(&b)->via.map.size, 1);
        assert_int_equal(sbp_exec_params_decode(&b.u.data, &out, &err), 0);
        assert_false(out.has_workdir_fd);
        assert_int_equal(out.nmounts, 0);
        sbp_exec_params_free(&out);
        buf_free(&b);
}

/* Build {"argv": ["true"], <key>: <value packed by fn>} and decode it. */
typedef void (*pack_fn)(msgpack_packer *pk, const void *arg);

static int decode_with(const char *key, pack_fn fn, const void *arg, struct sbp_error *err)
{
        struct sbp_exec_params out;
        struct buf b;
        int r;

        buf_init(&b);
        msgpack_pack_map(&b.pk, 2);
        sbp_pack_str(&b.pk, "argv");
        msgpack_pack_array(&b.pk, 1);
        sbp_pack_str(&b.pk, "true");
        sbp_pack_str(&b.pk, key);
        fn(&b.pk, arg);
        memset(err, 0, sizeof(*err));
        r = sbp_exec_params_decode(buf_obj(&b), &out, err);
        if (r == 0)
                sbp_exec_params_free(&out);
        buf_free(&b);
        return r;
}

static void pack_int(msgpack_packer *pk, const void *arg)
{
        msgpack_pack_int64(pk, *(const int64_t *)arg);
}

static void pack_nil(msgpack_packer *pk, const void *arg)
{
        (void)arg;
        msgpack_pack_nil(pk);
}

static void pack_str(msgpack_packer *pk, const void *arg)
{
        sbp_pack_str(pk, arg);
}

static void test_workdir_fd_bad(void **state)
{
        struct sbp_error err;
        int64_t v;

        (void)state;
        v = 15;
        assert_int_equal(decode_with("workdir_fd", pack_int, &v, &err), 0);
        v = 16;
        assert_int_not_equal(decode_with("workdir_fd", pack_int, &v, &err), 0);
        assert_int_equal(err.code, SBP_E_INVALID_ARGUMENT);
        v = -1;
        assert_int_not_equal(decode_with("workdir_fd", pack_int, &v, &err), 0);
        assert_int_equal(err.code, SBP_E_INVALID_ARGUMENT);
        assert_int_not_equal(decode_with("workdir_fd", pack_nil, NULL, &err), 0);
        assert_int_not_equal(decode_with("workdir_fd", pack_str, "0", &err), 0);
        assert_int_equal(err.code, SBP_E_INVALID_ARGUMENT);
}

struct mount_spec {
        int64_t fd;             /* < -1: leave out */
        const char *target;     /* NULL: leave out */
        int read_only;          /* -1: leave out; 2: pack a str */
        const char *extra;      /* an unknown key */
};

static void pack_mounts(msgpack_packer *pk, const void *arg)
{
        const struct mount_spec *m = arg;
        size_t n = 0;

        for (const struct mount_spec *x = m; x->target || x->fd != -9; x++)
                n++;
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++) {
                unsigned k = (m[i].fd >= -1) + !!m[i].target + (m[i].read_only >= 0) +
                             !!m[i].extra;

                msgpack_pack_map(pk, k);
                if (m[i].fd >= -1) {
                        sbp_pack_str(pk, "fd");
                        msgpack_pack_int64(pk, m[i].fd);
                }
                if (m[i].target) {
                        sbp_pack_str(pk, "target");
                        sbp_pack_str(pk, m[i].target);
                }
                if (m[i].read_only >= 0) {
                        sbp_pack_str(pk, "read_only");
                        if (m[i].read_only == 2)
                                sbp_pack_str(pk, "yes");
                        else if (m[i].read_only)
                                msgpack_pack_true(pk);
                        else
                                msgpack_pack_false(pk);
                }
                if (m[i].extra) {
                        sbp_pack_str(pk, m[i].extra);
                        msgpack_pack_nil(pk);
                }
        }
}

#define END { -9, NULL, -1, NULL }

static int one_mount(int64_t fd, const char *target, struct sbp_error *err)
{
        struct mount_spec m[] = { { fd, target, -1, NULL }, END };

        return decode_with("mounts", pack_mounts, m, err);
}

static void test_targets(void **state)
{
        static const char *const good[] = {
                "/skill", "/data", "/input", "/mnt", "/skill/a", "/mnt/x/y/z", "/data/.hidden",
                "/input/a..b", "/mnt/...",
        };
        static const char *const bad[] = {
                "", "/", "skill", "/skill/", "/skill//a", "/skill/./a", "/skill/..",
                "/skill/../etc", "/etc", "/work", "/tmp", "/proc", "/sys", "/dev", "/usr",
                "/skills", "/mntx", "/data.", "//skill", "/./skill", "/skill/.",
        };
        struct sbp_error err;
        char longt[SBP_TARGET_MAX + 2];

        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                assert_true(sbp_mount_target_valid(good[i]));
                assert_int_equal(one_mount(0, good[i], &err), 0);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_false(sbp_mount_target_valid(bad[i]));
                assert_int_not_equal(one_mount(0, bad[i], &err), 0);
                assert_int_equal(err.code, SBP_E_INVALID_ARGUMENT);
        }
        memset(longt, 'a', sizeof(longt));
        memcpy(longt, "/mnt/", 5);
        longt[SBP_TARGET_MAX] = '\0';           /* exactly the max: fine */
        assert_int_equal(one_mount(0, longt, &err), 0);
        longt[SBP_TARGET_MAX] = 'a';
        longt[SBP_TARGET_MAX + 1] = '\0';       /* one more: refused */
        assert_int_not_equal(one_mount(0, longt, &err), 0);
}

static int decode_cwd(const char *cwd, struct sbp_exec_params *out, struct sbp_error *err)
{
        struct sbp_exec_params in = { .argv = argv1, .argc = 1 };
        struct buf b;
        int r;

        snprintf(in.cwd, sizeof(in.cwd), "%s", cwd);
        buf_init(&b);
        sbp_exec_params_pack(&b.pk, &in);
        r = sbp_exec_params_decode(buf_obj(&b), out, err);
        buf_free(&b);
        return r;
}

/* cwd: any absolute, normalized path; whether it exists is the job's. */
static void test_cwd(void **state)
{
        static const char *const good[] = { "/", "/work", "/work/src", "/tmp/a b", "/skill/x..y" };
        static const char *const bad[] = { "work", "/work/", "/work//a", "/work/./a", "/work/..",
                                           "/work/../etc", "//work" };
        struct sbp_exec_params out;
        struct sbp_error err;
        char longc[SBP_CWD_MAX + 1];

        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                assert_true(sbp_cwd_valid(good[i]));
                assert_int_equal(decode_cwd(good[i], &out, &err), 0);
                assert_string_equal(out.cwd, good[i]);
                sbp_exec_params_free(&out);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_false(sbp_cwd_valid(bad[i]));
                assert_int_not_equal(decode_cwd(bad[i], &out, &err), 0);
                assert_int_equal(err.code, SBP_E_INVALID_ARGUMENT);
                assert_non_null(strstr(err.message, "cwd"));
        }
        /* Absent: "" (the job starts in /work). */
        assert_int_equal(decode_cwd("", &out, &err), 0);
        assert_string_equal(out.cwd, "");
        sbp_exec_params_free(&out);
        memset(longc, 'a', sizeof(longc));
        longc[0] = '/';
        longc[SBP_CWD_MAX] = '\0';             /* exactly the max: fine */
        assert_int_equal(decode_cwd(longc, &out, &err), 0);
        sbp_exec_params_free(&out);
}

static void test_mounts_malformed(void **state)
{
        struct sbp_error err;

        (void)state;
        assert_int_not_equal(one_mount(16, "/skill", &err), 0);          /* index range */
        assert_int_not_equal(one_mount(-1, "/skill", &err), 0);          /* negative */
        {
                struct mount_spec m[] = { { -2, "/skill", -1, NULL }, END };  /* no fd */
                assert_int_not_equal(decode_with("mounts", pack_mounts, m, &err), 0);
        }
        {
                struct mount_spec m[] = { { 0, NULL, -1, NULL }, END };     /* no target */
                assert_int_not_equal(decode_with("mounts", pack_mounts, m, &err), 0);
        }
        {
                struct mount_spec m[] = { { 0, "/skill", 2, NULL }, END };   /* ro not bool */
                assert_int_not_equal(decode_with("mounts", pack_mounts, m, &err), 0);
        }
        {
                struct mount_spec m[] = { { 0, "/skill", 1, "path" }, END }; /* unknown key */
                assert_int_not_equal(decode_with("mounts", pack_mounts, m, &err), 0);
                assert_int_equal(err.code, SBP_E_INVALID_ARGUMENT);
        }
        {
                struct mount_spec m[] = { { 0, "/skill", 1, NULL }, { 1, "/skill", 0, NULL }, END };
                assert_int_not_equal(decode_with("mounts", pack_mounts, m, &err), 0);
        }
        {
                struct mount_spec m[] = { { 0, "/mnt", 1, NULL }, { 1, "/mnt/a", 0, NULL }, END };
                assert_int_not_equal(decode_with("mounts", pack_mounts, m, &err), 0);
        }
        {
                struct mount_spec m[] = { { 0, "/mnt/a", 1, NULL }, { 1, "/mnt/ab", 0, NULL }, END };
                assert_int_equal(decode_with("mounts", pack_mounts, m, &err), 0);
        }
        {
                struct mount_spec m[SBP_MOUNTS_MAX + 2];
                char t[SBP_MOUNTS_MAX + 1][16];

                for (unsigned i = 0; i <= SBP_MOUNTS_MAX; i++) {
                        snprintf(t[i], sizeof(t[i]), "/mnt/%u", i);
                        m[i] = (struct mount_spec){ i, t[i], -1, NULL };
                }
                m[SBP_MOUNTS_MAX + 1] = (struct mount_spec)END;
                assert_int_not_equal(decode_with("mounts", pack_mounts, m, &err), 0);
                m[SBP_MOUNTS_MAX] = (struct mount_spec)END;
                assert_int_equal(decode_with("mounts", pack_mounts, m, &err), 0);
        }
        assert_int_not_equal(decode_with("mounts", pack_str, "/skill", &err), 0);
        assert_int_not_equal(decode_with("mounts", pack_nil, NULL, &err), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_absent),
                cmocka_unit_test(test_workdir_fd_bad),
                cmocka_unit_test(test_targets),
                cmocka_unit_test(test_mounts_malformed),
                cmocka_unit_test(test_cwd),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
