/*
 * errors.c - a collection of error paths. Every line names the operation and
 * the errno it produced. Bad pointers are passed through syscall() directly so
 * that libc cannot crash (or check) first.
 *
 * Exit status: 3 when every error matched (a second non-zero status, returned
 * from main, to complement exit_status.c), 1 if anything was unexpected.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define BAD ((void *)1)

static void make_file(const char *path, const char *data, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, data, strlen(data)) < 0)
        printf("make_file %s failed: %s\n", path, errno_name(errno));
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    char buf[64];
    struct stat st;

    umask(022);
    make_file("file", "some data in the file\n", 0644);
    CHECKN("mkdir dir", mkdir("dir", 0755));
    make_file("dir/inside", "x", 0644);

    /* ---- EBADF ---- */
    EXPECT_ERR("close(-1)", close(-1), EBADF);
    EXPECT_ERR("close(9999)", close(9999), EBADF);
    int wfd = open("file", O_WRONLY);
    EXPECT_ERR("read on O_WRONLY fd", read(wfd, buf, 1), EBADF);
    close(wfd);
    int rfd = open("file", O_RDONLY);
    EXPECT_ERR("write on O_RDONLY fd", write(rfd, "x", 1), EBADF);
    EXPECT_ERR("ftruncate O_RDONLY fd", ftruncate(rfd, 0), EINVAL);
    close(rfd);
    EXPECT_ERR("read on closed fd", read(rfd, buf, 1), EBADF);
    EXPECT_ERR("fstat(-1)", fstat(-1, &st), EBADF);
    EXPECT_ERR("lseek on closed fd", lseek(rfd, 0, SEEK_SET), EBADF);
    EXPECT_ERR("dup2(-1, 10)", dup2(-1, 10), EBADF);
    EXPECT_ERR("openat relative with dirfd -1", openat(-1, "file", O_RDONLY), EBADF);
    {
        int fd = openat(9999, "/dev/null", O_RDONLY);
        CHECKN("openat absolute path ignores bad dirfd", fd);
        if (fd >= 0)
            close(fd);
    }
    {
        int dfd = open("dir", O_RDONLY | O_DIRECTORY);
        EXPECT_ERR("write to O_RDONLY dir fd", write(dfd, "x", 1), EBADF);
        EXPECT_ERR("read on dir fd", read(dfd, buf, sizeof buf), EISDIR);
        EXPECT_ERR("pread on dir fd", pread(dfd, buf, sizeof buf, 0), EISDIR);
        close(dfd);
    }

    /* ---- ENOENT / ENOTDIR / EEXIST / EISDIR / ENOTEMPTY ---- */
    EXPECT_ERR("open missing", open("missing", O_RDONLY), ENOENT);
    EXPECT_ERR("open missing/dir/file", open("missing/dir/file", O_RDONLY), ENOENT);
    EXPECT_ERR("open O_CREAT in missing dir", open("missing/new", O_WRONLY | O_CREAT, 0644), ENOENT);
    EXPECT_ERR("open empty path", open("", O_RDONLY), ENOENT);
    EXPECT_ERR("O_DIRECTORY on file", open("file", O_RDONLY | O_DIRECTORY), ENOTDIR);
    EXPECT_ERR("path through file", open("file/x", O_RDONLY), ENOTDIR);
    EXPECT_ERR("trailing slash on file", open("file/", O_RDONLY), ENOTDIR);
    EXPECT_ERR("stat path through file", stat("file/x", &st), ENOTDIR);
    EXPECT_ERR("mkdir existing dir", mkdir("dir", 0755), EEXIST);
    EXPECT_ERR("mkdir existing file", mkdir("file", 0755), EEXIST);
    EXPECT_ERR("O_CREAT|O_EXCL existing", open("file", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);
    EXPECT_ERR("O_CREAT|O_EXCL on dir", open("dir", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST);
    EXPECT_ERR("open dir O_WRONLY", open("dir", O_WRONLY), EISDIR);
    EXPECT_ERR("open dir O_RDWR", open("dir", O_RDWR), EISDIR);
    EXPECT_ERR("rmdir file", rmdir("file"), ENOTDIR);
    EXPECT_ERR("rmdir non-empty", rmdir("dir"), ENOTEMPTY);
    EXPECT_ERR("unlink dir", unlink("dir"), EISDIR);
    EXPECT_ERR("unlink missing", unlink("missing"), ENOENT);
    EXPECT_ERR("chdir file", chdir("file"), ENOTDIR);
    EXPECT_ERR("rename missing", rename("missing", "x"), ENOENT);
    EXPECT_ERR("link into missing dir", link("file", "missing/x"), ENOENT);

    /* ---- ENAMETOOLONG / ELOOP ---- */
    {
        char longname[300];
        memset(longname, 'n', 256);
        longname[256] = 0;
        EXPECT_ERR("component of 256 chars", open(longname, O_RDONLY), ENAMETOOLONG);
        longname[255] = 0;
        EXPECT_ERR("component of 255 chars (missing)", open(longname, O_RDONLY), ENOENT);
        char *huge = malloc(5000);
        for (int i = 0; i < 4999; i++)
            huge[i] = (i % 2) ? '/' : 'a';
        huge[4999] = 0;
        EXPECT_ERR("path of 4999 chars", open(huge, O_RDONLY), ENAMETOOLONG);
        free(huge);
    }
    CHECKN("symlink loop1 -> loop2", symlink("loop2", "loop1"));
    CHECKN("symlink loop2 -> loop1", symlink("loop1", "loop2"));
    EXPECT_ERR("open symlink loop", open("loop1", O_RDONLY), ELOOP);
    EXPECT_ERR("stat symlink loop", stat("loop1", &st), ELOOP);
    CHECKN("lstat symlink loop", lstat("loop1", &st));
    CHECKN("symlink flink -> file", symlink("file", "flink"));
    EXPECT_ERR("O_NOFOLLOW on symlink", open("flink", O_RDONLY | O_NOFOLLOW), ELOOP);
    {
        int fd = open("flink", O_RDONLY | O_NOFOLLOW | O_PATH);
        CHECKN("O_PATH|O_NOFOLLOW on symlink", fd);
        if (fd >= 0) {
            EXPECT_ERR("read on O_PATH fd", read(fd, buf, 1), EBADF);
            close(fd);
        }
    }

    /* ---- EFAULT (raw syscalls) ---- */
    rfd = open("file", O_RDONLY);
    EXPECT_ERR("SYS_read into (void*)1", syscall(SYS_read, rfd, BAD, 1), EFAULT);
    EXPECT_ERR("SYS_pread64 into (void*)1", syscall(SYS_pread64, rfd, BAD, 4, 0L), EFAULT);
    CHECKV("SYS_read 0 bytes into (void*)1", syscall(SYS_read, rfd, BAD, 0));
    {
        struct iovec iov[2] = { { buf, 4 }, { BAD, 4 } };
        CHECKV("SYS_readv second iov bad (partial)", syscall(SYS_readv, rfd, iov, 2));
        EXPECT_ERR("SYS_readv iov array (void*)1", syscall(SYS_readv, rfd, BAD, 1), EFAULT);
    }
    close(rfd);
    wfd = open("wfile", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_ERR("SYS_write from (void*)1", syscall(SYS_write, wfd, BAD, 10), EFAULT);
    CHECKV("SYS_write 0 bytes from (void*)1", syscall(SYS_write, wfd, BAD, 0));
    {
        struct iovec iov[1] = { { BAD, 4 } };
        EXPECT_ERR("SYS_writev bad iov_base", syscall(SYS_writev, wfd, iov, 1), EFAULT);
    }
    EXPECT_ERR("SYS_pwrite64 from (void*)1", syscall(SYS_pwrite64, wfd, BAD, 4, 0L), EFAULT);
    if (fstat(wfd, &st) == 0)
        printf("wfile size after faulting writes: %lld\n", (long long)st.st_size);
    close(wfd);
    EXPECT_ERR("SYS_open path (void*)1", syscall(SYS_open, BAD, O_RDONLY), EFAULT);
    EXPECT_ERR("SYS_openat path (void*)1", syscall(SYS_openat, AT_FDCWD, BAD, O_RDONLY), EFAULT);
    EXPECT_ERR("SYS_stat buf (void*)1", syscall(SYS_stat, "file", BAD), EFAULT);
    EXPECT_ERR("SYS_mkdir path (void*)1", syscall(SYS_mkdir, BAD, 0755), EFAULT);
    EXPECT_ERR("SYS_unlink path (void*)1", syscall(SYS_unlink, BAD), EFAULT);
    EXPECT_ERR("SYS_getcwd buf (void*)1", syscall(SYS_getcwd, BAD, 100), EFAULT);
    EXPECT_ERR("SYS_gettimeofday (void*)1", syscall(SYS_gettimeofday, BAD, NULL), EFAULT);
    EXPECT_ERR("SYS_uname (void*)1", syscall(SYS_uname, BAD), EFAULT);
    EXPECT_ERR("SYS_readlink path (void*)1", syscall(SYS_readlink, BAD, buf, sizeof buf), EFAULT);
    EXPECT_ERR("SYS_access path (void*)1", syscall(SYS_access, BAD, F_OK), EFAULT);
    EXPECT_ERR("SYS_rt_sigprocmask set (void*)1", syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD, NULL, 8), EFAULT);
    EXPECT_ERR("SYS_getrlimit (void*)1", syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD), EFAULT);
    EXPECT_ERR("SYS_open path at top of user space",
               syscall(SYS_open, (void *)0x7ffffffff000UL, O_RDONLY), EFAULT);
    EXPECT_ERR("SYS_open kernel address", syscall(SYS_open, (void *)0xffffffff81000000UL, O_RDONLY), EFAULT);

    /* ---- EINVAL ---- */
    rfd = open("file", O_RDONLY);
    EXPECT_ERR("lseek bad whence", lseek(rfd, 0, 42), EINVAL);
    EXPECT_ERR("lseek to negative", lseek(rfd, -5, SEEK_SET), EINVAL);
    EXPECT_ERR("fcntl unknown cmd", fcntl(rfd, 12345), EINVAL);
    EXPECT_ERR("ioctl unknown request on file", ioctl(rfd, 0x5401fff), ENOTTY);
    EXPECT_ERR("SYS_readv iovcnt 1025", syscall(SYS_readv, rfd, buf, 1025), EINVAL);
    close(rfd);
    EXPECT_ERR("rmdir .", rmdir("."), EINVAL);
    EXPECT_ERR("rename dir into itself", rename("dir", "dir/sub"), EINVAL);
    EXPECT_ERR("SYS_openat bad flags O_TMPFILE without write", syscall(SYS_openat, AT_FDCWD, ".", O_RDONLY | 020200000), EINVAL);

    /* ---- ECHILD / ESRCH / ENOSYS ---- */
    EXPECT_ERR("wait4 without children", syscall(SYS_wait4, -1, NULL, 0, NULL), ECHILD);
    EXPECT_ERR("waitpid without children", waitpid(-1, NULL, WNOHANG), ECHILD);
    EXPECT_ERR("kill nonexistent pid", kill(0x3ffffff0, 0), ESRCH);
    EXPECT_ERR("syscall 1000", syscall(1000), ENOSYS);
    /* (numbers just above the table, e.g. 335/336, are uretprobe/uprobe on new
     * kernels and raise SIGILL outside a trampoline; stay far away from them) */
    EXPECT_ERR("syscall -1", syscall(-1L), ENOSYS);
    EXPECT_ERR("syscall 100000", syscall(100000), ENOSYS);

    /* ---- EMFILE ---- */
    {
        struct rlimit old, lim;
        getrlimit(RLIMIT_NOFILE, &old);
        lim = old;
        lim.rlim_cur = 32;
        CHECKN("setrlimit NOFILE 32", setrlimit(RLIMIT_NOFILE, &lim));
        int fds[64], count = 0, last = 0;
        while (count < 64) {
            int fd = open("file", O_RDONLY);
            if (fd < 0) {
                last = errno;
                break;
            }
            fds[count++] = fd;
        }
        printf("open until failure: %s\n", errno_name(last));
        if (last == EMFILE && count > 0) {
            EXPECT_ERR("dup at limit", dup(fds[0]), EMFILE);
            EXPECT_ERR("F_DUPFD at limit", fcntl(fds[0], F_DUPFD, 0), EMFILE);
        } else {
            check_failures++;
        }
        for (int i = 0; i < count; i++)
            close(fds[i]);
        CHECKN("restore NOFILE", setrlimit(RLIMIT_NOFILE, &old));
    }

    /* ---- cleanup ---- */
    const char *names[] = { "loop1", "loop2", "flink", "wfile", "file", "dir/inside" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (unlink(names[i]) != 0)
            printf("cleanup unlink %s: %s\n", names[i], errno_name(errno));
    CHECKN("rmdir dir", rmdir("dir"));
    return FINISH() ? 1 : 3;
}
