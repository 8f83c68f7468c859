/* SPDX-License-Identifier: Apache-2.0 */
/* sync/ship.c - one pass of audit shipping:
 * finds the finished recordings, seals and event-log days below audit.dir,
 * uploads what has not landed yet to audit.s3, records each landing in
 * the ship state and the event log, and reports files that changed after
 * they landed.
 *
 * Finished means nothing will ever be written to the file again:
 *   - a recording (ID.jgr) when it ends with its final seal (the recorder
 *     writes it at close and syncs; a live or crashed recording has none
 *     and is never shipped half-written); an older asciicast recording
 *     when the last line of ID.cast.seal is a checkpoint with "final":
 *     true for that session whose offset is the size of ID.cast;
 *   - an event-log day when it is before today (UTC) and ends with a whole
 *     line that is a seal, or a later day file exists (the writer seals a
 *     day when it starts the next one), or no signing key is configured.
 * A changed file (size and SHA-256 differ from what landed) is tampering or
 * a bug: the first copy is left alone (with Object Lock it cannot be
 * replaced anyway), the new content goes to KEY.changed-<first 16 hex
 * digits of its SHA-256>, and the change is reported and logged.
 *
 * Each pass ends by sealing the log and shipping the seal lines of every
 * day that has new ones (ship_seals.c), today's included. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit/audit.h"
#include "sync/internal.h"

struct pass {
    struct jg_sync *s;
    const struct jg_config *cfg;
    struct jg_sync_ship_state *st;
    struct jg_audit_log *log;      /* NULL: events cannot be written */
    int dfd;                       /* audit.dir */
    char *prefix;                  /* "" or ending in "/" */
    int64_t now_us;
    jg_sync_ship_cb cb;
    void *arg;
    struct jg_sync_ship_totals *t;
    bool unreachable;              /* the store could not be reached */
    int fatal;                     /* an error that ends the pass */
};

static void
report(struct pass *p, const struct jg_sync_ship_item *it)
{
    if (p->cb != NULL)
        p->cb(it, p->arg);
}

static void
waiting(struct pass *p, const char *file, const char *why)
{
    struct jg_sync_ship_item it = {.what = JG_SYNC_SHIP_WAITING, .file = file,
                                   .reason = why};

    p->t->waiting++;
    report(p, &it);
}

static bool
is_day(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-dd";
    size_t i;

    if (n != 10)
        return false;
    for (i = 0; i < n; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-')
            return false;
    }
    return true;
}

