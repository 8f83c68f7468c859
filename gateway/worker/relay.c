/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/relay.c - the byte path of every channel: bounded buffers
 * between the client channel and the target (channel or socket), writes
 * never beyond the peer's window, EOF and close passed on in order. Once
 * the monitor is gone nothing more is passed on, not even what was read
 * already: it could not be recorded (the worker leaves at the top of its
 * loop). Likewise bytes the SFTP audit cannot follow are dropped at the
 * tap, and their channel ends (sftp.c). */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/worker/internal.h"

bool
jg_gw_relay_tap(struct jg_gw_chan *ch, const char *dir, const uint8_t *data,
                size_t len)
{
    if (dir[0] == 'i')
        ch->bytes_in += len;
    else
        ch->bytes_out += len;
    if (ch->sftp != NULL && !jg_gw_wk_sftp_tap(ch, dir, data, len))
        return false;
    /* Recorded channels: the monitor writes the recording. Input goes only
     * when the rule records it. */
    if (!ch->rec || len == 0 || ch->w->monitor_gone ||
        (dir[0] == 'i' && !ch->record_input))
        return true;
    /* Into the tap ring before it is passed on; a monitor that is gone
     * stops the session (nothing unrecorded goes through). */
    if (jg_gw_tap_put(ch->w->tap, ch->w->mon, ch->id, (uint8_t)dir[0], data,
                      len) != 0)
        ch->w->monitor_gone = true;
    return true;
}

void
jg_gw_wk_rec_resize(struct jg_gw_chan *ch)
{
    uint32_t v[2];

    if (!ch->rec || ch->w->monitor_gone)
        return;
    v[0] = ch->cols > 10000 ? 10000 : ch->cols;
    v[1] = ch->rows > 10000 ? 10000 : ch->rows;
    if (jg_gw_tap_put(ch->w->tap, ch->w->mon, ch->id, 'r', v, sizeof(v)) != 0)
        ch->w->monitor_gone = true;
}

int
jg_gw_relay_held(ssh_channel c, int is_stderr)
{
    int n;

    if (c == NULL || !ssh_channel_is_open(c))
        return 0;
    n = ssh_channel_poll(c, is_stderr);
    if (n == SSH_EOF)
        return 0;
    return n < 0 ? -1 : n;
}

bool
jg_gw_relay_discard(ssh_channel c, int is_stderr)
{
    uint8_t sink[4096];
    int left = jg_gw_relay_held(c, is_stderr), got;
    bool moved = false;

    while (left > 0) {
        got = ssh_channel_read_nonblocking(
            c, sink, left < (int)sizeof(sink) ? (uint32_t)left : sizeof(sink),
            is_stderr);
        if (got <= 0)
            break;
        left -= got;
        moved = true;
    }
    return moved;
}

/* One stream of src into b (or nowhere): exactly n bytes, held already. */
static void
take(struct jg_gw_chan *ch, ssh_channel src, struct jg_gw_buf *b, int n,
     int is_stderr, const char *dir)
{
    uint8_t *p;
    int got;

    if (n <= 0)
        return;
    if (b == NULL) {
        jg_gw_relay_discard(src, is_stderr);
        return;
    }
    p = jg_gw_buf_tail(b);
    got = ssh_channel_read_nonblocking(src, p, (uint32_t)n, is_stderr);
    if (got > 0 && jg_gw_relay_tap(ch, dir, p, (size_t)got))
        b->len += (size_t)got;
}

/* libssh channel -> buffers. libssh (0.10 to 0.12) tops a channel's receive window up
 * to 1.28 MB at every read of it, whatever it still holds unread: a reader
 * that takes less than is held lets the peer grow that store without bound
 * (at 256 MiB libssh drops the data and then crashes on the next read). So
 * everything src holds on both streams is taken at once or not at all: it
 * then never holds more than about two windows, and the buffers grow to
 * take that (JG_GW_BUF_MAX). A peer that sends beyond its window anyway
 * ends the channel. err NULL: src's extended data is read and dropped (a
 * client's; it goes nowhere). */
