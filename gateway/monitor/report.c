/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/report.c - the monitor's reports to the master (who is in,
 * which channels are up with which session id and until when, auth
 * attempts, decisions, bytes in all and per recorded channel, audit write
 * errors), the worker's channel-state and byte requests they come from,
 * and the master's kill order. Reports never block the monitor: the
 * socket is non-blocking and a report that does not fit is dropped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/monitor/internal.h"

static void
send_master(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    if (m->conn->master_fd < 0)
        return;
    if (jg_gw_msg_send(m->conn->master_fd, q, -1) != 0 && errno != EAGAIN)
        jg_debug("monitor: cannot report to the master: %s",
                 strerror(errno));
}

static struct jg_gw_msg *
report(uint8_t type)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));

    jg_gw_msg_init(q, type);
    return q;
}

static void
done(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    send_master(m, q);
    free(q);
}

void
jg_gw_mon_report_hello(struct jg_gw_mon *m)
{
    struct jg_gw_msg *q = report(JG_GW_MM_HELLO);

    jg_gw_msg_put_str(q, m->conn_id);
    done(m, q);
}

void
jg_gw_mon_report_auth(struct jg_gw_mon *m, const char *method,
                      const char *result)
{
    struct jg_gw_msg *q = report(JG_GW_MM_AUTH);

    jg_gw_msg_put_str(q, method);
    jg_gw_msg_put_str(q, result);
    done(m, q);
}

void
jg_gw_mon_report_authed(struct jg_gw_mon *m)
{
    struct jg_gw_msg *q = report(JG_GW_MM_AUTHED);

    jg_gw_msg_put_str(q, m->user);
    done(m, q);
}

void
jg_gw_mon_report_decision(struct jg_gw_mon *m, unsigned action,
                          const char *result, const char *rule)
{
    struct jg_gw_msg *q = report(JG_GW_MM_DECISION);

    jg_gw_msg_put_u32(q, action);
    jg_gw_msg_put_str(q, result);
    jg_gw_msg_put_str(q, rule != NULL ? rule : "");
    done(m, q);
}

/* The session id of grant id's channel: its recording's, its sftp
 * session's or the forward's ("" none). Each is made before the channel
 * runs. */
static const char *
session_of(const struct jg_gw_mon *m, uint32_t id)
{
    size_t i;

    for (i = 0; i < JG_GW_MAX_RECS; i++)
        if (m->recs[i].used && m->recs[i].grant == id)
            return m->recs[i].id;
    for (i = 0; m->sftp != NULL && i < JG_GW_MAX_SFTP; i++)
        if (m->sftp[i].used && m->sftp[i].grant == id)
            return m->sftp[i].id;
    for (i = 0; i < JG_GW_MAX_GRANTS; i++)
        if (m->grants[i].used && m->grants[i].id == id)
            return m->grants[i].fwd_session;
    return "";
}

void
jg_gw_mon_rec_bytes(const struct jg_gw_mon_rec *x, uint64_t *in,
                    uint64_t *out)
{
    *in = x->rec_in > x->wk_in ? x->rec_in : x->wk_in;
    *out = x->rec_out > x->wk_out ? x->rec_out : x->wk_out;
}

void
jg_gw_mon_report_open(struct jg_gw_mon *m, uint32_t id)
{
    struct jg_gw_grant *g = jg_gw_mon_grant(m, id);
    struct jg_gw_msg *q;

    if (g == NULL)
        return;
    q = report(JG_GW_MM_OPEN);
    g->chan = JG_GW_CHAN_RUNNING;
    g->rep_until = g->until;
    jg_gw_msg_put_u32(q, id);
    jg_gw_msg_put_u32(q, g->action);
    jg_gw_msg_put_str(q, g->target);
    jg_gw_msg_put_str(q, g->login);
    jg_gw_msg_put_u64(q, (uint64_t)g->started);
    jg_gw_msg_put_u64(q, (uint64_t)g->until);
    jg_gw_msg_put_str(q, session_of(m, id));
    done(m, q);
    jg_gw_mon_report_decision(m, g->action, "allowed", NULL);
}

void
jg_gw_mon_report_untils(struct jg_gw_mon *m)
{
    size_t i;

    for (i = 0; i < JG_GW_MAX_GRANTS; i++) {
        struct jg_gw_grant *g = &m->grants[i];
        struct jg_gw_msg *q;

        if (!g->used || g->chan != JG_GW_CHAN_RUNNING ||
            g->rep_until == g->until)
            continue;
        g->rep_until = g->until;
        q = report(JG_GW_MM_UNTIL);
        jg_gw_msg_put_u32(q, g->id);
        jg_gw_msg_put_u64(q, (uint64_t)g->until);
        done(m, q);
    }
}

