/*
 * sockopts.c - setsockopt/getsockopt as MediaServer and ffmpeg use them: SOL_SOCKET (SO_REUSEADDR,
 * SO_REUSEPORT, SO_KEEPALIVE, SO_LINGER, SO_SNDBUF/SO_RCVBUF, which Linux reports doubled,
 * SO_ERROR, SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_RCVTIMEO/SO_SNDTIMEO and what
 * they do to blocking calls, SO_BROADCAST), TCP (TCP_NODELAY, TCP_KEEPIDLE/INTVL/CNT,
 * TCP_QUICKACK), IP (IP_TOS, IP_TTL, IP_MULTICAST_TTL/LOOP/IF) and IPv6 (IPV6_V6ONLY,
 * IPV6_MULTICAST_HOPS/LOOP/IF), and ENOPROTOOPT for options that do not exist.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include "check.h"

static void int_option(const char *name, int fd, int level, int opt, int value)
{
    char label[96];
    int got = -12345;
    socklen_t l = sizeof got;
    snprintf(label, sizeof label, "%s get", name);
    if (check_report(label, getsockopt(fd, level, opt, &got, &l)) == 0)
        printf("%s default %d (len %u)\n", name, got, l);
    snprintf(label, sizeof label, "%s set %d", name, value);
    check_report(label, setsockopt(fd, level, opt, &value, sizeof value));
    got = -12345;
    l = sizeof got;
    getsockopt(fd, level, opt, &got, &l);
    printf("%s now %d\n", name, got);
}

/* Two connected TCP sockets over loopback. */
static void tcp_pair(int *client, int *server)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    bind(ls, (struct sockaddr *)&a, l);
    listen(ls, 1);
    getsockname(ls, (struct sockaddr *)&a, &l);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    connect(*client, (struct sockaddr *)&a, l);
    *server = accept(ls, 0, 0);
    close(ls);
}

