/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/jg_gw_relay.c - the byte path of every channel: bounded buffers
 * between the client channel and the target (channel or socket), writes
 * never beyond the peer's window, EOF and close passed on in order. Once
 * the monitor is gone nothing more is passed on, not even what was read
 * already: it could not be recorded (the worker leaves at the top of its
 * loop). Likewise bytes the SFTP audit cannot follow are dropped at the
 * tap, and their channel ends (jg_gw_wk_sftp.c). */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gateway.h"

bool
jg_gw_relay_tap(struct jg_gw_chan *ch, const char *dir, const uint8_t *data,
                size_t len)
{
    struct jg_gw_msg *m;
    size_t off, n;

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
    m = jg_xmalloc(sizeof(*m));
    for (off = 0; off < len; off += n) {
        n = len - off < JG_GW_REC_CHUNK ? len - off : JG_GW_REC_CHUNK;
        jg_gw_msg_init(m, JG_GW_REQ_REC_DATA);
        jg_gw_msg_put_u32(m, ch->id);
        jg_gw_msg_put_u8(m, (uint8_t)dir[0]);
        jg_gw_wk_send_bytes(ch->w, m, data + off, n);
    }
    free(m);
    return true;
}

static size_t
room(struct jg_gw_buf *b)
{
    if (b->off > 0 && b->len > 0 && b->off + b->len == sizeof(b->data)) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    } else if (b->len == 0) {
        b->off = 0;
    }
    return sizeof(b->data) - b->off - b->len;
}

static void
consumed(struct jg_gw_buf *b, size_t n)
{
    b->off += n;
    b->len -= n;
    if (b->len == 0)
        b->off = 0;
}

/* libssh channel -> buffer. */
static bool
fill_chan(struct jg_gw_chan *ch, ssh_channel src, struct jg_gw_buf *b,
          int is_stderr, const char *dir)
{
    size_t n = room(b);
    uint8_t *p = b->data + b->off + b->len;
    int got;

    if (n == 0 || src == NULL || !ssh_channel_is_open(src))
        return false;
    got = ssh_channel_read_nonblocking(src, p, (uint32_t)n, is_stderr);
    if (got <= 0)
        return false;
    if (jg_gw_relay_tap(ch, dir, p, (size_t)got))
        b->len += (size_t)got;
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
    consumed(b, (size_t)put);
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
        moved |= fill_chan(ch, ch->c, &ch->c2u, 0, "i");
        moved |= drain_chan(ch, ch->u, &ch->c2u, 0);
        if (ch->c2u.len == 0 && ssh_channel_is_eof(ch->c) &&
            ssh_channel_is_open(ch->u)) {
            ssh_channel_send_eof(ch->u);
            ch->u_eof_sent = true;
            moved = true;
        }
    } else if (ch->u == NULL) {
        uint8_t sink[4096];
        if (ssh_channel_is_open(ch->c) &&
            ssh_channel_read_nonblocking(ch->c, sink, sizeof(sink), 0) > 0)
            moved = true;
    }
    /* target -> client */
    if (ch->u != NULL) {
        moved |= fill_chan(ch, ch->u, &ch->u2c, 0, "o");
        moved |= fill_chan(ch, ch->u, &ch->u2c_err, 1, "e");
    }
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
    if (!ch->fd_eof && room(&ch->u2c) > 0) {
        uint8_t *p = ch->u2c.data + ch->u2c.off + ch->u2c.len;
        n = read(ch->fd, p, room(&ch->u2c));
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
        moved |= fill_chan(ch, ch->c, &ch->c2u, 0, "i");
        if (ch->c2u.len > 0) {
            n = write(ch->fd, ch->c2u.data + ch->c2u.off, ch->c2u.len);
            if (n > 0) {
                consumed(&ch->c2u, (size_t)n);
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
