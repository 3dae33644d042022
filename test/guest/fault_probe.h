/*
 * fault_probe.h - touching a page and reporting the fault it raises, for the guest programs
 * that check which pages of a mapping fault and how (mprotect_parts.c, table_churn.c).
 *
 *   catch_segv()                 installs the SIGSEGV handler try_access needs.
 *   try_access(base, p, w, v)    reads (w 0) or writes v to (w 1) byte 8 of page p of base:
 *                                "ok", "ok (value)" for a read, or "SEGV_MAPERR at page N",
 *                                "SEGV_ACCERR at page N" (N counted from base).
 */
#ifndef GUEST_FAULT_PROBE_H
#define GUEST_FAULT_PROBE_H

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096L

static sigjmp_buf fault_probe_back;
static void *fault_addr;
static int fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(fault_probe_back, 1);
}

static void catch_segv(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
}

static const char *try_access(char *base, long p, int write, char value)
{
    static char what[64];
    if (sigsetjmp(fault_probe_back, 1)) {
        snprintf(what, sizeof what, "%s at page %ld", fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : "SIGSEGV",
                 ((char *)fault_addr - base) / PAGE);
        return what;
    }
    if (write) base[p * PAGE + 8] = value;
    else snprintf(what, sizeof what, "ok (%d)", *(volatile char *)&base[p * PAGE + 8]);
    return write ? "ok" : what;
}

#endif
