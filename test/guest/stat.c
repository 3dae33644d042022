/*
 * stat.c - fstat, stat, lstat, newfstatat (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH)
 * and statx (raw syscall). Prints only file type, permission bits, size and
 * (for non-directories) nlink: never inode, device, blocks or times, and never
 * the size/nlink of directories (both depend on the host filesystem).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

/* Our own copy of the kernel's struct statx (musl 1.2.3 has no statx and
 * musl-gcc has no <linux/stat.h>). */
struct kstatx_ts { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; };
struct kstatx {
    uint32_t stx_mask, stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, pad1;
    uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct kstatx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
    uint64_t spare[14];
};
#define K_STATX_TYPE 0x0001U
#define K_STATX_MODE 0x0002U
#define K_STATX_NLINK 0x0004U
#define K_STATX_SIZE 0x0200U
#define K_STATX_BASIC_STATS 0x07ffU
#define K_AT_STATX_SYNC_AS_STAT 0x0000
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static const char *ftype(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "lnk";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
    default: return "?";
    }
}

static void show(const char *label, int r, const struct stat *st)
{
    if (r != 0) {
        printf("%s: -1 %s\n", label, errno_name(errno));
        return;
    }
    printf("%s: type=%s perm=%04o", label, ftype(st->st_mode), (unsigned)(st->st_mode & 07777));
    if (!S_ISDIR(st->st_mode))
        printf(" size=%lld nlink=%lu", (long long)st->st_size, (unsigned long)st->st_nlink);
    printf(" uid=%u gid=%u\n", (unsigned)st->st_uid, (unsigned)st->st_gid);
}

static void show_statx(const char *label, long r, const struct kstatx *sx, unsigned want)
{
    if (r != 0) {
        printf("%s: -1 %s\n", label, errno_name(errno));
        return;
    }
    printf("%s: mask has TYPE|MODE|SIZE: %s type=%s perm=%04o",
           label, (sx->stx_mask & want) == want ? "yes" : "no",
           ftype(sx->stx_mode), (unsigned)(sx->stx_mode & 07777));
    if ((sx->stx_mode & S_IFMT) != S_IFDIR)
        printf(" size=%llu nlink=%u", (unsigned long long)sx->stx_size, sx->stx_nlink);
    printf("\n");
}

