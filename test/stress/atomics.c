/*
 * atomics.c - exactness of atomic read-modify-write instructions across threads: lock xadd
 * (__atomic_fetch_add), a lock cmpxchg spinlock, an xchg spinlock, and a pthread mutex, each
 * guarding or counting 4 x 100000 increments. Every count must come out exact. With the
 * argument "pin", thread i first pins itself to CPU i modulo the online CPUs, so that the
 * threads contend from different vCPUs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 100000

static long xadd_count, cmpxchg_count, xchg_count, mutex_count;
static int cmpxchg_lock, xchg_lock;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

static int pin;

static void *worker(void *arg)
{
    if (pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((int)(long)arg % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
    }
    for (int i = 0; i < ROUNDS; i++) {
        __atomic_fetch_add(&xadd_count, 1, __ATOMIC_SEQ_CST);
        int expected = 0;
        while (!__atomic_compare_exchange_n(&cmpxchg_lock, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            expected = 0;
        cmpxchg_count++;
        __atomic_store_n(&cmpxchg_lock, 0, __ATOMIC_RELEASE);
        while (__atomic_exchange_n(&xchg_lock, 1, __ATOMIC_ACQUIRE))
            ;
        xchg_count++;
        __atomic_store_n(&xchg_lock, 0, __ATOMIC_RELEASE);
        pthread_mutex_lock(&mutex);
        mutex_count++;
        pthread_mutex_unlock(&mutex);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pin = argc > 1 && strcmp(argv[1], "pin") == 0;
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    printf("xadd %ld cmpxchg %ld xchg %ld mutex %ld\n", xadd_count, cmpxchg_count, xchg_count, mutex_count);
    return 0;
}
