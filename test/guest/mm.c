/*
 * mm.c - memory management: anonymous mmap (16 MiB, every page touched),
 * PROT_NONE reservation + mprotect + MAP_FIXED + partial munmap, mremap
 * grow/shrink, madvise(MADV_DONTNEED), brk, file mappings (MAP_PRIVATE and
 * MAP_SHARED, with an offset), msync, and error paths. Never prints addresses.
 * Error paths use syscall() directly so both libcs reach the kernel.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PG 4096UL
#define MiB (1024UL * 1024UL)

static uint64_t pat(uint64_t i, uint64_t seed)
{
    return (i + seed) * 0x9E3779B97F4A7C15ULL ^ (i >> 7);
}

static void fill(void *p, size_t len, uint64_t seed)
{
    uint64_t *q = p;
    for (size_t i = 0; i < len / 8; i++)
        q[i] = pat(i, seed);
}

/* Returns 1 if the region still holds the pattern. */
static int verify(const void *p, size_t len, uint64_t seed)
{
    const uint64_t *q = p;
    for (size_t i = 0; i < len / 8; i++)
        if (q[i] != pat(i, seed))
            return 0;
    return 1;
}

static int all_zero(const void *p, size_t len)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < len; i++)
        if (c[i])
            return 0;
    return 1;
}

static void *xmmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void test_anon(void)
{
    size_t len = 16 * MiB;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!EXPECT("anon 16MiB mmap", p != MAP_FAILED))
        return;
    EXPECT("anon page aligned", ((uintptr_t)p & (PG - 1)) == 0);
    EXPECT("anon initially zero", all_zero(p, len));
    /* touch every page with a per-page byte, then fill everything with a pattern */
    for (size_t off = 0; off < len; off += PG)
        p[off] = (unsigned char)(off / PG);
    int pages_ok = 1;
    for (size_t off = 0; off < len; off += PG)
        if (p[off] != (unsigned char)(off / PG))
            pages_ok = 0;
    EXPECT("anon per-page bytes", pages_ok);
    fill(p, len, 1);
    uint64_t sum = 0;
    const uint64_t *q = (const uint64_t *)p;
    for (size_t i = 0; i < len / 8; i++)
        sum += q[i] ^ (i * 31);
    printf("anon checksum: %016llx\n", (unsigned long long)sum);
    EXPECT("anon pattern verified", verify(p, len, 1));
    CHECKN("munmap anon 16MiB", munmap(p, len));
}

