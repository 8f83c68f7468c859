/* SPDX-License-Identifier: Apache-2.0 */
/* audit/rec.c - the session recorder: encodes what a session
 * channel shows (records of jumpgate-recording(5)) into blocks and hands
 * them, and the requests for seals, to the recording's writer thread
 * (wq.c), which compresses, hashes, seals and writes them
 * (recw.c). Here only bytes are copied: no allocation per record,
 * no encoding, no hashing. Time and sizes decide the seals, so that no
 * record waits unsealed for more than JG_AUDIT_SEAL_INTERVAL_US while data
 * flows and no seal covers more than JG_AUDIT_REC_SEAL_BYTES. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

struct jg_audit_rec {
    int fd;
    char *path;
    char id[JG_AUDIT_ID_STRLEN];
    bool record_input;
    int64_t start_us, last_rel_us;
    struct jg_rec_w *w;         /* the writing side (writer thread's) */
    struct jg_audit_wq *wq;     /* the writer thread, once open */
    uint8_t *blk;               /* records encoded but not yet queued */
    size_t blk_len;
    int64_t blk_t;              /* time of the block's last record */
    int64_t blk_us;             /* when the block got its first record */
    uint64_t size;              /* record bytes encoded */
    uint64_t unsealed;          /* record bytes queued since the last seal */
    int64_t cp_us, sync_us;     /* last seal asked for / last sync */
    int64_t trim_us;            /* last time an idle recording trimmed */
    int failed;                 /* first error: every later call returns
                                   it (nothing is lost quietly) */
};

/* At most this much of a recording waits for its writer thread. */
#define REC_QUEUE_BYTES (2u * 1024 * 1024)

/* The first error, the writer thread's included. */
static int
failed(struct jg_audit_rec *r)
{
    if (r->failed == 0 && r->wq != NULL)
        r->failed = jg_audit_wq_error(r->wq);
    return r->failed;
}

uint64_t
jg_audit_rec_size(const struct jg_audit_rec *r)
{
    return r->size;
}

const char *
jg_audit_rec_path(const struct jg_audit_rec *r)
{
    return r->path;
}

static int
set_failed(struct jg_audit_rec *r, int e)
{
    if (r->failed == 0)
        r->failed = e;
    return r->failed;
}

/* Asks the writer thread for a seal over everything queued. */
static int
seal(struct jg_audit_rec *r, int64_t now_us, bool final)
{
    struct jg_rec_seal_req *q = malloc(sizeof(*q));

    if (q == NULL)
        return set_failed(r, JG_ERR_NOMEM);
    q->time_us = now_us;
    q->final = final;
    /* At most one sync a second, and always at the end. */
    q->sync = final || now_us - r->sync_us >= JG_AUDIT_SEAL_INTERVAL_US;
    if (q->sync)
        r->sync_us = now_us;
    r->cp_us = now_us;
    r->unsealed = 0;
    return set_failed(r, jg_audit_wq_run(r->wq, jg_audit_recw_seal, r->w,
                                         (char *)q, sizeof(*q), false));
}

/* Hands the records waiting in the block to the writer thread, after a
 * seal when they would take the unsealed bytes past the bound. */
static int
flush(struct jg_audit_rec *r, int64_t now_us)
{
    if (failed(r) != 0)
        return r->failed;
    if (r->blk == NULL || r->blk_len == 0)
        return 0;
    if (r->unsealed > 0 &&
        r->unsealed + r->blk_len > JG_AUDIT_REC_SEAL_BYTES &&
        seal(r, now_us, false) != 0)
        return r->failed;
    r->unsealed += r->blk_len;
    if (jg_audit_wq_run(r->wq, jg_audit_recw_block, r->w, (char *)r->blk,
                        r->blk_len, true) != 0)
        set_failed(r, jg_audit_wq_error(r->wq) ? jg_audit_wq_error(r->wq)
                                                : JG_ERR_IO);
    r->blk = NULL;
    r->blk_len = 0;
    return r->failed;
}

