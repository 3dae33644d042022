/*
 * net.c - the socket path of a live RTSP push, in one machine: an AF_INET6 listener with
 * IPV6_V6ONLY=0 and FIONBIO, getsockname, getpeername's ENOTCONN on a listener, a forked
 * AF_INET client connecting through loopback, epoll (edge-triggered, event data passed through),
 * accept of a v4-mapped peer, TCP_NODELAY, recvfrom, sendmsg with MSG_DONTWAIT|MSG_NOSIGNAL,
 * UDP sendto/recv, and an eventfd seen by poll. Ports are ephemeral, so runs never collide.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <poll.h>
#include <errno.h>
#include "check.h"
int main(void) {
  int ls = socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP); int one = 1, zero = 0;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, 4); setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, 4);
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = 0, .sin6_addr = in6addr_any };
  printf("bind %d\n", bind(ls, (void *)&a, sizeof a)); printf("listen %d\n", listen(ls, 16));
  socklen_t l = sizeof a; getsockname(ls, (void *)&a, &l); int port = ntohs(a.sin6_port);
  l = sizeof a; CHECKN("getpeername on a listener", getpeername(ls, (void *)&a, &l));
  ioctl(ls, FIONBIO, &one);
  pid_t p = fork();
  if (!p) { int c = socket(AF_INET, SOCK_STREAM, 0); struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) }; inet_pton(AF_INET, "127.0.0.1", &s.sin_addr);
    if (connect(c, (void *)&s, sizeof s) < 0) { perror("connect"); _exit(1); } write(c, "OPTIONS rtsp://x", 16); char b[64]; int n = read(c, b, sizeof b); printf("client got %.*s\n", n, b); fflush(stdout); _exit(0); }
  int ep = epoll_create(1024); struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 77 }; epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event got[4]; int n = epoll_wait(ep, got, 4, 5000); printf("epoll %d data %llu\n", n, (unsigned long long)got[0].data.u64);
  struct sockaddr_in6 peer; l = sizeof peer; int c = accept(ls, (void *)&peer, &l); char ip[64]; inet_ntop(AF_INET6, &peer.sin6_addr, ip, sizeof ip);
  printf("accepted from %s len %u\n", ip, l);
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, 4);
  char buf[64]; n = recvfrom(c, buf, sizeof buf, 0, 0, 0); printf("server got %.*s\n", n, buf);
  struct iovec iov = { "RTSP/1.0 200 OK", 15 }; struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 }; ssize_t sent = sendmsg(c, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
  int st; waitpid(p, &st, 0); /* the client prints first: one order on every run */
  printf("sendmsg %zd\n", sent);
  int u = socket(AF_INET, SOCK_DGRAM, 0); struct sockaddr_in ua = { .sin_family = AF_INET }; inet_pton(AF_INET, "127.0.0.1", &ua.sin_addr); bind(u, (void *)&ua, sizeof ua); l = sizeof ua; getsockname(u, (void *)&ua, &l);
  int u2 = socket(AF_INET, SOCK_DGRAM, 0); sendto(u2, "datagram", 8, 0, (void *)&ua, sizeof ua); n = recv(u, buf, sizeof buf, 0); printf("udp %.*s\n", n, buf);


  int e = eventfd(0, EFD_NONBLOCK); uint64_t v = 5; write(e, &v, 8); struct pollfd pf = { .fd = e, .events = POLLIN }; printf("poll eventfd %d\n", poll(&pf, 1, 100)); read(e, &v, 8); printf("eventfd value %llu\n", (unsigned long long)v);
  return 0;
}
