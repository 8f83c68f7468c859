/* SPDX-License-Identifier: Apache-2.0 */
/* sync/ship_state.c - audit.dir/ship/state: what has landed in S3, one JSON
 * line per landed file (file, key, size, sha256, etag, time, and the
 * file's mtime/ctime/inode then), the last line of a file winning.
 *
 * Each record is appended with one write(2) on an O_APPEND descriptor and
 * fdatasync()ed before the pass goes on, so a crash loses at most the
 * line being written; such a torn last line (no newline) is cut off when
 * the state is next opened, and its file is simply shipped again (same
 * key, same bytes). The file is held under an exclusive flock while open,
 * so two shippers never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "sync/internal.h"

#define STATE_MAX (256u << 20)

struct jg_sync_ship_state {
    GHashTable *by_file;   /* file -> struct jg_sync_ship_entry * (owned) */
    int fd;                /* -1: in memory only */
};

static void
entry_free(void *p)
{
    struct jg_sync_ship_entry *e = p;

    if (e == NULL)
        return;
    free(e->file);
    free(e->key);
    free(e);
}

static struct jg_sync_ship_state *
state_new(void)
{
    struct jg_sync_ship_state *st = jg_xcalloc(1, sizeof(*st));

    st->by_file = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                        entry_free);
    st->fd = -1;
    return st;
}

void
jg_sync_ship_state_free(struct jg_sync_ship_state *st)
{
    if (st == NULL)
        return;
    g_hash_table_destroy(st->by_file);
    if (st->fd >= 0)
        close(st->fd); /* also drops the lock */
    free(st);
}

static bool
is_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return s[n] == '\0';
}

/* A relative path below audit.dir: no "..", no leading "/", no empty
 * parts, printable. */
static bool
good_file(const char *f)
{
    const char *p;

    if (*f == '\0' || *f == '/' || strstr(f, "//") != NULL)
        return false;
    for (p = f; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    }
    return strcmp(f, "..") != 0 && strncmp(f, "../", 3) != 0 &&
           strstr(f, "/../") == NULL &&
           (strlen(f) < 3 || strcmp(f + strlen(f) - 3, "/..") != 0);
}

static bool
get_u64(json_t *o, const char *k, uint64_t *v)
{
    json_t *j = json_object_get(o, k);

    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return false;
    *v = (uint64_t)json_integer_value(j);
    return true;
}

/* One line into a new entry, or NULL with err. */
static struct jg_sync_ship_entry *
parse_line(const char *line, size_t len, char *err, size_t errlen)
{
    struct jg_sync_ship_entry *e = NULL;
    json_error_t je;
    json_t *o = json_loadb(line, len, 0, &je);
    const char *file, *key, *sha, *etag, *time;
    uint64_t size, mt, ct, ino;
    int64_t t;

    if (!json_is_object(o)) {
        snprintf(err, errlen, "not a JSON object (%s)", je.text);
        goto out;
    }
    file = json_string_value(json_object_get(o, "file"));
    key = json_string_value(json_object_get(o, "key"));
    sha = json_string_value(json_object_get(o, "sha256"));
    etag = json_string_value(json_object_get(o, "etag"));
    time = json_string_value(json_object_get(o, "time"));
    if (file == NULL || !good_file(file)) {
        snprintf(err, errlen, "\"file\" is missing or not a path below "
                 "audit.dir");
        goto out;
    }
    if (key == NULL || *key == '\0') {
        snprintf(err, errlen, "\"key\" is missing");
        goto out;
    }
    if (sha == NULL || strlen(sha) != 64 || !is_hex(sha, 64)) {
        snprintf(err, errlen, "\"sha256\" is not 64 lower-case hex digits");
        goto out;
    }
    if (etag == NULL || strlen(etag) >= sizeof(e->etag)) {
        snprintf(err, errlen, "\"etag\" is missing or too long");
        goto out;
    }
    if (time == NULL || jg_audit_time_parse(time, &t) != 0) {
        snprintf(err, errlen, "\"time\" is not an RFC 3339 time");
        goto out;
    }
    if (!get_u64(o, "size", &size) || !get_u64(o, "mtime_ns", &mt) ||
        !get_u64(o, "ctime_ns", &ct) || !get_u64(o, "ino", &ino)) {
        snprintf(err, errlen, "\"size\", \"mtime_ns\", \"ctime_ns\" or "
                 "\"ino\" is not a whole number");
        goto out;
    }
    e = jg_xcalloc(1, sizeof(*e));
    e->file = jg_xstrdup(file);
    e->key = jg_xstrdup(key);
    e->size = size;
    memcpy(e->sha256, sha, 65);
    snprintf(e->etag, sizeof(e->etag), "%s", etag);
    e->time_us = t;
    e->mtime_ns = (int64_t)mt;
    e->ctime_ns = (int64_t)ct;
    e->ino = ino;
out:
    json_decref(o);
    return e;
}

