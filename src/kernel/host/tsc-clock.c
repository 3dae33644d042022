/*
 * The host's TSC beside its clocks, for the guest clock (main/guest-clock.ts): the TSC read
 * just before and just after CLOCK_MONOTONIC and CLOCK_REALTIME, keeping the closest of a few
 * tries, so that the pair is exact to a few tens of nanoseconds.
 */
#include <stdint.h>
#include <time.h>

static inline uint64_t rdtsc_ordered(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence\n rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

/* out[0] TSC, out[1] CLOCK_MONOTONIC ns, out[2] CLOCK_REALTIME ns, out[3] the TSC window. */
void starling_tsc_clock_pair(uint64_t out[4]) {
  out[3] = UINT64_MAX;
  for (int i = 0; i < 8; i++) {
    struct timespec mono, real;
    uint64_t before = rdtsc_ordered();
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &real);
    uint64_t after = rdtsc_ordered();
    if (after - before >= out[3]) continue;
    out[0] = before + (after - before) / 2;
    out[1] = (uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec;
    out[2] = (uint64_t)real.tv_sec * 1000000000u + (uint64_t)real.tv_nsec;
    out[3] = after - before;
  }
}
