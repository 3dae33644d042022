/*
 * misc.c - assorted process/system syscalls: uname, sysinfo, getrandom,
 * uid/gid, getgroups, prlimit64/getrlimit/setrlimit, umask, clocks and time,
 * nanosleep/clock_nanosleep, ioctl error paths, FIONREAD/FIOCLEX,
 * rt_sigaction/rt_sigprocmask (no delivery), arch_prctl, set_tid_address,
 * getpid/gettid/getppid, prctl PR_SET_NAME/PR_GET_NAME, getrusage, sched_yield.
 * Only properties that are stable across runs are printed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define K_ARCH_SET_GS 0x1001
#define K_ARCH_SET_FS 0x1002
#define K_ARCH_GET_FS 0x1003
#define K_ARCH_GET_GS 0x1004
#define K_GRND_NONBLOCK 0x0001
#define K_GRND_RANDOM 0x0002

/* kernel struct sigaction layout for x86-64 rt_sigaction */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

static void handler1(int sig) { (void)sig; }

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return ts_ns(&t);
}

static void test_ids(void)
{
    struct utsname u;
    if (CHECKN("uname", uname(&u)) == 0) {
        printf("sysname: %s\n", u.sysname);
        printf("machine: %s\n", u.machine);
    }
    EXPECT_ERR("SYS_uname EFAULT", syscall(SYS_uname, (void *)1), EFAULT);

    struct sysinfo si;
    memset(&si, 0, sizeof si);
    if (CHECKN("sysinfo", sysinfo(&si)) == 0) {
        EXPECT("sysinfo mem_unit > 0", si.mem_unit > 0);
        EXPECT("sysinfo totalram > 0", si.totalram > 0);
        EXPECT("sysinfo procs > 0", si.procs > 0);
    }
    EXPECT_ERR("SYS_sysinfo EFAULT", syscall(SYS_sysinfo, (void *)1), EFAULT);

    printf("getuid: %u\n", (unsigned)getuid());
    printf("geteuid: %u\n", (unsigned)geteuid());
    printf("getgid: %u\n", (unsigned)getgid());
    printf("getegid: %u\n", (unsigned)getegid());
    {
        uid_t r, e, s;
        if (CHECKN("getresuid", getresuid(&r, &e, &s)) == 0)
            printf("resuid: %u %u %u\n", (unsigned)r, (unsigned)e, (unsigned)s);
        gid_t gr, ge, gs;
        if (CHECKN("getresgid", getresgid(&gr, &ge, &gs)) == 0)
            printf("resgid: %u %u %u\n", (unsigned)gr, (unsigned)ge, (unsigned)gs);
    }
    int ng = getgroups(0, NULL);
    EXPECT("getgroups count >= 0", ng >= 0);
    if (ng > 0) {
        gid_t *g = malloc(sizeof(gid_t) * ng);
        EXPECT("getgroups fills list", getgroups(ng, g) == ng);
        free(g);
        gid_t one;
        if (ng > 1)
            EXPECT_ERR("getgroups too small", getgroups(1, &one), EINVAL);
        else
            printf("getgroups too small: -1 EINVAL\n"); /* not testable with one group */
    } else {
        printf("getgroups fills list: pass\n");
        printf("getgroups too small: -1 EINVAL\n");
    }
    EXPECT_ERR("getgroups negative", syscall(SYS_getgroups, -1, NULL), EINVAL);

    pid_t pid = getpid();
    EXPECT("getpid > 0", pid > 0);
    EXPECT("gettid == getpid", syscall(SYS_gettid) == pid);
    EXPECT("getppid >= 0", getppid() >= 0);
    static int tid_word;
    long st = syscall(SYS_set_tid_address, &tid_word);
    printf("set_tid_address: %s\n", st > 0 ? "positive" : "not positive");
    EXPECT("set_tid_address == tid", st == pid);
    EXPECT("getpgid(0) > 0", getpgid(0) > 0);
    EXPECT_ERR("getpgid(no such pid)", getpgid(0x3fffffff), ESRCH);
    EXPECT_ERR("kill(no such pid, 0)", kill(0x3fffffff, 0), ESRCH);
    CHECKN("kill(self, 0)", kill(pid, 0));
}

