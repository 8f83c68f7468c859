/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/proto/msg.c - bounded monitor messages over a SOCK_SEQPACKET
 * socketpair, with an optional descriptor passed by SCM_RIGHTS. */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "gateway/proto/proto.h"

void
jg_gw_msg_init(struct jg_gw_msg *m, uint8_t type)
{
    m->type = type;
    m->bad = false;
    m->len = 0;
    m->pos = 0;
    m->fd = -1;
}

static void
put(struct jg_gw_msg *m, const void *p, size_t n)
{
    if (m->bad || n > sizeof(m->data) - m->len) {
        m->bad = true;
        return;
    }
    memcpy(m->data + m->len, p, n);
    m->len += n;
}

void
jg_gw_msg_put_u8(struct jg_gw_msg *m, uint8_t v)
{
    put(m, &v, 1);
}

/* v in network byte order, as every length and number of a message. */
static void
be32(uint32_t v, uint8_t b[4])
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

void
jg_gw_msg_put_u32(struct jg_gw_msg *m, uint32_t v)
{
    uint8_t b[4];

    be32(v, b);
    put(m, b, 4);
}

void
jg_gw_msg_put_u64(struct jg_gw_msg *m, uint64_t v)
{
    jg_gw_msg_put_u32(m, (uint32_t)(v >> 32));
    jg_gw_msg_put_u32(m, (uint32_t)v);
}

void
jg_gw_msg_put_str(struct jg_gw_msg *m, const char *s)
{
    size_t n = s == NULL ? 0 : strlen(s);

    if (n > JG_GW_MSG_MAX) {
        m->bad = true;
        return;
    }
    jg_gw_msg_put_u32(m, (uint32_t)n);
    put(m, s, n);
}

void
jg_gw_msg_put_bytes(struct jg_gw_msg *m, const void *p, size_t n)
{
    if (n > JG_GW_MSG_MAX) {
        m->bad = true;
        return;
    }
    jg_gw_msg_put_u32(m, (uint32_t)n);
    put(m, p, n);
}

static int
get(struct jg_gw_msg *m, void *p, size_t n)
{
    if (m->bad || n > m->len - m->pos) {
        m->bad = true;
        return JG_ERR_INVALID;
    }
    memcpy(p, m->data + m->pos, n);
    m->pos += n;
    return 0;
}

int
jg_gw_msg_get_u8(struct jg_gw_msg *m, uint8_t *v)
{
    return get(m, v, 1);
}

int
jg_gw_msg_get_u32(struct jg_gw_msg *m, uint32_t *v)
{
    uint8_t b[4];
    int r;

    if ((r = get(m, b, 4)) != 0)
        return r;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
         b[3];
    return 0;
}

int
jg_gw_msg_get_u64(struct jg_gw_msg *m, uint64_t *v)
{
    uint32_t hi, lo;
    int r;

    if ((r = jg_gw_msg_get_u32(m, &hi)) != 0 ||
        (r = jg_gw_msg_get_u32(m, &lo)) != 0)
        return r;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

/* Borrowed view of the next string. */
static int
get_view(struct jg_gw_msg *m, const uint8_t **p, size_t *n)
{
    uint32_t len;
    int r;

    if ((r = jg_gw_msg_get_u32(m, &len)) != 0)
        return r;
    if (len > m->len - m->pos) {
        m->bad = true;
        return JG_ERR_INVALID;
    }
    if (memchr(m->data + m->pos, 0, len) != NULL) {
        m->bad = true;
        return JG_ERR_INVALID;
    }
    *p = m->data + m->pos;
    *n = len;
    m->pos += len;
    return 0;
}

int
jg_gw_msg_get_str(struct jg_gw_msg *m, char *buf, size_t n)
{
    const uint8_t *p;
    size_t len;
    int r;

    if ((r = get_view(m, &p, &len)) != 0)
        return r;
    if (len >= n) {
        m->bad = true;
        return JG_ERR_INVALID;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 0;
}

int
jg_gw_msg_get_bytes(struct jg_gw_msg *m, const uint8_t **p, size_t *n)
{
    uint32_t len;
    int r;

    if ((r = jg_gw_msg_get_u32(m, &len)) != 0)
        return r;
    if (len > m->len - m->pos) {
        m->bad = true;
        return JG_ERR_INVALID;
    }
    *p = m->data + m->pos;
    *n = len;
    m->pos += len;
    return 0;
}

int
jg_gw_msg_get_strdup(struct jg_gw_msg *m, char **out)
{
    const uint8_t *p;
    size_t len;
    int r;

    *out = NULL;
    if ((r = get_view(m, &p, &len)) != 0)
        return r;
    *out = jg_xmalloc(len + 1);
    memcpy(*out, p, len);
    (*out)[len] = '\0';
    return 0;
}

int
jg_gw_msg_send(int sock, const struct jg_gw_msg *m, int fd)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct iovec iov[2];
    struct msghdr mh;
    size_t total = 1 + m->len;
    ssize_t sent;

    if (m->bad)
        return JG_ERR_INTERNAL;
    memset(&mh, 0, sizeof(mh));
    iov[0].iov_base = (void *)&m->type;
    iov[0].iov_len = 1;
    iov[1].iov_base = (void *)m->data;
    iov[1].iov_len = m->len;
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    if (fd >= 0) {
        memset(&cm, 0, sizeof(cm));
        mh.msg_control = cm.buf;
        mh.msg_controllen = sizeof(cm.buf);
        cm.h.cmsg_len = CMSG_LEN(sizeof(int));
        cm.h.cmsg_level = SOL_SOCKET;
        cm.h.cmsg_type = SCM_RIGHTS;
        memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
    }
    do
        sent = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)total)
        return JG_ERR_IO;
    return 0;
}

int
jg_gw_msg_recv(int sock, struct jg_gw_msg *m, int timeout_ms)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } cm;
    struct pollfd pfd = {.fd = sock, .events = POLLIN};
    struct iovec iov[2];
    struct msghdr mh;
    struct cmsghdr *c;
    ssize_t n;
    int pr;

    jg_gw_msg_init(m, 0);
    do
        pr = poll(&pfd, 1, timeout_ms);
    while (pr < 0 && errno == EINTR);
    if (pr < 0)
        return JG_ERR_IO;
    if (pr == 0)
        return JG_ERR_NOTFOUND;
    memset(&mh, 0, sizeof(mh));
    memset(&cm, 0, sizeof(cm));
    iov[0].iov_base = &m->type;
    iov[0].iov_len = 1;
    iov[1].iov_base = m->data;
    iov[1].iov_len = sizeof(m->data);
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    mh.msg_control = cm.buf;
    mh.msg_controllen = sizeof(cm.buf);
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return JG_ERR_IO;
    for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
            if (m->fd >= 0)
                close(fd);
            else
                m->fd = fd;
        }
    }
    if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
        if (m->fd >= 0)
            close(m->fd);
        m->fd = -1;
        return JG_ERR_INVALID;
    }
    m->len = (size_t)n - 1;
    return 0;
}
