/* SPDX-License-Identifier: Apache-2.0 */
/* audit/evidence.c - the evidence archive of one session, to hand on: a
 * gzip'd tar (libarchive) laid out as an audit folder, so that
 * `jumpgate audit verify --dir` proves it with the public key inside:
 *
 *   jumpgate-evidence-ID/EVIDENCE               what it is (JSON, below)
 *   jumpgate-evidence-ID/NOTE.txt               how to verify it offline
 *   jumpgate-evidence-ID/audit-signing.pub      the public key
 *   jumpgate-evidence-ID/sessions/DAY/ID.jgr    the recording (an older
 *                                               ID.cast with ID.cast.seal)
 *   jumpgate-evidence-ID/session-events.jsonl   the session's event lines
 *   jumpgate-evidence-ID/events/DAY.jsonl       with the whole log: the
 *                                               chain from the session's
 *                                               first line to the seal
 *                                               after its last
 *
 * The log is a chain: a line is proven only with every line between it
 * and a seal. The chain's slice holds other users' events, so it goes in
 * only for who may see the whole log; otherwise the session's lines are
 * copies the archive says it does not prove. The session's lines are those
 * that name it, but the console's (who viewed it is not the session). EVIDENCE: {"format":
 * "jumpgate-evidence-v1", "session", "made", "by", "recording" (path in
 * the archive or null), "events": {"seq", "prev"} of the slice's first
 * line or null, "excerpt_proven"}. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/internal.h"

#define DAY_MAX ((size_t)1 << 30)

/* One day file and what of it goes in. */
struct day {
    char *name;                 /* "YYYY-MM-DD.jsonl" */
    char *data;
    size_t len;                 /* up to its last complete line */
    size_t from, to;            /* the slice [from, to) that goes in */
};

struct text {
    char *p;
    size_t n, cap;
};

struct ev {
    struct day *days;
    size_t n;
    struct text excerpt;        /* the session's lines */
    size_t lines;
    bool found;                 /* a line of the session */
    bool sealed;                /* a seal follows its last line */
    size_t start_day, start_off, end_day, end_off;
    uint64_t first_seq;
    char first_prev[65];
};

static void
text_add(struct text *t, const char *p, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = jg_xrealloc(t->p, t->cap, 1);
    }
    memcpy(t->p + t->n, p, n);
    t->n += n;
}

/* One line of day k at [p, nl]. */
static void
line(struct ev *e, size_t k, const char *id, const char *p, const char *nl)
{
    struct day *d = &e->days[k];
    size_t off = (size_t)(p - d->data), end = (size_t)(nl + 1 - d->data);
    const char *type;
    char perr[128];
    json_t *o = NULL;

    /* A year of log is read for one session: only a line that holds its
     * id, or one that may be the seal after it, is worth parsing. */
    if ((!e->found || e->sealed) &&
        memmem(p, (size_t)(nl - p), id, strlen(id)) == NULL)
        return;
    if (jg_audit_event_parse(p, (size_t)(nl - p), &o, perr, sizeof(perr)) != 0)
        return;                 /* verify reports it, in the slice or not */
    type = json_string_value(json_object_get(o, "type"));
    if (jg_audit_evidence_line(o, id)) {
        text_add(&e->excerpt, p, end - off);
        e->lines++;
        if (!e->found) {
            e->found = true;
            e->first_seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
            jg_strlcpy(e->first_prev,
                       json_string_value(json_object_get(o, "prev")),
                       sizeof(e->first_prev));
            e->start_day = k;
            e->start_off = off;
        }
        e->sealed = false;
        e->end_day = k;
        e->end_off = end;
    } else if (e->found && !e->sealed) {
        /* Up to the first seal after the session's last line. */
        e->end_day = k;
        e->end_off = end;
        e->sealed = strcmp(type, "seal") == 0;
    }
    json_decref(o);
}