static void test_random(void)
{
    unsigned char a[64], b[64];
    CHECKV("getrandom 64", syscall(SYS_getrandom, a, sizeof a, 0));
    CHECKV("getrandom 64 NONBLOCK", syscall(SYS_getrandom, b, sizeof b, K_GRND_NONBLOCK));
    CHECKV("getrandom 0", syscall(SYS_getrandom, a, 0, 0));
    CHECKV("getrandom 16 GRND_RANDOM", syscall(SYS_getrandom, a, 16, K_GRND_RANDOM | K_GRND_NONBLOCK) > 0);
    EXPECT("two getrandom buffers differ", memcmp(a + 16, b + 16, 48) != 0);
    EXPECT_ERR("getrandom bad flags", syscall(SYS_getrandom, a, 16, 0x100), EINVAL);
    EXPECT_ERR("getrandom EFAULT", syscall(SYS_getrandom, (void *)1, 16, 0), EFAULT);
}

static void test_rlimit(void)
{
    struct rlimit rl, rl2;
    if (CHECKN("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &rl)) != 0)
        return;
    EXPECT("NOFILE soft <= hard", rl.rlim_cur <= rl.rlim_max);
    rlim_t newsoft = rl.rlim_max >= 200 ? 200 : rl.rlim_max;
    rl2 = rl;
    rl2.rlim_cur = newsoft;
    CHECKN("setrlimit NOFILE soft=200", setrlimit(RLIMIT_NOFILE, &rl2));
    memset(&rl2, 0, sizeof rl2);
    CHECKN("getrlimit NOFILE again", getrlimit(RLIMIT_NOFILE, &rl2));
    printf("NOFILE soft now: %llu\n", (unsigned long long)rl2.rlim_cur);
    EXPECT("NOFILE hard unchanged", rl2.rlim_max == rl.rlim_max);
    EXPECT_ERR("dup2 beyond soft limit", dup2(1, 250), EBADF);
    EXPECT_ERR("F_DUPFD beyond soft limit", fcntl(1, F_DUPFD, 250), EINVAL);
    {
        struct rlimit k;
        CHECKN("SYS_getrlimit NOFILE", syscall(SYS_getrlimit, RLIMIT_NOFILE, &k));
        printf("SYS_getrlimit soft: %llu\n", (unsigned long long)k.rlim_cur);
        k.rlim_cur = 150;
        CHECKN("SYS_setrlimit NOFILE soft=150", syscall(SYS_setrlimit, RLIMIT_NOFILE, &k));
        struct rlimit old, nw = { 180, rl.rlim_max };
        CHECKN("prlimit64 set 180 get old", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &nw, &old));
        printf("prlimit64 old soft: %llu\n", (unsigned long long)old.rlim_cur);
        CHECKN("prlimit64 get", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old));
        printf("prlimit64 soft: %llu\n", (unsigned long long)old.rlim_cur);
        CHECKN("prlimit64 get by own pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &old));
        printf("prlimit64 own pid soft: %llu\n", (unsigned long long)old.rlim_cur);
    }
    rl2 = rl;
    rl2.rlim_cur = rl.rlim_max;
    rl2.rlim_max = rl.rlim_max;
    /* soft > hard is invalid */
    struct rlimit bad = { 300, 100 };
    EXPECT_ERR("setrlimit soft > hard", setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
    EXPECT_ERR("getrlimit bad resource", syscall(SYS_getrlimit, 1000, &rl2), EINVAL);
    EXPECT_ERR("prlimit64 bad resource", syscall(SYS_prlimit64, 0, 1000, NULL, &rl2), EINVAL);
    EXPECT_ERR("prlimit64 no such pid", syscall(SYS_prlimit64, 0x3fffffff, RLIMIT_NOFILE, NULL, &rl2), ESRCH);
    EXPECT_ERR("getrlimit EFAULT", syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)1), EFAULT);
    CHECKN("restore NOFILE", setrlimit(RLIMIT_NOFILE, &rl));
    struct rlimit stk;
    CHECKN("getrlimit STACK", getrlimit(RLIMIT_STACK, &stk));
    CHECKN("setrlimit STACK unchanged", setrlimit(RLIMIT_STACK, &stk));
    CHECKN("getrlimit AS", getrlimit(RLIMIT_AS, &stk));

    mode_t old = umask(027);
    (void)old; /* the inherited umask is the harness's business */
    old = umask(077);
    printf("umask old after umask(027): %03o\n", (unsigned)old);
    old = umask(022);
    printf("umask old after umask(077): %03o\n", (unsigned)old);
}

