/*
 * readiness.c - epoll (level- and edge-triggered, EPOLLONESHOT re-armed with EPOLL_CTL_MOD,
 * EPOLLEXCLUSIVE and one shared epoll with several waiting threads whose lost races give
 * EAGAIN, EPOLLRDHUP, EPOLLPRI from urgent data, EPOLLERR/EPOLLHUP, EPOLLWAKEUP, ctl errors),
 * epoll_pwait and epoll_pwait2 with signal masks and timeouts, eventfd (counter, EFD_SEMAPHORE,
 * EFD_NONBLOCK, overflow, a blocked reader woken by a writer), timerfd (relative, absolute,
 * intervals, expiration counts, gettime, disarming) and poll/ppoll/select on sockets.
 * Only counts and flags are printed: the same on every run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include "check.h"

static int listener(struct sockaddr_in *a)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof *a;
    bind(s, (struct sockaddr *)a, l);
    listen(s, 128);
    getsockname(s, (struct sockaddr *)a, &l);
    return s;
}

static void tcp_pair(int *client, int *server)
{
    struct sockaddr_in a;
    int ls = listener(&a);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    connect(*client, (struct sockaddr *)&a, sizeof a);
    struct pollfd p = { .fd = ls, .events = POLLIN };
    poll(&p, 1, 5000);
    *server = accept(ls, 0, 0);
    close(ls);
}

/* The events of one ready fd (0 when nothing is ready within timeout ms). */
static unsigned wait_one(int ep, int timeout)
{
    struct epoll_event ev;
    int n = epoll_wait(ep, &ev, 1, timeout);
    return n == 1 ? ev.events : 0;
}

