/*
 * threads.c - POSIX threads on top of clone/clone3, futex, set_robust_list,
 * arch_prctl/TLS, prctl(PR_SET_NAME) and /proc/self/task/<tid>/comm:
 * pthread_create/join (return and pthread_exit), detached threads, joining a
 * thread that already exited, pthread_once, __thread / _Thread_local, mutex
 * types (normal, recursive, errorcheck: EDEADLK / EPERM), trylock EBUSY,
 * timedlock ETIMEDOUT, robust mutexes (EOWNERDEAD, pthread_mutex_consistent,
 * ENOTRECOVERABLE),
 * condition variables (signal / broadcast with predicate loops, timedwait
 * ETIMEDOUT on CLOCK_REALTIME and on a CLOCK_MONOTONIC condattr), rwlocks,
 * barriers, POSIX semaphores, __atomic counters, a lock-cmpxchg spinlock,
 * sched_yield, pthread_self/pthread_equal, gettid, thread names.
 *
 * Only results that are independent of scheduling are printed; threads store
 * their observations and the main thread prints them after joining.
 * Built without -pthread: glibc >= 2.34 and musl have pthreads in libc.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define NTHREADS 4
#define ATOMIC_ITERS 20000

/* EOWNERDEAD / ENOTRECOVERABLE are not in check.h's table. */
static const char *rc_name(int rc)
{
    if (rc == EOWNERDEAD)
        return "EOWNERDEAD";
    if (rc == ENOTRECOVERABLE)
        return "ENOTRECOVERABLE";
    return rc == 0 ? "ok" : errno_name(rc);
}

/* For pthread_* calls that return an error number: print it, and count a
 * failure unless it is the expected one (0 for success). */
static int expect_rc(const char *name, int rc, int want)
{
    printf("%s: %s\n", name, rc_name(rc));
    if (rc != want)
        check_failures++;
    return rc;
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int64_t clock_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return ts_ns(&t);
}

static struct timespec deadline_in(clockid_t c, long ms)
{
    struct timespec t;
    clock_gettime(c, &t);
    t.tv_nsec += (ms % 1000) * 1000000L;
    t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) == -1 && errno == EINTR)
        ;
}

static pid_t my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* ------------------------------------------------------------------ */
/* create / join / exit values / self / equal / gettid                */

static pthread_t self_seen[NTHREADS];
static pid_t tid_seen[NTHREADS];

static void exit_deep(long v)
{
    pthread_exit((void *)v);
}

static void *basic_worker(void *arg)
{
    long i = (long)arg;
    self_seen[i] = pthread_self();
    tid_seen[i] = my_tid();
    if (i & 1)
        exit_deep(100 + i); /* via pthread_exit from a nested call */
    return (void *)(100 + i); /* via return */
}

static void test_create_join(void)
{
    printf("-- create/join\n");
    pthread_t th[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        expect_rc("pthread_create", pthread_create(&th[i], NULL, basic_worker, (void *)i), 0);
    for (int i = 0; i < NTHREADS; i++) {
        void *ret = NULL;
        int rc = pthread_join(th[i], &ret);
        printf("join %d: %s value %ld (%s)\n", i, rc_name(rc), (long)ret,
               (i & 1) ? "pthread_exit" : "return");
        if (rc != 0 || (long)ret != 100 + i)
            check_failures++;
    }
    int eq = 1, ne_main = 1;
    for (int i = 0; i < NTHREADS; i++) {
        if (!pthread_equal(self_seen[i], th[i]))
            eq = 0;
        if (pthread_equal(self_seen[i], pthread_self()))
            ne_main = 0;
    }
    EXPECT("pthread_self in thread == pthread_t from create", eq);
    EXPECT("pthread_equal(thread, main) == 0", ne_main);
    EXPECT("pthread_equal(self, self)", pthread_equal(pthread_self(), pthread_self()));

    pid_t pid = getpid();
    EXPECT("main: gettid == getpid", my_tid() == pid);
    int distinct = 1;
    for (int i = 0; i < NTHREADS; i++) {
        if (tid_seen[i] == pid || tid_seen[i] <= 0)
            distinct = 0;
        for (int j = 0; j < i; j++)
            if (tid_seen[i] == tid_seen[j])
                distinct = 0;
    }
    printf("thread tids vs pid and each other: %s\n", distinct ? "distinct" : "NOT distinct");
    if (!distinct)
        check_failures++;
    EXPECT("gettid() == SYS_gettid", gettid() == my_tid());
}

/* ------------------------------------------------------------------ */
/* join a thread that has already exited                              */

static sem_t early_sem;
static volatile pid_t early_tid;

static void *early_worker(void *arg)
{
    (void)arg;
    early_tid = my_tid();
    sem_post(&early_sem);
    return (void *)77;
}

static void test_join_exited(void)
{
    printf("-- join after exit\n");
    pthread_t th;
    sem_init(&early_sem, 0, 0);
    expect_rc("pthread_create", pthread_create(&th, NULL, early_worker, NULL), 0);
    while (sem_wait(&early_sem) == -1 && errno == EINTR)
        ;
    /* Wait until the kernel no longer knows the thread (tgkill signal 0). */
    long r = 0;
    int e = 0;
    for (int i = 0; i < 2000; i++) {
        r = syscall(SYS_tgkill, getpid(), early_tid, 0);
        e = errno;
        if (r == -1)
            break;
        sleep_ms(1);
    }
    printf("tgkill(exited thread, 0): %s\n", r == -1 ? errno_name(e) : "still alive");
    if (!(r == -1 && e == ESRCH))
        check_failures++;
    void *ret = NULL;
    int rc = pthread_join(th, &ret);
    printf("join exited thread: %s value %ld\n", rc_name(rc), (long)ret);
    if (rc != 0 || (long)ret != 77)
        check_failures++;
    sem_destroy(&early_sem);
}

/* ------------------------------------------------------------------ */
/* detached threads                                                   */

static sem_t detached_done;
static int detached_count;

static void *detached_worker(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&detached_count, 1, __ATOMIC_SEQ_CST);
    sem_post(&detached_done);
    return NULL;
}

