/* test_chown_deep.c — the ownership fix reaches every level of a deep tree
 * (200 levels, and 1000 with only a handful of fds allowed: the walk holds
 * one directory open at a time) and resumes each directory where it left it.
 * Needs root (skipped otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "backends/internal.h"
#include "backends/linux/chown_tree.h"

#define JOB 61235u
#define CLIENT 4243u

/* levels nested directories "d" below dfd, each holding a file "f" and a
 * symlink "l" to /, all owned by JOB. */
static void make_deep(int dfd, unsigned levels)
{
        int cur = fcntl(dfd, F_DUPFD_CLOEXEC, 3);

        assert_true(cur >= 0);
        for (unsigned i = 0; i < levels; i++) {
                assert_int_equal(mkdirat(cur, "d", 0755), 0);
                assert_int_equal(fchownat(cur, "d", JOB, JOB, 0), 0);
                int next = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(next >= 0);
                close(cur);
                cur = next;
                int f = openat(cur, "f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                assert_true(f >= 0);
                close(f);
                assert_int_equal(fchownat(cur, "f", JOB, JOB, 0), 0);
                assert_int_equal(symlinkat("/", cur, "l"), 0);
                assert_int_equal(fchownat(cur, "l", JOB, JOB, AT_SYMLINK_NOFOLLOW), 0);
        }
        close(cur);
}

/* How many levels down every entry is owned by CLIENT (stops at the first
 * that is not). */
static unsigned levels_given(int dfd, unsigned levels)
{
        int cur = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        unsigned i;

        assert_true(cur >= 0);
        for (i = 0; i < levels; i++) {
                struct stat d, f, l;

                if (fstatat(cur, "d", &d, AT_SYMLINK_NOFOLLOW) < 0 || d.st_uid != CLIENT ||
                    d.st_gid != CLIENT)
                        break;
                int next = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(next >= 0);
                close(cur);
                cur = next;
                if (fstatat(cur, "f", &f, AT_SYMLINK_NOFOLLOW) < 0 || f.st_uid != CLIENT ||
                    fstatat(cur, "l", &l, AT_SYMLINK_NOFOLLOW) < 0 || l.st_uid != CLIENT)
                        break;
        }
        close(cur);
        return i;
}

static int tree(char *tmpl)
{
        int dfd;

        assert_non_null(mkdtemp(tmpl));
        dfd = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        return dfd;
}

static void test_200_levels(void **state)
{
        char tmpl[] = "/tmp/chown-deep-XXXXXX";
        int dfd;

        (void)state;
        if (geteuid() != 0)
                skip();
        dfd = tree(tmpl);
        make_deep(dfd, 200);
        assert_int_equal(sb_backend_chown_tree(dfd, JOB, JOB, CLIENT, CLIENT), 0);
        assert_int_equal(levels_given(dfd, 200), 200);
        /* "/" behind the links was never followed. */
        struct stat st;
        assert_int_equal(stat("/", &st), 0);
        assert_int_equal(st.st_uid, 0);
        close(dfd);
        assert_int_equal(sb_backend_remove_tree(AT_FDCWD, tmpl), 0);
}

/* Siblings after a deep branch are still reached: the walk resumes each
 * directory where it left it. */
static void test_resumes_after_a_branch(void **state)
{
        char tmpl[] = "/tmp/chown-deep-XXXXXX";
        int dfd;

        (void)state;
        if (geteuid() != 0)
                skip();
        dfd = tree(tmpl);
        for (int i = 0; i < 40; i++) {
                char name[16];
                snprintf(name, sizeof(name), "s%02d", i);
                assert_int_equal(mkdirat(dfd, name, 0755), 0);
                assert_int_equal(fchownat(dfd, name, JOB, JOB, 0), 0);
                int sub = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                assert_true(sub >= 0);
                make_deep(sub, 5);
                close(sub);
        }
        assert_int_equal(sb_backend_chown_tree(dfd, JOB, JOB, CLIENT, CLIENT), 0);
        for (int i = 0; i < 40; i++) {
                char name[16];
                struct stat st;
                snprintf(name, sizeof(name), "s%02d", i);
                assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
                assert_int_equal(st.st_uid, CLIENT);
                int sub = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                assert_true(sub >= 0);
                assert_int_equal(levels_given(sub, 5), 5);
                close(sub);
        }
        close(dfd);
        assert_int_equal(sb_backend_remove_tree(AT_FDCWD, tmpl), 0);
}

static void test_deeper_than_the_fd_limit(void **state)
{
        char tmpl[] = "/tmp/chown-deep-XXXXXX";
        struct rlimit old, low;
        int dfd, r;

        (void)state;
        if (geteuid() != 0)
                skip();
        dfd = tree(tmpl);
        make_deep(dfd, 1000);
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
        /* The soft limit only: raising it again needs no privilege. */
        low.rlim_cur = 32;
        low.rlim_max = old.rlim_max;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        r = sb_backend_chown_tree(dfd, JOB, JOB, CLIENT, CLIENT);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
        assert_int_equal(r, 0);
        assert_int_equal(levels_given(dfd, 1000), 1000);
        close(dfd);
        assert_int_equal(sb_backend_remove_tree(AT_FDCWD, tmpl), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_200_levels),
                cmocka_unit_test(test_resumes_after_a_branch),
                cmocka_unit_test(test_deeper_than_the_fd_limit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
