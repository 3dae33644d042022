// Context switch between two processes on one CPU: a byte goes back and forth over two pipes
// (lmbench's lat_ctx with no working set); each round trip is two switches.
#include "pin.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 20000;
  int ping[2], pong[2];
  if (pipe(ping) || pipe(pong)) { perror("pipe"); return 1; }
  pin_to(0);
  char c = 0;
  pid_t child = fork();
  if (child == 0) {
    for (long i = 0; i < rounds; i++) {
      if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < rounds; i++) {
    if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) { perror("ping-pong"); return 1; }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  int status;
  waitpid(child, &status, 0);
  printf("%.2f us/switch\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds / 2 / 1e3);
  return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