static void test_detached(void)
{
    printf("-- detached\n");
    pthread_attr_t attr;
    int ds = -1;
    expect_rc("pthread_attr_init", pthread_attr_init(&attr), 0);
    pthread_attr_getdetachstate(&attr, &ds);
    EXPECT("default detachstate joinable", ds == PTHREAD_CREATE_JOINABLE);
    expect_rc("pthread_attr_setdetachstate", pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
    pthread_attr_getdetachstate(&attr, &ds);
    EXPECT("detachstate detached", ds == PTHREAD_CREATE_DETACHED);
    sem_init(&detached_done, 0, 0);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        pthread_t th;
        if (pthread_create(&th, &attr, detached_worker, NULL) != 0)
            ok = 0;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, detached_worker, NULL) != 0 || pthread_detach(th) != 0)
        ok = 0;
    EXPECT("3 created detached + 1 pthread_detach", ok);
    for (int i = 0; i < 4; i++)
        while (sem_wait(&detached_done) == -1 && errno == EINTR)
            ;
    printf("detached completions: %d\n", __atomic_load_n(&detached_count, __ATOMIC_SEQ_CST));
    pthread_attr_destroy(&attr);
    /* the semaphore stays alive: a detached thread may still be inside sem_post */
}

/* ------------------------------------------------------------------ */
/* pthread_once                                                       */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;
static pthread_barrier_t once_barrier;

static void once_init(void)
{
    once_runs++; /* plain increment: pthread_once must serialise */
    sched_yield();
}

static void *once_worker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&once_barrier);
    pthread_once(&once, once_init);
    return (void *)(long)once_runs;
}

static void test_once(void)
{
    printf("-- pthread_once\n");
    pthread_t th[NTHREADS];
    pthread_barrier_init(&once_barrier, NULL, NTHREADS);
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, once_worker, NULL);
    int seen_one = 1;
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        if ((long)ret != 1)
            seen_one = 0;
    }
    expect_rc("pthread_once (main, again)", pthread_once(&once, once_init), 0);
    printf("once_init runs: %d\n", once_runs);
    EXPECT("every thread saw the initialisation", seen_one);
    pthread_barrier_destroy(&once_barrier);
}

/* ------------------------------------------------------------------ */
/* thread-local storage                                               */

static __thread int tls_init = 7;               /* .tdata */
static __thread long tls_zero;                  /* .tbss */
static _Thread_local char tls_str[16] = "tls"; /* C11 spelling */
static void *tls_addr[NTHREADS];

struct tls_result {
    int init_seen;
    long zero_seen;
    char str_seen[16];
    int final;
};
static struct tls_result tls_res[NTHREADS];
static pthread_barrier_t tls_barrier;

static void *tls_worker(void *arg)
{
    long i = (long)arg;
    struct tls_result *r = &tls_res[i];
    r->init_seen = tls_init;
    r->zero_seen = tls_zero;
    memcpy(r->str_seen, tls_str, sizeof tls_str);
    tls_addr[i] = &tls_init;
    tls_init = (int)(i + 1) * 100;
    snprintf(tls_str, sizeof tls_str, "thread%ld", i);
    /* everyone has written their own copy before anyone reads it back */
    pthread_barrier_wait(&tls_barrier);
    for (int k = 0; k < 1000; k++) {
        tls_init++;
        tls_zero += 2;
    }
    pthread_barrier_wait(&tls_barrier);
    char want[16];
    snprintf(want, sizeof want, "thread%ld", i);
    r->final = tls_init + (tls_zero == 2000 && strcmp(tls_str, want) == 0 ? 0 : 1000000);
    return NULL;
}

static void test_tls(void)
{
    printf("-- thread-local storage\n");
    tls_init = 1;
    tls_zero = -5;
    strcpy(tls_str, "main");
    pthread_t th[NTHREADS];
    pthread_barrier_init(&tls_barrier, NULL, NTHREADS);
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, tls_worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&tls_barrier);
    for (int i = 0; i < NTHREADS; i++)
        printf("thread %d: initial %d %ld \"%s\", final %d\n", i, tls_res[i].init_seen,
               tls_res[i].zero_seen, tls_res[i].str_seen, tls_res[i].final);
    int distinct = 1;
    for (int i = 0; i < NTHREADS; i++) {
        if (tls_addr[i] == (void *)&tls_init)
            distinct = 0;
        for (int j = 0; j < i; j++)
            if (tls_addr[i] == tls_addr[j])
                distinct = 0;
    }
    printf("tls addresses: %s\n", distinct ? "distinct" : "NOT distinct");
    if (!distinct)
        check_failures++;
    printf("main tls after threads: %d %ld \"%s\"\n", tls_init, tls_zero, tls_str);
    for (int i = 0; i < NTHREADS; i++)
        if (tls_res[i].init_seen != 7 || tls_res[i].zero_seen != 0 ||
            strcmp(tls_res[i].str_seen, "tls") != 0 || tls_res[i].final != (i + 1) * 100 + 1000)
            check_failures++;
    if (tls_init != 1 || tls_zero != -5 || strcmp(tls_str, "main") != 0)
        check_failures++;
}

