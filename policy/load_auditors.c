/* SPDX-License-Identifier: Apache-2.0 */
/* policy/load_auditors.c - the "auditors" section: who may read the audit
 * trail in the web console (accounts the console's PAM service signs in),
 * and whose sessions, on which targets, each of them may see:
 *
 *   auditors:
 *     - name: pci-auditor
 *       accounts: [carol]
 *       sees: {users: [alice], groups: [ops], targets: ["tier=ecs"]}
 *
 * sees.users "*" is every user; sees.targets left out is every target.
 * Names are checked against the policy, and an account may belong to one
 * auditor entry only, in policy/index.c. */
#include <string.h>

#include "policy/internal.h"

static void
load_sees(struct pol_ctx *x, struct pol_auditor *a, const struct jg_ynode *v)
{
    static const char *const keys[] = {"users", "groups", "targets", NULL};
    const struct jg_ynode *n;
    size_t i;

    if (v == NULL) {
        jg_diags_add(x->d, x->file, a->pub.line, a->pub.col,
                     "auditor '%s' needs sees: {users or groups, [targets]}",
                     a->pub.name ? a->pub.name : "?");
        return;
    }
    if (!jg_y_expect(v, JG_Y_MAP, x->file, "sees", x->d))
        return;
    jg_y_check_keys(v, keys, x->file, "sees", x->d);
    a->users = jg_policy_names(x, jg_y_get(v, "users"), "sees.users",
                               &a->n_users);
    a->groups = jg_policy_names(x, jg_y_get(v, "groups"), "sees.groups",
                                &a->n_groups);
    if (a->n_users == 0 && a->n_groups == 0)
        jg_diags_add(x->d, x->file, v->line, v->col,
                     "sees needs users or groups (users: [\"*\"] for everyone)");
    for (i = 0; i < a->n_users; i++) {
        if (strcmp(a->users[i], "*") == 0)
            a->all_users = true;
    }
    if (a->all_users && (a->n_users > 1 || a->n_groups > 0)) {
        n = jg_y_get(v, "users");
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "sees.users \"*\" is everyone: name no one else");
    }
    if ((n = jg_y_get(v, "targets")) != NULL) {
        a->targets = jg_policy_names(x, n, "sees.targets", &a->n_targets);
        if (a->n_targets == 0)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "sees.targets is empty: leave it out for every target");
    }
}

static void
load_auditor(struct pol_ctx *x, const struct jg_ynode *v)
{
    static const char *const keys[] = {"name", "accounts", "sees", NULL};
    struct pol_auditor a = {0};
    const struct jg_ynode *n;
    size_t i;

    if (!jg_y_expect(v, JG_Y_MAP, x->file, "an auditor", x->d))
        return;
    jg_y_check_keys(v, keys, x->file, "an auditor", x->d);
    a.pub.file = x->file;
    a.pub.line = v->line;
    a.pub.col = v->col;
    if ((n = jg_y_get(v, "name")) == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "an auditor needs a name");
    else if (jg_y_expect(n, JG_Y_SCALAR, x->file, "name", x->d)) {
        if (!jg_policy_name_ok(n->str, false))
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "bad auditor name '%s' (letters, digits, _ . -; at "
                         "most 64)", n->str);
        a.pub.name = jg_policy_str(x->p, n->str);
    }
    n = jg_y_get(v, "accounts");
    a.pub.accounts = jg_policy_names(x, n, "accounts", &a.pub.n_accounts);
    if (a.pub.n_accounts == 0)
        jg_diags_add(x->d, x->file, n ? n->line : v->line, n ? n->col : v->col,
                     "an auditor needs accounts (who signs in to the console)");
    for (i = 0; i < a.pub.n_accounts; i++) {
        const struct jg_ynode *at = n->type == JG_Y_SEQ ? n->kids[i] : n;
        if (!jg_policy_name_ok(a.pub.accounts[i], true))
            jg_diags_add(x->d, x->file, at->line, at->col,
                         "bad account '%s' (lower-case letters, digits, _ . -; "
                         "at most 32)", a.pub.accounts[i]);
    }
    load_sees(x, &a, jg_y_get(v, "sees"));
    g_array_append_val(x->p->auditors, a);
    g_array_append_val(x->auditor_nodes, v);
}

void
jg_policy_load_auditors(struct pol_ctx *x, const struct jg_ynode *n)
{
    size_t i;

    if (!jg_y_expect(n, JG_Y_SEQ, x->file, "auditors", x->d))
        return;
    for (i = 0; i < n->n; i++)
        load_auditor(x, n->kids[i]);
}
