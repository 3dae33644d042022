/*
 * The vDSO: AT_SYSINFO_EHDR names an ELF image that /proc/self/maps shows as [vdso], with the
 * [vvar] page below it, which no process may make writable. Its clocks agree with the
 * kernel's (each raw clock_gettime syscall lies between the vDSO's readings around it), never
 * go back, not within a thread nor from one thread to another on another CPU while the
 * host updates the clock's parameters (ten times a second under Starling), and
 * CLOCK_REALTIME, gettimeofday and time agree. Prints how many raw syscalls it made, so that
 * a trace can be checked for the vDSO's calls (it makes none).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RAW_CALLS 2000
/* The kernel's clock and the vDSO's may differ by this much (they share the host's clock within a few hundred ns). */
#define TOLERANCE_NS 50000

static int64_t ns_of(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }
static int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return ns_of(&t);
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

/* Thread B publishes its readings; thread A, on the other CPU, must never read an earlier time after seeing one. */
static int64_t published;
static volatile int stop;
static long cross_backwards, own_backwards;

static void *publisher(void *arg) {
  (void)arg;
  pin(1);
  int64_t last = 0;
  while (!stop) {
    int64_t now = mono_ns();
    if (now < last) own_backwards++;
    last = now;
    __atomic_store_n(&published, now, __ATOMIC_SEQ_CST);
  }
  return NULL;
}

static void maps_lines(int *vdso, int *vvar, uintptr_t *vvar_start) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  *vdso = *vvar = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (strstr(line, "[vdso]")) (*vdso)++;
    if (strstr(line, "[vvar]")) {
      (*vvar)++;
      *vvar_start = (uintptr_t)strtoull(line, NULL, 16);
    }
  }
  if (f) fclose(f);
}

int main(void) {
  const unsigned char *ehdr = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
  printf("AT_SYSINFO_EHDR names an ELF image: %s\n", ehdr && memcmp(ehdr, ELFMAG, SELFMAG) == 0 ? "yes" : "no");
  int vdso, vvar;
  uintptr_t vvar_start = 0;
  maps_lines(&vdso, &vvar, &vvar_start);
  printf("/proc/self/maps shows [vdso]: %s, [vvar]: %s\n", vdso ? "yes" : "no", vvar ? "yes" : "no");
  if (vvar) {
    int r = mprotect((void *)vvar_start, 4096, PROT_READ | PROT_WRITE);
    printf("mprotect of [vvar] to writable fails: %s\n", r != 0 ? "yes" : "no");
  }

  long raw = 0, outside = 0;
  for (int i = 0; i < RAW_CALLS; i++) {
    struct timespec a, s, b;
    clock_gettime(i & 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &a);
    syscall(SYS_clock_gettime, i & 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &s);
    raw++;
    clock_gettime(i & 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &b);
    if (ns_of(&s) < ns_of(&a) - TOLERANCE_NS || ns_of(&s) > ns_of(&b) + TOLERANCE_NS || ns_of(&b) < ns_of(&a)) outside++;
    if (i % 500 == 0) usleep(60000); /* across updates of the clock's parameters */
  }
  printf("raw clock_gettime syscalls between vDSO readings of the same clock: %ld, outside them: %ld\n", raw, outside);

  pin(0);
  pthread_t th;
  pthread_create(&th, NULL, publisher, NULL);
  int64_t end = mono_ns() + 400000000;
  for (int64_t now = 0; now < end;) {
    int64_t seen = __atomic_load_n(&published, __ATOMIC_SEQ_CST);
    now = mono_ns();
    if (now < seen) cross_backwards++;
  }
  stop = 1;
  pthread_join(th, NULL);
  printf("CLOCK_MONOTONIC went back, within a thread: %ld, from one CPU to the other: %ld\n", own_backwards, cross_backwards);

  struct timespec rt;
  struct timeval tv;
  clock_gettime(CLOCK_REALTIME, &rt);
  gettimeofday(&tv, NULL);
  time_t t = time(NULL);
  int64_t gap_us = ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec) - ns_of(&rt) / 1000;
  printf("gettimeofday within 10 ms after CLOCK_REALTIME: %s\n", gap_us >= 0 && gap_us < 10000 ? "yes" : "no");
  printf("time within 1 s of CLOCK_REALTIME: %s\n", t >= rt.tv_sec && t <= rt.tv_sec + 1 ? "yes" : "no");
  printf("CLOCK_REALTIME is after 2026: %s\n", rt.tv_sec > 1767225600 ? "yes" : "no");
  return 0;
}
