// The register-bound loop the scaling cases share, and the elapsed-time report.
#include <stdio.h>
#include <time.h>

static volatile unsigned long compute_sink;

static inline void compute(unsigned long iterations) {
  unsigned long s = 0;
  for (unsigned long k = 0; k < iterations; k++) s += k ^ (s >> 3);
  compute_sink = s;
}

static inline double elapsed_ms(const struct timespec *a) {
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (b.tv_sec - a->tv_sec) * 1e3 + (b.tv_nsec - a->tv_nsec) / 1e6;
}
