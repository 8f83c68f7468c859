/* SPDX-License-Identifier: Apache-2.0 */
/* audit/jg_audit_rec.c - the session recorder: writes one asciicast v2
 * file per session channel and its signed checkpoints (ID.cast.seal). Lines
 * are encoded, hashed and sealed here; after the header, the writes and
 * syncs themselves go through the recording's writer thread (jg_audit_wq.c)
 * in the same order. Events are encoded straight into a block of that
 * thread's pool, which is handed over before a checkpoint, when full, and
 * on every tick, so a busy recording neither allocates per event nor
 * wakes its writer per event. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit/internal.h"

struct jg_audit_rec {
    int cast_fd, seal_fd;
    char *path;
    char id[JG_AUDIT_ID_STRLEN];
    const struct jg_audit_key *key;
    EVP_MD_CTX *sha;            /* over every byte written to the .cast */
    uint64_t size, raw;
    struct jg_audit_utf8 out8, in8;
    bool record_input;
    int64_t start_us, last_rel_us;
    uint64_t seq, cp_size;      /* checkpoints written; size at the last */
    int64_t cp_us, sync_us;     /* time of the last checkpoint / fsync */
    int failed;                 /* first write error: every later call
                                   returns it (nothing is lost quietly) */
    struct jg_audit_wq *wq;     /* the writer thread, once open */
    char *blk;                  /* lines encoded but not yet queued */
    size_t blk_len;
    char *text;                 /* decoded output, reused between calls */
    size_t text_cap;
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

static int flush(struct jg_audit_rec *r);

void
jg_audit_rec_free(struct jg_audit_rec *r)
{
    if (r == NULL)
        return;
    /* What was encoded is written, unsealed: a crash after the write. */
    if (r->wq != NULL)
        flush(r);
    jg_audit_wq_finish(r->wq);
    r->wq = NULL;
    free(r->blk);
    free(r->text);
    if (r->cast_fd >= 0)
        close(r->cast_fd);
    if (r->seal_fd >= 0)
        close(r->seal_fd);
    EVP_MD_CTX_free(r->sha);
    free(r->path);
    free(r);
}

/* Writes len bytes of buf (malloc'ed; taken) to fd, directly or through
 * the writer thread. */
static int
emit(struct jg_audit_rec *r, int fd, char *buf, size_t len)
{
    int e;

    if (r->wq != NULL)
        return jg_audit_wq_write(r->wq, fd, buf, len);
    e = jg_audit_write_all(fd, buf, len);
    free(buf);
    return e;
}

static int
sync_fd(struct jg_audit_rec *r, int fd)
{
    if (r->wq != NULL)
        return jg_audit_wq_sync(r->wq, fd);
    return fdatasync(fd) == 0 ? 0 : JG_ERR_IO;
}

/* Counts one whole line into the running hash and the .cast's size. */
static int
hash_line(struct jg_audit_rec *r, const char *line, size_t len)
{
    if (EVP_DigestUpdate(r->sha, line, len) != 1) {
        r->failed = JG_ERR_INTERNAL;
        return r->failed;
    }
    r->size += len;
    return 0;
}

/* Appends one whole line (malloc'ed; taken) to the .cast and the running
 * hash. */
static int
put(struct jg_audit_rec *r, char *line, size_t len)
{
    int e;

    if (failed(r) != 0 || hash_line(r, line, len) != 0) {
        free(line);
        return r->failed;
    }
    if ((e = emit(r, r->cast_fd, line, len)) != 0) {
        r->failed = e;
        return e;
    }
    return 0;
}

/* Hands the lines waiting in the block to the writer thread. */
static int
flush(struct jg_audit_rec *r)
{
    int e;

    if (r->blk == NULL || r->blk_len == 0)
        return failed(r);
    e = jg_audit_wq_write_block(r->wq, r->cast_fd, r->blk, r->blk_len);
    r->blk = NULL;
    r->blk_len = 0;
    if (e != 0 && r->failed == 0)
        r->failed = e;
    return r->failed;
}

