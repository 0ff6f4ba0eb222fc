/* The spawn plan (backends/linux/plan.h): what the daemon packs from a job
 * is what the spawner's check accepts and the child reads, field by field;
 * a plan cut short, padded, of another version, or with a string, count or
 * slot out of bounds is refused before any child reads it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/linux/linux.h"

struct fixture {
        struct sb_backend *b;
        struct sb_backend_job *j;
        struct sb_seccomp_prog sp;
        struct sock_filter bpf[3];
        struct sb_job_spec spec;
        struct sb_plan_builder pb;
        int fds[SB_PLAN_FDS], nfds;
};

static char *argv_[] = { "sh", "-c", "echo hi", NULL };
static char *envp_[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->b = calloc(1, sizeof(*f->b));
        f->j = calloc(1, sizeof(*f->j));
        assert_non_null(f->b);
        assert_non_null(f->j);
        snprintf(f->b->root_mnt, sizeof(f->b->root_mnt), "/var/lib/skillbox/root");
        f->b->landlock_abi = 4;
        f->b->cg.nbase = 2;
        f->b->cg.ops = &sb_cgroup_v1_ops;
        f->b->cg.base[0].ctrls = SB_CG_MEMORY;
        f->b->cg.base[1].ctrls = SB_CG_CPU | SB_CG_CPUACCT;
        snprintf(f->b->cg.base[0].path, sizeof(f->b->cg.base[0].path), "/sys/fs/cgroup/memory/sb");
        snprintf(f->b->cg.base[1].path, sizeof(f->b->cg.base[1].path), "/sys/fs/cgroup/cpu,cpuacct/sb");
        snprintf(f->j->cgj.id, sizeof(f->j->cgj.id), "j1");
        snprintf(f->b->top[0].name, sizeof(f->b->top[0].name), "bin");
        f->b->top[0].kind = SB_HOST_SYMLINK;
        snprintf(f->b->top[0].target, sizeof(f->b->top[0].target), "usr/bin");
        snprintf(f->b->top[2].name, sizeof(f->b->top[2].name), "lib64");
        f->b->top[2].kind = SB_HOST_DIR;
        snprintf(f->b->etc[1].name, sizeof(f->b->etc[1].name), "etc/localtime");
        f->b->etc[1].kind = SB_HOST_FILE;

        for (size_t i = 0; i < 3; i++)
                f->bpf[i] = (struct sock_filter){ (uint16_t)(6 + i), 0, 0, (uint32_t)(0x7fff0000u + i) };
        f->sp.allow.len = 2;
        f->sp.allow.filter = f->bpf;
        f->sp.deny.len = 1;
        f->sp.deny.filter = f->bpf + 2;
        f->j->seccomp = &f->sp;
        f->j->policy.network = true;
        f->j->binds.n = 1;
        snprintf(f->j->binds.targets[0], sizeof(f->j->binds.targets[0]), "/data/in");
        f->j->binds.read_only[0] = true;
        f->j->binds.work_tree = 40;
        f->j->binds.trees[0] = 41;
        for (int i = 1; i < (int)SBP_MOUNTS_MAX; i++)
                f->j->binds.trees[i] = -1;
        f->j->pty.master = f->j->pty.slave = f->j->pty.tree = -1;     /* no tty */
        f->j->cgj.cg = &f->b->cg;
        f->j->cgj.fd[0] = 50;
        f->j->cgj.fd[1] = 51;

        f->spec.argv = argv_;
        f->spec.envp = envp_;
        f->spec.uid = f->spec.gid = 64012;
        f->spec.policy.tasks_max = 77;
        assert_int_equal(sb_policy_bind_ro_add(&f->spec.policy, "/opt/tools"), 0);
        assert_int_equal(sb_policy_bind_ro_add(&f->spec.policy, "-/srv/f.conf:/etc/f.conf"), 0);
        f->spec.stdin_fd = 20;
        f->spec.stdout_fd = 21;
        f->spec.stderr_fd = 22;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        free(f->pb.p);
        free(f->j);
        free(f->b);
        free(f);
        return 0;
}