static void triggers(void)
{
    int c, s;
    tcp_pair(&c, &s);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    EXPECT("epoll_create1 EPOLL_CLOEXEC", fcntl(ep, F_GETFD) & FD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1122334455667788ULL };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
    EXPECT_ERR("EPOLL_CTL_ADD twice", epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), EEXIST);
    EXPECT_ERR("EPOLL_CTL_MOD of an fd not added", epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev), ENOENT);
    EXPECT_ERR("epoll_ctl on itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
    EXPECT_ERR("epoll_ctl with a bad op", epoll_ctl(ep, 99, s, &ev), EINVAL);
    int file = open("readiness-file", O_CREAT | O_RDWR, 0600);
    EXPECT_ERR("epoll_ctl on a regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev), EPERM);
    close(file);
    unlink("readiness-file");
    EXPECT_ERR("epoll_wait with maxevents 0", epoll_wait(ep, &ev, 0, 0), EINVAL);
    EXPECT_ERR("epoll_wait on a non-epoll fd", epoll_wait(s, &ev, 1, 0), EINVAL);
    printf("level-triggered, nothing yet: %u\n", wait_one(ep, 0));
    write(c, "ab", 2);
    struct epoll_event got;
    int n = epoll_wait(ep, &got, 1, 5000);
    printf("level-triggered: %d event(s) 0x%x data ok %s\n", n, got.events, got.data.u64 == 0x1122334455667788ULL ? "yes" : "no");
    printf("level-triggered again without reading: 0x%x\n", wait_one(ep, 0));

    ev.events = EPOLLIN | EPOLLET;
    CHECKN("EPOLL_CTL_MOD to edge-triggered", epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev));
    printf("edge-triggered after MOD (data pending): 0x%x\n", wait_one(ep, 0));
    printf("edge-triggered again: 0x%x\n", wait_one(ep, 0));
    write(c, "c", 1);
    printf("edge-triggered after new data: 0x%x\n", wait_one(ep, 5000));
    char b[16];
    read(s, b, sizeof b);

    ev.events = EPOLLIN | EPOLLONESHOT;
    epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
    write(c, "d", 1);
    printf("oneshot: 0x%x\n", wait_one(ep, 5000));
    write(c, "e", 1);
    printf("oneshot disarmed: 0x%x\n", wait_one(ep, 0));
    epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
    printf("oneshot re-armed: 0x%x\n", wait_one(ep, 0));
    read(s, b, sizeof b);

    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLPRI;
    epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
    send(c, "!", 1, MSG_OOB);
    unsigned e = wait_one(ep, 5000);
    printf("urgent data gives EPOLLPRI: %s\n", e & EPOLLPRI ? "yes" : "no");
    recv(s, b, 1, MSG_OOB);
    shutdown(c, SHUT_WR);
    usleep(10000);
    e = wait_one(ep, 5000);
    printf("peer's SHUT_WR: 0x%x\n", e);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL));
    printf("after DEL: %u\n", wait_one(ep, 0));
    close(c);
    close(s);

    /* EPOLLERR/EPOLLHUP without asking, from a refused connect; EPOLLOUT on a fresh connection. */
    struct sockaddr_in a;
    int gone = listener(&a);
    close(gone);
    int r = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(r, (struct sockaddr *)&a, sizeof a);
    ev.events = EPOLLIN | EPOLLWAKEUP;
    CHECKN("EPOLLWAKEUP accepted", epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev));
    usleep(10000);
    printf("refused connect: 0x%x\n", wait_one(ep, 5000));
    epoll_ctl(ep, EPOLL_CTL_DEL, r, NULL);
    close(r);

    /* Closing an fd removes it from the epoll. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    ev.events = EPOLLOUT;
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
    printf("socketpair writable: 0x%x\n", wait_one(ep, 0));
    ev.events = EPOLLIN | EPOLLHUP;
    epoll_ctl(ep, EPOLL_CTL_MOD, sv[0], &ev);
    close(sv[1]);
    printf("socketpair peer closed: 0x%x\n", wait_one(ep, 5000));
    close(sv[0]);
    printf("closed fd is gone: %u\n", wait_one(ep, 0));
    int pp[2];
    pipe(pp);
    ev.events = EPOLLIN;
    epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    EXPECT_ERR("EPOLLEXCLUSIVE with MOD", epoll_ctl(ep, EPOLL_CTL_MOD, pp[0], &ev), EINVAL);
    close(pp[0]);
    close(pp[1]);
    close(ep);
}

#define WAITERS 4
#define CLIENTS 40

static int shared_ep, stop_fd, listen_fd;
static int accepted_total, lost_races, threads_working;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* A MediaServer event poller: wait, accept what is there; EAGAIN means another thread won. */
static void *acceptor(void *arg)
{
    int ep = arg ? *(int *)arg : shared_ep;
    int mine = 0, lost = 0;
    for (;;) {
        struct epoll_event evs[4];
        int n = epoll_wait(ep, evs, 4, 10000);
        if (n <= 0)
            break;
        int stop = 0;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == stop_fd) {
                stop = 1;
                continue;
            }
            for (;;) {
                int c = accept4(listen_fd, 0, 0, SOCK_NONBLOCK);
                if (c < 0) {
                    if (errno == EAGAIN)
                        lost++;
                    break;
                }
                mine++;
                close(c);
            }
        }
        if (stop)
            break;
    }
    pthread_mutex_lock(&mu);
    accepted_total += mine;
    lost_races += lost;
    threads_working++;
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void connect_clients(struct sockaddr_in *a, int *fds)
{
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        connect(fds[i], (struct sockaddr *)a, sizeof *a);
    }
    /* Every connection is accepted before the pollers are told to stop. */
    for (int tries = 0; tries < 1000; tries++) {
        pthread_mutex_lock(&mu);
        pthread_mutex_unlock(&mu);
        struct pollfd p = { .fd = listen_fd, .events = POLLIN };
        if (poll(&p, 1, 0) == 0) {
            usleep(20000);
            if (poll(&p, 1, 0) == 0)
                break;
        }
        usleep(5000);
    }
}

