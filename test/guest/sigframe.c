/*
 * sigframe.c - a signal frame round-trips every register: a SIGUSR1 is delivered on return
 * from the tgkill that raises it, while all sixteen XMM registers and the callee-saved
 * general registers hold known patterns; the handler clobbers them (and MXCSR's rounding
 * mode and the x87 control word); after rt_sigreturn every one must hold its pattern again.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "check.h"

/* sig_roundtrip(in[256], out[256], pid, tid, gprs_out[5]): loads xmm0-15 from in and patterns
 * into rbx and r12-r15, calls tgkill(pid, tid, SIGUSR1) with the registers live, then stores
 * xmm0-15 to out and rbx, r12-r15 to gprs_out. */
void sig_roundtrip(const unsigned char *in, unsigned char *out, long pid, long tid, unsigned long *gprs);
__asm__(
    ".text\n.globl sig_roundtrip\n.type sig_roundtrip,@function\nsig_roundtrip:\n"
    "  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  push %rsi\n  push %r8\n"
    "  movdqu 0(%rdi),%xmm0\n  movdqu 16(%rdi),%xmm1\n  movdqu 32(%rdi),%xmm2\n  movdqu 48(%rdi),%xmm3\n"
    "  movdqu 64(%rdi),%xmm4\n  movdqu 80(%rdi),%xmm5\n  movdqu 96(%rdi),%xmm6\n  movdqu 112(%rdi),%xmm7\n"
    "  movdqu 128(%rdi),%xmm8\n  movdqu 144(%rdi),%xmm9\n  movdqu 160(%rdi),%xmm10\n  movdqu 176(%rdi),%xmm11\n"
    "  movdqu 192(%rdi),%xmm12\n  movdqu 208(%rdi),%xmm13\n  movdqu 224(%rdi),%xmm14\n  movdqu 240(%rdi),%xmm15\n"
    "  movabs $0x1111222233334444,%rbx\n  movabs $0x5555666677778888,%r12\n  movabs $0x99990000aaaabbbb,%r13\n"
    "  movabs $0xccccddddeeeeffff,%r14\n  movabs $0x0123456789abcdef,%r15\n"
    "  mov %rdx,%rdi\n  mov %rcx,%rsi\n  mov $10,%edx\n  mov $234,%eax\n  syscall\n"
    "  pop %r8\n  pop %rsi\n"
    "  movdqu %xmm0,0(%rsi)\n  movdqu %xmm1,16(%rsi)\n  movdqu %xmm2,32(%rsi)\n  movdqu %xmm3,48(%rsi)\n"
    "  movdqu %xmm4,64(%rsi)\n  movdqu %xmm5,80(%rsi)\n  movdqu %xmm6,96(%rsi)\n  movdqu %xmm7,112(%rsi)\n"
    "  movdqu %xmm8,128(%rsi)\n  movdqu %xmm9,144(%rsi)\n  movdqu %xmm10,160(%rsi)\n  movdqu %xmm11,176(%rsi)\n"
    "  movdqu %xmm12,192(%rsi)\n  movdqu %xmm13,208(%rsi)\n  movdqu %xmm14,224(%rsi)\n  movdqu %xmm15,240(%rsi)\n"
    "  mov %rbx,0(%r8)\n  mov %r12,8(%r8)\n  mov %r13,16(%r8)\n  mov %r14,24(%r8)\n  mov %r15,32(%r8)\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  ret\n"
    ".size sig_roundtrip,.-sig_roundtrip\n");

static volatile int handled;

static void clobber(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si; (void)uc;
    unsigned int mxcsr = 0x7f80; /* round toward zero */
    unsigned short fpcw = 0x0c7f; /* x87 truncating */
    __asm__ volatile(
        "ldmxcsr %0\n fldcw %1\n"
        "pcmpeqb %%xmm0,%%xmm0\n pxor %%xmm1,%%xmm1\n pcmpeqb %%xmm7,%%xmm7\n pxor %%xmm8,%%xmm8\n"
        "pcmpeqb %%xmm15,%%xmm15\n xor %%ebx,%%ebx\n xor %%r12d,%%r12d\n xor %%r15d,%%r15d\n"
        :: "m"(mxcsr), "m"(fpcw) : "xmm0", "xmm1", "xmm7", "xmm8", "xmm15", "rbx", "r12", "r15", "memory");
    handled++;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = clobber;
    sa.sa_flags = SA_SIGINFO;
    CHECKN("sigaction", sigaction(SIGUSR1, &sa, NULL));
    unsigned char in[256], out[256];
    for (int i = 0; i < 256; i++) in[i] = (unsigned char)(i * 7 + 3);
    memset(out, 0, sizeof out);
    unsigned long gprs[5] = { 0 };
    unsigned int mxcsr_before, mxcsr_after;
    unsigned short fpcw_before, fpcw_after;
    __asm__ volatile("stmxcsr %0\n fnstcw %1" : "=m"(mxcsr_before), "=m"(fpcw_before));
    sig_roundtrip(in, out, getpid(), syscall(SYS_gettid), gprs);
    __asm__ volatile("stmxcsr %0\n fnstcw %1" : "=m"(mxcsr_after), "=m"(fpcw_after));
    EXPECT("the handler ran once", handled == 1);
    EXPECT("xmm0-xmm15 preserved", memcmp(in, out, sizeof in) == 0);
    EXPECT("rbx and r12-r15 preserved", gprs[0] == 0x1111222233334444UL && gprs[1] == 0x5555666677778888UL &&
           gprs[2] == 0x99990000aaaabbbbUL && gprs[3] == 0xccccddddeeeeffffUL && gprs[4] == 0x0123456789abcdefUL);
    EXPECT("MXCSR preserved", mxcsr_before == mxcsr_after);
    EXPECT("x87 control word preserved", fpcw_before == fpcw_after);
    return FINISH();
}
