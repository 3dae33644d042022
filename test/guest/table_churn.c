/* table_churn.c - page tables that outlive their address space. Short-lived children each map
 * pages 1 GiB apart (two page tables each, some 30,000 in all: more than a KVM machine's table
 * pool holds, so later children get the tables of dead ones), at the same addresses but
 * alternating pages: a child must see zeros in its own pages and fault on the page its
 * predecessor used. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096L
static sigjmp_buf back;
static void *fault_addr;
static int fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(back, 1);
}

/* "ok", or which fault an access of page p of base raised. */
static const char *try_access(char *base, long p, int write, char value)
{
    static char what[64];
    if (sigsetjmp(back, 1)) {
        snprintf(what, sizeof what, "%s at page %ld", fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : "SIGSEGV",
                 ((char *)fault_addr - base) / PAGE);
        return what;
    }
    if (write) base[p * PAGE + 8] = value;
    else snprintf(what, sizeof what, "ok (%d)", *(volatile char *)&base[p * PAGE + 8]);
    return write ? "ok" : what;
}

#define CHILDREN 120
#define REGIONS 128
#define BASE 0x100000000000UL
#define SPACING (1UL << 30)

/* Exit status 0 when every check held, else the number of the first that failed. */
static int child(int parity)
{
    for (unsigned long r = 0; r < REGIONS; r++) {
        char *want = (char *)(BASE + r * SPACING + parity * PAGE);
        char *page = mmap(want, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (page != want) return 1;
        if (page[8] != 0) return 2;
        page[8] = (char)(parity + 1);
        char *other = (char *)(BASE + r * SPACING + (1 - parity) * PAGE);
        if (strncmp(try_access(other, 0, 0, 0), "SEGV_MAPERR", 11) != 0) return 3;
    }
    return 0;
}

static void recycled_page_tables(void)
{
    int failed = 0;
    for (int i = 0; i < CHILDREN && !failed; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(child(i & 1));
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("child %d: status 0x%x\n", i, status);
            failed = 1;
        }
    }
    printf("%d children with %d regions 1 GiB apart: %s\n", CHILDREN, REGIONS, failed ? "FAILED" : "all exact");
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);
    recycled_page_tables();
    return 0;
}