static void test_time(void)
{
    struct timespec a, b, res;
    CHECKN("clock_gettime REALTIME", clock_gettime(CLOCK_REALTIME, &a));
    EXPECT("REALTIME after 2020", a.tv_sec > 1577836800);
    EXPECT("REALTIME nsec in range", a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
    CHECKN("clock_gettime MONOTONIC", clock_gettime(CLOCK_MONOTONIC, &a));
    CHECKN("clock_gettime MONOTONIC again", clock_gettime(CLOCK_MONOTONIC, &b));
    EXPECT("MONOTONIC non-decreasing", ts_ns(&b) >= ts_ns(&a));
    CHECKN("SYS_clock_gettime MONOTONIC", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b));
    EXPECT("raw MONOTONIC non-decreasing", ts_ns(&b) >= ts_ns(&a));
    CHECKN("clock_gettime MONOTONIC_RAW", clock_gettime(CLOCK_MONOTONIC_RAW, &a));
    CHECKN("clock_gettime BOOTTIME", clock_gettime(CLOCK_BOOTTIME, &a));
    CHECKN("clock_gettime PROCESS_CPUTIME_ID", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a));
    CHECKN("clock_gettime THREAD_CPUTIME_ID", clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a));
    CHECKN("clock_getres REALTIME", clock_getres(CLOCK_REALTIME, &res));
    EXPECT("REALTIME res > 0", ts_ns(&res) > 0 && ts_ns(&res) <= 1000000000);
    CHECKN("clock_getres MONOTONIC", clock_getres(CLOCK_MONOTONIC, &res));
    EXPECT("MONOTONIC res > 0", ts_ns(&res) > 0 && ts_ns(&res) <= 1000000000);
    CHECKN("SYS_clock_getres MONOTONIC NULL", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
    EXPECT_ERR("SYS_clock_gettime bad clock", syscall(SYS_clock_gettime, 12345, &a), EINVAL);
    EXPECT_ERR("SYS_clock_getres bad clock", syscall(SYS_clock_getres, 12345, &a), EINVAL);
    EXPECT_ERR("SYS_clock_gettime EFAULT", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1), EFAULT);

    struct timeval tv;
    CHECKN("gettimeofday", gettimeofday(&tv, NULL));
    time_t t1 = time(NULL);
    time_t t2 = 0;
    time(&t2);
    /* time() may read a coarse clock that lags gettimeofday by up to a tick */
    EXPECT("time close to gettimeofday", t1 >= tv.tv_sec - 1 && t1 - tv.tv_sec <= 5);
    EXPECT("time(&t) stores", t2 >= t1 && t2 - t1 <= 5);
    EXPECT("usec in range", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    CHECKN("SYS_gettimeofday", syscall(SYS_gettimeofday, &tv, NULL));
    EXPECT("SYS_time > 2020", syscall(SYS_time, NULL) > 1577836800);

    /* sleeping */
    struct timespec req = { 0, 10 * 1000000 };
    int64_t s = mono_ns();
    CHECKN("nanosleep 10ms", nanosleep(&req, NULL));
    printf("nanosleep: %s\n", mono_ns() - s >= 9500000 ? "slept ok" : "too short");
    s = mono_ns();
    CHECKRC("clock_nanosleep rel 10ms", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL));
    printf("clock_nanosleep rel: %s\n", mono_ns() - s >= 9500000 ? "slept ok" : "too short");
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    s = ts_ns(&dl);
    dl.tv_nsec += 10 * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_nsec -= 1000000000;
        dl.tv_sec++;
    }
    CHECKRC("clock_nanosleep TIMER_ABSTIME +10ms", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL));
    printf("clock_nanosleep abs: %s\n", mono_ns() - s >= 10000000 ? "slept ok" : "too short");
    struct timespec past = { 1, 0 };
    CHECKRC("clock_nanosleep TIMER_ABSTIME in past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
    s = mono_ns();
    CHECKN("SYS_clock_nanosleep REALTIME rel 10ms", syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &req, NULL));
    printf("SYS_clock_nanosleep: %s\n", mono_ns() - s >= 9500000 ? "slept ok" : "too short");
    struct timespec zero = { 0, 0 };
    CHECKN("nanosleep 0", nanosleep(&zero, NULL));
    struct timespec neg = { 0, -1 }, big = { 0, 1000000000 }, negsec = { -1, 0 };
    EXPECT_ERR("nanosleep negative tv_nsec", nanosleep(&neg, NULL), EINVAL);
    EXPECT_ERR("nanosleep tv_nsec 1e9", nanosleep(&big, NULL), EINVAL);
    EXPECT_ERR("SYS_nanosleep negative tv_sec", syscall(SYS_nanosleep, &negsec, NULL), EINVAL);
    CHECKRC("clock_nanosleep negative tv_nsec", clock_nanosleep(CLOCK_MONOTONIC, 0, &neg, NULL));
    EXPECT_ERR("SYS_clock_nanosleep negative tv_nsec", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &neg, NULL), EINVAL);
    EXPECT_ERR("SYS_clock_nanosleep bad clock", syscall(SYS_clock_nanosleep, 12345, 0, &req, NULL), EINVAL);
    EXPECT_ERR("SYS_nanosleep EFAULT", syscall(SYS_nanosleep, (void *)1, NULL), EFAULT);
}

