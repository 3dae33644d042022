/*
 * Each thread's SSE state survives the switches of a CPU between threads: three threads pinned
 * to CPU 0 pass a turn round a ring through a futex, and each blocks in FUTEX_WAIT with
 * xmm0-15 and MXCSR holding values of its own (set just before the syscall instruction and read
 * just after it, in one asm block). While it waits, the others run with theirs on the same CPU,
 * so the kernel must save and restore each thread's state exactly (under KVM it may leave a
 * blocked thread's state on the vCPU until another thread needs it).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define THREADS 3
#define ROUNDS 2000

static int turn;
static int failures[THREADS];
static long waits[THREADS];

struct sse_frame {
  unsigned char in[16][16];
  unsigned char out[16][16];
  unsigned int mxcsr_in, mxcsr_out;
};

/* futex(word, FUTEX_WAIT_PRIVATE, value) with xmm0-15 and MXCSR loaded from f->in around it. */
static long wait_with_live_sse(struct sse_frame *f, int *word, int value) {
  long ret;
  register long r10 __asm__("r10") = 0;
  __asm__ volatile(
      "ldmxcsr 512(%[f])\n"
      "movdqu 0(%[f]),%%xmm0\n movdqu 16(%[f]),%%xmm1\n movdqu 32(%[f]),%%xmm2\n movdqu 48(%[f]),%%xmm3\n"
      "movdqu 64(%[f]),%%xmm4\n movdqu 80(%[f]),%%xmm5\n movdqu 96(%[f]),%%xmm6\n movdqu 112(%[f]),%%xmm7\n"
      "movdqu 128(%[f]),%%xmm8\n movdqu 144(%[f]),%%xmm9\n movdqu 160(%[f]),%%xmm10\n movdqu 176(%[f]),%%xmm11\n"
      "movdqu 192(%[f]),%%xmm12\n movdqu 208(%[f]),%%xmm13\n movdqu 224(%[f]),%%xmm14\n movdqu 240(%[f]),%%xmm15\n"
      "syscall\n"
      "movdqu %%xmm0,256(%[f])\n movdqu %%xmm1,272(%[f])\n movdqu %%xmm2,288(%[f])\n movdqu %%xmm3,304(%[f])\n"
      "movdqu %%xmm4,320(%[f])\n movdqu %%xmm5,336(%[f])\n movdqu %%xmm6,352(%[f])\n movdqu %%xmm7,368(%[f])\n"
      "movdqu %%xmm8,384(%[f])\n movdqu %%xmm9,400(%[f])\n movdqu %%xmm10,416(%[f])\n movdqu %%xmm11,432(%[f])\n"
      "movdqu %%xmm12,448(%[f])\n movdqu %%xmm13,464(%[f])\n movdqu %%xmm14,480(%[f])\n movdqu %%xmm15,496(%[f])\n"
      "stmxcsr 516(%[f])\n"
      : "=a"(ret)
      : "a"((long)SYS_futex), "D"(word), "S"((long)FUTEX_WAIT_PRIVATE), "d"((long)value), "r"(r10), [f] "r"(f)
      : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  return ret;
}

_Static_assert(__builtin_offsetof(struct sse_frame, out) == 256, "out");
_Static_assert(__builtin_offsetof(struct sse_frame, mxcsr_in) == 512, "mxcsr_in");

static void *ring(void *arg) {
  int id = (int)(long)arg;
  struct sse_frame f;
  /* Rounding mode (bits 13-14) differs per thread; exceptions stay masked. */
  f.mxcsr_in = 0x1f80 | ((unsigned)id << 13);
  for (int round = 0; round < ROUNDS; round++) {
    int v;
    while ((v = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) % THREADS != id) {
      for (int r = 0; r < 16; r++) for (int b = 0; b < 16; b++) f.in[r][b] = (unsigned char)(id * 64 + r * 16 + b + round);
      memset(f.out, 0, sizeof f.out);
      f.mxcsr_out = 0;
      wait_with_live_sse(&f, &turn, v);
      waits[id]++;
      if (memcmp(f.in, f.out, sizeof f.in) != 0 || f.mxcsr_out != f.mxcsr_in) failures[id]++;
    }
    __atomic_store_n(&turn, v + 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, THREADS, NULL, NULL, 0);
  }
  return NULL;
}

int main(void) {
  cpu_set_t cpu0;
  CPU_ZERO(&cpu0);
  CPU_SET(0, &cpu0);
  if (sched_setaffinity(0, sizeof cpu0, &cpu0) != 0) return perror("sched_setaffinity"), 1;
  pthread_t th[THREADS];
  for (long i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, ring, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  int bad = 0;
  long total = 0;
  for (int i = 0; i < THREADS; i++) bad += failures[i], total += waits[i];
  printf("%d turns passed on CPU 0\n", __atomic_load_n(&turn, __ATOMIC_RELAXED));
  printf("SSE state changed across a blocking syscall: %d times\n", bad);
  printf("threads blocked with live SSE state: %s\n", total >= ROUNDS ? "yes" : "no");
  return bad != 0;
}
