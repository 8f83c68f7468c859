/* SPDX-License-Identifier: Apache-2.0 */
/* common/util.c - allocation that never fails, strings, file reading,
 * randomness. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

static void
oom(void)
{
    fputs("jumpgate: out of memory\n", stderr);
    abort();
}

void *
jg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        oom();
    return p;
}

void *
jg_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        oom();
    return p;
}

void *
jg_xrealloc(void *p, size_t n, size_t size)
{
    void *q;

    if (size != 0 && n > SIZE_MAX / size)
        oom();
    q = realloc(p, n * size != 0 ? n * size : 1);
    if (q == NULL)
        oom();
    return q;
}

char *
jg_xstrdup(const char *s)
{
    char *p = strdup(s);

    if (p == NULL)
        oom();
    return p;
}

char *
jg_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p = NULL;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (r < 0)
        oom();
    return p;
}

void
jg_strlcpy(char *dst, const char *src, size_t n)
{
    size_t l;

    if (n == 0)
        return;
    l = strlen(src);
    if (l >= n)
        l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

int
jg_random(void *buf, size_t n)
{
    uint8_t *p = buf;

    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return JG_ERR_IO;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* A folder keeps its EISDIR; anything else that is not a regular file is
 * JG_ERR_INVALID with EINVAL (see jg_read_strerror()). */
static int
not_regular(mode_t mode)
{
    if (S_ISDIR(mode)) {
        errno = EISDIR;
        return JG_ERR_IO;
    }
    errno = EINVAL;
    return JG_ERR_INVALID;
}

const char *
jg_read_strerror(int r)
{
    if (r == JG_ERR_INVALID)
        return "not a regular file (a FIFO, socket or device): not read";
    if (r == JG_ERR_TOOBIG)
        return "larger than the limit";
    return strerror(errno);
}

int
jg_read_file(const char *path, size_t max, char **data, size_t *len)
{
    int fd, r = JG_ERR_IO, saved;
    struct stat st;
    char *buf = NULL;
    size_t have = 0, cap;

    *data = NULL;
    *len = 0;
    /* A FIFO would block open() and read() for good, a device could be
     * endless: only regular files (or links to them) are read. The check
     * before open() keeps devices closed; the one after it covers a file
     * replaced in between, and O_NONBLOCK keeps that open() from waiting. */
    if (stat(path, &st) != 0)
        return JG_ERR_IO;
    if (!S_ISREG(st.st_mode))
        return not_regular(st.st_mode);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
        return JG_ERR_IO;
    if (fstat(fd, &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        r = not_regular(st.st_mode);
        goto out;
    }
    cap = S_ISREG(st.st_mode) && (size_t)st.st_size < max ? (size_t)st.st_size + 1 : 4096;
    /* Plain malloc: pam_jumpgate.so reads keys and configuration with this
     * inside other programs, where out of memory must be an error. */
    if ((buf = malloc(cap + 1)) == NULL) {
        r = JG_ERR_NOMEM;
        errno = ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n;
        if (have == cap) {
            char *more;

            if (cap >= max) {
                r = JG_ERR_TOOBIG;
                errno = EFBIG;
                goto out;
            }
            cap = cap * 2 > max ? max : cap * 2;
            if ((more = realloc(buf, cap + 1)) == NULL) {
                r = JG_ERR_NOMEM;
                errno = ENOMEM;
                goto out;
            }
            buf = more;
        }
        n = read(fd, buf + have, cap - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
    buf[have] = '\0';
    *data = buf;
    *len = have;
    buf = NULL;
    r = 0;
out:
    saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return r;
}

char *
jg_path_relative_to(const char *base, const char *rel)
{
    const char *slash;

    if (rel[0] == '/' || (slash = strrchr(base, '/')) == NULL)
        return jg_xstrdup(rel);
    return jg_xasprintf("%.*s/%s", (int)(slash - base), base, rel);
}

void
jg_strv_free(char **v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; v[i] != NULL; i++)
        free(v[i]);
    free(v);
}