static void test_ioctl(void)
{
    int fd = open("ioctl.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECKN("create ioctl.txt", fd);
    CHECKV("write 10", write(fd, "0123456789", 10));
    struct termios tio;
    EXPECT_ERR("TCGETS on regular file", ioctl(fd, TCGETS, &tio), ENOTTY);
    EXPECT_ERR("tcgetattr on regular file", tcgetattr(fd, &tio), ENOTTY);
    errno = 0;
    int tty = isatty(fd);
    printf("isatty(file): %d %s\n", tty, errno_name(errno));
    int nread = -1;
    lseek(fd, 3, SEEK_SET);
    CHECKN("FIONREAD on file", ioctl(fd, FIONREAD, &nread));
    printf("FIONREAD bytes: %d\n", nread);
    CHECKN("FIOCLEX", ioctl(fd, FIOCLEX));
    printf("FD_CLOEXEC after FIOCLEX: %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CHECKN("FIONCLEX", ioctl(fd, FIONCLEX));
    printf("FD_CLOEXEC after FIONCLEX: %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    EXPECT_ERR("ioctl bad fd", ioctl(9999, TCGETS, &tio), EBADF);
    close(fd);
    unlink("ioctl.txt");

    int nfd = open("/dev/null", O_RDWR);
    CHECKN("open /dev/null", nfd);
    struct winsize ws;
    EXPECT_ERR("TIOCGWINSZ on /dev/null", ioctl(nfd, TIOCGWINSZ, &ws), ENOTTY);
    EXPECT_ERR("TIOCSCTTY on /dev/null", ioctl(nfd, TIOCSCTTY, 0), ENOTTY);
    errno = 0;
    tty = isatty(nfd);
    printf("isatty(/dev/null): %d %s\n", tty, errno_name(errno));
    close(nfd);
}

static void test_signals(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECKN("sigaction SIGUSR1 set", sigaction(SIGUSR1, &sa, &old));
    EXPECT("old SIGUSR1 is SIG_DFL", old.sa_handler == SIG_DFL);
    memset(&old, 0, sizeof old);
    CHECKN("sigaction SIGUSR1 read", sigaction(SIGUSR1, NULL, &old));
    EXPECT("handler read back", old.sa_handler == handler1);
    EXPECT("SA_RESTART read back", (old.sa_flags & SA_RESTART) != 0);
    EXPECT("SA_SIGINFO not set", (old.sa_flags & SA_SIGINFO) == 0);
    EXPECT("mask has SIGUSR2", sigismember(&old.sa_mask, SIGUSR2) == 1);
    EXPECT("mask lacks SIGTERM", sigismember(&old.sa_mask, SIGTERM) == 0);

    /* raw rt_sigaction: SIG_IGN for SIGUSR2 and read back */
    struct ksigaction k = { SIG_IGN, 0, NULL, 0 }, ko;
    CHECKN("rt_sigaction SIGUSR2 SIG_IGN", syscall(SYS_rt_sigaction, SIGUSR2, &k, NULL, 8));
    memset(&ko, 0xff, sizeof ko);
    CHECKN("rt_sigaction SIGUSR2 read", syscall(SYS_rt_sigaction, SIGUSR2, NULL, &ko, 8));
    EXPECT("raw SIG_IGN read back", ko.handler == SIG_IGN && ko.mask == 0);
    printf("raw flags read back: 0x%lx\n", ko.flags);
    k.handler = SIG_DFL;
    k.flags = 0x04000000UL | SA_RESTART; /* SA_RESTORER without a restorer is accepted */
    CHECKN("rt_sigaction SIGUSR2 SIG_DFL", syscall(SYS_rt_sigaction, SIGUSR2, &k, &ko, 8));
    EXPECT("old was SIG_IGN", ko.handler == SIG_IGN);
    EXPECT_ERR("rt_sigaction bad sigsetsize", syscall(SYS_rt_sigaction, SIGUSR2, NULL, &ko, 4), EINVAL);
    EXPECT_ERR("rt_sigaction SIGKILL", syscall(SYS_rt_sigaction, SIGKILL, &k, NULL, 8), EINVAL);
    EXPECT_ERR("rt_sigaction SIGSTOP", syscall(SYS_rt_sigaction, SIGSTOP, &k, NULL, 8), EINVAL);
    EXPECT_ERR("rt_sigaction signal 0", syscall(SYS_rt_sigaction, 0, NULL, &ko, 8), EINVAL);
    EXPECT_ERR("rt_sigaction signal 65", syscall(SYS_rt_sigaction, 65, NULL, &ko, 8), EINVAL);
    CHECKN("rt_sigaction SIGKILL read only", syscall(SYS_rt_sigaction, SIGKILL, NULL, &ko, 8));
    EXPECT_ERR("rt_sigaction EFAULT", syscall(SYS_rt_sigaction, SIGUSR1, (void *)1, NULL, 8), EFAULT);
    EXPECT_ERR("sigaction SIGKILL (libc)", sigaction(SIGKILL, &sa, NULL), EINVAL);

    /* sigprocmask */
    sigset_t set, oset;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGALRM);
    CHECKN("sigprocmask BLOCK USR1|ALRM", sigprocmask(SIG_BLOCK, &set, &oset));
    EXPECT("USR1 was not blocked", sigismember(&oset, SIGUSR1) == 0);
    sigemptyset(&oset);
    CHECKN("sigprocmask read", sigprocmask(SIG_SETMASK, NULL, &oset));
    EXPECT("USR1 now blocked", sigismember(&oset, SIGUSR1) == 1);
    EXPECT("ALRM now blocked", sigismember(&oset, SIGALRM) == 1);
    EXPECT("TERM not blocked", sigismember(&oset, SIGTERM) == 0);
    sigemptyset(&set);
    sigaddset(&set, SIGKILL);
    sigaddset(&set, SIGSTOP);
    CHECKN("sigprocmask BLOCK KILL|STOP (ignored)", sigprocmask(SIG_BLOCK, &set, NULL));
    sigprocmask(SIG_SETMASK, NULL, &oset);
    EXPECT("KILL/STOP cannot be blocked", !sigismember(&oset, SIGKILL) && !sigismember(&oset, SIGSTOP));
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECKN("sigprocmask UNBLOCK USR1", sigprocmask(SIG_UNBLOCK, &set, NULL));
    sigprocmask(SIG_SETMASK, NULL, &oset);
    EXPECT("USR1 unblocked, ALRM still blocked", !sigismember(&oset, SIGUSR1) && sigismember(&oset, SIGALRM));
    {
        uint64_t m = 0, om = 0;
        CHECKN("rt_sigprocmask raw read", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &om, 8));
        EXPECT("raw mask has ALRM", (om >> (SIGALRM - 1)) & 1);
        m = 1ULL << (SIGALRM - 1);
        CHECKN("rt_sigprocmask raw UNBLOCK ALRM", syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &m, &om, 8));
        CHECKN("rt_sigprocmask raw read again", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &om, 8));
        EXPECT("raw mask lacks ALRM", !((om >> (SIGALRM - 1)) & 1));
        EXPECT_ERR("rt_sigprocmask bad how", syscall(SYS_rt_sigprocmask, 99, &m, NULL, 8), EINVAL);
        EXPECT_ERR("rt_sigprocmask bad sigsetsize", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &m, NULL, 16), EINVAL);
        EXPECT_ERR("rt_sigprocmask EFAULT", syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)1, NULL, 8), EFAULT);
    }
    sigset_t pend;
    CHECKN("sigpending", sigpending(&pend));
    EXPECT("nothing pending", sigismember(&pend, SIGUSR1) == 0);
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = 0;
    CHECKN("restore SIGUSR1", sigaction(SIGUSR1, &sa, NULL));
}

