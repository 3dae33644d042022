/*
 * scm.c - descriptor passing and the send-side rules of AF_UNIX sockets: SCM_RIGHTS carries a
 * pipe end, a file and a socket through socketpairs (the received fds work and share the
 * sender's open file description), MSG_CMSG_CLOEXEC, MSG_CTRUNC (the fds that do not fit are
 * closed), bad control data (EBADF, EINVAL); SIGPIPE from send, sendto, sendmsg and sendmmsg on
 * a stream socket whose peer is gone, none with MSG_NOSIGNAL or on seqpacket and datagram
 * sockets; a write that waited for room (EPIPE and SIGPIPE on a pipe, ECONNRESET on a socket
 * whose peer left data unread); sendto and sendmsg to a datagram socket bound to a
 * filesystem name (through a symlink too; ENOENT, ECONNREFUSED).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define MAX_FDS 4

/* Sends one byte of data with n fds in one SCM_RIGHTS message. */
static long send_fds(int sock, const int *fds, int n)
{
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = { .iov_base = "F", .iov_len = 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    return sendmsg(sock, &m, 0);
}

/* What one recvmsg brought: the fds (at most MAX_FDS), their count, msg_flags. */
struct received {
    int fds[MAX_FDS];
    int count;
    int flags;
    long cmsg_len;
};

/* Receives one byte with a control buffer of room bytes (0: no buffer at all). */
static long recv_fds(int sock, size_t room, int flags, struct received *r)
{
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; } u;
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = room ? u.buf : NULL, .msg_controllen = room };
    memset(r, 0, sizeof *r);
    long n = recvmsg(sock, &m, flags);
    if (n < 0)
        return n;
    r->flags = m.msg_flags;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        r->cmsg_len = c->cmsg_len;
        r->count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        memcpy(r->fds, CMSG_DATA(c), sizeof(int) * r->count);
    }
    return n;
}

