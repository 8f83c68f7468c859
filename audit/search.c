/* SPDX-License-Identifier: Apache-2.0 */
/* audit/search.c - a regular expression over an audit folder: the text a
 * person saw in each recording (output and stderr as lines, escape
 * sequences applied), the command of exec recordings, and the commands,
 * paths and statements of the event log's exec, sftp.* and db.query
 * events. The caller picks the
 * sessions searched and takes each hit; `jumpgate audit search` and the
 * console's search page are its two users. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

/* A session as the hits name it. */
struct who {
    char id[JG_AUDIT_ID_STRLEN];
    char *user, *target;
    int64_t start_us;
};

struct run {
    const struct jg_audit_search *q;
    struct who *v;              /* the recordings searched, for the events */
    size_t n;
    const struct who *cur;
    char **ids;                 /* every recording, sorted */
    size_t n_ids;
    bool stopped;
};

static int
cmp_id(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
hit(struct run *s, const struct who *w, double t, const char *what,
    const char *text)
{
    struct jg_audit_hit h = {
        .id = w->id, .user = w->user, .target = w->target,
        .start_us = w->start_us, .offset = t < 0 ? 0 : t, .what = what,
        .text = text,
    };

    if (!s->stopped && !s->q->hit(&h, s->q->arg))
        s->stopped = true;
}

static void
on_line(const char *line, size_t len, double t, void *arg)
{
    struct run *s = arg;

    (void)len;
    if (!s->stopped && regexec(s->q->re, line, 0, NULL, 0) == 0)
        hit(s, s->cur, t, "", line);
}

static bool
wanted(const struct run *s, const char *user, const char *target,
       int64_t start_us)
{
    return s->q->want == NULL ||
           s->q->want(user, target, start_us, s->q->arg);
}

/* Searches one recording's output (and its command), if it is wanted. */
static void
search_rec(struct run *s, const char *id, const char *path, size_t *bad)
{
    const struct jg_audit_cast_header *h;
    struct jg_audit_recr *rd = NULL;
    struct jg_audit_recr_ev ev;
    struct jg_audit_text *x = NULL;
    struct jg_audit_utf8 u8[2];
    struct who *w;
    char err[512], *text = NULL;
    size_t n;
    int r;

    if (jg_audit_recr_open(path, &rd, err, sizeof(err)) != 0) {
        (*bad)++;
        if (s->q->warn != NULL)
            s->q->warn(err, s->q->arg);
        return;
    }
    h = jg_audit_recr_header(rd);
    if (!wanted(s, h->user, h->target, jg_audit_recr_start_us(rd))) {
        jg_audit_recr_free(rd);
        return;
    }
    s->v = jg_xrealloc(s->v, s->n + 1, sizeof(*s->v));
    w = &s->v[s->n++];
    jg_strlcpy(w->id, id, sizeof(w->id));
    w->user = h->user ? jg_xstrdup(h->user) : NULL;
    w->target = h->target ? jg_xstrdup(h->target) : NULL;
    w->start_us = jg_audit_recr_start_us(rd);
    s->cur = w;
    if (h->command != NULL && regexec(s->q->re, h->command, 0, NULL, 0) == 0)
        hit(s, w, 0, "exec", h->command);
    memset(u8, 0, sizeof(u8));
    x = jg_audit_text_new(on_line, s);
    /* What the person saw: output and stderr, as text. */
    while (!s->stopped && (r = jg_audit_recr_next(rd, &ev)) == 1) {
        if (ev.kind != 'o' && ev.kind != 'e')
            continue;
        text = jg_xrealloc(text, JG_AUDIT_UTF8_OUT(ev.len + 4), 1);
        n = jg_audit_utf8_feed_into(&u8[ev.kind == 'e'], ev.data, ev.len,
                                    false, text);
        jg_audit_text_feed(x, text, n, (double)ev.time_us / 1e6);
    }
    if (!s->stopped && r < 0) {
        (*bad)++;
        if (s->q->warn != NULL)
            s->q->warn(jg_audit_recr_error(rd), s->q->arg);
    }
    jg_audit_text_flush(x);
    jg_audit_text_free(x);
    jg_audit_recr_free(rd);
    free(text);
}

static const char *
jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* exec commands, sftp paths and database statements of the event log. A
 * session with a
 * recording is named as its recording says (and was picked or not with
 * it); any other by the event itself, and picked by it. */
static bool
on_event(json_t *ev, const char *file, size_t line, void *arg)
{
    static const char *const fields[] = {"command", "path", "to", "statement",
                                         NULL};
    struct run *s = arg;
    const char *type = jstr(ev, "type"), *sid = jstr(ev, "session"), *v;
    struct who tmp = {{0}, NULL, NULL, 0};
    const struct who *w = NULL;
    int64_t t = 0;
    size_t i;
    char what[64];

    (void)file;
    (void)line;
    if (strcmp(type, "exec") != 0 && strncmp(type, "sftp.", 5) != 0 &&
        strcmp(type, "db.query") != 0)
        return true;
    for (i = 0; sid != NULL && i < s->n && w == NULL; i++)
        if (strcmp(s->v[i].id, sid) == 0)
            w = &s->v[i];
    if (w == NULL) {
        /* A recording not picked (or unreadable): not this search's. */
        if (sid != NULL && s->n_ids > 0 &&
            bsearch(&sid, s->ids, s->n_ids, sizeof(*s->ids), cmp_id) != NULL)
            return true;
        jg_audit_time_parse(jstr(ev, "time"), &t);
        jg_strlcpy(tmp.id, sid ? sid : "-", sizeof(tmp.id));
        tmp.user = (char *)jstr(ev, "user");
        tmp.target = (char *)jstr(ev, "target");
        /* The session's start is in its id; without one, the event's. */
        tmp.start_us = sid && jg_audit_id_valid(sid)
                           ? jg_audit_uuid7_ms(sid) * 1000
                           : t;
        if (!wanted(s, tmp.user, tmp.target, tmp.start_us))
            return true;
        w = &tmp;
    }
    jg_audit_time_parse(jstr(ev, "time"), &t);
    for (i = 0; fields[i] != NULL && !s->stopped; i++) {
        if ((v = jstr(ev, fields[i])) == NULL ||
            regexec(s->q->re, v, 0, NULL, 0) != 0)
            continue;
        snprintf(what, sizeof(what), "%s %s", type, fields[i]);
        hit(s, w, (double)(t - w->start_us) / 1e6, what, v);
    }
    return !s->stopped;
}

int
jg_audit_search(const char *audit_dir, const struct jg_audit_search *q,
                struct jg_audit_search_stats *st)
{
    struct run s = {.q = q};
    char **ids = NULL, *path = NULL;
    size_t n = 0, i;
    int r;

    memset(st, 0, sizeof(*st));
    if ((r = jg_audit_list_ids(audit_dir, &ids, &n)) != 0)
        return r;
    s.ids = ids;
    s.n_ids = n;
    for (i = 0; i < n && !s.stopped; i++) {
        if (jg_audit_find_rec(audit_dir, ids[i], &path) != 0)
            continue;
        search_rec(&s, ids[i], path, &st->bad_recs);
        free(path);
        path = NULL;
    }
    if (!s.stopped &&
        jg_audit_events_each(audit_dir, on_event, &s, &st->bad_events) != 0)
        st->events_unreadable = true;
    st->stopped = s.stopped;
    for (i = 0; i < s.n; i++) {
        free(s.v[i].user);
        free(s.v[i].target);
    }
    free(s.v);
    jg_strv_free(ids);
    return 0;
}
