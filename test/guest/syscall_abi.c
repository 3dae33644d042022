/*
 * syscall_abi.c - the x86-64 `syscall` instruction as Linux gives it to user code: after a raw
 * getppid, gettid, clock_gettime, a 1-byte pipe read and write, and an unknown number (1000,
 * -ENOSYS), every register but RAX, RCX and R11 holds what it held before (rbx, rbp, rdi, rsi,
 * rdx, r8-r10, r12-r15, rsp, xmm0-15, MXCSR's rounding mode), RCX is the address of the
 * instruction after `syscall`, R11 is RFLAGS as it was at the `syscall`, and RFLAGS comes back
 * unchanged: with CF clear, CF set, all six arithmetic flags set, and DF set. The same checks
 * run on the main thread and on a thread pinned to CPU 1 (CPU 0 on a one-CPU machine), which
 * then repeats the getppid check in a loop while another thread sends it SIGUSR1 every ~50 us
 * and a third, pinned to the same CPU, alternates ~1 ms of spinning with ~1 ms of sleep, so the
 * loop is interrupted and preempted in and around its syscalls.
 * The output does not depend on the number of CPUs, nor on how many loop rounds fit in the
 * loop's time budget (the budget only bounds the run under emulation).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* The general registers a call loads with patterns; RCX and R11 too, so that a return which
 * does not write them is caught. */
enum { RBX, RBP, RDI, RSI, RDX, R8, R9, R10, R12, R13, R14, R15, RCX, R11, NREGS };
static const char *const reg_names[NREGS] = {
    "rbx", "rbp", "rdi", "rsi", "rdx", "r8", "r9", "r10", "r12", "r13", "r14", "r15", "rcx", "r11",
};

/* One `syscall` with every register set up, and what came back. The offsets are spelled out
 * in abi_call's assembly; the static asserts below keep the two in step. */
struct abi_frame {
    uint64_t nr;                  /*   0: RAX in */
    uint64_t flags;               /*   8: CF PF AF ZF SF DF OF to have set at the syscall */
    uint64_t in[NREGS];           /*  16 */
    uint64_t out[NREGS];          /* 128 */
    uint64_t rax;                 /* 240: the result */
    uint64_t flags_before;        /* 248: RFLAGS at the syscall */
    uint64_t flags_after;         /* 256: RFLAGS after it */
    uint64_t return_rip;          /* 264: the address of the instruction after it */
    uint64_t rsp_before;          /* 272 */
    uint64_t rsp_after;           /* 280 */
    uint32_t mxcsr_in;            /* 288 */
    uint32_t mxcsr_out;           /* 292 */
    uint32_t mxcsr_caller;        /* 296: abi_call gives it back */
    uint32_t pad;                 /* 300 */
    unsigned char xmm_in[16][16]; /* 304 */
    unsigned char xmm_out[16][16]; /* 560 */
};
_Static_assert(offsetof(struct abi_frame, in) == 16, "in");
_Static_assert(offsetof(struct abi_frame, out) == 128, "out");
_Static_assert(offsetof(struct abi_frame, rax) == 240, "rax");
_Static_assert(offsetof(struct abi_frame, rsp_after) == 280, "rsp_after");
_Static_assert(offsetof(struct abi_frame, mxcsr_caller) == 296, "mxcsr_caller");
_Static_assert(offsetof(struct abi_frame, xmm_in) == 304, "xmm_in");
_Static_assert(offsetof(struct abi_frame, xmm_out) == 560, "xmm_out");

void abi_call(struct abi_frame *f);
/* Sets the arithmetic flags and DF with popfq, records RFLAGS and RSP, loads every register
 * (mov and movdqu leave the flags alone), executes `syscall`, and pushes RFLAGS and every
 * general register before touching anything, so the frame gets exactly what the syscall left. */
