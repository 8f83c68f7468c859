/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/sftp.c - the worker's side of the SFTP audit: asks the
 * monitor to log an sftp channel, feeds what the relay taps to the SFTP
 * parser (the bytes themselves go on untouched), sends each parsed event
 * to the monitor, and ends the channel when the parser cannot follow it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "gateway/worker/internal.h"

static void
put_opt(struct jg_gw_msg *m, const char *s)
{
    jg_gw_msg_put_u8(m, s != NULL);
    jg_gw_msg_put_str(m, s != NULL ? s : "");
}

/* Parser callback: one event to the monitor (no answer). */
static void
send_event(const struct jg_audit_sftp_event *ev, void *arg)
{
    struct jg_gw_chan *ch = arg;
    struct jg_gw_msg *q;

    if (ch->w->monitor_gone)
        return;
    q = jg_xmalloc(sizeof(*q));
    jg_gw_msg_init(q, JG_GW_REQ_SFTP_EVENT);
    jg_gw_msg_put_u32(q, ch->id);
    jg_gw_msg_put_u8(q, (uint8_t)ev->kind);
    put_opt(q, ev->path);
    put_opt(q, ev->to);
    put_opt(q, ev->request);
    jg_gw_msg_put_u8(q, ev->truncated);
    jg_gw_msg_put_u32(q, ev->pflags);
    jg_gw_msg_put_u32(q, ev->attrs.flags);
    jg_gw_msg_put_u64(q, ev->attrs.size);
    jg_gw_msg_put_u32(q, ev->attrs.uid);
    jg_gw_msg_put_u32(q, ev->attrs.gid);
    jg_gw_msg_put_u32(q, ev->attrs.perm);
    jg_gw_msg_put_u32(q, ev->attrs.atime);
    jg_gw_msg_put_u32(q, ev->attrs.mtime);
    jg_gw_msg_put_u64(q, ev->bytes_read);
    jg_gw_msg_put_u64(q, ev->bytes_written);
    jg_gw_msg_put_u64(q, ev->length);
    jg_gw_msg_put_u32(q, (uint32_t)ev->status);
    jg_gw_msg_put_str(q, ev->error != NULL ? ev->error : "");
    /* Paths are bounded so that an event always fits; q->bad would mean a
     * bug, and then the event is lost rather than the session. */
    if (!q->bad)
        jg_gw_wk_send(ch->w, q);
    else
        jg_error("sftp event of %s too large for the monitor",
                 jg_audit_sftp_type(ev->kind));
    free(q);
}

int
jg_gw_wk_sftp_open(struct jg_gw_chan *ch, uint32_t grant, char *err,
                   size_t errn)
{
    struct jg_gw_wk *w = ch->w;
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    char text[512];
    uint8_t ok = 0;
    int r = JG_ERR_DENIED;

    ch->id = w->next_chan_id++;
    jg_gw_msg_init(q, JG_GW_REQ_SFTP_START);
    jg_gw_msg_put_u32(q, ch->id);
    jg_gw_msg_put_u32(q, grant);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_SFTP_START) != 0 ||
        jg_gw_msg_get_u8(a, &ok) != 0 ||
        jg_gw_msg_get_str(a, text, sizeof(text)) != 0) {
        w->monitor_gone = true;
        snprintf(err, errn, "internal error");
    } else if (!ok) {
        snprintf(err, errn, "the session cannot be logged: %s", text);
    } else {
        if (text[0] != '\0')
            ch->sftp = jg_audit_sftp_new(send_event, ch);
        r = 0;
    }
    free(q);
    free(a);
    return r;
}

/* The parser lost the stream: nothing more may pass, since it would pass
 * unrecorded. What waits in the buffers is dropped, the target's channel
 * closed, and the client gets the reason on stderr, exit status 1, EOF and
 * the channel's close (the relay's local end). The sftp.error event went
 * to the monitor from the parser. */
static void
cut(struct jg_gw_chan *ch)
{
    const char *why = jg_audit_sftp_error(ch->sftp);
    char *text = jg_xasprintf("jumpgate: sftp channel closed: the audit "
                              "cannot follow it (%s)\n", why);
    size_t n = strlen(text);

    jg_error("sftp of %s from %s on %s: %s; channel closed",
             ch->w->name.user, ch->w->peer, ch->target, why);
    jg_gw_buf_clear(&ch->c2u);
    jg_gw_buf_clear(&ch->u2c);
    jg_gw_buf_clear(&ch->u2c_err);
    jg_gw_buf_put(&ch->u2c_err, text, n);
    free(text);
    if (ch->u != NULL) {
        /* no exit status of the target's any more: ours is the end */
        ssh_remove_channel_callbacks(ch->u, &ch->ucb);
        if (ssh_channel_is_open(ch->u))
            ssh_channel_close(ch->u);
    }
    ch->local_only = true;
    ch->exit_signal_set = false;
    ch->exit_status = 1;
    ch->exit_status_set = true;
}

bool
jg_gw_wk_sftp_tap(struct jg_gw_chan *ch, const char *dir, const uint8_t *data,
                  size_t len)
{
    if (ch->sftp == NULL)
        return true;
    /* stderr of the subsystem is not part of the protocol. */
    if (dir[0] == 'i' || dir[0] == 'o')
        jg_audit_sftp_feed(ch->sftp, dir[0] == 'i', data, len);
    if (!jg_audit_sftp_failed(ch->sftp))
        return true;
    if (!ch->local_only)
        cut(ch);
    return false;
}

void
jg_gw_wk_sftp_end(struct jg_gw_wk *w, struct jg_gw_chan *ch)
{
    const struct jg_audit_sftp_stats *st;
    struct jg_gw_msg *q;

    if (ch->sftp == NULL)
        return;
    jg_audit_sftp_finish(ch->sftp);
    st = jg_audit_sftp_stats(ch->sftp);
    if (!w->monitor_gone) {
        q = jg_xmalloc(sizeof(*q));
        jg_gw_msg_init(q, JG_GW_REQ_SFTP_END);
        jg_gw_msg_put_u32(q, ch->id);
        jg_gw_msg_put_u64(q, ch->bytes_in);
        jg_gw_msg_put_u64(q, ch->bytes_out);
        jg_gw_msg_put_u64(q, st->dropped_requests);
        jg_gw_msg_put_u64(q, st->dropped_handles);
        jg_gw_wk_send(w, q);
        free(q);
    }
    jg_audit_sftp_free(ch->sftp);
    ch->sftp = NULL;
}
