/* SPDX-License-Identifier: Apache-2.0 */
/* audit/log.c - the event log writer: hash-chained JSON lines in
 * events/YYYY-MM-DD.jsonl, appended under an exclusive flock, with signed
 * seal lines over the chain head. It runs inside pam_jumpgate.so too, so it
 * allocates with plain malloc and returns JG_ERR_NOMEM, never aborts, and
 * every fd it makes is close-on-exec. */
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

struct jg_audit_log {
    int events_fd;                  /* verified audit.dir/events */
    const struct jg_audit_key *key; /* borrowed; NULL: no seals */
    unsigned seal_every;
    unsigned unsealed;              /* events this handle left unsealed */
};

/* Where the chain stands at the end of a file. */
struct head {
    char prev[65];      /* hash of the last line; zeros when none */
    uint64_t seq;       /* its seq; 0 when none */
    bool is_seal;       /* the last line is a seal */
    bool any;           /* the file has a line */
};

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static const char *const fixed[] = {"seq", "time", "type", "session", "user",
    "from", "target", "login", "action", "rule", "reason", "prev", "sig",
    NULL};

void
jg_audit_log_free(struct jg_audit_log *log)
{
    if (log == NULL)
        return;
    if (log->events_fd >= 0)
        close(log->events_fd);
    free(log);
}

int
jg_audit_log_open(const char *audit_dir, const struct jg_audit_key *key,
                  unsigned seal_every, struct jg_audit_log **out)
{
    struct jg_audit_log *log = NULL;
    int top = -1, r = JG_ERR_INTERNAL;

    *out = NULL;
    if (key != NULL && !jg_audit_key_is_private(key)) {
        r = JG_ERR_INVALID;
        goto out;
    }
    if ((log = calloc(1, sizeof(*log))) == NULL) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    log->events_fd = -1;
    log->key = key;
    log->seal_every = seal_every ? seal_every : JG_AUDIT_SEAL_EVERY;
    if ((r = jg_audit_dir_open(audit_dir, &top)) != 0 ||
        (r = jg_audit_subdir(top, "events", true, &log->events_fd)) != 0)
        goto out;
    *out = log;
    log = NULL;
    r = 0;
out:
    if (top >= 0)
        close(top);
    jg_audit_log_free(log);
    return r;
}

/* An incomplete last line that was cut off the end of a day file: its
 * place, length and SHA-256, and its bytes (to put back when the event
 * that records the cut cannot be written). */
struct cut {
    char *bytes;        /* NULL: nothing was cut */
    size_t len;
    uint64_t offset;
    char sha256[65];
};

static void
cut_clear(struct cut *c)
{
    free(c->bytes);
    memset(c, 0, sizeof(*c));
}

/* Reads the chain head at the end of fd. A last line cut short (a write
 * that ran out of space and could not be undone, a crash in the middle of
 * one) is cut off the file, so that the log ends with a whole line again;
 * *c receives what was cut, for the audit.gap event that records it. */
static int
read_head(int fd, struct head *h, struct cut *c)
{
    char *line = NULL;
    size_t len = 0;
    bool complete = true;
    json_t *o = NULL;
    struct stat sb;
    const char *p;
    int r;

    memcpy(h->prev, zeros, sizeof(h->prev));
    h->seq = 0;
    h->is_seal = false;
    h->any = false;
    if ((r = jg_audit_last_line(fd, &line, &len, &complete)) != 0)
        goto out;
    if (line != NULL && !complete) {
        if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size < len) {
            r = JG_ERR_IO;
            goto out;
        }
        if (ftruncate(fd, sb.st_size - (off_t)len) != 0) {
            r = JG_ERR_IO;
            goto out;
        }
        cut_clear(c);
        c->offset = (uint64_t)sb.st_size - len;
        c->len = len;
        jg_audit_sha256_hex(line, len, c->sha256);
        c->bytes = line;
        line = NULL;
        if ((r = jg_audit_last_line(fd, &line, &len, &complete)) != 0)
            goto out;
    }
    if (line == NULL)
        goto out;
    h->any = true;
    jg_audit_sha256_hex(line, len, h->prev);
    o = json_loadb(line, len, 0, NULL);
    if (json_is_integer(json_object_get(o, "seq"))) {
        h->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
    } else if ((p = strstr(line, "\"seq\":")) != NULL) {
        h->seq = strtoull(p + 6, NULL, 10);
    }
    p = json_string_value(json_object_get(o, "type"));
    h->is_seal = p != NULL && strcmp(p, "seal") == 0;