/* Appends one record of kind at now_us; data longer than the room left
 * in a block goes on in the next block, as records of the same time. */
static int
record(struct jg_audit_rec *r, int64_t now_us, uint8_t kind, const void *data,
       size_t len)
{
    const uint8_t *p = data;
    int64_t rel = now_us - r->start_us;
    size_t take;

    if (failed(r) != 0)
        return r->failed;
    /* Times never go backwards in a recording. */
    if (rel < r->last_rel_us)
        rel = r->last_rel_us;
    r->last_rel_us = rel;
    do {
        if (r->blk != NULL &&
            r->blk_len + JG_REC_RECORD_HEAD + (len > 0) > JG_AUDIT_REC_BLOCK &&
            flush(r, now_us) != 0)
            return r->failed;
        if (r->blk == NULL) {
            if ((r->blk = (uint8_t *)jg_audit_wq_block(r->wq)) == NULL)
                return set_failed(r, JG_ERR_NOMEM);
            r->blk_len = jg_audit_varint_put(r->blk, (uint64_t)rel);
            r->blk_t = rel;
            r->blk_us = now_us;
        }
        take = JG_AUDIT_REC_BLOCK - r->blk_len - JG_REC_RECORD_HEAD;
        if (take > len)
            take = len;
        r->blk[r->blk_len++] = kind;
        r->blk_len += jg_audit_varint_put(r->blk + r->blk_len,
                                          (uint64_t)(rel - r->blk_t));
        r->blk_len += jg_audit_varint_put(r->blk + r->blk_len, take);
        if (take > 0)
            memcpy(r->blk + r->blk_len, p, take);
        r->blk_len += take;
        r->blk_t = rel;
        r->size += take;
        p += take;
        len -= take;
    } while (len > 0);
    /* The time bound holds even for a caller that does not tick. */
    if (now_us - r->cp_us >= JG_AUDIT_SEAL_INTERVAL_US)
        return jg_audit_rec_tick(r, now_us);
    return 0;
}

int
jg_audit_rec_output(struct jg_audit_rec *r, int64_t now_us, const void *data,
                    size_t len)
{
    return len == 0 ? failed(r) : record(r, now_us, 'o', data, len);
}

int
jg_audit_rec_stderr(struct jg_audit_rec *r, int64_t now_us, const void *data,
                    size_t len)
{
    return len == 0 ? failed(r) : record(r, now_us, 'e', data, len);
}

int
jg_audit_rec_input(struct jg_audit_rec *r, int64_t now_us, const void *data,
                   size_t len)
{
    if (!r->record_input || len == 0)
        return failed(r);
    return record(r, now_us, 'i', data, len);
}

int
jg_audit_rec_resize(struct jg_audit_rec *r, int64_t now_us, unsigned cols,
                    unsigned rows)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ux%u", cols, rows);

    return record(r, now_us, 'r', buf, (size_t)n);
}

int
jg_audit_rec_marker(struct jg_audit_rec *r, int64_t now_us, const char *label)
{
    size_t n = strnlen(label, 4096), i;
    char *clean = jg_audit_utf8_clean(label, n);
    int e;

    if (clean == NULL)
        return set_failed(r, JG_ERR_NOMEM);
    for (i = 0; clean[i] != '\0'; i++)
        if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
            clean[i] = ' ';
    e = record(r, now_us, 'm', clean, strlen(clean));
    free(clean);
    return e;
}

int
jg_audit_rec_exit_status(struct jg_audit_rec *r, int64_t now_us, int status)
{
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d", status);

    return record(r, now_us, 'x', buf, (size_t)n);
}

bool
jg_audit_rec_waiting(const struct jg_audit_rec *r)
{
    return r->blk != NULL && r->blk_len > 0;
}