static void several_waiters(void)
{
    struct sockaddr_in a;
    int fds[CLIENTS];
    pthread_t th[WAITERS];

    /* One epoll, level-triggered, WAITERS threads in epoll_wait on it. */
    listen_fd = listener(&a);
    stop_fd = eventfd(0, EFD_NONBLOCK);
    shared_ep = epoll_create(1);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = listen_fd };
    epoll_ctl(shared_ep, EPOLL_CTL_ADD, listen_fd, &ev);
    ev.data.fd = stop_fd;
    epoll_ctl(shared_ep, EPOLL_CTL_ADD, stop_fd, &ev);
    for (int i = 0; i < WAITERS; i++)
        pthread_create(&th[i], 0, acceptor, NULL);
    connect_clients(&a, fds);
    uint64_t one = 1;
    write(stop_fd, &one, 8);
    for (int i = 0; i < WAITERS; i++)
        pthread_join(th[i], 0);
    printf("shared epoll: %d of %d accepted, %d threads finished\n", accepted_total, CLIENTS, threads_working);
    for (int i = 0; i < CLIENTS; i++)
        close(fds[i]);
    close(shared_ep);
    close(stop_fd);
    close(listen_fd);

    /* EPOLLEXCLUSIVE: one epoll per thread, the listener added exclusively to each. */
    accepted_total = threads_working = lost_races = 0;
    listen_fd = listener(&a);
    stop_fd = eventfd(0, EFD_NONBLOCK);
    int eps[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        eps[i] = epoll_create1(0);
        struct epoll_event x = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd };
        if (epoll_ctl(eps[i], EPOLL_CTL_ADD, listen_fd, &x) < 0)
            printf("EPOLLEXCLUSIVE add: %s\n", errno_name(errno));
        x.events = EPOLLIN;
        x.data.fd = stop_fd;
        epoll_ctl(eps[i], EPOLL_CTL_ADD, stop_fd, &x);
        pthread_create(&th[i], 0, acceptor, &eps[i]);
    }
    connect_clients(&a, fds);
    write(stop_fd, &one, 8);
    for (int i = 0; i < WAITERS; i++)
        pthread_join(th[i], 0);
    printf("EPOLLEXCLUSIVE: %d of %d accepted, %d threads finished\n", accepted_total, CLIENTS, threads_working);
    for (int i = 0; i < WAITERS; i++)
        close(eps[i]);
    for (int i = 0; i < CLIENTS; i++)
        close(fds[i]);
    close(stop_fd);
    close(listen_fd);
}

static volatile int usr1;
static void on_usr1(int sig) { (void)sig; usr1++; }

static void masks(void)
{
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, 0);
    sigset_t block, none, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR1);
    int ep = epoll_create1(0);
    struct epoll_event ev;
    CHECKV("epoll_pwait keeping SIGUSR1 blocked", epoll_pwait(ep, &ev, 1, 10, &block));
    printf("handler ran: %d\n", usr1);
    EXPECT_ERR("epoll_pwait unblocking a pending SIGUSR1", epoll_pwait(ep, &ev, 1, 1000, &none), EINTR);
    printf("handler ran: %d\n", usr1);
    struct timespec ts = { 0, 10000000 };
    CHECKV("epoll_pwait2 with a 10 ms timeout", syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8));
    ts.tv_nsec = 0;
    CHECKV("epoll_pwait2 with a zero timeout", syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8));
    ts.tv_nsec = 2000000000;
    EXPECT_ERR("epoll_pwait2 with a bad timeout", syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8), EINVAL);
    raise(SIGUSR1);
    EXPECT_ERR("epoll_pwait2 unblocking a pending SIGUSR1", syscall(SYS_epoll_pwait2, ep, &ev, 1, NULL, &none, 8), EINTR);
    EXPECT_ERR("epoll_pwait2 with a bad sigsetsize", syscall(SYS_epoll_pwait2, ep, &ev, 1, NULL, &none, 4), EINVAL);
    int e = eventfd(3, 0);
    ev.events = EPOLLIN;
    ev.data.u32 = 9;
    epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
    struct epoll_event got = { 0 };
    CHECKV("epoll_pwait2 with a ready eventfd, no timeout", syscall(SYS_epoll_pwait2, ep, &got, 1, NULL, NULL, 8));
    printf("data %u\n", got.data.u32);
    raise(SIGUSR1);
    int quiet[2];
    pipe(quiet);
    struct pollfd p = { .fd = quiet[0], .events = POLLIN };
    ts.tv_nsec = 10000000;
    EXPECT_ERR("ppoll unblocking a pending SIGUSR1", ppoll(&p, 1, &ts, &none), EINTR);
    close(quiet[0]);
    close(quiet[1]);
    raise(SIGUSR1);
    fd_set r;
    FD_ZERO(&r);
    EXPECT_ERR("pselect unblocking a pending SIGUSR1", pselect(0, &r, 0, 0, &ts, &none), EINTR);
    printf("handler ran: %d\n", usr1);
    sigprocmask(SIG_SETMASK, &old, 0);
    close(e);
    close(ep);
}

struct blocked_read { int fd; uint64_t value; };