static void socket_level(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int_option("SO_REUSEADDR", s, SOL_SOCKET, SO_REUSEADDR, 1);
    int_option("SO_REUSEPORT", s, SOL_SOCKET, SO_REUSEPORT, 1);
    int_option("SO_KEEPALIVE", s, SOL_SOCKET, SO_KEEPALIVE, 1);
    int_option("SO_BROADCAST", s, SOL_SOCKET, SO_BROADCAST, 1);
    /* Linux doubles the size set (room for its bookkeeping) and clamps tiny ones. */
    int_option("SO_SNDBUF", s, SOL_SOCKET, SO_SNDBUF, 262144);
    int_option("SO_RCVBUF", s, SOL_SOCKET, SO_RCVBUF, 262144);
    int_option("SO_RCVBUF tiny", s, SOL_SOCKET, SO_RCVBUF, 1);
    int_option("SO_TYPE", s, SOL_SOCKET, SO_TYPE, 1);
    int_option("SO_DOMAIN", s, SOL_SOCKET, SO_DOMAIN, 1);
    int_option("SO_PROTOCOL", s, SOL_SOCKET, SO_PROTOCOL, 1);
    int_option("SO_ERROR", s, SOL_SOCKET, SO_ERROR, 1);
    int_option("SO_ACCEPTCONN", s, SOL_SOCKET, SO_ACCEPTCONN, 1);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(s, (struct sockaddr *)&a, sizeof a);
    listen(s, 1);
    int v = -1;
    socklen_t l = sizeof v;
    getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l);
    printf("SO_ACCEPTCONN on a listener %d\n", v);

    struct linger lg = { .l_onoff = 0, .l_linger = 0 }, lgot;
    CHECKN("SO_LINGER off", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    l = sizeof lgot;
    CHECKN("SO_LINGER get", getsockopt(s, SOL_SOCKET, SO_LINGER, &lgot, &l));
    printf("SO_LINGER %d %d len %u\n", lgot.l_onoff, lgot.l_linger, l);
    lg.l_onoff = 1;
    lg.l_linger = 7;
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    l = sizeof lgot;
    getsockopt(s, SOL_SOCKET, SO_LINGER, &lgot, &l);
    printf("SO_LINGER %d %d\n", lgot.l_onoff, lgot.l_linger);
    EXPECT_ERR("SO_LINGER with a short value", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);

    struct timeval tv = { .tv_sec = 1, .tv_usec = 500000 }, tgot;
    CHECKN("SO_RCVTIMEO set", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    l = sizeof tgot;
    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tgot, &l);
    printf("SO_RCVTIMEO %ld.%06ld len %u\n", (long)tgot.tv_sec, (long)tgot.tv_usec, l);
    tv.tv_usec = 2000000;
    EXPECT_ERR("SO_SNDTIMEO with tv_usec out of range", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), EDOM);
    int small = 1;
    EXPECT_ERR("SO_RCVTIMEO with a short value", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &small, sizeof small), EINVAL);

    /* Short option buffers: ints are truncated to what fits. */
    char one_byte = 0x55;
    l = 1;
    CHECKN("SO_TYPE into one byte", getsockopt(s, SOL_SOCKET, SO_TYPE, &one_byte, &l));
    printf("one byte %d len %u\n", one_byte, l);
    v = 1;
    EXPECT_ERR("SO_REUSEADDR with a 2-byte value", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
    l = sizeof v;
    EXPECT_ERR("an unknown SOL_SOCKET option", getsockopt(s, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
    EXPECT_ERR("set an unknown SOL_SOCKET option", setsockopt(s, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT);
    EXPECT_ERR("an unknown TCP option", getsockopt(s, IPPROTO_TCP, 9999, &v, &l), ENOPROTOOPT);
    EXPECT_ERR("an unknown IP option", getsockopt(s, IPPROTO_IP, 9999, &v, &l), ENOPROTOOPT);
    EXPECT_ERR("an option of an unknown level", setsockopt(s, 9999, 1, &v, sizeof v), ENOPROTOOPT);
    EXPECT_ERR("getsockopt on a non-socket", getsockopt(1 + 1000, SOL_SOCKET, SO_TYPE, &v, &l), EBADF);
    l = sizeof v;
    EXPECT_ERR("getsockopt to a bad pointer", syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, (void *)8, &l), EFAULT);
    close(s);

    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    int_option("SO_TYPE (udp6)", u, SOL_SOCKET, SO_TYPE, 1);
    int_option("SO_PROTOCOL (udp6)", u, SOL_SOCKET, SO_PROTOCOL, 1);
    int_option("SO_DOMAIN (udp6)", u, SOL_SOCKET, SO_DOMAIN, 1);
    EXPECT_ERR("TCP_NODELAY on UDP", setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), ENOPROTOOPT);
    close(u);
}

static void protocol_levels(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int_option("TCP_NODELAY", s, IPPROTO_TCP, TCP_NODELAY, 1);
    int_option("TCP_KEEPIDLE", s, IPPROTO_TCP, TCP_KEEPIDLE, 30);
    int_option("TCP_KEEPINTVL", s, IPPROTO_TCP, TCP_KEEPINTVL, 5);
    int_option("TCP_KEEPCNT", s, IPPROTO_TCP, TCP_KEEPCNT, 3);
    int_option("TCP_QUICKACK", s, IPPROTO_TCP, TCP_QUICKACK, 1);
    int v = 0;
    EXPECT_ERR("TCP_KEEPIDLE 0", setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v), EINVAL);
    int_option("IP_TOS", s, IPPROTO_IP, IP_TOS, 0x10);
    int_option("IP_TTL", s, IPPROTO_IP, IP_TTL, 33);
    v = 0;
    EXPECT_ERR("IP_TTL 0", setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v), EINVAL);
    close(s);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    int_option("IP_MULTICAST_TTL", u, IPPROTO_IP, IP_MULTICAST_TTL, 4);
    int_option("IP_MULTICAST_LOOP", u, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    struct in_addr ifa = { .s_addr = htonl(INADDR_LOOPBACK) }, got;
    CHECKN("IP_MULTICAST_IF set", setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa));
    socklen_t l = sizeof got;
    CHECKN("IP_MULTICAST_IF get", getsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &got, &l));
    printf("IP_MULTICAST_IF is loopback %s\n", got.s_addr == htonl(INADDR_LOOPBACK) ? "yes" : "no");
    close(u);

    int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    int_option("IPV6_V6ONLY", u6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    int_option("IPV6_MULTICAST_HOPS", u6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 5);
    int_option("IPV6_MULTICAST_LOOP", u6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    int_option("IPV6_MULTICAST_IF", u6, IPPROTO_IPV6, IPV6_MULTICAST_IF, 1);
    int_option("IPV6_UNICAST_HOPS", u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9);
    v = 1;
    EXPECT_ERR("IP_TOS-sized garbage at IPv6 level", setsockopt(u6, IPPROTO_IPV6, 9999, &v, sizeof v), ENOPROTOOPT);
    close(u6);
}

/* SO_RCVTIMEO makes a blocking recv and accept give up with EAGAIN; SO_SNDTIMEO a blocking send with what it sent. */
static void timeouts(void)
{
    int c, s;
    tcp_pair(&c, &s);
    struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[16];
    EXPECT_ERR("recv past SO_RCVTIMEO", recv(s, b, sizeof b, 0), EAGAIN);
    EXPECT_ERR("read past SO_RCVTIMEO", read(s, b, sizeof b), EAGAIN);
    write(c, "x", 1);
    CHECKV("recv with data before the timeout", recv(s, b, sizeof b, 0));

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(ls, (struct sockaddr *)&a, sizeof a);
    listen(ls, 1);
    setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_ERR("accept past SO_RCVTIMEO", accept(ls, 0, 0), EAGAIN);
    close(ls);

    int sz = 4096;
    setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static char big[4 << 20];
    ssize_t n = send(c, big, sizeof big, 0);
    printf("send past SO_SNDTIMEO sent part: %s\n", n > 0 && n < (ssize_t)sizeof big ? "yes" : "no");
    EXPECT_ERR("send again with the buffer full", send(c, big, sizeof big, 0), EAGAIN);
    close(c);
    close(s);

    /* SO_LINGER {1, 0}: close sends a reset, and the peer's recv says ECONNRESET. */
    tcp_pair(&c, &s);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c);
    struct pollfd p = { .fd = s, .events = POLLIN };
    poll(&p, 1, 5000);
    EXPECT_ERR("recv after the peer's abortive close", recv(s, b, sizeof b, 0), ECONNRESET);
    close(s);
}

int main(void)
{
    socket_level();
    protocol_levels();
    timeouts();
    return FINISH();
}