int
jg_audit_rec_tick(struct jg_audit_rec *r, int64_t now_us)
{
    bool due = (r->unsealed > 0 || jg_audit_rec_waiting(r)) &&
               now_us - r->cp_us >= JG_AUDIT_SEAL_INTERVAL_US;

    if (failed(r) != 0)
        return r->failed;
    /* A block waits a little for more records (a terminal's output comes
     * in many small writes, which compress and frame better together),
     * and goes to the file when due: `audit watch` follows the file. */
    if (jg_audit_rec_waiting(r) &&
        (due || now_us - r->blk_us >= JG_AUDIT_REC_FLUSH_US) &&
        flush(r, now_us) != 0)
        return r->failed;
    if (due)
        return seal(r, now_us, false);
    /* A quiet recording gives its spare blocks and its compression
     * context back. */
    if (r->unsealed == 0 && !jg_audit_rec_waiting(r) &&
        now_us - r->cp_us >= JG_AUDIT_SEAL_INTERVAL_US &&
        r->trim_us <= r->cp_us) {
        jg_audit_wq_trim(r->wq);
        r->trim_us = now_us; /* once per quiet spell, not per tick */
        return set_failed(r, jg_audit_wq_run(r->wq, jg_audit_recw_trim, r->w,
                                             NULL, 0, false));
    }
    return 0;
}

void
jg_audit_rec_free(struct jg_audit_rec *r)
{
    if (r == NULL)
        return;
    /* What was encoded is written, unsealed: a crash after the write. */
    if (r->wq != NULL && r->blk != NULL && r->blk_len > 0 && failed(r) == 0)
        jg_audit_wq_run(r->wq, jg_audit_recw_block, r->w, (char *)r->blk,
                        r->blk_len, true);
    else
        free(r->blk);
    r->blk = NULL;
    jg_audit_wq_finish(r->wq);
    r->wq = NULL;
    jg_audit_recw_free(r->w);
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r);
}

int
jg_audit_rec_close(struct jg_audit_rec *r, int64_t now_us)
{
    int e, e2;

    if (r == NULL)
        return 0;
    e = flush(r, now_us);
    if (e == 0)
        e = seal(r, now_us, true);
    /* Everything queued is written and synced before the file closes. */
    e2 = jg_audit_wq_finish(r->wq);
    r->wq = NULL;
    if (e == 0)
        e = e2;
    e2 = close(r->fd);
    r->fd = -1;
    if (e == 0 && e2 != 0)
        e = JG_ERR_IO;
    jg_audit_rec_free(r);
    return e;
}

/* The header: an asciicast v2 header line (so the asciicast view is this
 * line and the records), with the start to the µs in "jumpgate". Caller
 * frees. */
