// Threads of one process: argv[1] threads share argv[2] loop iterations equally; the main
// thread joins them all. The counterpart of compute_procs within one address space.
#include "compute.h"
#include <pthread.h>
#include <stdlib.h>

static unsigned long share;

static void *worker(void *arg) {
  compute(share);
  return arg;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000000UL;
  share = total / n;
  pthread_t th[64];
  if (n < 1 || n > 64) { fprintf(stderr, "1 to 64 threads\n"); return 2; }
  struct timespec a;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    if (pthread_create(&th[i], NULL, worker, NULL)) { fprintf(stderr, "pthread_create failed\n"); return 1; }
  }
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
  printf("%.1f ms\n", elapsed_ms(&a));
  return 0;
}