/* ------------------------------------------------------------------ */
/* mutex types                                                        */

enum { OP_LOCK, OP_TRYLOCK, OP_UNLOCK, OP_TIMEDLOCK };
struct mutex_op {
    pthread_mutex_t *m;
    int op;
    int rc;
};

static void *mutex_op_worker(void *arg)
{
    struct mutex_op *o = arg;
    switch (o->op) {
    case OP_LOCK: o->rc = pthread_mutex_lock(o->m); break;
    case OP_TRYLOCK: o->rc = pthread_mutex_trylock(o->m); break;
    case OP_UNLOCK: o->rc = pthread_mutex_unlock(o->m); break;
    case OP_TIMEDLOCK: {
        struct timespec dl = deadline_in(CLOCK_REALTIME, 30);
        o->rc = pthread_mutex_timedlock(o->m, &dl);
        break;
    }
    }
    return NULL;
}

/* Run one mutex operation in a separate (short-lived) thread. */
static int other_thread(pthread_mutex_t *m, int op)
{
    struct mutex_op o = { m, op, -1 };
    pthread_t th;
    if (pthread_create(&th, NULL, mutex_op_worker, &o) != 0)
        return -1;
    pthread_join(th, NULL);
    return o.rc;
}

static void test_mutex_types(void)
{
    printf("-- mutex types\n");
    pthread_mutexattr_t a;
    pthread_mutex_t m;
    int type = -1;

    /* normal (default) */
    pthread_mutexattr_init(&a);
    pthread_mutexattr_gettype(&a, &type);
    EXPECT("default type is PTHREAD_MUTEX_DEFAULT", type == PTHREAD_MUTEX_DEFAULT);
    pthread_mutex_init(&m, &a);
    expect_rc("normal lock", pthread_mutex_lock(&m), 0);
    expect_rc("normal trylock (self holds)", pthread_mutex_trylock(&m), EBUSY);
    expect_rc("normal trylock (other thread)", other_thread(&m, OP_TRYLOCK), EBUSY);
    expect_rc("normal timedlock (other thread)", other_thread(&m, OP_TIMEDLOCK), ETIMEDOUT);
    expect_rc("normal unlock", pthread_mutex_unlock(&m), 0);
    expect_rc("normal trylock (free)", pthread_mutex_trylock(&m), 0);
    expect_rc("normal unlock", pthread_mutex_unlock(&m), 0);
    expect_rc("normal lock (other thread, then it exits)", other_thread(&m, OP_LOCK), 0);
    expect_rc("normal trylock (held by exited thread)", pthread_mutex_trylock(&m), EBUSY);
    pthread_mutex_destroy(&m);
    pthread_mutexattr_destroy(&a);

    /* static initialiser */
    static pthread_mutex_t sm = PTHREAD_MUTEX_INITIALIZER;
    expect_rc("static mutex lock", pthread_mutex_lock(&sm), 0);
    expect_rc("static mutex unlock", pthread_mutex_unlock(&sm), 0);

    /* errorcheck */
    pthread_mutexattr_init(&a);
    expect_rc("settype ERRORCHECK", pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), 0);
    pthread_mutexattr_gettype(&a, &type);
    EXPECT("gettype ERRORCHECK", type == PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &a);
    expect_rc("errorcheck lock", pthread_mutex_lock(&m), 0);
    expect_rc("errorcheck relock", pthread_mutex_lock(&m), EDEADLK);
    expect_rc("errorcheck trylock (self holds)", pthread_mutex_trylock(&m), EBUSY);
    expect_rc("errorcheck unlock by non-owner", other_thread(&m, OP_UNLOCK), EPERM);
    expect_rc("errorcheck unlock", pthread_mutex_unlock(&m), 0);
    expect_rc("errorcheck unlock (not locked)", pthread_mutex_unlock(&m), EPERM);
    pthread_mutex_destroy(&m);
    pthread_mutexattr_destroy(&a);

    /* recursive */
    pthread_mutexattr_init(&a);
    expect_rc("settype RECURSIVE", pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE), 0);
    pthread_mutex_init(&m, &a);
    expect_rc("recursive lock 1", pthread_mutex_lock(&m), 0);
    expect_rc("recursive lock 2", pthread_mutex_lock(&m), 0);
    expect_rc("recursive trylock 3", pthread_mutex_trylock(&m), 0);
    expect_rc("recursive trylock (other thread)", other_thread(&m, OP_TRYLOCK), EBUSY);
    expect_rc("recursive unlock by non-owner", other_thread(&m, OP_UNLOCK), EPERM);
    expect_rc("recursive unlock 3", pthread_mutex_unlock(&m), 0);
    expect_rc("recursive unlock 2", pthread_mutex_unlock(&m), 0);
    expect_rc("recursive trylock (other thread, still held)", other_thread(&m, OP_TRYLOCK), EBUSY);
    expect_rc("recursive unlock 1", pthread_mutex_unlock(&m), 0);
    expect_rc("recursive unlock (not locked)", pthread_mutex_unlock(&m), EPERM);
    pthread_mutex_destroy(&m);
    pthread_mutexattr_destroy(&a);
}

/* ------------------------------------------------------------------ */
/* contended mutex protecting a plain counter                         */