static char *
header_line(const struct jg_audit_rec_info *in, int64_t start_us, size_t *len)
{
    json_t *h = json_object(), *env = json_object(), *jg = json_object();
    char *title, *line = NULL;
    int64_t secs = start_us / 1000000;

    title = jg_xasprintf("%s \u2192 %s (%s)", in->user ? in->user : "?",
                         in->target ? in->target : "?",
                         in->login ? in->login : "?");
    if (h == NULL || env == NULL || jg == NULL)
        goto out;
    json_object_set_new(h, "version", json_integer(2));
    json_object_set_new(h, "width", json_integer(in->width ? in->width : 80));
    json_object_set_new(h, "height",
                        json_integer(in->height ? in->height : 24));
    json_object_set_new(h, "timestamp", json_integer(secs));
    json_object_set_new(h, "title", jg_audit_jstr(title));
    json_object_set_new(env, "TERM",
                        jg_audit_jstr(in->term ? in->term : "xterm"));
    json_object_set_new(h, "env", env);
    env = NULL;
    json_object_set_new(jg, "session", json_string(in->session));
    if (in->connection != NULL)
        json_object_set_new(jg, "connection", jg_audit_jstr(in->connection));
    json_object_set_new(jg, "user", jg_audit_jstr(in->user));
    json_object_set_new(jg, "target", jg_audit_jstr(in->target));
    if (in->target_id != NULL)
        json_object_set_new(jg, "target_id", jg_audit_jstr(in->target_id));
    if (in->address != NULL)
        json_object_set_new(jg, "address", jg_audit_jstr(in->address));
    json_object_set_new(jg, "login", jg_audit_jstr(in->login));
    json_object_set_new(jg, "from", jg_audit_jstr(in->from));
    json_object_set_new(jg, "rule", jg_audit_jstr(in->rule));
    json_object_set_new(jg, "action", jg_audit_jstr(in->action));
    if (in->command != NULL)
        json_object_set_new(jg, "command", jg_audit_jstr(in->command));
    json_object_set_new(jg, "record_input", json_boolean(in->record_input));
    json_object_set_new(jg, "start_us", json_integer((json_int_t)start_us));
    json_object_set_new(h, "jumpgate", jg);
    jg = NULL;
    line = jg_audit_dump_line(h, len);
out:
    json_decref(h);
    json_decref(env);
    json_decref(jg);
    free(title);
    return line;
}

int
jg_audit_rec_open(const char *audit_dir, const struct jg_audit_rec_info *info,
                  const struct jg_audit_key *key, int64_t start_us,
                  struct jg_audit_rec **out)
{
    struct jg_audit_rec *r = NULL;
    char day[JG_AUDIT_DAY_STRLEN], *name = NULL, *hdr = NULL;
    int top = -1, sess = -1, dayfd = -1, e = JG_ERR_INTERNAL;
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW |
                      O_CLOEXEC;
    size_t hl = 0;

    *out = NULL;
    if (info->session == NULL || !jg_audit_id_valid(info->session) ||
        key == NULL || !jg_audit_key_is_private(key)) {
        e = JG_ERR_INVALID;
        goto out;
    }
    r = jg_xcalloc(1, sizeof(*r));
    r->fd = -1;
    jg_strlcpy(r->id, info->session, sizeof(r->id));
    r->record_input = info->record_input;
    r->start_us = start_us;
    r->cp_us = start_us;
    r->sync_us = start_us;
    jg_audit_day_format(start_us, day, sizeof(day));
    if ((e = jg_audit_dir_open(audit_dir, &top)) != 0 ||
        (e = jg_audit_subdir(top, "sessions", true, &sess)) != 0 ||
        (e = jg_audit_subdir(sess, day, true, &dayfd)) != 0)
        goto out;
    name = jg_xasprintf("%s.jgr", r->id);
    r->path = jg_xasprintf("%s/sessions/%s/%s", audit_dir, day, name);
    if ((r->fd = openat(dayfd, name, flags, JG_AUDIT_FILE_MODE)) < 0) {
        e = errno == EEXIST ? JG_ERR_EXISTS : JG_ERR_IO;
        goto out;
    }
    if ((hdr = header_line(info, start_us, &hl)) == NULL) {
        e = JG_ERR_NOMEM;
        goto out;
    }
    /* Magic, header and the first seal, synced. */
    if ((e = jg_audit_recw_start(r->fd, r->id, key, hdr, hl - 1, start_us,
                                 &r->w)) != 0)
        goto out;
    /* The folder entry itself must survive a crash too. */
    if (fsync(dayfd) != 0) {
        e = JG_ERR_IO;
        goto out;
    }
    if ((e = jg_audit_wq_start(REC_QUEUE_BYTES, &r->wq)) != 0)
        goto out;
    *out = r;
    r = NULL;
    e = 0;
out:
    jg_audit_rec_free(r);
    free(name);
    free(hdr);
    if (dayfd >= 0)
        close(dayfd);
    if (sess >= 0)
        close(sess);
    if (top >= 0)
        close(top);
    return e;
}
