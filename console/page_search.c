/* SPDX-License-Identifier: Apache-2.0 */
/* console/page_search.c - GET /search: a regular expression over the text
 * a person saw, the commands of exec sessions and the paths of SFTP
 * events (audit/search.c, as `jumpgate audit search`), in the sessions the
 * auditor may see and the filters pick; each hit links to its session at
 * its moment. A search is a console.search event: what auditors looked
 * for is audited too. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "console/internal.h"

#define HITS_MAX 200            /* hits a page shows */
#define QUERY_MAX 256           /* bytes of a regular expression */
#define TEXT_MAX 400            /* bytes of a hit's text shown */

struct search {
    struct jgc_scope scope;
    const char *user, *target;
    int64_t since, until;
    struct jgc_buf *b;
    size_t n;
};

static bool
want(const char *user, const char *target, int64_t start_us, void *arg)
{
    struct search *s = arg;

    return jgc_match(s->user, user) && jgc_match(s->target, target) &&
           start_us >= s->since && start_us < s->until &&
           jgc_scope_sees(&s->scope, user, target);
}

static bool
on_hit(const struct jg_audit_hit *h, void *arg)
{
    struct search *s = arg;
    struct jgc_buf *b = s->b;
    char text[TEXT_MAX + 1];
    int64_t ms = (int64_t)(h->offset * 1000.0);

    if (s->n == HITS_MAX)
        return false;
    s->n++;
    /* A cut inside a character shows as U+FFFD (jgc_esc). */
    jg_strlcpy(text, h->text, sizeof(text));
    jgc_put(b, "<tr class=\"hit\"><td>");
    /* Ids come from the event log too: only a session id makes a link. */
    if (jg_audit_id_valid(h->id))
        jgc_putf(b, "<a class=\"hit-link\" href=\"/sessions/%s?t=%.3f\">",
                 h->id, h->offset);
    jgc_putf(b, "+%" PRId64 ":%02" PRId64 ".%01" PRId64 "%s</td>"
             "<td class=\"user\">", ms / 60000, ms / 1000 % 60,
             ms / 100 % 10, jg_audit_id_valid(h->id) ? "</a>" : "");
    jgc_esc(b, h->user);
    jgc_put(b, "</td><td class=\"target\">");
    jgc_esc(b, h->target);
    jgc_put(b, "</td><td class=\"where\">");
    jgc_esc(b, h->what[0] ? h->what : "seen");
    jgc_put(b, "</td><td class=\"text\"><code>");
    jgc_esc(b, text);
    if (strlen(h->text) > TEXT_MAX)
        jgc_put(b, "\u2026");
    jgc_put(b, "</code></td></tr>");
    return true;
}

static void
form(struct jgc_buf *b, const struct jgc_req *q)
{
    jgc_put(b, "<form method=\"get\" action=\"/search\" class=\"filters\">");
    jgc_input(b, q, "q", "Regular expression", "search");
    jgc_putf(b, "<label><input type=\"checkbox\" name=\"i\" id=\"f-i\" "
             "value=\"1\"%s> ignore case</label>",
             jgc_arg(q, "i") ? " checked" : "");
    jgc_input(b, q, "user", "User", "text");
    jgc_input(b, q, "target", "Target", "text");
    jgc_input(b, q, "since", "From", "date");
    jgc_input(b, q, "until", "To", "date");
    jgc_put(b, "<button type=\"submit\" id=\"search\">Search</button></form>");
}

enum MHD_Result
jgc_search(struct jgc_req *q)
{
    const char *pattern = jgc_arg(q, "q");
    struct jgc_buf b = {0};
    struct search s = {
        .scope = {.q = q}, .user = jgc_arg(q, "user"), .target = jgc_arg(q, "target"),
        .since = INT64_MIN, .until = INT64_MAX, .b = &b,
    };
    struct jg_audit_search sq = {.want = want, .hit = on_hit, .arg = &s};
    struct jg_audit_search_stats st = {0};
    char msg[256];
    regex_t re;
    int r;

    if (!jgc_arg_time(q, "since", &s.since, false) ||
        !jgc_arg_time(q, "until", &s.until, true))
        return jgc_error(q, MHD_HTTP_BAD_REQUEST,
                         "a time is YYYY-MM-DD or RFC 3339");
    if (pattern != NULL && strlen(pattern) > QUERY_MAX)
        return jgc_error(q, MHD_HTTP_BAD_REQUEST,
                         "a search is at most %d bytes", QUERY_MAX);
    if (pattern != NULL &&
        (r = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB |
                                       (jgc_arg(q, "i") ? REG_ICASE : 0))) != 0) {
        regerror(r, &re, msg, sizeof(msg));
        return jgc_error(q, MHD_HTTP_BAD_REQUEST,
                         "not a regular expression: %s", msg);
    }
    if (pattern != NULL && jgc_event(q, "console.search", NULL, "ok",
                                     pattern) != 0) {
        regfree(&re);
        return jgc_unrecorded(q);
    }
    jgc_page_begin(&b, q, "Search");
    jgc_put(&b, "<h1>Search</h1>");
    form(&b, q);
    if (pattern != NULL) {
        jgc_put(&b, "<table class=\"hits\" id=\"hits\"><thead><tr><th>At</th>"
                    "<th>User</th><th>Target</th><th>Where</th><th>Text</th>"
                    "</tr></thead><tbody>");
        sq.re = &re;
        r = jg_audit_search(q->x->cfg->audit_dir, &sq, &st);
        regfree(&re);
        jgc_put(&b, "</tbody></table>");
        if (r != 0)
            jgc_putf(&b, "<p class=\"error\">cannot read the audit folder: "
                     "%s</p>", jg_strerror(r));
        jgc_putf(&b, "<p class=\"count\" id=\"count\">%zu hit%s%s</p>", s.n,
                 s.n == 1 ? "" : "s",
                 st.stopped ? " (the first ones: narrow the search)" : "");
        if (st.bad_recs > 0 || st.bad_events > 0 || st.events_unreadable)
            jgc_putf(&b, "<p class=\"warning\">%zu recording(s) and %zu event "
                     "line(s) could not be read%s: run jumpgate audit "
                     "verify.</p>", st.bad_recs, st.bad_events,
                     st.events_unreadable ? ", nor the event log" : "");
    }
    jgc_page_end(&b);
    jgc_scope_free(&s.scope);
    return jgc_answer(q, MHD_HTTP_OK, &b, NULL);
}
