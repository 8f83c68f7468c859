/* SPDX-License-Identifier: Apache-2.0 */
/* audit/fs.c - verified folder fds, whole writes and reading the
 * last line of a file, for the audit writers and readers. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

/* A folder we may trust with audit files: ours or root's, and nobody else
 * can add or replace entries in it. When why is not NULL it says what is
 * wrong with path. */
static int
check_dir_why(int fd, const char *path, char *why, size_t n)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        if (why != NULL)
            snprintf(why, n, "'%s': %s", path, strerror(errno));
        return JG_ERR_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (why != NULL)
            snprintf(why, n, "'%s' is not a folder", path);
        errno = ENOTDIR;
        return JG_ERR_IO;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        if (why != NULL)
            snprintf(why, n, "'%s' is owned by uid %u, not by root; audit "
                     "files are not written there", path,
                     (unsigned)st.st_uid);
        errno = EPERM;
        return JG_ERR_DENIED;
    }
    if ((st.st_mode & S_IWOTH) != 0) {
        if (why != NULL)
            snprintf(why, n, "'%s' can be written by every user (mode %04o); "
                     "audit files are not written there (chmod o-w)", path,
                     (unsigned)(st.st_mode & 07777));
        errno = EPERM;
        return JG_ERR_DENIED;
    }
    return 0;
}

static int
check_dir(int fd)
{
    return check_dir_why(fd, NULL, NULL, 0);
}

