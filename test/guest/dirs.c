/*
 * dirs.c - directory and name operations: mkdir/mkdirat, rmdir, chdir/fchdir,
 * getcwd (printed relative to the starting cwd), getdents64/getdents (raw),
 * opendir/readdir (sorted), unlink/unlinkat, rename/renameat/renameat2,
 * symlink/symlinkat, readlink/readlinkat, link/linkat,
 * access/faccessat/faccessat2, umask.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

static char base[4096];

static void show_cwd(const char *label)
{
    char buf[4096];
    if (!getcwd(buf, sizeof buf)) {
        printf("%s: getcwd -1 %s\n", label, errno_name(errno));
        return;
    }
    size_t n = strlen(base);
    if (strncmp(buf, base, n) != 0)
        printf("%s: outside scratch dir\n", label);
    else if (buf[n] == 0)
        printf("%s: .\n", label);
    else
        printf("%s: .%s\n", label, buf + n);
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char type_char(unsigned t)
{
    switch (t) {
    case DT_REG: return 'f';
    case DT_DIR: return 'd';
    case DT_LNK: return 'l';
    case DT_UNKNOWN: return '?';
    default: return 'o';
    }
}

/* List a directory with raw getdents64 (small buffer -> several calls). */
static void list_getdents64(const char *label, const char *path, size_t bufsz)
{
    char *names[64];
    int count = 0, calls = 0;
    char buf[1024];
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        printf("%s: open -1 %s\n", label, errno_name(errno));
        return;
    }
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, bufsz);
        if (n < 0) {
            printf("%s: getdents64 -1 %s\n", label, errno_name(errno));
            break;
        }
        if (n == 0)
            break;
        calls++;
        for (long off = 0; off < n;) {
            uint16_t reclen;
            unsigned char type;
            memcpy(&reclen, buf + off + 16, 2);
            type = (unsigned char)buf[off + 18];
            const char *name = buf + off + 19;
            if (count < 64) {
                char *s = malloc(strlen(name) + 3);
                sprintf(s, "%s:%c", name, type_char(type));
                names[count++] = s;
            }
            off += reclen;
        }
    }
    close(fd);
    qsort(names, count, sizeof names[0], cmpstr);
    printf("%s: %d entries%s:", label, count, calls > 1 ? " (multiple calls)" : "");
    for (int i = 0; i < count; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

/* Legacy getdents (struct linux_dirent: d_type is the last byte of the record). */
static void list_getdents(const char *label, const char *path)
{
    char *names[64];
    int count = 0;
    char buf[2048];
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    for (;;) {
        long n = syscall(SYS_getdents, fd, buf, sizeof buf);
        if (n < 0) {
            printf("%s: getdents -1 %s\n", label, errno_name(errno));
            break;
        }
        if (n == 0)
            break;
        for (long off = 0; off < n;) {
            uint16_t reclen;
            memcpy(&reclen, buf + off + 16, 2);
            const char *name = buf + off + 18;
            unsigned char type = (unsigned char)buf[off + reclen - 1];
            if (count < 64) {
                char *s = malloc(strlen(name) + 3);
                sprintf(s, "%s:%c", name, type_char(type));
                names[count++] = s;
            }
            off += reclen;
        }
    }
    close(fd);
    qsort(names, count, sizeof names[0], cmpstr);
    printf("%s: %d entries:", label, count);
    for (int i = 0; i < count; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void list_readdir(const char *label, const char *path)
{
    char *names[64];
    int count = 0;
    DIR *d = opendir(path);
    if (!d) {
        printf("%s: opendir NULL %s\n", label, errno_name(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (count < 64)
            names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof names[0], cmpstr);
    printf("%s: %d entries:", label, count);
    for (int i = 0; i < count; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void show_link(const char *label, long n, const char *buf)
{
    if (n < 0)
        printf("%s: -1 %s\n", label, errno_name(errno));
    else
        printf("%s: %ld \"%.*s\"\n", label, n, (int)n, buf);
}

static void show_type(const char *label, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        printf("%s: lstat -1 %s\n", label, errno_name(errno));
        return;
    }
    printf("%s: %s perm=%04o", label,
           S_ISREG(st.st_mode) ? "reg" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "lnk" : "other",
           (unsigned)(st.st_mode & 07777));
    if (!S_ISDIR(st.st_mode))
        printf(" nlink=%lu", (unsigned long)st.st_nlink);
    printf("\n");
}

static void touch(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) {
        printf("touch %s: -1 %s\n", path, errno_name(errno));
        return;
    }
    if (write(fd, path, strlen(path)) < 0)
        printf("touch %s: write failed\n", path);
    close(fd);
}

int main(void)
{
    char buf[256];
    long n;

    umask(022);
    if (!getcwd(base, sizeof base)) {
        printf("getcwd at start failed: %s\n", errno_name(errno));
        return 2;
    }
    int basefd = open(".", O_RDONLY | O_DIRECTORY);
    CHECKN("open base dir", basefd);

    /* ---- umask ---- */
    mode_t old = umask(077);
    printf("umask(077) old: %03o\n", (unsigned)old);
    touch("masked", 0666);
    show_type("masked file", "masked");
    old = umask(022);
    printf("umask(022) old: %03o\n", (unsigned)old);
    CHECKN("unlink masked", unlink("masked"));

    /* ---- mkdir / mkdirat ---- */
    CHECKN("mkdir a", mkdir("a", 0755));
    CHECKN("mkdir a/b", mkdir("a/b", 0700));
    CHECKN("mkdir trailing slash c/", mkdir("c/", 0755));
    EXPECT_ERR("mkdir a existing", mkdir("a", 0755), EEXIST);
    EXPECT_ERR("mkdir missing parent", mkdir("nope/x", 0755), ENOENT);
    touch("file", 0644);
    EXPECT_ERR("mkdir under file", mkdir("file/x", 0755), ENOTDIR);
    int afd = open("a", O_RDONLY | O_DIRECTORY);
    CHECKN("open a", afd);
    CHECKN("mkdirat afd m", mkdirat(afd, "m", 0751));
    show_type("a/m", "a/m");
    EXPECT_ERR("mkdirat afd m again", mkdirat(afd, "m", 0751), EEXIST);
    EXPECT_ERR("mkdirat bad fd", mkdirat(9999, "m", 0751), EBADF);
    EXPECT_ERR("SYS_mkdir EFAULT", syscall(SYS_mkdir, (void *)1, 0755), EFAULT);
    show_type("a", "a");
    show_type("a/b", "a/b");

    /* ---- chdir / fchdir / getcwd ---- */
    show_cwd("cwd at start");
    CHECKN("chdir a", chdir("a"));
    show_cwd("cwd after chdir a");
    CHECKN("chdir b", chdir("b"));
    show_cwd("cwd after chdir b");
    CHECKN("chdir ../..", chdir("../.."));
    show_cwd("cwd after chdir ../..");
    CHECKN("fchdir afd", fchdir(afd));
    show_cwd("cwd after fchdir afd");
    CHECKN("chdir ./m/../b/.", chdir("./m/../b/."));
    show_cwd("cwd after chdir ./m/../b/.");
    CHECKN("fchdir basefd", fchdir(basefd));
    show_cwd("cwd after fchdir basefd");
    EXPECT_ERR("chdir missing", chdir("missing"), ENOENT);
    EXPECT_ERR("chdir file", chdir("file"), ENOTDIR);
    EXPECT_ERR("chdir EFAULT", syscall(SYS_chdir, (void *)1), EFAULT);
    {
        int ffd = open("file", O_RDONLY);
        EXPECT_ERR("fchdir file fd", fchdir(ffd), ENOTDIR);
        close(ffd);
    }
    EXPECT_ERR("fchdir bad fd", fchdir(9999), EBADF);
    EXPECT_ERR("SYS_getcwd size 1", syscall(SYS_getcwd, buf, 1), ERANGE);
    EXPECT_ERR("SYS_getcwd EFAULT", syscall(SYS_getcwd, (void *)1, 4096), EFAULT);
    n = syscall(SYS_getcwd, buf, sizeof buf);
    printf("SYS_getcwd returns strlen+1: %s\n", n > 0 && (size_t)n == strlen(buf) + 1 ? "yes" : "no");

    /* ---- listing ---- */
    touch("a/f1", 0644);
    touch("a/f2", 0644);
    CHECKN("symlink f1 a/sl", symlink("f1", "a/sl"));
    for (int i = 0; i < 20; i++) {
        snprintf(buf, sizeof buf, "a/m/long-file-name-number-%02d", i);
        touch(buf, 0644);
    }
    list_getdents64("getdents64 a", "a", 1024);
    list_getdents64("getdents64 a/m small buf", "a/m", 200);
    list_getdents("getdents a", "a");
    list_readdir("readdir a", "a");
    list_readdir("readdir a/m", "a/m");
    {
        int fd = open("a", O_RDONLY | O_DIRECTORY);
        EXPECT_ERR("getdents64 buffer too small", syscall(SYS_getdents64, fd, buf, 8), EINVAL);
        EXPECT_ERR("getdents64 EFAULT", syscall(SYS_getdents64, fd, (void *)1, 1024), EFAULT);
        close(fd);
        fd = open("file", O_RDONLY);
        EXPECT_ERR("getdents64 on file", syscall(SYS_getdents64, fd, buf, sizeof buf), ENOTDIR);
        close(fd);
        EXPECT_ERR("getdents64 bad fd", syscall(SYS_getdents64, 9999, buf, sizeof buf), EBADF);
        EXPECT_ERR("opendir file", (long)opendir("file") ? 0 : -1, ENOTDIR);
        EXPECT_ERR("opendir missing", (long)opendir("missing") ? 0 : -1, ENOENT);
    }

    /* ---- symlink / readlink ---- */
    CHECKN("symlink a/b lnkdir", symlink("a/b", "lnkdir"));
    CHECKN("symlinkat basefd target-x sx", symlinkat("target-x", basefd, "sx"));
    CHECKN("symlinkat afd ../file up", symlinkat("../file", afd, "up"));
    EXPECT_ERR("symlink existing", symlink("x", "file"), EEXIST);
    n = readlink("lnkdir", buf, sizeof buf); show_link("readlink lnkdir", n, buf);
    n = readlink("sx", buf, sizeof buf); show_link("readlink sx", n, buf);
    n = readlink("sx", buf, 3); show_link("readlink sx truncated", n, buf);
    n = readlinkat(afd, "up", buf, sizeof buf); show_link("readlinkat afd up", n, buf);
    n = readlinkat(afd, "sl", buf, sizeof buf); show_link("readlinkat afd sl", n, buf);
    n = syscall(SYS_readlink, "lnkdir", buf, sizeof buf); show_link("SYS_readlink lnkdir", n, buf);
    n = syscall(SYS_readlinkat, afd, "up", buf, sizeof buf); show_link("SYS_readlinkat up", n, buf);
    EXPECT_ERR("readlink regular file", readlink("file", buf, sizeof buf), EINVAL);
    EXPECT_ERR("readlink missing", readlink("missing", buf, sizeof buf), ENOENT);
    EXPECT_ERR("SYS_readlink bufsiz 0", syscall(SYS_readlink, "sx", buf, 0), EINVAL);
    EXPECT_ERR("SYS_readlink EFAULT", syscall(SYS_readlink, "sx", (void *)1, 10), EFAULT);
    show_cwd("before chdir through symlink");
    CHECKN("chdir lnkdir", chdir("lnkdir"));
    show_cwd("cwd after chdir lnkdir (resolved)");
    CHECKN("fchdir basefd", fchdir(basefd));
    {
        int fd = open("a/up", O_RDONLY);
        CHECKN("open through symlink a/up", fd);
        n = read(fd, buf, sizeof buf);
        show_link("read a/up", n, buf);
        close(fd);
    }

    /* ---- link / linkat ---- */
    CHECKN("link file hard1", link("file", "hard1"));
    show_type("file after link", "file");
    EXPECT_ERR("link existing", link("file", "hard1"), EEXIST);
    EXPECT_ERR("link dir", link("a", "adir"), EPERM);
    EXPECT_ERR("link missing", link("missing", "x"), ENOENT);
    CHECKN("linkat sx (nofollow)", linkat(basefd, "sx", basefd, "sx-hard", 0));
    show_type("sx-hard", "sx-hard");
    CHECKN("linkat a/up AT_SYMLINK_FOLLOW", linkat(afd, "up", AT_FDCWD, "up-hard", AT_SYMLINK_FOLLOW));
    show_type("up-hard", "up-hard");
    show_type("file after linkat", "file");
    EXPECT_ERR("linkat bad flags", linkat(afd, "up", AT_FDCWD, "zz", 0x12345), EINVAL);

    /* ---- rename / renameat / renameat2 ---- */
    touch("r1", 0644);
    touch("r2", 0644);
    CHECKN("rename r1 r3", rename("r1", "r3"));
    CHECKN("rename r3 over r2", rename("r3", "r2"));
    show_type("r2", "r2");
    EXPECT_ERR("rename missing", rename("r1", "r4"), ENOENT);
    CHECKN("renameat r2 -> a/r2", renameat(basefd, "r2", afd, "r2"));
    show_type("a/r2", "a/r2");
    CHECKN("rename same name", rename("a/r2", "a/r2"));
    CHECKN("rename hard link onto itself (no-op)", rename("file", "hard1"));
    show_type("file after self-rename", "file");
    EXPECT_ERR("rename file over dir", rename("a/r2", "c"), EISDIR);
    EXPECT_ERR("rename dir over file", rename("c", "a/r2"), ENOTDIR);
    EXPECT_ERR("rename dir over non-empty dir", rename("c", "a"), ENOTEMPTY);
    EXPECT_ERR("rename dir into own subdir", rename("a", "a/b/a"), EINVAL);
    CHECKN("mkdir empty", mkdir("empty", 0755));
    CHECKN("rename dir over empty dir", rename("c", "empty"));
    show_type("empty (was c)", "empty");
    EXPECT_ERR("renameat2 NOREPLACE existing", syscall(SYS_renameat2, AT_FDCWD, "file", AT_FDCWD, "up-hard", RENAME_NOREPLACE), EEXIST);
    CHECKN("renameat2 NOREPLACE new", syscall(SYS_renameat2, AT_FDCWD, "up-hard", AT_FDCWD, "up-hard2", RENAME_NOREPLACE));
    EXPECT_ERR("renameat2 bad flags", syscall(SYS_renameat2, AT_FDCWD, "up-hard2", AT_FDCWD, "x", 0x100), EINVAL);
    EXPECT_ERR("SYS_rename EFAULT", syscall(SYS_rename, (void *)1, "x"), EFAULT);

    /* ---- access / faccessat / faccessat2 ---- */
    touch("ro", 0444);
    touch("exe", 0755);
    CHECKN("access file F_OK", access("file", F_OK));
    CHECKN("access file R_OK|W_OK", access("file", R_OK | W_OK));
    CHECKN("access ro W_OK (root)", access("ro", W_OK));
    EXPECT_ERR("access file X_OK (no x bit, root)", access("file", X_OK), EACCES);
    CHECKN("access exe X_OK", access("exe", X_OK));
    CHECKN("access dir X_OK", access("a", X_OK));
    EXPECT_ERR("access missing", access("missing", F_OK), ENOENT);
    EXPECT_ERR("access file/x", access("file/x", F_OK), ENOTDIR);
    EXPECT_ERR("access bad mode", syscall(SYS_access, "file", 0x80), EINVAL);
    CHECKN("SYS_access file R_OK", syscall(SYS_access, "file", R_OK));
    CHECKN("SYS_faccessat afd up R_OK", syscall(SYS_faccessat, afd, "up", R_OK));
    EXPECT_ERR("SYS_faccessat bad dirfd", syscall(SYS_faccessat, 9999, "up", R_OK), EBADF);
    CHECKN("faccessat exe X_OK AT_EACCESS", faccessat(AT_FDCWD, "exe", X_OK, AT_EACCESS));
    CHECKN("SYS_faccessat2 exe X_OK AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, "exe", X_OK, AT_EACCESS));
    CHECKN("SYS_faccessat2 sx NOFOLLOW", syscall(SYS_faccessat2, AT_FDCWD, "sx", F_OK, AT_SYMLINK_NOFOLLOW));
    EXPECT_ERR("SYS_faccessat2 sx follow (dangling)", syscall(SYS_faccessat2, AT_FDCWD, "sx", F_OK, 0), ENOENT);
    EXPECT_ERR("SYS_faccessat2 file X_OK AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, "file", X_OK, AT_EACCESS), EACCES);
    EXPECT_ERR("SYS_faccessat2 bad flags", syscall(SYS_faccessat2, AT_FDCWD, "file", F_OK, 0x1), EINVAL);
    {
        int ffd = open("file", O_RDONLY);
        CHECKN("SYS_faccessat2 AT_EMPTY_PATH", syscall(SYS_faccessat2, ffd, "", R_OK, 0x1000));
        close(ffd);
    }

    /* ---- deleted cwd ---- */
    CHECKN("mkdir gone", mkdir("gone", 0755));
    CHECKN("chdir gone", chdir("gone"));
    CHECKN("rmdir ../gone from inside", rmdir("../gone"));
    EXPECT_ERR("SYS_getcwd in deleted dir", syscall(SYS_getcwd, buf, sizeof buf), ENOENT);
    EXPECT_ERR("create file in deleted cwd", open("x", O_WRONLY | O_CREAT, 0644), ENOENT);
    CHECKN("fchdir basefd", fchdir(basefd));
    show_cwd("cwd restored");

    /* ---- unlink / unlinkat / rmdir and cleanup ---- */
    EXPECT_ERR("rmdir non-empty", rmdir("a"), ENOTEMPTY);
    EXPECT_ERR("rmdir missing", rmdir("missing"), ENOENT);
    EXPECT_ERR("rmdir file", rmdir("file"), ENOTDIR);
    EXPECT_ERR("rmdir .", rmdir("."), EINVAL);
    EXPECT_ERR("rmdir symlink to dir", rmdir("lnkdir"), ENOTDIR);
    EXPECT_ERR("unlink dir", unlink("a"), EISDIR);
    EXPECT_ERR("unlink missing", unlink("missing"), ENOENT);
    EXPECT_ERR("unlinkat AT_REMOVEDIR on file", unlinkat(AT_FDCWD, "file", AT_REMOVEDIR), ENOTDIR);
    EXPECT_ERR("unlinkat dir without flag", unlinkat(afd, "b", 0), EISDIR);
    EXPECT_ERR("unlinkat bad flags", unlinkat(afd, "f1", 0x1), EINVAL);
    CHECKN("unlinkat afd b AT_REMOVEDIR", unlinkat(afd, "b", AT_REMOVEDIR));
    CHECKN("unlink lnkdir (dangling now)", unlink("lnkdir"));
    for (int i = 0; i < 20; i++) {
        snprintf(buf, sizeof buf, "m/long-file-name-number-%02d", i);
        if (unlinkat(afd, buf, 0) != 0)
            printf("unlinkat %s: -1 %s\n", buf, errno_name(errno));
    }
    CHECKN("unlinkat afd m AT_REMOVEDIR", unlinkat(afd, "m", AT_REMOVEDIR));
    const char *files[] = { "a/f1", "a/f2", "a/sl", "a/up", "a/r2", "sx", "sx-hard",
                            "up-hard2", "hard1", "file", "ro", "exe" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (unlink(files[i]) != 0)
            printf("unlink %s: -1 %s\n", files[i], errno_name(errno));
    list_readdir("readdir a after cleanup", "a");
    close(afd);
    CHECKN("rmdir a", rmdir("a"));
    CHECKN("rmdir empty", rmdir("empty"));
    list_getdents64("getdents64 . at end", ".", 1024);
    close(basefd);
    return FINISH();
}