static bool
fill_chan(struct jg_gw_chan *ch, ssh_channel src, struct jg_gw_buf *out,
          const char *dir_out, struct jg_gw_buf *err, const char *dir_err)
{
    int n_out, n_err;

    if (src == NULL || !ssh_channel_is_open(src))
        return false;
    n_out = jg_gw_relay_held(src, 0);
    n_err = jg_gw_relay_held(src, 1);
    /* A session in error is seen, and ended, by the worker's loop. */
    if (n_out < 0 || n_err < 0 || (n_out == 0 && n_err == 0))
        return false;
    if ((unsigned)n_out > JG_GW_BUF_MAX || (unsigned)n_err > JG_GW_BUF_MAX) {
        jg_warn("%s of %s from %s: the %s sent beyond the channel's window "
                "(%d bytes held); channel ended",
                ch->kind == JG_GW_CH_FORWARD ? "forward" : "channel",
                ch->w->name.user, ch->w->peer,
                src == ch->c ? "client" : "target",
                n_out > n_err ? n_out : n_err);
        ch->dead = true;
        return true;
    }
    if ((n_out > 0 && !jg_gw_buf_reserve(out, (size_t)n_out)) ||
        (n_err > 0 && err != NULL && !jg_gw_buf_reserve(err, (size_t)n_err)))
        return false;
    take(ch, src, out, n_out, 0, dir_out);
    take(ch, src, err, n_err, 1, dir_err);
    return true;
}

/* Buffer -> libssh channel, never beyond its window. */
static bool
drain_chan(struct jg_gw_chan *ch, ssh_channel dst, struct jg_gw_buf *b,
           int is_stderr)
{
    uint32_t win, n;
    int put;

    if (b->len == 0 || dst == NULL || !ssh_channel_is_open(dst) ||
        ch->w->monitor_gone)
        return false;
    if ((win = ssh_channel_window_size(dst)) == 0)
        return false;
    n = b->len < win ? (uint32_t)b->len : win;
    put = is_stderr ? ssh_channel_write_stderr(dst, b->data + b->off, n)
                    : ssh_channel_write(dst, b->data + b->off, n);
    if (put < 0) {
        ch->dead = true;
        return true;
    }
    jg_gw_buf_consumed(b, (size_t)put);
    return put > 0;
}

static void
send_status(struct jg_gw_chan *ch)
{
    if (ch->rec && (ch->exit_signal_set || ch->exit_status_set)) {
        struct jg_gw_msg *m = jg_xmalloc(sizeof(*m));
        jg_gw_msg_init(m, JG_GW_REQ_REC_EXIT);
        jg_gw_msg_put_u32(m, ch->id);
        jg_gw_msg_put_u8(m, ch->exit_signal_set);
        jg_gw_msg_put_u32(m, ch->exit_signal_set ? 0
                                                 : (uint32_t)ch->exit_status & 255);
        jg_gw_msg_put_str(m, ch->exit_signal_set ? ch->exit_signal : "");
        jg_gw_wk_send(ch->w, m);
        free(m);
    }
    if (ch->exit_signal_set)
        ssh_channel_request_send_exit_signal(ch->c, ch->exit_signal, ch->core,
                                             "", "");
    else if (ch->exit_status_set)
        ssh_channel_request_send_exit_status(ch->c, ch->exit_status);
}

