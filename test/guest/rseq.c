/*
 * rseq.c - restartable sequences: registration and its errors (EINVAL, EBUSY, EPERM), cpu_id
 * matching getcpu, a per-CPU counter incremented inside a critical section by four threads
 * that stays exact however they are preempted and migrated, a signal inside a critical section
 * resuming at the abort handler, and a bad abort signature killing with SIGSEGV.
 * glibc registers its own area in every thread; each thread here unregisters it first (musl
 * registers none), so the program behaves the same with both.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define RSEQ_SIG 0x53053053
#define RSEQ_FLAG_UNREGISTER 1
#define THREADS 4
#define INCREMENTS 200000
#define MAX_CPUS 64

struct rseq_area {
    uint32_t cpu_id_start, cpu_id;
    uint64_t rseq_cs;
    uint32_t flags, node_id, mm_cid;
} __attribute__((aligned(32)));

static __thread struct rseq_area area;

/* glibc's registration (glibc 2.35+ exports where it is); absent with musl. */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

static long rseq(void *a, uint32_t len, int flags, uint32_t sig)
{
    return syscall(SYS_rseq, a, len, flags, sig);
}

static void register_own_area(void)
{
    if (&__rseq_size && __rseq_size > 0)
        rseq((char *)__builtin_thread_pointer() + __rseq_offset, __rseq_size < 32 ? 32 : __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
    if (rseq(&area, sizeof area, 0, RSEQ_SIG) != 0) perror("rseq");
}

/* counters[cpu]++ as one critical section; on abort the section starts over. */
static void increment_this_cpu(long *counters)
{
    for (;;) {
        __asm__ __volatile__ goto(
            ".pushsection __rseq_cs, \"aw\"\n\t"
            ".balign 32\n\t"
            "3:\n\t"
            ".long 0, 0\n\t"
            ".quad 1f, (2f - 1f), 4f\n\t"
            ".popsection\n\t"
            "leaq 3b(%%rip), %%rax\n\t"
            "movq %%rax, %[cs]\n\t"
            "1:\n\t"
            "movl %[cpu], %%eax\n\t"
            "leaq (%[counters], %%rax, 8), %%rcx\n\t"
            "movq (%%rcx), %%rdx\n\t"
            "addq $1, %%rdx\n\t"
            "movq %%rdx, (%%rcx)\n\t"
            "2:\n\t"
            ".pushsection __rseq_failure, \"ax\"\n\t"
            ".long 0x53053053\n\t"
            "4:\n\t"
            "jmp %l[aborted]\n\t"
            ".popsection\n\t"
            :
            : [cs] "m"(area.rseq_cs), [cpu] "m"(area.cpu_id), [counters] "r"(counters)
            : "memory", "cc", "rax", "rcx", "rdx"
            : aborted);
        return;
    aborted:;
    }
}

static long counters[MAX_CPUS];
static volatile int aborts_seen;

static void *incrementer(void *arg)
{
    (void)arg;
    register_own_area();
    for (int i = 0; i < INCREMENTS; i++) increment_this_cpu(counters);
    return 0;
}

/*
 * Spins inside a critical section until a signal or a preemption moves it to the abort handler,
 * which signature precedes (the kernel checks it against the registered RSEQ_SIG).
 */
#define SPIN_IN_SECTION(signature, aborted)                                  \
    __asm__ __volatile__ goto(                                                  \
        ".pushsection __rseq_cs, \"aw\"\n\t"                                   \
        ".balign 32\n\t"                                                        \
        "3:\n\t"                                                                \
        ".long 0, 0\n\t"                                                        \
        ".quad 1f, (2f - 1f), 4f\n\t"                                           \
        ".popsection\n\t"                                                       \
        "leaq 3b(%%rip), %%rax\n\t"                                             \
        "movq %%rax, %[cs]\n\t"                                                 \
        "1:\n\t"                                                                \
        "jmp 1b\n\t"                                                            \
        "2:\n\t"                                                                \
        ".pushsection __rseq_failure, \"ax\"\n\t"                              \
        ".long " #signature "\n\t"                                              \
        "4:\n\t"                                                                \
        "jmp %l[" #aborted "]\n\t"                                              \
        ".popsection\n\t"                                                       \
        :                                                                       \
        : [cs] "m"(area.rseq_cs)                                                \
        : "memory", "cc", "rax"                                                 \
        : aborted)

static int spin_until_aborted(void)
{
    SPIN_IN_SECTION(0x53053053, aborted);
    return 0;
aborted:
    return 1;
}

static int spin_with_bad_signature(void)
{
    SPIN_IN_SECTION(0x12345678, aborted);
aborted:
    return 1;
}

static void on_alarm(int sig) { (void)sig; }

/* Runs body in a child with a SIGALRM handler and a 100 ms timer; returns its wait status. */
static int in_child_with_alarm(int (*body)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa = { .sa_handler = on_alarm };
        sigaction(SIGALRM, &sa, NULL); /* the child inherits the parent's registration */
        ualarm(100000, 0);
        _exit(body() ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    return status;
}

int main(void)
{
    static struct rseq_area other;
    register_own_area();
    unsigned cpu = 0;
    syscall(SYS_getcpu, &cpu, NULL, NULL);
    EXPECT("cpu_id is the CPU getcpu names", area.cpu_id == cpu && area.cpu_id_start == cpu);
    EXPECT_ERR("registering the same area again", rseq(&area, sizeof area, 0, RSEQ_SIG), EBUSY);
    EXPECT_ERR("registering another area", rseq(&other, sizeof other, 0, RSEQ_SIG), EINVAL);
    EXPECT_ERR("unregistering with another signature", rseq(&area, sizeof area, RSEQ_FLAG_UNREGISTER, 0x1234), EPERM);
    EXPECT_ERR("unregistering another area", rseq(&other, sizeof other, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
    EXPECT_ERR("unknown flags", rseq(&area, sizeof area, 2, RSEQ_SIG), EINVAL);
    CHECKN("unregistering", rseq(&area, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
    EXPECT_ERR("unregistering twice", rseq(&area, sizeof area, RSEQ_FLAG_UNREGISTER, RSEQ_SIG), EINVAL);
    EXPECT_ERR("a length of 16", rseq(&area, 16, 0, RSEQ_SIG), EINVAL);
    EXPECT_ERR("an unaligned area", rseq((char *)&other + 4, sizeof other, 0, RSEQ_SIG), EINVAL);
    CHECKN("registering again", rseq(&area, sizeof area, 0, RSEQ_SIG));

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, incrementer, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    long total = 0;
    for (int i = 0; i < MAX_CPUS; i++) total += counters[i];
    printf("per-CPU counters sum to %ld of %d\n", total, THREADS * INCREMENTS);

    int status = in_child_with_alarm(spin_until_aborted);
    printf("a signal in a critical section resumes at its abort handler: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
    status = in_child_with_alarm(spin_with_bad_signature);
    printf("a bad abort signature kills with: %s\n", WIFSIGNALED(status) ? (WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "another signal") : "nothing");
    return FINISH();
}
