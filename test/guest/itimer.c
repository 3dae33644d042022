/*
 * itimer.c - ITIMER_REAL: alarm's returned seconds, setitimer/getitimer values, SIGALRM (with
 * si_code SI_KERNEL) interrupting a computing thread and a blocked pause(), intervals, the
 * timer not inherited by fork, and a process that keeps SIGALRM's default action dying of it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static volatile int alarms, kernel_code;

static void on_alarm(int sig, siginfo_t *info, void *ctx)
{
    (void)sig; (void)ctx;
    alarms++;
    kernel_code = info->si_code == SI_KERNEL;
}

int main(void)
{
    CHECKV("alarm(5) with none pending", alarm(5));
    CHECKV("alarm(0) returns what was left", alarm(0));
    CHECKV("alarm(0) with none pending", alarm(0));

    struct sigaction sa = { .sa_sigaction = on_alarm, .sa_flags = SA_SIGINFO };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = { .it_interval = { 0, 20000 }, .it_value = { 0, 50000 } }, got;
    CHECKN("setitimer 50 ms, then every 20 ms", setitimer(ITIMER_REAL, &every, NULL));
    CHECKN("getitimer", getitimer(ITIMER_REAL, &got));
    EXPECT("its value is at most 50 ms and not 0", got.it_value.tv_sec == 0 && got.it_value.tv_usec > 0 && got.it_value.tv_usec <= 50000);
    EXPECT("its interval is 20 ms", got.it_interval.tv_sec == 0 && got.it_interval.tv_usec == 20000);
    while (alarms < 3) { /* computing: the signals must interrupt guest code */ }
    printf("three SIGALRMs while computing: yes\n");
    EXPECT("si_code is SI_KERNEL", kernel_code);
    struct itimerval off = { 0 }, old;
    CHECKN("disarming", setitimer(ITIMER_REAL, &off, &old));
    EXPECT("the old interval was 20 ms", old.it_interval.tv_usec == 20000);
    CHECKN("getitimer after disarming", getitimer(ITIMER_REAL, &got));
    EXPECT("it is disarmed", got.it_value.tv_sec == 0 && got.it_value.tv_usec == 0);
    struct itimerval bad = { .it_value = { 0, 1000000 } };
    EXPECT_ERR("tv_usec of 1000000", setitimer(ITIMER_REAL, &bad, NULL), EINVAL);
    EXPECT_ERR("an unknown timer", setitimer(7, &every, NULL), EINVAL);

    alarms = 0;
    struct itimerval once = { .it_value = { 0, 30000 } };
    setitimer(ITIMER_REAL, &once, NULL);
    int r = pause(), e = errno;
    printf("pause: %d %s\n", r, e == EINTR ? "EINTR" : "?");
    printf("alarms after pause: %d\n", alarms);

    setitimer(ITIMER_REAL, &every, NULL);
    pid_t child = fork();
    if (child == 0) {
        struct itimerval mine;
        getitimer(ITIMER_REAL, &mine);
        _exit(mine.it_value.tv_sec == 0 && mine.it_value.tv_usec == 0 ? 0 : 1);
    }
    int status;
    while (waitpid(child, &status, 0) < 0) { /* EINTR from the parent's own alarms */ }
    printf("fork does not inherit the timer: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
    setitimer(ITIMER_REAL, &off, NULL);

    child = fork();
    if (child == 0) {
        signal(SIGALRM, SIG_DFL);
        setitimer(ITIMER_REAL, &once, NULL);
        for (;;) { }
    }
    waitpid(child, &status, 0);
    printf("default action: %s\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? "killed by SIGALRM" : "something else");
    return FINISH();
}
