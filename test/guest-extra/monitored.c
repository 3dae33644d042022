// A guest for the monitor tests: named threads with distinct policies and affinities, and a
// child process, alive until a signal ends them.
//   monitored          prints "ready" once every thread has its name, then waits for a signal
//   monitored spin N   pure computation (N million loop rounds), for the overhead measurement
//   monitored events [PORT TAKEN]
//                      what the event log records: an unknown syscall, a listener (on PORT,
//                      default any), a refused outbound connection, an mmap the pool cannot back
//                      (run with --mem 64M), and with TAKEN a bind to that port, which a host
//                      program holds
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_barrier_t named;

static void *spinner(void *arg) {
  (void)arg;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(1, &set);
  sched_setaffinity(0, sizeof set, &set); // fails with EINVAL on one vCPU: the thread stays put
  prctl(PR_SET_NAME, "spin-worker");
  pthread_barrier_wait(&named);
  for (volatile unsigned long i = 0;; i++) {
    if (i % 100000 == 0) getppid();
  }
  return NULL;
}

static void *sleeper(void *arg) {
  (void)arg;
  struct sched_param sp = { .sched_priority = 10 };
  pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
  prctl(PR_SET_NAME, "rt-sleeper");
  pthread_barrier_wait(&named);
  for (;;) {
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static unsigned long spin(unsigned long millions) {
  unsigned long x = 1;
  for (unsigned long i = 0; i < millions * 1000000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  return x;
}

static int events(int port, int taken) {
  long r = syscall(SYS_vhangup);
  printf("vhangup %s\n", r < 0 && errno == ENOSYS ? "ENOSYS" : strerror(errno));
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  printf("listen %s\n", bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 1) == 0 ? "ok" : strerror(errno));
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in far = { .sin_family = AF_INET, .sin_port = htons(80) };
  inet_pton(AF_INET, "192.0.2.1", &far.sin_addr);
  printf("connect %s\n", connect(c, (struct sockaddr *)&far, sizeof far) < 0 && errno == ENETUNREACH ? "ENETUNREACH" : "unexpected");
  void *m = mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("mmap %s\n", m == MAP_FAILED && errno == ENOMEM ? "ENOMEM" : "unexpected");
  if (taken) {
    struct sockaddr_in held = { .sin_family = AF_INET, .sin_port = htons(taken), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int b = socket(AF_INET, SOCK_STREAM, 0);
    printf("bind %s\n", bind(b, (struct sockaddr *)&held, sizeof held) < 0 && errno == EADDRINUSE ? "EADDRINUSE" : "unexpected");
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "events") == 0) return events(0, 0);
  if (argc == 4 && strcmp(argv[1], "events") == 0) return events(atoi(argv[2]), atoi(argv[3]));
  if (argc == 3 && strcmp(argv[1], "spin") == 0) {
    printf("%lu\n", spin(strtoul(argv[2], NULL, 10)) & 1);
    return 0;
  }
  pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_NAME, "child-proc");
    for (;;) pause();
  }
  pthread_barrier_init(&named, NULL, 3);
  pthread_t a, b;
  pthread_create(&a, NULL, spinner, NULL);
  pthread_create(&b, NULL, sleeper, NULL);
  pthread_barrier_wait(&named);
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
