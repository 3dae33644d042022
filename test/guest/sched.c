/*
 * sched.c - scheduling policies and priorities: the priority ranges, sched_setscheduler with
 * its EINVAL cases, sched_rr_get_interval, nice values, and the order in which SCHED_FIFO
 * threads of different priorities run on one CPU (the process pins itself to CPU 0 first, so
 * the order is the same natively). Needs root, as the tests run.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <errno.h>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "check.h"

/* musl's sched_setscheduler() deliberately returns ENOSYS, so the policy calls are raw. */
static long setscheduler(int policy, int prio)
{
    struct sched_param p = { .sched_priority = prio };
    return syscall(SYS_sched_setscheduler, 0, policy, &p);
}
static volatile int order[8]; static volatile int n;
static void *rt(void *arg) { order[n++] = (int)(long)arg; return 0; }
int main(void) {
  cpu_set_t set; CPU_ZERO(&set); CPU_SET(0, &set);
  printf("pin: %d\n", sched_setaffinity(0, sizeof set, &set));
  printf("fifo %d..%d rr %d..%d other %d..%d\n", sched_get_priority_min(SCHED_FIFO), sched_get_priority_max(SCHED_FIFO), sched_get_priority_min(SCHED_RR), sched_get_priority_max(SCHED_RR), sched_get_priority_min(SCHED_OTHER), sched_get_priority_max(SCHED_OTHER));
  CHECKN("set fifo 10", setscheduler(SCHED_FIFO, 10));
  printf("policy %ld\n", syscall(SYS_sched_getscheduler, 0));
  CHECKN("fifo priority 0", setscheduler(SCHED_FIFO, 0));
  CHECKN("other priority 5", setscheduler(SCHED_OTHER, 5));
  CHECKN("bad policy", setscheduler(42, 0));
  struct timespec ts; sched_rr_get_interval(0, &ts); printf("fifo interval %ld\n", ts.tv_nsec);
  /* threads at higher FIFO priority run before the creator continues; lower ones after it blocks */
  pthread_attr_t a; pthread_attr_init(&a); pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED); pthread_attr_setschedpolicy(&a, SCHED_FIFO);
  pthread_t th[3]; int prios[3] = { 5, 50, 20 };
  for (int i = 0; i < 3; i++) { struct sched_param q = { .sched_priority = prios[i] }; pthread_attr_setschedparam(&a, &q); pthread_create(&th[i], &a, rt, (void *)(long)prios[i]); }
  order[n++] = 10;
  for (int i = 0; i < 3; i++) pthread_join(th[i], 0);
  printf("order:"); for (int i = 0; i < n; i++) printf(" %d", order[i]); printf("\n");
  CHECKN("back to other", setscheduler(SCHED_OTHER, 0));
  errno = 0; int pr = getpriority(PRIO_PROCESS, 0); printf("nice %d\n", pr);
  setpriority(PRIO_PROCESS, 0, 5); printf("nice after %d\n", getpriority(PRIO_PROCESS, 0));
  return 0;
}
