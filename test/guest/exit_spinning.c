/* exit_spinning.c - the process exits while another of its threads spins on another CPU with
 * no syscalls: that thread ends with it, and the exit status is the process's. Under Starling's
 * KVM backend the address space's page tables must outlive the spinner's last instruction
 * (a teardown while it still ran made its vCPU triple-fault at the next interrupt). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

static volatile int spinning;

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static void *spin(void *arg)
{
    (void)arg;
    pin(1);
    spinning = 1;
    for (;;)
        ;
    return 0;
}

int main(void)
{
    pin(0);
    pthread_t t;
    pthread_create(&t, 0, spin, 0);
    while (!spinning) usleep(1000);
    usleep(20 * 1000);
    printf("exiting while a thread spins on cpu 1\n");
    return 3;
}
