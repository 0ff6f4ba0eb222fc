/* test_backend_caps.c — the neutral contract: what a backend says it can
 * do (caps) agrees with what its ops table has and what it does (the
 * daemon decides from caps alone, never from the backend's name), and its
 * identity pool hands out each id once. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "backends/backend.h"
#include "backends/internal.h"

static const char *const names[] = { "linux", "macos", "posix" };

/* Every built backend: the ops caps and probe exist, prepared sandboxes
 * are claimed exactly when prepare() and start() are there, and then
 * with a request size they take. */
static void test_caps_match_ops(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                const struct sb_backend_ops *ops = sb_backend_find(names[i]);
                struct sb_backend_caps caps;

                if (!ops)
                        continue;
                assert_non_null(ops->caps);
                assert_non_null(ops->probe);
                assert_non_null(ops->exit_handle);
                assert_non_null(ops->identity_take);
                assert_non_null(ops->identity_give);
                memset(&caps, 0xa5, sizeof(caps));
                ops->caps(&caps);
                assert_int_equal(caps.prepared, ops->prepare != NULL && ops->start != NULL);
                if (caps.prepared) {
                        assert_true(caps.prepared_entries_max >= 2);
                        assert_true(caps.prepared_bytes_max >= 1024);
                }
                assert_true(caps.memory <= SB_BACKEND_LIMIT_ENFORCED);
                assert_true(caps.tasks <= SB_BACKEND_LIMIT_ENFORCED);
                assert_true(caps.cpu <= SB_BACKEND_LIMIT_ENFORCED);
        }
}

#if HAVE_BACKEND_LINUX
static void test_linux_caps(void **state)
{
        struct sb_backend_caps caps;

        (void)state;
        sb_backend_linux_ops.caps(&caps);
        assert_true(caps.fd_mounts);
        assert_true(caps.needs_delegated_cgroup);
        assert_int_equal(caps.memory, SB_BACKEND_LIMIT_ENFORCED);
        assert_int_equal(caps.cpu, SB_BACKEND_LIMIT_ENFORCED);
}
#endif

/* posix says it cannot mount, and indeed refuses mounts; it needs no
 * cgroup and its probe finds nothing that stops it. */
static void test_posix_caps_hold(void **state)
{
        const struct sb_backend_ops *ops = &sb_backend_posix_ops;
        char dir[] = "/tmp/backend-caps-XXXXXX", errbuf[256] = "";
        struct sb_backend_config cfg = { .uid_first = 61000, .uid_last = 61099 };
        struct sb_backend_probe pr;
        struct sb_backend_caps caps;
        struct sb_job_mount m = { .fd = 0, .target = "/data" };
        char *argv[] = { "true", NULL }, *envp[] = { NULL };
        struct sb_job_spec spec = {
                .job_id = "caps-test",
                .argv = argv,
                .envp = envp,
                .stdin_fd = SB_HANDLE_NONE,
                .stdout_fd = SB_HANDLE_NONE,
                .stderr_fd = SB_HANDLE_NONE,
                .workdir_fd = SB_HANDLE_NONE,
                .mounts = &m,
                .nmounts = 1,
        };
        struct sb_backend *b = NULL;
        struct sb_backend_job *j = NULL;

        (void)state;
        ops->caps(&caps);
        assert_false(caps.fd_mounts);
        assert_false(caps.prepared);
        assert_false(caps.needs_delegated_cgroup);
        assert_int_equal(caps.cpu, SB_BACKEND_LIMIT_ABSENT);

        assert_non_null(mkdtemp(dir));
        cfg.state_dir = dir;
        memset(&pr, 0, sizeof(pr));
        ops->probe(&cfg, &pr);
        assert_string_equal(pr.unusable, "");

        assert_int_equal(ops->open(&cfg, &b, errbuf, sizeof(errbuf)), 0);
        spec.uid = spec.gid = geteuid() == 0 ? 61000 : (uint32_t)geteuid();
        assert_int_equal(ops->spawn(b, &spec, &j, errbuf, sizeof(errbuf)), -EOPNOTSUPP);
        assert_null(j);
        assert_non_null(strstr(errbuf, "mounts"));
        ops->close(b);
        assert_int_equal(sb_backend_remove_tree(AT_FDCWD, dir), 0);
}

/* Every id of the range once, none twice, -EAGAIN when all are out; one
 * given back is the next one taken. Through the posix backend's ops. */
static void test_identity_pool(void **state)
{
        const struct sb_backend_ops *ops = &sb_backend_posix_ops;
        char dir[] = "/tmp/backend-ids-XXXXXX", errbuf[256] = "";
        struct sb_backend_config cfg = { .uid_first = 61000, .uid_last = 61002 };
        struct sb_backend *b = NULL;
        uint32_t id, seen = 0;

        (void)state;
        assert_non_null(mkdtemp(dir));
        cfg.state_dir = dir;
        assert_int_equal(ops->open(&cfg, &b, errbuf, sizeof(errbuf)), 0);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(ops->identity_take(b, &id), 0);
                assert_true(id >= 61000 && id <= 61002);
                assert_false(seen & (1u << (id - 61000)));
                seen |= 1u << (id - 61000);
        }
        assert_int_equal(ops->identity_take(b, &id), -EAGAIN);
        ops->identity_give(b, 61001);
        ops->identity_give(b, 5);       /* not one of ours: ignored */
        assert_int_equal(ops->identity_take(b, &id), 0);
        assert_int_equal(id, 61001);
        assert_int_equal(ops->identity_take(b, &id), -EAGAIN);
        ops->close(b);

        /* An empty range, or one that holds root, is refused at open. */
        cfg.uid_first = 0;
        assert_true(ops->open(&cfg, &b, errbuf, sizeof(errbuf)) < 0);
        cfg.uid_first = 61003;
        assert_true(ops->open(&cfg, &b, errbuf, sizeof(errbuf)) < 0);
        assert_int_equal(sb_backend_remove_tree(AT_FDCWD, dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_caps_match_ops),
#if HAVE_BACKEND_LINUX
                cmocka_unit_test(test_linux_caps),
#endif
                cmocka_unit_test(test_posix_caps_hold),
                cmocka_unit_test(test_identity_pool),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
