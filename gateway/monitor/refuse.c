/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/refuse.c - the monitor's record of forwards it refuses
 * before any policy decision (not a target, not its port), of channels
 * the worker refused by its own cap, and of failed connections to
 * targets (refused, timed out, unresolved, unknown or changed host key):
 * a policy.deny or target.error event, a log line and a report that the
 * master counts. */
#include <errno.h>

#include "gateway/monitor/internal.h"

const char *
jg_gw_connect_error(int r, int err)
{
    if (r == JG_ERR_NOTFOUND)
        return "unresolved";
    if (err == ECONNREFUSED)
        return "refused";
    if (err == ETIMEDOUT)
        return "timeout";
    return "unreachable";
}

void
jg_gw_mon_forward_refused(struct jg_gw_mon *m, unsigned action,
                          const char *host, uint32_t port, const char *reason)
{
    json_t *x = json_pack("{s:s,s:i}", "host", host, "port", (int)port);

    jg_info("forward refused: %s from %s: %s", m->user, m->conn->peer,
            reason);
    jg_gw_mon_event(m, "policy.deny", NULL, m->user, host, NULL,
                    jg_policy_action_name(action), NULL, reason, x);
    json_decref(x);
    jg_gw_mon_report_decision(m, action, "denied", NULL);
}

void
jg_gw_mon_target_error(struct jg_gw_mon *m, const struct jg_target *t,
                       unsigned action, const char *error, const char *reason)
{
    json_t *x = json_pack("{s:s,s:i,s:s}", "host", t->host, "port",
                          (int)t->port, "error", error);

    jg_warn("target %s (%s port %u) for %s: %s", t->name, t->host, t->port,
            m->user, reason);
    jg_gw_mon_event(m, "target.error", NULL, m->user, t->name, NULL,
                    jg_policy_action_name(action), NULL, reason, x);
    json_decref(x);
    jg_gw_mon_report_target_error(m, t->name, error);
}

int
jg_gw_mon_chan_refused(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    char reason[128];
    uint8_t why;
    json_t *x;

    if (jg_gw_msg_get_u8(q, &why) != 0 ||
        (why != JG_GW_REFUSED_SESSION_CAP && why != JG_GW_REFUSED_FORWARD_CAP))
        return JG_ERR_INVALID;
    /* The reason is the monitor's own words: the worker only says which. */
    snprintf(reason, sizeof(reason), "too many channels are open at once "
             "(at most %d per connection)", JG_GW_MAX_CHANNELS);
    x = json_pack("{s:s,s:i}", "channel",
                  why == JG_GW_REFUSED_SESSION_CAP ? "session" : "direct-tcpip",
                  "limit", JG_GW_MAX_CHANNELS);
    jg_gw_mon_event(m, "policy.deny", NULL, m->user, NULL, NULL, NULL, NULL,
                    reason, x);
    json_decref(x);
    return 0;
}
