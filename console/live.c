/* SPDX-License-Identifier: Apache-2.0 */
/* console/live.c - what is happening now: GET /live lists the channels
 * open on the running jumpgated (asked over its control socket) that the
 * auditor may see; GET /sessions/ID/watch shows one in the asciinema
 * player, fed by GET /sessions/ID/live, a server-sent event stream that
 * follows the recording as the gateway writes it (the eventsource format
 * of the player: a reset with the output so far, then [time, "o", text]
 * events, "done" when the recording's final seal is read). A daemon that
 * cannot be asked is said so, never shown as nobody connected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console/internal.h"

#define LIST_TIMEOUT_MS 5000
#define INIT_MAX (512 * 1024)   /* bytes of earlier output a watcher gets */
#define POLL_MS 200             /* between looks at a quiet recording */
#define KEEPALIVE_S 15          /* a comment line while nothing happens */

static const char *
jstr(json_t *o, const char *k, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : dflt;
}

/* The rows of the connections the auditor may see, or why there are none
 * to show. */
static void
rows(struct jgc_req *q, json_t *sessions, struct jgc_buf *b, size_t *n)
{
    json_t *s, *ch;
    size_t i, j;

    json_array_foreach(sessions, i, s) {
        const char *user = jstr(s, "user", NULL);

        json_array_foreach(json_object_get(s, "channels"), j, ch) {
            const char *target = jstr(ch, "target", NULL);
            const char *sid = jstr(ch, "session", NULL);

            if (!jgc_sees(q, user, target))
                continue;
            (*n)++;
            jgc_put(b, "<tr class=\"live\">");
            jgc_cell(b, "user", user);
            jgc_cell(b, "from", jstr(s, "from", NULL));
            jgc_cell(b, "target", target);
            jgc_cell(b, "login", jstr(ch, "login", NULL));
            jgc_cell(b, "action", jstr(ch, "action", NULL));
            jgc_cell(b, "started", jstr(ch, "started", NULL));
            jgc_cell(b, "lapses", jstr(ch, "lapses", "never"));
            jgc_put(b, "<td class=\"session\">");
            if (sid != NULL && jg_audit_id_valid(sid))
                jgc_putf(b, "<a class=\"watch\" href=\"/sessions/%s/watch\">"
                         "watch</a> <a href=\"/sessions/%s\">%.8s\u2026</a>",
                         sid, sid, sid);
            else
                jgc_put(b, "-");
            jgc_put(b, "</td></tr>");
        }
    }
}

enum MHD_Result
jgc_live(struct jgc_req *q)
{
    struct jgc_buf b = {0};
    char *answer = NULL, why[512];
    json_t *j = NULL, *sessions;
    json_error_t je;
    size_t len, n = 0;
    int r;

    if (jgc_event(q, "console.view", NULL, "ok", "live sessions") != 0)
        return jgc_unrecorded(q);
    r = jg_control_request(q->x->cfg->control_socket, "list\n",
                           LIST_TIMEOUT_MS, &answer, &len, why, sizeof(why));
    if (r == 0 && ((j = json_loadb(answer, len, 0, &je)) == NULL ||
                   !json_is_array(sessions = json_object_get(j, "sessions")))) {
        snprintf(why, sizeof(why), "jumpgated gave no list of sessions");
        r = JG_ERR_INVALID;
    }
    free(answer);
    if (r != 0) {
        json_decref(j);
        return jgc_error(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "the live sessions cannot be shown: %s", why);
    }
    jgc_page_begin(&b, q, "Live");
    jgc_put(&b, "<h1>Live sessions</h1><table class=\"sessions\" id=\"live\">"
                "<thead><tr><th>User</th><th>From</th><th>Target</th>"
                "<th>Login</th><th>Action</th><th>Started</th><th>Lapses</th>"
                "<th>Session</th></tr></thead><tbody>");
    rows(q, sessions, &b, &n);
    jgc_putf(&b, "</tbody></table><p class=\"count\" id=\"count\">%zu open "
             "channel%s</p>", n, n == 1 ? "" : "s");
    jgc_page_end(&b);
    json_decref(j);
    return jgc_answer(q, MHD_HTTP_OK, &b, NULL);
}

