/*
 * fileio.c - basic file I/O: open/openat/creat (libc and raw syscalls),
 * read/write/readv/writev/pread64/pwrite64, lseek, close, dup/dup2/dup3 and
 * fcntl (F_GETFD/F_SETFD, F_GETFL/F_SETFL, F_DUPFD, F_DUPFD_CLOEXEC).
 * All files are created with relative names in the (scratch) cwd.
 * Never prints fd numbers (the harness may hold extra fds open).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

static void show_file(const char *label, const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: open -1 %s\n", label, errno_name(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        printf("%s: read -1 %s\n", label, errno_name(errno));
        return;
    }
    buf[n] = 0;
    printf("%s: %zd bytes \"", label, n);
    for (ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("\"\n");
}

static void show_fl(const char *label, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) {
        printf("%s: F_GETFL -1 %s\n", label, errno_name(errno));
        return;
    }
    const char *acc = (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY"
                    : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
                    : (fl & O_ACCMODE) == O_RDWR   ? "O_RDWR" : "?";
    printf("%s: %s%s%s\n", label, acc, (fl & O_APPEND) ? "|O_APPEND" : "",
           (fl & O_NONBLOCK) ? "|O_NONBLOCK" : "");
}

int main(void)
{
    char buf[128];
    ssize_t n;
    int fd, fd2;

    umask(022);

    /* ---- open / creat / openat ---- */
    fd = open("a.txt", O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECKN("open O_CREAT|O_EXCL new", fd);
    n = write(fd, "hello world\n", 12);
    CHECKV("write 12", n);
    CHECKN("close", close(fd));
    EXPECT_ERR("close again", close(fd), EBADF);
    EXPECT_ERR("open O_CREAT|O_EXCL existing", open("a.txt", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    EXPECT_ERR("open missing", open("missing.txt", O_RDONLY), ENOENT);
    show_file("a.txt", "a.txt");

    /* O_APPEND */
    fd = open("a.txt", O_WRONLY | O_APPEND);
    CHECKN("open O_APPEND", fd);
    CHECKN("lseek 0 before append write", lseek(fd, 0, SEEK_SET));
    CHECKV("append write", write(fd, "more\n", 5));
    CHECKV("lseek SEEK_CUR after append", lseek(fd, 0, SEEK_CUR));
    show_fl("fl O_APPEND fd", fd);
    close(fd);
    show_file("a.txt after append", "a.txt");

    /* O_TRUNC */
    fd = open("a.txt", O_RDWR | O_TRUNC);
    CHECKN("open O_TRUNC", fd);
    CHECKV("lseek SEEK_END after trunc", lseek(fd, 0, SEEK_END));
    CHECKV("write after trunc", write(fd, "abc", 3));
    close(fd);
    show_file("a.txt after trunc", "a.txt");

    /* creat (libc) and raw creat/open syscalls */
    fd = creat("b.txt", 0600);
    CHECKN("creat", fd);
    CHECKV("write creat fd", write(fd, "0123456789", 10));
    EXPECT_ERR("read on creat (O_WRONLY) fd", read(fd, buf, 1), EBADF);
    close(fd);
    fd = (int)syscall(SYS_creat, "b.txt", 0600);
    CHECKN("SYS_creat existing truncates", fd);
    close(fd);
    show_file("b.txt after SYS_creat", "b.txt");
    fd = (int)syscall(SYS_open, "b.txt", O_RDWR | O_CREAT, 0600);
    CHECKN("SYS_open", fd);
    CHECKV("write via SYS_open fd", write(fd, "xyz", 3));
    close(fd);
    EXPECT_ERR("SYS_open missing", syscall(SYS_open, "nope/x", O_RDONLY), ENOENT);
    fd = (int)syscall(SYS_openat, AT_FDCWD, "b.txt", O_RDONLY);
    CHECKN("SYS_openat AT_FDCWD", fd);
    n = read(fd, buf, sizeof buf);
    CHECKV("read b.txt", n);
    close(fd);

    /* openat relative to a directory fd */
    CHECKN("mkdir d", mkdir("d", 0755));
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    CHECKN("open d O_DIRECTORY", dfd);
    fd = openat(dfd, "inner.txt", O_RDWR | O_CREAT | O_EXCL, 0640);
    CHECKN("openat dfd inner.txt", fd);
    CHECKV("write inner", write(fd, "inner\n", 6));
    close(fd);
    show_file("d/inner.txt", "d/inner.txt");
    EXPECT_ERR("openat bad dirfd", openat(12345, "inner.txt", O_RDONLY), EBADF);
    EXPECT_ERR("openat file as dirfd", ({ int f = open("a.txt", O_RDONLY); int r = openat(f, "x", O_RDONLY); int e = errno; close(f); errno = e; r; }), ENOTDIR);

    /* ---- readv / writev ---- */
    fd = open("v.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECKN("open v.txt", fd);
    {
        struct iovec iov[3] = {
            { "first,", 6 }, { "", 0 }, { "second\n", 7 },
        };
        CHECKV("writev", writev(fd, iov, 3));
        CHECKV("lseek SEEK_SET 0", lseek(fd, 0, SEEK_SET));
        char a[4], b[20];
        memset(b, 0, sizeof b);
        struct iovec riov[2] = { { a, sizeof a }, { b, sizeof b - 1 } };
        n = readv(fd, riov, 2);
        CHECKV("readv", n);
        printf("readv parts: \"%.4s\" \"%s\"\n", a, b);
        CHECKV("readv at EOF", readv(fd, riov, 2));
        EXPECT_ERR("writev bad fd", writev(-1, iov, 3), EBADF);
        EXPECT_ERR("writev iovcnt -1", syscall(SYS_writev, fd, iov, -1), EINVAL);
    }

    /* ---- pread64 / pwrite64 do not move the offset ---- */
    CHECKV("lseek SEEK_SET 2", lseek(fd, 2, SEEK_SET));
    CHECKV("pwrite at 6", pwrite(fd, "SECOND", 6, 6));
    memset(buf, 0, sizeof buf);
    CHECKV("pread 5 at 0", pread(fd, buf, 5, 0));
    printf("pread data: \"%s\"\n", buf);
    CHECKV("offset unchanged", lseek(fd, 0, SEEK_CUR));
    CHECKV("pread past EOF", pread(fd, buf, 5, 1000));
    EXPECT_ERR("pread negative offset", pread(fd, buf, 5, -1), EINVAL);
    EXPECT_ERR("SYS_pread64 negative offset", syscall(SYS_pread64, fd, buf, 5, -1L), EINVAL);
    CHECKV("SYS_pwrite64 at 0", syscall(SYS_pwrite64, fd, "F", 1, 0L));
    show_file("v.txt", "v.txt");

    /* ---- lseek ---- */
    CHECKV("lseek SEEK_END", lseek(fd, 0, SEEK_END));
    CHECKV("lseek SEEK_END -3", lseek(fd, -3, SEEK_END));
    CHECKV("lseek SEEK_CUR +1", lseek(fd, 1, SEEK_CUR));
    CHECKV("lseek beyond EOF", lseek(fd, 100, SEEK_SET));
    CHECKV("write at 100 (hole)", write(fd, "Z", 1));
    {
        struct stat st;
        fstat(fd, &st);
        printf("size after hole write: %lld\n", (long long)st.st_size);
        CHECKV("pread in hole", pread(fd, buf, 4, 50));
        printf("hole bytes zero: %s\n", (buf[0] | buf[1] | buf[2] | buf[3]) == 0 ? "yes" : "no");
    }
    EXPECT_ERR("lseek negative result", lseek(fd, -1000, SEEK_SET), EINVAL);
    EXPECT_ERR("lseek bad whence", lseek(fd, 0, 77), EINVAL);
    EXPECT_ERR("lseek bad fd", lseek(-1, 0, SEEK_SET), EBADF);
    CHECKN("ftruncate 4", ftruncate(fd, 4));
    CHECKV("lseek SEEK_END after ftruncate", lseek(fd, 0, SEEK_END));
    CHECKN("truncate v.txt 2", truncate("v.txt", 2));
    show_file("v.txt truncated", "v.txt");

    /* ---- dup family ---- */
    fd2 = dup(fd);
    CHECKN("dup", fd2);
    CHECKV("lseek via orig", lseek(fd, 1, SEEK_SET));
    CHECKV("dup shares offset", lseek(fd2, 0, SEEK_CUR));
    close(fd2);
    EXPECT_ERR("dup bad fd", dup(9999), EBADF);
    CHECKV("dup2 to 60", dup2(fd, 60));
    CHECKV("dup2 same fd", dup2(fd, fd) == fd);
    CHECKV("dup3 to 61 O_CLOEXEC", dup3(fd, 61, O_CLOEXEC));
    CHECKV("fd 61 FD_CLOEXEC", fcntl(61, F_GETFD) & FD_CLOEXEC);
    CHECKV("fd 60 FD_CLOEXEC", fcntl(60, F_GETFD) & FD_CLOEXEC);
    EXPECT_ERR("dup3 same fd", dup3(fd, fd, 0), EINVAL);
    EXPECT_ERR("SYS_dup3 same fd", syscall(SYS_dup3, fd, fd, 0), EINVAL);
    /* musl 1.2.3 dup3() masks unknown flags itself, so go to the kernel directly */
    EXPECT_ERR("SYS_dup3 bad flags", syscall(SYS_dup3, fd, 62, 0x1234), EINVAL);
    EXPECT_ERR("dup2 bad oldfd", dup2(9999, 62), EBADF);
    EXPECT_ERR("SYS_dup2 bad newfd", syscall(SYS_dup2, fd, -1), EBADF);
    close(60);
    close(61);

    /* ---- fcntl ---- */
    CHECKV("F_GETFD initial", fcntl(fd, F_GETFD));
    CHECKN("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
    CHECKV("F_GETFD after set", fcntl(fd, F_GETFD));
    CHECKN("F_SETFD 0", fcntl(fd, F_SETFD, 0));
    CHECKV("F_GETFD after clear", fcntl(fd, F_GETFD));
    show_fl("fl O_RDWR fd", fd);
    CHECKN("F_SETFL O_APPEND|O_NONBLOCK", fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
    show_fl("fl after F_SETFL", fd);
    {
        int fl = fcntl(fd, F_GETFL);
        printf("F_GETFL raw: 0x%x\n", fl);
    }
    CHECKV("append write via F_SETFL", write(fd, "!", 1));
    CHECKV("offset after append", lseek(fd, 0, SEEK_CUR));
    CHECKN("F_SETFL 0", fcntl(fd, F_SETFL, 0));
    show_fl("fl after clear", fd);
    CHECKN("F_SETFL O_RDONLY ignored accmode", fcntl(fd, F_SETFL, O_RDONLY));
    show_fl("fl accmode unchanged", fd);

    fd2 = fcntl(fd, F_DUPFD, 100);
    CHECKN("F_DUPFD 100", fd2);
    printf("F_DUPFD result >= 100: %s\n", fd2 >= 100 ? "yes" : "no");
    CHECKV("F_DUPFD copy FD_CLOEXEC", fcntl(fd2, F_GETFD));
    close(fd2);
    fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    CHECKN("F_DUPFD_CLOEXEC 100", fd2);
    printf("F_DUPFD_CLOEXEC result >= 100: %s\n", fd2 >= 100 ? "yes" : "no");
    CHECKV("F_DUPFD_CLOEXEC copy FD_CLOEXEC", fcntl(fd2, F_GETFD));
    close(fd2);
    EXPECT_ERR("F_DUPFD negative", fcntl(fd, F_DUPFD, -1), EINVAL);
    EXPECT_ERR("F_GETFD bad fd", fcntl(9999, F_GETFD), EBADF);
    EXPECT_ERR("fcntl bad cmd", fcntl(fd, 9999), EINVAL);
    close(fd);

    /* ---- O_CLOEXEC on open, O_DIRECTORY, O_NOFOLLOW ---- */
    fd = open("a.txt", O_RDONLY | O_CLOEXEC);
    CHECKV("open O_CLOEXEC FD_CLOEXEC", fcntl(fd, F_GETFD));
    show_fl("fl O_RDONLY fd", fd);
    EXPECT_ERR("write to O_RDONLY fd", write(fd, "x", 1), EBADF);
    close(fd);
    EXPECT_ERR("O_DIRECTORY on file", open("a.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
    EXPECT_ERR("O_CREAT on dir", open("d", O_RDWR | O_CREAT, 0644), EISDIR);

    /* read/write of zero bytes, read at EOF */
    fd = open("a.txt", O_RDWR);
    CHECKV("read 0 bytes", read(fd, buf, 0));
    CHECKV("write 0 bytes", write(fd, buf, 0));
    CHECKV("read all", read(fd, buf, sizeof buf));
    CHECKV("read at EOF", read(fd, buf, sizeof buf));
    close(fd);

    /* cleanup */
    CHECKN("unlink a.txt", unlink("a.txt"));
    CHECKN("unlink b.txt", unlink("b.txt"));
    CHECKN("unlink v.txt", unlink("v.txt"));
    CHECKN("unlinkat d/inner.txt", unlinkat(dfd, "inner.txt", 0));
    close(dfd);
    CHECKN("rmdir d", rmdir("d"));
    return FINISH();
}
