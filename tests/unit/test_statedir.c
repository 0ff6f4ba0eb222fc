/* test_statedir.c — the daemon's directories (daemon/statedir.c) in a
 * temporary tree: the state dir and its jobs/ are created with the modes of
 * statedir.h; one that others may write to, a symlink, or a file in its
 * place is refused and left as it was; mkdir -p of a socket's parents
 * creates the parents only.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/statedir.h"

static char root[64];

static int setup(void **state)
{
        (void)state;
        umask(022);
        snprintf(root, sizeof(root), "/tmp/sb-statedir-XXXXXX");
        return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

static const char *at(const char *rel)
{
        static char buf[4][256];
        static int i;

        i = (i + 1) % 4;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
        return buf[i];
}

static unsigned mode_of(const char *path)
{
        struct stat st;

        assert_int_equal(lstat(path, &st), 0);
        return st.st_mode & 07777;
}

static void test_created_with_modes(void **state)
{
        (void)state;
        assert_int_equal(sbd_statedir_prepare(at("a/b/state")), 0);
        assert_int_equal(mode_of(at("a")), 0755);
        assert_int_equal(mode_of(at("a/b")), 0755);
        assert_int_equal(mode_of(at("a/b/state")), 0700);
        assert_int_equal(mode_of(at("a/b/state/jobs")), 0700);
        /* Again: an existing, good state dir is fine. */
        assert_int_equal(sbd_statedir_prepare(at("a/b/state")), 0);
}

static void test_writable_by_others_refused(void **state)
{
        (void)state;
        assert_int_equal(mkdir(at("s"), 0700), 0);
        assert_int_equal(chmod(at("s"), 0770), 0);
        assert_int_equal(sbd_statedir_prepare(at("s")), -EPERM);
        assert_int_equal(mode_of(at("s")), 0770);
        assert_int_equal(access(at("s/jobs"), F_OK), -1);

        assert_int_equal(chmod(at("s"), 0700), 0);
        assert_int_equal(mkdir(at("s/jobs"), 0700), 0);
        assert_int_equal(chmod(at("s/jobs"), 0702), 0);
        assert_int_equal(sbd_statedir_prepare(at("s")), -EPERM);
        assert_int_equal(mode_of(at("s/jobs")), 0702);
}

static void test_symlink_or_file_refused(void **state)
{
        int fd, r;

        (void)state;
        assert_int_equal(mkdir(at("real"), 0700), 0);
        assert_int_equal(symlink(at("real"), at("link")), 0);
        r = sbd_statedir_prepare(at("link"));
        /* O_NOFOLLOW | O_DIRECTORY on a symlink: ENOTDIR or ELOOP. */
        assert_true(r == -ENOTDIR || r == -ELOOP);

        assert_int_equal(mkdir(at("s"), 0700), 0);
        assert_int_equal(symlink(at("real"), at("s/jobs")), 0);
        r = sbd_statedir_prepare(at("s"));
        assert_true(r == -ENOTDIR || r == -ELOOP);

        fd = open(at("file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(sbd_statedir_prepare(at("file")), -ENOTDIR);
}

static void test_private_dir_fd(void **state)
{
        struct stat st;
        int fd;

        (void)state;
        fd = sbd_private_dir_open(AT_FDCWD, at("reg"), SBD_DIR_MODE_REGISTRY, "test");
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
}

static void test_socket_parents_only(void **state)
{
        (void)state;
        assert_int_equal(sbd_mkdir_parents(at("run/x/s.sock"), SBD_DIR_MODE_SOCKET), 0);
        assert_int_equal(mode_of(at("run")), 0755);
        assert_int_equal(mode_of(at("run/x")), 0755);
        assert_int_equal(access(at("run/x/s.sock"), F_OK), -1);
        /* A path without a directory part needs nothing. */
        assert_int_equal(sbd_mkdir_parents("s.sock", SBD_DIR_MODE_SOCKET), 0);
        assert_int_equal(access("s.sock", F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_created_with_modes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_writable_by_others_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlink_or_file_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_private_dir_fd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_socket_parents_only, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
