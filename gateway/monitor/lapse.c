/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/lapse.c - the end of a permission during a session: the
 * lapse notice to the worker (then the kill after JG_GW_LAPSE_GRACE), and
 * the re-decision of every live grant after a reload or at a deadline. */
#include <stdio.h>
#include <stdlib.h>

#include "gateway/monitor/internal.h"

void
jg_gw_mon_lapse(struct jg_gw_mon *m, const char *text)
{
    struct jg_gw_msg *n = jg_xmalloc(sizeof(*n));
    size_t i;

    if (m->lapsed) {
        free(n);
        return;
    }
    m->lapsed = true;
    jg_strlcpy(m->lapse_text, text, sizeof(m->lapse_text));
    for (i = 0; i < JG_GW_MAX_GRANTS; i++)
        m->grants[i].active = false;
    jg_info("session of %s from %s ends: %s", m->user, m->conn->peer, text);
    jg_gw_msg_init(n, JG_GW_NOTE_LAPSE);
    jg_gw_msg_put_str(n, text);
    jg_gw_msg_send(m->sock, n, -1);
    free(n);
    m->kill_deadline = jg_now() + JG_GW_LAPSE_GRACE;
}


void
jg_gw_mon_redecide(struct jg_gw_mon *m)
{
    int64_t now = jg_now();
    size_t i;

    for (i = 0; i < JG_GW_MAX_GRANTS && !m->lapsed; i++) {
        struct jg_gw_grant *g = &m->grants[i];
        struct jg_decision dec;
        struct jg_request req = {
            .user = m->user, .from = m->conn->peer, .target = g->target,
            .action = g->action, .login = g->login[0] ? g->login : NULL,
            .at = now};
        char tbuf[JG_TIME_STRLEN], msg[768];
        int64_t until;

        if (!g->used || !g->active)
            continue;
        jg_policy_decide(m->d->pol, &req, &dec);
        until = dec.until;
        if (g->max_session > 0 && g->started + g->max_session < until)
            until = g->started + g->max_session;
        if (dec.effect != JG_ALLOW || until <= now) {
            if (dec.effect == JG_ALLOW) {
                jg_time_format(until, tbuf, sizeof(tbuf));
                snprintf(msg, sizeof(msg),
                         "your permission for %s on %s ended at %s",
                         jg_policy_action_name(g->action), g->target, tbuf);
            } else {
                snprintf(msg, sizeof(msg),
                         "your permission for %s on %s has ended: %s",
                         jg_policy_action_name(g->action), g->target, dec.reason);
            }
            jg_gw_mon_lapse(m, msg);
            return;
        }
        g->until = until;
    }
    jg_gw_mon_report_untils(m);
}

