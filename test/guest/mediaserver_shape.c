/*
 * mediaserver_shape.c - MediaServer's syscall patterns (../shared/zlm/SUMMARY.md) in one guest
 * program that CI always runs: popen("which ffmpeg") from start-up, /proc/sys/vm/overcommit_memory,
 * prlimit64 on RLIMIT_CORE and RLIMIT_NOFILE (EPERM above the hard limit), a -d style supervisor
 * (fork, wait4, restart once), two "event poller" threads at SCHED_FIFO 99 with epoll_create,
 * edge-triggered pipe wake-ups and PR_SET_NAME, a "stamp thread" sleeping 500 us in a loop, and
 * an "async log" thread fed through a condition variable. Output is deterministic.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define POLLERS 2
#define WAKEUPS 200

static int wake_pipe[POLLERS][2];
static int handled[POLLERS];
static volatile int stop_stamp;
static long stamps;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_cv = PTHREAD_COND_INITIALIZER;
static int log_pending, log_written, log_done;

static void *poller(void *arg)
{
    long n = (long)arg;
    char name[16];
    snprintf(name, sizeof name, "event poller %ld", n);
    prctl(PR_SET_NAME, name);
    int ep = epoll_create(1024);
    fcntl(ep, F_SETFD, FD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = (uint64_t)n };
    epoll_ctl(ep, EPOLL_CTL_ADD, wake_pipe[n][0], &ev);
    while (handled[n] < WAKEUPS) {
        struct epoll_event got[16];
        int k = epoll_wait(ep, got, 16, 1000);
        for (int i = 0; i < k; i++) {
            char buf[64];
            int r;
            while ((r = read(wake_pipe[n][0], buf, sizeof buf)) > 0)
                handled[n] += r;
        }
    }
    close(ep);
    return NULL;
}

static void *stamp_thread(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "stamp thread");
    while (!stop_stamp) {
        usleep(500);
        stamps++;
    }
    return NULL;
}

static void *async_log(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "async log");
    pthread_mutex_lock(&log_mu);
    for (;;) {
        while (!log_pending && !log_done)
            pthread_cond_wait(&log_cv, &log_mu);
        if (!log_pending && log_done)
            break;
        log_written += log_pending;
        log_pending = 0;
    }
    pthread_mutex_unlock(&log_mu);
    return NULL;
}

static void log_line(void)
{
    pthread_mutex_lock(&log_mu);
    log_pending++;
    pthread_cond_signal(&log_cv);
    pthread_mutex_unlock(&log_mu);
}

/* The worker a -d supervisor forks: pollers, a stamp thread and a logger, for a short while. */
static int worker(void)
{
    pthread_t pollers[POLLERS], stamp, logger;
    pthread_create(&logger, NULL, async_log, NULL);
    pthread_create(&stamp, NULL, stamp_thread, NULL);
    for (long n = 0; n < POLLERS; n++) {
        pipe2(wake_pipe[n], O_NONBLOCK | O_CLOEXEC);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
        struct sched_param prio = { .sched_priority = sched_get_priority_max(SCHED_FIFO) };
        pthread_attr_setschedparam(&attr, &prio);
        pthread_create(&pollers[n], &attr, poller, (void *)n);
    }
    for (int i = 0; i < WAKEUPS; i++) {
        for (int n = 0; n < POLLERS; n++)
            write(wake_pipe[n][1], "x", 1);
        log_line();
        if (i % 20 == 0)
            usleep(1000);
    }
    for (int n = 0; n < POLLERS; n++)
        pthread_join(pollers[n], NULL);
    usleep(20000);
    stop_stamp = 1;
    pthread_join(stamp, NULL);
    pthread_mutex_lock(&log_mu);
    log_done = 1;
    pthread_cond_signal(&log_cv);
    pthread_mutex_unlock(&log_mu);
    pthread_join(logger, NULL);
    printf("pollers handled %d and %d wake-ups\n", handled[0], handled[1]);
    printf("stamp thread woke up: %s\n", stamps > 10 ? "many times" : "too rarely");
    printf("log lines written: %d\n", log_written);
    fflush(stdout);
    return 7;
}

int main(void)
{
    FILE *which = popen("which ffmpeg", "r");
    char path[256] = { 0 };
    if (which && fgets(path, sizeof path, which))
        path[strcspn(path, "\n")] = 0;
    printf("which ffmpeg: %s (pclose %d)\n", path, which ? pclose(which) : -1);

    char overcommit[8] = { 0 };
    int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY);
    CHECKV("read overcommit_memory", read(fd, overcommit, sizeof overcommit - 1));
    printf("overcommit_memory: %c\n", overcommit[0]);
    close(fd);

    struct rlimit core = { RLIM_INFINITY, RLIM_INFINITY }, files;
    CHECKN("prlimit64 RLIMIT_CORE infinity", prlimit(0, RLIMIT_CORE, &core, NULL));
    getrlimit(RLIMIT_NOFILE, &files);
    struct rlimit too_many = { RLIM_INFINITY, RLIM_INFINITY };
    EXPECT_ERR("prlimit64 RLIMIT_NOFILE infinity", prlimit(0, RLIMIT_NOFILE, &too_many, NULL), EPERM);
    files.rlim_cur = files.rlim_max;
    CHECKN("RLIMIT_NOFILE to the hard limit", setrlimit(RLIMIT_NOFILE, &files));

    /* -d: the supervisor forks the worker, waits for it, and restarts it once. */
    for (int round = 1; round <= 2; round++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            _exit(worker());
        int status;
        pid_t w = wait4(pid, &status, 0, NULL);
        printf("round %d: worker %s with status %d\n", round, w == pid && WIFEXITED(status) ? "exited" : "failed", WEXITSTATUS(status));
    }
    return FINISH();
}
