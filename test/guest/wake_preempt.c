/*
 * wake_preempt.c - a SCHED_FIFO 99 thread woken on another CPU preempts the thread running
 * there: a normal thread spins on CPU 1 without making a syscall (so only an interrupt can take
 * the CPU from it: under Starling's KVM backend, a kick), the FIFO thread, pinned to CPU 1 too,
 * waits in read() until the main thread on CPU 0 writes to its pipe. The FIFO thread must run on
 * CPU 1 while the spinner still spins, and the spinner must see that it ran. The spinner gives
 * up after many TSC cycles, so a missing preemption shows as "no", never as a hang.
 * Needs root (SCHED_FIFO), as the tests run; two CPUs (the tests run with --cpus 2).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <x86intrin.h>
#include "check.h"

/* About 10 s at 3 GHz: only reached when the woken thread never gets the CPU. */
#define SPIN_LIMIT_CYCLES 30000000000ULL

static volatile int spinning, woken_ran, spinner_done, spinner_saw_it, done_when_woken, woken_cpu = -1;
static int pipe_fds[2];

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static void *spinner(void *arg)
{
    (void)arg;
    pin(1);
    spinning = 1;
    unsigned long long start = __rdtsc();
    while (!woken_ran && __rdtsc() - start < SPIN_LIMIT_CYCLES)
        ;
    spinner_saw_it = woken_ran;
    spinner_done = 1;
    return 0;
}

static void *woken(void *arg)
{
    (void)arg;
    pin(1);
    char c;
    if (read(pipe_fds[0], &c, 1) != 1) return 0;
    done_when_woken = spinner_done;
    woken_cpu = sched_getcpu();
    woken_ran = 1;
    return 0;
}

int main(void)
{
    pin(0);
    CHECKN("pipe", pipe(pipe_fds));
    pthread_t s, w;
    CHECKRC("start the spinner", pthread_create(&s, 0, spinner, 0));
    while (!spinning) sched_yield();

    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&a, SCHED_FIFO);
    struct sched_param p = { .sched_priority = 99 };
    pthread_attr_setschedparam(&a, &p);
    CHECKRC("start the fifo 99 thread", pthread_create(&w, &a, woken, 0));
    usleep(100 * 1000); /* it pins itself to CPU 1 and blocks in read() */
    CHECKN("wake it", write(pipe_fds[1], "x", 1));

    pthread_join(w, 0);
    pthread_join(s, 0);
    printf("woken fifo 99 thread ran on cpu 1: %s\n", woken_cpu == 1 ? "yes" : "no");
    printf("it ran while the spinner there still spun: %s\n", woken_ran && !done_when_woken ? "yes" : "no");
    printf("the spinner saw it run: %s\n", spinner_saw_it ? "yes" : "no");
    return FINISH();
}
