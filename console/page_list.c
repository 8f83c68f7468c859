/* SPDX-License-Identifier: Apache-2.0 */
/* console/page_list.c - GET /sessions: the sessions the auditor may see,
 * newest first, filtered by user, target, login, action, time range and
 * outcome, a page at a time, each with its duration, bytes and a verify
 * badge. Sessions outside the auditor's scope are dropped before anything
 * is counted, so that neither the rows nor the totals tell of them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

struct filter {
    const char *user, *target, *login, *action, *outcome;
    int64_t since, until;       /* µs */
};

static const char *
outcome(const struct jg_audit_session *r)
{
    if (!r->ended)
        return "open";
    if (r->exit_status > 0)
        return "failed";
    return "ok";
}

static bool
shown(const struct filter *f, const struct jg_audit_session *r)
{
    return jgc_match(f->user, r->user) &&
           (jgc_match(f->target, r->target) ||
            (r->target_id != NULL && jgc_match(f->target, r->target_id))) &&
           jgc_match(f->login, r->login) && jgc_match(f->action, r->action) &&
           r->start_us >= f->since && r->start_us < f->until &&
           (f->outcome == NULL || strcmp(f->outcome, outcome(r)) == 0);
}

static void
form(struct jgc_buf *b, const struct jgc_req *q)
{
    static const char *const outcomes[] = {"ok", "failed", "open", NULL};
    const char *o = jgc_arg(q, "outcome");
    size_t i;

    jgc_put(b, "<form method=\"get\" action=\"/sessions\" class=\"filters\">");
    jgc_input(b, q, "user", "User", "text");
    jgc_input(b, q, "target", "Target", "text");
    jgc_input(b, q, "login", "Login", "text");
    jgc_input(b, q, "action", "Action", "text");
    jgc_input(b, q, "since", "From", "date");
    jgc_input(b, q, "until", "To", "date");
    jgc_put(b, "<label>Outcome <select name=\"outcome\" id=\"f-outcome\">"
               "<option value=\"\">any</option>");
    for (i = 0; outcomes[i] != NULL; i++)
        jgc_putf(b, "<option%s>%s</option>",
                 o && strcmp(o, outcomes[i]) == 0 ? " selected" : "",
                 outcomes[i]);
    jgc_put(b, "</select></label><button type=\"submit\" id=\"filter\">"
               "Filter</button></form>");
}

/* The query of this page with page=N, for the pager. */
static void
page_link(struct jgc_buf *b, const struct jgc_req *q, size_t page,
          const char *text)
{
    static const char *const keys[] = {"user", "target", "login", "action",
                                       "since", "until", "outcome", NULL};

    jgc_page_link(b, q, "/sessions", keys, page, text);
}

static void
row(struct jgc_buf *b, struct jgc_req *q, const struct jg_audit_session *r)
{
    char t[JG_AUDIT_TIME_STRLEN], detail[256];
    const char *badge;

    jg_audit_time_format(r->start_us, t, sizeof(t));
    jgc_put(b, "<tr class=\"session\"><td><a href=\"/sessions/");
    jgc_put(b, r->id);      /* a UUIDv7: hex and dashes */
    jgc_put(b, "\">");
    jgc_esc(b, t);
    jgc_put(b, "</a></td><td class=\"user\">");
    jgc_esc(b, r->user);
    jgc_put(b, "</td><td class=\"target\">");
    jgc_esc(b, r->target);
    jgc_put(b, "</td><td>");
    jgc_esc(b, r->login);
    jgc_put(b, "</td><td class=\"action\">");
    jgc_esc(b, r->action);
    jgc_put(b, "</td><td>");
    if (r->end_us != 0)
        jgc_putf(b, "%.1f s", (double)(r->end_us - r->start_us) / 1e6);
    else
        jgc_put(b, "-");
    jgc_putf(b, "</td><td>%" PRIu64 "</td><td class=\"outcome\">%s",
             r->size, outcome(r));
    if (r->exit_status >= 0)
        jgc_putf(b, " (%d)", r->exit_status);
    jgc_put(b, "</td><td>");
    if (r->path == NULL) {
        jgc_put(b, r->rec_missing
                       ? "<span class=\"badge tampered\">recording missing</span>"
                       : "<span class=\"badge none\">no recording</span>");
    } else {
        badge = jgc_verify(q->x, r->path, r->id, detail, sizeof(detail));
        jgc_putf(b, "<span class=\"badge %s\" title=\"", badge[0] ? badge : "unchecked");
        jgc_esc(b, detail);
        jgc_putf(b, "\">%s</span>", badge[0] ? badge : "not checked");
    }
    jgc_put(b, "</td></tr>");
}

