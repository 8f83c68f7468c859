/* SPDX-License-Identifier: Apache-2.0 */
/* console/page_events.c - GET /events: the event log, newest first, 100
 * lines a page, filtered by type, user, target (shell globs), session and
 * day range. An auditor sees the events of the users and targets of their
 * scope: an event without a user only when they see every user, one
 * without a target only when they see every target; seal lines only when
 * asked. Looking is a console.view event, as viewing a session is. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

#define EVENTS_PAGE 100

struct row {
    char *time, *type, *session, *user, *from, *target, *reason, *details;
};

struct scan {
    struct jgc_scope scope;
    const char *type, *user, *target, *session;
    bool seals;
    int64_t since, until;
    size_t n;                       /* matches so far */
    size_t first, last;             /* the page: matches [first, last) */
    struct row v[EVENTS_PAGE];
    size_t nv;
};

static const char *
jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static char *
dup_or_null(const char *s)
{
    return s != NULL ? jg_xstrdup(s) : NULL;
}

static bool
shown(struct scan *s, json_t *ev)
{
    const char *type = jstr(ev, "type"), *user = jstr(ev, "user");
    const char *target = jstr(ev, "target"), *sid = jstr(ev, "session");
    int64_t t;

    if (jg_audit_time_parse(jstr(ev, "time"), &t) != 0 || t < s->since ||
        t >= s->until)
        return false;
    if (!s->seals && strcmp(type, "seal") == 0 && s->type == NULL)
        return false;
    return jgc_match(s->type, type) && jgc_match(s->user, user) &&
           jgc_match(s->target, target) &&
           (s->session == NULL || (sid != NULL && strcmp(s->session, sid) == 0)) &&
           jgc_scope_sees(&s->scope, user, target);
}

/* Pass one counts the matches; pass two keeps the page's. */
static bool
on_count(json_t *ev, const char *file, size_t line, void *arg)
{
    struct scan *s = arg;

    (void)file;
    (void)line;
    s->n += shown(s, ev);
    return true;
}

static bool
on_keep(json_t *ev, const char *file, size_t line, void *arg)
{
    struct scan *s = arg;
    struct row *r;

    (void)file;
    (void)line;
    if (!shown(s, ev))
        return true;
    if (s->n >= s->first && s->n < s->last) {
        r = &s->v[s->nv++];
        r->time = dup_or_null(jstr(ev, "time"));
        r->type = dup_or_null(jstr(ev, "type"));
        r->session = dup_or_null(jstr(ev, "session"));
        r->user = dup_or_null(jstr(ev, "user"));
        r->from = dup_or_null(jstr(ev, "from"));
        r->target = dup_or_null(jstr(ev, "target"));
        r->reason = dup_or_null(jstr(ev, "reason"));
        r->details = jgc_event_details(ev);
    }
    s->n++;
    return s->n < s->last;
}

static void
form(struct jgc_buf *b, const struct jgc_req *q)
{
    jgc_put(b, "<form method=\"get\" action=\"/events\" class=\"filters\">");
    jgc_input(b, q, "type", "Type", "text");
    jgc_input(b, q, "user", "User", "text");
    jgc_input(b, q, "target", "Target", "text");
    jgc_input(b, q, "session", "Session", "text");
    jgc_input(b, q, "since", "From", "date");
    jgc_input(b, q, "until", "To", "date");
    jgc_putf(b, "<label><input type=\"checkbox\" name=\"seals\" id=\"f-seals\" "
             "value=\"1\"%s> seals</label>",
             jgc_arg(q, "seals") ? " checked" : "");
    jgc_put(b, "<button type=\"submit\" id=\"filter\">Filter</button></form>");
}

static void
page_link(struct jgc_buf *b, const struct jgc_req *q, size_t page,
          const char *text)
{
    static const char *const keys[] = {"type", "user", "target", "session",
                                       "since", "until", "seals", NULL};

    jgc_page_link(b, q, "/events", keys, page, text);
}

