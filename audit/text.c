/* SPDX-License-Identifier: Apache-2.0 */
/* audit/text.c - rebuilds the lines of text a person saw from a
 * recording's output, for search. */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

#define TEXT_MAX_CELLS 65536

enum { T_TEXT, T_ESC, T_ESC_INTER, T_CSI, T_STR, T_STR_ESC };

struct jg_audit_text {
    jg_audit_line_cb cb;
    void *arg;
    uint32_t *cell;     /* code points of the current line */
    size_t n, cap, cur; /* cells used, allocated; cursor */
    double t0;          /* time the line began */
    bool started;
    int state;
    unsigned params[4];
    size_t np;
    bool param_seen;
    uint32_t cp;        /* UTF-8 decoding */
    int need;
    char *out;          /* emission buffer */
};

struct jg_audit_text *
jg_audit_text_new(jg_audit_line_cb cb, void *arg)
{
    struct jg_audit_text *x = jg_xcalloc(1, sizeof(*x));

    x->cb = cb;
    x->arg = arg;
    x->out = jg_xmalloc(TEXT_MAX_CELLS * 4 + 1);
    return x;
}

void
jg_audit_text_free(struct jg_audit_text *x)
{
    if (x == NULL)
        return;
    free(x->cell);
    free(x->out);
    free(x);
}

