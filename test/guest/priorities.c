/*
 * priorities.c - what real-time priorities guarantee and what RT throttling still allows:
 *  1. on one CPU a spinning FIFO 99 thread keeps a FIFO 5 thread off the CPU until it blocks;
 *  2. a FIFO thread woken by a SCHED_OTHER thread runs before the waker's syscall returns;
 *  3. RT throttling (95% of each second) lets a SCHED_OTHER thread run beside a FIFO spinner;
 *  4. the same with FIFO spinners holding every CPU (two CPUs: the tests run with --cpus 2),
 *     which under Starling's execution token means the spinners also wait for each other.
 * A spinner gives up after SPIN_LIMIT_S, so a starved thread shows as "no", never as a hang;
 * the limit is long because the 50 ms that throttling leaves each second can be missed on a
 * heavily loaded host.
 * Needs root, as the tests run.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "check.h"

#define SPIN_LIMIT_S 10.0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* musl's sched_setscheduler() deliberately returns ENOSYS, so the policy calls are raw. */
static long setscheduler(int policy, int prio)
{
    struct sched_param p = { .sched_priority = prio };
    return syscall(SYS_sched_setscheduler, 0, policy, &p);
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

/* Spins until *flag is set or the limit passes; says which. */
static int spin_until(volatile int *flag, double seconds)
{
    for (double end = now() + seconds; now() < end;)
        if (*flag) return 1;
    return 0;
}

static volatile int ran, flag, started, released;

struct thread_spec { int cpu, policy, prio; void *(*body)(void *); };

static pthread_t start(struct thread_spec s)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&a, s.policy);
    struct sched_param q = { .sched_priority = s.prio };
    pthread_attr_setschedparam(&a, &q);
    pthread_t t;
    int rc = pthread_create(&t, &a, s.body, (void *)(long)s.cpu);
    if (rc) printf("pthread_create: %d\n", rc);
    return t;
}

/* Each thread pins itself first (musl has no pthread_attr_setaffinity_np). */
static void *mark_ran(void *cpu) { pin((int)(long)cpu); ran = 1; return 0; }

static int pipe_fds[2];
static void *read_then_mark(void *cpu)
{
    pin((int)(long)cpu);
    char c;
    if (read(pipe_fds[0], &c, 1) == 1) ran = 1;
    return 0;
}

static void *spinner(void *cpu)
{
    pin((int)(long)cpu);
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    if (spin_until(&flag, SPIN_LIMIT_S)) __atomic_add_fetch(&released, 1, __ATOMIC_SEQ_CST);
    return 0;
}

int main(void)
{
    pin(0);

    /* 1. FIFO 99 against FIFO 5 on CPU 0: throttling never favours one RT thread over another. */
    CHECKN("fifo 99", setscheduler(SCHED_FIFO, 99));
    ran = 0;
    pthread_t low = start((struct thread_spec){ 0, SCHED_FIFO, 5, mark_ran });
    spin_until(&ran, 1.2);
    printf("fifo 5 ran while fifo 99 spun: %s\n", ran ? "yes" : "no");
    pthread_join(low, 0);
    printf("fifo 5 ran once fifo 99 blocked: %s\n", ran ? "yes" : "no");

    /* 3. RT throttling: a SCHED_OTHER thread gets the CPU beside a spinning FIFO 99 thread. */
    ran = 0;
    pthread_t normal = start((struct thread_spec){ 0, SCHED_OTHER, 0, mark_ran });
    printf("normal thread ran beside a fifo 99 spinner: %s\n", spin_until(&ran, SPIN_LIMIT_S) ? "yes" : "no");
    pthread_join(normal, 0);

    /* 2. Wake-up preemption: a woken FIFO 50 thread runs before write() returns to its waker. */
    CHECKN("back to other", setscheduler(SCHED_OTHER, 0));
    CHECKN("pipe", pipe(pipe_fds));
    ran = 0;
    pthread_t reader = start((struct thread_spec){ 0, SCHED_FIFO, 50, read_then_mark });
    usleep(100 * 1000); /* the reader blocks in read() */
    CHECKN("write", write(pipe_fds[1], "x", 1));
    int ran_at_return = ran;
    printf("woken fifo 50 ran before write returned: %s\n", ran_at_return ? "yes" : "no");
    pthread_join(reader, 0);

    /* 4. FIFO 99 spinners on both CPUs; this SCHED_OTHER thread must still get to run. */
    cpu_set_t both;
    CPU_ZERO(&both);
    CPU_SET(0, &both);
    CPU_SET(1, &both);
    CHECKN("allow cpus 0 and 1", sched_setaffinity(0, sizeof both, &both));
    flag = 0;
    pthread_t s0 = start((struct thread_spec){ 0, SCHED_FIFO, 99, spinner });
    pthread_t s1 = start((struct thread_spec){ 1, SCHED_FIFO, 99, spinner });
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 2) sched_yield();
    flag = 1; /* the spinners see it only if this thread got a CPU while they spun */
    pthread_join(s0, 0);
    pthread_join(s1, 0);
    printf("normal thread ran while fifo 99 spinners held both cpus: %s\n", released == 2 ? "yes" : "no");
    return FINISH();
}