static void test_arch(void)
{
    unsigned long fs = 0, gs = 1;
    CHECKN("arch_prctl ARCH_GET_FS", syscall(SYS_arch_prctl, K_ARCH_GET_FS, &fs));
    EXPECT("FS base nonzero", fs != 0);
    /* the TLS self-pointer lives at %fs:0 in both glibc and musl */
    unsigned long self;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    EXPECT("FS base == %fs:0 self pointer", self == fs);
    CHECKN("arch_prctl ARCH_GET_GS", syscall(SYS_arch_prctl, K_ARCH_GET_GS, &gs));
    printf("GS base: %lu\n", gs);
    CHECKN("arch_prctl ARCH_SET_FS same value", syscall(SYS_arch_prctl, K_ARCH_SET_FS, fs));
    EXPECT_ERR("arch_prctl bad code", syscall(SYS_arch_prctl, 0x9999, &fs), EINVAL);
    EXPECT_ERR("arch_prctl GET_FS EFAULT", syscall(SYS_arch_prctl, K_ARCH_GET_FS, (void *)1), EFAULT);

    char name[32];
    CHECKN("prctl PR_SET_NAME", prctl(PR_SET_NAME, "starling-test"));
    memset(name, 0, sizeof name);
    CHECKN("prctl PR_GET_NAME", prctl(PR_GET_NAME, name));
    printf("comm: %s\n", name);
    CHECKN("prctl PR_SET_NAME long", prctl(PR_SET_NAME, "a-very-long-thread-name"));
    memset(name, 0, sizeof name);
    prctl(PR_GET_NAME, name);
    printf("comm truncated: %s\n", name);
    EXPECT_ERR("prctl bad option", prctl(0x7fff0000, 0, 0, 0, 0), EINVAL);

    struct rusage ru;
    CHECKN("getrusage SELF", getrusage(RUSAGE_SELF, &ru));
    EXPECT("maxrss > 0", ru.ru_maxrss > 0);
    EXPECT_ERR("getrusage bad who", syscall(SYS_getrusage, 42, &ru), EINVAL);
    CHECKN("sched_yield", sched_yield());
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CHECKN("sched_getaffinity", sched_getaffinity(0, sizeof cs, &cs));
    EXPECT("at least one cpu in affinity", CPU_COUNT(&cs) >= 1);
}

int main(void)
{
    test_ids();
    test_random();
    test_rlimit();
    test_time();
    test_ioctl();
    test_signals();
    test_arch();
    return FINISH();
}