/* Room for a line of at most need bytes at the end of the block (a new
 * block when this one is full); NULL when need exceeds a block. */
static char *
room(struct jg_audit_rec *r, size_t need)
{
    if (r->wq == NULL || need > JG_AUDIT_WQ_BLOCK)
        return NULL;
    if (r->blk != NULL && r->blk_len + need > JG_AUDIT_WQ_BLOCK &&
        flush(r) != 0)
        return NULL;
    if (r->blk == NULL && (r->blk = jg_audit_wq_block(r->wq)) == NULL) {
        r->failed = JG_ERR_NOMEM;
        return NULL;
    }
    return r->blk + r->blk_len;
}

/* Writes a checkpoint over everything written so far; syncs both files
 * first when forced or a second has passed since the last sync. */
static int
checkpoint(struct jg_audit_rec *r, int64_t now_us, bool final)
{
    struct jg_audit_checkpoint cp = {0};
    EVP_MD_CTX *snap = NULL;
    uint8_t md[32];
    unsigned int mdlen = 0;
    char *line = NULL;
    size_t len = 0;
    bool sync = final || now_us - r->sync_us >= JG_AUDIT_SEAL_INTERVAL_US;
    int e = JG_ERR_INTERNAL;

    /* The data the seal covers goes before it. */
    if (flush(r) != 0)
        return r->failed;
    if ((snap = EVP_MD_CTX_new()) == NULL ||
        EVP_MD_CTX_copy_ex(snap, r->sha) != 1 ||
        EVP_DigestFinal_ex(snap, md, &mdlen) != 1 || mdlen != 32)
        goto out;
    cp.seq = r->seq + 1;
    jg_strlcpy(cp.session, r->id, sizeof(cp.session));
    cp.offset = r->size;
    jg_audit_hex(md, 32, cp.sha256);
    cp.time_us = now_us;
    cp.final = final;
    cp.raw = r->raw;
    cp.replaced = r->out8.replaced + r->in8.replaced;
    if ((e = jg_audit_checkpoint_format(&cp, r->key, &line, &len)) != 0)
        goto out;
    /* The data a seal claims is on disk before the seal is. */
    if (sync && (e = sync_fd(r, r->cast_fd)) != 0)
        goto out;
    e = emit(r, r->seal_fd, line, len);
    line = NULL;
    if (e != 0)
        goto out;
    if (sync && (e = sync_fd(r, r->seal_fd)) != 0)
        goto out;
    if (sync)
        r->sync_us = now_us;
    r->seq++;
    r->cp_size = r->size;
    r->cp_us = now_us;
    e = 0;
out:
    if (e != 0)
        r->failed = e;
    EVP_MD_CTX_free(snap);
    free(line);
    return e;
}

static int
maybe_checkpoint(struct jg_audit_rec *r, int64_t now_us)
{
    if (r->size == r->cp_size)
        return 0;
    if (r->size - r->cp_size >= JG_AUDIT_SEAL_BYTES ||
        now_us - r->cp_us >= JG_AUDIT_SEAL_INTERVAL_US)
        return checkpoint(r, now_us, false);
    return 0;
}

/* Writes [t, "code", data] for valid UTF-8 data, whose JSON string takes
 * at most quoted bytes (6 * len + 2 always will). */
