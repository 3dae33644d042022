// MediaServer's stamp thread: usleep(500) in a loop (about 2000 wake-ups a second), for 2 s.
#include <stdio.h>
#include <time.h>
#include <unistd.h>
int main(void) {
  struct timespec a, b;
  long n = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  do { usleep(500); n++; clock_gettime(CLOCK_MONOTONIC, &b); } while (b.tv_sec - a.tv_sec < 2);
  printf("%.0f wake-ups/s\n", n / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
  return 0;
}
