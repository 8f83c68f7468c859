/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/report.c - what the worker tells the monitor for the
 * master's session list and metrics: the state of each allowed channel
 * and the bytes moved (at least once a second while data flows, and when
 * a channel ends), a recorded channel's on their own, so that its end
 * event has them even if the worker dies. */
#include <stdlib.h>
#include <time.h>

#include "gateway/worker/internal.h"

void
jg_gw_wk_grant_state(struct jg_gw_wk *w, uint32_t id, uint8_t state)
{
    struct jg_gw_msg *q;

    if (w->monitor_gone)
        return;
    q = jg_xmalloc(sizeof(*q));
    jg_gw_msg_init(q, JG_GW_REQ_CHAN_STATE);
    jg_gw_msg_put_u32(q, id);
    jg_gw_msg_put_u8(q, state);
    jg_gw_wk_send(w, q);
    free(q);
}

void
jg_gw_wk_chan_granted(struct jg_gw_chan *ch, uint32_t id)
{
    ch->granted = true;
    ch->grant = id;
}

/* ch: the recorded channel they all belong to, or NULL. */
static void
send_bytes(struct jg_gw_wk *w, uint64_t in, uint64_t out,
           const struct jg_gw_chan *ch)
{
    struct jg_gw_msg *q;

    if (w->monitor_gone || (in == 0 && out == 0))
        return;
    q = jg_xmalloc(sizeof(*q));
    jg_gw_msg_init(q, JG_GW_REQ_BYTES);
    jg_gw_msg_put_u64(q, in);
    jg_gw_msg_put_u64(q, out);
    if (ch != NULL)
        jg_gw_msg_put_u32(q, ch->id);
    jg_gw_wk_send(w, q);
    free(q);
}

void
jg_gw_wk_report_bytes(struct jg_gw_wk *w, bool force)
{
    struct jg_gw_chan *ch;
    uint64_t in = 0, out = 0;
    int64_t now = jg_gw_now_ms();

    if (!force && now - w->rep_at_ms < 1000)
        return;
    w->rep_at_ms = now;
    for (ch = w->chans; ch != NULL; ch = ch->next) {
        if (ch->rec)
            send_bytes(w, ch->bytes_in - ch->rep_in,
                       ch->bytes_out - ch->rep_out, ch);
        else {
            in += ch->bytes_in - ch->rep_in;
            out += ch->bytes_out - ch->rep_out;
        }
        ch->rep_in = ch->bytes_in;
        ch->rep_out = ch->bytes_out;
    }
    send_bytes(w, in, out, NULL);
}

void
jg_gw_wk_report_chan_end(struct jg_gw_wk *w, struct jg_gw_chan *ch)
{
    send_bytes(w, ch->bytes_in - ch->rep_in, ch->bytes_out - ch->rep_out,
               ch->rec ? ch : NULL);
    ch->rep_in = ch->bytes_in;
    ch->rep_out = ch->bytes_out;
    if (ch->granted && ch->rep_state == JG_GW_CHAN_RUNNING) {
        ch->rep_state = JG_GW_CHAN_ENDED;
        jg_gw_wk_grant_state(w, ch->grant, JG_GW_CHAN_ENDED);
    }
}