static void
keep(struct jg_sync_ship_state *st, struct jg_sync_ship_entry *e)
{
    g_hash_table_replace(st->by_file, e->file, e);
}

/* Parses buf into st; *good is the length of the complete lines. */
static int
parse_into(struct jg_sync_ship_state *st, const char *buf, size_t len,
           size_t *good, size_t *torn, char *err, size_t errlen)
{
    size_t pos = 0, lineno = 0;
    char why[256];

    if (torn != NULL)
        *torn = 0;
    *good = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        struct jg_sync_ship_entry *e;

        lineno++;
        if (nl == NULL) {
            if (torn != NULL)
                *torn = 1;
            break;
        }
        if ((e = parse_line(buf + pos, (size_t)(nl - buf) - pos, why,
                            sizeof(why))) == NULL) {
            snprintf(err, errlen, "line %zu: %s", lineno, why);
            return JG_ERR_INVALID;
        }
        keep(st, e);
        pos = (size_t)(nl - buf) + 1;
        *good = pos;
    }
    return 0;
}

int
jg_sync_ship_state_parse(const char *buf, size_t len,
                         struct jg_sync_ship_state **out, size_t *torn,
                         char *err, size_t errlen)
{
    struct jg_sync_ship_state *st = state_new();
    size_t good;
    int r;

    *out = NULL;
    if ((r = parse_into(st, buf, len, &good, torn, err, errlen)) != 0) {
        jg_sync_ship_state_free(st);
        return r;
    }
    *out = st;
    return 0;
}

/* Opens (creating) the folder name below dfd, not following a symlink. */
static int
subdir(int dfd, const char *name, int *fd)
{
    struct stat sb;

    if (mkdirat(dfd, name, 0750) != 0 && errno != EEXIST)
        return JG_ERR_IO;
    if ((*fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                     O_CLOEXEC)) < 0)
        return JG_ERR_IO;
    if (fstat(*fd, &sb) != 0 || (sb.st_mode & S_IWOTH) != 0 ||
        (sb.st_uid != 0 && sb.st_uid != geteuid())) {
        close(*fd);
        *fd = -1;
        errno = EPERM;
        return JG_ERR_IO;
    }
    return 0;
}

