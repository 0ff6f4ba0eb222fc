/* test_instance.c — the instance registry (daemon/instance.c) in a
 * temporary directory: a live instance's cgroup name, uid range and state
 * dir are refused to a second one; a dead one's entry is removed; a
 * registry others may write to is not trusted. No cgroup is touched: the
 * same logic holds under cgroup v1 and v2. Another instance is a forked
 * child (fcntl locks are per process).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/instance.h"

static char root[64], reg[128], state_a[128], state_b[128];

static int setup(void **state)
{
        (void)state;
        snprintf(root, sizeof(root), "/tmp/sb-instance-XXXXXX");
        if (!mkdtemp(root))
                return -1;
        snprintf(reg, sizeof(reg), "%s/registry", root);
        snprintf(state_a, sizeof(state_a), "%s/a", root);
        snprintf(state_b, sizeof(state_b), "%s/b", root);
        if (mkdir(state_a, 0700) < 0 || mkdir(state_b, 0700) < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        char cmd[256];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

static bool entry_exists(pid_t pid)
{
        char path[256];

        snprintf(path, sizeof(path), "%s/%ld", reg, (long)pid);
        return access(path, F_OK) == 0;
}

/* A child that claims (cg, first-last, state_a) and then waits for a byte
 * on *go: 'r' releases and exits, 'c' exits without releasing (a crash). */
static pid_t other_instance(const char *cg, uint32_t first, uint32_t last, int *go)
{
        int ready[2], cmd[2];
        char c = 0;
        pid_t pid;

        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(cmd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct sbd_instance in;

                close(ready[0]);
                close(cmd[1]);
                if (sbd_instance_claim(&in, reg, cg, first, last, state_a) < 0)
                        _exit(1);
                if (write(ready[1], "x", 1) != 1 || read(cmd[0], &c, 1) != 1)
                        _exit(2);
                if (c == 'r')
                        sbd_instance_release(&in);
                _exit(0);
        }
        close(ready[1]);
        close(cmd[0]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        *go = cmd[1];
        return pid;
}

static void end_other(pid_t pid, int go, char how)
{
        int status;

        assert_int_equal(write(go, &how, 1), 1);
        close(go);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void claim_expect(const char *cg, uint32_t first, uint32_t last, const char *sd, int want)
{
        struct sbd_instance in;
        int r = sbd_instance_claim(&in, reg, cg, first, last, sd);

        if (r != want)
                fail_msg("claim %s %u-%u %s: %d, want %d", cg, first, last, sd, r, want);
        if (r == 0) {
                assert_true(entry_exists(getpid()));
                sbd_instance_release(&in);
                assert_false(entry_exists(getpid()));
        } else {
                assert_int_equal(in.fd, -1);
        }
}

static void test_live_instance_refuses_what_it_holds(void **state)
{
        int go;
        pid_t other;

        (void)state;
        other = other_instance("sb-a", 1000, 1099, &go);
        assert_true(entry_exists(other));
        claim_expect("sb-a", 5000, 5099, state_b, -EBUSY);          /* same cgroup name */
        claim_expect("sb-b", 1099, 1200, state_b, -EBUSY);          /* last uid shared */
        claim_expect("sb-b", 900, 1000, state_b, -EBUSY);           /* first uid shared */
        claim_expect("sb-b", 900, 2000, state_b, -EBUSY);           /* around it */
        claim_expect("sb-b", 5000, 5099, state_a, -EBUSY);          /* same state dir */
        claim_expect("sb-b", 1100, 1199, state_b, 0);               /* nothing shared */
        assert_true(entry_exists(other));
        end_other(other, go, 'r');
        assert_false(entry_exists(other));
        claim_expect("sb-a", 1000, 1099, state_a, 0);
}

static void test_dead_instance_entry_is_removed(void **state)
{
        int go;
        pid_t other;

        (void)state;
        other = other_instance("sb-a", 1000, 1099, &go);
        end_other(other, go, 'c');      /* gone without releasing */
        assert_true(entry_exists(other));
        claim_expect("sb-a", 1000, 1099, state_a, 0);
        assert_false(entry_exists(other));
}

static void test_untrusted_registry_refused(void **state)
{
        (void)state;
        claim_expect("sb-a", 1000, 1099, state_a, 0);       /* creates it */
        assert_int_equal(chmod(reg, 0777), 0);
        claim_expect("sb-a", 1000, 1099, state_a, -EPERM);
        assert_int_equal(chmod(reg, 0700), 0);
        claim_expect("sb-a", 1000, 1099, state_a, 0);
}

static void test_unreadable_live_entry_refuses(void **state)
{
        char path[256];
        int fd, ready[2], cmd[2], status;
        char c;
        pid_t pid;

        (void)state;
        claim_expect("sb-a", 1000, 1099, state_a, 0);
        snprintf(path, sizeof(path), "%s/junk", reg);
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(cmd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

                fd = open(path, O_RDWR | O_CREAT, 0600);
                if (fd < 0 || write(fd, "garbage\n", 8) != 8 || fcntl(fd, F_SETLK, &fl) < 0)
                        _exit(1);
                if (write(ready[1], "x", 1) != 1 || read(cmd[0], &c, 1) != 1)
                        _exit(2);
                _exit(0);
        }
        assert_int_equal(read(ready[0], &c, 1), 1);
        /* Whoever holds it, we cannot tell what it guards: fail closed. */
        claim_expect("sb-z", 9000, 9099, state_b, -EBUSY);
        assert_int_equal(write(cmd[1], "c", 1), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        claim_expect("sb-z", 9000, 9099, state_b, 0);
        close(ready[0]);
        close(ready[1]);
        close(cmd[0]);
        close(cmd[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_live_instance_refuses_what_it_holds, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_dead_instance_entry_is_removed, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_untrusted_registry_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_live_entry_refuses, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
