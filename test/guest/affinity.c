/*
 * affinity.c - sched_setaffinity really moves threads: one thread pinned to each online CPU
 * calls sched_getcpu() (which glibc reads from rseq) in a loop and must always see its CPU,
 * as must field 39 of /proc/self/task/TID/stat; the pinned threads keep an atomic counter and
 * a cmpxchg spinlock exact; the caller's own move takes effect before sched_setaffinity
 * returns; getaffinity reports the mask; a mask naming no online CPU is EINVAL.
 * The output does not depend on the number of CPUs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "check.h"

#define ROUNDS 20000
#define MAX_CPUS 64

static int ncpus;
static long counter, locked_counter;
static int spinlock;
static int getcpu_mismatches, stat_mismatches, pin_failures;
static pthread_barrier_t start;

static int pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

/* Field 39 (processor) of /proc/self/task/TID/stat. */
static int stat_cpu(void)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", (long)syscall(SYS_gettid));
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    int field = 2;
    for (; p && *p; p++) {
        if (*p != ' ') continue;
        if (++field == 39) return atoi(p + 1);
    }
    return -1;
}

static void *pinned(void *arg)
{
    int cpu = (int)(long)arg;
    if (pin_self(cpu) != 0) __atomic_fetch_add(&pin_failures, 1, __ATOMIC_SEQ_CST);
    pthread_barrier_wait(&start);
    for (int i = 0; i < ROUNDS; i++) {
        if (sched_getcpu() != cpu) __atomic_fetch_add(&getcpu_mismatches, 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
        int expected = 0;
        while (!__atomic_compare_exchange_n(&spinlock, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            expected = 0;
        locked_counter++;
        __atomic_store_n(&spinlock, 0, __ATOMIC_RELEASE);
    }
    if (stat_cpu() != cpu) __atomic_fetch_add(&stat_mismatches, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

int main(void)
{
    ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpus > MAX_CPUS) ncpus = MAX_CPUS;
    pthread_t th[MAX_CPUS];
    pthread_barrier_init(&start, NULL, (unsigned)ncpus);
    for (int i = 0; i < ncpus; i++) pthread_create(&th[i], NULL, pinned, (void *)(long)i);
    for (int i = 0; i < ncpus; i++) pthread_join(th[i], NULL);
    EXPECT("every pin succeeded", pin_failures == 0);
    EXPECT("sched_getcpu always named the pinned cpu", getcpu_mismatches == 0);
    EXPECT("stat field 39 named the pinned cpu", stat_mismatches == 0);
    EXPECT("atomic counter exact", counter == (long)ncpus * ROUNDS);
    EXPECT("spinlock counter exact", locked_counter == (long)ncpus * ROUNDS);

    /* The caller moves before the call returns, both ways. */
    int last = ncpus - 1;
    CHECKN("pin main to the last cpu", pin_self(last));
    EXPECT("main now on the last cpu", sched_getcpu() == last && stat_cpu() == last);
    CHECKN("pin main to cpu 0", pin_self(0));
    EXPECT("main now on cpu 0", sched_getcpu() == 0 && stat_cpu() == 0);

    cpu_set_t got;
    CPU_ZERO(&got);
    CHECKN("getaffinity", sched_getaffinity(0, sizeof got, &got) < 0 ? -1 : 0);
    EXPECT("mask is cpu 0 alone", CPU_COUNT(&got) == 1 && CPU_ISSET(0, &got));
    cpu_set_t none;
    CPU_ZERO(&none);
    CPU_SET(MAX_CPUS + 100, &none);
    EXPECT_ERR("mask without an online cpu", sched_setaffinity(0, sizeof none, &none), EINVAL);
    return FINISH();
}
