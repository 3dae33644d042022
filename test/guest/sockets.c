/*
 * sockets.c - TCP and UDP over IPv4, IPv6 and v4-mapped IPv6: socket flags, bind/listen/
 * accept/accept4, getsockname/getpeername (ENOTCONN), blocking and non-blocking connect
 * (EINPROGRESS then SO_ERROR), ECONNREFUSED, EADDRINUSE, IPV6_V6ONLY 0 and 1, connected
 * UDP, EMSGSIZE, EPIPE with and without SIGPIPE, shutdown(SHUT_RD/WR/RDWR), AF_UNIX
 * abstract names and datagrams. Ports are ephemeral and never printed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "check.h"

static volatile int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

/* A loopback sockaddr of family af with port (network order). */
static socklen_t loopback(int af, int mapped, in_port_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (af == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = port;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof *a;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = port;
    inet_pton(AF_INET6, mapped ? "::ffff:127.0.0.1" : "::1", &a->sin6_addr);
    return sizeof *a;
}

static in_port_t port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t l = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &l);
    return ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port;
}

/* A listener of family af on an ephemeral port (wildcard address, or loopback). */
static int listener(int af, int v6only, int any)
{
    int s = socket(af, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (af == AF_INET6 && v6only >= 0)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    struct sockaddr_storage ss;
    socklen_t l = loopback(af, 0, 0, &ss);
    if (any) {
        if (af == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
        else
            ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
    }
    if (bind(s, (struct sockaddr *)&ss, l) < 0 || listen(s, 16) < 0)
        printf("listener setup failed: %s\n", errno_name(errno));
    return s;
}

/* The final outcome of a connect: 0 or the errno, through EINPROGRESS and SO_ERROR when non-blocking. */
static int connect_result(int fd, struct sockaddr_storage *ss, socklen_t l, int *inprogress)
{
    *inprogress = 0;
    if (connect(fd, (struct sockaddr *)ss, l) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return errno;
    *inprogress = 1;
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    poll(&p, 1, 5000);
    int err = -1;
    socklen_t el = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    return err;
}

static const char *addr_text(struct sockaddr_storage *ss, char *buf)
{
    if (ss->ss_family == AF_INET)
        return inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr, buf, 64);
    return inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ss)->sin6_addr, buf, 64);
}

/* One TCP conversation: client of family caf (mapped: v4-mapped IPv6) to a listener of family laf. */
static void tcp_pair(const char *label, int laf, int v6only, int caf, int mapped)
{
    char name[128], text[64];
    int ls = listener(laf, v6only, 1);
    struct sockaddr_storage ss;
    socklen_t l = loopback(caf, mapped, port_of(ls), &ss);
    int c = socket(caf, SOCK_STREAM, 0);
    snprintf(name, sizeof name, "%s: connect", label);
    int r = connect(c, (struct sockaddr *)&ss, l);
    int e = errno;
    if (r < 0) {
        printf("%s: -1 %s\n", name, errno_name(e));
        close(c);
        close(ls);
        return;
    }
    printf("%s: ok\n", name);
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    int a = accept(ls, (struct sockaddr *)&peer, &pl);
    printf("%s: accepted peer %s, addrlen %u, port matches client: %s\n", label, addr_text(&peer, text), pl,
           (peer.ss_family == AF_INET ? ((struct sockaddr_in *)&peer)->sin_port : ((struct sockaddr_in6 *)&peer)->sin6_port) == port_of(c) ? "yes" : "no");
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    getsockname(a, (struct sockaddr *)&local, &ll);
    printf("%s: accepted socket's name %s, addrlen %u\n", label, addr_text(&local, text), ll);
    pl = sizeof peer;
    getpeername(c, (struct sockaddr *)&peer, &pl);
    printf("%s: client's peer %s\n", label, addr_text(&peer, text));
    write(c, "ping", 4);
    char buf[8] = { 0 };
    read(a, buf, sizeof buf);
    write(a, "pong", 4);
    char back[8] = { 0 };
    read(c, back, sizeof back);
    printf("%s: exchanged %s/%s\n", label, buf, back);
    close(a);
    close(c);
    close(ls);
}

