/*
 * atomics.c - exactness of atomic read-modify-write instructions across threads: lock xadd
 * (__atomic_fetch_add), a lock cmpxchg spinlock, an xchg spinlock, and a pthread mutex, each
 * guarding or counting 4 x 100000 increments. Every count must come out exact.
 */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 100000

static long xadd_count, cmpxchg_count, xchg_count, mutex_count;
static int cmpxchg_lock, xchg_lock;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
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

int main(void)
{
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    printf("xadd %ld cmpxchg %ld xchg %ld mutex %ld\n", xadd_count, cmpxchg_count, xchg_count, mutex_count);
    return 0;
}
