// Forks until fork fails; the children wait in pause() until killed. Prints how many forks
// succeeded, whether the failure was EAGAIN, and whether every child was reaped.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX 1000

int main(void) {
  static pid_t kids[MAX];
  int n = 0, err = 0;
  while (n < MAX) {
    pid_t pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
    if (pid < 0) {
      err = errno;
      break;
    }
    kids[n++] = pid;
  }
  printf("forks %d\n", n);
  printf("fork failed: %s\n", err == EAGAIN ? "EAGAIN" : err == 0 ? "no" : "other");
  int reaped = 0;
  for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
  for (int i = 0; i < n; i++) {
    int status;
    if (waitpid(kids[i], &status, 0) == kids[i] && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) reaped++;
  }
  printf("reaped %s\n", reaped == n ? "all" : "not all");
  // The slots are free again: one more fork works.
  pid_t pid = fork();
  if (pid == 0) _exit(7);
  int status = 0;
  printf("fork after reaping: %s\n", pid > 0 && waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 7 ? "ok" : "failed");
  return 0;
}
