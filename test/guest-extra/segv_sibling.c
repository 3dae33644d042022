// One child dies of SIGSEGV while its sibling keeps running and exits normally afterwards.
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  fflush(stdout);
  pid_t a = fork();
  if (a == 0) {
    struct timespec ts = { 0, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    write(1, "A alive\n", 8);
    _exit(0);
  }
  pid_t b = fork();
  if (b == 0) {
    volatile int *p = NULL;
    *p = 1;
    _exit(99);
  }
  int sb, sa;
  if (waitpid(b, &sb, 0) != b) return 2;
  printf("B signaled %d termsig %d\n", WIFSIGNALED(sb), WIFSIGNALED(sb) ? WTERMSIG(sb) : -1);
  fflush(stdout);
  if (waitpid(a, &sa, 0) != a) return 3;
  printf("A exited %d status %d\n", WIFEXITED(sa), WIFEXITED(sa) ? WEXITSTATUS(sa) : -1);
  return 0;
}
