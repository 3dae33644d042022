/*
 * fdextra.c - memfd_create (write/read/lseek/ftruncate/fstat/mmap, seals,
 * MFD_CLOEXEC, /proc/self/fd link, EINVAL/EFAULT), close_range (closing a
 * range, CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE, EINVAL), /proc/self/environ
 * (the initial environment, compared with environ, not printed: the native and
 * emulated runs get different environments) and /proc/sys/net/core/somaxconn
 * (the host's value may differ: only checked to be a positive integer).
 * Both calls go through syscall(): musl 1.2.3 has no close_range wrapper.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#define MFD_ALLOW_SEALING 2U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 1
#define F_SEAL_SHRINK 2
#endif
#define CR_UNSHARE 2U
#define CR_CLOEXEC 4U

extern char **environ;

static long memfd(const char *name, unsigned flags)
{
    return syscall(SYS_memfd_create, name, flags);
}

static long close_range_(unsigned first, unsigned last, unsigned flags)
{
    return syscall(SYS_close_range, first, last, flags);
}

static void memfd_basics(void)
{
    int fd = (int)CHECKN("memfd_create(\"fdextra\", 0)", memfd("fdextra", 0));
    if (fd < 0)
        return;
    char link[256], path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n >= 0) {
        link[n] = 0;
        printf("fd link: %s\n", link);
    } else {
        printf("fd link: -1 %s\n", errno_name(errno));
    }
    CHECKV("fcntl(F_GETFD) without MFD_CLOEXEC", fcntl(fd, F_GETFD));
    CHECKV("fcntl(F_GETFL) & O_ACCMODE", fcntl(fd, F_GETFL) & O_ACCMODE);
    struct stat st;
    if (CHECKN("fstat new", fstat(fd, &st)) == 0)
        printf("new: regular %s, size %lld\n", S_ISREG(st.st_mode) ? "yes" : "no", (long long)st.st_size);

    const char msg[] = "hello memfd";
    CHECKV("write", write(fd, msg, sizeof msg - 1));
    CHECKV("lseek(0, SEEK_CUR)", lseek(fd, 0, SEEK_CUR));
    CHECKV("lseek(0, SEEK_END)", lseek(fd, 0, SEEK_END));
    CHECKV("lseek(6, SEEK_SET)", lseek(fd, 6, SEEK_SET));
    char buf[64] = { 0 };
    n = read(fd, buf, sizeof buf - 1);
    CHECKV("read after seek", n);
    if (n >= 0)
        printf("read: %.*s\n", (int)n, buf);
    memset(buf, 0, sizeof buf);
    CHECKV("pread(0)", pread(fd, buf, 5, 0));
    printf("pread: %s\n", buf);

    CHECKN("ftruncate(8192)", ftruncate(fd, 8192));
    if (CHECKN("fstat grown", fstat(fd, &st)) == 0)
        printf("grown: size %lld\n", (long long)st.st_size);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    EXPECT("mmap MAP_SHARED", m != MAP_FAILED);
    if (m != MAP_FAILED) {
        printf("mapped: %.11s, tail zero %s\n", m, m[8191] == 0 ? "yes" : "no");
        memcpy(m + 4096, "via map", 7);
        memset(buf, 0, sizeof buf);
        CHECKV("pread what the mapping wrote", pread(fd, buf, 7, 4096));
        printf("pread: %s\n", buf);
        CHECKV("pwrite under the mapping", pwrite(fd, "HELLO", 5, 0));
        printf("mapping sees: %.11s\n", m);
        CHECKN("munmap", munmap(m, 8192));
    }
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    EXPECT("mmap MAP_PRIVATE", p != MAP_FAILED);
    if (p != MAP_FAILED) {
        p[0] = 'x';
        memset(buf, 0, sizeof buf);
        CHECKV("pread after private write", pread(fd, buf, 5, 0));
        printf("file keeps: %s, private sees: %.5s\n", buf, p);
        CHECKN("munmap private", munmap(p, 4096));
    }
    CHECKN("ftruncate(3)", ftruncate(fd, 3));
    CHECKV("lseek(0, SEEK_END) after shrink", lseek(fd, 0, SEEK_END));
    /* Without MFD_ALLOW_SEALING the memfd is born with F_SEAL_SEAL. */
    CHECKV("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
    EXPECT_ERR("F_ADD_SEALS without sealing", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), EPERM);

    /* Another open file description of the same memfd through /proc. */
    int again = open(path, O_RDONLY);
    CHECKN("open /proc/self/fd/N", again >= 0 ? 0 : -1);
    if (again >= 0) {
        memset(buf, 0, sizeof buf);
        CHECKV("read reopened", read(again, buf, sizeof buf - 1));
        printf("reopened: %s\n", buf);
        close(again);
    }
    CHECK(close(fd));
}

