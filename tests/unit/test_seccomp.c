/* test_seccomp.c — the job's syscall group table and the compiled filter.
 *
 * The table: every name is known to libseccomp (a typo would silently allow
 * nothing, or refuse a call a job needs), no group holds a call of the
 * never list, the default groups hold none of the refused list. The filter:
 * built and cached per combination, then loaded in a forked child (with
 * no_new_privs, so no root needed) where each refused call must answer as
 * promised and an x32 call must kill the process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

#if HAVE_BACKEND_LINUX
#include <seccomp.h>

#include "backends/linux/seccomp_groups.h"
#include "config/syscall_groups.h"

static bool in_list(const char *const *list, const char *name)
{
        for (; *list; list++)
                if (strcmp(*list, name) == 0)
                        return true;
        return false;
}

static void test_names_resolve(void **state)
{
        (void)state;
        for (const struct sb_seccomp_group *g = sb_seccomp_groups; g->name; g++) {
                assert_int_equal(g->name[0], '@');
                assert_non_null(g->doc);
                assert_ptr_equal(sb_seccomp_group_find(g->name), g);
                for (const char *const *s = g->syscalls; *s; s++) {
                        if (seccomp_syscall_resolve_name(*s) == __NR_SCMP_ERROR)
                                fail_msg("%s in %s: unknown to libseccomp", *s, g->name);
                }
        }
        for (const char *const *s = sb_seccomp_never; *s; s++)
                if (seccomp_syscall_resolve_name(*s) == __NR_SCMP_ERROR)
                        fail_msg("never-list entry %s: unknown to libseccomp", *s);
        for (const char *const *s = sb_seccomp_refused; *s; s++)
                if (seccomp_syscall_resolve_name(*s) == __NR_SCMP_ERROR)
                        fail_msg("refused-list entry %s: unknown to libseccomp", *s);
        assert_null(sb_seccomp_group_find("@nope"));
}

/* The config accepts exactly the groups this backend defines
 * (config/syscall_groups.h): each listed name has a group, and there are
 * no others. */
static void test_groups_match_config(void **state)
{
#define SG_NAME(n) n,
        static const char *const listed[] = { SB_SYSCALL_GROUP_NAMES(SG_NAME) };
#undef SG_NAME
        size_t ngroups = 0;

        (void)state;
        for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
                if (!sb_seccomp_group_find(listed[i]))
                        fail_msg("%s: accepted by the config, undefined in seccomp.c", listed[i]);
        for (const struct sb_seccomp_group *g = sb_seccomp_groups; g->name; g++)
                ngroups++;
        assert_int_equal(ngroups, sizeof(listed) / sizeof(listed[0]));
}

static void test_refused_not_allowed(void **state)
{
        (void)state;
        for (const struct sb_seccomp_group *g = sb_seccomp_groups; g->name; g++) {
                for (const char *const *s = g->syscalls; *s; s++) {
                        if (in_list(sb_seccomp_never, *s))
                                fail_msg("%s is in %s but must never be allowed", *s, g->name);
                        if (!g->optional && in_list(sb_seccomp_refused, *s))
                                fail_msg("%s is in default group %s but is refused", *s, g->name);
                        /* Argument-checked calls are added by code only. */
                        if (!strcmp(*s, "clone") || !strcmp(*s, "clone3") || !strcmp(*s, "ioctl") ||
                            !strcmp(*s, "socket") || !strcmp(*s, "socketpair") ||
                            !strcmp(*s, "personality"))
                                fail_msg("%s in %s bypasses its argument check", *s, g->name);
                }
        }
        /* The brief's explicit list is covered. */
        static const char *const must[] = {
                "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount",
                "fspick", "open_tree", "move_mount", "mount_setattr", "unshare", "setns",
                "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf",
                "perf_event_open", "userfaultfd", "open_by_handle_at", "name_to_handle_at",
                "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
                "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "settimeofday",
                "clock_settime", "clock_adjtime", "adjtimex", NULL,
        };
        for (const char *const *s = must; *s; s++)
                if (!in_list(sb_seccomp_never, *s))
                        fail_msg("%s missing from the never list", *s);
        static const char *const must_refused[] = {
                "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "keyctl", "add_key",
                "request_key", NULL,
        };
        for (const char *const *s = must_refused; *s; s++)
                if (!in_list(sb_seccomp_refused, *s) && !in_list(sb_seccomp_never, *s))
                        fail_msg("%s is neither refused nor never", *s);
}

