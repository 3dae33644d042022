// mmap/munmap churn: map 256 KiB anonymous, touch its first and last page, unmap; per iteration.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  const size_t size = 256 << 10;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    p[0] = 1;
    p[size - 1] = 1;
    if (munmap(p, size)) { perror("munmap"); return 1; }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.2f us/mmap+munmap\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1e3);
  return 0;
}
