// Independent compute processes: argv[1] children share argv[2] loop iterations equally; the
// parent waits for all. The elapsed time against the number of CPUs shows parallel speed-up.
#include "compute.h"
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000000UL;
  struct timespec a;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    if (fork() == 0) {
      compute(total / n);
      _exit(0);
    }
  }
  int status, failed = 0;
  while (wait(&status) > 0) failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  printf("%.1f ms\n", elapsed_ms(&a));
  return failed;
}
