/* SPDX-License-Identifier: Apache-2.0 */
/* console/page_session.c - GET /sessions/ID: one session the auditor may
 * see (another's is "not found", as an id that does not exist): what it
 * was, its verify badge, the asciinema player with its recording, and a
 * timeline of its events (the event log's lines for the session, and the
 * window changes, markers and exit status of the recording) whose entries
 * move the player to their moment. Viewing is a console.view event; when
 * that cannot be written, nothing is shown. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

#define TIMELINE_MAX 2000

struct tl_item {
    double t;           /* s since the start */
    char *what;         /* the kind, e.g. "sftp.write" */
    char *text;         /* details */
};

struct timeline {
    const char *id;
    int64_t start_us;
    struct tl_item *v;
    size_t n;
    bool cut;
};

static void
add(struct timeline *tl, int64_t us, const char *what, char *text)
{
    if (tl->n >= TIMELINE_MAX) {
        tl->cut = true;
        free(text);
        return;
    }
    tl->v = jg_xrealloc(tl->v, tl->n + 1, sizeof(*tl->v));
    tl->v[tl->n].t = (double)(us - tl->start_us) / 1e6;
    tl->v[tl->n].what = jg_xstrdup(what);
    tl->v[tl->n].text = text;
    tl->n++;
}

/* The event log's lines of this session, but the console's own (who
 * viewed it). */
static bool
on_event(json_t *ev, const char *file, size_t line, void *arg)
{
    struct timeline *tl = arg;
    const char *sid = json_string_value(json_object_get(ev, "session"));
    const char *type = json_string_value(json_object_get(ev, "type"));
    int64_t t;

    (void)file;
    (void)line;
    if (sid == NULL || type == NULL || strcmp(sid, tl->id) != 0 ||
        strncmp(type, "console.", 8) == 0 ||
        jg_audit_time_parse(json_string_value(json_object_get(ev, "time")),
                            &t) != 0)
        return true;
    add(tl, t, type, jgc_event_details(ev));
    return true;
}

/* Window changes, markers and the exit status from the recording. */
static void
from_recording(struct timeline *tl, const char *path)
{
    struct jg_audit_recr *r = NULL;
    struct jg_audit_recr_ev e;
    char err[256];

    if (jg_audit_recr_open(path, &r, err, sizeof(err)) != 0)
        return;
    while (jg_audit_recr_next(r, &e) == 1) {
        const char *what = e.kind == 'r' ? "window" : e.kind == 'm' ? "marker"
                           : e.kind == 'x' ? "exit status" : NULL;
        if (what != NULL)
            add(tl, tl->start_us + e.time_us, what,
                jg_xasprintf("%.*s", (int)e.len, (const char *)e.data));
    }
    jg_audit_recr_free(r);
}

static int
by_time(const void *a, const void *b)
{
    double x = ((const struct tl_item *)a)->t, y = ((const struct tl_item *)b)->t;

    return x < y ? -1 : x > y;
}

static void
meta(struct jgc_buf *b, const char *name, const char *value)
{
    jgc_putf(b, "<tr><th>%s</th><td>", name);
    jgc_esc(b, value);
    jgc_put(b, "</td></tr>");
}

static void
render(struct jgc_buf *b, struct jgc_req *q, const struct jg_audit_session *s,
       struct timeline *tl, double start_at)
{
    char t[JG_AUDIT_TIME_STRLEN], detail[256];
    const char *badge = "";
    size_t i;

