/* SPDX-License-Identifier: Apache-2.0 */
/* common/control.c - one request to the running jumpgated over its
 * control socket (a unix stream socket, root only): send a line, read the
 * answer until the daemon closes, bounded in size and time. The CLI and
 * the auditors' console both ask through it. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

#define ANSWER_MAX (16u << 20)

int
jg_control_request(const char *path, const char *req, int timeout_ms,
                   char **answer, size_t *len, char *why, size_t n)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char *buf = NULL;
    size_t cap = 0;
    int fd = -1, r = JG_ERR_IO, saved = 0;

    *answer = NULL;
    *len = 0;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(why, n, "cannot reach jumpgated at %s: the path is too long",
                 path);
        return JG_ERR_INVALID;
    }
    jg_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(why, n, "cannot reach jumpgated at %s: %s%s", path,
                 strerror(errno),
                 errno == EACCES ? " (the control socket is root's)"
                 : errno == ENOENT || errno == ECONNREFUSED
                     ? " (is jumpgated running?)"
                     : "");
        r = JG_ERR_NOTFOUND;
        saved = errno;
        goto out;
    }
    /* The daemon may answer (a refusal) and close before all of it is
     * sent; the answer is read either way. */
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) &&
        errno != EPIPE && errno != ECONNRESET) {
        snprintf(why, n, "cannot send to jumpgated: %s", strerror(errno));
        goto out;
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t got;

        if (poll(&p, 1, timeout_ms) <= 0) {
            snprintf(why, n, "jumpgated did not answer");
            goto out;
        }
        if (*len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = jg_xrealloc(buf, cap, 1);
        }
        got = read(fd, buf + *len, cap - *len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(why, n, "reading the answer: %s", strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        *len += (size_t)got;
        if (*len > ANSWER_MAX) {
            snprintf(why, n, "the answer of jumpgated is too long");
            goto out;
        }
    }
    if (buf == NULL)
        buf = jg_xrealloc(NULL, 1, 1);
    buf[*len] = '\0';
    *answer = buf;
    buf = NULL;
    r = 0;
out:
    if (r != 0)
        *len = 0;
    if (fd >= 0)
        close(fd);
    free(buf);
    if (saved != 0)
        errno = saved;
    return r;
}
