/*
 * sockmsg.c - moving data through sockets: recvfrom/recvmsg/recvmmsg and sendto/sendmsg/
 * sendmmsg with MSG_PEEK, MSG_WAITALL (a writer thread sending in pieces), MSG_TRUNC (UDP and
 * TCP), MSG_DONTWAIT, MSG_MORE (corked UDP datagrams), msg_flags (MSG_TRUNC), scatter/gather
 * iovecs, a large blocking send that must arrive whole, recvmmsg's count and lengths, and
 * signals during a blocking recv: EINTR, a transparent SA_RESTART, and EINTR despite
 * SA_RESTART when SO_RCVTIMEO is set (Linux's sock_intr_errno).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "check.h"

static void tcp_pair(int *client, int *server)
{
    int ls = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
    socklen_t l = sizeof a;
    bind(ls, (struct sockaddr *)&a, l);
    listen(ls, 1);
    getsockname(ls, (struct sockaddr *)&a, &l);
    *client = socket(AF_INET6, SOCK_STREAM, 0);
    connect(*client, (struct sockaddr *)&a, l);
    *server = accept(ls, 0, 0);
    close(ls);
}

static int udp_socket(struct sockaddr_in *a)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof *a;
    bind(u, (struct sockaddr *)a, l);
    getsockname(u, (struct sockaddr *)a, &l);
    return u;
}

struct pieces { int fd; int count; int size; };

static void *send_pieces(void *arg)
{
    struct pieces *p = arg;
    char buf[4096];
    for (int i = 0; i < p->count; i++) {
        memset(buf, 'a' + i % 26, (size_t)p->size);
        send(p->fd, buf, (size_t)p->size, 0);
        usleep(2000);
    }
    return NULL;
}

static void stream(void)
{
    int c, s;
    tcp_pair(&c, &s);
    char b[64];
    send(c, "peekaboo", 8, 0);
    struct pollfd p = { .fd = s, .events = POLLIN };
    poll(&p, 1, 5000);
    ssize_t n = recv(s, b, 4, MSG_PEEK);
    printf("MSG_PEEK %zd %.4s\n", n, b);
    n = recv(s, b, sizeof b, 0);
    printf("then recv %zd %.*s\n", n, (int)n, b);

    /* MSG_WAITALL: ten 100-byte pieces, received in one call. */
    struct pieces w = { c, 10, 100 };
    pthread_t th;
    pthread_create(&th, 0, send_pieces, &w);
    static char all[1000];
    n = recv(s, all, sizeof all, MSG_WAITALL);
    pthread_join(th, 0);
    printf("MSG_WAITALL %zd first %c last %c\n", n, all[0], all[999]);
    /* MSG_WAITALL returns early at EOF with what came. */
    send(c, "tail", 4, 0);
    shutdown(c, SHUT_WR);
    n = recv(s, all, sizeof all, MSG_WAITALL);
    printf("MSG_WAITALL at EOF %zd\n", n);
    close(c);
    close(s);

    /* MSG_TRUNC on TCP discards the bytes instead of copying them. */
    tcp_pair(&c, &s);
    send(c, "0123456789", 10, 0);
    poll(&p, 1, 5000);
    p.fd = s;
    n = recv(s, NULL, 4, MSG_TRUNC);
    printf("TCP MSG_TRUNC discarded %zd\n", n);
    n = recv(s, b, sizeof b, 0);
    printf("rest %.*s\n", (int)n, b);

    /* Scatter/gather with sendmsg and recvmsg. */
    struct iovec out[3] = { { "abc", 3 }, { "", 0 }, { "defgh", 5 } };
    struct msghdr m = { .msg_iov = out, .msg_iovlen = 3 };
    CHECKV("sendmsg three iovecs", sendmsg(c, &m, 0));
    char x[2], y[10];
    struct iovec in[2] = { { x, 2 }, { y, sizeof y } };
    struct msghdr r = { .msg_iov = in, .msg_iovlen = 2 };
    poll(&p, 1, 5000);
    n = recvmsg(s, &r, 0);
    printf("recvmsg %zd: %.2s|%.6s flags %d\n", n, x, y, r.msg_flags);

    /* A 3 MiB blocking send arrives whole while the peer reads. */
    static char big[3 << 20];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    int sz = 65536;
    setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    pid_t pid = fork();
    if (pid == 0) {
        static char got[3 << 20];
        size_t have = 0;
        while (have < sizeof got) {
            ssize_t k = recv(s, got + have, sizeof got - have, 0);
            if (k <= 0)
                break;
            have += (size_t)k;
        }
        _exit(have == sizeof got && memcmp(got, big, sizeof big) == 0 ? 0 : 1);
    }
    n = send(c, big, sizeof big, 0);
    printf("blocking send of 3 MiB returned %zd\n", n);
    int st;
    waitpid(pid, &st, 0);
    printf("the reader got every byte: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
    n = sendto(c, big, sizeof big, MSG_DONTWAIT, 0, 0);
    printf("a 3 MiB MSG_DONTWAIT send is partial: %s\n", n > 0 && n < (ssize_t)sizeof big ? "yes" : "no");
    close(c);
    close(s);
}

