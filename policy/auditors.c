/* SPDX-License-Identifier: Apache-2.0 */
/* policy/auditors.c - who may read the audit trail in the web console, and
 * which sessions each auditor may see (the auditors section, read by
 * load_auditors.c). */
#include <string.h>

#include "policy/internal.h"

size_t
jg_policy_n_auditors(const struct jg_policy *p)
{
    return p->auditors->len;
}

const struct jg_auditor *
jg_policy_auditor_at(const struct jg_policy *p, size_t i)
{
    return i < p->auditors->len ? &POL_AUDITOR(p, i)->pub : NULL;
}

const struct jg_auditor *
jg_policy_auditor(const struct jg_policy *p, const char *account)
{
    size_t i, j;

    for (i = 0; account != NULL && i < p->auditors->len; i++) {
        const struct jg_auditor *a = &POL_AUDITOR(p, i)->pub;
        for (j = 0; j < a->n_accounts; j++) {
            if (strcmp(a->accounts[j], account) == 0)
                return a;
        }
    }
    return NULL;
}

static bool
sees_user(const struct jg_policy *p, const struct pol_auditor *a,
          const char *user)
{
    const struct jg_user *u;
    size_t i;

    if (a->all_users)
        return true;
    if (user == NULL)
        return false;
    for (i = 0; i < a->n_users; i++) {
        if (strcmp(a->users[i], user) == 0)
            return true;
    }
    if ((u = jg_policy_user(p, user)) == NULL)
        return false;
    for (i = 0; i < a->n_groups; i++) {
        if (jg_policy_user_in_group(u, a->groups[i]))
            return true;
    }
    return false;
}

static bool
sees_target(const struct jg_policy *p, const struct pol_auditor *a,
            const char *target)
{
    const char *slash;
    char parent[256];
    int ti;

    if (a->n_targets == 0)
        return true;
    if (target == NULL)
        return false;
    /* A member of a discovering target is seen as that target. */
    if ((slash = strchr(target, '/')) != NULL) {
        size_t n = (size_t)(slash - target);
        if (n == 0 || n >= sizeof(parent))
            return false;
        memcpy(parent, target, n);
        parent[n] = '\0';
        target = parent;
    }
    ti = jg_policy_target_index(p, target);
    return ti >= 0 && jg_policy_tset_has(p, &a->tset, (unsigned)ti);
}

bool
jg_policy_auditor_sees(const struct jg_policy *p, const struct jg_auditor *a,
                       const char *user, const char *target)
{
    const struct pol_auditor *pa = (const struct pol_auditor *)a;

    return a != NULL && sees_user(p, pa, user) && sees_target(p, pa, target);
}
