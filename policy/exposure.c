/* SPDX-License-Identifier: Apache-2.0 */
/* policy/exposure.c - the source CIDR set that an exposure entry must let
 * through at a given time. */
#include <string.h>

#include "policy/internal.h"

static bool
names_user(const struct pol_exposure *e, const struct jg_user *u)
{
    size_t i;

    if (e->all_users)
        return true;
    for (i = 0; i < e->n_src_users; i++) {
        if (strcmp(e->src_users[i], u->name) == 0)
            return true;
    }
    for (i = 0; i < e->n_src_groups; i++) {
        if (jg_policy_user_in_group(u, e->src_groups[i]))
            return true;
    }
    return false;
}

int
jg_policy_exposure_sources(const struct jg_policy *p, size_t i, int64_t at,
                           struct jg_cidr **out, size_t *n)
{
    const struct pol_exposure *e;
    GArray *v;
    size_t u, k;

    *out = NULL;
    *n = 0;
    if (i >= p->exposures->len)
        return JG_ERR_NOTFOUND;
    e = POL_EXPOSURE(p, i);
    v = g_array_new(FALSE, FALSE, sizeof(struct jg_cidr));
    for (u = 0; u < p->users->len; u++) {
        const struct pol_user *pu = POL_USER(p, u);
        if (at >= pu->pub.expires || !names_user(e, &pu->pub))
            continue;
        g_array_append_vals(v, pu->pub.from, pu->pub.n_from);
        for (k = 0; k < pu->n_grants; k++) {
            const struct pol_grant *g = POL_GRANT(p, pu->grants[k]);
            if (at < g->pub.until)
                g_array_append_vals(v, g->pub.from, g->pub.n_from);
        }
    }
    *n = jg_cidr_canonicalize((struct jg_cidr *)(void *)v->data, v->len);
    *out = (struct jg_cidr *)(void *)g_array_free(v, FALSE);
    return 0;
}