static pthread_mutex_t count_mutex = PTHREAD_MUTEX_INITIALIZER;
static long mutex_counter;

static void *mutex_count_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ATOMIC_ITERS / 4; i++) {
        pthread_mutex_lock(&count_mutex);
        mutex_counter++;
        pthread_mutex_unlock(&count_mutex);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* robust mutex                                                       */

static pthread_mutex_t robust_m;
static sem_t robust_locked;

static void *robust_die_worker(void *arg)
{
    int *rc = arg;
    *rc = pthread_mutex_lock(&robust_m);
    return NULL; /* exits holding the mutex */
}

static void *robust_die_later_worker(void *arg)
{
    int *rc = arg;
    *rc = pthread_mutex_lock(&robust_m);
    sem_post(&robust_locked);
    sleep_ms(30); /* main is (very likely) blocked in pthread_mutex_lock now */
    return NULL;
}

static void robust_init(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust_m, &a);
    pthread_mutexattr_destroy(&a);
}

/* A thread locks robust_m and exits without unlocking; wait until it is gone. */
static void robust_owner_dies(void)
{
    int wrc = -1;
    pthread_t th;
    pthread_create(&th, NULL, robust_die_worker, &wrc);
    pthread_join(th, NULL);
    expect_rc("thread locked and exited", wrc, 0);
}

static void test_robust(void)
{
    printf("-- robust mutex\n");
    pthread_mutexattr_t a;
    int robust = -1;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_getrobust(&a, &robust);
    EXPECT("default is PTHREAD_MUTEX_STALLED", robust == PTHREAD_MUTEX_STALLED);
    expect_rc("setrobust ROBUST", pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    pthread_mutexattr_getrobust(&a, &robust);
    EXPECT("getrobust ROBUST", robust == PTHREAD_MUTEX_ROBUST);
    expect_rc("robust mutex init", pthread_mutex_init(&robust_m, &a), 0);
    pthread_mutexattr_destroy(&a);

    expect_rc("robust lock", pthread_mutex_lock(&robust_m), 0);
    expect_rc("robust unlock", pthread_mutex_unlock(&robust_m), 0);

    /* 1: owner exits; trylock first, which cannot hang if the owner-died
     * marking (kernel robust list for glibc, pthread_exit for musl) is missing */
    robust_owner_dies();
    int rc = expect_rc("trylock after owner died", pthread_mutex_trylock(&robust_m), EOWNERDEAD);
    if (rc != EOWNERDEAD && rc != 0) {
        printf("robust mutex: owner death not detected, skipping the rest\n");
        return;
    }
    expect_rc("pthread_mutex_consistent", pthread_mutex_consistent(&robust_m), 0);
    expect_rc("unlock", pthread_mutex_unlock(&robust_m), 0);
    expect_rc("lock again", pthread_mutex_lock(&robust_m), 0);
    expect_rc("unlock", pthread_mutex_unlock(&robust_m), 0);

    /* 2: owner exits; pthread_mutex_lock */
    robust_owner_dies();
    expect_rc("lock after owner died", pthread_mutex_lock(&robust_m), EOWNERDEAD);
    expect_rc("pthread_mutex_consistent", pthread_mutex_consistent(&robust_m), 0);
    expect_rc("unlock", pthread_mutex_unlock(&robust_m), 0);

    /* 3: owner exits while main is blocked in pthread_mutex_lock */
    sem_init(&robust_locked, 0, 0);
    int wrc = -1;
    pthread_t th;
    pthread_create(&th, NULL, robust_die_later_worker, &wrc);
    while (sem_wait(&robust_locked) == -1 && errno == EINTR)
        ;
    expect_rc("blocked lock, owner exits", pthread_mutex_lock(&robust_m), EOWNERDEAD);
    pthread_join(th, NULL);
    expect_rc("thread had locked", wrc, 0);
    expect_rc("pthread_mutex_consistent", pthread_mutex_consistent(&robust_m), 0);
    expect_rc("unlock", pthread_mutex_unlock(&robust_m), 0);
    expect_rc("trylock", pthread_mutex_trylock(&robust_m), 0);
    expect_rc("unlock", pthread_mutex_unlock(&robust_m), 0);
    sem_destroy(&robust_locked);

    /* 4: unlock without pthread_mutex_consistent: the mutex is unusable */
    robust_owner_dies();
    expect_rc("lock after owner died", pthread_mutex_lock(&robust_m), EOWNERDEAD);
    expect_rc("unlock without consistent", pthread_mutex_unlock(&robust_m), 0);
    expect_rc("lock (not recoverable)", pthread_mutex_lock(&robust_m), ENOTRECOVERABLE);
    expect_rc("trylock (not recoverable)", pthread_mutex_trylock(&robust_m), ENOTRECOVERABLE);
    pthread_mutex_destroy(&robust_m);
    robust_init();
    expect_rc("re-initialised: lock", pthread_mutex_lock(&robust_m), 0);
    expect_rc("unlock", pthread_mutex_unlock(&robust_m), 0);
    pthread_mutex_destroy(&robust_m);
}

/* ------------------------------------------------------------------ */
/* condition variables                                                */

#define QCAP 4
#define ITEMS_PER_PRODUCER 500
static pthread_mutex_t q_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;
static int q_buf[QCAP], q_head, q_len;

static void q_put(int v)
{
    pthread_mutex_lock(&q_mutex);
    while (q_len == QCAP)
        pthread_cond_wait(&q_not_full, &q_mutex);
    q_buf[(q_head + q_len) % QCAP] = v;
    q_len++;
    pthread_cond_signal(&q_not_empty);
    pthread_mutex_unlock(&q_mutex);
}

static int q_get(void)
{
    pthread_mutex_lock(&q_mutex);
    while (q_len == 0)
        pthread_cond_wait(&q_not_empty, &q_mutex);
    int v = q_buf[q_head];
    q_head = (q_head + 1) % QCAP;
    q_len--;
    pthread_cond_signal(&q_not_full);
    pthread_mutex_unlock(&q_mutex);
    return v;
}

static void *producer(void *arg)
{
    long base = (long)arg;
    for (int i = 1; i <= ITEMS_PER_PRODUCER; i++)
        q_put((int)base + i);
    return NULL;
}

struct consumer_result {
    long sum;
    long count;
};

static void *consumer(void *arg)
{
    struct consumer_result *r = arg;
    for (;;) {
        int v = q_get();
        if (v < 0)
            break;
        r->sum += v;
        r->count++;
    }
    return NULL;
}

static pthread_mutex_t go_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int go_flag, ready_count, woken_count;

static void *broadcast_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&go_mutex);
    ready_count++;
    pthread_cond_signal(&ready_cond);
    while (!go_flag)
        pthread_cond_wait(&go_cond, &go_mutex);
    woken_count++;
    pthread_mutex_unlock(&go_mutex);
    return NULL;
}