int
jg_sync_ship_state_open(const char *audit_dir, struct jg_sync_ship_state **out,
                        char *err, size_t errlen)
{
    struct jg_sync_ship_state *st = state_new();
    GString *buf = g_string_new(NULL);
    int dfd = -1, sfd = -1, r = JG_ERR_IO;
    char chunk[65536], why[256];
    size_t good, torn = 0;
    ssize_t n;

    *out = NULL;
    if ((dfd = open(audit_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "%s: %s", audit_dir, strerror(errno));
        goto out;
    }
    if (subdir(dfd, "ship", &sfd) != 0) {
        snprintf(err, errlen, "%s/ship: %s", audit_dir, strerror(errno));
        goto out;
    }
    st->fd = openat(sfd, "state", O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
                                      O_CLOEXEC, 0640);
    if (st->fd < 0 || flock(st->fd, LOCK_EX) != 0) {
        snprintf(err, errlen, "%s/ship/state: %s", audit_dir, strerror(errno));
        goto out;
    }
    for (;;) {
        n = pread(st->fd, chunk, sizeof(chunk), (off_t)buf->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s/ship/state: %s", audit_dir,
                     strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (buf->len + (size_t)n > STATE_MAX) {
            snprintf(err, errlen, "%s/ship/state: larger than %u bytes",
                     audit_dir, STATE_MAX);
            r = JG_ERR_TOOBIG;
            goto out;
        }
        g_string_append_len(buf, chunk, n);
    }
    if ((r = parse_into(st, buf->str, buf->len, &good, &torn, why,
                        sizeof(why))) != 0) {
        snprintf(err, errlen, "%s/ship/state: %s (move it aside to ship "
                 "everything again)", audit_dir, why);
        goto out;
    }
    if (torn > 0) {
        jg_warn("%s/ship/state: dropping an unfinished last line (a crash "
                "while recording a shipped file; it is shipped again)",
                audit_dir);
        if (ftruncate(st->fd, (off_t)good) != 0 || fdatasync(st->fd) != 0) {
            snprintf(err, errlen, "%s/ship/state: %s", audit_dir,
                     strerror(errno));
            r = JG_ERR_IO;
            goto out;
        }
    }
    *out = st;
    st = NULL;
    r = 0;
out:
    jg_sync_ship_state_free(st);
    g_string_free(buf, TRUE);
    if (sfd >= 0)
        close(sfd);
    if (dfd >= 0)
        close(dfd);
    return r;
}

const struct jg_sync_ship_entry *
jg_sync_ship_state_get(const struct jg_sync_ship_state *st, const char *file)
{
    return g_hash_table_lookup(st->by_file, file);
}

size_t
jg_sync_ship_state_count(const struct jg_sync_ship_state *st)
{
    return g_hash_table_size(st->by_file);
}

char *
jg_sync_ship_entry_line(const struct jg_sync_ship_entry *e, size_t *len)
{
    char t[JG_AUDIT_TIME_STRLEN], *s, *line;
    json_t *o = json_object();

    jg_audit_time_format(e->time_us, t, sizeof(t));
    json_object_set_new(o, "file", json_string(e->file));
    json_object_set_new(o, "key", json_string(e->key));
    json_object_set_new(o, "size", json_integer((json_int_t)e->size));
    json_object_set_new(o, "sha256", json_string(e->sha256));
    json_object_set_new(o, "etag", json_string(e->etag));
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "mtime_ns", json_integer(e->mtime_ns));
    json_object_set_new(o, "ctime_ns", json_integer(e->ctime_ns));
    json_object_set_new(o, "ino", json_integer((json_int_t)e->ino));
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s == NULL)
        abort();
    line = jg_xasprintf("%s\n", s);
    free(s);
    *len = strlen(line);
    return line;
}

int
jg_sync_ship_state_record(struct jg_sync_ship_state *st,
                          const struct jg_sync_ship_entry *e)
{
    struct jg_sync_ship_entry *c;
    size_t len;
    char *line;
    ssize_t n;
    int r = 0;

    if (e->file == NULL || !good_file(e->file) || e->key == NULL ||
        strlen(e->sha256) != 64)
        return JG_ERR_INVALID;
    line = jg_sync_ship_entry_line(e, &len);
    if (st->fd >= 0) {
        do {
            n = write(st->fd, line, len);
        } while (n < 0 && errno == EINTR);
        if (n != (ssize_t)len) {
            if (n >= 0)
                errno = EIO;
            r = JG_ERR_IO;
        } else if (fdatasync(st->fd) != 0) {
            r = JG_ERR_IO;
        }
    }
    free(line);
    if (r != 0)
        return r;
    c = jg_xcalloc(1, sizeof(*c));
    *c = *e;
    c->file = jg_xstrdup(e->file);
    c->key = jg_xstrdup(e->key);
    keep(st, c);
    return 0;
}