static void
log_event(struct pass *p, const char *type, const char *session,
          const char *reason, json_t *extra)
{
    struct jg_audit_event ev = {.type = type, .session = session,
                                .reason = reason, .extra = extra};
    int r = p->log != NULL ? jg_audit_log_append(p->log, &ev, jg_audit_now_us())
                           : JG_ERR_IO;

    if (r != 0) {
        jg_warn("the audit event log did not take the %s event: %s", type,
                r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
        p->t->event_failures++;
    }
    json_decref(extra);
}

/* SHA-256 of the first size bytes of fd, hex. */
static int
hash_fd(int fd, uint64_t size, char out[65])
{
    static const char h[] = "0123456789abcdef";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char buf[65536], md[32];
    uint64_t off = 0;
    unsigned int n;
    ssize_t got;
    int i, r = JG_ERR_IO;

    if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
        goto out;
    while (off < size) {
        size_t want = size - off < sizeof(buf) ? (size_t)(size - off)
                                               : sizeof(buf);

        got = pread(fd, buf, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            goto out;
        EVP_DigestUpdate(c, buf, (size_t)got);
        off += (uint64_t)got;
    }
    EVP_DigestFinal_ex(c, md, &n);
    for (i = 0; i < 32; i++) {
        out[2 * i] = h[md[i] >> 4];
        out[2 * i + 1] = h[md[i] & 15];
    }
    out[64] = '\0';
    r = 0;
out:
    EVP_MD_CTX_free(c);
    return r;
}

static const char *
content_type(const char *file)
{
    size_t n = strlen(file);

    if (n > 5 && strcmp(file + n - 5, ".cast") == 0)
        return "application/x-asciicast";
    if (n > 4 && strcmp(file + n - 4, ".jgr") == 0)
        return "application/octet-stream";
    return "application/x-ndjson";
}

/* Uploads one finished file (rel below audit.dir). session: the recording
 * it belongs to, or NULL. Returns false when it did not land. */
static bool
ship_file(struct pass *p, const char *rel, const char *session)
{
    const struct jg_sync_ship_entry *was;
    struct jg_sync_ship_entry e = {0}, old = {0};
    struct jg_sync_s3_put put;
    struct stat sb;
    char *key = NULL, *base = NULL, now_sha[65] = "";
    bool changed = false, ok = false;
    int fd, r;

    if ((fd = openat(p->dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        struct jg_sync_ship_item it = {.what = JG_SYNC_SHIP_FAILED,
                                       .file = rel,
                                       .reason = fd < 0 ? strerror(errno)
                                                        : "not a regular file"};

        p->t->failed++;
        report(p, &it);
        goto out;
    }
    base = jg_xasprintf("%s%s", p->prefix, rel);
    was = jg_sync_ship_state_get(p->st, rel);
    if (was != NULL && was->size == (uint64_t)sb.st_size &&
        was->ino == (uint64_t)sb.st_ino &&
        was->mtime_ns == (int64_t)sb.st_mtim.tv_sec * 1000000000 +
                             sb.st_mtim.tv_nsec &&
        was->ctime_ns == (int64_t)sb.st_ctim.tv_sec * 1000000000 +
                             sb.st_ctim.tv_nsec) {
        p->t->unchanged++;
        ok = true;
        goto out;
    }
    e.file = (char *)rel;
    e.size = (uint64_t)sb.st_size;
    e.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    e.ctime_ns = (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
    e.ino = (uint64_t)sb.st_ino;
    if (was != NULL) {
        if (hash_fd(fd, e.size, now_sha) != 0) {
            struct jg_sync_ship_item it = {.what = JG_SYNC_SHIP_FAILED,
                                           .file = rel,
                                           .reason = strerror(errno)};

            p->t->failed++;
            report(p, &it);
            goto out;
        }
        if (was->size == e.size && strcmp(was->sha256, now_sha) == 0) {
            /* Same bytes (touched, copied back): remember the new stat. */
            e.key = was->key;
            memcpy(e.sha256, was->sha256, sizeof(e.sha256));
            memcpy(e.etag, was->etag, sizeof(e.etag));
            e.time_us = was->time_us;
            if ((r = jg_sync_ship_state_record(p->st, &e)) != 0)
                p->fatal = r;
            p->t->unchanged++;
            ok = r == 0;
            goto out;
        }
        changed = true;
        old = *was;
        old.file = jg_xstrdup(was->file);
        old.key = jg_xstrdup(was->key);
        key = jg_xasprintf("%s.changed-%.16s", base, now_sha);
    } else {
        key = jg_xstrdup(base);
    }
    r = jg_sync_s3_put_file(p->s, p->cfg->s3_bucket, key, fd, e.size,
                            content_type(rel), &put);
    if (r == JG_ERR_NOTFOUND) {
        p->fatal = r;
        goto out;
    }
    if (r == JG_ERR_IO)
        p->unreachable = true;
    if (r == 0) {
        e.key = key;
        memcpy(e.sha256, put.sha256, sizeof(e.sha256));
        memcpy(e.etag, put.etag, sizeof(e.etag));
        e.time_us = jg_audit_now_us();
        if ((r = jg_sync_ship_state_record(p->st, &e)) != 0) {
            jg_sync_seterr(p->s, "%s/ship/state: %s (recording %s)",
                           p->cfg->audit_dir, strerror(errno), rel);
            p->fatal = r;
            goto out;
        }
    }
    if (changed) {
        struct jg_sync_ship_item it = {
            .what = JG_SYNC_SHIP_CHANGED, .file = rel, .key = key,
            .size = e.size, .sha256 = now_sha, .parts = put.parts,
            .landed = r == 0, .reason = r != 0 ? jg_sync_error(p->s) : NULL,
            .was = &old};

        p->t->changed++;
        if (r != 0)
            p->t->failed++;
        report(p, &it);
        log_event(p, "audit.ship.changed", session,
                  "changed after it was shipped: tampering or a bug",
                  json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:b}",
                            "file", rel, "bucket", p->cfg->s3_bucket,
                            "key", old.key, "shipped_bytes",
                            (json_int_t)old.size, "shipped_sha256",
                            old.sha256, "bytes", (json_int_t)e.size,
                            "sha256", now_sha, "new_key", key,
                            "landed", r == 0));
    } else if (r == 0) {
        struct jg_sync_ship_item it = {
            .what = JG_SYNC_SHIP_SHIPPED, .file = rel, .key = key,
            .size = e.size, .sha256 = put.sha256, .parts = put.parts};

        p->t->shipped++;
        report(p, &it);
        log_event(p, "audit.ship", session, NULL,
                  json_pack("{s:s, s:s, s:s, s:I, s:s, s:i}", "file", rel,
                            "bucket", p->cfg->s3_bucket, "key", key,
                            "bytes", (json_int_t)e.size, "sha256",
                            put.sha256, "parts", (int)put.parts));
    } else {
        struct jg_sync_ship_item it = {.what = JG_SYNC_SHIP_FAILED,
                                       .file = rel, .key = key,
                                       .size = e.size,
                                       .reason = jg_sync_error(p->s)};

        p->t->failed++;
        report(p, &it);
    }
    ok = r == 0;
out:
    if (fd >= 0)
        close(fd);
    free(old.file);
    free(old.key);
    free(key);
    free(base);
    return ok;
}

/* Whether the .jgr recording rel is finished; why (when not) says so. */
static bool
jgr_finished(struct pass *p, const char *rel, char *why, size_t whylen)
{
    struct jg_audit_recr *rd = NULL;
    char *path = jg_xasprintf("%s/%s", p->cfg->audit_dir, rel), err[512];
    int64_t end;
    bool fin = false;

    if (jg_audit_recr_open(path, &rd, err, sizeof(err)) != 0)
        snprintf(why, whylen, "%s", err);
    else if (jg_audit_recr_tail(rd, &end, &fin) != 0)
        snprintf(why, whylen, "%s", jg_audit_recr_error(rd));
    else if (!fin)
        snprintf(why, whylen, "no final seal yet (live, or ended by a "
                 "crash)");
    jg_audit_recr_free(rd);
    free(path);
    return fin;
}

/* Whether recording id (files rel.cast and rel.cast.seal) is finished;
 * why (when not) says what is missing. */
static bool
recording_finished(struct pass *p, const char *cast, const char *seal,
                   const char *id, char *why, size_t whylen)
{
    struct jg_audit_checkpoint cp;
    struct stat sb;
    char *line = NULL, err[256];
    size_t len = 0;
    bool complete = false, ok = false;
    int cfd = -1, sfd = -1;

    if ((cfd = openat(p->dfd, cast, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        fstat(cfd, &sb) != 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        goto out;
    }
    if ((sfd = openat(p->dfd, seal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "no seal file (%s)", strerror(errno));
        goto out;
    }
    if (jg_audit_last_line(sfd, &line, &len, &complete) != 0 ||
        line == NULL || !complete) {
        snprintf(why, whylen, "the seal file does not end with a whole line");
        goto out;
    }
    if (jg_audit_checkpoint_parse(line, len, NULL, NULL, &cp, err,
                                  sizeof(err)) != 0) {
        snprintf(why, whylen, "the last seal line is not a checkpoint: %s",
                 err);
        goto out;
    }
    if (!cp.final) {
        snprintf(why, whylen, "no final checkpoint yet (live, or ended by a "
                 "crash)");
        goto out;
    }
    if (strcmp(cp.session, id) != 0 || cp.offset != (uint64_t)sb.st_size) {
        snprintf(why, whylen, "the final checkpoint does not cover the "
                 "recording (run jumpgate audit verify %s)", id);
        goto out;
    }
    ok = true;
out:
    free(line);
    if (cfd >= 0)
        close(cfd);
    if (sfd >= 0)
        close(sfd);
    return ok;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of entries of folder rel below audit.dir that pass keep. */
static int
list_dir(struct pass *p, const char *rel, bool (*keep)(const char *),
         GPtrArray **out)
{
    GPtrArray *v = g_ptr_array_new_with_free_func(free);
    struct dirent *de;
    DIR *d;
    int fd;

    *out = v;
    if ((fd = openat(p->dfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                      O_CLOEXEC)) < 0)
        return errno == ENOENT ? 0 : JG_ERR_IO;
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return JG_ERR_IO;
    }
    while ((de = readdir(d)) != NULL) {
        if (keep(de->d_name))
            g_ptr_array_add(v, jg_xstrdup(de->d_name));
    }
    closedir(d);
    if (v->len > 1)
        qsort(v->pdata, v->len, sizeof(char *), cmp_str);
    return 0;
}

static bool
keep_day(const char *n)
{
    return is_day(n, strlen(n));
}

/* A recording: ID.jgr, or an older ID.cast. */
static bool
keep_rec(const char *n)
{
    size_t l = strlen(n);
    char id[JG_AUDIT_ID_STRLEN];

    if (!(l == JG_AUDIT_ID_STRLEN - 1 + 5 && strcmp(n + l - 5, ".cast") == 0) &&
        !(l == JG_AUDIT_ID_STRLEN - 1 + 4 && strcmp(n + l - 4, ".jgr") == 0))
        return false;
    memcpy(id, n, JG_AUDIT_ID_STRLEN - 1);
    id[JG_AUDIT_ID_STRLEN - 1] = '\0';
    return jg_audit_id_valid(id);
}

static bool
keep_jsonl(const char *n)
{
    return strlen(n) == 16 && strcmp(n + 10, ".jsonl") == 0 && is_day(n, 10);
}

static int
ship_recordings(struct pass *p)
{
    GPtrArray *days = NULL, *casts = NULL;
    char why[512];
    guint i, j;
    int r;

    if ((r = list_dir(p, "sessions", keep_day, &days)) != 0) {
        jg_sync_seterr(p->s, "%s/sessions: %s", p->cfg->audit_dir,
                       strerror(errno));
        goto out;
    }
    for (i = 0; i < days->len && !p->unreachable && p->fatal == 0; i++) {
        char *dir = jg_xasprintf("sessions/%s", (char *)days->pdata[i]);

        if (casts != NULL)
            g_ptr_array_free(casts, TRUE);
        if ((r = list_dir(p, dir, keep_rec, &casts)) != 0) {
            jg_sync_seterr(p->s, "%s/%s: %s", p->cfg->audit_dir, dir,
                           strerror(errno));
            free(dir);
            goto out;
        }
        for (j = 0; j < casts->len && !p->unreachable && p->fatal == 0; j++) {
            const char *name = casts->pdata[j];
            char id[JG_AUDIT_ID_STRLEN];
            char *cast = jg_xasprintf("%s/%s", dir, name);
            char *seal = jg_xasprintf("%s.seal", cast);

            jg_strlcpy(id, name, sizeof(id));
            if (strcmp(name + strlen(name) - 4, ".jgr") == 0) {
                if (!jgr_finished(p, cast, why, sizeof(why)))
                    waiting(p, cast, why);
                else
                    ship_file(p, cast, id);
            } else if (!recording_finished(p, cast, seal, id, why,
                                           sizeof(why)))
                waiting(p, cast, why);
            else if (ship_file(p, cast, id))
                ship_file(p, seal, id);
            free(cast);
            free(seal);
        }
        free(dir);
    }
    r = 0;
out:
    if (casts != NULL)
        g_ptr_array_free(casts, TRUE);
    if (days != NULL)
        g_ptr_array_free(days, TRUE);
    return r;
}

/* Whether the last line of events/name is whole, and a seal. */
static int
day_tail(struct pass *p, const char *rel, bool *whole, bool *sealed)
{
    char *line = NULL;
    size_t len = 0;
    json_t *o;
    int fd, r;

    *whole = *sealed = false;
    if ((fd = openat(p->dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return JG_ERR_IO;
    r = jg_audit_last_line(fd, &line, &len, whole);
    close(fd);
    if (r != 0)
        return r;
    if (line == NULL) {
        *whole = false;
        return 0;
    }
    o = json_loadb(line, len, 0, NULL);
    *sealed = json_is_object(o) &&
              json_is_string(json_object_get(o, "type")) &&
              strcmp(json_string_value(json_object_get(o, "type")), "seal") ==
                  0;
    json_decref(o);
    free(line);
    return 0;
}

static int
ship_events(struct pass *p)
{
    GPtrArray *days = NULL;
    char today[JG_AUDIT_DAY_STRLEN];
    guint i;
    int r;

    jg_audit_day_format(p->now_us, today, sizeof(today));
    if ((r = list_dir(p, "events", keep_jsonl, &days)) != 0) {
        jg_sync_seterr(p->s, "%s/events: %s", p->cfg->audit_dir,
                       strerror(errno));
        goto out;
    }
    for (i = 0; i < days->len && !p->unreachable && p->fatal == 0; i++) {
        const char *name = days->pdata[i];
        char *rel = jg_xasprintf("events/%s", name);
        bool whole, sealed;

        if (strncmp(name, today, 10) >= 0) {
            waiting(p, rel, "today's log (shipped after the day ends)");
        } else if (day_tail(p, rel, &whole, &sealed) != 0) {
            struct jg_sync_ship_item it = {.what = JG_SYNC_SHIP_FAILED,
                                           .file = rel,
                                           .reason = strerror(errno)};

            p->t->failed++;
            report(p, &it);
        } else if (!whole) {
            waiting(p, rel, "the log does not end with a whole line");
        } else if (!sealed && i + 1 == days->len &&
                   p->cfg->audit_signing_key != NULL) {
            waiting(p, rel, "its day-end seal is not written yet (the log's "
                    "next event or seal writes it)");
        } else {
            ship_file(p, rel, NULL);
        }
        free(rel);
    }
    r = 0;
out:
    if (days != NULL)
        g_ptr_array_free(days, TRUE);
    return r;
}

int
jg_sync_ship_pass(struct jg_sync *s, const struct jg_config *cfg,
                  int64_t now_us, jg_sync_ship_cb cb, void *arg,
                  struct jg_sync_ship_totals *t)
{
    struct pass p = {.s = s, .cfg = cfg, .now_us = now_us, .cb = cb,
                     .arg = arg, .t = t, .dfd = -1};
    struct jg_audit_key *key = NULL;
    char err[512], **days = NULL;
    size_t n, n_days = 0;
    bool sealed = false;
    int r;

    memset(t, 0, sizeof(*t));
    jg_sync_seterr(s, "%s", "");
    if (cfg->s3_bucket == NULL) {
        jg_sync_seterr(s, "audit.s3 is not configured");
        return JG_ERR_INVALID;
    }
    if (cfg->audit_dir == NULL) {
        jg_sync_seterr(s, "audit.dir is not configured");
        return JG_ERR_INVALID;
    }
    if (jg_sync_s3_is_aws(s) && s->s3_part_size < JG_SYNC_S3_MIN_PART) {
        jg_sync_seterr(s, "audit.s3.part_size: S3 needs parts of at least 5 "
                       "MiB");
        return JG_ERR_INVALID;
    }
    if ((p.dfd = open(cfg->audit_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
        0) {
        jg_sync_seterr(s, "audit.dir %s: %s", cfg->audit_dir, strerror(errno));
        return JG_ERR_IO;
    }
    n = cfg->s3_prefix != NULL ? strlen(cfg->s3_prefix) : 0;
    p.prefix = jg_xasprintf("%s%s", n > 0 ? cfg->s3_prefix : "",
                            n > 0 && cfg->s3_prefix[n - 1] != '/' ? "/" : "");
    if ((r = jg_sync_ship_state_open(cfg->audit_dir, &p.st, err,
                                     sizeof(err))) != 0) {
        jg_sync_seterr(s, "%s", err);
        goto out;
    }
    /* Events are sealed when the key can be read; otherwise they are
     * chained and the daemon's next seal covers them. */
    if (cfg->audit_signing_key != NULL &&
        jg_audit_key_load_private(cfg->audit_signing_key, &key) != 0)
        key = NULL;
    if (jg_audit_log_open(cfg->audit_dir, key, 0, &p.log) != 0) {
        jg_warn("%s/events: cannot be opened: %s", cfg->audit_dir,
                strerror(errno));
        p.log = NULL;
    }
    if ((r = ship_recordings(&p)) != 0 || p.fatal != 0)
        goto out;
    if ((r = ship_events(&p)) != 0 || p.fatal != 0)
        goto out;
    /* Seal what this pass logged, then ship the seal lines up to there. */
    sealed = true;
    if (p.log != NULL && jg_audit_log_seal(p.log, jg_audit_now_us()) != 0)
        t->event_failures++;
    if (!p.unreachable) {
        if ((r = jg_audit_list_days(cfg->audit_dir, &days, &n_days)) != 0 &&
            r != JG_ERR_NOTFOUND) {
            jg_sync_seterr(s, "%s/events: %s", cfg->audit_dir, strerror(errno));
            goto out;
        }
        if ((r = jg_sync_ship_seals(s, cfg, p.dfd, days, n_days, cb, arg, t)) !=
            0)
            goto out;
    }
    r = 0;
out:
    if (r == 0 && p.fatal != 0)
        r = p.fatal;
    if (!sealed && p.log != NULL &&
        jg_audit_log_seal(p.log, jg_audit_now_us()) != 0)
        t->event_failures++;
    jg_strv_free(days);
    jg_audit_log_free(p.log);
    jg_audit_key_free(key);
    jg_sync_ship_state_free(p.st);
    free(p.prefix);
    close(p.dfd);
    return r;
}