static void pack(struct fixture *f)
{
        char err[256] = "";

        f->nfds = 0;
        assert_int_equal(sb_linux_spawn_plan(&f->pb, f->b, &f->spec, f->j, 10, 11, f->fds, &f->nfds,
                                             err, sizeof(err)), 0);
        assert_int_equal(sb_spawn_plan_check(f->pb.p, f->pb.p->size, f->nfds), 0);
}

static int slot(const struct fixture *f, int s)
{
        int k = f->pb.p->fd_index[s];

        return k < 0 ? -1 : f->fds[k];
}

static void test_packed_plan_reads_back(void **state)
{
        struct fixture *f = *state;
        const struct sb_spawn_plan *p;
        char *args[8];

        pack(f);
        p = f->pb.p;
        assert_int_equal(p->version, SB_SPAWN_PLAN_VERSION);
        assert_int_equal(p->uid, 64012);
        assert_int_equal(p->gid, 64012);
        assert_int_equal(p->tasks_max, 77);
        assert_int_equal(p->landlock_abi, 4);
        assert_int_equal(p->flags, SB_PLAN_NETWORK);
        assert_string_equal(sb_plan_s(p, p->root_mnt), "/var/lib/skillbox/root");
        assert_int_equal(p->top[0].kind, SB_PLAN_HOST_SYMLINK);
        assert_string_equal(sb_plan_s(p, p->top[0].name), "bin");
        assert_string_equal(sb_plan_s(p, p->top[0].target), "usr/bin");
        assert_int_equal(p->top[1].kind, SB_PLAN_HOST_ABSENT);
        assert_int_equal(p->top[2].kind, SB_PLAN_HOST_DIR);
        assert_string_equal(sb_plan_s(p, p->top[2].name), "lib64");
        assert_int_equal(p->etc[1].kind, SB_PLAN_HOST_FILE);
        assert_string_equal(sb_plan_s(p, p->etc[1].name), "etc/localtime");
        assert_non_null(strstr(sb_plan_s(p, p->passwd), "skillbox:x:64012:64012:"));
        assert_non_null(strstr(sb_plan_s(p, p->group), "skillbox:x:64012:"));
        assert_non_null(strstr(sb_plan_s(p, p->work_opts), ",uid=64012,gid=64012"));
        /* /tmp holds the job's HOME as well: one inode more than /dev/shm. */
        assert_non_null(strstr(sb_plan_s(p, p->passwd), ":/tmp/home:"));
        assert_non_null(strstr(sb_plan_s(p, p->tmp_opts), ",nr_inodes=8194,"));
        assert_non_null(strstr(sb_plan_s(p, p->shm_opts), ",nr_inodes=8193,"));
        assert_string_equal(sb_plan_s(p, p->cwd), "/work");

        assert_int_equal(p->nbinds, 1);
        assert_string_equal(sb_plan_s(p, p->binds[0].target), "/data/in");
        assert_int_equal(p->binds[0].read_only, 1);

        assert_int_equal(p->argc, 3);
        assert_int_equal(p->envc, 2);
        assert_int_equal(sb_linux_strv_unpack((char *)sb_plan_blob(p) + p->strv_off, p->strv_len,
                                              p->argc, p->envc, args), 0);
        assert_string_equal(args[2], "echo hi");
        assert_null(args[3]);
        assert_string_equal(args[5], "LANG=C.UTF-8");
        assert_null(args[6]);

        assert_int_equal(p->allow_len, 2);
        assert_int_equal(p->deny_len, 1);
        assert_memory_equal(sb_plan_bpf(p), f->bpf, sizeof(f->bpf));

        assert_int_equal(slot(f, SB_PLAN_FD_SYNC_R), 10);
        assert_int_equal(slot(f, SB_PLAN_FD_ERR_W), 11);
        assert_int_equal(slot(f, SB_PLAN_FD_STDIN), 20);
        assert_int_equal(slot(f, SB_PLAN_FD_STDERR), 22);
        assert_int_equal(slot(f, SB_PLAN_FD_CLONE_CG), -1);     /* v1: the child attaches */
        assert_int_equal(slot(f, SB_PLAN_FD_WORK_TREE), 40);
        assert_int_equal(slot(f, SB_PLAN_FD_TREES), 41);
        assert_int_equal(slot(f, SB_PLAN_FD_TREES + 1), -1);
        assert_int_equal(slot(f, SB_PLAN_FD_PTS_TREE), -1);
        assert_int_equal(p->ncg, 2);
        assert_int_equal(slot(f, SB_PLAN_FD_CG + 1), 51);
        /* Where the job sees each hierarchy, and the bind's source. */
        assert_string_equal(sb_plan_s(p, p->cg_name[0]), "memory");
        assert_string_equal(sb_plan_s(p, p->cg_name[1]), "cpu,cpuacct");
        assert_string_equal(sb_plan_s(p, p->cg_src[1]), "/sys/fs/cgroup/cpu,cpuacct/sb/j1");
}