static void test_reserve(void)
{
    size_t len = 64 * MiB;
    unsigned char *r = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!EXPECT("reserve 64MiB PROT_NONE", r != MAP_FAILED))
        return;
    unsigned char *mid = r + 16 * MiB;
    CHECKN("mprotect 1MiB RW in middle", mprotect(mid, MiB, PROT_READ | PROT_WRITE));
    fill(mid, MiB, 2);
    EXPECT("middle RW usable", verify(mid, MiB, 2));
    CHECKN("mprotect middle PROT_READ", mprotect(mid, MiB, PROT_READ));
    EXPECT("middle readable after PROT_READ", verify(mid, MiB, 2));
    CHECKN("mprotect middle back RW", mprotect(mid, MiB, PROT_READ | PROT_WRITE));
    mid[0] ^= 0xff;
    mid[0] ^= 0xff;
    EXPECT("middle still intact", verify(mid, MiB, 2));

    /* MAP_FIXED over part of the reservation */
    unsigned char *fx = mmap(r + 32 * MiB, 2 * MiB, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    EXPECT("MAP_FIXED inside reservation lands at hint", fx == r + 32 * MiB);
    fill(fx, 2 * MiB, 3);
    EXPECT("MAP_FIXED region usable", verify(fx, 2 * MiB, 3));
    EXPECT_ERR("MAP_FIXED_NOREPLACE over existing",
               (long)xmmap(r + 32 * MiB, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
               EEXIST);

    /* hint without MAP_FIXED in a free area is honoured by Linux */
    CHECKN("munmap first 8MiB of reservation", munmap(r, 8 * MiB));
    EXPECT_ERR("mprotect unmapped range", mprotect(r, PG, PROT_READ), ENOMEM);
    unsigned char *h = mmap(r + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT("hint in free area honoured", h == r + PG);
    if (h != MAP_FAILED)
        munmap(h, PG);
    EXPECT_ERR("msync unmapped", msync(r, PG, MS_SYNC), ENOMEM);
    CHECKN("munmap already-unmapped range", munmap(r, PG));
    CHECKN("munmap rest of reservation", munmap(r + 8 * MiB, len - 8 * MiB));
}

static void test_mremap(void)
{
    size_t small = MiB, big = 8 * MiB;
    unsigned char *p = mmap(NULL, small, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!EXPECT("mremap source mmap", p != MAP_FAILED))
        return;
    fill(p, small, 4);
    unsigned char *q = mremap(p, small, big, MREMAP_MAYMOVE);
    if (!EXPECT("mremap grow MAYMOVE", q != MAP_FAILED))
        return;
    EXPECT("mremap grow preserves contents", verify(q, small, 4));
    EXPECT("mremap grown tail is zero", all_zero(q + small, big - small));
    fill(q, big, 5);
    EXPECT("mremap grown region writable", verify(q, big, 5));
    unsigned char *s = mremap(q, big, 64 * 1024, 0);
    EXPECT("mremap shrink in place", s == q);
    EXPECT("mremap shrink keeps contents", verify(s, 64 * 1024, 5));
    EXPECT_ERR("mremap unaligned old address", syscall(SYS_mremap, s + 1, PG, 2 * PG, MREMAP_MAYMOVE), EINVAL);
    EXPECT_ERR("mremap bad flags", syscall(SYS_mremap, s, PG, 2 * PG, 0x100), EINVAL);
    EXPECT_ERR("mremap new_len 0", syscall(SYS_mremap, s, PG, 0, MREMAP_MAYMOVE), EINVAL);
    /* growing a page in the middle of a mapping cannot happen in place */
    EXPECT_ERR("mremap grow in place blocked", syscall(SYS_mremap, s, PG, 2 * PG, 0), ENOMEM);
    EXPECT_ERR("mremap unmapped source", syscall(SYS_mremap, s + 64 * 1024, PG, 2 * PG, MREMAP_MAYMOVE), EFAULT);
    CHECKN("munmap remapped", munmap(s, 64 * 1024));
}

static void test_madvise(void)
{
    size_t len = 256 * 1024;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!EXPECT("madvise mmap", p != MAP_FAILED))
        return;
    fill(p, len, 6);
    CHECKN("madvise MADV_DONTNEED second half", madvise(p + len / 2, len / 2, MADV_DONTNEED));
    EXPECT("first half intact", verify(p, len / 2, 6));
    EXPECT("second half zero after DONTNEED", all_zero(p + len / 2, len / 2));
    CHECKN("madvise MADV_WILLNEED", madvise(p, len, MADV_WILLNEED));
    CHECKN("madvise MADV_NORMAL", madvise(p, len, MADV_NORMAL));
    EXPECT_ERR("madvise unaligned", syscall(SYS_madvise, p + 1, PG, MADV_DONTNEED), EINVAL);
    EXPECT_ERR("madvise bad advice", syscall(SYS_madvise, p, PG, 12345), EINVAL);
    CHECKN("munmap madvise region", munmap(p, len));
}

static void test_brk(void)
{
    /* no stdio between grow and shrink: malloc could move the break */
    uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
    uintptr_t libc_cur = (uintptr_t)sbrk(0);
    uintptr_t grown = (uintptr_t)syscall(SYS_brk, cur + MiB);
    int grow_ok = grown == cur + MiB;
    int rw_ok = 0, odd_ok = 0, shrink_ok = 0, regrow_zero = 0, low_ok = 0, huge_ok = 0;
    if (grow_ok) {
        fill((void *)cur, MiB, 7);
        rw_ok = verify((void *)cur, MiB, 7);
        odd_ok = (uintptr_t)syscall(SYS_brk, cur + 2 * PG + 1) == cur + 2 * PG + 1;
        shrink_ok = (uintptr_t)syscall(SYS_brk, cur) == cur;
        uintptr_t page_up = (cur + PG - 1) & ~(PG - 1);
        if ((uintptr_t)syscall(SYS_brk, cur + 64 * 1024) == cur + 64 * 1024)
            regrow_zero = all_zero((void *)(page_up + PG), 32 * 1024);
        syscall(SYS_brk, cur);
    }
    low_ok = (uintptr_t)syscall(SYS_brk, 4096) == cur;
    huge_ok = (uintptr_t)syscall(SYS_brk, cur + (1ULL << 47)) == cur;
    uintptr_t end = (uintptr_t)syscall(SYS_brk, 0);

    EXPECT("brk(0) nonzero", cur != 0);
    EXPECT("libc sbrk(0) == brk(0)", libc_cur == cur);
    EXPECT("brk grow 1MiB", grow_ok);
    EXPECT("brk memory read/write", rw_ok);
    EXPECT("brk unaligned value returned as given", odd_ok);
    EXPECT("brk shrink back", shrink_ok);
    EXPECT("brk regrown pages are zero", regrow_zero);
    EXPECT("brk below start refused (returns old)", low_ok);
    EXPECT("brk huge refused (returns old)", huge_ok);
    EXPECT("brk final == start", end == cur);
}

static void test_file(void)
{
    size_t flen = 3 * PG + 100;
    unsigned char *data = malloc(flen);
    for (size_t i = 0; i < flen; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 9));
    int fd = open("map.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECKN("create map.bin", fd);
    CHECKV("write map.bin", write(fd, data, flen));

    /* MAP_PRIVATE */
    unsigned char *p = mmap(NULL, flen, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (EXPECT("mmap file MAP_PRIVATE", p != MAP_FAILED)) {
        EXPECT("private map matches file", memcmp(p, data, flen) == 0);
        EXPECT("bytes past EOF in last page are zero", all_zero(p + flen, 4 * PG - flen));
        memset(p + 10, 'X', 20);
        EXPECT("private write visible in mapping", p[10] == 'X' && p[29] == 'X');
        unsigned char chk[64];
        CHECKV("pread after private write", pread(fd, chk, 64, 0));
        EXPECT("file unchanged by private write", memcmp(chk, data, 64) == 0);
        CHECKN("munmap private", munmap(p, flen));
    }

    /* mapping with an offset, read-only */
    p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 2 * PG);
    if (EXPECT("mmap file offset 2 pages", p != MAP_FAILED)) {
        EXPECT("offset map matches", memcmp(p, data + 2 * PG, PG) == 0);
        munmap(p, PG);
    }

    /* MAP_SHARED: writes reach the file, file writes reach the mapping */
    p = mmap(NULL, flen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (EXPECT("mmap file MAP_SHARED", p != MAP_FAILED)) {
        memcpy(p + PG, "shared-write", 12);
        CHECKN("msync MS_SYNC", msync(p, flen, MS_SYNC));
        unsigned char chk[16];
        CHECKV("pread after shared write", pread(fd, chk, 12, PG));
        EXPECT("file sees shared write", memcmp(chk, "shared-write", 12) == 0);
        CHECKV("pwrite into shared file", pwrite(fd, "from-pwrite", 11, 2 * PG + 5));
        EXPECT("mapping sees pwrite", memcmp(p + 2 * PG + 5, "from-pwrite", 11) == 0);
        EXPECT_ERR("msync unaligned", syscall(SYS_msync, p + 1, PG, MS_SYNC), EINVAL);
        EXPECT_ERR("msync bad flags", syscall(SYS_msync, p, PG, MS_SYNC | MS_ASYNC), EINVAL);
        CHECKN("munmap shared", munmap(p, flen));
    }
    struct stat st;
    fstat(fd, &st);
    printf("file size unchanged by mappings: %lld\n", (long long)st.st_size);

    /* error paths for file mappings */
    EXPECT_ERR("mmap offset unaligned", (long)xmmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
    EXPECT_ERR("mmap neither PRIVATE nor SHARED", (long)xmmap(NULL, PG, PROT_READ, 0, fd, 0), EINVAL);
    EXPECT_ERR("mmap bad fd", (long)xmmap(NULL, PG, PROT_READ, MAP_PRIVATE, 9999, 0), EBADF);
    EXPECT_ERR("mmap closed fd -1 without ANON", (long)xmmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
    close(fd);
    int wfd = open("map.bin", O_WRONLY);
    EXPECT_ERR("mmap O_WRONLY fd", (long)xmmap(NULL, PG, PROT_READ, MAP_PRIVATE, wfd, 0), EACCES);
    close(wfd);
    int rfd = open("map.bin", O_RDONLY);
    EXPECT_ERR("mmap MAP_SHARED PROT_WRITE on O_RDONLY fd",
               (long)xmmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0), EACCES);
    p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, rfd, 0);
    EXPECT("MAP_PRIVATE PROT_WRITE on O_RDONLY fd ok", p != MAP_FAILED);
    if (p != MAP_FAILED)
        munmap(p, PG);
    close(rfd);
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("mmap directory fd", (long)xmmap(NULL, PG, PROT_READ, MAP_PRIVATE, dfd, 0), ENODEV);
    close(dfd);
    CHECKN("unlink map.bin", unlink("map.bin"));
    free(data);
}

static void test_errors(void)
{
    EXPECT_ERR("mmap length 0", (long)xmmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    EXPECT_ERR("mmap MAP_FIXED unaligned", (long)xmmap((void *)0x10000001, PG, PROT_READ,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
    EXPECT_ERR("munmap unaligned", syscall(SYS_munmap, (void *)0x10000001, PG), EINVAL);
    EXPECT_ERR("munmap length 0", syscall(SYS_munmap, (void *)0x10000000, 0), EINVAL);
    EXPECT_ERR("mprotect unaligned", syscall(SYS_mprotect, (void *)0x10000001, PG, PROT_READ), EINVAL);
    EXPECT_ERR("mprotect bad prot", syscall(SYS_mprotect, (void *)0x10000000, PG, 0x1000), EINVAL);
    void *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_ERR("getcwd into PROT_READ page",
               syscall(SYS_getcwd, p, PG), EFAULT);
    munmap(p, PG);
    p = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_ERR("write(2) from PROT_NONE page", syscall(SYS_write, 1, p, 1), EFAULT);
    munmap(p, PG);
    p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    EXPECT("MAP_POPULATE zero", p != MAP_FAILED && all_zero(p, 2 * PG));
    if (p != MAP_FAILED)
        munmap(p, 2 * PG);
}

int main(void)
{
    long pgsz = sysconf(_SC_PAGESIZE);
    printf("page size: %ld\n", pgsz);
    test_anon();
    test_reserve();
    test_mremap();
    test_madvise();
    test_brk();
    test_file();
    test_errors();
    return FINISH();
}