void
jg_gw_mon_report_audit_error(struct jg_gw_mon *m)
{
    done(m, report(JG_GW_MM_AUDIT_ERROR));
}

void
jg_gw_mon_report_target_error(struct jg_gw_mon *m, const char *target,
                              const char *error)
{
    struct jg_gw_msg *q = report(JG_GW_MM_TARGET_ERROR);

    jg_gw_msg_put_str(q, target);
    jg_gw_msg_put_str(q, error);
    done(m, q);
}

/* The worker says what became of an allowed channel. Session channels go
 * none -> running or failed; any running channel -> ended. Forwards are
 * running from the moment the monitor connected them. A failed or ended
 * channel gives its grant back. */
int
jg_gw_mon_chan_state(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_gw_grant *g;
    struct jg_gw_msg *c;
    uint32_t id;
    uint8_t st, was;

    if (jg_gw_msg_get_u32(q, &id) != 0 || jg_gw_msg_get_u8(q, &st) != 0 ||
        (g = jg_gw_mon_grant(m, id)) == NULL)
        return JG_ERR_INVALID;
    was = g->chan;
    if (st == JG_GW_CHAN_RUNNING || st == JG_GW_CHAN_FAILED) {
        if (was != JG_GW_CHAN_NONE ||
            (g->action & JG_ACT_NEEDS_LOGIN) == 0)
            return JG_ERR_INVALID;
        if (st == JG_GW_CHAN_RUNNING) {
            jg_gw_mon_report_open(m, id);
        } else {
            g->chan = JG_GW_CHAN_FAILED;
            jg_gw_mon_report_decision(m, g->action, "error", NULL);
            jg_gw_mon_grant_release(m, id);
        }
        return 0;
    }
    if (st != JG_GW_CHAN_ENDED || was != JG_GW_CHAN_RUNNING)
        return JG_ERR_INVALID;
    g->chan = JG_GW_CHAN_ENDED;
    c = report(JG_GW_MM_CLOSE);
    jg_gw_msg_put_u32(c, id);
    done(m, c);
    jg_gw_mon_grant_release(m, id);
    return 0;
}

/* What the master knows of each recorded channel's bytes, brought up to
 * date: what its monitor recorded or its worker reported, whichever is
 * more. */
static void
report_chan_bytes(struct jg_gw_mon *m)
{
    size_t i;

    for (i = 0; i < JG_GW_MAX_RECS; i++) {
        struct jg_gw_mon_rec *x = &m->recs[i];
        struct jg_gw_msg *c;
        uint64_t in, out;

        if (!x->used)
            continue;
        jg_gw_mon_rec_bytes(x, &in, &out);
        if (in == x->sent_in && out == x->sent_out)
            continue;
        x->sent_in = in;
        x->sent_out = out;
        c = report(JG_GW_MM_CHAN_BYTES);
        jg_gw_msg_put_u32(c, x->grant);
        jg_gw_msg_put_u64(c, in);
        jg_gw_msg_put_u64(c, out);
        done(m, c);
    }
}

int
jg_gw_mon_bytes(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_gw_msg *c;
    uint64_t to_target, to_client;
    uint32_t chan;
    size_t i;

    if (jg_gw_msg_get_u64(q, &to_target) != 0 ||
        jg_gw_msg_get_u64(q, &to_client) != 0 ||
        to_target > (UINT64_C(1) << 50) || to_client > (UINT64_C(1) << 50))
        return JG_ERR_INVALID;
    /* A recorded channel's own (an unknown one: it has ended). */
    if (q->pos < q->len) {
        if (jg_gw_msg_get_u32(q, &chan) != 0)
            return JG_ERR_INVALID;
        for (i = 0; i < JG_GW_MAX_RECS; i++) {
            struct jg_gw_mon_rec *x = &m->recs[i];
            if (x->used && x->chan == chan &&
                x->wk_in + to_target <= (UINT64_C(1) << 60) &&
                x->wk_out + to_client <= (UINT64_C(1) << 60)) {
                x->wk_in += to_target;
                x->wk_out += to_client;
            }
        }
    }
    /* Per channel first: once the master counts these bytes, it also
     * has them for the channel's end event. */
    report_chan_bytes(m);
    c = report(JG_GW_MM_BYTES);
    jg_gw_msg_put_u64(c, to_target);
    jg_gw_msg_put_u64(c, to_client);
    done(m, c);
    return 0;
}

