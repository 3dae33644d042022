/*
 * procs.c - processes: popen (posix_spawn: clone3 with CLONE_VM|CLONE_VFORK, then sh -c),
 * system, fork + waitpid with an exit code, vfork + execl, ECHILD, a child killed by
 * SIGSEGV, and a pipe between parent and child. stdout is a pipe or file here, so buffered
 * output is duplicated into the forked children exactly as natively.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
/* execveat in a child; returns the child's exit status (127: execveat failed, errno printed). */
static int exec_at(int dirfd, const char *path, int flags) {
  fflush(stdout);
  pid_t p = fork();
  if (!p) {
    char *argv[] = { "sh", "-c", "exit 4", NULL }, *envp[] = { NULL };
    syscall(SYS_execveat, dirfd, path, argv, envp, flags);
    printf("execveat errno %d\n", errno);
    fflush(stdout);
    _exit(127);
  }
  int st;
  waitpid(p, &st, 0);
  return WEXITSTATUS(st);
}

int main(void) {
  FILE *f = popen("which ffmpeg", "r"); char buf[256] = {0}; fgets(buf, sizeof buf, f); printf("popen: %s", buf); printf("pclose: %d\n", pclose(f));
  printf("system: %d\n", system("exit 3"));
  pid_t pid = fork();
  if (pid == 0) { printf("child pid==getpid: %d, ppid ok: %d\n", getpid() != 0, getppid() > 0); fflush(stdout); _exit(5); }
  int st; pid_t w = waitpid(pid, &st, 0); printf("waited %d exited %d code %d\n", w == pid, WIFEXITED(st), WEXITSTATUS(st));
  pid = vfork(); if (pid == 0) { execl("/bin/sh", "sh", "-c", "echo from vfork exec; exit 9", (char *)0); _exit(127); }
  waitpid(pid, &st, 0); printf("vfork child code %d\n", WEXITSTATUS(st));
  printf("no children: %d %s\n", waitpid(-1, &st, WNOHANG), strerror(errno));
  pid = fork(); if (pid == 0) { int *p = 0; *p = 1; }
  waitpid(pid, &st, 0); printf("segv child: signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
  int fds[2]; pipe(fds); pid = fork();
  if (pid == 0) { close(fds[0]); for (int i = 0; i < 1000; i++) write(fds[1], "0123456789abcdef", 16); _exit(0); }
  close(fds[1]); long total = 0; int n; while ((n = read(fds[0], buf, sizeof buf)) > 0) total += n; waitpid(pid, &st, 0); printf("pipe total %ld\n", total);
  int bin = open("/bin", O_RDONLY | O_DIRECTORY), shfd = open("/bin/sh", O_RDONLY);
  printf("execveat relative to a dirfd: %d\n", exec_at(bin, "sh", 0));
  printf("execveat AT_EMPTY_PATH: %d\n", exec_at(shfd, "", AT_EMPTY_PATH));
  symlink("/bin/sh", "shlink");
  printf("execveat NOFOLLOW on a symlink: %d\n", exec_at(AT_FDCWD, "shlink", AT_SYMLINK_NOFOLLOW));
  printf("execveat bad flags: %d\n", exec_at(AT_FDCWD, "/bin/sh", 0x4));
  unlink("shlink");
  return 0;
}