static void families(void)
{
    tcp_pair("v4 to v4", AF_INET, -1, AF_INET, 0);
    tcp_pair("v6 to v6", AF_INET6, -1, AF_INET6, 0);
    tcp_pair("v4 to dual-stack v6", AF_INET6, 0, AF_INET, 0);
    tcp_pair("v4-mapped v6 to dual-stack v6", AF_INET6, 0, AF_INET6, 1);
    tcp_pair("v4 to v6only", AF_INET6, 1, AF_INET, 0);
    tcp_pair("v4-mapped to v4", AF_INET, -1, AF_INET6, 1);

    int v6 = socket(AF_INET6, SOCK_STREAM, 0), val = -1;
    socklen_t l = sizeof val;
    CHECK(getsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &val, &l));
    printf("IPV6_V6ONLY default %d\n", val);
    int one = 1;
    struct sockaddr_storage ss;
    CHECK(setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
    l = loopback(AF_INET6, 1, 0, &ss);
    EXPECT_ERR("bind v4-mapped on a v6only socket", bind(v6, (struct sockaddr *)&ss, l), EINVAL);
    close(v6);
    int v4 = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_ERR("IPV6_V6ONLY on an AF_INET socket", setsockopt(v4, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), ENOPROTOOPT);
    l = loopback(AF_INET6, 0, 0, &ss);
    EXPECT_ERR("bind AF_INET6 address on AF_INET socket", bind(v4, (struct sockaddr *)&ss, l), EAFNOSUPPORT);
    l = loopback(AF_INET, 0, 0, &ss);
    EXPECT_ERR("bind short sockaddr", bind(v4, (struct sockaddr *)&ss, 4), EINVAL);
    CHECK(bind(v4, (struct sockaddr *)&ss, l));
    EXPECT_ERR("bind twice", bind(v4, (struct sockaddr *)&ss, l), EINVAL);
    close(v4);
}