/* Reads the event log: the session's lines and the slice of the chain
 * from the first of them to the first seal after the last (or to the end
 * of the log when none follows yet: verify calls that tail unsealed). */
static int
scan(const char *audit_dir, const char *id, bool whole, struct ev *e,
     char *err, size_t errn)
{
    char **names = NULL;
    size_t n = 0, i;
    int top = -1, efd = -1, r;

    if ((r = jg_audit_list_days(audit_dir, &names, &n)) != 0 || n == 0)
        goto out;
    if ((r = jg_audit_dir_open(audit_dir, &top)) != 0 ||
        (r = jg_audit_subdir(top, "events", false, &efd)) != 0)
        goto out;
    e->days = jg_xcalloc(n, sizeof(*e->days));
    for (i = 0; i < n; i++) {
        struct day *d = &e->days[e->n++];
        const char *p, *end, *nl;

        d->name = jg_xstrdup(names[i]);
        if ((r = jg_audit_read_at(efd, names[i], DAY_MAX, &d->data,
                                  &d->len)) != 0) {
            snprintf(err, errn, "events/%s: %s", names[i],
                     r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
            goto out;
        }
        for (p = d->data, end = d->data + d->len; p < end; p = nl + 1) {
            if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
                break;  /* a line being written: not part of the record */
            line(e, i, id, p, nl);
        }
        d->len = (size_t)(p - d->data);
        /* Only the slice's days are kept: not those before the session's
         * first line, nor any without the whole log. */
        if (!whole || !e->found) {
            free(d->data);
            d->data = NULL;
            d->len = 0;
        }
    }
    for (i = 0; e->found && i < e->n; i++) {
        struct day *d = &e->days[i];
        if (i < e->start_day || i > e->end_day)
            continue;
        d->from = i == e->start_day ? e->start_off : 0;
        d->to = i == e->end_day ? e->end_off : d->len;
    }
out:
    if (r != 0 && err[0] == '\0')
        snprintf(err, errn, "%s/events: %s", audit_dir,
                 r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
    jg_strv_free(names);
    if (efd >= 0)
        close(efd);
    if (top >= 0)
        close(top);
    return r;
}

static void
ev_free(struct ev *e)
{
    size_t i;

    for (i = 0; i < e->n; i++) {
        free(e->days[i].name);
        free(e->days[i].data);
    }
    free(e->days);
    free(e->excerpt.p);
}

/* ---- the archive ------------------------------------------------------ */

struct out {
    struct archive *a;
    const char *top;            /* "jumpgate-evidence-ID" */
    time_t mtime;
    char *err;
    size_t errn;
};

static int
put(struct out *o, const char *name, const void *data, size_t len)
{
    struct archive_entry *en = archive_entry_new();
    char *path = jg_xasprintf("%s/%s", o->top, name);
    int r = 0;

    archive_entry_set_pathname(en, path);
    archive_entry_set_size(en, (la_int64_t)len);
    archive_entry_set_filetype(en, AE_IFREG);
    archive_entry_set_perm(en, 0644);
    archive_entry_set_mtime(en, o->mtime, 0);
    if (archive_write_header(o->a, en) != ARCHIVE_OK ||
        (len > 0 && archive_write_data(o->a, data, len) != (la_ssize_t)len)) {
        snprintf(o->err, o->errn, "cannot write %s to the archive: %s", path,
                 archive_error_string(o->a));
        r = JG_ERR_IO;
    }
    archive_entry_free(en);
    free(path);
    return r;
}

/* A file as it is at the moment it is opened (a live recording keeps
 * growing: what it held then goes in), streamed. */
static int
put_file(struct out *o, const char *name, const char *path)
{
    struct archive_entry *en = NULL;
    char *apath = NULL, buf[65536];
    struct stat st;
    off_t left;
    ssize_t got;
    int fd, r = JG_ERR_IO;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
        snprintf(o->err, o->errn, "%s: %s", path, strerror(errno));
        r = errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
        goto out;
    }
    apath = jg_xasprintf("%s/%s", o->top, name);
    en = archive_entry_new();
    archive_entry_set_pathname(en, apath);
    archive_entry_set_size(en, (la_int64_t)st.st_size);
    archive_entry_set_filetype(en, AE_IFREG);
    archive_entry_set_perm(en, 0644);
    archive_entry_set_mtime(en, st.st_mtime, 0);
    if (archive_write_header(o->a, en) != ARCHIVE_OK)
        goto archive_error;
    for (left = st.st_size; left > 0; left -= got) {
        size_t want = left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf);
        got = read(fd, buf, want);
        if (got < 0 && errno == EINTR) {
            got = 0;
            continue;
        }
        if (got <= 0) {
            snprintf(o->err, o->errn, "%s: %s", path,
                     got < 0 ? strerror(errno) : "shorter than it was");
            goto out;
        }
        if (archive_write_data(o->a, buf, (size_t)got) != got)
            goto archive_error;
    }
    r = 0;
    goto out;
archive_error:
    snprintf(o->err, o->errn, "cannot write %s to the archive: %s", apath,
             archive_error_string(o->a));
out:
    if (fd >= 0)
        close(fd);
    archive_entry_free(en);
    free(apath);
    return r;
}

