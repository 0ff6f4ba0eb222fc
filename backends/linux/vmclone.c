/* vmclone.c — clone a job's init into the spawner's own address space.
 *
 * Why: a plain clone copies the spawner's page tables, both sides then take
 * copy-on-write faults, and the init's exit tears its copy down again. On a
 * virtual machine each of those page-table updates is dear: a job whose
 * init shares the spawner's memory (CLONE_VM) costs about a millisecond
 * less of machine time (bench/README.md). The init's own program still gets
 * an address space of its own at its execve.
 *
 * A CLONE_VM child shares everything the spawner writes, so:
 *   - memory: each child gets a slot, one mapping of its own: a guard page,
 *     its stack, a copy of the thread-local block, and the request it serves
 *     (the spawner copies it there before the clone, so the next request
 *     does not overwrite it). The child writes nothing else of ours: no
 *     malloc, no stdio, no static buffer (util.c's rule for sb_child_*).
 *   - thread-local storage holds errno. The child runs on its own copy
 *     (CLONE_SETTLS), so an error it reports is its own and not one the
 *     spawner or another init just had. The copy follows the static TLS
 *     layout of x86_64 (variant II: the block right below the thread
 *     pointer, the TCB at it, whose first word points to itself). The probe
 *     accepts only a static executable (no PT_INTERP: nothing but our own
 *     block below the pointer) and a test clone at start proves it; else
 *     the spawner forks them.
 *   - a slot is free again once the child's process has ended: its pidfd
 *     polls readable. Its tid word (CLONE_CHILD_CLEARTID) is zeroed a
 *     little earlier, when its task lets go of the memory, but the child is
 *     pid 1 of the job, and its program may still run on the slot's stack
 *     then (a vfork child before its execve): only after that, as the pid
 *     namespace's last process is gone, does the pidfd turn readable.
 *   - the OOM killer kills every process that shares the victim's address
 *     space. So an init cloned here never joins the job's memory cgroup
 *     (child.c): its program joins it in the vfork child, which the OOM
 *     killer never picks while it borrows our memory, and its execve then
 *     gives it an address space of its own. Hence v1 only, where memory is
 *     a hierarchy of its own (sb_cgroup_memory_split).
 *   - a page table is charged to the memory cgroup of the task whose fault
 *     allocates it (a page itself to the address space's owner, the
 *     spawner): the spawner touches the first and the last page of every
 *     slot it maps, which puts in place every page table the slot needs
 *     (it is far smaller than the 2 MiB one table covers), so no job's
 *     cgroup is pinned by one left in our address space. The pages a child
 *     never touches stay unallocated.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/linux/vmclone.h"

#if defined(__x86_64__)

#define SLOT_GUARD 4096u
#define SLOT_STACK (64u << 10)
/* What a child of an ordinary request needs (spawner_serve.c): the request
 * copy, its argv array, the seccomp program and the start area. A bigger
 * request gets a slot of its own size, unmapped once it is free again. */
#define SLOT_DATA (64u << 10)
#define SLOTS_KEPT 32u
/* The thread descriptor at the pointer: glibc says how large it is (for
 * its debugger library) and the whole of it is copied, so that whatever
 * glibc reads or writes in it through %fs is the child's own. Without
 * that symbol, its tcbhead_t (0x2c0 bytes on x86_64: the stack guard at
 * 0x28, the pointer guard at 0x30), which the descriptor always exceeds. */
extern const uint32_t _thread_db_sizeof_pthread __attribute__((weak));
#define TCB_COPY_MIN 0x300u

struct sb_vm_slot {
        struct sb_vm_slot *next;
        int32_t tid;            /* -1 while a child may run in it; the kernel zeroes it */
        int pidfd;              /* the child's, ours to poll; -1 = none (tid only) */
        bool big;
        unsigned char *map;
        size_t map_len;
        unsigned char *data;
        size_t data_cap;
};

static struct {
        bool ok;
        size_t below;           /* bytes of TLS block below the thread pointer */
        size_t tcb;             /* bytes of thread descriptor copied above it */
        unsigned char *tp;      /* the spawner's own thread pointer */
        /* A slot's layout after its header, the same for every slot: its
         * thread pointer, aligned as the spawner's own is, then the data. */
        size_t tp_off, data_off;
} tls;

static struct sb_vm_slot *free_slots, *busy_slots;
static unsigned nfree;

static size_t round_up(size_t v, size_t a)
{
        return (v + a - 1) & ~(a - 1);
}