out:
    json_decref(o);
    free(line);
    return r;
}

/* The common members, in their fixed order; NULL when out of memory (a
 * member that could not be made is never left out silently). */
static json_t *
base_object(uint64_t seq, int64_t now_us, const struct jg_audit_event *ev)
{
    char when[JG_AUDIT_TIME_STRLEN];
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    jg_audit_time_format(now_us, when, sizeof(when));
    /* json_object_set_new() takes (and on failure frees) the value, and
     * fails for a NULL one. */
    bad |= json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    bad |= json_object_set_new(o, "time", json_string(when));
    bad |= json_object_set_new(o, "type", jg_audit_jstr(ev->type));
    bad |= json_object_set_new(o, "session", jg_audit_jstr(ev->session));
    bad |= json_object_set_new(o, "user", jg_audit_jstr(ev->user));
    bad |= json_object_set_new(o, "from", jg_audit_jstr(ev->from));
    bad |= json_object_set_new(o, "target", jg_audit_jstr(ev->target));
    bad |= json_object_set_new(o, "login", jg_audit_jstr(ev->login));
    bad |= json_object_set_new(o, "action", jg_audit_jstr(ev->action));
    bad |= json_object_set_new(o, "rule", jg_audit_jstr(ev->rule));
    bad |= json_object_set_new(o, "reason", jg_audit_jstr(ev->reason));
    if (bad != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Appends the line for ev (or a seal when ev is NULL; with "next_within"
 * when next_within >= 0) after head h, and moves h on. All or nothing: a
 * write that fails part way (a full disk) is cut back to the size the file
 * had, so no partial line stays behind. */
static int
write_line(struct jg_audit_log *log, int fd, struct head *h,
           const struct jg_audit_event *ev, int64_t now_us, int next_within)
{
    struct stat sb;
    int err;
    struct jg_audit_event seal = {.type = "seal"};
    char sig[128], *line = NULL, *full = NULL;
    const char *k;
    json_t *o = NULL, *v;
    size_t len = 0, i;
    int r = JG_ERR_INVALID;

    o = base_object(h->seq + 1, now_us, ev != NULL ? ev : &seal);
    if (o == NULL) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    if (ev != NULL && ev->extra != NULL) {
        if (!json_is_object(ev->extra))
            goto out;
        json_object_foreach(ev->extra, k, v) {
            for (i = 0; fixed[i] != NULL; i++)
                if (strcmp(fixed[i], k) == 0)
                    goto out;
            if (json_object_set(o, k, v) != 0) {
                r = JG_ERR_NOMEM;
                goto out;
            }
        }
    }
    if (ev == NULL && next_within >= 0 &&
        json_object_set_new(o, "next_within",
                            json_integer(next_within)) != 0) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    if ((ev == NULL &&
         json_object_set_new(o, "key",
                             json_string(jg_audit_key_id(log->key))) != 0) ||
        json_object_set_new(o, "prev", json_string(h->prev)) != 0) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    if ((line = jg_audit_dump_line(o, &len)) == NULL) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    if (ev == NULL) {
        /* Sign "{...,\"prev\":\"...\"," and end with the signature. */
        line[len - 2] = ',';
        if ((r = jg_audit_sign(log->key, JG_AUDIT_DOMAIN_EVENTS, line,
                               len - 1, sig, sizeof(sig))) != 0)
            goto out;
        if (asprintf(&full, "%.*s\"sig\":\"%s\"}\n", (int)(len - 1), line,
                     sig) < 0) {
            full = NULL;
            r = JG_ERR_NOMEM;
            goto out;
        }
        free(line);
        line = full;
        full = NULL;
        len = strlen(line);
    }
    if (fstat(fd, &sb) != 0) {
        r = JG_ERR_IO;
        goto out;
    }
    if ((r = jg_audit_write_all(fd, line, len)) != 0) {
        err = errno;
        /* Under the flock nobody else appended meanwhile. Should even
         * this fail, the next append cuts the partial line off and
         * records the cut (read_head(), record_cut()). */
        if (ftruncate(fd, sb.st_size) != 0) {
            /* left to the next append */
        }
        errno = err;
        goto out;
    }
    if (ev == NULL && fdatasync(fd) != 0) {
        r = JG_ERR_IO;
        goto out;
    }
    jg_audit_sha256_hex(line, len - 1, h->prev);
    h->seq++;
    h->is_seal = ev == NULL;
    h->any = true;
    r = 0;
out:
    json_decref(o);
    free(line);
    free(full);
    return r;
}

/* Opens and locks a day file (created when create). */
static int
open_day(struct jg_audit_log *log, const char *name, bool create, int *fd)
{
    int flags = O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC;
    int f;

    *fd = -1;
    if (create)
        flags |= O_CREAT;
    if ((f = openat(log->events_fd, name, flags, JG_AUDIT_FILE_MODE)) < 0)
        return errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
    while (flock(f, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(f);
            return JG_ERR_IO;
        }
    }
    *fd = f;
    return 0;
}

static bool
is_day_name(const char *n)
{
    size_t i;

    if (strlen(n) != 16 || strcmp(n + 10, ".jsonl") != 0)
        return false;
    for (i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? n[i] != '-' : (n[i] < '0' || n[i] > '9'))
            return false;
    return true;
}

/* The newest day file name before name ("" when none). */
static int
prev_day(struct jg_audit_log *log, const char *name, char *best, size_t n)
{
    int dfd = fcntl(log->events_fd, F_DUPFD_CLOEXEC, 0);
    DIR *d;
    struct dirent *e;

    best[0] = '\0';
    if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
        if (dfd >= 0)
            close(dfd);
        return JG_ERR_IO;
    }
    rewinddir(d);
    while ((e = readdir(d)) != NULL) {
        if (is_day_name(e->d_name) && strcmp(e->d_name, name) < 0 &&
            strcmp(e->d_name, best) > 0)
            jg_strlcpy(best, e->d_name, n);
    }
    closedir(d);
    return 0;
}

static int open_head(struct jg_audit_log *log, const char *name,
                     bool create, int64_t now_us, int *fd, struct head *h);

/* The head to chain a new day file from: the previous day's last line,
 * after sealing that day when it does not end with a seal. */
static int
head_from_previous(struct jg_audit_log *log, const char *name,
                   int64_t now_us, struct head *h)
{
    char prev[64];
    int fd = -1, r;

    memcpy(h->prev, zeros, sizeof(h->prev));
    h->seq = 0;
    h->is_seal = false;
    h->any = false;
    if ((r = prev_day(log, name, prev, sizeof(prev))) != 0 || prev[0] == '\0')
        goto out;
    if ((r = open_head(log, prev, false, now_us, &fd, h)) != 0)
        goto out;
    if (log->key != NULL && h->any && !h->is_seal)
        r = write_line(log, fd, h, NULL, now_us, -1);
out:
    if (fd >= 0)
        close(fd);
    return r;
}

/* Records in the log that c was cut off day file name: an audit.gap event
 * with the file, offset, length and SHA-256 of what was cut. When even
 * that cannot be written, the cut bytes are put back so that the next
 * append tries again and nothing goes unrecorded. */
static int
record_cut(struct jg_audit_log *log, int fd, const char *name,
           const struct cut *c, struct head *h, int64_t now_us)
{
    char file[64];
    struct jg_audit_event ev = {
        .type = "audit.gap",
        .reason = "an incomplete line (a write cut short by a full disk or "
                  "a crash) was removed from the end of the log"};
    int r, err;

    snprintf(file, sizeof(file), "events/%s", name);
    ev.extra = json_pack("{s:s, s:I, s:I, s:s}", "file", file, "offset",
                         (json_int_t)c->offset, "bytes", (json_int_t)c->len,
                         "sha256", c->sha256);
    if (ev.extra == NULL)
        r = JG_ERR_NOMEM;
    else
        r = write_line(log, fd, h, &ev, now_us, -1);
    json_decref(ev.extra);
    if (r != 0) {
        err = errno;
        if (jg_audit_write_all(fd, c->bytes, c->len) != 0) {
            /* then the partial line is lost with its record: the most
             * a file system that takes no byte at all can leave */
        }
        errno = err;
        return r;
    }
    log->unsealed++;
    return 0;
}

/* Opens and locks day file name (created when create) and reads the head
 * to append after: its last line, or, when it has none, the previous
 * day's (sealed first). An incomplete last line is cut off and recorded
 * before anything else is appended. */
static int
open_head(struct jg_audit_log *log, const char *name, bool create,
          int64_t now_us, int *fd, struct head *h)
{
    struct cut c = {0};
    int r;

    if ((r = open_day(log, name, create, fd)) != 0 ||
        (r = read_head(*fd, h, &c)) != 0)
        goto out;
    if (!h->any && (r = head_from_previous(log, name, now_us, h)) != 0)
        goto out;
    if (c.bytes != NULL)
        r = record_cut(log, *fd, name, &c, h, now_us);
out:
    cut_clear(&c);
    if (r != 0 && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return r;
}

int
jg_audit_log_append(struct jg_audit_log *log, const struct jg_audit_event *ev,
                    int64_t now_us)
{
    char day[JG_AUDIT_DAY_STRLEN], name[32];
    struct head h;
    int fd = -1, r;

    if (ev == NULL || ev->type == NULL || ev->type[0] == '\0' ||
        strcmp(ev->type, "seal") == 0)
        return JG_ERR_INVALID;
    jg_audit_day_format(now_us, day, sizeof(day));
    snprintf(name, sizeof(name), "%s.jsonl", day);
    if ((r = open_head(log, name, true, now_us, &fd, &h)) != 0)
        goto out;
    if ((r = write_line(log, fd, &h, ev, now_us, -1)) != 0)
        goto out;
    log->unsealed++;
    if (log->key != NULL && log->unsealed >= log->seal_every) {
        if ((r = write_line(log, fd, &h, NULL, now_us, -1)) != 0)
            goto out;
        log->unsealed = 0;
    }
    r = 0;
out:
    if (fd >= 0)
        close(fd); /* also drops the lock */
    return r;
}

/* Seals the newest day file up to now_us: always when next_within >= 0,
 * otherwise when it does not end with a seal. */
static int
seal_newest(struct jg_audit_log *log, int64_t now_us, int next_within)
{
    char day[JG_AUDIT_DAY_STRLEN], name[32], newest[64];
    struct head h;
    int fd = -1, r = 0;

    if (log->key == NULL)
        return 0;
    jg_audit_day_format(now_us, day, sizeof(day));
    /* The newest file up to today: "today" sorts after its own name. */
    snprintf(name, sizeof(name), "%s.jsonl~", day);
    if ((r = prev_day(log, name, newest, sizeof(newest))) != 0)
        goto out;
    if (next_within >= 0) {
        /* A timed seal goes into today's file, made when missing. */
        snprintf(newest, sizeof(newest), "%s.jsonl", day);
    } else if (newest[0] == '\0') {
        goto out;
    }
    if ((r = open_head(log, newest, next_within >= 0, now_us, &fd, &h)) != 0)
        goto out;
    if (next_within >= 0 || (h.any && !h.is_seal))
        r = write_line(log, fd, &h, NULL, now_us, next_within);
    if (r == 0)
        log->unsealed = 0;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

int
jg_audit_log_seal(struct jg_audit_log *log, int64_t now_us)
{
    return seal_newest(log, now_us, -1);
}

int
jg_audit_log_seal_timed(struct jg_audit_log *log, int64_t now_us,
                        unsigned next_within)
{
    if (next_within > INT32_MAX)
        return JG_ERR_INVALID;
    return seal_newest(log, now_us, (int)next_within);
}
