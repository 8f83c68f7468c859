/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/menu.c - the target menu on a client's pty: asks the
 * monitor what the user may open a shell on now, draws the menu in the
 * client's terminal, follows keys and window changes, and on a pick
 * carries on exactly as a login USER:LOGIN@TARGET would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/worker/internal.h"

/* Text for the client's terminal: LF becomes CR LF (the pty is raw). */
static char *
crlf(const char *s)
{
    size_t n = 0, i, o = 0;
    char *out;

    for (i = 0; s[i] != '\0'; i++)
        n += s[i] == '\n' ? 2 : 1;
    out = jg_xmalloc(n + 1);
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '\n')
            out[o++] = '\r';
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

/* Queues bytes for the client; false when they do not fit now. */
static bool
queue(struct jg_gw_chan *ch, const char *p, size_t n)
{
    struct jg_gw_buf *b = &ch->u2c;

    if (b->len + n > JG_GW_BUF_INIT || !jg_gw_buf_reserve(b, n))
        return false;
    jg_gw_buf_put(b, p, n);
    ch->w->io_menu += n;
    return true;
}

static void
draw(struct jg_gw_chan *ch)
{
    char *screen = NULL;
    size_t len = 0;

    jg_gw_menu_render(ch->menu, &screen, &len);
    ch->menu->dirty = !queue(ch, screen, len);
    free(screen);
}

/* Buffer -> client, never beyond its window. */
static bool
drain(struct jg_gw_chan *ch)
{
    struct jg_gw_buf *b = &ch->u2c;
    uint32_t win, n;
    int put;

    if (b->len == 0 || !ssh_channel_is_open(ch->c) ||
        (win = ssh_channel_window_size(ch->c)) == 0)
        return false;
    n = b->len < win ? (uint32_t)b->len : win;
    if ((put = ssh_channel_write(ch->c, b->data + b->off, n)) < 0) {
        ch->dead = true;
        return true;
    }
    jg_gw_buf_consumed(b, (size_t)put);
    return put > 0;
}

/* Reads the answer's menu entries; false when they are malformed. */
static bool
get_entries(struct jg_gw_msg *a, struct jg_gw_menu_entry **out, size_t *nout)
{
    struct jg_gw_menu_entry *v = NULL;
    char target[128], login[128], label[300];
    uint32_t n, i;

    *out = NULL;
    *nout = 0;
    if (jg_gw_msg_get_u32(a, &n) != 0 || n > JG_GW_MENU_MAX)
        return false;
    v = jg_xcalloc(n ? n : 1, sizeof(*v));
    for (i = 0; i < n; i++) {
        if (jg_gw_msg_get_str(a, target, sizeof(target)) != 0 ||
            jg_gw_msg_get_str(a, login, sizeof(login)) != 0 ||
            jg_gw_msg_get_str(a, label, sizeof(label)) != 0 ||
            target[0] == '\0' || login[0] == '\0')
            break;
        v[i].target = jg_xstrdup(target);
        v[i].login = jg_xstrdup(login);
        v[i].label = label[0] != '\0' ? jg_xstrdup(label) : NULL;
    }
    if (i < n) {
        while (i-- > 0) {
            free(v[i].target);
            free(v[i].login);
            free(v[i].label);
        }
        free(v);
        return false;
    }
    *out = v;
    *nout = n;
    return true;
}

void
jg_gw_wk_menu_open(struct jg_gw_chan *ch)
{
    struct jg_gw_wk *w = ch->w;
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    struct jg_gw_menu_entry *v = NULL;
    char *list = NULL, *text, *t2;
    size_t n = 0;

    jg_gw_msg_init(q, JG_GW_REQ_TARGETS);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_TARGETS) != 0 ||
        jg_gw_msg_get_strdup(a, &list) != 0 || !get_entries(a, &v, &n)) {
        w->monitor_gone = true;
        jg_gw_chan_local_end(ch, false, "jumpgate: internal error\r\n", 1);
        goto out;
    }
    if (n == 0) {
        free(v);
        text = jg_xasprintf("jumpgate: %s, there is no target you may open a "
                            "shell on right now. What you may use:\n%s",
                            w->name.user, list);
        t2 = crlf(text);
        jg_gw_chan_local_end(ch, true, t2, 1);
        free(text);
        free(t2);
        jg_info("menu: %s from %s: nothing to offer", w->name.user, w->peer);
        goto out;
    }
    ch->menu = jg_gw_menu_new(w->name.user, v, n);
    jg_gw_menu_resize(ch->menu, ch->cols, ch->rows);
    draw(ch);
    jg_info("menu: %s from %s: %zu entries", w->name.user, w->peer, n);
