/* test_chown_tree.c — the post-job ownership fix: job-owned entries go to
 * the client, symlinks are changed themselves and never followed, entries of
 * other owners are left alone. Needs root (skipped otherwise).
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "backends/internal.h"
#include "backends/linux/chown_tree.h"

#define JOB 61234u
#define CLIENT 4242u

static void owner_is(int dfd, const char *name, uid_t uid, gid_t gid)
{
        struct stat st;

        assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_uid, uid);
        assert_int_equal(st.st_gid, gid);
}

static void test_walk(void **state)
{
        char tmpl[] = "/tmp/chown-tree-XXXXXX", outside[64];
        int dfd, fd;

        (void)state;
        if (geteuid() != 0)
                skip();
        assert_non_null(mkdtemp(tmpl));
        snprintf(outside, sizeof(outside), "%s.outside", tmpl);
        fd = open(outside, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);   /* a root file */
        assert_true(fd >= 0);
        close(fd);
        dfd = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);

        assert_int_equal(mkdirat(dfd, "sub", 0755), 0);
        assert_int_equal(mkdirat(dfd, "sub/deeper", 0755), 0);
        fd = openat(dfd, "sub/deeper/f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        fd = openat(dfd, "rootfile", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(symlinkat(outside, dfd, "link"), 0);
        assert_int_equal(symlinkat("/", dfd, "sub/rootlink"), 0);
        /* What the job made: everything but rootfile. */
        assert_int_equal(fchownat(dfd, "sub", JOB, JOB, 0), 0);
        assert_int_equal(fchownat(dfd, "sub/deeper", JOB, JOB, 0), 0);
        assert_int_equal(fchownat(dfd, "sub/deeper/f", JOB, 0, 0), 0);
        assert_int_equal(fchownat(dfd, "link", JOB, JOB, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fchownat(dfd, "sub/rootlink", JOB, JOB, AT_SYMLINK_NOFOLLOW), 0);

        assert_int_equal(sb_backend_chown_tree(dfd, JOB, JOB, CLIENT, CLIENT), 0);
        owner_is(dfd, "sub", CLIENT, CLIENT);
        owner_is(dfd, "sub/deeper", CLIENT, CLIENT);
        owner_is(dfd, "sub/deeper/f", CLIENT, 0);       /* gid not the job's: kept */
        owner_is(dfd, "link", CLIENT, CLIENT);
        owner_is(dfd, "sub/rootlink", CLIENT, CLIENT);
        owner_is(dfd, "rootfile", 0, 0);
        owner_is(AT_FDCWD, outside, 0, 0);              /* the link's target untouched */
        owner_is(AT_FDCWD, "/", 0, 0);
        owner_is(AT_FDCWD, tmpl, 0, 0);                 /* the root itself untouched */

        close(dfd);
        unlink(outside);
        assert_int_equal(sb_backend_remove_tree(AT_FDCWD, tmpl), 0);
}

/* Interposed over the C library's: while armed, the first call swaps the
 * entry race_name in race_dir for a hard link to race_victim (as a posix job
 * that outlived its group could) before the real call runs. */
static int race_dir = -1;
static const char *race_name, *race_victim;

int fchownat(int dfd, const char *path, uid_t uid, gid_t gid, int flags)
{
        if (race_name) {
                const char *name = race_name;

                race_name = NULL;
                if (linkat(AT_FDCWD, race_victim, race_dir, "swap", 0) < 0 ||
                    renameat(race_dir, "swap", race_dir, name) < 0)
                        return -1;
        }
        return (int)syscall(SYS_fchownat, dfd, path, uid, gid, flags);
}

/* The name of a job-owned file is swapped between the walk's examination
 * and its change: the victim (another owner's file) must keep its owner. */
static void test_swap_race(void **state)
{
        char tmpl[] = "/tmp/chown-race-XXXXXX", victim[64];
        int dfd, fd;

        (void)state;
        if (geteuid() != 0)
                skip();
        assert_non_null(mkdtemp(tmpl));
        snprintf(victim, sizeof(victim), "%s.victim", tmpl);
        fd = open(victim, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(chown(victim, 777, 777), 0);
        dfd = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        fd = openat(dfd, "f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(fchownat(dfd, "f", JOB, JOB, 0), 0);

        race_dir = dfd;
        race_victim = victim;
        race_name = "f";
        (void)sb_backend_chown_tree(dfd, JOB, JOB, CLIENT, CLIENT);
        assert_null(race_name);                         /* the swap happened */
        owner_is(AT_FDCWD, victim, 777, 777);

        close(dfd);
        unlink(victim);
        assert_int_equal(sb_backend_remove_tree(AT_FDCWD, tmpl), 0);
}

static void test_not_a_dir(void **state)
{
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(sb_backend_chown_tree(fd, JOB, JOB, CLIENT, CLIENT), -ENOTDIR);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_walk),
                cmocka_unit_test(test_not_a_dir),
                cmocka_unit_test(test_swap_race),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
