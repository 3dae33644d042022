/*
 * bridge.c - the guest side of test/bridge.test.ts, one mode per run:
 *   publish G   TCP and UDP sockets on guest port G; the guest connects to its own G
 *               (getsockname/getpeername say G), prints "ready", then echoes one line from a
 *               host TCP client and answers one host UDP datagram.
 *   bind P      binds TCP [::]:P and prints the outcome ("bind: ok" or "bind: EADDRINUSE").
 *   listen      a dual-stack listener on an ephemeral port ("port N"); accepts one
 *               connection and prints whether its peer was on loopback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *err(void)
{
    return errno == EADDRINUSE ? "EADDRINUSE" : errno == EACCES ? "EACCES" : strerror(errno);
}

static int bound(int type, int port)
{
    int s = socket(AF_INET6, type, 0), zero = 0;
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any };
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
        printf("bind: %s\n", err());
        exit(1);
    }
    if (type == SOCK_STREAM)
        listen(s, 16);
    return s;
}

static int port_of(int fd, int peer)
{
    struct sockaddr_in6 a;
    socklen_t l = sizeof a;
    (peer ? getpeername : getsockname)(fd, (struct sockaddr *)&a, &l);
    return ntohs(a.sin6_port);
}

static void publish(int port)
{
    int ls = bound(SOCK_STREAM, port), us = bound(SOCK_DGRAM, port);
    printf("tcp listener on guest port %d, udp on %d\n", port_of(ls, 0), port_of(us, 0));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in self = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(c, (struct sockaddr *)&self, sizeof self) < 0) {
        printf("self connect: %s\n", err());
        exit(1);
    }
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    getpeername(c, (struct sockaddr *)&peer, &pl);
    int a = accept(ls, NULL, NULL);
    printf("self connect reached its own listener, peer port %d, accepted local port %d\n", ntohs(peer.sin_port), port_of(a, 0));
    close(a);
    close(c);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(u, "self", 4, 0, (struct sockaddr *)&self, sizeof self);
    char buf[256];
    struct sockaddr_in6 from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(us, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    printf("udp to its own port: %.*s\n", (int)n, buf);
    close(u);
    printf("ready\n");
    fflush(stdout);
    int h = accept(ls, NULL, NULL);
    n = read(h, buf, sizeof buf);
    write(h, buf, (size_t)n);
    close(h);
    fl = sizeof from;
    n = recvfrom(us, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    sendto(us, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    printf("served the host over tcp and udp\n");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "publish") == 0) {
        publish(atoi(argv[2]));
    } else if (argc == 3 && strcmp(argv[1], "bind") == 0) {
        bound(SOCK_STREAM, atoi(argv[2]));
        printf("bind: ok\n");
    } else if (argc == 2 && strcmp(argv[1], "listen") == 0) {
        int ls = bound(SOCK_STREAM, 0);
        printf("port %d\n", port_of(ls, 0));
        struct sockaddr_in6 peer;
        socklen_t pl = sizeof peer;
        int c = accept(ls, (struct sockaddr *)&peer, &pl);
        char text[64];
        inet_ntop(AF_INET6, &peer.sin6_addr, text, sizeof text);
        printf("accepted a peer %s loopback\n", strcmp(text, "::ffff:127.0.0.1") == 0 || strcmp(text, "::1") == 0 ? "on" : "off");
        close(c);
    } else {
        fprintf(stderr, "usage: bridge publish G | bind P | listen\n");
        return 2;
    }
    return 0;
}