static char *
note(const char *id, const char *top, const char *by, const char *made,
     const char *rec, const struct ev *e, bool whole)
{
    return jg_xasprintf(
        "Evidence of jumpgate session %s\n"
        "made %s by %s\n\n"
        "What is here\n"
        "  %s%s\n"
        "  session-events.jsonl  the %zu event-log line(s) of the session\n"
        "%s"
        "  audit-signing.pub     the Ed25519 public key of the jump host's\n"
        "                        audit log (compare its fingerprint with the\n"
        "                        one the operator publishes)\n"
        "  EVIDENCE              what this archive holds, as JSON\n\n"
        "How to verify it, offline\n"
        "  tar xzf %s.tar.gz\n"
        "  jumpgate audit verify --dir %s --key %s/audit-signing.pub\n\n"
        "%s"
        "The recording format is described in jumpgate-recording(5), the\n"
        "event log and its seals in jumpgate-audit(1): both can be checked\n"
        "without jumpgate (SHA-256, Ed25519, zstd).\n",
        id, made, by, rec != NULL ? rec : "(no recording: an SFTP session, or "
                                           "recording was off)",
        rec != NULL ? "  the recording, sealed from within" : "", e->lines,
        whole && e->found
            ? "  events/               the event log's chain from the session's\n"
              "                        first line to the seal after its last\n"
            : "",
        top, top, top,
        whole && e->found
            ? "verify proves the recording, the chain of events/ up to its\n"
              "seals, and that every line of session-events.jsonl is in it.\n\n"
            : "verify proves the recording. The lines of session-events.jsonl\n"
              "are copies this archive does not prove: the chain that proves\n"
              "them holds other sessions' events, which its maker may not\n"
              "see. Prove them by their seq against the jump host's event log.\n\n");
}

