/*
 * select.c - readiness without epoll: select timing out on an empty pipe, select reporting a
 * readable and a writable pipe end, and a periodic timerfd read until five expirations.
 */
#include <stdio.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <stdint.h>
#include <unistd.h>
#include <time.h>
int main(void) {
  int fds[2]; pipe(fds); fd_set r; FD_ZERO(&r); FD_SET(fds[0], &r); struct timeval tv = { 0, 20000 };
  printf("select empty: %d\n", select(fds[0] + 1, &r, 0, 0, &tv));
  write(fds[1], "x", 1); FD_ZERO(&r); FD_SET(fds[0], &r); fd_set w; FD_ZERO(&w); FD_SET(fds[1], &w); tv.tv_sec = 1;
  printf("select ready: %d r=%d w=%d\n", select(fds[1] + 1, &r, &w, 0, &tv), FD_ISSET(fds[0], &r), FD_ISSET(fds[1], &w));
  int tf = timerfd_create(CLOCK_MONOTONIC, 0); struct itimerspec its = { { 0, 10000000 }, { 0, 10000000 } }; timerfd_settime(tf, 0, &its, 0);
  uint64_t n = 0; int total = 0; while (total < 5) { read(tf, &n, 8); total += n; } printf("timerfd expirations >= 5: %d\n", total >= 5);
  struct itimerspec cur; timerfd_gettime(tf, &cur); printf("interval %ld ns\n", cur.it_interval.tv_nsec);
  return 0;
}
