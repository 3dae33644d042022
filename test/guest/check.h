/*
 * check.h - tiny shared helpers for the differential guest programs.
 *
 * Everything printed here must be identical between glibc and musl builds and
 * between native and emulated runs, so errno values are printed by symbolic
 * name from our own table (never strerror(), whose text differs by libc).
 *
 *   CHECK(expr)          evaluate expr (a syscall-style result: -1 + errno on
 *                        failure); print "expr: ok" or "expr: -1 ENOENT".
 *   CHECKN(name, expr)   same, with an explicit label.
 *   CHECKV(name, expr)   like CHECKN, but on success prints "name: = <value>".
 *   CHECKRC(name, expr)  for APIs returning an error number directly
 *                        (clock_nanosleep, posix_*): "name: ok" / "name: EINVAL".
 *   EXPECT(name, cond)   print "name: pass" or "name: FAIL" and count failures.
 *   EXPECT_ERR(name, expr, E)  expr must fail with errno E; prints like CHECKN
 *                        and counts a failure otherwise.
 *   slurp(path, &len)    a whole file (pseudo files too, which report size 0),
 *                        NUL-terminated; NULL when it cannot be read.
 *   FINISH()             print the final summary line; evaluates to an exit
 *                        status (0 when nothing failed, 1 otherwise).
 *
 * All helpers return the value of expr (as long) so it can still be used.
 */
#ifndef GUEST_CHECK_H
#define GUEST_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_failures __attribute__((unused));

static inline const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case ENOTBLK: return "ENOTBLK";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case EPIPE: return "EPIPE";
    case EDOM: return "EDOM";
    case ERANGE: return "ERANGE";
    case EDEADLK: return "EDEADLK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOLCK: return "ENOLCK";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case ENOMSG: return "ENOMSG";
    case ENODATA: return "ENODATA";
    case EOVERFLOW: return "EOVERFLOW";
    case EILSEQ: return "EILSEQ";
    case ENOTSOCK: return "ENOTSOCK";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case ECONNRESET: return "ECONNRESET";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ESTALE: return "ESTALE";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROTOTYPE: return "EPROTOTYPE";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETUNREACH: return "ENETUNREACH";
    case ENOBUFS: return "ENOBUFS";
    case EISCONN: return "EISCONN";
    case ENOTCONN: return "ENOTCONN";
    case EALREADY: return "EALREADY";
    case EINPROGRESS: return "EINPROGRESS";
    case ECONNABORTED: return "ECONNABORTED";
    case ECANCELED: return "ECANCELED";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno%d", e);
        return buf;
    }
    }
}

static inline long check_report(const char *name, long r)
{
    if (r == -1)
        printf("%s: -1 %s\n", name, errno_name(errno));
    else
        printf("%s: ok\n", name);
    return r;
}

static inline long check_report_value(const char *name, long r)
{
    if (r == -1)
        printf("%s: -1 %s\n", name, errno_name(errno));
    else
        printf("%s: = %ld\n", name, r);
    return r;
}

static inline int check_report_rc(const char *name, int rc)
{
    if (rc == 0)
        printf("%s: ok\n", name);
    else
        printf("%s: %s\n", name, errno_name(rc));
    return rc;
}

static inline int check_expect(const char *name, int cond)
{
    printf("%s: %s\n", name, cond ? "pass" : "FAIL");
    if (!cond)
        check_failures++;
    return cond;
}

static inline long check_expect_err(const char *name, long r, int want)
{
    int e = errno;
    if (r == -1) {
        printf("%s: -1 %s\n", name, errno_name(e));
        if (e != want)
            check_failures++;
    } else {
        printf("%s: unexpected success (wanted %s)\n", name, errno_name(want));
        check_failures++;
    }
    return r;
}

static inline int check_finish(void)
{
    fflush(stdout);
    printf("done: %d failure%s\n", check_failures, check_failures == 1 ? "" : "s");
    fflush(stdout);
    return check_failures ? 1 : 0;
}

#define CHECK(expr) check_report(#expr, (long)(expr))
#define CHECKN(name, expr) check_report((name), (long)(expr))
#define CHECKV(name, expr) check_report_value((name), (long)(expr))
#define CHECKRC(name, expr) check_report_rc((name), (int)(expr))
#define EXPECT(name, cond) check_expect((name), !!(cond))
#define EXPECT_ERR(name, expr, err) \
    (errno = 0, check_expect_err((name), (long)(expr), (err)))
#define FINISH() check_finish()

/* Line-buffer stdout so partial output survives a crash of the guest. */
__attribute__((constructor)) static void check_setup_stdout(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Portable basename that never modifies its argument. */
static inline const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Read a whole (pseudo) file; pseudo files report size 0, so loop on read. */
static __attribute__((unused)) char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = (char *)malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = (char *)realloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

#endif