static void flags_and_errors(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    EXPECT("SOCK_NONBLOCK sets O_NONBLOCK", fcntl(s, F_GETFL) & O_NONBLOCK);
    EXPECT("SOCK_CLOEXEC sets FD_CLOEXEC", fcntl(s, F_GETFD) & FD_CLOEXEC);
    EXPECT_ERR("socket with a bad type", socket(AF_INET, 77, 0), EINVAL);
    EXPECT_ERR("socket with a bad family", socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
    EXPECT_ERR("socket UDP with TCP protocol", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
    struct sockaddr_storage ss;
    socklen_t l = sizeof ss;
    EXPECT_ERR("getpeername unconnected", getpeername(s, (struct sockaddr *)&ss, &l), ENOTCONN);
    char b[4];
    EXPECT_ERR("recv unconnected TCP", recv(s, b, 4, 0), ENOTCONN);
    EXPECT_ERR("shutdown unconnected", shutdown(s, SHUT_RDWR), ENOTCONN);
    EXPECT_ERR("accept on a non-listener", accept(s, 0, 0), EINVAL);
    EXPECT_ERR("getsockname on a file", getsockname(0 + open(".", O_RDONLY), (struct sockaddr *)&ss, &l), ENOTSOCK);
    l = sizeof ss;
    CHECK(getsockname(s, (struct sockaddr *)&ss, &l));
    printf("unbound name: family %d, port zero %s, addrlen %u\n", ss.ss_family, port_of(s) == 0 ? "yes" : "no", l);
    close(s);

    /* EADDRINUSE: a second socket on the port of a listener, without and with SO_REUSEADDR. */
    int ls = listener(AF_INET, -1, 0);
    int s2 = socket(AF_INET, SOCK_STREAM, 0);
    l = loopback(AF_INET, 0, port_of(ls), &ss);
    EXPECT_ERR("bind a listening port", bind(s2, (struct sockaddr *)&ss, l), EADDRINUSE);
    int one = 1;
    setsockopt(s2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_ERR("bind a listening port with SO_REUSEADDR", bind(s2, (struct sockaddr *)&ss, l), EADDRINUSE);
    close(s2);
    int r1 = socket(AF_INET, SOCK_DGRAM, 0), r2 = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(r1, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(r2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    l = loopback(AF_INET, 0, 0, &ss);
    CHECK(bind(r1, (struct sockaddr *)&ss, l));
    l = loopback(AF_INET, 0, port_of(r1), &ss);
    CHECKN("bind the same UDP port with SO_REUSEPORT", bind(r2, (struct sockaddr *)&ss, l));
    close(r1);
    close(r2);

    /* ECONNREFUSED: a port nobody listens on, blocking and non-blocking. */
    int gone = socket(AF_INET, SOCK_STREAM, 0);
    l = loopback(AF_INET, 0, 0, &ss);
    bind(gone, (struct sockaddr *)&ss, l);
    in_port_t dead = port_of(gone);
    close(gone);
    l = loopback(AF_INET, 0, dead, &ss);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_ERR("blocking connect to a closed port", connect(c, (struct sockaddr *)&ss, l), ECONNREFUSED);
    close(c);
    c = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int inprogress;
    l = loopback(AF_INET6, 0, dead, &ss);
    printf("non-blocking connect to a closed port: %s\n", errno_name(connect_result(c, &ss, l, &inprogress)));
    close(c);

    /* Non-blocking connect: EINPROGRESS (or done at once), then SO_ERROR 0; EISCONN after. */
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    l = loopback(AF_INET, 0, port_of(ls), &ss);
    int res = connect_result(c, &ss, l, &inprogress);
    printf("non-blocking connect: result %s\n", errno_name(res));
    connect(c, (struct sockaddr *)&ss, l); /* 0 when the first said EINPROGRESS, else EISCONN */
    EXPECT_ERR("connect once connected", connect(c, (struct sockaddr *)&ss, l), EISCONN);
    int a = accept(ls, 0, 0);
    EXPECT("accepted", a >= 0);
    EXPECT_ERR("accept with nothing pending on a non-blocking listener", (fcntl(ls, F_SETFL, O_NONBLOCK), accept(ls, 0, 0)), EAGAIN);
    EXPECT_ERR("recv with nothing there (non-blocking)", recv(c, b, 4, 0), EAGAIN);
    EXPECT_ERR("recv MSG_DONTWAIT on a blocking socket", recv(a, b, 4, MSG_DONTWAIT), EAGAIN);
    int a4 = -1;
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    connect(c2, (struct sockaddr *)&ss, l);
    struct pollfd p = { .fd = ls, .events = POLLIN };
    poll(&p, 1, 5000);
    a4 = accept4(ls, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
    EXPECT("accept4 SOCK_NONBLOCK", fcntl(a4, F_GETFL) & O_NONBLOCK);
    EXPECT("accept4 SOCK_CLOEXEC", fcntl(a4, F_GETFD) & FD_CLOEXEC);
    EXPECT_ERR("accept4 bad flags", syscall(SYS_accept4, ls, 0, 0, 0x1234), EINVAL);
    socklen_t small = 4;
    struct sockaddr_storage peer;
    int c3 = socket(AF_INET, SOCK_STREAM, 0);
    connect(c3, (struct sockaddr *)&ss, l);
    poll(&p, 1, 5000);
    int a5 = accept(ls, (struct sockaddr *)&peer, &small);
    printf("accept with a 4-byte address buffer: fd ok %s, addrlen %u\n", a5 >= 0 ? "yes" : "no", small);
    close(a5);
    close(c3);
    close(a4);
    close(c2);

    /* EPIPE, with SIGPIPE unless MSG_NOSIGNAL; ENOTCONN-free after SHUT_WR. */
    signal(SIGPIPE, on_sigpipe);
    CHECK(shutdown(c, SHUT_WR));
    EXPECT_ERR("send after SHUT_WR", send(c, "x", 1, 0), EPIPE);
    printf("SIGPIPE count %d\n", sigpipes);
    EXPECT_ERR("send MSG_NOSIGNAL after SHUT_WR", send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
    EXPECT_ERR("write after SHUT_WR", write(c, "x", 1), EPIPE);
    printf("SIGPIPE count %d\n", sigpipes);
    EXPECT("the peer reads EOF", recv(a, b, 4, 0) == 0);
    CHECK(send(a, "late", 4, 0));
    poll(&(struct pollfd){ .fd = c, .events = POLLIN }, 1, 5000);
    printf("data still arrives after SHUT_WR: %zd\n", recv(c, b, 4, 0));
    CHECK(shutdown(a, SHUT_RD));
    printf("recv after own SHUT_RD: %zd\n", recv(a, b, 4, MSG_DONTWAIT));
    CHECK(shutdown(a, SHUT_RDWR));
    EXPECT_ERR("shutdown with a bad how", shutdown(a, 7), EINVAL);
    close(a);
    close(c);
    close(ls);
    signal(SIGPIPE, SIG_DFL);
}

static void udp(void)
{
    struct sockaddr_storage ss, from;
    socklen_t l, fl;
    char buf[128], text[64];
    int u = socket(AF_INET6, SOCK_DGRAM, 0), zero = 0;
    setsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    l = loopback(AF_INET6, 0, 0, &ss);
    ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
    CHECK(bind(u, (struct sockaddr *)&ss, l));
    int v4 = socket(AF_INET, SOCK_DGRAM, 0);
    l = loopback(AF_INET, 0, port_of(u), &ss);
    CHECKV("sendto a dual-stack UDP socket from v4", sendto(v4, "hello", 5, 0, (struct sockaddr *)&ss, l));
    fl = sizeof from;
    ssize_t n = recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    printf("udp got %zd from %s (addrlen %u), port matches sender: %s\n", n, addr_text(&from, text), fl,
           ((struct sockaddr_in6 *)&from)->sin6_port == port_of(v4) ? "yes" : "no");
    /* Reply to the address recvfrom gave. */
    CHECKV("sendto the v4-mapped source", sendto(u, "back", 4, 0, (struct sockaddr *)&from, fl));
    n = recv(v4, buf, sizeof buf, 0);
    printf("reply %.*s\n", (int)n, buf);

    /* Connected UDP: send without an address, a foreign sender filtered out. */
    l = loopback(AF_INET6, 1, port_of(u), &ss);
    int v6 = socket(AF_INET6, SOCK_DGRAM, 0);
    CHECK(connect(v6, (struct sockaddr *)&ss, l));
    CHECKV("send on connected UDP", send(v6, "abc", 3, 0));
    n = recv(u, buf, sizeof buf, 0);
    printf("dual-stack socket got %zd\n", n);
    struct sockaddr_storage pn;
    socklen_t pnl = sizeof pn;
    CHECK(getpeername(v6, (struct sockaddr *)&pn, &pnl));
    printf("connected UDP peer %s\n", addr_text(&pn, text));
    EXPECT_ERR("send on unconnected UDP without address", send(v4, "x", 1, 0), EDESTADDRREQ);
    EXPECT_ERR("recv from an empty UDP socket", recv(v4, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    /* Dissolve the association with AF_UNSPEC. */
    struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    CHECKN("connect AF_UNSPEC", connect(v6, &unspec, sizeof unspec));
    pnl = sizeof pn;
    EXPECT_ERR("getpeername after AF_UNSPEC", getpeername(v6, (struct sockaddr *)&pn, &pnl), ENOTCONN);

    /* EMSGSIZE: a v4 datagram over 65507 bytes; the largest one goes through. */
    static char big[70000];
    l = loopback(AF_INET, 0, port_of(u), &ss);
    EXPECT_ERR("sendto 65508 bytes over UDP/IPv4", sendto(v4, big, 65508, 0, (struct sockaddr *)&ss, l), EMSGSIZE);
    int rcv = 1 << 20;
    setsockopt(u, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    CHECKV("sendto 65507 bytes", sendto(v4, big, 65507, 0, (struct sockaddr *)&ss, l));
    CHECKV("recv it whole", recv(u, big, sizeof big, 0));
    /* ECONNREFUSED on a connected UDP socket after an ICMP port unreachable. */
    int gone = socket(AF_INET, SOCK_DGRAM, 0);
    l = loopback(AF_INET, 0, 0, &ss);
    bind(gone, (struct sockaddr *)&ss, l);
    l = loopback(AF_INET, 0, port_of(gone), &ss);
    close(gone);
    int cu = socket(AF_INET, SOCK_DGRAM, 0);
    connect(cu, (struct sockaddr *)&ss, l);
    send(cu, "x", 1, 0);
    struct pollfd p = { .fd = cu, .events = POLLIN };
    poll(&p, 1, 5000);
    EXPECT_ERR("recv after the port was unreachable", recv(cu, buf, 1, 0), ECONNREFUSED);
    close(cu);
    close(u);
    close(v4);
    close(v6);
}

static void unix_sockets(void)
{
    /* Abstract names: bind, getsockname gives the name back, connect reaches it. */
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "starling-sockets-%d", (int)getpid());
    socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 + n;
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECKN("bind abstract", bind(ls, (struct sockaddr *)&a, al));
    CHECKN("listen abstract", listen(ls, 4));
    struct sockaddr_un got;
    socklen_t gl = sizeof got;
    getsockname(ls, (struct sockaddr *)&got, &gl);
    EXPECT("getsockname gives the abstract name back", gl == al && memcmp(&got, &a, al) == 0);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECKN("connect abstract", connect(c, (struct sockaddr *)&a, al));
    int s = accept(ls, 0, 0);
    gl = sizeof got;
    getpeername(c, (struct sockaddr *)&got, &gl);
    EXPECT("getpeername gives the abstract name", gl == al && memcmp(&got, &a, al) == 0);
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERR("bind a taken abstract name", bind(s2, (struct sockaddr *)&a, al), EADDRINUSE);
    write(c, "abs", 3);
    char b[8] = { 0 };
    read(s, b, sizeof b);
    printf("abstract stream got %s\n", b);
    close(s2);
    close(s);
    close(c);
    close(ls);

    /* Datagrams between abstract names, with the sender's name from recvfrom. */
    struct sockaddr_un d1 = { .sun_family = AF_UNIX }, d2 = { .sun_family = AF_UNIX };
    int n1 = snprintf(d1.sun_path + 1, sizeof d1.sun_path - 1, "starling-dg1-%d", (int)getpid());
    int n2 = snprintf(d2.sun_path + 1, sizeof d2.sun_path - 1, "starling-dg2-%d", (int)getpid());
    socklen_t l1 = offsetof(struct sockaddr_un, sun_path) + 1 + n1, l2 = offsetof(struct sockaddr_un, sun_path) + 1 + n2;
    int x = socket(AF_UNIX, SOCK_DGRAM, 0), y = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(x, (struct sockaddr *)&d1, l1);
    bind(y, (struct sockaddr *)&d2, l2);
    CHECKV("unix sendto abstract", sendto(y, "dgram", 5, 0, (struct sockaddr *)&d1, l1));
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(x, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
    printf("unix datagram %zd bytes, sender named: %s\n", r, fl == l2 && memcmp(&from, &d2, l2) == 0 ? "yes" : "no");
    /* A datagram pair keeps message boundaries. */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    send(sv[0], "one", 3, 0);
    send(sv[0], "three", 5, 0);
    char m[16];
    ssize_t r1 = recv(sv[1], m, sizeof m, 0), r2 = recv(sv[1], m, sizeof m, 0);
    printf("socketpair datagrams %zd %zd\n", r1, r2);
    EXPECT_ERR("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
    close(x);
    close(y);
}

int main(void)
{
    families();
    flags_and_errors();
    udp();
    unix_sockets();
    return FINISH();
}
