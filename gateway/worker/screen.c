/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/screen.c - the target menu without I/O: keystrokes decoded
 * from the client's bytes (escape sequences may arrive split), the
 * selection and typed number, and the screen drawn for the terminal's size
 * with every name escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/worker/internal.h"

#define ESC 0x1b

/* ---- keys -------------------------------------------------------------- */

/* The final byte of ESC [ params X or ESC O X. */
static enum jg_gw_key
esc_final(const struct jg_gw_keydec *d, uint8_t c)
{
    const char *par = (const char *)d->seq + 2;
    size_t np = d->len - 2;

    switch (c) {
    case 'A': return JG_GW_KEY_UP;
    case 'B': return JG_GW_KEY_DOWN;
    case 'H': return JG_GW_KEY_HOME;
    case 'F': return JG_GW_KEY_END;
    case '~':
        if (d->seq[1] != '[' || np != 1)
            return JG_GW_KEY_NONE;
        switch (par[0]) {
        case '1': case '7': return JG_GW_KEY_HOME;
        case '4': case '8': return JG_GW_KEY_END;
        case '5': return JG_GW_KEY_PGUP;
        case '6': return JG_GW_KEY_PGDN;
        }
        return JG_GW_KEY_NONE;
    }
    return JG_GW_KEY_NONE;
}

static enum jg_gw_key
plain(struct jg_gw_keydec *d, uint8_t c, int *digit)
{
    bool after_cr = d->after_cr;

    d->after_cr = false;
    if (c >= '0' && c <= '9') {
        *digit = c - '0';
        return JG_GW_KEY_DIGIT;
    }
    switch (c) {
    case ESC:
        d->seq[0] = c;
        d->len = 1;
        return JG_GW_KEY_NONE;
    case '\r':
        d->after_cr = true;
        return JG_GW_KEY_ENTER;
    case '\n':
        return after_cr ? JG_GW_KEY_NONE : JG_GW_KEY_ENTER;
    case 'k': case 0x10: return JG_GW_KEY_UP;
    case 'j': case 0x0e: return JG_GW_KEY_DOWN;
    case 'g': return JG_GW_KEY_HOME;
    case 'G': return JG_GW_KEY_END;
    case 0x7f: case 0x08: return JG_GW_KEY_BACKSPACE;
    case 'q': case 'Q': return JG_GW_KEY_QUIT;
    case 0x03: return JG_GW_KEY_INTR;
    case 0x04: return JG_GW_KEY_EOF;
    }
    return JG_GW_KEY_NONE;
}

enum jg_gw_key
jg_gw_key_feed(struct jg_gw_keydec *d, uint8_t c, int *digit)
{
    *digit = 0;
    if (d->len == 0)
        return plain(d, c, digit);
    if (d->len == 1) {
        if (c == '[' || c == 'O') {
            d->seq[d->len++] = c;
            return JG_GW_KEY_NONE;
        }
        /* ESC and something else: Alt+key, or a lone Escape. */
        d->len = 0;
        return plain(d, c, digit);
    }
    if (d->seq[1] == '[' && c >= 0x20 && c <= 0x3f) {
        /* parameters and intermediates; an overlong run is skipped */
        if (d->len < sizeof(d->seq))
            d->seq[d->len++] = c;
        return JG_GW_KEY_NONE;
    }
    if (c >= 0x40 && c <= 0x7e) {
        enum jg_gw_key k = d->len < sizeof(d->seq) ? esc_final(d, c)
                                                   : JG_GW_KEY_NONE;
        d->len = 0;
        return k;
    }
    /* A control byte breaks off the sequence and counts on its own. */
    d->len = 0;
    return plain(d, c, digit);
}

/* ---- the menu ---------------------------------------------------------- */

struct jg_gw_menu *
jg_gw_menu_new(const char *user, struct jg_gw_menu_entry *v, size_t n)
{
    struct jg_gw_menu *m = jg_xcalloc(1, sizeof(*m));

    jg_strlcpy(m->user, user, sizeof(m->user));
    m->v = v;
    m->n = n;
    return m;
}

void
jg_gw_menu_free(struct jg_gw_menu *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->n; i++) {
        free(m->v[i].target);
        free(m->v[i].login);
        free(m->v[i].label);
    }
    free(m->v);
    free(m);
}

/* What an entry shows: its label, else its target. */
static const char *
shown(const struct jg_gw_menu_entry *e)
{
    return e->label != NULL ? e->label : e->target;
}

static unsigned
eff_rows(const struct jg_gw_menu *m)
{
    unsigned r = m->rows ? m->rows : 24;

    return r < 3 ? 3 : r > 200 ? 200 : r;
}

static unsigned
eff_cols(const struct jg_gw_menu *m)
{
    unsigned c = m->cols ? m->cols : 80;

    return c < 20 ? 20 : c > 400 ? 400 : c;
}

/* Entries that fit between the header and the status line. */
static size_t
visible(const struct jg_gw_menu *m)
{
    return eff_rows(m) - 2;
}

/* Keeps the chosen entry on the screen. */
static void
layout(struct jg_gw_menu *m)
{
    size_t vis = visible(m);

    if (m->n == 0) {
        m->sel = m->top = 0;
        return;
    }
    if (m->sel >= m->n)
        m->sel = m->n - 1;
    if (m->sel < m->top)
        m->top = m->sel;
    if (m->sel >= m->top + vis)
        m->top = m->sel - vis + 1;
    if (m->n > vis && m->top > m->n - vis)
        m->top = m->n - vis;
    if (m->n <= vis)
        m->top = 0;
}

void
jg_gw_menu_resize(struct jg_gw_menu *m, unsigned cols, unsigned rows)
{
    m->cols = cols;
    m->rows = rows;
    layout(m);
}