/* clone3 onto the slot's stack: the child has no frame to return into, so
 * it calls fn(arg) from here and, should fn return, exits 127. Returns the
 * pid, or -errno. */
static long clone3_call(struct clone_args *ca, void (*fn)(void *), void *arg)
{
        long ret = SYS_clone3;
        register void (*r12)(void *) __asm__("r12") = fn;
        register void *r13 __asm__("r13") = arg;

        __asm__ volatile("syscall\n\t"
                         "test %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         "xor %%ebp, %%ebp\n\t"
                         "mov %%r13, %%rdi\n\t"
                         "call *%%r12\n\t"
                         "mov $231, %%eax\n\t"          /* exit_group(127) */
                         "mov $127, %%edi\n\t"
                         "syscall\n\t"
                         "1:"
                         : "+a"(ret)
                         : "D"(ca), "S"(sizeof(*ca)), "r"(r12), "r"(r13)
                         : "rcx", "r11", "memory", "cc");
        return ret;
}

static bool tls_probe(void)
{
        const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
        unsigned long n = getauxval(AT_PHNUM);
        const ElfW(Phdr) *t = NULL;
        unsigned char *tp;

        if (!ph || !n)
                return false;
        for (unsigned long i = 0; i < n; i++) {
                if (ph[i].p_type == PT_INTERP)
                        return false;   /* other modules' blocks below ours */
                if (ph[i].p_type == PT_TLS)
                        t = &ph[i];
        }
        /* A slot's header starts a page: alignment beyond that is not ours. */
        if (!t || (t->p_align & (t->p_align - 1)) || t->p_align > SLOT_GUARD)
                return false;
        __asm__("mov %%fs:0, %0" : "=r"(tp));
        if (!tp || *(unsigned char **)tp != tp)
                return false;
        tls.tcb = TCB_COPY_MIN;
        if (&_thread_db_sizeof_pthread && _thread_db_sizeof_pthread > TCB_COPY_MIN &&
            _thread_db_sizeof_pthread < (64u << 10))
                tls.tcb = _thread_db_sizeof_pthread;
        size_t align = t->p_align > 64 ? t->p_align : 64;       /* glibc's TCB: 64 */
        tls.below = round_up(t->p_memsz, t->p_align ? t->p_align : 1);
        tls.tp = tp;
        tls.tp_off = round_up(sizeof(struct sb_vm_slot) + tls.below, align);
        tls.data_off = round_up(tls.tp_off + tls.tcb, 64);
        return true;
}

/* The child's thread pointer: a fresh copy of ours in the slot. */
static void *tls_copy(struct sb_vm_slot *s)
{
        unsigned char *ntp = (unsigned char *)s + tls.tp_off;

        memcpy(ntp - tls.below, tls.tp - tls.below, tls.below + tls.tcb);
        *(unsigned char **)ntp = ntp;   /* the TCB's pointer to itself */
        return ntp;
}

static struct sb_vm_slot *slot_map(size_t data_cap)
{
        size_t len = SLOT_GUARD + SLOT_STACK + round_up(tls.data_off + data_cap, 4096);
        unsigned char *m;
        struct sb_vm_slot *s;

        m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return NULL;
        if (mprotect(m, SLOT_GUARD, PROT_NONE) < 0) {
                munmap(m, len);
                return NULL;
        }
        /* Our faults, our page tables (above). */
        ((volatile unsigned char *)m)[SLOT_GUARD] = 0;
        ((volatile unsigned char *)m)[len - 1] = 0;
        s = (struct sb_vm_slot *)(m + SLOT_GUARD + SLOT_STACK);
        s->next = NULL;
        s->tid = 0;
        s->pidfd = -1;
        s->big = data_cap > SLOT_DATA;
        s->map = m;
        s->map_len = len;
        s->data = (unsigned char *)s + tls.data_off;
        s->data_cap = data_cap;
        return s;
}

static void slot_unmap(struct sb_vm_slot *s)
{
        munmap(s->map, s->map_len);
}

static bool slot_done(struct sb_vm_slot *s)
{
        struct pollfd p = { .fd = s->pidfd, .events = POLLIN };

        /* The tid first: a plain read, and most slots are busy. */
        if (__atomic_load_n(&s->tid, __ATOMIC_ACQUIRE) != 0)
                return false;
        if (s->pidfd < 0)
                return true;
        if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
                return false;
        close(s->pidfd);
        s->pidfd = -1;
        return true;
}