static void memfd_flags(void)
{
    int fd = (int)CHECKN("memfd_create(MFD_CLOEXEC|MFD_ALLOW_SEALING)", memfd("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (fd >= 0) {
        CHECKV("fcntl(F_GETFD) with MFD_CLOEXEC", fcntl(fd, F_GETFD));
        CHECKV("F_GET_SEALS sealable", fcntl(fd, F_GET_SEALS));
        CHECKN("ftruncate(100)", ftruncate(fd, 100));
        CHECKN("F_ADD_SEALS F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
        EXPECT_ERR("shrink a sealed memfd", ftruncate(fd, 10), EPERM);
        CHECKN("grow a shrink-sealed memfd", ftruncate(fd, 200));
        CHECKV("F_GET_SEALS after", fcntl(fd, F_GET_SEALS));
        CHECK(close(fd));
    }
    EXPECT_ERR("memfd_create bad flags 0x100", memfd("bad", 0x100), EINVAL);
    EXPECT_ERR("memfd_create bad flags 0x80000000", memfd("bad", 0x80000000U), EINVAL);
    EXPECT_ERR("memfd_create NULL name", memfd(NULL, 0), EFAULT);
    EXPECT_ERR("memfd_create bad name pointer", syscall(SYS_memfd_create, (void *)1, 0), EFAULT);
    char name[256];
    memset(name, 'n', sizeof name);
    name[249] = 0;
    fd = (int)CHECKN("memfd_create 249-byte name", memfd(name, 0));
    if (fd >= 0)
        close(fd);
    name[249] = 'n';
    name[250] = 0;
    EXPECT_ERR("memfd_create 250-byte name", memfd(name, 0), EINVAL);
}

static void close_ranges(void)
{
    int base = (int)memfd("range", 0);
    if (base < 0) {
        printf("memfd for close_range: -1 %s\n", errno_name(errno));
        return;
    }
    for (int fd = 100; fd <= 104; fd++)
        dup2(base, fd);
    close(base);
    CHECKN("close_range(101, 102, 0)", close_range_(101, 102, 0));
    for (int fd = 100; fd <= 104; fd++) {
        char label[64];
        snprintf(label, sizeof label, "fcntl(%d, F_GETFD)", fd);
        CHECKV(label, fcntl(fd, F_GETFD));
    }
    CHECKN("close_range over closed fds", close_range_(101, 102, 0));
    CHECKN("close_range(100, ~0U, CLOEXEC)", close_range_(100, ~0U, CR_CLOEXEC));
    CHECKV("fcntl(100, F_GETFD) after CLOEXEC", fcntl(100, F_GETFD));
    CHECKV("fcntl(104, F_GETFD) after CLOEXEC", fcntl(104, F_GETFD));
    EXPECT_ERR("fcntl(101) still closed", fcntl(101, F_GETFD), EBADF);
    CHECKN("close_range(104, 104, UNSHARE)", close_range_(104, 104, CR_UNSHARE));
    EXPECT_ERR("fcntl(104) after UNSHARE close", fcntl(104, F_GETFD), EBADF);
    CHECKV("fcntl(100) untouched", fcntl(100, F_GETFD));
    EXPECT_ERR("close_range first > last", close_range_(200, 100, 0), EINVAL);
    EXPECT_ERR("close_range bad flags", close_range_(100, 200, 8), EINVAL);
    EXPECT_ERR("close_range bad flags 1", close_range_(100, 200, 1), EINVAL);
    CHECKN("close_range(100, ~0U, UNSHARE|CLOEXEC)", close_range_(100, ~0U, CR_UNSHARE | CR_CLOEXEC));
    CHECKV("fcntl(100) after UNSHARE|CLOEXEC", fcntl(100, F_GETFD));
    CHECKN("close_range(100, ~0U, 0)", close_range_(100, ~0U, 0));
    EXPECT_ERR("fcntl(100) after closing to ~0U", fcntl(100, F_GETFD), EBADF);
    EXPECT_ERR("fcntl(103) after closing to ~0U", fcntl(103, F_GETFD), EBADF);
    CHECKV("fcntl(1, F_GETFD) stdout untouched", fcntl(1, F_GETFD));
}

static void environment(void)
{
    size_t len = 0;
    char *env = slurp("/proc/self/environ", &len);
    EXPECT("read /proc/self/environ", env != NULL);
    if (!env)
        return;
    /* Exactly the initial environment: every entry NUL-terminated, in order. */
    size_t off = 0, count = 0;
    int same = 1;
    for (char **e = environ; *e; e++, count++) {
        size_t n = strlen(*e);
        if (off + n + 1 > len || memcmp(env + off, *e, n + 1) != 0) {
            same = 0;
            break;
        }
        off += n + 1;
    }
    EXPECT("environ matches the initial environment", same && off == len);
    EXPECT("environ is not empty", count > 0);
    free(env);
    /* setenv changes libc's copy, not the process's initial environment. */
    setenv("FDEXTRA_ADDED", "1", 1);
    env = slurp("/proc/self/environ", &len);
    int found = 0;
    for (size_t i = 0; env && i < len; i += strlen(env + i) + 1)
        if (strncmp(env + i, "FDEXTRA_ADDED=", 14) == 0)
            found = 1;
    EXPECT("setenv does not show in /proc/self/environ", env && !found);
    free(env);

    char *somax = slurp("/proc/sys/net/core/somaxconn", &len);
    EXPECT("read /proc/sys/net/core/somaxconn", somax != NULL);
    if (somax) {
        char *end;
        long v = strtol(somax, &end, 10);
        EXPECT("somaxconn is a positive integer and a newline", v > 0 && end != somax && strcmp(end, "\n") == 0);
        free(somax);
    }
    EXPECT_ERR("/proc/sys/net/core/nosuch", open("/proc/sys/net/core/nosuch", O_RDONLY), ENOENT);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    memfd_basics();
    memfd_flags();
    close_ranges();
    environment();
    return FINISH();
}
