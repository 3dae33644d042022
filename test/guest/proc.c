/*
 * proc.c - the pseudo files a guest typically relies on: /proc/self/exe,
 * /proc/self/maps, /proc/self/cmdline, /proc/cpuinfo,
 * /sys/devices/system/cpu/online, /dev/null, /dev/zero, /dev/urandom.
 * Prints only stable facts (basenames, yes/no, counts clamped to ">= 1").
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

int main(int argc, char **argv)
{
    char buf[4096];
    const char *me = argc > 0 ? base_name(argv[0]) : "";

    /* /proc/self/exe */
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    CHECKN("readlink /proc/self/exe", n);
    if (n > 0) {
        buf[n] = 0;
        printf("exe basename: %s\n", base_name(buf));
        EXPECT("exe path is absolute", buf[0] == '/');
        EXPECT("exe basename == argv[0] basename", strcmp(base_name(buf), me) == 0);
    }
    n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, sizeof buf - 1);
    CHECKN("SYS_readlinkat /proc/self/exe", n);
    {
        int fd = open("/proc/self/exe", O_RDONLY);
        CHECKN("open /proc/self/exe", fd);
        unsigned char hdr[20] = { 0 };
        CHECKV("read ELF header", read(fd, hdr, sizeof hdr));
        EXPECT("ELF magic", memcmp(hdr, "\177ELF", 4) == 0);
        printf("ELF class/data: %d %d, e_machine: %d\n", hdr[4], hdr[5], hdr[18] | hdr[19] << 8);
        struct stat st;
        if (fstat(fd, &st) == 0)
            EXPECT("exe is regular and executable", S_ISREG(st.st_mode) && (st.st_mode & 0111));
        close(fd);
    }
    {
        char pidpath[64];
        snprintf(pidpath, sizeof pidpath, "/proc/%d/exe", (int)getpid());
        char buf2[4096];
        ssize_t n2 = readlink(pidpath, buf2, sizeof buf2 - 1);
        ssize_t n1 = readlink("/proc/self/exe", buf, sizeof buf - 1);
        EXPECT("/proc/<pid>/exe == /proc/self/exe", n1 > 0 && n1 == n2 && memcmp(buf, buf2, n1) == 0);
    }

    /* /proc/self/maps */
    {
        char *maps = slurp("/proc/self/maps", NULL);
        EXPECT("read /proc/self/maps", maps != NULL);
        if (maps) {
            int found = 0, lines = 0, stack = 0;
            for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
                lines++;
                const char *path = strchr(line, '/');
                if (path && strcmp(base_name(path), me) == 0)
                    found = 1;
                if (strstr(line, "[stack]"))
                    stack = 1;
            }
            printf("maps has exe line: %s\n", found ? "yes" : "no");
            printf("maps has [stack]: %s\n", stack ? "yes" : "no");
            printf("maps lines >= 3: %s\n", lines >= 3 ? "yes" : "no");
            free(maps);
        }
    }

    /* /proc/self/cmdline */
    {
        size_t len = 0;
        char *cl = slurp("/proc/self/cmdline", &len);
        EXPECT("read /proc/self/cmdline", cl != NULL);
        if (cl) {
            int count = 0;
            for (size_t i = 0; i < len; i++)
                if (cl[i] == 0)
                    count++;
            printf("cmdline args: %d (argc %d)\n", count, argc);
            printf("cmdline argv0 basename: %s\n", base_name(cl));
            free(cl);
        }
    }

    /* /proc/cpuinfo */
    {
        char *ci = slurp("/proc/cpuinfo", NULL);
        EXPECT("read /proc/cpuinfo", ci != NULL);
        if (ci) {
            int procs = 0;
            for (char *line = strtok(ci, "\n"); line; line = strtok(NULL, "\n"))
                if (strncmp(line, "processor", 9) == 0)
                    procs++;
            printf("cpuinfo: %s\n", procs >= 1 ? ">= 1 processors" : "no processors");
            free(ci);
        }
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        printf("sysconf NPROCESSORS_ONLN >= 1: %s\n", ncpu >= 1 ? "yes" : "no");
    }

    /* /sys/devices/system/cpu/online */
    {
        char *on = slurp("/sys/devices/system/cpu/online", NULL);
        EXPECT("read cpu/online", on != NULL);
        if (on) {
            printf("cpu/online starts with 0: %s\n", on[0] == '0' ? "yes" : "no");
            size_t l = strlen(on);
            printf("cpu/online ends with newline: %s\n", l > 0 && on[l - 1] == '\n' ? "yes" : "no");
            free(on);
        }
    }

    /* /dev/zero */
    {
        int fd = open("/dev/zero", O_RDONLY);
        CHECKN("open /dev/zero", fd);
        unsigned char z[16];
        memset(z, 0xaa, sizeof z);
        CHECKV("read /dev/zero 16", read(fd, z, sizeof z));
        int zero = 1;
        for (size_t i = 0; i < sizeof z; i++)
            if (z[i])
                zero = 0;
        printf("/dev/zero all zero: %s\n", zero ? "yes" : "no");
        close(fd);
        fd = open("/dev/zero", O_RDWR);
        CHECKV("write /dev/zero", write(fd, "abc", 3));
        unsigned char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (EXPECT("mmap /dev/zero MAP_PRIVATE", m != MAP_FAILED)) {
            EXPECT("mapped /dev/zero is zero", m[0] == 0 && m[8191] == 0);
            m[100] = 1;
            EXPECT("mapped /dev/zero writable", m[100] == 1);
            munmap(m, 8192);
        }
        close(fd);
    }

    /* /dev/urandom */
    {
        int fd = open("/dev/urandom", O_RDONLY);
        CHECKN("open /dev/urandom", fd);
        unsigned char a[16], b[16];
        CHECKV("read /dev/urandom 16", read(fd, a, sizeof a));
        CHECKV("read /dev/urandom 16 again", read(fd, b, sizeof b));
        EXPECT("two urandom reads differ", memcmp(a, b, 16) != 0);
        close(fd);
        struct stat st;
        if (CHECKN("stat /dev/urandom", stat("/dev/urandom", &st)) == 0)
            EXPECT("/dev/urandom is chr", S_ISCHR(st.st_mode));
    }

    /* /dev/null */
    {
        int fd = open("/dev/null", O_RDWR);
        CHECKN("open /dev/null", fd);
        CHECKV("write /dev/null 5", write(fd, "hello", 5));
        CHECKV("read /dev/null", read(fd, buf, sizeof buf));
        CHECKV("lseek /dev/null", lseek(fd, 100, SEEK_SET));
        struct stat st;
        if (CHECKN("fstat /dev/null", fstat(fd, &st)) == 0)
            EXPECT("/dev/null is chr", S_ISCHR(st.st_mode));
        close(fd);
        fd = open("/dev/null", O_WRONLY | O_TRUNC | O_APPEND);
        CHECKN("open /dev/null O_WRONLY|O_TRUNC|O_APPEND", fd);
        CHECKV("write 1 byte", write(fd, "x", 1));
        close(fd);
    }

    /* /proc/self/fd and /proc/self/status basics */
    {
        int fd = open("/dev/null", O_RDONLY);
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        n = readlink(p, buf, sizeof buf - 1);
        if (n >= 0)
            buf[n] = 0;
        printf("/proc/self/fd/N -> %s\n", n >= 0 ? buf : errno_name(errno));
        close(fd);
        EXPECT_ERR("stat /proc/self/fd/<closed>", stat(p, &(struct stat){0}), ENOENT);
        char *status = slurp("/proc/self/status", NULL);
        EXPECT("read /proc/self/status", status != NULL);
        if (status) {
            char *pidline = strstr(status, "\nPid:");
            EXPECT("status Pid matches getpid", pidline && atoi(pidline + 5) == getpid());
            free(status);
        }
    }
    EXPECT_ERR("open /proc/self/nonexistent", open("/proc/self/nonexistent", O_RDONLY), ENOENT);
    return FINISH();
}