__asm__(
    ".text\n.globl abi_call\n.type abi_call,@function\nabi_call:\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  push %rdi\n"
    "  stmxcsr 296(%rdi)\n  ldmxcsr 288(%rdi)\n"
    "  lea 1f(%rip),%rax\n  mov %rax,264(%rdi)\n"
    "  movdqu 304(%rdi),%xmm0\n  movdqu 320(%rdi),%xmm1\n  movdqu 336(%rdi),%xmm2\n  movdqu 352(%rdi),%xmm3\n"
    "  movdqu 368(%rdi),%xmm4\n  movdqu 384(%rdi),%xmm5\n  movdqu 400(%rdi),%xmm6\n  movdqu 416(%rdi),%xmm7\n"
    "  movdqu 432(%rdi),%xmm8\n  movdqu 448(%rdi),%xmm9\n  movdqu 464(%rdi),%xmm10\n  movdqu 480(%rdi),%xmm11\n"
    "  movdqu 496(%rdi),%xmm12\n  movdqu 512(%rdi),%xmm13\n  movdqu 528(%rdi),%xmm14\n  movdqu 544(%rdi),%xmm15\n"
    "  pushfq\n  pop %rax\n  and $~0xcd5,%rax\n  or 8(%rdi),%rax\n  push %rax\n  popfq\n"
    "  pushfq\n" /* flags_before; the frame pointer is above it */
    "  mov %rsp,272(%rdi)\n"
    "  mov 0(%rdi),%rax\n"
    "  mov 16(%rdi),%rbx\n  mov 24(%rdi),%rbp\n  mov 40(%rdi),%rsi\n  mov 48(%rdi),%rdx\n"
    "  mov 56(%rdi),%r8\n  mov 64(%rdi),%r9\n  mov 72(%rdi),%r10\n  mov 80(%rdi),%r12\n"
    "  mov 88(%rdi),%r13\n  mov 96(%rdi),%r14\n  mov 104(%rdi),%r15\n  mov 112(%rdi),%rcx\n"
    "  mov 120(%rdi),%r11\n  mov 32(%rdi),%rdi\n"
    "  syscall\n"
    "1:\n"
    "  pushfq\n  push %rax\n  push %rcx\n  push %r11\n  push %rbx\n  push %rbp\n  push %rdi\n  push %rsi\n"
    "  push %rdx\n  push %r8\n  push %r9\n  push %r10\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  mov 136(%rsp),%rdi\n"
    "  lea 128(%rsp),%rax\n  mov %rax,280(%rdi)\n"
    "  pop %rax\n  mov %rax,216(%rdi)\n" /* r15 */
    "  pop %rax\n  mov %rax,208(%rdi)\n" /* r14 */
    "  pop %rax\n  mov %rax,200(%rdi)\n" /* r13 */
    "  pop %rax\n  mov %rax,192(%rdi)\n" /* r12 */
    "  pop %rax\n  mov %rax,184(%rdi)\n" /* r10 */
    "  pop %rax\n  mov %rax,176(%rdi)\n" /* r9 */
    "  pop %rax\n  mov %rax,168(%rdi)\n" /* r8 */
    "  pop %rax\n  mov %rax,160(%rdi)\n" /* rdx */
    "  pop %rax\n  mov %rax,152(%rdi)\n" /* rsi */
    "  pop %rax\n  mov %rax,144(%rdi)\n" /* rdi */
    "  pop %rax\n  mov %rax,136(%rdi)\n" /* rbp */
    "  pop %rax\n  mov %rax,128(%rdi)\n" /* rbx */
    "  pop %rax\n  mov %rax,232(%rdi)\n" /* r11 */
    "  pop %rax\n  mov %rax,224(%rdi)\n" /* rcx */
    "  pop %rax\n  mov %rax,240(%rdi)\n" /* rax */
    "  pop %rax\n  mov %rax,256(%rdi)\n" /* flags_after */
    "  pop %rax\n  mov %rax,248(%rdi)\n" /* flags_before */
    "  add $8,%rsp\n  cld\n"
    "  movdqu %xmm0,560(%rdi)\n  movdqu %xmm1,576(%rdi)\n  movdqu %xmm2,592(%rdi)\n  movdqu %xmm3,608(%rdi)\n"
    "  movdqu %xmm4,624(%rdi)\n  movdqu %xmm5,640(%rdi)\n  movdqu %xmm6,656(%rdi)\n  movdqu %xmm7,672(%rdi)\n"
    "  movdqu %xmm8,688(%rdi)\n  movdqu %xmm9,704(%rdi)\n  movdqu %xmm10,720(%rdi)\n  movdqu %xmm11,736(%rdi)\n"
    "  movdqu %xmm12,752(%rdi)\n  movdqu %xmm13,768(%rdi)\n  movdqu %xmm14,784(%rdi)\n  movdqu %xmm15,800(%rdi)\n"
    "  stmxcsr 292(%rdi)\n  ldmxcsr 296(%rdi)\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n  ret\n"
    ".size abi_call,.-abi_call\n");