static void *read_eventfd(void *arg)
{
    struct blocked_read *b = arg;
    read(b->fd, &b->value, 8);
    return NULL;
}

static void eventfds(void)
{
    int e = eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC);
    EXPECT("EFD_NONBLOCK", fcntl(e, F_GETFL) & O_NONBLOCK);
    EXPECT("EFD_CLOEXEC", fcntl(e, F_GETFD) & FD_CLOEXEC);
    uint64_t v = 7;
    write(e, &v, 8);
    read(e, &v, 8);
    printf("eventfd counter %llu\n", (unsigned long long)v);
    EXPECT_ERR("eventfd read at zero (non-blocking)", read(e, &v, 8), EAGAIN);
    EXPECT_ERR("eventfd read of 4 bytes", read(e, &v, 4), EINVAL);
    v = UINT64_MAX;
    EXPECT_ERR("eventfd write of 2^64-1", write(e, &v, 8), EINVAL);
    v = UINT64_MAX - 1;
    CHECKV("eventfd write to the maximum", write(e, &v, 8));
    struct pollfd p = { .fd = e, .events = POLLIN | POLLOUT };
    poll(&p, 1, 0);
    printf("at the maximum: POLLIN %d POLLOUT %d\n", !!(p.revents & POLLIN), !!(p.revents & POLLOUT));
    v = 1;
    EXPECT_ERR("eventfd write past the maximum (non-blocking)", write(e, &v, 8), EAGAIN);
    close(e);
    EXPECT_ERR("eventfd2 with bad flags", syscall(SYS_eventfd2, 0, 0x10), EINVAL);

    int sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    int reads = 0;
    while (read(sem, &v, 8) == 8 && v == 1)
        reads++;
    printf("EFD_SEMAPHORE: %d reads of 1\n", reads);
    close(sem);

    struct blocked_read b = { eventfd(0, 0), 0 };
    pthread_t th;
    pthread_create(&th, 0, read_eventfd, &b);
    usleep(20000);
    v = 42;
    write(b.fd, &v, 8);
    pthread_join(th, 0);
    printf("blocked reader woke with %llu\n", (unsigned long long)b.value);
    close(b.fd);
}