int main(void)
{
    struct stat st;
    struct kstatx sx;
    int fd, r;

    umask(022);

    fd = open("f.txt", O_RDWR | O_CREAT | O_TRUNC, 0640);
    CHECKN("create f.txt", fd);
    CHECKV("write 1000", write(fd, memset((char[1000]){0}, 'x', 1000), 1000));
    CHECKN("mkdir d", mkdir("d", 0751));
    CHECKN("symlink f.txt -> lnk", symlink("f.txt", "lnk"));
    CHECKN("symlink missing -> dangling", symlink("no-such-target", "dangling"));
    CHECKN("link f.txt hard", link("f.txt", "hard"));

    /* fstat */
    r = fstat(fd, &st); show("fstat f.txt", r, &st);
    r = (int)syscall(SYS_fstat, fd, &st); show("SYS_fstat f.txt", r, &st);
    CHECKN("fchmod 0600", fchmod(fd, 0600));
    r = fstat(fd, &st); show("fstat after fchmod", r, &st);
    CHECKN("ftruncate 10", ftruncate(fd, 10));
    r = fstat(fd, &st); show("fstat after ftruncate", r, &st);
    EXPECT_ERR("fstat bad fd", fstat(-1, &st), EBADF);
    EXPECT_ERR("SYS_fstat EFAULT", syscall(SYS_fstat, fd, (void *)1), EFAULT);

    /* stat / lstat */
    r = stat("f.txt", &st); show("stat f.txt", r, &st);
    r = stat("hard", &st); show("stat hard", r, &st);
    r = stat("lnk", &st); show("stat lnk (follows)", r, &st);
    r = lstat("lnk", &st); show("lstat lnk", r, &st);
    r = (int)syscall(SYS_lstat, "lnk", &st); show("SYS_lstat lnk", r, &st);
    r = (int)syscall(SYS_stat, "lnk", &st); show("SYS_stat lnk", r, &st);
    r = stat("dangling", &st); show("stat dangling", r, &st);
    r = lstat("dangling", &st); show("lstat dangling", r, &st);
    r = stat("d", &st); show("stat d", r, &st);
    r = stat(".", &st); /* perms of the scratch dir itself are the harness's business */
    printf("stat . is dir: %s\n", r == 0 && S_ISDIR(st.st_mode) ? "yes" : "no");
    CHECKN("chmod d 0700", chmod("d", 0700));
    r = stat("d", &st); show("stat d after chmod", r, &st);
    r = stat("/dev/null", &st); show("stat /dev/null", r, &st);
    r = stat("missing", &st); show("stat missing", r, &st);
    r = stat("f.txt/x", &st); show("stat f.txt/x", r, &st);
    r = stat("", &st); show("stat empty path", r, &st);
    r = lstat("missing/x", &st); show("lstat missing/x", r, &st);
    EXPECT_ERR("SYS_stat EFAULT path", syscall(SYS_stat, (void *)1, &st), EFAULT);
    EXPECT_ERR("SYS_stat EFAULT buf", syscall(SYS_stat, "f.txt", (void *)1), EFAULT);
    EXPECT_ERR("SYS_lstat EFAULT path", syscall(SYS_lstat, (void *)1, &st), EFAULT);

    /* newfstatat */
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    CHECKN("open . dir", dfd);
    r = fstatat(dfd, "lnk", &st, 0); show("fstatat lnk", r, &st);
    r = fstatat(dfd, "lnk", &st, AT_SYMLINK_NOFOLLOW); show("fstatat lnk NOFOLLOW", r, &st);
    r = fstatat(AT_FDCWD, "f.txt", &st, 0); show("fstatat AT_FDCWD f.txt", r, &st);
    r = fstatat(fd, "", &st, AT_EMPTY_PATH); show("fstatat fd \"\" AT_EMPTY_PATH", r, &st);
    r = (int)syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH);
    show("SYS_newfstatat AT_EMPTY_PATH", r, &st);
    r = (int)syscall(SYS_newfstatat, dfd, "lnk", &st, AT_SYMLINK_NOFOLLOW);
    show("SYS_newfstatat lnk NOFOLLOW", r, &st);
    r = (int)syscall(SYS_newfstatat, fd, "", &st, 0);
    show("SYS_newfstatat \"\" without AT_EMPTY_PATH", r, &st);
    r = (int)syscall(SYS_newfstatat, fd, "x", &st, 0);
    show("SYS_newfstatat file fd as dirfd", r, &st);
    r = (int)syscall(SYS_newfstatat, 9999, "x", &st, 0);
    show("SYS_newfstatat bad dirfd", r, &st);
    r = (int)syscall(SYS_newfstatat, dfd, "f.txt", &st, 0x40000000);
    show("SYS_newfstatat bad flags", r, &st);
    EXPECT_ERR("SYS_newfstatat EFAULT", syscall(SYS_newfstatat, dfd, (void *)1, &st, 0), EFAULT);

    /* statx (raw syscall so both libcs use it) */
    unsigned want = K_STATX_TYPE | K_STATX_MODE | K_STATX_SIZE;
    memset(&sx, 0, sizeof sx);
    show_statx("statx f.txt", syscall(SYS_statx, AT_FDCWD, "f.txt", K_AT_STATX_SYNC_AS_STAT, want, &sx), &sx, want);
    memset(&sx, 0, sizeof sx);
    show_statx("statx lnk", syscall(SYS_statx, AT_FDCWD, "lnk", 0, K_STATX_BASIC_STATS, &sx), &sx, want);
    memset(&sx, 0, sizeof sx);
    show_statx("statx lnk NOFOLLOW", syscall(SYS_statx, dfd, "lnk", AT_SYMLINK_NOFOLLOW, K_STATX_BASIC_STATS, &sx), &sx, want);
    memset(&sx, 0, sizeof sx);
    show_statx("statx fd AT_EMPTY_PATH", syscall(SYS_statx, fd, "", AT_EMPTY_PATH, K_STATX_BASIC_STATS, &sx), &sx, want);
    memset(&sx, 0, sizeof sx);
    show_statx("statx d", syscall(SYS_statx, AT_FDCWD, "d", 0, K_STATX_BASIC_STATS, &sx), &sx, want);
    memset(&sx, 0, sizeof sx);
    show_statx("statx missing", syscall(SYS_statx, AT_FDCWD, "missing", 0, want, &sx), &sx, want);
    show_statx("statx f.txt/x", syscall(SYS_statx, AT_FDCWD, "f.txt/x", 0, want, &sx), &sx, want);
    show_statx("statx EFAULT buf", syscall(SYS_statx, AT_FDCWD, "f.txt", 0, want, (void *)1), &sx, want);
    show_statx("statx EFAULT path", syscall(SYS_statx, AT_FDCWD, (void *)1, 0, want, &sx), &sx, want);
    show_statx("statx bad flags", syscall(SYS_statx, AT_FDCWD, "f.txt", 0x40000000, want, &sx), &sx, want);

    /* nlink changes */
    CHECKN("unlink hard", unlink("hard"));
    r = fstat(fd, &st); show("fstat after unlink hard", r, &st);
    close(fd);
    close(dfd);

    CHECKN("unlink lnk", unlink("lnk"));
    CHECKN("unlink dangling", unlink("dangling"));
    CHECKN("unlink f.txt", unlink("f.txt"));
    CHECKN("rmdir d", rmdir("d"));
    return FINISH();
}