int
jg_audit_dir_check(const char *audit_dir, char *why, size_t n)
{
    static const char *const subs[] = {"events", "sessions"};
    char path[4096];
    int dfd = -1, sfd, r;
    size_t i;

    if ((dfd = open(audit_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(why, n, "'%s': %s", audit_dir, strerror(errno));
        return errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
    }
    r = check_dir_why(dfd, audit_dir, why, n);
    for (i = 0; r == 0 && i < sizeof(subs) / sizeof(subs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", audit_dir, subs[i]);
        sfd = openat(dfd, subs[i],
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0) {
            if (errno == ENOENT)
                continue;   /* made when first needed */
            snprintf(why, n, "'%s': %s", path, strerror(errno));
            r = JG_ERR_IO;
            break;
        }
        r = check_dir_why(sfd, path, why, n);
        close(sfd);
    }
    close(dfd);
    return r;
}

int
jg_audit_dir_open(const char *path, int *fd)
{
    int r = JG_ERR_INTERNAL, dfd = -1;

    *fd = -1;
    if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        r = errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
        goto out;
    }
    if ((r = check_dir(dfd)) != 0)
        goto out;
    *fd = dfd;
    dfd = -1;
    r = 0;
out:
    if (dfd >= 0)
        close(dfd);
    return r;
}

int
jg_audit_subdir(int dfd, const char *name, bool create, int *fd)
{
    int r = JG_ERR_INTERNAL, sfd = -1;

    *fd = -1;
    if (create && mkdirat(dfd, name, JG_AUDIT_DIR_MODE) != 0 &&
        errno != EEXIST) {
        r = JG_ERR_IO;
        goto out;
    }
    sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0) {
        r = errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
        goto out;
    }
    if ((r = check_dir(sfd)) != 0)
        goto out;
    *fd = sfd;
    sfd = -1;
    r = 0;
out:
    if (sfd >= 0)
        close(sfd);
    return r;
}

int
jg_audit_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    ssize_t w;

    while (len > 0) {
        w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return JG_ERR_IO;
        if (w == 0) {
            errno = EIO;
            return JG_ERR_IO;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int
jg_audit_read_at(int dfd, const char *name, size_t max, char **data,
                 size_t *len)
{
    int r = JG_ERR_INTERNAL, fd = -1;
    char *buf = NULL, *more;
    size_t n = 0, cap = 0;
    ssize_t got;

    *data = NULL;
    *len = 0;
    if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        r = errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
        goto out;
    }
    for (;;) {
        if (cap - n < 65536) {
            cap = cap == 0 ? 65536 : cap * 2;
            if (cap > max + 1)
                cap = max + 1;
            if ((more = realloc(buf, cap + 1)) == NULL) {
                r = JG_ERR_NOMEM;
                goto out;
            }
            buf = more;
        }
        if (n >= cap) {
            r = JG_ERR_TOOBIG;
            goto out;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = JG_ERR_IO;
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > max) {
            r = JG_ERR_TOOBIG;
            goto out;
        }
    }
    if (buf == NULL && (buf = malloc(1)) == NULL) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
    r = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return r;
}

int
jg_audit_last_line(int fd, char **line, size_t *len, bool *complete)
{
    int r = JG_ERR_INTERNAL;
    struct stat st;
    char *buf = NULL, *more;
    size_t want = 4096, have;
    off_t size, from;
    ssize_t got;
    size_t end, start;

    *line = NULL;
    *len = 0;
    *complete = true;
    if (fstat(fd, &st) != 0) {
        r = JG_ERR_IO;
        goto out;
    }
    size = st.st_size;
    if (size == 0) {
        r = 0;
        goto out;
    }
    for (;;) {
        if ((off_t)want > size)
            want = (size_t)size;
        from = size - (off_t)want;
        if ((more = realloc(buf, want + 1)) == NULL) {
            r = JG_ERR_NOMEM;
            goto out;
        }
        buf = more;
        have = 0;
        while (have < want) {
            got = pread(fd, buf + have, want - have, from + (off_t)have);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                if (got == 0)
                    errno = EIO;
                r = JG_ERR_IO;
                goto out;
            }
            have += (size_t)got;
        }
        end = want;
        if (buf[end - 1] == '\n')
            end--;
        else
            *complete = false;
        start = end;
        while (start > 0 && buf[start - 1] != '\n')
            start--;
        if (start > 0 || from == 0)
            break;
        if (want >= JG_AUDIT_MAX_LINE) {
            r = JG_ERR_TOOBIG;
            goto out;
        }
        want *= 4;
        *complete = true;
    }
    if ((*line = malloc(end - start + 1)) == NULL) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    memcpy(*line, buf + start, end - start);
    (*line)[end - start] = '\0';
    *len = end - start;
    r = 0;
out:
    free(buf);
    return r;
}

void
jg_audit_lr_init(struct jg_audit_lr *lr, int fd)
{
    memset(lr, 0, sizeof(*lr));
    lr->fd = fd;
}

void
jg_audit_lr_clear(struct jg_audit_lr *lr)
{
    free(lr->buf);
    lr->buf = NULL;
}

/* Reads more into the buffer; 1 when something came, 0 at EOF. */
static int
lr_fill(struct jg_audit_lr *lr)
{
    ssize_t got;

    if (lr->start > 0) {
        memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
        lr->end -= lr->start;
        lr->start = 0;
    }
    if (lr->end == lr->cap) {
        lr->cap = lr->cap == 0 ? 65536 : lr->cap * 2;
        lr->buf = jg_xrealloc(lr->buf, lr->cap, 1);
    }
    for (;;) {
        got = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return JG_ERR_IO;
        lr->end += (size_t)got;
        return got > 0 ? 1 : 0;
    }
}

int
jg_audit_lr_next(struct jg_audit_lr *lr, const char **line, size_t *len,
                 bool *nl)
{
    size_t scanned = 0;
    uint64_t skipped = 0;
    char *p = NULL;
    int r;

    for (;;) {
        p = lr->buf == NULL ? NULL
                            : memchr(lr->buf + lr->start + scanned, '\n',
                                     lr->end - lr->start - scanned);
        if (p != NULL)
            break;
        scanned = lr->end - lr->start;
        if (scanned >= JG_AUDIT_MAX_LINE) {
            /* Too long: drop what we have and keep skipping to its end. */
            skipped += scanned;
            lr->start = lr->end;
            scanned = 0;
        }
        r = lr->eof ? 0 : lr_fill(lr);
        if (r < 0)
            return r;
        if (r == 0) {
            lr->eof = true;
            if (lr->end == lr->start && skipped == 0)
                return 0;
            break;
        }
    }
    *line = lr->buf + lr->start;
    *len = p != NULL ? (size_t)(p - *line) : lr->end - lr->start;
    *nl = p != NULL;
    lr->offset = lr->pos;
    lr->pos += skipped + *len + (p != NULL ? 1 : 0);
    lr->lineno++;
    lr->start += *len + (p != NULL ? 1 : 0);
    return skipped > 0 ? JG_ERR_TOOBIG : 1;
}