#define CF 0x001UL
#define PF 0x004UL
#define AF 0x010UL
#define ZF 0x040UL
#define SF 0x080UL
#define DF 0x400UL
#define OF 0x800UL

static const struct flag_state {
    const char *name;
    uint64_t flags;
} flag_states[] = {
    { "cf clear", 0 },
    { "cf set", CF },
    { "all arithmetic flags set", CF | PF | AF | ZF | SF | OF },
    { "df set", DF },
};
#define NSTATES (sizeof flag_states / sizeof flag_states[0])

/* Round toward zero, all exceptions masked: not the default, so a reset would show. */
#define MXCSR_PATTERN 0x7f80u

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Every register a distinct 64-bit pattern derived from seed; the caller then puts the
 * syscall's arguments over the ones it uses. */
static void frame_init(struct abi_frame *f, uint64_t seed, long nr, uint64_t flags)
{
    memset(f, 0, sizeof *f);
    f->nr = (uint64_t)nr;
    f->flags = flags;
    for (int r = 0; r < NREGS; r++) f->in[r] = splitmix(seed * 64 + (uint64_t)r);
    for (int x = 0; x < 16; x++) {
        uint64_t lo = splitmix(seed * 64 + 32 + (uint64_t)x * 2), hi = splitmix(seed * 64 + 33 + (uint64_t)x * 2);
        memcpy(f->xmm_in[x], &lo, 8);
        memcpy(f->xmm_in[x] + 8, &hi, 8);
    }
    f->mxcsr_in = MXCSR_PATTERN;
}