enum MHD_Result
jgc_watch(struct jgc_req *q, const char *id)
{
    struct jg_audit_sessions all;
    const struct jg_audit_session *s;
    struct jgc_buf b = {0};
    int r;

    if ((s = jgc_find(q, id, &all, &r)) == NULL || s->path == NULL) {
        jg_audit_sessions_free(&all);
        return jgc_not_found(q, r, "recording");
    }
    jgc_page_begin(&b, q, "Watch");
    jgc_put(&b, "<h1>Watching <code>");
    jgc_put(&b, s->id);
    jgc_put(&b, "</code></h1><p>");
    jgc_esc(&b, s->user);
    jgc_put(&b, " \u2192 ");
    jgc_esc(&b, s->target);
    jgc_putf(&b, " (<a href=\"/sessions/%s\">the session</a>)</p>"
             "<div id=\"player\" class=\"player\" data-live=\"/sessions/%s/live\">"
             "</div><script src=\"/static/asciinema-player.min.js\"></script>"
             "<script src=\"/static/console.js\"></script>", s->id, s->id);
    jgc_page_end(&b);
    jg_audit_sessions_free(&all);
    return jgc_answer(q, MHD_HTTP_OK, &b, NULL);
}

/* ---- the event stream --------------------------------------------------- */

struct stream {
    struct jg_audit_recr *rd;
    struct jg_audit_utf8 u8[2];
    struct jgc_buf out;          /* what is due to the browser */
    size_t sent;
    bool started, done;
    unsigned cols, rows;
    time_t quiet_since;
};

/* One message: "data: JSON\n\n" (JSON has no raw newline). */
static void
message(struct stream *st, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);

    json_decref(j);
    jgc_putf(&st->out, "data: %s\n\n", text ? text : "{}");
    free(text);
}

static char *
text_of(struct stream *st, const struct jg_audit_recr_ev *ev, size_t *n)
{
    char *t = jg_xmalloc(JG_AUDIT_UTF8_OUT(ev->len + 4));

    *n = jg_audit_utf8_feed_into(&st->u8[ev->kind == 'e'], ev->data, ev->len,
                                 false, t);
    return t;
}

/* A window change ("COLSxROWS", as the recorder writes it). */
static bool
size_of(const struct jg_audit_recr_ev *ev, unsigned *cols, unsigned *rows)
{
    char t[32];
    unsigned c, r;
    char tail;

    if (ev->len == 0 || ev->len >= sizeof(t))
        return false;
    memcpy(t, ev->data, ev->len);
    t[ev->len] = '\0';
    if (sscanf(t, "%ux%u%c", &c, &r, &tail) != 2 || c == 0 || r == 0 ||
        c > 10000 || r > 10000)
        return false;
    *cols = c;
    *rows = r;
    return true;
}

/* The reset: the output so far (its last INIT_MAX bytes) for the
 * terminal to take in at once, then events from there. */
static int
start(struct stream *st)
{
    struct jgc_buf init = {0};
    struct jg_audit_recr_ev ev;
    int64_t last = 0;
    size_t n, keep;
    char *t;
    int r;

    while ((r = jg_audit_recr_next(st->rd, &ev)) == 1) {
        last = ev.time_us;
        if (ev.kind == 'r')
            size_of(&ev, &st->cols, &st->rows);
        if (ev.kind != 'o' && ev.kind != 'e')
            continue;
        t = text_of(st, &ev, &n);
        jgc_putn(&init, t, n);
        free(t);
        if (init.n > 2 * INIT_MAX) {      /* keep the tail */
            keep = INIT_MAX;
            memmove(init.p, init.p + init.n - keep, keep);
            init.n = keep;
        }
    }
    if (r < 0) {
        free(init.p);
        return r;
    }
    message(st, json_pack("{s:i,s:i,s:f,s:s#}", "cols", (int)st->cols, "rows",
                          (int)st->rows, "time", (double)last / 1e6, "init",
                          init.p ? init.p : "", init.n));
    free(init.p);
    st->started = true;
    return 0;
}

