/*
 * jobs.c - job control: SIGSTOP and SIGTSTP stop a child blocked in read(), waitpid with
 * WUNTRACED reports it once, SIGCONT resumes it (its handler runs, the read restarts) and
 * WCONTINUED / waitid report that, and SIGKILL ends a stopped process. (How many SIGCONT
 * handler runs the child sees depends on timing: a stop signal discards a pending SIGCONT.
 * It exits 3 if it saw at least one.)
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
static volatile int conts;
static void on_cont(int s) { (void)s; conts++; }
int main(void) {
  int fds[2], ready[2]; pipe(fds); pipe(ready);
  pid_t c = fork();
  if (!c) { signal(SIGCONT, on_cont); char b; close(fds[1]); write(ready[1], "r", 1); while (read(fds[0], &b, 1) > 0 || errno == EINTR) ; _exit(conts > 0 ? 3 : 4); }
  close(fds[0]); char r; read(ready[0], &r, 1);
  int st;
  kill(c, SIGSTOP); pid_t w = waitpid(c, &st, WUNTRACED); printf("stopped: %d sig %d\n", w == c && WIFSTOPPED(st), WSTOPSIG(st));
  printf("no second report: %d\n", waitpid(c, &st, WUNTRACED | WNOHANG));
  kill(c, SIGCONT); w = waitpid(c, &st, WCONTINUED); printf("continued: %d\n", w == c && WIFCONTINUED(st));
  kill(c, SIGTSTP); w = waitpid(c, &st, WUNTRACED); printf("tstp stopped: %d sig %d\n", WIFSTOPPED(st), WSTOPSIG(st));
  siginfo_t si; kill(c, SIGCONT); waitid(P_PID, c, &si, WCONTINUED); printf("waitid continued: code %d status %d\n", si.si_code, si.si_status);
  close(fds[1]); w = waitpid(c, &st, 0); printf("exited %d code %d\n", WIFEXITED(st), WEXITSTATUS(st));
  c = fork(); if (!c) { for (;;) pause(); }
  kill(c, SIGSTOP); waitpid(c, &st, WUNTRACED); kill(c, SIGKILL); waitpid(c, &st, 0); printf("killed while stopped: %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
  return 0;
}