static void test_cache(void **state)
{
        struct sb_seccomp_cache cache;
        const struct sb_seccomp_prog *a, *b, *c, *d;
        static const char *const debug[] = { "@debug", NULL };
        static const char *const bad[] = { "@nope", NULL };
        char err[256];

        (void)state;
        memset(&cache, 0, sizeof(cache));
        assert_int_equal(sb_linux_seccomp_get(&cache, false, NULL, &a, err, sizeof(err)), 0);
        /* One program: the deny rules chained in front of the allowlist. */
        assert_true(a->allow.len > 10 && a->deny.len == 0);
        assert_string_equal(a->name, "@skillbox-service");
        assert_int_equal(sb_linux_seccomp_get(&cache, false, NULL, &b, err, sizeof(err)), 0);
        assert_ptr_equal(a, b);
        assert_int_equal(sb_linux_seccomp_get(&cache, true, NULL, &c, err, sizeof(err)), 0);
        assert_ptr_not_equal(a, c);
        assert_string_equal(c->name, "@skillbox-service+network");
        assert_int_equal(sb_linux_seccomp_get(&cache, false, debug, &d, err, sizeof(err)), 0);
        assert_string_equal(d->name, "@skillbox-service,@debug");
        assert_int_equal(sb_linux_seccomp_get(&cache, false, bad, &d, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "@nope"));
        /* More combinations than slots: the oldest is dropped, no leak (ASan). */
        for (int i = 0; i < SB_SECCOMP_CACHE_MAX + 2; i++) {
                const char *one[] = { i % 2 ? "@debug" : "@aio", NULL };
                const char *two[] = { "@debug", "@aio", NULL };
                assert_int_equal(sb_linux_seccomp_get(&cache, i % 3 == 0, i % 4 ? one : two, &d,
                                                      err, sizeof(err)), 0);
        }
        sb_linux_seccomp_cache_free(&cache);
}

/* In a forked child: load the filter, run one check, exit 0 if it behaved. */
enum check { C_ALLOWED, C_REFUSED, C_X32 };

static int expect_errno(long r, int e)
{
        return r < 0 && errno == e ? 0 : 1;
}

static int run_checks(bool network)
{
        int fail = 0, fd;

        fail |= getpid() > 0 ? 0 : 1;
        fail |= expect_errno(syscall(SYS_mount, "none", "/tmp", "tmpfs", 0L, NULL), EPERM) << 1;
        fail |= expect_errno(syscall(SYS_unshare, (long)CLONE_NEWUSER), EPERM) << 2;
        fail |= expect_errno(syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L), EPERM) << 3;
        fail |= expect_errno(syscall(SYS_clone3, NULL, 0L), ENOSYS) << 4;
        fail |= expect_errno(syscall(SYS_ioctl, 0L, (long)TIOCSTI, "x"), EPERM) << 5;
        /* Upper half set: the kernel would still see TIOCSTI. */
        fail |= expect_errno(syscall(SYS_ioctl, 0L, (long)(TIOCSTI | (1UL << 32)), "x"), EPERM) << 6;
        fail |= expect_errno(syscall(SYS_ioctl, 0L, (long)TIOCLINUX, "x"), EPERM) << 7;
        fail |= syscall(SYS_personality, 0xffffffffL) >= 0 ? 0 : 1 << 8;
        fail |= expect_errno(syscall(SYS_personality, (long)PER_LINUX32), EPERM) << 9;
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        fail |= fd >= 0 ? 0 : 1 << 10;
        if (fd >= 0)
                close(fd);
        /* TCP and UDP in every mode (the job's netns confines them); raw,
         * packet and vsock sockets never. */
        (void)network;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        fail |= fd >= 0 ? 0 : 1 << 11;
        if (fd >= 0)
                close(fd);
        fd = socket(AF_INET6, SOCK_DGRAM, 0);
        fail |= fd >= 0 ? 0 : 1 << 17;
        if (fd >= 0)
                close(fd);
        fail |= expect_errno(syscall(SYS_socket, (long)AF_INET, (long)SOCK_RAW, 1L), EPERM) << 18;
        fail |= expect_errno(syscall(SYS_socket, (long)AF_PACKET, (long)SOCK_RAW, 0L), EPERM) << 19;
        fail |= expect_errno(syscall(SYS_socket, (long)AF_VSOCK, (long)SOCK_STREAM, 0L), EPERM) << 20;
        fail |= expect_errno(syscall(SYS_socket, (long)AF_NETLINK, (long)SOCK_RAW, 0L), EPERM) << 12;
        fail |= expect_errno(syscall(SYS_ptrace, 0L, 0L, 0L, 0L), EPERM) << 13;
        fail |= expect_errno(syscall(SYS_bpf, 0L, NULL, 0L), EPERM) << 14;
        fail |= expect_errno(syscall(SYS_io_uring_setup, 1L, NULL), EPERM) << 15;
        /* A plain fork still works (clone without namespace flags). */
        pid_t p = fork();
        if (p == 0)
                _exit(7);
        int st;
        fail |= p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : 1 << 16;
        return fail;
}

