// Syscalls of a thread pinned to CPU 1, checked call by call: on KVM with PVM they are served
// in place through the syscall mailbox while vCPU 0 polls (kvm-exits.test.ts). Each kind the
// mailbox serves: ids, clocks, a regular file's write, pread and fstat, a futex wake nobody
// waits for, a non-blocking pipe, and a blocking pipe read that must wait (declined, then made
// through an exit). Prints "ok" and exits 0 when every result was right.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 4000

static int fail(const char *what, long round) {
  printf("FAIL %s at round %ld (errno %d)\n", what, round, errno);
  return 1;
}

static int pipe_fds[2];

static void *late_writer(void *arg) {
  (void)arg;
  struct timespec pause = {0, 2000000};
  nanosleep(&pause, NULL);
  return write(pipe_fds[1], "w", 1) == 1 ? NULL : (void *)1;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/tmp/remote_calls.dat";
  pid_t parent = getppid(), self = getpid();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0, &set);
  if (sched_setaffinity(0, sizeof set, &set)) return fail("sched_setaffinity", -1);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return fail("open", -1);
  int nb[2];
  if (pipe2(nb, O_NONBLOCK) || pipe(pipe_fds)) return fail("pipe", -1);
  unsigned futex_word = 0;
  struct timespec last = {0, 0};
  for (long i = 0; i < ROUNDS; i++) {
    if (syscall(SYS_getppid) != parent || syscall(SYS_getpid) != self || syscall(SYS_gettid) != self) return fail("ids", i);
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now)) return fail("clock_gettime", i);
    if (now.tv_sec < last.tv_sec || (now.tv_sec == last.tv_sec && now.tv_nsec < last.tv_nsec)) return fail("monotonic", i);
    last = now;
    long value = i * 7919;
    if (write(fd, &value, sizeof value) != sizeof value) return fail("write", i);
    long back = -1;
    if (pread(fd, &back, sizeof back, i * (long)sizeof value) != sizeof back || back != value) return fail("pread", i);
    struct stat st;
    if (fstat(fd, &st) || st.st_size != (i + 1) * (long)sizeof value) return fail("fstat", i);
    if (syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) != 0) return fail("futex wake", i);
    char c = (char)i, d = 0;
    if (read(nb[0], &d, 1) != -1 || errno != EAGAIN) return fail("empty non-blocking read", i);
    if (write(nb[1], &c, 1) != 1 || read(nb[0], &d, 1) != 1 || d != c) return fail("non-blocking pipe", i);
  }
  pthread_t writer;
  if (pthread_create(&writer, NULL, late_writer, NULL)) return fail("pthread_create", -1);
  char w = 0;
  if (read(pipe_fds[0], &w, 1) != 1 || w != 'w') return fail("blocking read", -1);
  void *ret;
  if (pthread_join(writer, &ret) || ret) return fail("writer", -1);
  close(fd);
  unlink(path);
  printf("ok\n");
  return 0;
}