static void
render_row(struct jgc_buf *b, const struct row *r)
{
    jgc_put(b, "<tr class=\"event\">");
    jgc_cell(b, "time", r->time);
    jgc_cell(b, "type", r->type);
    jgc_put(b, "<td class=\"session\">");
    if (r->session != NULL && jg_audit_id_valid(r->session))
        jgc_putf(b, "<a href=\"/sessions/%s\">%.8s\u2026</a>", r->session,
                 r->session);
    else
        jgc_esc(b, r->session);
    jgc_put(b, "</td>");
    jgc_cell(b, "user", r->user);
    jgc_cell(b, "from", r->from);
    jgc_cell(b, "target", r->target);
    jgc_cell(b, "reason", r->reason);
    jgc_cell(b, "details", r->details);
    jgc_put(b, "</tr>");
}

static void
free_rows(struct scan *s)
{
    size_t i;

    jgc_scope_free(&s->scope);
    for (i = 0; i < s->nv; i++) {
        struct row *r = &s->v[i];
        free(r->time);
        free(r->type);
        free(r->session);
        free(r->user);
        free(r->from);
        free(r->target);
        free(r->reason);
        free(r->details);
    }
}

enum MHD_Result
jgc_events(struct jgc_req *q)
{
    struct scan s = {
        .scope = {.q = q}, .type = jgc_arg(q, "type"), .user = jgc_arg(q, "user"),
        .target = jgc_arg(q, "target"), .session = jgc_arg(q, "session"),
        .seals = jgc_arg(q, "seals") != NULL,
        .since = INT64_MIN, .until = INT64_MAX,
    };
    struct jgc_buf b = {0};
    size_t page = 0, total, bad = 0, i;
    int r;

    if (!jgc_arg_time(q, "since", &s.since, false) ||
        !jgc_arg_time(q, "until", &s.until, true))
        return jgc_error(q, MHD_HTTP_BAD_REQUEST,
                         "a time is YYYY-MM-DD or RFC 3339");
    if (!jgc_arg_page(q, &page))
        return jgc_error(q, MHD_HTTP_BAD_REQUEST, "page is a number");
    if (jgc_event(q, "console.view", NULL, "ok", "the event log") != 0)
        return jgc_unrecorded(q);
    r = jg_audit_events_each(q->x->cfg->audit_dir, on_count, &s, &bad);
    total = s.n;
    /* Newest first: page 0 is the last EVENTS_PAGE matches. */
    s.last = total > page * EVENTS_PAGE ? total - page * EVENTS_PAGE : 0;
    s.first = s.last > EVENTS_PAGE ? s.last - EVENTS_PAGE : 0;
    s.n = 0;
    if (r == 0 && s.last > 0)
        r = jg_audit_events_each(q->x->cfg->audit_dir, on_keep, &s, NULL);
    jgc_page_begin(&b, q, "Events");
    jgc_put(&b, "<h1>Event log</h1>");
    form(&b, q);
    jgc_putf(&b, "<p class=\"count\" id=\"count\">%zu event%s</p>", total,
             total == 1 ? "" : "s");
    if (r != 0 && r != JG_ERR_NOTFOUND)
        jgc_putf(&b, "<p class=\"error\">cannot read the event log: %s</p>",
                 jg_strerror(r));
    if (bad > 0)
        jgc_putf(&b, "<p class=\"warning\">%zu event line(s) could not be "
                 "read: run jumpgate audit verify.</p>", bad);
    jgc_put(&b, "<table class=\"events\" id=\"events\"><thead><tr><th>Time</th>"
                "<th>Type</th><th>Session</th><th>User</th><th>From</th>"
                "<th>Target</th><th>Reason</th><th>Details</th></tr></thead>"
                "<tbody>");
    for (i = s.nv; i-- > 0;)
        render_row(&b, &s.v[i]);
    jgc_put(&b, "</tbody></table><nav class=\"pager\">");
    if (page > 0)
        page_link(&b, q, page - 1, "newer");
    if (s.first > 0)
        page_link(&b, q, page + 1, "older");
    jgc_put(&b, "</nav>");
    jgc_page_end(&b);
    free_rows(&s);
    return jgc_answer(q, MHD_HTTP_OK, &b, NULL);
}
