/* SPDX-License-Identifier: Apache-2.0 */
/* common/listen.c - a listening TCP socket on HOST:PORT, for the HTTP
 * servers (metrics, the auditors' console), with errors that name the
 * setting it came from. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/common.h"

int
jg_listen_tcp(const char *hostport, const char *what, unsigned flags,
              int backlog, int *fd, char *err, size_t errn)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char *host = NULL, port[8];
    uint16_t p;
    int s, one = 1, r;

    if (jg_hostport_parse(hostport, &host, &p) != 0) {
        snprintf(err, errn, "%s '%s' is not host:port", what, hostport);
        return JG_ERR_INVALID;
    }
    snprintf(port, sizeof(port), "%u", (unsigned)p);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE |
                     ((flags & JG_LISTEN_NAMES) ? 0 : AI_NUMERICHOST);
    r = getaddrinfo(host, port, &hints, &ai);
    free(host);
    if (r != 0) {
        snprintf(err, errn, "%s '%s': %s", what, hostport, gai_strerror(r));
        return JG_ERR_INVALID;
    }
    s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
               ((flags & JG_LISTEN_NONBLOCK) ? SOCK_NONBLOCK : 0), 0);
    if (s < 0 ||
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, backlog) != 0) {
        snprintf(err, errn, "%s '%s': %s", what, hostport, strerror(errno));
        if (s >= 0)
            close(s);
        freeaddrinfo(ai);
        return JG_ERR_IO;
    }
    freeaddrinfo(ai);
    *fd = s;
    return 0;
}
