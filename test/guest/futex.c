/*
 * futex.c - every futex operation glibc and MediaServer use, with the counts Linux returns:
 * WAIT (EAGAIN, relative timeout), WAIT_BITSET (absolute timeouts on CLOCK_MONOTONIC and
 * CLOCK_REALTIME, bitset selection), WAKE, WAKE_BITSET, REQUEUE and CMP_REQUEUE (woken plus
 * requeued counts, EAGAIN on a changed word), WAKE_OP, EINTR from a handler without SA_RESTART,
 * a shared futex between two processes, and the error cases (EINVAL, EFAULT, ENOSYS).
 * A waiter is known to be asleep when /proc/self/task/TID/stat says S: nothing else in a
 * waiter sleeps, so the counts are the same on every run.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* <linux/futex.h>'s values: musl-gcc does not see the kernel headers. */
enum {
    FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
    FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256,
    FUTEX_OP_SET = 0, FUTEX_OP_ADD = 1, FUTEX_OP_CMP_EQ = 0, FUTEX_OP_CMP_GT = 4,
};
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP(op, oparg, cmp, cmparg) ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

static long futex(uint32_t *uaddr, int op, uint32_t val, const void *timeout_or_val2, uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec in_ms(clockid_t clock, int ms)
{
    int64_t t = now_ns(clock) + ms * 1000000LL;
    return (struct timespec){ .tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL };
}

/* Waits until thread tid of pid sleeps (state S in its stat line). */
static void await_sleeping(pid_t pid, pid_t tid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
    for (;;) {
        size_t len;
        char *s = slurp(path, &len);
        char *close = s ? strrchr(s, ')') : NULL;
        int sleeping = close && close[2] == 'S';
        free(s);
        if (sleeping) return;
        usleep(1000);
    }
}

struct waiter {
    pthread_t thread;
    pid_t tid;
    uint32_t *word, expected;
    int op;
    uint32_t bitset;
    long result;
    int err;
    volatile int started;
};

static void *wait_body(void *arg)
{
    struct waiter *w = arg;
    w->tid = gettid();
    __atomic_store_n(&w->started, 1, __ATOMIC_SEQ_CST);
    w->result = futex(w->word, w->op, w->expected, NULL, NULL, w->bitset);
    w->err = w->result < 0 ? errno : 0;
    return 0;
}

static void start_waiter(struct waiter *w, uint32_t *word, int op, uint32_t bitset)
{
    *w = (struct waiter){ .word = word, .expected = *word, .op = op, .bitset = bitset };
    pthread_create(&w->thread, NULL, wait_body, w);
    while (!__atomic_load_n(&w->started, __ATOMIC_SEQ_CST)) usleep(100);
    await_sleeping(getpid(), w->tid);
}

static void report(const char *name, struct waiter *w)
{
    pthread_join(w->thread, NULL);
    printf("%s: %ld%s%s\n", name, w->result, w->err ? " " : "", w->err ? errno_name(w->err) : "");
}

static void on_usr1(int sig) { (void)sig; }

int main(void)
{
    static uint32_t f1, f2;
    const int P = FUTEX_PRIVATE_FLAG;

    /* Value checks, timeouts and clocks. */
    f1 = 1;
    EXPECT_ERR("WAIT on a changed word", futex(&f1, FUTEX_WAIT | P, 0, NULL, NULL, 0), EAGAIN);
    struct timespec rel = { 0, 20 * 1000000 };
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    EXPECT_ERR("WAIT 20 ms", futex(&f1, FUTEX_WAIT | P, 1, &rel, NULL, 0), ETIMEDOUT);
    EXPECT("WAIT slept at least 20 ms", now_ns(CLOCK_MONOTONIC) - t0 >= 20000000);
    struct timespec mono = in_ms(CLOCK_MONOTONIC, 20);
    EXPECT_ERR("WAIT_BITSET until a CLOCK_MONOTONIC deadline", futex(&f1, FUTEX_WAIT_BITSET | P, 1, &mono, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    EXPECT("it passed the monotonic deadline", now_ns(CLOCK_MONOTONIC) >= mono.tv_sec * 1000000000LL + mono.tv_nsec);
    struct timespec real = in_ms(CLOCK_REALTIME, 20);
    EXPECT_ERR("WAIT_BITSET until a CLOCK_REALTIME deadline", futex(&f1, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME | P, 1, &real, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    EXPECT("it passed the realtime deadline", now_ns(CLOCK_REALTIME) >= real.tv_sec * 1000000000LL + real.tv_nsec);
    struct timespec past = { 1, 0 };
    EXPECT_ERR("WAIT_BITSET with a deadline long past", futex(&f1, FUTEX_WAIT_BITSET | P, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    struct timespec bad = { 0, 1000000000 };
    EXPECT_ERR("WAIT with tv_nsec of 1e9", futex(&f1, FUTEX_WAIT | P, 1, &bad, NULL, 0), EINVAL);
    EXPECT_ERR("WAIT_BITSET with bitset 0", futex(&f1, FUTEX_WAIT_BITSET | P, 1, NULL, NULL, 0), EINVAL);
    EXPECT_ERR("WAKE_BITSET with bitset 0", futex(&f1, FUTEX_WAKE_BITSET | P, 1, NULL, NULL, 0), EINVAL);
    EXPECT_ERR("WAKE with CLOCK_REALTIME", futex(&f1, FUTEX_WAKE | FUTEX_CLOCK_REALTIME | P, 1, NULL, NULL, 0), ENOSYS);
    EXPECT_ERR("an unknown operation", futex(&f1, 99 | P, 1, NULL, NULL, 0), ENOSYS);
    EXPECT_ERR("WAIT on an unaligned word", futex((uint32_t *)((char *)&f1 + 1), FUTEX_WAIT | P, 1, NULL, NULL, 0), EINVAL);
    EXPECT_ERR("WAIT on NULL", futex(NULL, FUTEX_WAIT | P, 1, NULL, NULL, 0), EFAULT);
    CHECKV("WAKE with no waiter", futex(&f1, FUTEX_WAKE | P, 1, NULL, NULL, 0));

    /* WAKE counts, private and not. */
    f1 = 0;
    struct waiter w[3];
    for (int i = 0; i < 3; i++) start_waiter(&w[i], &f1, FUTEX_WAIT | (i == 2 ? 0 : P), 0);
    CHECKV("WAKE 1 of 3", futex(&f1, FUTEX_WAKE | P, 1, NULL, NULL, 0));
    CHECKV("a private WAKE of 5 finds only the private waiter left", futex(&f1, FUTEX_WAKE | P, 5, NULL, NULL, 0));
    CHECKV("a shared WAKE finds the shared waiter", futex(&f1, FUTEX_WAKE, 5, NULL, NULL, 0));
    for (int i = 0; i < 3; i++) report("a woken waiter returns", &w[i]);

    /* WAKE_BITSET wakes only waiters whose bitset intersects. */
    for (int i = 0; i < 3; i++) start_waiter(&w[i], &f1, FUTEX_WAIT_BITSET | P, 1u << i);
    CHECKV("WAKE_BITSET 0x2", futex(&f1, FUTEX_WAKE_BITSET | P, 10, NULL, NULL, 2));
    report("the bitset 0x2 waiter", &w[1]);
    CHECKV("WAKE_BITSET 0x5", futex(&f1, FUTEX_WAKE_BITSET | P, 10, NULL, NULL, 5));
    report("the bitset 0x1 waiter", &w[0]);
    report("the bitset 0x4 waiter", &w[2]);

    /* REQUEUE and CMP_REQUEUE: woken plus requeued. */
    for (int i = 0; i < 3; i++) start_waiter(&w[i], &f1, FUTEX_WAIT | P, 0);
    CHECKV("REQUEUE wake 1, move 1", futex(&f1, FUTEX_REQUEUE | P, 1, (void *)1L, &f2, 0));
    CHECKV("WAKE on the target finds the moved one", futex(&f2, FUTEX_WAKE | P, 10, NULL, NULL, 0));
    EXPECT_ERR("CMP_REQUEUE with a changed word", futex(&f1, FUTEX_CMP_REQUEUE | P, 0, (void *)10L, &f2, 7), EAGAIN);
    CHECKV("CMP_REQUEUE wake 0, move all", futex(&f1, FUTEX_CMP_REQUEUE | P, 0, (void *)10L, &f2, 0));
    CHECKV("WAKE on the source after the move", futex(&f1, FUTEX_WAKE | P, 10, NULL, NULL, 0));
    CHECKV("WAKE on the target", futex(&f2, FUTEX_WAKE | P, 10, NULL, NULL, 0));
    for (int i = 0; i < 3; i++) report("a requeued waiter returns", &w[i]);
    EXPECT_ERR("CMP_REQUEUE with a negative count", futex(&f1, FUTEX_CMP_REQUEUE | P, 0, (void *)-1L, &f2, 0), EINVAL);

    /* WAKE_OP: wake on f1, add 1 to f2, and wake on f2 too when its old value was > 0. */
    f2 = 1;
    start_waiter(&w[0], &f1, FUTEX_WAIT | P, 0);
    start_waiter(&w[1], &f2, FUTEX_WAIT | P, 0);
    CHECKV("WAKE_OP add 1, wake if old > 0", futex(&f1, FUTEX_WAKE_OP | P, 1, (void *)1L, &f2, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0)));
    printf("f2 after WAKE_OP: %u\n", f2);
    report("the f1 waiter", &w[0]);
    CHECKV("WAKE_OP set 5, wake if old == 9 (no)", futex(&f1, FUTEX_WAKE_OP | P, 1, (void *)1L, &f2, FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 9)));
    printf("f2 after the second WAKE_OP: %u\n", f2);
    CHECKV("WAKE on f2: the first WAKE_OP woke its waiter already", futex(&f2, FUTEX_WAKE | P, 1, NULL, NULL, 0));
    report("the f2 waiter", &w[1]);

    /* A handler without SA_RESTART interrupts a wait with EINTR. */
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, NULL);
    f1 = 0;
    start_waiter(&w[0], &f1, FUTEX_WAIT | P, 0);
    syscall(SYS_tgkill, getpid(), w[0].tid, SIGUSR1);
    report("a signalled waiter", &w[0]);

    /* A shared futex in a MAP_SHARED page wakes a waiter in another process. */
    uint32_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    *shared = 0;
    pid_t child = fork();
    if (child == 0) {
        long r = futex(shared, FUTEX_WAIT, 0, NULL, NULL, 0);
        _exit(r == 0 && *shared == 1 ? 0 : 1);
    }
    await_sleeping(child, child);
    *shared = 1;
    CHECKV("WAKE across processes", futex(shared, FUTEX_WAKE, 1, NULL, NULL, 0));
    int status;
    waitpid(child, &status, 0);
    printf("the other process woke: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
    return FINISH();
}
