// Futex wake-to-run latency: two threads hand a token back and forth through futexes (with
// argv[2] "pin", the main thread on CPU 0 and its partner on CPU 1).
#include "pin.h"
#include <string.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int word;
static long rounds;

static void wait_for(int value) {
  while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != value) syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, !value, NULL, NULL, 0);
}
static void set_and_wake(int value) {
  __atomic_store_n(&word, value, __ATOMIC_RELEASE);
  syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
static int pinned;

static void *partner(void *arg) {
  (void)arg;
  if (pinned) pin_to(1);
  for (long i = 0; i < rounds; i++) { wait_for(1); set_and_wake(0); }
  return NULL;
}
int main(int argc, char **argv) {
  rounds = argc > 1 ? atol(argv[1]) : 20000;
  pinned = argc > 2 && strcmp(argv[2], "pin") == 0;
  if (pinned) pin_to(0);
  pthread_t th;
  pthread_create(&th, NULL, partner, NULL);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < rounds; i++) { set_and_wake(1); wait_for(0); }
  clock_gettime(CLOCK_MONOTONIC, &b);
  pthread_join(th, NULL);
  printf("%.2f us/round trip\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds / 1e3);
  return 0;
}
