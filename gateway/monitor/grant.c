/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/grant.c - the grants of a connection: one per allowed
 * channel, from the decision until the channel is over and no recording
 * or SFTP log refers to it. */
#include <string.h>

#include "gateway/monitor/internal.h"

struct jg_gw_grant *
jg_gw_mon_grant(struct jg_gw_mon *m, uint32_t id)
{
    size_t i;

    for (i = 0; i < JG_GW_MAX_GRANTS; i++)
        if (m->grants[i].used && m->grants[i].id == id)
            return &m->grants[i];
    return NULL;
}


void
jg_gw_mon_grant_release(struct jg_gw_mon *m, uint32_t id)
{
    struct jg_gw_grant *g = jg_gw_mon_grant(m, id);
    size_t i;

    if (g == NULL ||
        (g->chan != JG_GW_CHAN_ENDED && g->chan != JG_GW_CHAN_FAILED))
        return;
    g->active = false;
    for (i = 0; i < JG_GW_MAX_RECS; i++)
        if (m->recs[i].used && m->recs[i].grant == id)
            return;
    for (i = 0; m->sftp != NULL && i < JG_GW_MAX_SFTP; i++)
        if (m->sftp[i].used && m->sftp[i].grant == id)
            return;
    memset(g, 0, sizeof(*g));
}


const struct jg_target *
jg_gw_mon_grant_target(struct jg_gw_mon *m, uint32_t id, struct jg_gw_grant **gout)
{
    const struct jg_target *t;
    struct jg_gw_grant *g = jg_gw_mon_grant(m, id);

    if (g == NULL || !g->active)
        return NULL;
    t = jg_policy_target(m->d->pol, g->target);
    if (t == NULL || t->kind != JG_TARGET_SSH || t->host == NULL ||
        (g->action & JG_ACT_NEEDS_LOGIN) == 0)
        return NULL;
    *gout = g;
    return t;
}

