// The guest side of the network cases: listens on 127.0.0.1 (a port the host picks), prints
// "port N", serves the host's net_client (bench/guest/net_client.c) and, for the modes it
// measures, prints "result X UNIT".
//   tcp-sink    reads until EOF: MB/s from the first byte to EOF
//   tcp-echo    echoes each request back (the client measures the round trip)
//   tcp-accept  accepts and closes argv[2] connections: accepts/s from the first to the last
//   udp-sink    recvmmsg in batches of 64 until 300 ms of silence: packets/s, first to last
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int bound_socket(int type) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa)) die("bind");
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &len)) die("getsockname");
  if (type == SOCK_STREAM && listen(fd, 128)) die("listen");
  printf("port %d\n", ntohs(sa.sin_port));
  fflush(stdout);
  return fd;
}

static void tcp_sink(int lfd) {
  static char buf[256 << 10];
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) die("accept");
  ssize_t r = read(fd, buf, sizeof buf);
  if (r <= 0) die("read");
  double start = now();
  long long total = 0;
  while ((r = read(fd, buf, sizeof buf)) > 0) total += r;
  if (r < 0) die("read");
  printf("result %.1f MB/s\n", total / 1e6 / (now() - start));
}

static void tcp_echo(int lfd) {
  char buf[4096];
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) die("accept");
  for (ssize_t r; (r = read(fd, buf, sizeof buf)) > 0;) {
    if (write(fd, buf, r) != r) die("write");
  }
}

static void tcp_accept(int lfd, long n) {
  double start = 0;
  for (long i = 0; i < n; i++) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) die("accept");
    if (i == 0) start = now();
    close(fd);
  }
  printf("result %.0f accepts/s\n", (n - 1) / (now() - start));
}

static void udp_sink(int fd) {
  enum { BATCH = 64, SIZE = 2048 };
  static char bufs[BATCH][SIZE];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  for (int i = 0; i < BATCH; i++) {
    iov[i] = (struct iovec){ bufs[i], SIZE };
    msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
  }
  struct pollfd p = { .fd = fd, .events = POLLIN };
  long packets = 0;
  double first = 0, last = 0;
  // The first packet may take a while (the client starts after "port N"); then 300 ms of silence ends it.
  for (int timeout = 30000; poll(&p, 1, timeout) == 1; timeout = 300) {
    int got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (got < 0) die("recvmmsg");
    if (packets == 0) first = now();
    packets += got;
    last = now();
  }
  if (packets < 2) { fprintf(stderr, "udp-sink: %ld packets\n", packets); exit(1); }
  printf("result %.0f packets/s (%ld received)\n", packets / (last - first), packets);
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: net_server tcp-sink|tcp-echo|tcp-accept N|udp-sink\n"); return 2; }
  const char *mode = argv[1];
  if (!strcmp(mode, "tcp-sink")) tcp_sink(bound_socket(SOCK_STREAM));
  else if (!strcmp(mode, "tcp-echo")) tcp_echo(bound_socket(SOCK_STREAM));
  else if (!strcmp(mode, "tcp-accept") && argc > 2) tcp_accept(bound_socket(SOCK_STREAM), atol(argv[2]));
  else if (!strcmp(mode, "udp-sink")) udp_sink(bound_socket(SOCK_DGRAM));
  else { fprintf(stderr, "net_server: unknown mode %s\n", mode); return 2; }
  return 0;
}