static void timerfds(void)
{
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    EXPECT("TFD_NONBLOCK", fcntl(t, F_GETFL) & O_NONBLOCK);
    uint64_t n;
    EXPECT_ERR("timerfd read when disarmed", read(t, &n, 8), EAGAIN);
    struct itimerspec its = { .it_value = { 0, 20000000 } }, old, cur;
    CHECK(timerfd_settime(t, 0, &its, NULL));
    EXPECT_ERR("timerfd read before expiry", read(t, &n, 8), EAGAIN);
    timerfd_gettime(t, &cur);
    printf("armed: time left in (0, 20ms]: %s, no interval %s\n",
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000 ? "yes" : "no",
           cur.it_interval.tv_sec == 0 && cur.it_interval.tv_nsec == 0 ? "yes" : "no");
    struct pollfd p = { .fd = t, .events = POLLIN };
    printf("poll until the relative expiry: %d\n", poll(&p, 1, 5000));
    read(t, &n, 8);
    printf("relative one-shot expirations %llu\n", (unsigned long long)n);
    timerfd_gettime(t, &cur);
    printf("expired one-shot is disarmed: %s\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0 ? "yes" : "no");

    /* Absolute: now + 20 ms on CLOCK_MONOTONIC, and one already in the past. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    its.it_value = now;
    its.it_value.tv_nsec += 20000000;
    if (its.it_value.tv_nsec >= 1000000000) {
        its.it_value.tv_sec++;
        its.it_value.tv_nsec -= 1000000000;
    }
    CHECK(timerfd_settime(t, TFD_TIMER_ABSTIME, &its, &old));
    poll(&p, 1, 5000);
    read(t, &n, 8);
    printf("absolute expirations %llu\n", (unsigned long long)n);
    its.it_value.tv_sec = now.tv_sec - 1;
    timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL);
    printf("absolute in the past fires at once: %d\n", poll(&p, 1, 1000));
    read(t, &n, 8);

    /* Interval: 5 ms, 60 ms later at least 5 have passed, counted in one read. */
    its.it_value.tv_sec = 0;
    its.it_value.tv_nsec = 5000000;
    its.it_interval = its.it_value;
    timerfd_settime(t, 0, &its, NULL);
    usleep(60000);
    read(t, &n, 8);
    printf("interval expirations >= 5 in one read: %s\n", n >= 5 ? "yes" : "no");
    timerfd_gettime(t, &cur);
    printf("interval kept %ld ns\n", cur.it_interval.tv_nsec);
    memset(&its, 0, sizeof its);
    CHECK(timerfd_settime(t, 0, &its, &old));
    printf("old value had the interval %ld ns\n", old.it_interval.tv_nsec);
    timerfd_gettime(t, &cur);
    printf("disarmed: %s\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0 ? "yes" : "no");
    its.it_value.tv_nsec = 1000000000;
    EXPECT_ERR("timerfd_settime with tv_nsec out of range", timerfd_settime(t, 0, &its, NULL), EINVAL);
    EXPECT_ERR("timerfd_settime with bad flags", timerfd_settime(t, 0x100, &its, NULL), EINVAL);
    EXPECT_ERR("timerfd_create with a bad clock", timerfd_create(12345, 0), EINVAL);
    EXPECT_ERR("timerfd_create with bad flags", timerfd_create(CLOCK_MONOTONIC, 0x10), EINVAL);
    EXPECT_ERR("timerfd_gettime on a closed fd", timerfd_gettime(0 + 1000, &cur), EBADF);
    int not_timer = eventfd(0, 0);
    EXPECT_ERR("timerfd_gettime on a non-timerfd", timerfd_gettime(not_timer, &cur), EINVAL);
    close(not_timer);
    close(t);

    /* A blocking read waits for the expiry. */
    int bt = timerfd_create(CLOCK_REALTIME, 0);
    its.it_value.tv_nsec = 15000000;
    timerfd_settime(bt, 0, &its, NULL);
    read(bt, &n, 8);
    printf("blocking read expirations %llu\n", (unsigned long long)n);
    close(bt);
}

static void poll_select_sockets(void)
{
    struct sockaddr_in a;
    int ls = listener(&a);
    struct pollfd p = { .fd = ls, .events = POLLIN };
    printf("poll listener, nothing pending: %d\n", poll(&p, 1, 0));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    int n = poll(&p, 1, 5000);
    printf("poll listener, a connection pending: %d revents 0x%x\n", n, p.revents);
    int s = accept(ls, 0, 0);
    struct pollfd two[2] = { { .fd = s, .events = POLLIN | POLLOUT }, { .fd = c, .events = POLLIN | POLLRDHUP } };
    n = poll(two, 2, 0);
    printf("poll connected pair: %d revents 0x%x 0x%x\n", n, two[0].revents, two[1].revents);
    close(s);
    usleep(10000);
    n = poll(&two[1], 1, 5000);
    printf("poll after the peer closed: %d revents 0x%x\n", n, two[1].revents);
    int closed = dup(ls);
    close(closed);
    struct pollfd bad[2] = { { .fd = closed, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
    n = poll(bad, 2, 0);
    printf("poll a closed fd and a negative one: %d revents 0x%x 0x%x\n", n, bad[0].revents, bad[1].revents);
    struct timespec ts = { 0, 10000000 };
    struct pollfd idle = { .fd = ls, .events = POLLIN };
    printf("ppoll timing out: %d\n", ppoll(&idle, 1, &ts, NULL));

    int x, y;
    tcp_pair(&x, &y);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(y, &r);
    FD_SET(x, &w);
    struct timeval tv = { 0, 10000 };
    n = select((x > y ? x : y) + 1, &r, &w, 0, &tv);
    printf("select: %d, readable %d, writable %d\n", n, FD_ISSET(y, &r), FD_ISSET(x, &w));
    write(x, "z", 1);
    FD_ZERO(&r);
    FD_SET(y, &r);
    tv.tv_sec = 5;
    n = select(y + 1, &r, 0, 0, &tv);
    printf("select after data: %d, readable %d\n", n, FD_ISSET(y, &r));
    FD_ZERO(&r);
    FD_SET(closed, &r);
    tv.tv_sec = 0;
    EXPECT_ERR("select on a closed fd", select(closed + 1, &r, 0, 0, &tv), EBADF);
    close(x);
    close(y);
    close(c);
    close(ls);
}

int main(void)
{
    triggers();
    several_waiters();
    masks();
    eventfds();
    timerfds();
    poll_select_sockets();
    return FINISH();
}
