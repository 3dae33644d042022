// Independent compute processes: argv[1] children each run the same register-bound loop; the
// parent waits for all. Their wall time against the number of vCPUs shows parallel speed-up.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned long sink;

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  unsigned long iterations = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000000UL;
  for (int i = 0; i < n; i++) {
    if (fork() == 0) {
      unsigned long s = 0;
      for (unsigned long k = 0; k < iterations; k++) s += k ^ (s >> 3);
      sink = s;
      _exit(0);
    }
  }
  int status, failed = 0;
  while (wait(&status) > 0) failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  return failed;
}
