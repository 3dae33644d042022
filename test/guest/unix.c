/*
 * unix.c - AF_UNIX sockets on filesystem names (resolved in the jail): bind creates a socket
 * file, getsockname reports the path as bound, connect follows a symlink, data flows, binding
 * the same name again is EADDRINUSE and connecting to a missing name ENOENT; plus socketpair.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "check.h"

static struct sockaddr_un named(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, path);
    return a;
}

int main(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = named("sock");
    CHECKN("bind", bind(s, (void *)&a, sizeof a));
    CHECKN("listen", listen(s, 4));
    struct stat st;
    printf("socket file: %d\n", stat("sock", &st) == 0 && S_ISSOCK(st.st_mode));
    struct sockaddr_un got;
    socklen_t len = sizeof got;
    CHECKN("getsockname", getsockname(s, (void *)&got, &len));
    printf("bound to %s\n", got.sun_path);
    CHECKN("symlink", symlink("sock", "link"));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    a = named("link");
    CHECKN("connect through a symlink", connect(c, (void *)&a, sizeof a));
    int d = accept(s, NULL, NULL);
    char buf[4] = { 0 };
    CHECKV("write", write(c, "hi", 2));
    CHECKV("read", read(d, buf, 2));
    printf("received %s\n", buf);
    int e = socket(AF_UNIX, SOCK_STREAM, 0);
    a = named("sock");
    EXPECT_ERR("bind an existing name", bind(e, (void *)&a, sizeof a), EADDRINUSE);
    a = named("missing");
    EXPECT_ERR("connect to a missing name", connect(e, (void *)&a, sizeof a), ENOENT);
    int sv[2];
    CHECKN("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECKV("socketpair write", write(sv[0], "pair", 4));
    char pair[5] = { 0 };
    CHECKV("socketpair read", read(sv[1], pair, 4));
    printf("pair says %s\n", pair);
    unlink("sock");
    unlink("link");
    return FINISH();
}