/* What went wrong with a call's registers, or NULL when the ABI held. */
static const char *frame_fault(const struct abi_frame *f, char *buf, size_t len)
{
    if ((f->flags_before & (CF | PF | AF | ZF | SF | DF | OF)) != f->flags)
        return "the flags were not set up (test bug)";
    for (int r = 0; r < NREGS; r++) {
        if (r == RCX || r == R11) continue;
        if (f->out[r] != f->in[r]) {
            snprintf(buf, len, "%s changed", reg_names[r]);
            return buf;
        }
    }
    if (f->out[RCX] != f->return_rip) return "rcx is not the address after syscall";
    if (f->out[R11] != f->flags_before) return "r11 is not RFLAGS at the syscall";
    if (f->flags_after != f->flags_before) return "RFLAGS changed";
    if (f->rsp_after != f->rsp_before) return "rsp changed";
    for (int x = 0; x < 16; x++) {
        if (memcmp(f->xmm_in[x], f->xmm_out[x], 16) != 0) {
            snprintf(buf, len, "xmm%d changed", x);
            return buf;
        }
    }
    if (f->mxcsr_out != f->mxcsr_in) return "MXCSR changed";
    return NULL;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One syscall under test: sets up its arguments over the patterns, and after the call says
 * whether the result is right. */
struct syscall_case {
    const char *name;
    void (*setup)(struct abi_frame *f);
    int (*result_ok)(const struct abi_frame *f);
};

static int pipe_fds[2];
static unsigned char pipe_byte;
static struct timespec raw_ts;
static int64_t ts_lo;

static void setup_none(struct abi_frame *f) { (void)f; }

static int getppid_ok(const struct abi_frame *f) { return (long)f->rax == (long)getppid(); }
static int gettid_ok(const struct abi_frame *f) { return (long)f->rax == syscall(SYS_gettid); }

static void clock_setup(struct abi_frame *f)
{
    memset(&raw_ts, 0xff, sizeof raw_ts);
    f->in[RDI] = CLOCK_MONOTONIC;
    f->in[RSI] = (uint64_t)(uintptr_t)&raw_ts;
    ts_lo = mono_ns();
}

static int clock_ok(const struct abi_frame *f)
{
    int64_t hi = mono_ns();
    int64_t t = (int64_t)raw_ts.tv_sec * 1000000000LL + raw_ts.tv_nsec;
    return f->rax == 0 && raw_ts.tv_nsec >= 0 && raw_ts.tv_nsec < 1000000000L && t >= ts_lo && t <= hi;
}

static void read_setup(struct abi_frame *f)
{
    unsigned char c = (unsigned char)(f->in[RBX] | 1);
    if (write(pipe_fds[1], &c, 1) != 1) c = 0;
    pipe_byte = 0;
    f->in[RDI] = (uint64_t)pipe_fds[0];
    f->in[RSI] = (uint64_t)(uintptr_t)&pipe_byte;
    f->in[RDX] = 1;
}

static int read_ok(const struct abi_frame *f)
{
    return f->rax == 1 && pipe_byte == (unsigned char)(f->in[RBX] | 1);
}

static void write_setup(struct abi_frame *f)
{
    pipe_byte = (unsigned char)(f->in[RBP] | 1);
    f->in[RDI] = (uint64_t)pipe_fds[1];
    f->in[RSI] = (uint64_t)(uintptr_t)&pipe_byte;
    f->in[RDX] = 1;
}

static int write_ok(const struct abi_frame *f)
{
    unsigned char c = 0;
    return f->rax == 1 && read(pipe_fds[0], &c, 1) == 1 && c == (unsigned char)(f->in[RBP] | 1);
}

static int enosys_ok(const struct abi_frame *f) { return (long)f->rax == -ENOSYS; }

static const struct syscall_case cases[] = {
    { "getppid", setup_none, getppid_ok },
    { "gettid", setup_none, gettid_ok },
    { "clock_gettime", clock_setup, clock_ok },
    { "read 1 byte from a pipe", read_setup, read_ok },
    { "write 1 byte to a pipe", write_setup, write_ok },
    { "unknown syscall 1000", setup_none, enosys_ok },
};
static const long case_numbers[] = { SYS_getppid, SYS_gettid, SYS_clock_gettime, SYS_read, SYS_write, 1000 };

/* Every case in every flag state; one line a case, and a line for each state that failed. */
static void check_cases(const char *where, uint64_t seed)
{
    char buf[64];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ok = 1;
        for (size_t s = 0; s < NSTATES; s++) {
            struct abi_frame f;
            frame_init(&f, seed++, case_numbers[c], flag_states[s].flags);
            cases[c].setup(&f);
            abi_call(&f);
            const char *fault = frame_fault(&f, buf, sizeof buf);
            if (!fault && !cases[c].result_ok(&f)) fault = "wrong result";
            if (fault) {
                printf("%s: %s, %s: %s\n", where, cases[c].name, flag_states[s].name, fault);
                ok = 0;
            }
        }
        char name[96];
        snprintf(name, sizeof name, "%s: %s", where, cases[c].name);
        EXPECT(name, ok);
    }
}

/* ---- the pinned thread and its stress loop ---- */

/* The loop ends after STRESS_ROUNDS rounds or STRESS_BUDGET_NS, whichever comes first, once a
 * signal has arrived; natively the rounds end it (200k take ~0.15 s), under Starling the
 * budget does (a round there costs 15-150 us). STRESS_CAP_NS bounds a run whose signals never
 * come. */
#define STRESS_ROUNDS 200000
#define STRESS_BUDGET_NS (4 * 1000000000LL)
#define STRESS_CAP_NS (30 * 1000000000LL)

static int target_cpu;
static pthread_barrier_t stress_start;
static int stress_done;
static long stress_tid;
static volatile sig_atomic_t signals_seen;

static void on_usr1(int sig)
{
    (void)sig;
    signals_seen++;
}

static int pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static void sleep_ns(long ns)
{
    struct timespec ts = { 0, ns };
    nanosleep(&ts, NULL);
}

static void *signaller(void *arg)
{
    (void)arg;
    pid_t pid = getpid();
    pthread_barrier_wait(&stress_start);
    while (!__atomic_load_n(&stress_done, __ATOMIC_ACQUIRE)) {
        syscall(SYS_tgkill, pid, stress_tid, SIGUSR1);
        sleep_ns(50 * 1000);
    }
    return NULL;
}

