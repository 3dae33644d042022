// The host side of the network cases (always run natively), against net_server on PORT.
//   tcp-sink PORT MiB        sends MiB in 64 KiB writes, then closes
//   tcp-echo PORT N SIZE     N requests of SIZE bytes, each waiting for its echo: "result us"
//   tcp-accept PORT N        N connections one after the other, each waiting for the server's close
//   udp-sink PORT N          N datagrams of 64 bytes with sendmmsg, as fast as it can
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int connected(int type) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)&server, sizeof server)) die("connect");
  return fd;
}

static void tcp_sink(long mib) {
  static char buf[64 << 10];
  memset(buf, 'x', sizeof buf);
  int fd = connected(SOCK_STREAM);
  for (long left = mib << 20; left > 0;) {
    ssize_t w = write(fd, buf, sizeof buf);
    if (w <= 0) die("write");
    left -= w;
  }
  close(fd);
}

static void tcp_echo(long n, size_t size) {
  char buf[4096];
  if (size > sizeof buf) size = sizeof buf;
  memset(buf, 'r', size);
  int fd = connected(SOCK_STREAM), one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    if (write(fd, buf, size) != (ssize_t)size) die("write");
    for (size_t got = 0; got < size;) {
      ssize_t r = read(fd, buf + got, size - got);
      if (r <= 0) die("read");
      got += r;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  close(fd);
  printf("result %.2f us/round trip\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1e3);
}

static void tcp_accept(long n) {
  char c;
  for (long i = 0; i < n; i++) {
    int fd = connected(SOCK_STREAM);
    if (read(fd, &c, 1) != 0) die("read (expected the server's close)");
    close(fd);
  }
}

static void udp_sink(long n) {
  enum { BATCH = 64 };
  char payload[64];
  memset(payload, 'u', sizeof payload);
  struct iovec iov = { payload, sizeof payload };
  struct mmsghdr msgs[BATCH];
  for (int i = 0; i < BATCH; i++) msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
  int fd = connected(SOCK_DGRAM);
  for (long sent = 0; sent < n;) {
    int batch = n - sent < BATCH ? n - sent : BATCH;
    int r = sendmmsg(fd, msgs, batch, 0);
    if (r < 0) die("sendmmsg");
    sent += r;
  }
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: net_client MODE PORT COUNT [SIZE]\n"); return 2; }
  server = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  long count = atol(argv[3]);
  const char *mode = argv[1];
  if (!strcmp(mode, "tcp-sink")) tcp_sink(count);
  else if (!strcmp(mode, "tcp-echo")) tcp_echo(count, argc > 4 ? atol(argv[4]) : 64);
  else if (!strcmp(mode, "tcp-accept")) tcp_accept(count);
  else if (!strcmp(mode, "udp-sink")) udp_sink(count);
  else { fprintf(stderr, "net_client: unknown mode %s\n", mode); return 2; }
  return 0;
}
