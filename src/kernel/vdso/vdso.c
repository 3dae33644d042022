/*
 * Starling's vDSO: clock_gettime, gettimeofday and time without a syscall, as Linux's vDSO
 * gives them. A syscall costs an exit on KVM (about 30 us on PVM), and programs such as
 * MediaServer read the clock around every wait.
 *
 * Time is a linear function of the TSC (guest code reads the host's TSC on both backends:
 * Unicorn's rdtsc reads it, and PVM runs guest code on the host's CPU unscaled). The host keeps
 * the function in the [vvar] page, the page just below this image, and updates it ten times a
 * second so that the clock follows the host's CLOCK_MONOTONIC and CLOCK_REALTIME
 * (main/guest-clock.ts; the layout is shared-mem/vvar.ts's). Other clocks, and any call
 * before the first update, go to the kernel.
 *
 * Built position-independent without libc (scripts/build-native.sh); nothing here may need a
 * relocation, since nobody relocates a vDSO.
 */
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

/*
 * The clock's function, ns = base + ((tsc - tsc_base) * mult) >> 32: one line before
 * switch_tsc, another (whose tsc_base is switch_tsc) from it on.
 */
struct slot {
  uint64_t switch_tsc;
  uint64_t before_mult, before_tsc, before_mono, before_real;
  uint64_t after_mult, after_mono, after_real;
};

struct vvar {
  uint32_t seq; /* slot[seq & 1] is current; 0: not set up yet */
  uint32_t pad[15];
  struct slot slot[2];
};

_Static_assert(sizeof(struct slot) == 64 && __builtin_offsetof(struct vvar, slot) == 64, "shared-mem/vvar.ts");

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const volatile struct vvar *vvar(void) {
  return (const volatile struct vvar *)((uintptr_t)__ehdr_start - 4096);
}

static inline uint64_t rdtsc_ordered(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence\n rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

static inline long syscall2(long nr, long a, long b) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return ret;
}

/*
 * Nanoseconds on CLOCK_MONOTONIC (real: CLOCK_REALTIME); 0 when the host has not set the page
 * up. The host writes the slot that is not current and then advances seq (a latch, as Linux's
 * seqcount_latch): a reader never waits for the writer, and retries only if seq moved on
 * while it read.
 */
static uint64_t now_ns(int real) {
  const volatile struct vvar *v = vvar();
  for (;;) {
    uint32_t seq = v->seq;
    __asm__ volatile("" ::: "memory");
    if (seq == 0) return 0;
    const volatile struct slot *s = &v->slot[seq & 1];
    uint64_t tsc = rdtsc_ordered();
    uint64_t mult, tsc_base, base;
    if (tsc < s->switch_tsc) {
      mult = s->before_mult, tsc_base = s->before_tsc, base = real ? s->before_real : s->before_mono;
    } else {
      mult = s->after_mult, tsc_base = s->switch_tsc, base = real ? s->after_real : s->after_mono;
    }
    __asm__ volatile("" ::: "memory");
    if (v->seq != seq) continue;
    uint64_t delta = tsc > tsc_base ? tsc - tsc_base : 0;
    return base + (uint64_t)(((unsigned __int128)delta * mult) >> 32);
  }
}

int __vdso_clock_gettime(clockid_t clock, struct timespec *ts) {
  uint64_t ns = clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ? now_ns(clock == CLOCK_REALTIME) : 0;
  if (!ns) return (int)syscall2(SYS_clock_gettime, clock, (long)ts);
  ts->tv_sec = (time_t)(ns / 1000000000u);
  ts->tv_nsec = (long)(ns % 1000000000u);
  return 0;
}

int __vdso_gettimeofday(struct timeval *tv, struct timezone *tz) {
  uint64_t ns = now_ns(1);
  if (!ns || tz) return (int)syscall2(SYS_gettimeofday, (long)tv, (long)tz);
  if (tv) {
    tv->tv_sec = (time_t)(ns / 1000000000u);
    tv->tv_usec = (long)(ns % 1000000000u / 1000u);
  }
  return 0;
}

time_t __vdso_time(time_t *t) {
  uint64_t ns = now_ns(1);
  if (!ns) return (time_t)syscall2(SYS_time, (long)t, 0);
  time_t s = (time_t)(ns / 1000000000u);
  if (t) *t = s;
  return s;
}