/* A normal thread on the loop's CPU: 1 ms on, 1 ms off. */
static void *competitor(void *arg)
{
    int *pinned = arg;
    *pinned = pin_self(target_cpu) == 0 && sched_getcpu() == target_cpu;
    pthread_barrier_wait(&stress_start);
    while (!__atomic_load_n(&stress_done, __ATOMIC_ACQUIRE)) {
        int64_t until = mono_ns() + 1000000;
        while (mono_ns() < until && !__atomic_load_n(&stress_done, __ATOMIC_RELAXED)) {}
        sleep_ns(1000000);
    }
    return NULL;
}

/* Raw getppid with the register check, over and over, while signals and the competitor
 * interrupt it. Returns the first fault, or NULL. The flag state rotates every round. */
static const char *stress_loop(char *buf, size_t len)
{
    pid_t ppid = getppid();
    int64_t start = mono_ns();
    for (long i = 0;; i++) {
        if ((i & 1023) == 0) {
            int64_t spent = mono_ns() - start;
            int enough = i >= STRESS_ROUNDS || spent > STRESS_BUDGET_NS;
            if (enough && signals_seen > 0) return NULL;
            if (spent > STRESS_CAP_NS) return NULL; /* no signal came: reported by the caller */
        }
        struct abi_frame f;
        frame_init(&f, 1000000 + (uint64_t)i, SYS_getppid, flag_states[i % NSTATES].flags);
        abi_call(&f);
        char reg[64];
        const char *fault = frame_fault(&f, reg, sizeof reg);
        if (!fault && (long)f.rax != (long)ppid) fault = "wrong result";
        if (fault) {
            snprintf(buf, len, "%s (%s)", fault, flag_states[i % NSTATES].name);
            return buf;
        }
    }
}

static void *pinned_thread(void *arg)
{
    (void)arg;
    EXPECT("pinned thread: pinned", pin_self(target_cpu) == 0);
    EXPECT("pinned thread: on its cpu", sched_getcpu() == target_cpu);
    check_cases("pinned thread", 5000);

    stress_tid = syscall(SYS_gettid);
    int competitor_pinned = 0;
    pthread_t sig_th, comp_th;
    pthread_barrier_init(&stress_start, NULL, 3);
    pthread_create(&sig_th, NULL, signaller, NULL);
    pthread_create(&comp_th, NULL, competitor, &competitor_pinned);
    pthread_barrier_wait(&stress_start);
    char buf[96], why[128];
    const char *fault = stress_loop(buf, sizeof buf);
    if (fault) snprintf(why, sizeof why, "%s", fault);
    __atomic_store_n(&stress_done, 1, __ATOMIC_RELEASE);
    pthread_join(sig_th, NULL);
    pthread_join(comp_th, NULL);
    pthread_barrier_destroy(&stress_start);

    EXPECT("competitor pinned to the same cpu", competitor_pinned);
    if (fault) {
        printf("stress FAIL: %s\n", why);
        check_failures++;
    } else {
        printf("stress ok\n");
    }
    int seen = signals_seen > 0;
    printf("signals: %s\n", seen ? "yes" : "no");
    if (!seen) check_failures++;
    EXPECT("pinned thread: still on its cpu", sched_getcpu() == target_cpu);
    return NULL;
}

int main(void)
{
    if (pipe(pipe_fds) != 0) {
        printf("pipe failed\n");
        return 1;
    }
    check_cases("main thread", 1);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECKN("sigaction SIGUSR1", sigaction(SIGUSR1, &sa, NULL));

    /* CPU 1 when this process may run there, else CPU 0; the lines are the same either way. */
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    target_cpu = sched_getaffinity(0, sizeof allowed, &allowed) == 0 && sysconf(_SC_NPROCESSORS_ONLN) >= 2 &&
                 CPU_ISSET(1, &allowed) ? 1 : 0;
    pthread_t th;
    pthread_create(&th, NULL, pinned_thread, NULL);
    pthread_join(th, NULL);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return FINISH();
}
