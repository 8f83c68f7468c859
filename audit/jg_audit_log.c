/* SPDX-License-Identifier: Apache-2.0 */
/* audit/jg_audit_log.c - the event log writer: hash-chained JSON lines in
 * events/YYYY-MM-DD.jsonl, appended under an exclusive flock, with signed
 * seal lines over the chain head. It runs inside pam_jumpgate.so too, so it
 * allocates with plain malloc and returns JG_ERR_NOMEM, never aborts, and
 * every fd it makes is close-on-exec. */
#include <sys/file.h>
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

/* Reads the chain head at the end of fd. A last line cut short (a crash in
 * the middle of a write) is ended with a newline so that nothing is
 * appended to it; it still counts as the previous line. */
static int
read_head(int fd, struct head *h)
{
    char *line = NULL;
    size_t len = 0;
    bool complete = true;
    json_t *o = NULL;
    const char *p;
    int r;

    memcpy(h->prev, zeros, sizeof(h->prev));
    h->seq = 0;
    h->is_seal = false;
    h->any = false;
    if ((r = jg_audit_last_line(fd, &line, &len, &complete)) != 0)
        goto out;
    if (line == NULL)
        goto out;
    h->any = true;
    if (!complete && (r = jg_audit_write_all(fd, "\n", 1)) != 0)
        goto out;
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

/* Appends the line for ev (or a seal when ev is NULL) after head h, and
 * moves h on. */
static int
write_line(struct jg_audit_log *log, int fd, struct head *h,
           const struct jg_audit_event *ev, int64_t now_us)
{
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
    if ((r = jg_audit_write_all(fd, line, len)) != 0)
        goto out;
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
    if ((r = open_day(log, prev, false, &fd)) != 0 ||
        (r = read_head(fd, h)) != 0)
        goto out;
    if (log->key != NULL && h->any && !h->is_seal)
        r = write_line(log, fd, h, NULL, now_us);
out:
    if (fd >= 0)
        close(fd);
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
    if ((r = open_day(log, name, true, &fd)) != 0 ||
        (r = read_head(fd, &h)) != 0)
        goto out;
    if (!h.any && (r = head_from_previous(log, name, now_us, &h)) != 0)
        goto out;
    if ((r = write_line(log, fd, &h, ev, now_us)) != 0)
        goto out;
    log->unsealed++;
    if (log->key != NULL && log->unsealed >= log->seal_every) {
        if ((r = write_line(log, fd, &h, NULL, now_us)) != 0)
            goto out;
        log->unsealed = 0;
    }
    r = 0;
out:
    if (fd >= 0)
        close(fd); /* also drops the lock */
    return r;
}

int
jg_audit_log_seal(struct jg_audit_log *log, int64_t now_us)
{
    char day[JG_AUDIT_DAY_STRLEN], name[32], newest[64];
    struct head h;
    int fd = -1, r = 0;

    if (log->key == NULL)
        return 0;
    jg_audit_day_format(now_us, day, sizeof(day));
    /* The newest file up to today: "today" sorts after its own name. */
    snprintf(name, sizeof(name), "%s.jsonl~", day);
    if ((r = prev_day(log, name, newest, sizeof(newest))) != 0 ||
        newest[0] == '\0')
        goto out;
    if ((r = open_day(log, newest, false, &fd)) != 0 ||
        (r = read_head(fd, &h)) != 0)
        goto out;
    if (h.any && !h.is_seal)
        r = write_line(log, fd, &h, NULL, now_us);
    if (r == 0)
        log->unsealed = 0;
out:
    if (fd >= 0)
        close(fd);
    return r;
}