static void test_condvars(void)
{
    printf("-- condition variables\n");
    /* signal: bounded buffer, 2 producers, 2 consumers */
    pthread_t p[2], c[2];
    struct consumer_result cr[2];
    memset(cr, 0, sizeof cr);
    pthread_create(&c[0], NULL, consumer, &cr[0]);
    pthread_create(&c[1], NULL, consumer, &cr[1]);
    pthread_create(&p[0], NULL, producer, (void *)0L);
    pthread_create(&p[1], NULL, producer, (void *)10000L);
    pthread_join(p[0], NULL);
    pthread_join(p[1], NULL);
    q_put(-1);
    q_put(-1);
    pthread_join(c[0], NULL);
    pthread_join(c[1], NULL);
    long want = 0;
    for (int i = 1; i <= ITEMS_PER_PRODUCER; i++)
        want += i + (10000 + i);
    printf("queue: consumed %ld items, sum %ld\n", cr[0].count + cr[1].count, cr[0].sum + cr[1].sum);
    EXPECT("queue sum exact", cr[0].sum + cr[1].sum == want && cr[0].count + cr[1].count == 2 * ITEMS_PER_PRODUCER);

    /* broadcast: 4 waiters, one broadcast */
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, broadcast_waiter, NULL);
    pthread_mutex_lock(&go_mutex);
    while (ready_count < NTHREADS)
        pthread_cond_wait(&ready_cond, &go_mutex);
    go_flag = 1;
    expect_rc("pthread_cond_broadcast", pthread_cond_broadcast(&go_cond), 0);
    pthread_mutex_unlock(&go_mutex);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    printf("broadcast woke: %d\n", woken_count);
    if (woken_count != NTHREADS)
        check_failures++;
    expect_rc("signal with no waiters", pthread_cond_signal(&go_cond), 0);
    expect_rc("broadcast with no waiters", pthread_cond_broadcast(&go_cond), 0);

    /* timedwait: CLOCK_REALTIME (default) */
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    struct timespec dl = deadline_in(CLOCK_REALTIME, 50);
    int rc;
    do
        rc = pthread_cond_timedwait(&cv, &m, &dl);
    while (rc == 0); /* spurious wakeup: nobody signals */
    expect_rc("cond_timedwait realtime 50ms", rc, ETIMEDOUT);
    EXPECT("realtime clock >= deadline", clock_ns(CLOCK_REALTIME) >= ts_ns(&dl));
    struct timespec past = { 1, 0 };
    expect_rc("cond_timedwait past deadline", pthread_cond_timedwait(&cv, &m, &past), ETIMEDOUT);
    pthread_mutex_unlock(&m);
    pthread_cond_destroy(&cv);

    /* timedwait: CLOCK_MONOTONIC via condattr */
    pthread_condattr_t ca;
    clockid_t clk = -1;
    pthread_condattr_init(&ca);
    pthread_condattr_getclock(&ca, &clk);
    EXPECT("condattr default clock CLOCK_REALTIME", clk == CLOCK_REALTIME);
    expect_rc("condattr_setclock MONOTONIC", pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
    pthread_condattr_getclock(&ca, &clk);
    EXPECT("condattr_getclock MONOTONIC", clk == CLOCK_MONOTONIC);
    expect_rc("pthread_cond_init (monotonic)", pthread_cond_init(&cv, &ca), 0);
    pthread_condattr_destroy(&ca);
    pthread_mutex_lock(&m);
    int64_t t0 = clock_ns(CLOCK_MONOTONIC);
    dl = deadline_in(CLOCK_MONOTONIC, 50);
    do
        rc = pthread_cond_timedwait(&cv, &m, &dl);
    while (rc == 0);
    int64_t t1 = clock_ns(CLOCK_MONOTONIC);
    expect_rc("cond_timedwait monotonic 50ms", rc, ETIMEDOUT);
    EXPECT("monotonic clock >= deadline", t1 >= ts_ns(&dl));
    EXPECT("waited >= 50ms", t1 - t0 >= 50000000LL);
    pthread_mutex_unlock(&m);
    pthread_cond_destroy(&cv);
}

