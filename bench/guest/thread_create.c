// Thread create + join cost.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static void *nothing(void *arg) { return arg; }
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) { pthread_t th; pthread_create(&th, NULL, nothing, NULL); pthread_join(th, NULL); }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.2f us/thread\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1e3);
  return 0;
}