static int child_status(bool network, enum check what)
{
        const struct sb_seccomp_prog *p;
        struct sb_seccomp_cache cache;
        const char *step = NULL;
        char err[256];
        int st;

        memset(&cache, 0, sizeof(cache));
        assert_int_equal(sb_linux_seccomp_get(&cache, network, NULL, &p, err, sizeof(err)), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
                        _exit(100);
                if (sb_linux_seccomp_load(p->allow.filter, p->allow.len, p->deny.filter, p->deny.len,
                                          &step) < 0)
                        _exit(101);
                if (what == C_X32) {
                        /* getpid through the x32 ABI: must kill, never return. */
                        syscall(0x40000000L | SYS_getpid);
                        _exit(102);
                }
                _exit(run_checks(network) ? 103 : 0);
        }
        sb_linux_seccomp_cache_free(&cache);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return st;
}

static void test_filter_default(void **state)
{
        (void)state;
        int st = child_status(false, C_REFUSED);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("filter check child: status %#x", st);
}

static void test_filter_network(void **state)
{
        (void)state;
        int st = child_status(true, C_ALLOWED);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("filter check child (network): status %#x", st);
}

static void test_x32_kills(void **state)
{
        (void)state;
#if defined(__x86_64__)
        int st = child_status(false, C_X32);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
#else
        skip();
#endif
}

/* The notify form changes the refusals only: every EPERM answer becomes a
 * user notification, clone3's ENOSYS and the bad-arch kill stay. */
static void test_to_notify(void **state)
{
        struct sb_seccomp_cache cache;
        const struct sb_seccomp_prog *p;
        struct sock_filter *f;
        unsigned eperm = 0, enosys = 0, kill = 0, after_kill = 0, after_enosys = 0, n;
        char err[256];

        (void)state;
        memset(&cache, 0, sizeof(cache));
        assert_int_equal(sb_linux_seccomp_get(&cache, false, NULL, &p, err, sizeof(err)), 0);
        f = malloc(p->allow.len * sizeof(*f));
        assert_non_null(f);
        memcpy(f, p->allow.filter, p->allow.len * sizeof(*f));
        for (unsigned i = 0; i < p->allow.len; i++) {
                if (BPF_CLASS(f[i].code) != BPF_RET)
                        continue;
                eperm += f[i].k == (SECCOMP_RET_ERRNO | EPERM);
                enosys += f[i].k == (SECCOMP_RET_ERRNO | ENOSYS);
                kill += f[i].k == SECCOMP_RET_KILL_PROCESS;
        }
        assert_true(eperm > 0 && enosys > 0 && kill > 0);
        n = sb_linux_seccomp_to_notify(f, p->allow.len);
        assert_int_equal(n, eperm);
        for (unsigned i = 0; i < p->allow.len; i++) {
                if (BPF_CLASS(f[i].code) != BPF_RET)
                        continue;
                assert_int_not_equal(f[i].k, SECCOMP_RET_ERRNO | EPERM);
                after_enosys += f[i].k == (SECCOMP_RET_ERRNO | ENOSYS);
                after_kill += f[i].k == SECCOMP_RET_KILL_PROCESS;
                if (f[i].k != p->allow.filter[i].k)
                        assert_int_equal(f[i].k, SECCOMP_RET_USER_NOTIF);
        }
        assert_int_equal(after_enosys, enosys);
        assert_int_equal(after_kill, kill);
        free(f);
        sb_linux_seccomp_cache_free(&cache);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_resolve),
                cmocka_unit_test(test_groups_match_config),
                cmocka_unit_test(test_refused_not_allowed),
                cmocka_unit_test(test_cache),
                cmocka_unit_test(test_filter_default),
                cmocka_unit_test(test_filter_network),
                cmocka_unit_test(test_x32_kills),
                cmocka_unit_test(test_to_notify),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
static void skipped(void **state)
{
        (void)state;
        skip();
}

int main(void)
{
        const struct CMUnitTest tests[] = { cmocka_unit_test(skipped) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