static size_t
put_utf8(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xc0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

static void
emit(struct jg_audit_text *x)
{
    size_t i, o = 0, n = x->n;

    while (n > 0 && x->cell[n - 1] == ' ')
        n--;
    for (i = 0; i < n; i++)
        o += put_utf8(x->cell[i], x->out + o);
    x->out[o] = '\0';
    if (o > 0)
        x->cb(x->out, o, x->t0, x->arg);
    x->n = x->cur = 0;
    x->started = false;
}

void
jg_audit_text_flush(struct jg_audit_text *x)
{
    if (x->n > 0)
        emit(x);
}

static void
grow_to(struct jg_audit_text *x, size_t n, double t)
{
    if (!x->started) {
        x->t0 = t;
        x->started = true;
    }
    if (n > x->cap) {
        x->cap = n < 64 ? 64 : n * 2;
        x->cell = jg_xrealloc(x->cell, x->cap, sizeof(*x->cell));
    }
    while (x->n < n)
        x->cell[x->n++] = ' ';
}

static void
put_cell(struct jg_audit_text *x, uint32_t c, double t)
{
    if (x->cur >= TEXT_MAX_CELLS)
        emit(x);
    grow_to(x, x->cur + 1, t);
    x->cell[x->cur++] = c;
}

static unsigned
param(const struct jg_audit_text *x, size_t i, unsigned def)
{
    return i < x->np && x->params[i] != 0 ? x->params[i] : def;
}

static void
csi(struct jg_audit_text *x, unsigned char final, double t)
{
    unsigned n = param(x, 0, 1);
    size_t i;

    if (n > TEXT_MAX_CELLS)
        n = TEXT_MAX_CELLS;
    switch (final) {
    case 'C': /* cursor forward */
        x->cur = x->cur + n < TEXT_MAX_CELLS ? x->cur + n : TEXT_MAX_CELLS - 1;
        break;
    case 'D': /* cursor back */
        x->cur = x->cur > n ? x->cur - n : 0;
        break;
    case 'G': /* cursor to column */
        x->cur = n - 1;
        break;
    case 'K': /* erase in line */
        if (param(x, 0, 0) == 0 && x->cur < x->n)
            x->n = x->cur;
        else if (param(x, 0, 0) == 2)
            x->n = 0;
        else if (param(x, 0, 0) == 1)
            for (i = 0; i < x->cur && i < x->n; i++)
                x->cell[i] = ' ';
        break;
    case 'P': /* delete characters */
        if (x->cur < x->n) {
            size_t k = n < x->n - x->cur ? n : x->n - x->cur;

            memmove(x->cell + x->cur, x->cell + x->cur + k,
                    (x->n - x->cur - k) * sizeof(*x->cell));
            x->n -= k;
        }
        break;
    case '@': /* insert blanks */
        if (x->cur < x->n && x->n + n < TEXT_MAX_CELLS) {
            grow_to(x, x->n + n, t);
            memmove(x->cell + x->cur + n, x->cell + x->cur,
                    (x->n - n - x->cur) * sizeof(*x->cell));
            for (i = 0; i < n; i++)
                x->cell[x->cur + i] = ' ';
        }
        break;
    default:
        break;
    }
}

static void
control(struct jg_audit_text *x, unsigned char c, double t)
{
    switch (c) {
    case '\n':
        emit(x);
        break;
    case '\r':
        x->cur = 0;
        break;
    case '\b':
        if (x->cur > 0)
            x->cur--;
        break;
    case '\t':
        do
            put_cell(x, ' ', t);
        while (x->cur % 8 != 0);
        break;
    case 0x1b:
        x->state = T_ESC;
        break;
    default:
        break;
    }
}

static void
byte(struct jg_audit_text *x, unsigned char c, double t)
{
    switch (x->state) {
    case T_ESC:
        if (c == '[') {
            x->state = T_CSI;
            x->np = 0;
            x->param_seen = false;
            memset(x->params, 0, sizeof(x->params));
        } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
            x->state = T_STR;
        } else if (c >= 0x20 && c <= 0x2f) {
            x->state = T_ESC_INTER;
        } else {
            x->state = T_TEXT;
        }
        return;
    case T_ESC_INTER:
        if (c < 0x20 || c > 0x2f)
            x->state = T_TEXT;
        return;
    case T_CSI:
        if (c >= '0' && c <= '9') {
            if (x->np == 0)
                x->np = 1;
            if (x->np <= 4 && x->params[x->np - 1] < 100000)
                x->params[x->np - 1] = x->params[x->np - 1] * 10 + (c - '0');
        } else if (c == ';') {
            x->np = x->np == 0 ? 2 : x->np + 1;
        } else if (c >= 0x40 && c <= 0x7e) {
            if (x->np > 4)
                x->np = 4;
            csi(x, c, t);
            x->state = T_TEXT;
        } else if (c < 0x20 && c != 0x1b) {
            control(x, c, t); /* C0 inside CSI acts at once */
        } else if (c == 0x1b) {
            x->state = T_ESC;
        }
        return;
    case T_STR:
        if (c == 0x07)
            x->state = T_TEXT;
        else if (c == 0x1b)
            x->state = T_STR_ESC;
        return;
    case T_STR_ESC:
        x->state = c == '\\' ? T_TEXT : T_STR;
        return;
    default:
        break;
    }
    /* T_TEXT: UTF-8 decoding (the input is valid UTF-8 from JSON). */
    if (x->need > 0) {
        x->cp = (x->cp << 6) | (c & 0x3f);
        if (--x->need == 0 && !(x->cp >= 0x80 && x->cp <= 0x9f))
            put_cell(x, x->cp, t);
        return;
    }
    if (c < 0x20 || c == 0x7f) {
        control(x, c, t);
    } else if (c < 0x80) {
        put_cell(x, c, t);
    } else if ((c & 0xe0) == 0xc0) {
        x->cp = c & 0x1f;
        x->need = 1;
    } else if ((c & 0xf0) == 0xe0) {
        x->cp = c & 0x0f;
        x->need = 2;
    } else if ((c & 0xf8) == 0xf0) {
        x->cp = c & 0x07;
        x->need = 3;
    }
}

void
jg_audit_text_feed(struct jg_audit_text *x, const char *data, size_t len,
                   double t)
{
    size_t i;

    for (i = 0; i < len; i++)
        byte(x, (unsigned char)data[i], t);
}