/* ------------------------------------------------------------------ */
/* rwlock                                                             */

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t rw_held, rw_release;

struct rw_probe {
    int tryrd, trywr;
};

static void *rw_reader_holder(void *arg)
{
    (void)arg;
    pthread_rwlock_rdlock(&rw);
    sem_post(&rw_held);
    while (sem_wait(&rw_release) == -1 && errno == EINTR)
        ;
    pthread_rwlock_unlock(&rw);
    return NULL;
}

static void *rw_prober(void *arg)
{
    struct rw_probe *p = arg;
    p->tryrd = pthread_rwlock_tryrdlock(&rw);
    if (p->tryrd == 0)
        pthread_rwlock_unlock(&rw);
    p->trywr = pthread_rwlock_trywrlock(&rw);
    if (p->trywr == 0)
        pthread_rwlock_unlock(&rw);
    return NULL;
}

static long rw_a, rw_b, rw_mismatch, rw_reads;

static void *rw_stress(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 2000; i++) {
        if ((i + id) % 4 == 0) {
            pthread_rwlock_wrlock(&rw);
            rw_a++;
            if (i % 16 == 0)
                sched_yield(); /* widen the window between the two writes */
            rw_b++;
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            if (__atomic_load_n(&rw_a, __ATOMIC_RELAXED) != __atomic_load_n(&rw_b, __ATOMIC_RELAXED))
                __atomic_fetch_add(&rw_mismatch, 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(&rw_reads, 1, __ATOMIC_RELAXED);
            pthread_rwlock_unlock(&rw);
        }
    }
    return NULL;
}

static void test_rwlock(void)
{
    printf("-- rwlock\n");
    sem_init(&rw_held, 0, 0);
    sem_init(&rw_release, 0, 0);
    pthread_t th;
    pthread_create(&th, NULL, rw_reader_holder, NULL);
    while (sem_wait(&rw_held) == -1 && errno == EINTR)
        ;
    expect_rc("tryrdlock while another reader holds", pthread_rwlock_tryrdlock(&rw), 0);
    expect_rc("unlock", pthread_rwlock_unlock(&rw), 0);
    expect_rc("rdlock while another reader holds", pthread_rwlock_rdlock(&rw), 0);
    expect_rc("unlock", pthread_rwlock_unlock(&rw), 0);
    expect_rc("trywrlock while reader holds", pthread_rwlock_trywrlock(&rw), EBUSY);
    struct timespec dl = deadline_in(CLOCK_REALTIME, 30);
    expect_rc("timedwrlock while reader holds", pthread_rwlock_timedwrlock(&rw, &dl), ETIMEDOUT);
    sem_post(&rw_release);
    pthread_join(th, NULL);

    expect_rc("wrlock", pthread_rwlock_wrlock(&rw), 0);
    struct rw_probe probe = { -1, -1 };
    pthread_create(&th, NULL, rw_prober, &probe);
    pthread_join(th, NULL);
    expect_rc("tryrdlock (other thread) while writer holds", probe.tryrd, EBUSY);
    expect_rc("trywrlock (other thread) while writer holds", probe.trywr, EBUSY);
    expect_rc("unlock", pthread_rwlock_unlock(&rw), 0);
    probe.tryrd = probe.trywr = -1;
    pthread_create(&th, NULL, rw_prober, &probe);
    pthread_join(th, NULL);
    expect_rc("tryrdlock (other thread) when free", probe.tryrd, 0);
    expect_rc("trywrlock (other thread) when free", probe.trywr, 0);

    pthread_t t4[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t4[i], NULL, rw_stress, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t4[i], NULL);
    printf("rwlock stress: writes %ld/%ld, reads %ld, torn reads %ld\n", rw_a, rw_b, rw_reads, rw_mismatch);
    if (rw_a != 2000 || rw_b != 2000 || rw_reads != 6000 || rw_mismatch != 0)
        check_failures++;
    sem_destroy(&rw_held);
    sem_destroy(&rw_release);
}

/* ------------------------------------------------------------------ */
/* barrier                                                            */

#define BARRIER_ROUNDS 5
static pthread_barrier_t barrier;
static int serial_count[BARRIER_ROUNDS];
static int phase_slot[BARRIER_ROUNDS][NTHREADS];
static int phase_bad;

