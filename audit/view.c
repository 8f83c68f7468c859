/* SPDX-License-Identifier: Apache-2.0 */
/* audit/view.c - the asciicast v2 view of a .jgr recording, for
 * asciinema and other players: records become events, each stream's bytes
 * are decoded as UTF-8 on their own (a character split between two writes
 * stays whole), invalid bytes become U+FFFD in the view only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"

/* Output collected before it is written, in bytes. */
#define VIEW_BUF (256u * 1024)

struct view {
    int fd;
    char *buf;
    size_t len;
    char *text;
    size_t text_cap;
};

static int
drain(struct view *v)
{
    int e = jg_audit_write_all(v->fd, v->buf, v->len);

    v->len = 0;
    return e;
}

/* One event of n bytes of valid UTF-8. */
static int
event(struct view *v, int64_t t, char code, const char *data, size_t n)
{
    char head[64];
    size_t need;
    int h = snprintf(head, sizeof(head),
                     "[%" PRId64 ".%06" PRId64 ", \"%c\", ", t / 1000000,
                     t % 1000000, code);

    need = (size_t)h + 6 * n + 4;
    if (v->len + need > VIEW_BUF && v->len > 0 && drain(v) != 0)
        return JG_ERR_IO;
    if (need > VIEW_BUF) {
        /* Only a record can be this large: a buffer of its own. */
        char *big = jg_xmalloc(need);
        size_t m = (size_t)h;
        int e;

        memcpy(big, head, m);
        m += jg_audit_json_quote(data, n, big + m);
        big[m++] = ']';
        big[m++] = '\n';
        e = jg_audit_write_all(v->fd, big, m);
        free(big);
        return e;
    }
    memcpy(v->buf + v->len, head, (size_t)h);
    v->len += (size_t)h;
    v->len += jg_audit_json_quote(data, n, v->buf + v->len);
    v->buf[v->len++] = ']';
    v->buf[v->len++] = '\n';
    return 0;
}

/* Bytes of one stream, decoded with its state. */
static int
stream(struct view *v, struct jg_audit_utf8 *st, int64_t t, char code,
       const uint8_t *data, size_t len, bool final)
{
    size_t need = JG_AUDIT_UTF8_OUT(st->n_tail + len), n;

    if (need > v->text_cap) {
        free(v->text);
        v->text_cap = need;
        v->text = jg_xmalloc(need);
    }
    n = jg_audit_utf8_feed_into(st, data, len, final, v->text);
    return n > 0 ? event(v, t, code, v->text, n) : 0;
}

int
jg_audit_view_cast(struct jg_audit_recr *r, int fd, char *err, size_t errn)
{
    struct view v = {.fd = fd};
    struct jg_audit_utf8 out = {0}, errs = {0}, in = {0};
    struct jg_audit_recr_ev ev;
    const char *hl;
    char label[64];
    size_t hn;
    int64_t t = 0;
    int e = 0, n;

    hl = jg_audit_recr_header_line(r, &hn);
    if (hl == NULL) {
        snprintf(err, errn, "not a .jgr recording");
        return JG_ERR_INVALID;
    }
    v.buf = jg_xmalloc(VIEW_BUF);
    memcpy(v.buf, hl, hn);
    v.buf[hn] = '\n';
    v.len = hn + 1;
    while (e == 0 && (n = jg_audit_recr_next(r, &ev)) == 1) {
        t = ev.time_us;
        switch (ev.kind) {
        case 'o':
            e = stream(&v, &out, t, 'o', ev.data, ev.len, false);
            break;
        case 'e':
            e = stream(&v, &errs, t, 'o', ev.data, ev.len, false);
            break;
        case 'i':
            e = stream(&v, &in, t, 'i', ev.data, ev.len, false);
            break;
        case 'x':
            snprintf(label, sizeof(label), "exit-status %.*s",
                     (int)(ev.len < 16 ? ev.len : 16), (const char *)ev.data);
            e = stream(&v, &(struct jg_audit_utf8){0}, t, 'm',
                       (const uint8_t *)label, strlen(label), true);
            break;
        default: /* 'r', 'm': text the recorder wrote */
            e = stream(&v, &(struct jg_audit_utf8){0}, t, ev.kind, ev.data,
                       ev.len, true);
            break;
        }
    }
    if (e == 0 && n < 0) {
        snprintf(err, errn, "%s", jg_audit_recr_error(r));
        e = JG_ERR_INVALID;
    }
    /* A sequence cut short at the very end shows as U+FFFD. */
    if (e == 0)
        e = stream(&v, &out, t, 'o', NULL, 0, true);
    if (e == 0)
        e = stream(&v, &errs, t, 'o', NULL, 0, true);
    if (e == 0)
        e = stream(&v, &in, t, 'i', NULL, 0, true);
    if (e == 0 && v.len > 0)
        e = drain(&v);
    if (e == JG_ERR_IO)
        snprintf(err, errn, "cannot write the output");
    free(v.buf);
    free(v.text);
    return e;
}