/* Move every slot whose child is gone to the free list (or unmap it). */
static void recycle(void)
{
        struct sb_vm_slot **pp = &busy_slots;

        while (*pp) {
                struct sb_vm_slot *s = *pp;

                if (!slot_done(s)) {
                        pp = &s->next;
                        continue;
                }
                *pp = s->next;
                if (s->big || nfree >= SLOTS_KEPT) {
                        slot_unmap(s);
                        continue;
                }
                s->next = free_slots;
                free_slots = s;
                nfree++;
        }
}

struct sb_vm_slot *sb_vmclone_slot_get(size_t data_len)
{
        struct sb_vm_slot *s;

        if (!tls.ok)
                return NULL;
        recycle();
        if (data_len > SLOT_DATA) {
                s = slot_map(round_up(data_len, 64));
        } else if (free_slots) {
                s = free_slots;
                free_slots = s->next;
                nfree--;
        } else {
                s = slot_map(SLOT_DATA);
        }
        if (s) {
                s->next = busy_slots;
                busy_slots = s;
        }
        return s;
}

void *sb_vmclone_slot_data(struct sb_vm_slot *s)
{
        return s->data;
}

void sb_vmclone_slot_watch(struct sb_vm_slot *s, int pidfd)
{
        s->pidfd = pidfd;
}

pid_t sb_vmclone(struct sb_vm_slot *s, struct clone_args *ca, void (*fn)(void *), void *arg)
{
        long r;

        ca->flags |= CLONE_VM | CLONE_SETTLS | CLONE_CHILD_CLEARTID;
        ca->stack = (uint64_t)(uintptr_t)(s->map + SLOT_GUARD);
        ca->stack_size = SLOT_STACK;
        ca->tls = (uint64_t)(uintptr_t)tls_copy(s);
        ca->child_tid = (uint64_t)(uintptr_t)&s->tid;
        __atomic_store_n(&s->tid, -1, __ATOMIC_RELEASE);
        r = clone3_call(ca, fn, arg);
        if (r < 0) {
                __atomic_store_n(&s->tid, 0, __ATOMIC_RELEASE);
                errno = (int)-r;
                return -1;
        }
        return (pid_t)r;
}

/* ---- the start-up proof ---- */

struct probe {
        int err;
        int *where;
};

static void probe_child(void *arg)
{
        struct probe *p = arg;

        errno = 0;
        if (close(-1) == 0)
                _exit(1);
        p->err = errno;
        p->where = &errno;
        _exit(0);
}

bool sb_vmclone_init(void)
{
        struct clone_args ca;
        struct sb_vm_slot *s;
        struct probe *p;
        int status = -1;
        pid_t pid;

        if (!tls_probe())
                return false;
        tls.ok = true;
        s = sb_vmclone_slot_get(sizeof(*p));
        if (!s) {
                tls.ok = false;
                return false;
        }
        p = sb_vmclone_slot_data(s);
        p->err = 0;
        p->where = NULL;
        memset(&ca, 0, sizeof(ca));
        ca.exit_signal = SIGCHLD;
        errno = 0;
        pid = sb_vmclone(s, &ca, probe_child, p);
        int mine = errno;
        if (pid > 0)
                while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
                        ;
        /* Its errno was its own (EBADF, in the copy), ours untouched, and
         * the kernel freed the slot. */
        tls.ok = pid > 0 && mine == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                 p->err == EBADF &&
                 (unsigned char *)p->where >= (unsigned char *)s + tls.tp_off - tls.below &&
                 (unsigned char *)p->where < (unsigned char *)s + tls.tp_off &&
                 __atomic_load_n(&s->tid, __ATOMIC_ACQUIRE) == 0;
        recycle();
        return tls.ok;
}

#else /* !__x86_64__: no trampoline here yet; the spawner forks. */

bool sb_vmclone_init(void)
{
        return false;
}

struct sb_vm_slot *sb_vmclone_slot_get(size_t data_len)
{
        (void)data_len;
        return NULL;
}

void *sb_vmclone_slot_data(struct sb_vm_slot *s)
{
        (void)s;
        return NULL;
}

void sb_vmclone_slot_watch(struct sb_vm_slot *s, int pidfd)
{
        (void)s;
        (void)pidfd;
}

pid_t sb_vmclone(struct sb_vm_slot *s, struct clone_args *ca, void (*fn)(void *), void *arg)
{
        (void)s;
        (void)ca;
        (void)fn;
        (void)arg;
        errno = ENOSYS;
        return -1;
}

#endif
