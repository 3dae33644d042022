// MediaServer's stamp thread: usleep(500) in a loop (about 2000 wake-ups a second) for 2 s,
// between the lines begin and end (the host CPU the runner uses between them is what counts).
#include <stdio.h>
#include <time.h>
#include <unistd.h>
int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct timespec a, b;
  long n = 0;
  printf("begin\n");
  clock_gettime(CLOCK_MONOTONIC, &a);
  do { usleep(500); n++; clock_gettime(CLOCK_MONOTONIC, &b); } while (b.tv_sec - a.tv_sec < 2);
  printf("end\n%.0f wake-ups/s\n", n / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
  usleep(300000); // alive while the runner reads its CPU time
  return 0;
}
