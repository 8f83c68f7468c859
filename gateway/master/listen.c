/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/listen.c - the master's listening sockets. */
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

#include "gateway/master/master.h"

int
jg_gw_listen(const char *hostport, int *fd)
{
    struct addrinfo hints, *res = NULL;
    char *host = NULL, port[8];
    uint16_t p;
    int s = -1, one = 1, r = JG_ERR_INVALID;

    *fd = -1;
    if (jg_hostport_parse(hostport, &host, &p) != 0)
        goto out;
    snprintf(port, sizeof(port), "%u", p);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) {
        jg_error("listen %s: cannot resolve", hostport);
        goto out;
    }
    r = JG_ERR_IO;
    s = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
               0);
    if (s < 0)
        goto out;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (res->ai_family == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(s, res->ai_addr, res->ai_addrlen) != 0 || listen(s, 128) != 0) {
        jg_error("listen %s: %s", hostport, strerror(errno));
        goto out;
    }
    *fd = s;
    s = -1;
    r = 0;
out:
    if (s >= 0)
        close(s);
    if (res != NULL)
        freeaddrinfo(res);
    free(host);
    return r;
}
