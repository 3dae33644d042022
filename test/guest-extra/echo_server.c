/*
 * echo_server.c - a MediaServer-shaped echo server for test/echo.test.ts: one dual-stack
 * listener on [::]:PORT (PORT from argv, 0 for an ephemeral one, printed as "port N"),
 * non-blocking sockets, edge-triggered epoll, accept4 until EAGAIN, and every byte echoed
 * back with backpressure (a full buffer stops reading until the peer drains it). Sends use
 * MSG_NOSIGNAL, so a client that goes away mid-stream only closes its own connection.
 * On "stats" from a client it answers with the number of connections served so far.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

struct conn {
    int fd;
    size_t len;
    char buf[BUF];
};

static long served, dropped;

static void drop(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Reads and echoes until the socket has nothing more or the buffer is full and cannot drain. Returns -1 when the connection ended. */
static int pump(struct conn *c)
{
    for (;;) {
        while (c->len > 0) {
            ssize_t k = send(c->fd, c->buf, c->len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k < 0)
                return errno == EAGAIN ? 0 : -1;
            memmove(c->buf, c->buf + k, c->len - (size_t)k);
            c->len -= (size_t)k;
        }
        ssize_t n = recv(c->fd, c->buf, BUF, MSG_DONTWAIT);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->len = (size_t)n;
        if (n == 5 && memcmp(c->buf, "stats", 5) == 0)
            c->len = (size_t)snprintf(c->buf, BUF, "served %ld dropped %ld\n", served, dropped);
    }
}

int main(int argc, char **argv)
{
    int ls = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1, zero = 0;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(argc > 1 ? atoi(argv[1]) : 0), .sin6_addr = in6addr_any };
    socklen_t l = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, l) < 0 || listen(ls, 1024) < 0) {
        printf("cannot listen: %s\n", strerror(errno));
        return 1;
    }
    getsockname(ls, (struct sockaddr *)&a, &l);
    printf("port %d\n", ntohs(a.sin6_port));
    fflush(stdout);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    struct conn *nc = malloc(sizeof *nc);
                    nc->fd = fd;
                    nc->len = 0;
                    served++;
                    struct epoll_event cev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            if (pump(c) < 0) {
                if (c->len > 0)
                    dropped++;
                drop(ep, c);
            }
        }
    }
}