/* New events, or the end, into st->out. */
static int
more(struct stream *st)
{
    struct jg_audit_recr_ev ev;
    size_t n;
    char *t, size[32];
    int r, got = 0;

    while (got < 256 && (r = jg_audit_recr_next(st->rd, &ev)) == 1) {
        got++;
        if (ev.kind == 'r') {
            unsigned c, w;
            if (size_of(&ev, &c, &w)) {
                snprintf(size, sizeof(size), "%ux%u", c, w);
                message(st, json_pack("[f,s,s]", (double)ev.time_us / 1e6,
                                      "r", size));
            }
            continue;
        }
        if (ev.kind != 'o' && ev.kind != 'e')
            continue;
        t = text_of(st, &ev, &n);
        message(st, json_pack("[f,s,s#]", (double)ev.time_us / 1e6, "o", t,
                              n));
        free(t);
    }
    if (got > 0)
        return 0;
    if (r < 0)
        return r;
    if (jg_audit_recr_final(st->rd)) {
        jgc_put(&st->out, "event: done\ndata: {}\n\n");
        st->done = true;
    }
    return 0;
}

static ssize_t
on_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    size_t n;

    (void)pos;
    if (st->sent == st->out.n) {
        st->sent = st->out.n = 0;
        if (st->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if ((!st->started ? start(st) : more(st)) != 0) {
            jgc_put(&st->out, "event: done\ndata: {}\n\n");
            st->done = true;
        }
        if (st->out.n == 0) {
            /* Quiet: look again soon, and say we are here now and then. */
            nanosleep(&(struct timespec){0, POLL_MS * 1000000L}, NULL);
            if (time(NULL) - st->quiet_since >= KEEPALIVE_S) {
                jgc_put(&st->out, ": still here\n\n");
                st->quiet_since = time(NULL);
            }
            if (st->out.n == 0)
                return 0;
        } else {
            st->quiet_since = time(NULL);
        }
    }
    n = st->out.n - st->sent < max ? st->out.n - st->sent : max;
    memcpy(buf, st->out.p + st->sent, n);
    st->sent += n;
    return (ssize_t)n;
}

static void
on_free(void *cls)
{
    struct stream *st = cls;

    jg_audit_recr_free(st->rd);
    free(st->out.p);
    free(st);
}

enum MHD_Result
jgc_live_stream(struct jgc_req *q, const char *id)
{
    struct jg_audit_sessions all;
    const struct jg_audit_session *s;
    struct MHD_Response *resp;
    struct stream *st;
    char err[512];
    int r;

    if ((s = jgc_find(q, id, &all, &r)) == NULL || s->path == NULL) {
        jg_audit_sessions_free(&all);
        return jgc_not_found(q, r, "recording");
    }
    if (jgc_event(q, "console.view", id, "ok", "live") != 0) {
        jg_audit_sessions_free(&all);
        return jgc_unrecorded(q);
    }
    st = jg_xcalloc(1, sizeof(*st));
    r = jg_audit_recr_open(s->path, &st->rd, err, sizeof(err));
    jg_audit_sessions_free(&all);
    if (r != 0) {
        free(st);
        return jgc_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                         "the recording cannot be read: %s", err);
    }
    st->cols = jg_audit_recr_header(st->rd)->width;
    st->rows = jg_audit_recr_header(st->rd)->height;
    st->quiet_since = time(NULL);
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, on_read,
                                             st, on_free);
    if (resp == NULL) {
        on_free(st);
        return MHD_NO;
    }
    return jgc_answer_raw(q, resp, "text/event-stream", NULL);
}
