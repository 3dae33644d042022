/*
 * Kicking a KVM vCPU thread out of KVM_RUN: another thread raises the vCPU's preemption word
 * and sends this signal to it (shared-mem/preempt.ts). The handler sets kvm_run's
 * immediate_exit, so a kick that lands just before KVM_RUN enters the guest is not lost;
 * KVM_RUN then returns EINTR. SA_RESTART keeps the worker's other host calls unaffected.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>

static __thread volatile uint8_t *immediate_exit;

static void on_kick(int sig)
{
    (void)sig;
    if (immediate_exit)
        *immediate_exit = 1;
}

/* Called on each vCPU thread with the address of its kvm_run's immediate_exit byte. */
int starling_kvm_kick_setup(int sig, uint64_t immediate_exit_address)
{
    struct sigaction sa;
    sigset_t set;

    immediate_exit = (volatile uint8_t *)(uintptr_t)immediate_exit_address;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_kick;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        return -1;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}
