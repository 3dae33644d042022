/*
 * signals.c - signal delivery: raise and kill to a handler (si_code SI_USER), blocking and
 * sigpending, delivery on unblocking, a SIGSEGV handler that siglongjmps out (si_addr),
 * SIGCHLD from an exiting child, sigsuspend woken by a signal from a child (the signal is
 * blocked until sigsuspend, so the order cannot race), read() on a pipe interrupted with
 * EINTR (no SA_RESTART) and restarted (SA_RESTART), and death by an unhandled SIGTERM
 * (exit status 143 from the shell's point of view: the harness compares statuses), plus
 * sigwaitinfo/sigtimedwait, sigqueue's value, and EPIPE from a pipe without readers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include "check.h"

static volatile sig_atomic_t got, got_code, chld_count;
static volatile void *fault_addr;
static sigjmp_buf jump;

static void on_signal(int s) { got = s; }
static void on_info(int s, siginfo_t *si, void *uc) { (void)uc; got = s; got_code = si->si_code; }
static void on_segv(int s, siginfo_t *si, void *uc) { (void)s; (void)uc; fault_addr = si->si_addr; siglongjmp(jump, 1); }
static void on_chld(int s) { (void)s; chld_count++; }

static void handle(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

int main(void)
{
    handle(SIGUSR1, on_signal, 0);
    raise(SIGUSR1);
    printf("raise: handler got %d\n", got);

    struct sigaction info = { 0 };
    info.sa_sigaction = on_info;
    info.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &info, NULL);
    kill(getpid(), SIGUSR2);
    printf("kill: got %d si_code %d\n", got, got_code);

    sigset_t usr1, old, pending;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old);
    got = 0;
    raise(SIGUSR1);
    sigpending(&pending);
    printf("blocked: got %d, pending %d\n", got, sigismember(&pending, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: got %d\n", got);

    struct sigaction segv = { 0 };
    segv.sa_sigaction = on_segv;
    segv.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &segv, NULL);
    if (!sigsetjmp(jump, 1))
        *(volatile int *)0x10 = 1;
    printf("SIGSEGV handled at %p\n", (void *)fault_addr);

    handle(SIGCHLD, on_chld, 0);
    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    printf("SIGCHLD seen %d, child status %d\n", chld_count > 0, WEXITSTATUS(status));
    handle(SIGCHLD, SIG_DFL, 0);

    sigset_t alrm, none;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigemptyset(&none);
    handle(SIGALRM, on_signal, 0);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    got = 0;
    pid = fork();
    if (pid == 0) {
        kill(getppid(), SIGALRM);
        _exit(0);
    }
    CHECKN("sigsuspend", sigsuspend(&none));
    printf("sigsuspend: got %d\n", got);
    waitpid(pid, &status, 0);
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);

    int fds[2];
    pipe(fds);
    char c = 0;
    pid = fork();
    if (pid == 0) {
        usleep(50000);
        kill(getppid(), SIGALRM);
        usleep(50000);
        write(fds[1], "x", 1);
        _exit(0);
    }
    CHECKN("read without SA_RESTART", read(fds[0], &c, 1));
    waitpid(pid, &status, 0);
    read(fds[0], &c, 1);
    handle(SIGALRM, on_signal, SA_RESTART);
    pid = fork();
    if (pid == 0) {
        usleep(50000);
        kill(getppid(), SIGALRM);
        usleep(50000);
        write(fds[1], "y", 1);
        _exit(0);
    }
    CHECKV("read with SA_RESTART", read(fds[0], &c, 1));
    printf("read byte %c\n", c);
    waitpid(pid, &status, 0);

    /* sigwaitinfo/sigtimedwait take blocked signals without running handlers; sigqueue carries a value. */
    sigset_t waitset;
    sigemptyset(&waitset);
    sigaddset(&waitset, SIGUSR1);
    sigaddset(&waitset, SIGUSR2);
    sigprocmask(SIG_BLOCK, &waitset, NULL);
    siginfo_t si;
    raise(SIGUSR2);
    CHECKV("sigwaitinfo pending", sigwaitinfo(&waitset, &si));
    printf("si_code %d\n", si.si_code);
    struct timespec short_wait = { 0, 50000000 };
    CHECKN("sigtimedwait timeout", sigtimedwait(&waitset, &si, &short_wait));
    pid = fork();
    if (pid == 0) {
        union sigval v = { .sival_int = 42 };
        usleep(30000);
        sigqueue(getppid(), SIGUSR1, v);
        _exit(0);
    }
    CHECKV("sigwaitinfo queued", sigwaitinfo(&waitset, &si));
    printf("sival %d si_code %d\n", si.si_value.sival_int, si.si_code);
    waitpid(pid, &status, 0);

    /* A handler ends nanosleep with EINTR and the time left in rem. */
    handle(SIGALRM, on_signal, 0);
    pid = fork();
    if (pid == 0) {
        usleep(100000);
        kill(getppid(), SIGALRM);
        _exit(0);
    }
    struct timespec req = { 1, 0 }, rem = { 0, 0 };
    CHECKN("nanosleep interrupted", nanosleep(&req, &rem));
    printf("rem between 0.5 s and 1 s: %d\n", rem.tv_sec == 0 && rem.tv_nsec > 500000000);
    waitpid(pid, &status, 0);

    /* signalfd: blocked signals read as records, readable through epoll. */
    sigset_t sfdset;
    sigemptyset(&sfdset);
    sigaddset(&sfdset, SIGUSR1);
    sigaddset(&sfdset, SIGCHLD);
    sigprocmask(SIG_BLOCK, &sfdset, NULL);
    int sfd = signalfd(-1, &sfdset, SFD_NONBLOCK);
    struct signalfd_siginfo record;
    CHECKN("signalfd read with nothing pending", read(sfd, &record, sizeof record));
    raise(SIGUSR1);
    CHECKV("signalfd read", read(sfd, &record, sizeof record));
    printf("ssi_signo %u ssi_code %d\n", record.ssi_signo, record.ssi_code);
    int sep = epoll_create1(0);
    struct epoll_event sev = { .events = EPOLLIN, .data.u32 = 9 }, sgot;
    epoll_ctl(sep, EPOLL_CTL_ADD, sfd, &sev);
    pid = fork();
    if (pid == 0)
        _exit(5);
    CHECKV("epoll_wait on the signalfd", epoll_wait(sep, &sgot, 1, 5000));
    CHECKV("signalfd read SIGCHLD", read(sfd, &record, sizeof record));
    printf("ssi_signo %u ssi_status %d from the child %d\n", record.ssi_signo, record.ssi_status, (pid_t)record.ssi_pid == pid);
    waitpid(pid, &status, 0);
    sigprocmask(SIG_UNBLOCK, &sfdset, NULL);

    /* A write to a pipe without readers: EPIPE when SIGPIPE is ignored, death otherwise (below). */
    int broken[2];
    pipe(broken);
    close(broken[0]);
    handle(SIGPIPE, SIG_IGN, 0);
    CHECKN("write to a broken pipe", write(broken[1], "x", 1));
    handle(SIGPIPE, SIG_DFL, 0);

    printf("now dying of SIGTERM\n");
    fflush(stdout);
    kill(getpid(), SIGTERM);
    printf("not reached\n");
    return 0;
}