static void pass_pipe(int sv[2])
{
    int p[2];
    CHECKN("pipe", pipe(p));
    CHECKN("fcntl O_NONBLOCK on the write end", fcntl(p[1], F_SETFL, O_NONBLOCK));
    CHECKV("send a pipe's write end", send_fds(sv[0], &p[1], 1));
    struct received r;
    CHECKV("receive it", recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0, &r));
    printf("fds received: %d, truncated: %s\n", r.count, r.flags & MSG_CTRUNC ? "yes" : "no");
    int w = r.fds[0];
    printf("a new fd number: %s\n", w != p[1] ? "yes" : "no");
    printf("close-on-exec: %s\n", fcntl(w, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
    int fl = fcntl(w, F_GETFL);
    printf("write-only: %s, O_NONBLOCK as the sender set it: %s\n", (fl & O_ACCMODE) == O_WRONLY ? "yes" : "no", fl & O_NONBLOCK ? "yes" : "no");
    CHECKV("write through the received fd", write(w, "through", 7));
    char buf[8] = { 0 };
    CHECKV("read from the pipe", read(p[0], buf, 7));
    printf("pipe says %s\n", buf);
    close(p[1]);
    close(w);
    CHECKV("EOF once both write ends are closed", read(p[0], buf, 1));
    close(p[0]);
}

static void pass_file(int sv[2])
{
    umask(022);
    int f = open("scm-file", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECKV("write abc", write(f, "abc", 3));
    CHECKV("send the file", send_fds(sv[0], &f, 1));
    struct received r;
    CHECKV("receive it with MSG_CMSG_CLOEXEC", recv_fds(sv[1], CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC, &r));
    int g = r.fds[0];
    printf("close-on-exec: %s, msg_flags says MSG_CMSG_CLOEXEC: %s\n", fcntl(g, F_GETFD) & FD_CLOEXEC ? "yes" : "no",
           r.flags & MSG_CMSG_CLOEXEC ? "yes" : "no");
    printf("read-write: %s\n", (fcntl(g, F_GETFL) & O_ACCMODE) == O_RDWR ? "yes" : "no");
    struct stat a, b;
    fstat(f, &a);
    fstat(g, &b);
    printf("same file: %s\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
    CHECKV("shared offset", lseek(g, 0, SEEK_CUR));
    char la[256] = { 0 }, lb[256] = { 0 }, path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", f);
    readlink(path, la, sizeof la - 1);
    snprintf(path, sizeof path, "/proc/self/fd/%d", g);
    readlink(path, lb, sizeof lb - 1);
    printf("same path in /proc/self/fd: %s\n", la[0] && strcmp(la, lb) == 0 ? "yes" : "no");
    CHECKV("write def through the received fd", write(g, "def", 3));
    char buf[8] = { 0 };
    CHECKV("pread the original", pread(f, buf, 6, 0));
    printf("file says %s\n", buf);
    close(f);
    close(g);
    unlink("scm-file");
}

/* Two pipes' ends in one message, over a datagram socketpair; and a socket passed in turn. */
static void pass_several(void)
{
    int sv[2], p[2], q[2];
    CHECKN("datagram socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    CHECKN("socketpair to pass", socketpair(AF_UNIX, SOCK_STREAM, 0, q));
    CHECKN("pipe", pipe(p));
    int fds[3] = { p[0], p[1], q[1] };
    CHECKV("send three fds", send_fds(sv[0], fds, 3));
    struct received r;
    CHECKV("receive them", recv_fds(sv[1], CMSG_SPACE(sizeof(int) * MAX_FDS), 0, &r));
    printf("fds received: %d, all new: %s\n", r.count, r.fds[0] != p[0] && r.fds[1] != p[1] && r.fds[2] != q[1] ? "yes" : "no");
    CHECKV("write to the received write end", write(r.fds[1], "xy", 2));
    char buf[4] = { 0 };
    CHECKV("read from the received read end", read(r.fds[0], buf, 2));
    printf("pipe says %s\n", buf);
    CHECKV("send through the received socket", send(r.fds[2], "ping", 4, 0));
    CHECKV("recv at its peer", recv(q[0], buf, 4, 0));
    printf("socket says %.4s\n", buf);
    int type = 0;
    socklen_t len = sizeof type;
    CHECKN("getsockopt SO_TYPE on the received socket", getsockopt(r.fds[2], SOL_SOCKET, SO_TYPE, &type, &len));
    printf("stream: %s\n", type == SOCK_STREAM ? "yes" : "no");
    for (int i = 0; i < r.count; i++)
        close(r.fds[i]);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    close(sv[0]);
    close(sv[1]);
}

/* A control buffer too small: the fds that do not fit are closed (the pipe then sees EOF). */
static void truncate_fds(int sv[2])
{
    int p[2], q[2];
    CHECKN("pipe", pipe(p));
    CHECKN("pipe", pipe2(q, O_NONBLOCK));
    int fds[2] = { p[1], q[1] };
    CHECKV("send two fds", send_fds(sv[0], fds, 2));
    close(q[1]);
    struct received r;
    CHECKV("receive with room for one", recv_fds(sv[1], CMSG_LEN(sizeof(int)), 0, &r));
    printf("fds received: %d, truncated: %s, cmsg_len for one fd: %s\n", r.count, r.flags & MSG_CTRUNC ? "yes" : "no",
           r.cmsg_len == (long)CMSG_LEN(sizeof(int)) ? "yes" : "no");
    char c;
    CHECKV("the fd that did not fit was closed: EOF", read(q[0], &c, 1));
    CHECKV("the one that fit works", write(r.fds[0], "k", 1));
    CHECKV("read it", read(p[0], &c, 1));
    close(r.fds[0]);
    CHECKV("send one more", send_fds(sv[0], &p[1], 1));
    close(p[1]);
    CHECKV("receive without a control buffer", recv_fds(sv[1], 0, 0, &r));
    printf("truncated: %s\n", r.flags & MSG_CTRUNC ? "yes" : "no");
    CHECKV("its fd was closed too: EOF", read(p[0], &c, 1));
    close(p[0]);
    close(q[0]);
}

static void bad_control(int sv[2])
{
    int closed = dup(0);
    close(closed);
    EXPECT_ERR("send a closed fd", send_fds(sv[0], &closed, 1), EBADF);
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = { .iov_base = "F", .iov_len = 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = sizeof u.buf + 8;
    EXPECT_ERR("cmsg_len past the buffer", sendmsg(sv[0], &m, 0), EINVAL);
    static union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * 254)]; } many;
    struct msghdr mm = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = many.buf, .msg_controllen = sizeof many.buf };
    c = CMSG_FIRSTHDR(&mm);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * 254);
    for (int i = 0; i < 254; i++)
        ((int *)CMSG_DATA(c))[i] = sv[0];
    /* musl's sendmsg refuses more than 1 KiB of control data itself. */
    EXPECT_ERR("254 fds (more than SCM_MAX_FD)", syscall(SYS_sendmsg, sv[0], &mm, 0), EINVAL);
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* A socketpair of type whose peer is closed. */
static int broken(int type)
{
    int sv[2];
    socketpair(AF_UNIX, type, 0, sv);
    close(sv[1]);
    return sv[0];
}

/*
 * Fills the buffer behind the blocking fd wfd, then lets a child hold the last copy of reader
 * for 200 ms: a write on wfd waits until the child exits.
 */
static pid_t fill_then_drop(int wfd, int reader)
{
    static char chunk[4096];
    int fl = fcntl(wfd, F_GETFL);
    fcntl(wfd, F_SETFL, fl | O_NONBLOCK);
    while (write(wfd, chunk, sizeof chunk) > 0)
        ;
    fcntl(wfd, F_SETFL, fl);
    pid_t child = fork();
    if (child == 0) {
        usleep(200000);
        _exit(0);
    }
    close(reader);
    return child;
}

/* Writers that were waiting for room when the reader went away. */
static void broken_after_wait(void)
{
    static char chunk[4096];
    int p[2], sv[2];
    CHECKN("pipe", pipe(p));
    pid_t child = fill_then_drop(p[1], p[0]);
    int before = sigpipes;
    EXPECT_ERR("write on a full pipe until the reader goes", write(p[1], chunk, sizeof chunk), EPIPE);
    printf("SIGPIPE after the wait: %s\n", sigpipes == before + 1 ? "yes" : "no");
    waitpid(child, NULL, 0);
    close(p[1]);
    CHECKN("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    child = fill_then_drop(sv[0], sv[1]);
    before = sigpipes;
    /* The peer went with data unread: a sender that was waiting meets ECONNRESET, not EPIPE. */
    EXPECT_ERR("send on a full socket until the peer goes", send(sv[0], chunk, sizeof chunk, 0), ECONNRESET);
    printf("SIGPIPE after the wait: %s\n", sigpipes == before + 1 ? "yes" : "no");
    waitpid(child, NULL, 0);
    close(sv[0]);
}

static void sigpipe(void)
{
    struct sigaction sa = { .sa_handler = on_sigpipe };
    sigemptyset(&sa.sa_mask);
    CHECKN("sigaction SIGPIPE", sigaction(SIGPIPE, &sa, NULL));
    int s = broken(SOCK_STREAM);
    EXPECT_ERR("send to a closed peer", send(s, "x", 1, 0), EPIPE);
    printf("SIGPIPE caught: %d\n", (int)sigpipes);
    EXPECT_ERR("send with MSG_NOSIGNAL", send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
    printf("SIGPIPE caught: %d\n", (int)sigpipes);
    EXPECT_ERR("sendto", sendto(s, "x", 1, 0, NULL, 0), EPIPE);
    struct iovec iov = { .iov_base = "x", .iov_len = 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    EXPECT_ERR("sendmsg", sendmsg(s, &m, 0), EPIPE);
    EXPECT_ERR("sendmsg with MSG_NOSIGNAL", sendmsg(s, &m, MSG_NOSIGNAL), EPIPE);
    struct mmsghdr mv = { .msg_hdr = m };
    EXPECT_ERR("sendmmsg", sendmmsg(s, &mv, 1, 0), EPIPE);
    EXPECT_ERR("write", write(s, "x", 1), EPIPE);
    printf("SIGPIPE caught: %d\n", (int)sigpipes);
    close(s);
    s = broken(SOCK_SEQPACKET);
    EXPECT_ERR("seqpacket send to a closed peer", send(s, "x", 1, 0), EPIPE);
    close(s);
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    shutdown(sv[0], SHUT_WR);
    EXPECT_ERR("datagram send after shutdown", send(sv[0], "x", 1, 0), EPIPE);
    printf("SIGPIPE caught: %d\n", (int)sigpipes);
    close(sv[0]);
    close(sv[1]);
    broken_after_wait();
    signal(SIGPIPE, SIG_DFL);
}

static struct sockaddr_un named(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, path);
    return a;
}

static void datagram_to_path(void)
{
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = named("scm-dgram");
    CHECKN("bind a datagram socket", bind(r, (void *)&a, sizeof a));
    CHECKN("symlink to it", symlink("scm-dgram", "scm-link"));
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECKV("sendto the bound path", sendto(s, "one", 3, 0, (void *)&a, sizeof a));
    struct sockaddr_un from;
    socklen_t len = sizeof from;
    char buf[8] = { 0 };
    CHECKV("recvfrom", recvfrom(r, buf, sizeof buf - 1, 0, (void *)&from, &len));
    printf("received %s, sender address length %d\n", buf, (int)len);
    struct sockaddr_un l = named("scm-link");
    struct iovec iov = { .iov_base = "two", .iov_len = 3 };
    struct msghdr m = { .msg_name = &l, .msg_namelen = sizeof l, .msg_iov = &iov, .msg_iovlen = 1 };
    CHECKV("sendmsg through the symlink", sendmsg(s, &m, 0));
    memset(buf, 0, sizeof buf);
    CHECKV("recv", recv(r, buf, sizeof buf - 1, 0));
    printf("received %s\n", buf);
    struct sockaddr_un missing = named("scm-missing");
    EXPECT_ERR("sendto a missing path", sendto(s, "x", 1, 0, (void *)&missing, sizeof missing), ENOENT);
    int f = open("scm-plain", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(f);
    struct sockaddr_un plain = named("scm-plain");
    EXPECT_ERR("sendto a regular file", sendto(s, "x", 1, 0, (void *)&plain, sizeof plain), ECONNREFUSED);
    close(s);
    close(r);
    unlink("scm-dgram");
    unlink("scm-link");
    unlink("scm-plain");
}

int main(void)
{
    int sv[2];
    CHECKN("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pass_pipe(sv);
    pass_file(sv);
    pass_several();
    truncate_fds(sv);
    bad_control(sv);
    close(sv[0]);
    close(sv[1]);
    sigpipe();
    datagram_to_path();
    return FINISH();
}