/* BindReadOnlyPaths= entries split into src, dst (src when none) and
 * optional. */
static void test_plan_carries_the_read_only_binds(void **state)
{
        struct fixture *f = *state;
        const struct sb_spawn_plan *p;

        pack(f);
        p = f->pb.p;
        assert_int_equal(p->nbind_ro, 2);
        assert_string_equal(sb_plan_s(p, p->bind_ro[0].src), "/opt/tools");
        assert_string_equal(sb_plan_s(p, p->bind_ro[0].dst), "/opt/tools");
        assert_int_equal(p->bind_ro[0].optional, 0);
        assert_string_equal(sb_plan_s(p, p->bind_ro[1].src), "/srv/f.conf");
        assert_string_equal(sb_plan_s(p, p->bind_ro[1].dst), "/etc/f.conf");
        assert_int_equal(p->bind_ro[1].optional, 1);
}

static void test_plan_carries_the_cwd(void **state)
{
        struct fixture *f = *state;

        f->spec.cwd = "/work/src/a b";
        pack(f);
        assert_string_equal(sb_plan_s(f->pb.p, f->pb.p->cwd), "/work/src/a b");
}

static void test_prepared_plan_has_no_program(void **state)
{
        struct fixture *f = *state;

        f->j->prepared = true;
        pack(f);
        assert_int_equal(f->pb.p->flags & SB_PLAN_PREPARED, SB_PLAN_PREPARED);
        assert_int_equal(f->pb.p->argc, 0);
        /* A job plan needs a program, a prepared one must not have one. */
        f->pb.p->flags &= ~(uint32_t)SB_PLAN_PREPARED;
        assert_int_equal(sb_spawn_plan_check(f->pb.p, f->pb.p->size, f->nfds), -EPROTO);
}

/* A tty job: its devpts mount in the PTS_TREE slot and the flag that
 * makes the program take the terminal; never one without the other, and
 * never in a prepared sandbox. */
static void test_tty_plan_carries_its_devpts(void **state)
{
        struct fixture *f = *state;
        struct sb_spawn_plan *p;

        f->j->pty.tree = 60;
        pack(f);
        p = f->pb.p;
        assert_int_equal(p->flags & SB_PLAN_TTY, SB_PLAN_TTY);
        assert_int_equal(slot(f, SB_PLAN_FD_PTS_TREE), 60);
        p->flags &= ~(uint32_t)SB_PLAN_TTY;
        assert_int_equal(sb_spawn_plan_check(p, p->size, f->nfds), -EPROTO);
        p->flags |= SB_PLAN_TTY;
        p->fd_index[SB_PLAN_FD_PTS_TREE] = -1;
        assert_int_equal(sb_spawn_plan_check(p, p->size, f->nfds), -EPROTO);

        f->j->prepared = true;
        f->nfds = 0;
        free(f->pb.p);
        f->pb.p = NULL;
        assert_int_equal(sb_linux_spawn_plan(&f->pb, f->b, &f->spec, f->j, 10, 11, f->fds,
                                             &f->nfds, NULL, 0), 0);
        assert_int_equal(sb_spawn_plan_check(f->pb.p, f->pb.p->size, f->nfds), -EPROTO);
}