int
jg_audit_evidence_write(const struct jg_audit_evidence *x, int fd, char *err,
                        size_t errn)
{
    struct ev e = {0};
    struct out o = {.err = err, .errn = errn, .mtime = time(NULL)};
    char made[JG_AUDIT_TIME_STRLEN], *top = NULL, *rec = NULL, *recname = NULL;
    char *man = NULL, *txt = NULL, *seal = NULL, *dayname = NULL;
    json_t *j = NULL;
    size_t i;
    int r;

    err[0] = '\0';
    if (!jg_audit_id_valid(x->id)) {
        snprintf(err, errn, "'%s' is not a session id", x->id);
        return JG_ERR_INVALID;
    }
    r = jg_audit_find_rec(x->audit_dir, x->id, &rec);
    if (r != 0 && r != JG_ERR_NOTFOUND) {
        snprintf(err, errn, "%s: cannot look for the recording of %s: %s",
                 x->audit_dir, x->id, jg_strerror(r));
        goto out;
    }
    if ((r = scan(x->audit_dir, x->id, x->whole_log, &e, err, errn)) != 0 &&
        r != JG_ERR_NOTFOUND)
        goto out;
    if (rec == NULL && !e.found) {
        snprintf(err, errn, "no session %s in %s", x->id, x->audit_dir);
        r = JG_ERR_NOTFOUND;
        goto out;
    }
    top = jg_xasprintf("jumpgate-evidence-%s", x->id);
    o.top = top;
    if (rec != NULL) {
        /* sessions/DAY/ID.ext: the last two folders of the path */
        const char *base = strrchr(rec, '/'), *p = base;
        while (p > rec && p[-1] != '/')
            p--;
        recname = jg_xasprintf("sessions/%.*s%s", (int)(base - p), p, base);
    }
    jg_audit_time_format(jg_audit_now_us(), made, sizeof(made));
    j = json_pack("{s:s,s:s,s:s,s:s?,s:o,s:b}", "format",
                  "jumpgate-evidence-v1", "session", x->id, "made", made,
                  "by", x->by, "recording",
                  recname ? json_string(recname) : json_null(),
                  "excerpt_proven", x->whole_log && e.found);
    json_object_set_new(j, "events",
                        x->whole_log && e.found
                            ? json_pack("{s:I,s:s}", "seq",
                                        (json_int_t)e.first_seq, "prev",
                                        e.first_prev)
                            : json_null());
    man = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    txt = note(x->id, top, x->by ? x->by : "-", made, recname, &e,
               x->whole_log);
    if ((o.a = archive_write_new()) == NULL ||
        archive_write_set_format_pax_restricted(o.a) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(o.a) != ARCHIVE_OK ||
        archive_write_open_fd(o.a, fd) != ARCHIVE_OK) {
        snprintf(err, errn, "cannot start the archive: %s",
                 o.a ? archive_error_string(o.a) : "out of memory");
        r = JG_ERR_IO;
        goto out;
    }
    if ((r = put(&o, "EVIDENCE", man, strlen(man))) != 0 ||
        (r = put(&o, "NOTE.txt", txt, strlen(txt))) != 0 ||
        (r = put_file(&o, "audit-signing.pub", x->pub_path)) != 0)
        goto out;
    if (rec != NULL) {
        if ((r = put_file(&o, recname, rec)) != 0)
            goto out;
        if (strlen(rec) > 5 && strcmp(rec + strlen(rec) - 5, ".cast") == 0) {
            char *sname = jg_xasprintf("%s.seal", recname);
            seal = jg_xasprintf("%s.seal", rec);
            r = put_file(&o, sname, seal);
            free(sname);
            if (r != 0)
                goto out;
        }
    }
    if ((r = put(&o, "session-events.jsonl", e.excerpt.p ? e.excerpt.p : "",
                 e.excerpt.n)) != 0)
        goto out;
    for (i = 0; x->whole_log && i < e.n; i++) {
        struct day *d = &e.days[i];
        if (d->to <= d->from)
            continue;
        free(dayname);
        dayname = jg_xasprintf("events/%s", d->name);
        if ((r = put(&o, dayname, d->data + d->from, d->to - d->from)) != 0)
            goto out;
    }
    if (archive_write_close(o.a) != ARCHIVE_OK) {
        snprintf(err, errn, "cannot finish the archive: %s",
                 archive_error_string(o.a));
        r = JG_ERR_IO;
        goto out;
    }
    r = 0;
out:
    if (o.a != NULL)
        archive_write_free(o.a);
    json_decref(j);
    free(man);
    free(txt);
    free(top);
    free(rec);
    free(recname);
    free(seal);
    free(dayname);
    ev_free(&e);
    return r;
}