static bool
pump_session(struct jg_gw_chan *ch)
{
    bool moved = false, up_eof, up_closed;

    if (!ch->started)
        return false;
    /* client -> target */
    if (ch->u != NULL && !ch->u_eof_sent) {
        moved |= fill_chan(ch, ch->c, &ch->c2u, "i", NULL, NULL);
        moved |= drain_chan(ch, ch->u, &ch->c2u, 0);
        if (ch->c2u.len == 0 && ssh_channel_is_eof(ch->c) &&
            ssh_channel_is_open(ch->u)) {
            ssh_channel_send_eof(ch->u);
            ch->u_eof_sent = true;
            moved = true;
        }
    } else if (ch->u == NULL) {
        moved |= jg_gw_relay_discard(ch->c, 0);
        moved |= jg_gw_relay_discard(ch->c, 1);
    }
    /* target -> client */
    if (ch->u != NULL)
        moved |= fill_chan(ch, ch->u, &ch->u2c, "o", &ch->u2c_err, "e");
    if (ch->w->monitor_gone)
        return true;
    if (!ch->c_eof_sent) {
        moved |= drain_chan(ch, ch->c, &ch->u2c, 0);
        moved |= drain_chan(ch, ch->c, &ch->u2c_err, 1);
    }
    up_closed = ch->local_only || (ch->u != NULL && ssh_channel_is_closed(ch->u) &&
                                   ssh_channel_poll(ch->u, 0) <= 0 &&
                                   ssh_channel_poll(ch->u, 1) <= 0);
    up_eof = up_closed || (ch->u != NULL && ssh_channel_is_eof(ch->u));
    if (!ch->c_eof_sent && up_eof && ch->u2c.len == 0 &&
        ch->u2c_err.len == 0 && ssh_channel_is_open(ch->c)) {
        ssh_channel_send_eof(ch->c);
        ch->c_eof_sent = true;
        moved = true;
    }
    if (ch->c_eof_sent && up_closed && !ch->status_sent) {
        send_status(ch);
        ssh_channel_close(ch->c);
        ch->status_sent = true;
        moved = true;
    }
    return moved;
}

static bool
pump_forward(struct jg_gw_chan *ch)
{
    bool moved = false;
    ssize_t n;

    /* target -> client */
    if (!ch->fd_eof && jg_gw_buf_room(&ch->u2c) > 0) {
        uint8_t *p = jg_gw_buf_tail(&ch->u2c);
        n = read(ch->fd, p, jg_gw_buf_room(&ch->u2c));
        if (n > 0) {
            if (jg_gw_relay_tap(ch, "o", p, (size_t)n))
                ch->u2c.len += (size_t)n;
            moved = true;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            ch->fd_eof = true;
            moved = true;
        }
    }
    if (ch->w->monitor_gone)
        return true;
    moved |= drain_chan(ch, ch->c, &ch->u2c, 0);
    if (ch->fd_eof && ch->u2c.len == 0 && !ch->c_eof_sent &&
        ssh_channel_is_open(ch->c)) {
        ssh_channel_send_eof(ch->c);
        ch->c_eof_sent = true;
        moved = true;
    }
    /* client -> target */
    if (!ch->fd_wr_shut) {
        moved |= fill_chan(ch, ch->c, &ch->c2u, "i", NULL, NULL);
        if (ch->c2u.len > 0) {
            n = write(ch->fd, ch->c2u.data + ch->c2u.off, ch->c2u.len);
            if (n > 0) {
                jg_gw_buf_consumed(&ch->c2u, (size_t)n);
                moved = true;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                ch->fd_wr_shut = true;
                ch->fd_eof = true;
                ch->c2u.len = 0;
                moved = true;
            }
        }
        if (ch->c2u.len == 0 && ssh_channel_is_eof(ch->c)) {
            shutdown(ch->fd, SHUT_WR);
            ch->fd_wr_shut = true;
            moved = true;
        }
    }
    if (ch->c_eof_sent && ch->fd_wr_shut && !ch->status_sent) {
        ssh_channel_close(ch->c);
        ch->status_sent = true;
        moved = true;
    }
    return moved;
}

bool
jg_gw_relay_pump(struct jg_gw_chan *ch)
{
    bool moved;

    if (ch->dead || ch->w->monitor_gone)
        return false;
    moved = ch->kind == JG_GW_CH_SESSION ? pump_session(ch) : pump_forward(ch);
    /* The client closed its end: nothing more to carry either way. */
    if (ssh_channel_is_closed(ch->c)) {
        if (ch->u != NULL && ssh_channel_is_open(ch->u))
            ssh_channel_close(ch->u);
        ch->dead = true;
        moved = true;
    }
    return moved;
}
