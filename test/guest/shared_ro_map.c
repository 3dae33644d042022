/*
 * A shared mapping of a file opened read-only: it shows what others write to the file, it
 * cannot be made writable (EACCES), and memory mapped and touched after it works (under
 * Starling the guest's memory then grows, and the host mapping of the file must allow it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  int rw = open("shared_ro_map.data", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (rw < 0 || pwrite(rw, "one", 3, 0) != 3 || ftruncate(rw, 4096) != 0) return perror("file"), 1;
  int ro = open("shared_ro_map.data", O_RDONLY);
  char *view = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
  if (view == MAP_FAILED) return perror("mmap"), 1;
  printf("mapped: %.3s\n", view);
  int r = mprotect(view, 4096, PROT_READ | PROT_WRITE);
  printf("mprotect to writable: %s\n", r == 0 ? "succeeded" : errno == EACCES ? "EACCES" : strerror(errno));
  size_t big = 384u << 20;
  char *mem = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return perror("mmap anonymous"), 1;
  for (size_t off = 0; off < big; off += 1 << 20) mem[off] = 1;
  printf("touched %zu MiB after it\n", big >> 20);
  if (pwrite(rw, "two", 3, 0) != 3) return perror("pwrite"), 1;
  printf("after another write to the file: %.3s\n", view);
  unlink("shared_ro_map.data");
  return 0;
}
