// Where Starling places a thread by the traps it makes (cpu-worker/vcpu.ts, kernel/sched/
// trap-mix.ts), with --cpus 2 and nothing else running. Prints the CPU the thread ends on.
//   calls: 2000 getppid calls, which the KVM syscall mailbox serves in place: on KVM with PVM
//          the thread moves to the idle vCPU 1, elsewhere it stays on vCPU 0.
//   child: a forked child that maps and unmaps memory 200 times, traps no mailbox serves, while
//          its parent waits: the child runs on vCPU 0 however it was placed at the fork.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int mapping_child(void) {
  for (int i = 0; i < 200; i++) {
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    p[0] = 1;
    munmap(p, 4096);
  }
  return sched_getcpu();
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "calls") == 0) {
    pid_t parent = getppid();
    for (int i = 0; i < 2000; i++)
      if (getppid() != parent) return 1;
    printf("%d\n", sched_getcpu());
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "child") == 0) {
    int pipefd[2];
    if (pipe(pipefd)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      int cpu = mapping_child();
      _exit(write(pipefd[1], &cpu, sizeof cpu) == sizeof cpu ? 0 : 1);
    }
    int status, cpu = -2;
    if (waitpid(pid, &status, 0) != pid || status != 0) return 1;
    if (read(pipefd[0], &cpu, sizeof cpu) != sizeof cpu) return 1;
    printf("%d\n", cpu);
    return 0;
  }
  fprintf(stderr, "usage: trap_placement calls|child\n");
  return 2;
}