enum MHD_Result
jgc_list(struct jgc_req *q)
{
    struct filter f = {
        .user = jgc_arg(q, "user"), .target = jgc_arg(q, "target"),
        .login = jgc_arg(q, "login"), .action = jgc_arg(q, "action"),
        .outcome = jgc_arg(q, "outcome"),
        .since = INT64_MIN, .until = INT64_MAX,
    };
    struct jg_audit_sessions all;
    struct jgc_buf b = {0};
    size_t i, n = 0, page = 0, first, last, *idx;
    const struct jg_policy *p;
    const struct jg_auditor *a;
    int r;

    if (!jgc_arg_time(q, "since", &f.since, false) ||
        !jgc_arg_time(q, "until", &f.until, true))
        return jgc_error(q, MHD_HTTP_BAD_REQUEST,
                         "a time is YYYY-MM-DD or RFC 3339");
    if (!jgc_arg_page(q, &page))
        return jgc_error(q, MHD_HTTP_BAD_REQUEST, "page is a number");
    if ((r = jg_audit_sessions_load(q->x->cfg->audit_dir, &all)) != 0)
        return jgc_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                         "cannot read the audit folder: %s", jg_strerror(r));
    /* What the auditor may see and asked for, newest first: one look at
     * the policy for the whole list. */
    idx = jg_xcalloc(all.n + 1, sizeof(*idx));
    pthread_mutex_lock(&q->x->mu);
    if ((a = jgc_auditor(q, &p)) != NULL) {
        for (i = all.n; i-- > 0;) {
            const struct jg_audit_session *s = &all.v[i];
            if (jg_policy_auditor_sees(p, a, s->user, s->target) && shown(&f, s))
                idx[n++] = i;
        }
    }
    pthread_mutex_unlock(&q->x->mu);
    jgc_page_begin(&b, q, "Sessions");
    jgc_put(&b, "<h1>Sessions</h1>");
    form(&b, q);
    first = page * JGC_PAGE;
    last = first + JGC_PAGE < n ? first + JGC_PAGE : n;
    jgc_putf(&b, "<p class=\"count\" id=\"count\">%zu session%s</p>", n,
             n == 1 ? "" : "s");
    if (all.bad_recs > 0 || all.bad_events > 0 || all.events_unreadable)
        jgc_putf(&b, "<p class=\"warning\">%zu recording(s) and %zu event "
                 "line(s) could not be read%s: run jumpgate audit verify.</p>",
                 all.bad_recs, all.bad_events,
                 all.events_unreadable ? ", nor the event log" : "");
    jgc_put(&b, "<table class=\"sessions\" id=\"sessions\"><thead><tr><th>Start</th>"
                "<th>User</th><th>Target</th><th>Login</th><th>Action</th>"
                "<th>Duration</th><th>Bytes</th><th>Outcome</th><th>Seal</th>"
                "</tr></thead><tbody>");
    for (i = first; i < last; i++)
        row(&b, q, &all.v[idx[i]]);
    jgc_put(&b, "</tbody></table><nav class=\"pager\">");
    if (page > 0)
        page_link(&b, q, page - 1, "newer");
    if (last < n)
        page_link(&b, q, page + 1, "older");
    jgc_put(&b, "</nav>");
    jgc_page_end(&b);
    free(idx);
    jg_audit_sessions_free(&all);
    return jgc_answer(q, MHD_HTTP_OK, &b, NULL);
}
