/* shootdown.c - munmap on one thread while another thread of the process keeps reading the
 * page (on another vCPU where the backend allows): the reader faults on its next access,
 * with SIGSEGV, si_addr the page and si_code SEGV_MAPERR, as after Linux's TLB shootdown. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static char *page;
static atomic_int reading;
static atomic_long reads;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    const char *msg = si->si_addr != page ? "fault at another address\n"
        : si->si_code != SEGV_MAPERR ? "fault at the page, wrong si_code\n"
        : "fault at the unmapped page, SEGV_MAPERR\n";
    write(1, msg, strlen(msg));
    _exit(0);
}

static void *reader(void *arg)
{
    (void)arg;
    for (;;) {
        atomic_store(&reading, 1);
        if (*(volatile char *)page != 7) return NULL;
        atomic_fetch_add(&reads, 1);
    }
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 7;
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    while (!atomic_load(&reading) || atomic_load(&reads) < 1000) sched_yield();
    munmap(page, 4096);
    struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
    for (int i = 0; i < 500; i++) nanosleep(&ten_ms, NULL);
    printf("no fault after munmap\n");
    return 1;
}