static enum jg_gw_menu_res
digit_key(struct jg_gw_menu *m, int digit)
{
    size_t len = strlen(m->num), v = 0, i;

    if (len == 0 && digit == 0) {
        snprintf(m->note, sizeof(m->note), "there is no entry 0");
        return JG_GW_MENU_MORE;
    }
    if (len + 1 >= sizeof(m->num))
        return JG_GW_MENU_MORE;
    m->num[len] = (char)('0' + digit);
    m->num[len + 1] = '\0';
    for (i = 0; m->num[i] != '\0'; i++)
        v = v * 10 + (size_t)(m->num[i] - '0');
    if (v > m->n) {
        snprintf(m->note, sizeof(m->note), "there is no entry %s", m->num);
        m->num[0] = '\0';
        return JG_GW_MENU_MORE;
    }
    m->sel = v - 1;
    /* No longer number can name an entry: this one is meant. */
    if (v * 10 > m->n) {
        m->num[0] = '\0';
        return JG_GW_MENU_PICK;
    }
    return JG_GW_MENU_MORE;
}

enum jg_gw_menu_res
jg_gw_menu_key(struct jg_gw_menu *m, enum jg_gw_key k, int digit)
{
    enum jg_gw_menu_res r = JG_GW_MENU_MORE;
    size_t page = visible(m), len;

    if (k == JG_GW_KEY_NONE)
        return r;
    m->note[0] = '\0';
    if (k != JG_GW_KEY_DIGIT && k != JG_GW_KEY_BACKSPACE &&
        k != JG_GW_KEY_ENTER)
        m->num[0] = '\0';
    switch (k) {
    case JG_GW_KEY_UP:
        if (m->sel > 0)
            m->sel--;
        break;
    case JG_GW_KEY_DOWN:
        if (m->sel + 1 < m->n)
            m->sel++;
        break;
    case JG_GW_KEY_PGUP:
        m->sel = m->sel > page ? m->sel - page : 0;
        break;
    case JG_GW_KEY_PGDN:
        m->sel = m->sel + page < m->n ? m->sel + page : m->n - 1;
        break;
    case JG_GW_KEY_HOME:
        m->sel = 0;
        break;
    case JG_GW_KEY_END:
        m->sel = m->n - 1;
        break;
    case JG_GW_KEY_DIGIT:
        r = digit_key(m, digit);
        break;
    case JG_GW_KEY_BACKSPACE:
        if ((len = strlen(m->num)) > 0)
            m->num[len - 1] = '\0';
        break;
    case JG_GW_KEY_ENTER:
        /* A typed number was checked digit by digit; sel follows it. */
        m->num[0] = '\0';
        r = JG_GW_MENU_PICK;
        break;
    case JG_GW_KEY_QUIT:
    case JG_GW_KEY_EOF:
        r = JG_GW_MENU_QUIT;
        break;
    case JG_GW_KEY_INTR:
        r = JG_GW_MENU_INTR;
        break;
    case JG_GW_KEY_NONE:
        break;
    }
    if (m->n == 0 && r == JG_GW_MENU_PICK)
        r = JG_GW_MENU_MORE;
    layout(m);
    return r;
}

/* One line, cut to the width (text is plain ASCII after escaping). */
static void
put_line(FILE *f, const char *text, size_t width, bool rev)
{
    size_t n = strlen(text);

    if (n > width)
        n = width;
    if (rev)
        fputs("\x1b[7m", f);
    fwrite(text, 1, n, f);
    if (rev)
        fputs("\x1b[0m", f);
    fputs("\x1b[K", f);
}

void
jg_gw_menu_render(struct jg_gw_menu *m, char **out, size_t *len)
{
    size_t vis, i, w = 1, tw = 0, width = eff_cols(m) - 1;
    char line[512], t[160], l[160], u[160];
    FILE *f;

    layout(m);
    vis = visible(m);
    for (i = m->n; i >= 10; i /= 10)
        w++;
    for (i = 0; i < m->n; i++) {
        jg_gw_escape(shown(&m->v[i]), t, sizeof(t));
        if (strlen(t) > tw)
            tw = strlen(t);
    }
    if (tw > 40)
        tw = 40;
    *out = NULL;
    *len = 0;
    if ((f = open_memstream(out, len)) == NULL)
        abort();
    fputs("\x1b[H\x1b[2J", f);
    jg_gw_escape(m->user, u, sizeof(u));
    snprintf(line, sizeof(line),
             "jumpgate: targets for %s - Up/Down or j/k, Enter or a number "
             "picks, q leaves", u);
    put_line(f, line, width, false);
    for (i = m->top; i < m->n && i < m->top + vis; i++) {
        jg_gw_escape(shown(&m->v[i]), t, sizeof(t));
        jg_gw_escape(m->v[i].login, l, sizeof(l));
        snprintf(line, sizeof(line), "%c %*zu  %-*s  as %s",
                 i == m->sel ? '>' : ' ', (int)w, i + 1, (int)tw, t, l);
        fputs("\r\n", f);
        put_line(f, line, width, i == m->sel);
    }
    fputs("\r\n", f);
    if (m->note[0] != '\0')
        snprintf(line, sizeof(line), "%s", m->note);
    else if (m->num[0] != '\0')
        snprintf(line, sizeof(line), "number: %s (Enter picks)", m->num);
    else if (m->n > vis)
        snprintf(line, sizeof(line), "entries %zu-%zu of %zu", m->top + 1,
                 m->top + vis, m->n);
    else
        line[0] = '\0';
    put_line(f, line, width, false);
    if (fclose(f) != 0)
        abort();
}