static int
event(struct jg_audit_rec *r, int64_t now_us, char code, const char *data,
      size_t len, size_t quoted)
{
    char head[64], *line, *own = NULL;
    int64_t rel = now_us - r->start_us;
    size_t n, need;
    int h, e;

    if (failed(r) != 0)
        return r->failed;
    /* Times never go backwards in a recording. */
    if (rel < r->last_rel_us)
        rel = r->last_rel_us;
    r->last_rel_us = rel;
    h = snprintf(head, sizeof(head), "[%" PRId64 ".%06" PRId64 ", \"%c\", ",
                 rel / 1000000, rel % 1000000, code);
    if (h < 0 || (size_t)h >= sizeof(head) || quoted > SIZE_MAX - 64)
        return JG_ERR_INTERNAL;
    need = (size_t)h + quoted + 2;
    if ((line = room(r, need)) == NULL) {
        if (failed(r) != 0)
            return r->failed;
        /* Larger than a block: a line of its own, after the block. */
        if (flush(r) != 0)
            return r->failed;
        line = own = jg_xmalloc(need);
    }
    memcpy(line, head, (size_t)h);
    n = (size_t)h + jg_audit_json_quote(data, len, line + h);
    line[n++] = ']';
    line[n++] = '\n';
    if (own != NULL) {
        e = put(r, own, n);
    } else if ((e = hash_line(r, line, n)) == 0) {
        r->blk_len += n;
    }
    if (e == 0)
        e = maybe_checkpoint(r, now_us);
    return e;
}

static int
stream(struct jg_audit_rec *r, struct jg_audit_utf8 *st, char code,
       int64_t now_us, const void *data, size_t len, bool final)
{
    size_t in = st->n_tail + len, n;

    if (failed(r) != 0)
        return r->failed;
    if (in > (SIZE_MAX - 64) / 6)
        return JG_ERR_INVALID;
    r->raw += len;
    /* All ASCII and nothing waiting: the bytes are their own decoding. */
    if (st->n_tail == 0 && len > 0 &&
        jg_audit_ascii_run(data, len) == len)
        return event(r, now_us, code, data, len, 6 * len + 2);
    if (JG_AUDIT_UTF8_OUT(in) > r->text_cap) {
        free(r->text);
        r->text_cap = JG_AUDIT_UTF8_OUT(in);
        r->text = jg_xmalloc(r->text_cap);
    }
    n = jg_audit_utf8_feed_into(st, data, len, final, r->text);
    /* Every input byte is at most six bytes of JSON (internal.h): an
     * ASCII control character becomes \u00XX, a byte of a multibyte
     * character stays one byte, and an invalid byte becomes U+FFFD, three
     * bytes. */
    return n > 0 ? event(r, now_us, code, r->text, n, 6 * in + 2) : 0;
}

int
jg_audit_rec_output(struct jg_audit_rec *r, int64_t now_us, const void *data,
                    size_t len)
{
    if (len == 0)
        return failed(r);
    return stream(r, &r->out8, 'o', now_us, data, len, false);
}

int
jg_audit_rec_input(struct jg_audit_rec *r, int64_t now_us, const void *data,
                   size_t len)
{
    if (!r->record_input || len == 0)
        return failed(r);
    return stream(r, &r->in8, 'i', now_us, data, len, false);
}

int
jg_audit_rec_resize(struct jg_audit_rec *r, int64_t now_us, unsigned cols,
                    unsigned rows)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%ux%u", cols, rows);
    return event(r, now_us, 'r', buf, strlen(buf), 6 * strlen(buf) + 2);
}

int
jg_audit_rec_marker(struct jg_audit_rec *r, int64_t now_us, const char *label)
{
    char *clean = jg_audit_utf8_clean(label, strlen(label));
    size_t i;
    int e;

    if (clean == NULL)
        return JG_ERR_NOMEM;
    for (i = 0; clean[i] != '\0'; i++)
        if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
            clean[i] = ' ';
    e = event(r, now_us, 'm', clean, strlen(clean), 6 * strlen(clean) + 2);
    free(clean);
    return e;
}

int
jg_audit_rec_exit_status(struct jg_audit_rec *r, int64_t now_us, int status)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "exit-status %d", status);
    return jg_audit_rec_marker(r, now_us, buf);
}