out:
    free(list);
    free(q);
    free(a);
}

static void
leave(struct jg_gw_chan *ch, enum jg_gw_menu_res r)
{
    bool intr = r == JG_GW_MENU_INTR;

    jg_gw_menu_free(ch->menu);
    ch->menu = NULL;
    jg_gw_chan_local_end(ch, true,
                         intr ? "\x1b[H\x1b[2Jjumpgate: interrupted\r\n"
                              : "\x1b[H\x1b[2Jjumpgate: no target chosen\r\n",
                         intr ? JG_GW_MENU_EXIT_INTR : JG_GW_MENU_EXIT_QUIT);
    jg_info("menu: %s from %s: left without a target", ch->w->name.user,
            ch->w->peer);
}

/* Connects to the chosen entry; keys typed after the pick go to the
 * target. */
static void
pick(struct jg_gw_chan *ch, const uint8_t *rest, size_t nrest)
{
    struct jg_gw_menu *m = ch->menu;
    char target[128], login[128], t[160], l[160], *text;

    jg_strlcpy(target, m->v[m->sel].target, sizeof(target));
    jg_strlcpy(login, m->v[m->sel].login, sizeof(login));
    jg_gw_menu_free(m);
    ch->menu = NULL;
    jg_gw_escape(target, t, sizeof(t));
    jg_gw_escape(login, l, sizeof(l));
    text = jg_xasprintf("\x1b[H\x1b[2Jjumpgate: %s as %s\r\n", t, l);
    queue(ch, text, strlen(text));
    free(text);
    jg_info("menu: %s from %s: picked %s as %s", ch->w->name.user,
            ch->w->peer, target, login);
    jg_gw_chan_connect(ch, NULL, target, login);
    if (ch->u != NULL && nrest > 0 && jg_gw_relay_tap(ch, "i", rest, nrest)) {
        jg_gw_buf_clear(&ch->c2u);
        jg_gw_buf_put(&ch->c2u, rest, nrest);
    }
}

bool
jg_gw_wk_menu_pump(struct jg_gw_chan *ch)
{
    struct jg_gw_menu *m = ch->menu;
    enum jg_gw_menu_res r = JG_GW_MENU_MORE;
    uint8_t in[512];
    bool moved = false;
    int got, left, i = 0;

    if (ch->dead || !ssh_channel_is_open(ch->c)) {
        ch->dead = true;
        return true;
    }
    if (m->cols != ch->cols || m->rows != ch->rows) {
        jg_gw_menu_resize(m, ch->cols, ch->rows);
        m->dirty = true;
    }
    /* Everything the client sent is taken now, a piece of in[] at a time,
     * up to a pick or a quit (relay.c says why); what follows a
     * pick is the relay's. */
    moved |= jg_gw_relay_discard(ch->c, 1);
    left = jg_gw_relay_held(ch->c, 0);
    got = 0;
    while (left > 0 && r == JG_GW_MENU_MORE) {
        got = ssh_channel_read_nonblocking(
            ch->c, in, left < (int)sizeof(in) ? (uint32_t)left : sizeof(in), 0);
        if (got <= 0)
            break;
        left -= got;
        ch->w->io_menu += (uint64_t)got;
        moved = true;
        for (i = 0; i < got && r == JG_GW_MENU_MORE; i++) {
            int digit;
            enum jg_gw_key k = jg_gw_key_feed(&m->dec, in[i], &digit);
            if (k == JG_GW_KEY_NONE)
                continue;
            r = jg_gw_menu_key(m, k, digit);
            m->dirty = true;
        }
    }
    if (!moved && (got == SSH_ERROR || left < 0 || ssh_channel_is_eof(ch->c)))
        r = JG_GW_MENU_QUIT;
    if (r == JG_GW_MENU_PICK) {
        /* The LF of a CR LF Enter is not for the target. */
        if (m->dec.after_cr && i < got && in[i] == '\n')
            i++;
        pick(ch, in + i, got > i ? (size_t)(got - i) : 0);
        return true;
    }
    if (r != JG_GW_MENU_MORE) {
        leave(ch, r);
        return true;
    }
    if (m->dirty) {
        draw(ch);
        moved = true;
    }
    return drain(ch) || moved;
}
