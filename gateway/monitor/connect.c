/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/connect.c - connections to targets with a time limit,
 * for the monitor. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/monitor/internal.h"

static int
remaining_ms(const struct timespec *end)
{
    struct timespec now;
    long long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (end->tv_sec - now.tv_sec) * 1000LL +
         (end->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : (int)ms;
}

/* One address, non-blocking connect, poll until end. */
static int
try_one(const struct addrinfo *ai, const struct timespec *end, int *fd,
        int *err)
{
    struct pollfd pfd;
    socklen_t sl = sizeof(*err);
    int s, pr, one = 1;

    s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
               0);
    if (s < 0) {
        *err = errno;
        return -1;
    }
    if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        *err = errno;
        close(s);
        return -1;
    }
    pfd.fd = s;
    pfd.events = POLLOUT;
    do
        pr = poll(&pfd, 1, remaining_ms(end));
    while (pr < 0 && errno == EINTR);
    if (pr <= 0) {
        *err = pr == 0 ? ETIMEDOUT : errno;
        close(s);
        return -1;
    }
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, err, &sl) != 0 || *err != 0) {
        close(s);
        return -1;
    }
    /* The worker uses the socket in blocking mode under libssh. */
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *fd = s;
    return 0;
}

int
jg_gw_connect(const char *host, uint16_t port, int timeout_s, int *fd,
              char *err, size_t errn)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct timespec end;
    char ports[8];
    int e = 0, g;

    *fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += timeout_s;
    snprintf(ports, sizeof(ports), "%u", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((g = getaddrinfo(host, ports, &hints, &res)) != 0 || res == NULL) {
        snprintf(err, errn, "cannot resolve %s: %s", host, gai_strerror(g));
        return JG_ERR_NOTFOUND;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if (try_one(ai, &end, fd, &e) == 0) {
            freeaddrinfo(res);
            return 0;
        }
        if (remaining_ms(&end) == 0)
            break;
    }
    freeaddrinfo(res);
    snprintf(err, errn, "cannot connect to %s port %u: %s", host, port,
             strerror(e));
    errno = e;
    return JG_ERR_IO;
}
