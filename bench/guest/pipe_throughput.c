// Pipe throughput: a child writes argv[1] MiB in 64 KiB writes, the parent reads them all.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 256;
  static char buf[64 << 10];
  int fds[2];
  if (pipe(fds)) { perror("pipe"); return 1; }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    memset(buf, 'x', sizeof buf);
    for (long left = mib << 20; left > 0;) {
      ssize_t w = write(fds[1], buf, sizeof buf);
      if (w <= 0) _exit(1);
      left -= w;
    }
    _exit(0);
  }
  close(fds[1]);
  long long total = 0;
  for (ssize_t r; (r = read(fds[0], buf, sizeof buf)) > 0;) total += r;
  clock_gettime(CLOCK_MONOTONIC, &b);
  int status;
  waitpid(child, &status, 0);
  if (total != mib << 20) { fprintf(stderr, "read %lld bytes of %ld MiB\n", total, mib); return 1; }
  double sec = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%.1f MB/s\n", total / 1e6 / sec);
  return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