static void test_plan_of_another_size_or_version_is_refused(void **state)
{
        struct fixture *f = *state;
        struct sb_spawn_plan *p;
        size_t len;

        pack(f);
        len = f->pb.p->size;
        p = calloc(1, len + 64);
        assert_non_null(p);
        memcpy(p, f->pb.p, len);
        /* Truncated: short of its blob, short of its header, nothing. */
        assert_int_equal(sb_spawn_plan_check(p, len - 1, f->nfds), -EPROTO);
        assert_int_equal(sb_spawn_plan_check(p, sizeof(*p) - 1, f->nfds), -EPROTO);
        assert_int_equal(sb_spawn_plan_check(p, 2, f->nfds), -EPROTO);
        /* Oversized: more bytes than it says. */
        assert_int_equal(sb_spawn_plan_check(p, len + 8, f->nfds), -EPROTO);
        /* Fewer fds than its slots name. */
        assert_int_equal(sb_spawn_plan_check(p, len, f->nfds - 1), -EPROTO);
        /* Another version. */
        p->version = SB_SPAWN_PLAN_VERSION + 1;
        assert_int_equal(sb_spawn_plan_check(p, len, f->nfds), -EPROTONOSUPPORT);
        p->version = SB_SPAWN_PLAN_VERSION;
        assert_int_equal(sb_spawn_plan_check(p, len, f->nfds), 0);
        free(p);
}

/* Each corruption on a fresh copy: the check must refuse it. */
static void test_plan_out_of_bounds_is_refused(void **state)
{
        struct fixture *f = *state;
        struct sb_spawn_plan *p;
        size_t len;

        pack(f);
        len = f->pb.p->size;
        p = malloc(len);
        assert_non_null(p);
#define REFUSED(mutation)                                                       \
        do {                                                                    \
                memcpy(p, f->pb.p, len);                                        \
                mutation;                                                       \
                assert_int_equal(sb_spawn_plan_check(p, len, f->nfds), -EPROTO); \
        } while (0)
        REFUSED(p->root_mnt.off = p->blob_len);
        REFUSED(p->passwd.len = p->blob_len);
        REFUSED(p->group.len += 1);                                     /* no NUL there */
        REFUSED(p->top[0].kind = 9);
        REFUSED(p->top[0].name = p->binds[0].target);                   /* absolute */
        REFUSED(p->binds[0].target = p->top[0].target);                 /* not absolute */
        REFUSED(p->cwd = p->top[0].target);                             /* not absolute */
        REFUSED(p->cwd.len = 0);
        REFUSED(p->nbinds = SBP_MOUNTS_MAX + 1);
        REFUSED(p->argc = 4);                                           /* one string more than sent */
        REFUSED(p->envc = SB_PLAN_ARGS_MAX);
        REFUSED(p->strv_len = p->blob_len);
        REFUSED(p->allow_len = 0);
        REFUSED(p->deny_len = (uint32_t)(p->blob_len / sizeof(struct sock_filter)));
        REFUSED(p->bpf_off += 1);
        REFUSED(p->fd_index[SB_PLAN_FD_STDOUT] = -1);                  /* required */
        REFUSED(p->fd_index[SB_PLAN_FD_CG + 1] = -1);                  /* ncg says present */
        REFUSED(p->ncg = SB_PLAN_CG_MAX + 1);
        REFUSED(p->cg_name[0] = p->binds[0].target);                    /* not one component */
        REFUSED(p->cg_name[1] = p->cg_name[2]);                         /* "" with two hierarchies */
        REFUSED(p->cg_src[0] = p->cg_name[0]);                          /* not absolute */
        REFUSED(p->flags |= 1u << 20);
        REFUSED(p->blob_len -= 1);
        REFUSED(p->nbind_ro = SB_PLAN_BIND_RO_MAX + 1);
        REFUSED(p->bind_ro[0].src = p->top[0].target);                  /* not absolute */
        REFUSED(p->bind_ro[0].dst = p->top[0].target);                  /* not absolute */
        REFUSED(p->bind_ro[1].optional = 2);
        REFUSED(p->bind_ro[0].dst.len = 1);                             /* "/", no NUL there */
#undef REFUSED
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_packed_plan_reads_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tty_plan_carries_its_devpts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_carries_the_read_only_binds, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_plan_carries_the_cwd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prepared_plan_has_no_program, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_of_another_size_or_version_is_refused,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_out_of_bounds_is_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