static void datagrams(void)
{
    struct sockaddr_in a, b;
    int u = udp_socket(&a), v = udp_socket(&b);
    char buf[64];
    sendto(v, "0123456789", 10, 0, (struct sockaddr *)&a, sizeof a);
    ssize_t n = recv(u, buf, 4, MSG_PEEK);
    printf("UDP MSG_PEEK %zd\n", n);
    n = recv(u, buf, 4, MSG_TRUNC);
    printf("UDP MSG_TRUNC gives the real length %zd, copied %.4s\n", n, buf);
    sendto(v, "0123456789", 10, 0, (struct sockaddr *)&a, sizeof a);
    struct iovec iov = { buf, 4 };
    struct sockaddr_in from;
    struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
    n = recvmsg(u, &m, 0);
    printf("recvmsg into 4 bytes: %zd, MSG_TRUNC in msg_flags %s, namelen %u, from the sender %s\n", n,
           m.msg_flags & MSG_TRUNC ? "yes" : "no", m.msg_namelen, from.sin_port == b.sin_port ? "yes" : "no");

    /* MSG_MORE corks: two sends, one datagram. */
    sendto(v, "cor", 3, MSG_MORE, (struct sockaddr *)&a, sizeof a);
    sendto(v, "ked", 3, 0, (struct sockaddr *)&a, sizeof a);
    n = recv(u, buf, sizeof buf, 0);
    printf("MSG_MORE datagram %zd %.*s\n", n, (int)n, buf);

    /* sendmmsg: three datagrams; recvmmsg takes them in one call, with their lengths. */
    struct iovec iv[3] = { { "one", 3 }, { "three", 5 }, { "seven..", 7 } };
    struct mmsghdr out[3];
    memset(out, 0, sizeof out);
    for (int i = 0; i < 3; i++) {
        out[i].msg_hdr.msg_iov = &iv[i];
        out[i].msg_hdr.msg_iovlen = 1;
        out[i].msg_hdr.msg_name = &a;
        out[i].msg_hdr.msg_namelen = sizeof a;
    }
    CHECKV("sendmmsg", sendmmsg(v, out, 3, 0));
    printf("sendmmsg lengths %u %u %u\n", out[0].msg_len, out[1].msg_len, out[2].msg_len);
    char bufs[4][16];
    struct iovec rv[4];
    struct mmsghdr in[4];
    struct sockaddr_in names[4];
    memset(in, 0, sizeof in);
    for (int i = 0; i < 4; i++) {
        rv[i].iov_base = bufs[i];
        rv[i].iov_len = sizeof bufs[i];
        in[i].msg_hdr.msg_iov = &rv[i];
        in[i].msg_hdr.msg_iovlen = 1;
        in[i].msg_hdr.msg_name = &names[i];
        in[i].msg_hdr.msg_namelen = sizeof names[i];
    }
    struct pollfd p = { .fd = u, .events = POLLIN };
    poll(&p, 1, 5000);
    usleep(20000);
    int got = recvmmsg(u, in, 4, MSG_DONTWAIT, 0);
    printf("recvmmsg %d:", got);
    for (int i = 0; i < got; i++)
        printf(" %.*s(%u, from sender %s)", (int)in[i].msg_len, bufs[i], in[i].msg_len, names[i].sin_port == b.sin_port ? "yes" : "no");
    printf("\n");
    EXPECT_ERR("recvmmsg with nothing there", recvmmsg(u, in, 4, MSG_DONTWAIT, 0), EAGAIN);
    /* MSG_WAITFORONE: wait for the first, then take what is there. */
    sendto(v, "solo", 4, 0, (struct sockaddr *)&a, sizeof a);
    got = recvmmsg(u, in, 4, MSG_WAITFORONE, 0);
    printf("recvmmsg MSG_WAITFORONE %d\n", got);
    /* recvmmsg's timeout: it is checked after each datagram, so two arrive. */
    sendto(v, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
    sendto(v, "y", 1, 0, (struct sockaddr *)&a, sizeof a);
    struct timespec ts = { 0, 0 };
    usleep(20000);
    got = recvmmsg(u, in, 2, 0, &ts);
    printf("recvmmsg with a zero timeout %d\n", got);
    EXPECT_ERR("sendmmsg to a bad vector", syscall(SYS_sendmmsg, v, (void *)8, 1, 0), EFAULT);
    printf("sendmmsg of nothing %d\n", sendmmsg(v, out, 0, 0));
    EXPECT_ERR("recvfrom into a bad buffer", syscall(SYS_recvfrom, u, (void *)8, 4, MSG_DONTWAIT, 0, 0), EFAULT);
    close(u);
    close(v);
}

static volatile int handled;
static volatile int recv_done;
static void on_usr1(int sig) { (void)sig; handled++; }

struct nudger { pthread_t target; int fd; int signals; };

/* Signals the target until its recv returns (or, with signals > 0, that many times and then sends a byte). */
static void *nudge(void *arg)
{
    struct nudger *n = arg;
    for (int i = 0; n->signals == 0 ? !recv_done : i < n->signals; i++) {
        usleep(20000);
        pthread_kill(n->target, SIGUSR1);
    }
    if (n->signals > 0) {
        usleep(20000);
        send(n->fd, "!", 1, 0);
    }
    return NULL;
}

static void interrupted_recv(const char *label, int restart, int timeout, int signals)
{
    int c, s;
    tcp_pair(&c, &s);
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0 };
    sigaction(SIGUSR1, &sa, 0);
    if (timeout) {
        struct timeval tv = { .tv_sec = 30 };
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    handled = 0;
    recv_done = 0;
    struct nudger n = { pthread_self(), c, signals };
    pthread_t th;
    pthread_create(&th, 0, nudge, &n);
    char b[4];
    errno = 0;
    ssize_t r = recv(s, b, sizeof b, 0);
    int e = errno;
    recv_done = 1;
    pthread_join(th, 0);
    printf("%s: recv %zd %s, handler ran: %s\n", label, r, r < 0 ? errno_name(e) : "", handled > 0 ? "yes" : "no");
    close(c);
    close(s);
}

int main(void)
{
    stream();
    datagrams();
    interrupted_recv("a signal without SA_RESTART", 0, 0, 0);
    interrupted_recv("signals with SA_RESTART", 1, 0, 3);
    interrupted_recv("a signal with SA_RESTART and SO_RCVTIMEO", 1, 1, 0);
    return FINISH();
}
