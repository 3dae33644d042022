/* table_churn.c - page tables that outlive their address space. Short-lived children each map
 * pages 1 GiB apart (two page tables each, some 30,000 in all: more than a KVM machine's table
 * pool holds, so later children get the tables of dead ones), at the same addresses but
 * alternating pages: a child must see zeros in its own pages and fault on the page its
 * predecessor used. */
#include "fault_probe.h"
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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
    catch_segv();
    setvbuf(stdout, NULL, _IONBF, 0);
    recycled_page_tables();
    return 0;
}