    jg_audit_time_format(s->start_us, t, sizeof(t));
    jgc_page_begin(b, q, "Session");
    jgc_put(b, "<h1>Session <code>");
    jgc_put(b, s->id);
    jgc_put(b, "</code></h1><table class=\"meta\" id=\"meta\">");
    meta(b, "Start", t);
    meta(b, "User", s->user);
    meta(b, "From", s->from);
    meta(b, "Target", s->target);
    meta(b, "Login", s->login);
    meta(b, "Action", s->action);
    meta(b, "Rule", s->rule);
    if (s->command != NULL)
        meta(b, "Command", s->command);
    if (s->path != NULL) {
        badge = jgc_verify(q->x, s->path, s->id, detail, sizeof(detail));
        jgc_putf(b, "<tr><th>Seal</th><td><span class=\"badge %s\" id=\"badge\">"
                 "%s</span> ", badge[0] ? badge : "unchecked",
                 badge[0] ? badge : "not checked");
        jgc_esc(b, detail);
        jgc_put(b, "</td></tr>");
    }
    jgc_putf(b, "<tr><th>Evidence</th><td><a id=\"evidence\" "
             "href=\"/sessions/%s/evidence\">jumpgate-evidence-%s.tar.gz</a> "
             "(the recording, the session's event-log lines and the public "
             "key: <code>jumpgate audit verify --dir</code> proves it "
             "offline)</td></tr>", s->id, s->id);
    jgc_put(b, "</table><div class=\"view\">");
    if (s->path != NULL) {
        jgc_put(b, "<div id=\"player\" class=\"player\" data-cast=\"/sessions/");
        jgc_put(b, s->id);
        jgc_put(b, "/cast\"");
        if (start_at >= 0)      /* a search hit's moment */
            jgc_putf(b, " data-start=\"%.3f\"", start_at);
        jgc_put(b, "></div>");
    } else if (s->rec_missing) {
        jgc_put(b, "<p class=\"error\" id=\"missing\">The recording of this "
                   "session is missing: the event log says one was made, and "
                   "it is not in the audit folder (jumpgate audit verify "
                   "reports it).</p>");
    } else {
        jgc_put(b, "<p class=\"none\">No recording was made of this session "
                   "(SFTP, or recording not configured).</p>");
    }
    jgc_put(b, "<ol class=\"timeline\" id=\"timeline\">");
    for (i = 0; i < tl->n; i++) {
        const struct tl_item *it = &tl->v[i];
        double at = it->t < 0 ? 0 : it->t;
        jgc_putf(b, "<li><a href=\"#\" class=\"jump\" data-t=\"%.3f\">"
                 "+%02d:%06.3f</a> <span class=\"what\">", at,
                 (int)(at / 60), at - 60 * (int)(at / 60));
        jgc_esc(b, it->what);
        jgc_put(b, "</span> <span class=\"text\">");
        jgc_esc(b, it->text);
        jgc_put(b, "</span></li>");
    }
    if (tl->cut)
        jgc_putf(b, "<li>(only the first %d entries)</li>", TIMELINE_MAX);
    jgc_put(b, "</ol></div><script src=\"/static/asciinema-player.min.js\">"
               "</script><script src=\"/static/console.js\"></script>");
    jgc_page_end(b);
}

/* ?t=SECONDS: where the player starts (a search hit); -1 when absent or
 * not a time. */
static double
start_at(const struct jgc_req *q)
{
    const char *v = jgc_arg(q, "t");
    char *end = NULL;
    double t;

    if (v == NULL)
        return -1;
    t = strtod(v, &end);
    return *end == '\0' && t >= 0 && t < 1e9 ? t : -1;
}

enum MHD_Result
jgc_session(struct jgc_req *q, const char *id)
{
    struct jg_audit_sessions all;
    const struct jg_audit_session *s = NULL;
    struct timeline tl = {.id = id};
    struct jgc_buf b = {0};
    size_t i;
    int r;

    if ((s = jgc_find(q, id, &all, &r)) == NULL) {
        jg_audit_sessions_free(&all);
        return jgc_not_found(q, r, "session");
    }
    if (jgc_event(q, "console.view", id, "ok", NULL) != 0) {
        jg_audit_sessions_free(&all);
        return jgc_unrecorded(q);
    }
    tl.start_us = s->start_us;
    jg_audit_events_each(q->x->cfg->audit_dir, on_event, &tl, NULL);
    if (s->path != NULL)
        from_recording(&tl, s->path);
    if (tl.n > 1)
        qsort(tl.v, tl.n, sizeof(*tl.v), by_time);
    render(&b, q, s, &tl, start_at(q));
    for (i = 0; i < tl.n; i++) {
        free(tl.v[i].what);
        free(tl.v[i].text);
    }
    free(tl.v);
    jg_audit_sessions_free(&all);
    return jgc_answer(q, MHD_HTTP_OK, &b, NULL);
}
