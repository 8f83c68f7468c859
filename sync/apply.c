/* SPDX-License-Identifier: Apache-2.0 */
/* sync/apply.c - carries a plan out: the max_removals guard, then additions
 * before removals (a changed source is never shut out in between), each
 * change on its own so that a run killed half-way converges next time. */
#include <string.h>

#include "sync/internal.h"

static int
apply_sg(struct jg_sync *s, const struct jg_sync_change *c)
{
    char cs[JG_CIDR_STRLEN] = "-";
    bool already = false;
    int r;

    if (c->cidr.a.family != 0)
        jg_cidr_format(&c->cidr, cs, sizeof(cs));
    if (c->op == '+') {
        r = jg_sync_sg_authorize(s, c->target, c->exposure, c->port, &c->cidr,
                                 c->description != NULL ? c->description
                                                        : "jumpgate",
                                 &already);
        if (r == 0)
            jg_info("%s: %s tcp/%u from %s%s", c->exposure, c->target,
                    (unsigned)c->port, cs,
                    already ? " was already allowed" : " allowed");
    } else {
        r = jg_sync_sg_revoke(s, c->target, c->rule_id, &already);
        if (r == 0)
            jg_info("%s: %s rule %s (%s) %s", c->exposure, c->target,
                    c->rule_id, cs, already ? "was already gone" : "removed");
    }
    if (r == 0)
        jg_sync_report(s, c, "aws", c->target, already);
    return r;
}

int
jg_sync_plan_apply(struct jg_sync *s, const struct jg_sync_plan *plan,
                   int max_removals, bool force, size_t *done)
{
    size_t n = 0, i;
    int pass, r = JG_ERR_INTERNAL;

    s->err[0] = '\0';
    if (done != NULL)
        *done = 0;
    if (max_removals >= 0 && plan->n_removals > (size_t)max_removals &&
        !force) {
        jg_sync_seterr(s, "the plan removes %zu managed rules or list entries, "
                       "more than sync.max_removals (%d); nothing was changed "
                       "(use --force to apply it anyway)",
                       plan->n_removals, max_removals);
        r = JG_ERR_DENIED;
        goto out;
    }
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < plan->n; i++) {
            const struct jg_sync_change *c = &plan->v[i];

            if (c->where != JG_SYNC_AWS_SG || c->op != (pass == 0 ? '+' : '-'))
                continue;
            if ((r = apply_sg(s, c)) != 0)
                goto out;
            n++;
        }
    }
    {
        size_t cf = 0;

        r = jg_sync_cf_apply(s, plan, &cf);
        n += cf;
        if (r != 0)
            goto out;
    }
    r = 0;
out:
    if (done != NULL)
        *done = n;
    return r;
}
