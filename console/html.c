/* SPDX-License-Identifier: Apache-2.0 */
/* console/html.c - builds the console's pages: a growing buffer, escaping
 * of everything that came from a recording, an event or a request (the
 * people recorded may be hostile: their text is only ever text), and the
 * frame of every page. No inline script or style: the
 * Content-Security-Policy forbids both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

static void
grow(struct jgc_buf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 1024;

    while (cap < b->n + more + 1)
        cap *= 2;
    if (cap != b->cap) {
        b->p = jg_xrealloc(b->p, cap, 1);
        b->cap = cap;
    }
}

void
jgc_putn(struct jgc_buf *b, const char *s, size_t n)
{
    grow(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void
jgc_put(struct jgc_buf *b, const char *s)
{
    jgc_putn(b, s, strlen(s));
}

void
jgc_putf(struct jgc_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    int n;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        grow(b, (size_t)n);
        vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap2);
        b->n += (size_t)n;
    }
    va_end(ap2);
}

/* Length of the valid UTF-8 sequence at s (at most left bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t left)
{
    size_t n, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n > left)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void
jgc_esc(struct jgc_buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t left, k;

    if (s == NULL) {
        jgc_put(b, "-");
        return;
    }
    left = strlen(str);
    while (left > 0) {
        switch (*s) {
        case '&': jgc_put(b, "&amp;"); k = 1; break;
        case '<': jgc_put(b, "&lt;"); k = 1; break;
        case '>': jgc_put(b, "&gt;"); k = 1; break;
        case '"': jgc_put(b, "&quot;"); k = 1; break;
        case '\'': jgc_put(b, "&#39;"); k = 1; break;
        default:
            if ((*s < 0x20 && *s != '\t') || *s == 0x7f) {
                jgc_put(b, "\xef\xbf\xbd");
                k = 1;
            } else if ((k = utf8_len(s, left)) == 0) {
                jgc_put(b, "\xef\xbf\xbd");
                k = 1;
            } else {
                jgc_putn(b, (const char *)s, k);
            }
        }
        s += k;
        left -= k;
    }
}

void
jgc_urlenc(struct jgc_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char e[4] = {'%', 0, 0, 0};

    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            jgc_putn(b, (const char *)s, 1);
        } else {
            e[1] = hex[c >> 4];
            e[2] = hex[c & 15];
            jgc_putn(b, e, 3);
        }
    }
}

void
jgc_page_begin(struct jgc_buf *b, const struct jgc_req *q, const char *title)
{
    jgc_put(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"referrer\" content=\"no-referrer\">"
               "<title>");
    jgc_esc(b, title);
    jgc_put(b, " - jumpgate audit</title>"
               "<link rel=\"stylesheet\" href=\"/static/asciinema-player.css\">"
               "<link rel=\"stylesheet\" href=\"/static/console.css\">"
               "</head><body><header><span class=\"brand\">jumpgate audit</span>");
    if (q->signed_in) {
        jgc_put(b, "<nav><a href=\"/sessions\">Sessions</a> "
                   "<a href=\"/search\" id=\"nav-search\">Search</a> "
                   "<a href=\"/events\" id=\"nav-events\">Events</a> "
                   "<a href=\"/live\" id=\"nav-live\">Live</a></nav>"
                   "<form class=\"signout\" method=\"post\" action=\"/signout\">"
                   "<span class=\"who\">");
        jgc_esc(b, q->s.account);
        jgc_put(b, " (");
        jgc_esc(b, q->s.auditor);
        jgc_put(b, ")</span><input type=\"hidden\" name=\"csrf\" value=\"");
        jgc_esc(b, q->s.csrf);
        jgc_put(b, "\"><button type=\"submit\">Sign out</button></form>");
    }
    jgc_put(b, "</header><main>");
}

void
jgc_page_end(struct jgc_buf *b)
{
    jgc_put(b, "</main></body></html>\n");
}

char *
jgc_event_details(json_t *ev)
{
    static const char *const skip[] = {"seq", "time", "type", "session",
        "prev", "sig", "user", "from", "target", "login", "action", "rule",
        "recording", NULL};
    struct jgc_buf b = {0};
    const char *k;
    json_t *v;
    size_t i;

    json_object_foreach(ev, k, v) {
        char *txt;
        for (i = 0; skip[i] != NULL && strcmp(skip[i], k) != 0; i++)
            ;
        if (skip[i] != NULL || json_is_null(v))
            continue;
        txt = json_is_string(v) ? jg_xstrdup(json_string_value(v))
                                : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        jgc_putf(&b, "%s%s=%s", b.n ? " " : "", k, txt ? txt : "");
        free(txt);
    }
    return b.p ? b.p : jg_xstrdup("");
}

void
jgc_cell(struct jgc_buf *b, const char *cls, const char *text)
{
    jgc_putf(b, "<td class=\"%s\">", cls);
    jgc_esc(b, text);
    jgc_put(b, "</td>");
}
