// Futex wake-to-run latency across CPUs, one way: the main thread (on CPU 0) waits until its
// partner (on CPU 1) has been blocked in FUTEX_WAIT for a while, reads the clock and wakes it;
// the partner reads the clock as soon as its wait returns. Prints the median over the rounds,
// in microseconds (the partner's CPU is idle when the wake comes, as in a server's poller).
#include "pin.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int word, ready;
static long rounds;
static struct timespec woken_at;
static double *latency;

static double us_between(const struct timespec *a, const struct timespec *b) {
  return (b->tv_sec - a->tv_sec) * 1e6 + (b->tv_nsec - a->tv_nsec) / 1e3;
}
static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void *partner(void *arg) {
  (void)arg;
  pin_to(1);
  for (long i = 1; i <= rounds; i++) {
    __atomic_store_n(&ready, (int)i, __ATOMIC_RELEASE);
    while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != i) syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, (int)(i - 1), NULL, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &woken_at);
    __atomic_store_n(&ready, -(int)i, __ATOMIC_RELEASE);
  }
  return NULL;
}

int main(int argc, char **argv) {
  rounds = argc > 1 ? atol(argv[1]) : 2000;
  latency = calloc(rounds, sizeof *latency);
  pin_to(0);
  pthread_t th;
  pthread_create(&th, NULL, partner, NULL);
  for (long i = 1; i <= rounds; i++) {
    while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != i) sched_yield();
    usleep(300); // the partner is in FUTEX_WAIT by now, and its CPU idle
    struct timespec woke;
    clock_gettime(CLOCK_MONOTONIC, &woke);
    __atomic_store_n(&word, (int)i, __ATOMIC_RELEASE);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) == i) sched_yield(); // -i, or already i + 1
    latency[i - 1] = us_between(&woke, &woken_at);
  }
  pthread_join(th, NULL);
  qsort(latency, rounds, sizeof *latency, by_value);
  printf("%.2f us p50 (p90 %.2f us)\n", latency[rounds / 2], latency[rounds * 9 / 10]);
  return 0;
}