static void *barrier_worker(void *arg)
{
    long id = (long)arg;
    for (int r = 0; r < BARRIER_ROUNDS; r++) {
        __atomic_store_n(&phase_slot[r][id], r + 1, __ATOMIC_RELAXED);
        int rc = pthread_barrier_wait(&barrier);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_fetch_add(&serial_count[r], 1, __ATOMIC_RELAXED);
        else if (rc != 0)
            __atomic_fetch_add(&phase_bad, 1000, __ATOMIC_RELAXED);
        for (int j = 0; j < NTHREADS; j++)
            if (__atomic_load_n(&phase_slot[r][j], __ATOMIC_RELAXED) != r + 1)
                __atomic_fetch_add(&phase_bad, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_barrier(void)
{
    printf("-- barrier\n");
    expect_rc("barrier_init count 0", pthread_barrier_init(&barrier, NULL, 0), EINVAL);
    expect_rc("barrier_init", pthread_barrier_init(&barrier, NULL, NTHREADS), 0);
    pthread_t th[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, barrier_worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    printf("serial threads per round:");
    int ok = 1;
    for (int r = 0; r < BARRIER_ROUNDS; r++) {
        printf(" %d", serial_count[r]);
        if (serial_count[r] != 1)
            ok = 0;
    }
    printf("\n");
    printf("barrier phase errors: %d\n", phase_bad);
    if (!ok || phase_bad)
        check_failures++;
    expect_rc("barrier_destroy", pthread_barrier_destroy(&barrier), 0);
    pthread_barrier_t b1;
    pthread_barrier_init(&b1, NULL, 1);
    int rc = pthread_barrier_wait(&b1);
    EXPECT("count-1 barrier returns SERIAL_THREAD", rc == PTHREAD_BARRIER_SERIAL_THREAD);
    pthread_barrier_destroy(&b1);
}

/* ------------------------------------------------------------------ */
/* semaphores                                                         */

static sem_t sem_a;

static void *sem_poster(void *arg)
{
    (void)arg;
    sleep_ms(20);
    sem_post(&sem_a);
    return NULL;
}

static void test_semaphores(void)
{
    printf("-- semaphores\n");
    int v = -1;
    CHECK(sem_init(&sem_a, 0, 0));
    EXPECT_ERR("sem_trywait (0)", sem_trywait(&sem_a), EAGAIN);
    CHECK(sem_post(&sem_a));
    CHECK(sem_post(&sem_a));
    sem_getvalue(&sem_a, &v);
    printf("sem_getvalue: %d\n", v);
    CHECK(sem_wait(&sem_a));
    CHECK(sem_trywait(&sem_a));
    EXPECT_ERR("sem_trywait (0 again)", sem_trywait(&sem_a), EAGAIN);
    struct timespec dl = deadline_in(CLOCK_REALTIME, 50);
    EXPECT_ERR("sem_timedwait 50ms", sem_timedwait(&sem_a, &dl), ETIMEDOUT);
    EXPECT("realtime clock >= deadline", clock_ns(CLOCK_REALTIME) >= ts_ns(&dl));
    CHECK(sem_post(&sem_a));
    dl = deadline_in(CLOCK_REALTIME, 50);
    CHECKN("sem_timedwait (available)", sem_timedwait(&sem_a, &dl));
    pthread_t th;
    pthread_create(&th, NULL, sem_poster, NULL);
    CHECKN("sem_wait (posted by thread)", sem_wait(&sem_a));
    pthread_join(th, NULL);
    sem_getvalue(&sem_a, &v);
    printf("sem_getvalue: %d\n", v);
    CHECK(sem_destroy(&sem_a));
}

/* ------------------------------------------------------------------ */
/* atomics, spinlock, contended mutex                                 */

static long atomic_counter;
static int spin_lock_word;
static long spin_counter; /* plain, protected by spin_lock_word */

static void spin_lock(int *l)
{
    int spins = 0;
    for (;;) {
        int expected = 0;
        if (__atomic_compare_exchange_n(l, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        if (++spins % 64 == 0)
            sched_yield(); /* the holder may be descheduled (one CPU) */
        else
            __builtin_ia32_pause();
    }
}

static void spin_unlock(int *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static void *atomic_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ATOMIC_ITERS; i++)
        __atomic_fetch_add(&atomic_counter, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < ATOMIC_ITERS; i++) {
        spin_lock(&spin_lock_word);
        spin_counter++;
        spin_unlock(&spin_lock_word);
    }
    return NULL;
}

static void test_atomics(void)
{
    printf("-- atomics\n");
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, atomic_worker, NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    printf("__atomic_fetch_add counter: %ld\n", atomic_counter);
    printf("cmpxchg spinlock counter: %ld\n", spin_counter);
    if (atomic_counter != NTHREADS * ATOMIC_ITERS || spin_counter != NTHREADS * ATOMIC_ITERS)
        check_failures++;

    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, mutex_count_worker, NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    printf("mutex counter: %ld\n", mutex_counter);
    if (mutex_counter != NTHREADS * (ATOMIC_ITERS / 4))
        check_failures++;

    /* single-threaded semantics of the builtins */
    long x = 5;
    long old = __atomic_exchange_n(&x, 9, __ATOMIC_SEQ_CST);
    printf("xchg: old %ld new %ld\n", old, x);
    long exp = 4;
    int ok = __atomic_compare_exchange_n(&x, &exp, 100, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    printf("cmpxchg(expect 4): %d, saw %ld, value %ld\n", ok, exp, x);
    ok = __atomic_compare_exchange_n(&x, &exp, 100, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    printf("cmpxchg(expect 9): %d, value %ld\n", ok, x);
    old = __atomic_fetch_sub(&x, 3, __ATOMIC_SEQ_CST);
    printf("fetch_sub 3: old %ld new %ld\n", old, x);
    old = __atomic_fetch_or(&x, 0x100, __ATOMIC_SEQ_CST);
    printf("fetch_or 0x100: old %ld new %ld\n", old, x);
    old = __atomic_fetch_and(&x, 0x1f0, __ATOMIC_SEQ_CST);
    printf("fetch_and 0x1f0: old %ld new %ld\n", old, x);
    old = __atomic_fetch_xor(&x, 0xff, __ATOMIC_SEQ_CST);
    printf("fetch_xor 0xff: old %ld new %ld\n", old, x);
    long nv = __atomic_add_fetch(&x, 1000, __ATOMIC_SEQ_CST);
    printf("add_fetch 1000: %ld\n", nv);
}

/* ------------------------------------------------------------------ */
/* sched_yield, sysconf                                               */

static int pingpong_turn;
#define PINGPONG_ROUNDS 100

static void *pingpong_worker(void *arg)
{
    long me = (long)arg;
    for (int r = 0; r < PINGPONG_ROUNDS; r++) {
        while (__atomic_load_n(&pingpong_turn, __ATOMIC_ACQUIRE) % 2 != me)
            sched_yield();
        __atomic_fetch_add(&pingpong_turn, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void test_yield(void)
{
    printf("-- sched_yield\n");
    int bad = 0;
    for (int i = 0; i < 100; i++)
        if (sched_yield() != 0)
            bad++;
    printf("sched_yield x100 failures: %d\n", bad);
    if (bad)
        check_failures++;
    pthread_t a, b;
    pthread_create(&a, NULL, pingpong_worker, (void *)0L);
    pthread_create(&b, NULL, pingpong_worker, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("ping-pong turns: %d\n", pingpong_turn);
    if (pingpong_turn != 2 * PINGPONG_ROUNDS)
        check_failures++;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    printf("sysconf(_SC_NPROCESSORS_ONLN): %s\n", n >= 1 ? ">= 1" : "< 1");
    if (n < 1)
        check_failures++;
}

/* ------------------------------------------------------------------ */
/* thread names                                                       */

static sem_t name_set, name_done;
struct name_result {
    pid_t tid;
    int set_rc, get_rc, long_rc, small_rc;
    char got[32];
};

static void *name_worker(void *arg)
{
    struct name_result *r = arg;
    r->tid = my_tid();
    r->set_rc = pthread_setname_np(pthread_self(), "worker-A");
    r->get_rc = pthread_getname_np(pthread_self(), r->got, sizeof r->got);
    r->long_rc = pthread_setname_np(pthread_self(), "sixteen-chars-xx");
    char small[8];
    r->small_rc = pthread_getname_np(pthread_self(), small, sizeof small);
    sem_post(&name_set);
    while (sem_wait(&name_done) == -1 && errno == EINTR)
        ;
    return NULL;
}

/* Read /proc/self/task/<tid>/comm into buf (newline stripped); print it unless
 * label is NULL.  Returns 0 or -1. */
static int read_comm(const char *label, pid_t tid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("%s: open -1 %s\n", label ? label : "comm", errno_name(errno));
        check_failures++;
        return -1;
    }
    ssize_t n = read(fd, buf, size - 1);
    int e = errno;
    close(fd);
    if (n < 0) {
        printf("%s: read -1 %s\n", label ? label : "comm", errno_name(e));
        check_failures++;
        return -1;
    }
    buf[n] = 0;
    int nl = n > 0 && buf[n - 1] == '\n';
    if (nl)
        buf[n - 1] = 0;
    if (label)
        printf("%s: \"%s\"%s\n", label, buf, nl ? " + newline" : " (no newline)");
    return 0;
}

static void test_names(const char *argv0)
{
    printf("-- thread names\n");
    char buf[32];
    /* main thread: comm is the executable's name, truncated to 15 bytes */
    char want[16];
    snprintf(want, sizeof want, "%s", base_name(argv0));
    int rc = pthread_getname_np(pthread_self(), buf, sizeof buf);
    expect_rc("getname main", rc, 0);
    EXPECT("main name == basename(argv[0])[:15]", rc == 0 && strcmp(buf, want) == 0);

    sem_init(&name_set, 0, 0);
    sem_init(&name_done, 0, 0);
    struct name_result r;
    memset(&r, 0, sizeof r);
    pthread_t th;
    pthread_create(&th, NULL, name_worker, &r);
    while (sem_wait(&name_set) == -1 && errno == EINTR)
        ;
    expect_rc("setname self (in thread)", r.set_rc, 0);
    expect_rc("getname self (in thread)", r.get_rc, 0);
    printf("  name: \"%s\"\n", r.got);
    expect_rc("setname 16 chars", r.long_rc, ERANGE);
    expect_rc("getname buffer of 8", r.small_rc, ERANGE);

    memset(buf, 0, sizeof buf);
    expect_rc("getname other (from main)", pthread_getname_np(th, buf, sizeof buf), 0);
    printf("  name: \"%s\"\n", buf);
    read_comm("task comm", r.tid, buf, sizeof buf);
    expect_rc("setname other (15 chars)", pthread_setname_np(th, "renamed-by-main"), 0);
    memset(buf, 0, sizeof buf);
    expect_rc("getname other", pthread_getname_np(th, buf, sizeof buf), 0);
    printf("  name: \"%s\"\n", buf);
    read_comm("task comm", r.tid, buf, sizeof buf);
    expect_rc("setname other 16 chars", pthread_setname_np(th, "0123456789abcdef"), ERANGE);
    read_comm("task comm", r.tid, buf, sizeof buf);
    if (read_comm(NULL, getpid(), buf, sizeof buf) == 0)
        EXPECT("main task comm == basename(argv[0])[:15]", strcmp(buf, want) == 0);
    sem_post(&name_done);
    pthread_join(th, NULL);
    sem_destroy(&name_set);
    sem_destroy(&name_done);
}

int main(int argc, char **argv)
{
    (void)argc;
    printf("threads test\n");
    test_create_join();
    test_join_exited();
    test_detached();
    test_once();
    test_tls();
    test_mutex_types();
    test_robust();
    test_condvars();
    test_rwlock();
    test_barrier();
    test_semaphores();
    test_atomics();
    test_yield();
    test_names(argv[0]);
    return FINISH();
}
