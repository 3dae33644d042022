/* mprotect_parts.c - mappings whose pages change rights after use: changing part of a mapping
 * leaves the rest as it was (touched pages keep their data and rights, untouched ones still
 * fault in); a restriction holds for pages touched and untouched alike; a PROT_NONE guard page
 * between two accessible pages faults; mprotect over a hole changes what lies before the hole
 * and fails with ENOMEM, as Linux does. */
#include "check.h"
#include "fault_probe.h"
#include <sys/mman.h>
#include <unistd.h>

static void show(const char *label, char *base, long p, int write, char value)
{
    printf("%-44s %s\n", label, try_access(base, p, write, value));
}

static void parts_of_a_used_mapping(void)
{
    char *m = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (long p = 0; p < 16; p++) m[p * PAGE + 8] = (char)p;
    mprotect(m + 4 * PAGE, 4 * PAGE, PROT_READ);
    show("write to a page made read-only (touched)", m, 5, 1, 50);
    show("read it", m, 5, 0, 0);
    show("write below the read-only part", m, 3, 1, 30);
    show("write above the read-only part", m, 8, 1, 80);
    show("read back below", m, 3, 0, 0);
    munmap(m + 10 * PAGE, PAGE);
    show("read an unmapped page (touched before)", m, 10, 0, 0);
    show("read the page after it", m, 11, 0, 0);
    show("write the page before it", m, 9, 1, 90);
    mprotect(m + 11 * PAGE, PAGE, PROT_READ);
    mprotect(m + 12 * PAGE, PAGE, PROT_NONE);
    show("read a PROT_NONE guard (touched before)", m, 12, 0, 0);
    show("read above the guard", m, 13, 0, 0);
    mprotect(m + 12 * PAGE, PAGE, PROT_READ | PROT_WRITE);
    show("read the guard made accessible again", m, 12, 0, 0);
    int r = mprotect(m, 16 * PAGE, PROT_READ | PROT_WRITE);
    printf("%-44s %d %s\n", "mprotect over the hole", r, r ? errno_name(errno) : "");
    show("write the read-only part made writable", m, 5, 1, 55);
    show("write past the hole (still PROT_READ)", m, 11, 1, 110);
    show("read it back", m, 5, 0, 0);
    munmap(m, 16 * PAGE);
}

static void parts_of_an_untouched_mapping(void)
{
    char *m = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m[8] = 1;
    mprotect(m, 16 * PAGE, PROT_READ);
    show("write to a page made read-only (untouched)", m, 5, 1, 5);
    show("write to the touched one", m, 0, 1, 5);
    show("read an untouched read-only page", m, 6, 0, 0);
    munmap(m + 7 * PAGE, PAGE);
    show("read an unmapped page (never touched)", m, 7, 0, 0);
    mprotect(m + 3 * PAGE, PAGE, PROT_NONE);
    show("read a PROT_NONE guard (never touched)", m, 3, 0, 0);
    show("read beside the guard", m, 2, 0, 0);
    munmap(m, 16 * PAGE);
}

int main(void)
{
    catch_segv();
    setvbuf(stdout, NULL, _IONBF, 0);
    parts_of_a_used_mapping();
    parts_of_an_untouched_mapping();
    return 0;
}