int
jg_audit_rec_tick(struct jg_audit_rec *r, int64_t now_us)
{
    /* What the last burst encoded reaches the file now, not at the next
     * checkpoint: `audit watch` follows the file. */
    if (flush(r) != 0)
        return r->failed;
    if (r->size != r->cp_size &&
        now_us - r->cp_us >= JG_AUDIT_SEAL_INTERVAL_US)
        return checkpoint(r, now_us, false);
    /* A quiet recording gives its spare blocks back. */
    if (r->size == r->cp_size && r->wq != NULL &&
        now_us - r->cp_us >= JG_AUDIT_SEAL_INTERVAL_US)
        jg_audit_wq_trim(r->wq);
    return 0;
}

int
jg_audit_rec_close(struct jg_audit_rec *r, int64_t now_us)
{
    int e = 0, e2;

    if (r == NULL)
        return 0;
    e = stream(r, &r->out8, 'o', now_us, NULL, 0, true);
    if (e == 0 && r->record_input)
        e = stream(r, &r->in8, 'i', now_us, NULL, 0, true);
    if (e == 0)
        e = checkpoint(r, now_us, true);
    /* Everything queued is written and synced before the files close. */
    e2 = jg_audit_wq_finish(r->wq);
    r->wq = NULL;
    if (e == 0)
        e = e2;
    e2 = close(r->cast_fd);
    r->cast_fd = -1;
    if (e == 0 && e2 != 0)
        e = JG_ERR_IO;
    e2 = close(r->seal_fd);
    r->seal_fd = -1;
    if (e == 0 && e2 != 0)
        e = JG_ERR_IO;
    jg_audit_rec_free(r);
    return e;
}

/* The header line of DESIGN.md section 8. Caller frees. */
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
    json_object_set_new(jg, "login", jg_audit_jstr(in->login));
    json_object_set_new(jg, "from", jg_audit_jstr(in->from));
    json_object_set_new(jg, "rule", jg_audit_jstr(in->rule));
    json_object_set_new(jg, "action", jg_audit_jstr(in->action));
    if (in->command != NULL)
        json_object_set_new(jg, "command", jg_audit_jstr(in->command));
    json_object_set_new(jg, "record_input", json_boolean(in->record_input));
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
    r->cast_fd = r->seal_fd = -1;
    jg_strlcpy(r->id, info->session, sizeof(r->id));
    r->key = key;
    r->record_input = info->record_input;
    r->start_us = start_us;
    r->cp_us = start_us;
    r->sync_us = start_us - JG_AUDIT_SEAL_INTERVAL_US; /* sync at open */
    if ((r->sha = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1)
        goto out;
    jg_audit_day_format(start_us, day, sizeof(day));
    if ((e = jg_audit_dir_open(audit_dir, &top)) != 0 ||
        (e = jg_audit_subdir(top, "sessions", true, &sess)) != 0 ||
        (e = jg_audit_subdir(sess, day, true, &dayfd)) != 0)
        goto out;
    name = jg_xasprintf("%s.cast", r->id);
    r->path = jg_xasprintf("%s/sessions/%s/%s", audit_dir, day, name);
    if ((r->cast_fd = openat(dayfd, name, flags, JG_AUDIT_FILE_MODE)) < 0) {
        e = errno == EEXIST ? JG_ERR_EXISTS : JG_ERR_IO;
        goto out;
    }
    free(name);
    name = jg_xasprintf("%s.cast.seal", r->id);
    if ((r->seal_fd = openat(dayfd, name, flags, JG_AUDIT_FILE_MODE)) < 0) {
        e = errno == EEXIST ? JG_ERR_EXISTS : JG_ERR_IO;
        goto out;
    }
    if ((hdr = header_line(info, start_us, &hl)) == NULL) {
        e = JG_ERR_NOMEM;
        goto out;
    }
    e = put(r, hdr, hl);
    hdr = NULL;
    if (e != 0 || (e = checkpoint(r, start_us, false)) != 0)
        goto out;
    /* The folder entries themselves must survive a crash too. */
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
