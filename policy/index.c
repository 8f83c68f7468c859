/* SPDX-License-Identifier: Apache-2.0 */
/* policy/index.c - after every file is read: checks names that refer to
 * other parts, compiles target patterns to bitmaps, and indexes rules and
 * grants by user so that decide() looks only at what can apply. */
#include <fnmatch.h>
#include <string.h>

#include "policy/internal.h"

int
jg_policy_user_index(const struct jg_policy *p, const char *name)
{
    gpointer v = name ? g_hash_table_lookup(p->user_idx, name) : NULL;

    return v == NULL ? -1 : (int)GPOINTER_TO_UINT(v) - 1;
}

int
jg_policy_target_index(const struct jg_policy *p, const char *name)
{
    gpointer v;

    if (name == NULL)
        return -1;
    if ((v = g_hash_table_lookup(p->target_idx, name)) != NULL)
        return (int)GPOINTER_TO_UINT(v) - 1;
    /* "ecs-prod/i-0abc": a member that discovery found (and nothing else:
     * an unknown member is an unknown target) decides as its parent */
    if ((v = g_hash_table_lookup(p->member_idx, name)) != NULL)
        return (int)POL_MEMBER(p, GPOINTER_TO_UINT(v) - 1)->parent;
    return -1;
}

bool
jg_policy_user_in_group(const struct jg_user *u, const char *group)
{
    size_t i;

    for (i = 0; i < u->n_groups; i++) {
        if (strcmp(u->groups[i], group) == 0)
            return true;
    }
    return false;
}

bool
jg_policy_tset_has(const struct jg_policy *p, const struct pol_targets *s,
                   unsigned target)
{
    (void)p;
    return s->bits == NULL || (s->bits[target / 64] >> (target % 64)) & 1u;
}

static bool
target_matches(const struct jg_target *t, const char *pat)
{
    const char *eq = strchr(pat, '=');
    size_t i;

    if (eq != NULL) {
        size_t kl = (size_t)(eq - pat);
        for (i = 0; i < t->n_labels; i++) {
            if (strlen(t->labels[i].key) == kl &&
                strncmp(t->labels[i].key, pat, kl) == 0 &&
                strcmp(t->labels[i].value, eq + 1) == 0)
                return true;
        }
        return false;
    }
    return fnmatch(pat, t->name, 0) == 0;
}

static bool
is_pattern(const char *s)
{
    return strpbrk(s, "*?[=") != NULL;
}

/* Compiles patterns (names must exist) into a bitmap; at gives the
 * position of each pattern for errors. */
static void
compile_targets(struct pol_ctx *x, const char *file, const struct jg_ynode *list,
                const char *const *pats, size_t n, struct pol_targets *out,
                const char *owner)
{
    struct jg_policy *p = x->p;
    size_t i, t;

    out->bits = jg_policy_alloc(p, p->tset_words * sizeof(uint64_t));
    for (i = 0; i < n; i++) {
        const struct jg_ynode *at = list && list->type == JG_Y_SEQ && i < list->n
                                        ? list->kids[i] : list;
        const char *eq = strchr(pats[i], '=');
        if (!is_pattern(pats[i])) {
            int ti = jg_policy_target_index(p, pats[i]);
            if (ti < 0 || strchr(pats[i], '/') != NULL) {
                jg_diags_add(x->d, file, at ? at->line : 0, at ? at->col : 0,
                             "%s names target '%s', which does not exist", owner,
                             pats[i]);
                continue;
            }
            out->bits[ti / 64] |= 1ull << (ti % 64);
            continue;
        }
        if (eq != NULL && (eq == pats[i] || eq[1] == '\0' || strchr(eq + 1, '='))) {
            jg_diags_add(x->d, file, at ? at->line : 0, at ? at->col : 0,
                         "bad label selector '%s' (key=value)", pats[i]);
            continue;
        }
        for (t = 0; t < p->targets->len; t++) {
            if (target_matches(&POL_TARGET(p, t)->pub, pats[i]))
                out->bits[t / 64] |= 1ull << (t % 64);
        }
    }
}

static const struct jg_ynode *
node(GArray *a, size_t i)
{
    return g_array_index(a, const struct jg_ynode *, i);
}

static void
check_names(struct pol_ctx *x, const char *file, const struct jg_ynode *list,
            const char *const *v, size_t n, bool users, const char *owner)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct jg_ynode *at = list && list->type == JG_Y_SEQ && i < list->n
                                        ? list->kids[i] : list;
        bool ok = users ? g_hash_table_contains(x->p->user_idx, v[i])
                        : g_hash_table_contains(x->p->groups, v[i]);
        if (!ok)
            jg_diags_add(x->d, file, at ? at->line : 0, at ? at->col : 0,
                         "%s names %s '%s', which does not exist", owner,
                         users ? "user" : "group", v[i]);
    }
}

static void
add_index(GArray **lists, unsigned user, unsigned what)
{
    if (lists[user] == NULL)
        lists[user] = g_array_new(FALSE, FALSE, sizeof(unsigned));
    g_array_append_val(lists[user], what);
}

static unsigned *
take(struct jg_policy *p, GArray *a, size_t *n)
{
    unsigned *v;

    *n = a ? a->len : 0;
    if (a == NULL)
        return NULL;
    v = jg_policy_alloc(p, a->len * sizeof(unsigned));
    if (a->len > 0)
        memcpy(v, a->data, a->len * sizeof(unsigned));
    g_array_free(a, TRUE);
    return v;
}

/* Auditors: names unique, an account in one entry only, the users,
 * groups and targets they see known. */
static void
index_auditors(struct pol_ctx *x, GHashTable *seen)
{
    struct jg_policy *p = x->p;
    GHashTable *accounts = g_hash_table_new(g_str_hash, g_str_equal);
    size_t i, j;

    for (i = 0; i < p->auditors->len; i++) {
        struct pol_auditor *a = POL_AUDITOR(p, i);
        const struct jg_ynode *an = node(x->auditor_nodes, i);
        const struct jg_ynode *sees = jg_y_get(an, "sees");
        const struct jg_ynode *accs = jg_y_get(an, "accounts");
        char owner[160];

        snprintf(owner, sizeof(owner), "auditor '%s'", a->pub.name ? a->pub.name : "?");
        if (a->pub.name != NULL) {
            if (g_hash_table_contains(seen, a->pub.name))
                jg_diags_add(x->d, a->pub.file, an->line, an->col,
                             "auditor name '%s' is used twice", a->pub.name);
            g_hash_table_add(seen, (gpointer)a->pub.name);
        }
        for (j = 0; j < a->pub.n_accounts; j++) {
            const struct jg_ynode *at = accs && accs->type == JG_Y_SEQ &&
                                                j < accs->n ? accs->kids[j] : accs;
            const char *other = g_hash_table_lookup(accounts, a->pub.accounts[j]);
            if (other != NULL)
                jg_diags_add(x->d, a->pub.file, at ? at->line : an->line,
                             at ? at->col : an->col,
                             "account '%s' is already an auditor (%s): one "
                             "entry per account", a->pub.accounts[j], other);
            else
                g_hash_table_insert(accounts, (gpointer)a->pub.accounts[j],
                                    (gpointer)(a->pub.name ? a->pub.name : "?"));
        }
        if (sees == NULL || sees->type != JG_Y_MAP)
            continue;
        if (!a->all_users)
            check_names(x, a->pub.file, jg_y_get(sees, "users"), a->users,
                        a->n_users, true, owner);
        check_names(x, a->pub.file, jg_y_get(sees, "groups"), a->groups,
                    a->n_groups, false, owner);
        if (a->n_targets > 0)
            compile_targets(x, a->pub.file, jg_y_get(sees, "targets"),
                            a->targets, a->n_targets, &a->tset, owner);
    }
    g_hash_table_destroy(accounts);
}

static void
free_members(gpointer a)
{
    g_array_free(a, TRUE);
}

void
jg_policy_index(struct pol_ctx *x)
{
    struct jg_policy *p = x->p;
    size_t nu = p->users->len, i, j;
    GArray **rl = g_new0(GArray *, nu ? nu : 1), **gl = g_new0(GArray *, nu ? nu : 1);
    GArray *global = g_array_new(FALSE, FALSE, sizeof(unsigned));
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    /* group -> indexes of its users; and which rule last indexed a user */
    GHashTable *by_group = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                 free_members);
    unsigned *stamp = g_new0(unsigned, nu ? nu : 1);

    p->tset_words = (p->targets->len + 63) / 64 + 1;
    for (j = 0; j < nu; j++) {
        const struct jg_user *u = &POL_USER(p, j)->pub;
        size_t k;
        for (k = 0; k < u->n_groups; k++) {
            GArray *m = g_hash_table_lookup(by_group, u->groups[k]);
            unsigned uj = (unsigned)j;
            if (m == NULL) {
                m = g_array_new(FALSE, FALSE, sizeof(unsigned));
                g_hash_table_insert(by_group, (gpointer)u->groups[k], m);
            }
            g_array_append_val(m, uj);
        }
    }

    for (i = 0; i < p->rules->len; i++) {
        struct pol_rule *r = POL_RULE(p, i);
        const struct jg_ynode *rn = node(x->rule_nodes, i);
        char owner[160];
        gpointer first;

        snprintf(owner, sizeof(owner), "rule '%s'", r->name ? r->name : "?");
        if (r->name != NULL) {
            if ((first = g_hash_table_lookup(seen, r->name)) != NULL)
                jg_diags_add(x->d, r->file, rn->line, rn->col,
                             "rule name '%s' is used twice (first at %s)", r->name,
                             (const char *)first);
            else {
                char pos[512];
                snprintf(pos, sizeof(pos), "%s:%d", r->file, rn->line);
                g_hash_table_insert(seen, (gpointer)r->name,
                                    (gpointer)jg_policy_str(p, pos));
            }
        }
        check_names(x, r->file, jg_y_get(rn, "users"), r->users, r->n_users, true, owner);
        check_names(x, r->file, jg_y_get(rn, "groups"), r->groups, r->n_groups, false, owner);
        if (r->n_targets > 0)
            compile_targets(x, r->file, jg_y_get(rn, "targets"), r->targets,
                            r->n_targets, &r->tset, owner);
        /* index: which users can this rule concern */
        if (r->n_users == 0 && r->n_groups == 0) {
            g_array_append_val(global, i);
            continue;
        }
        for (j = 0; j < r->n_users; j++) {
            int u = jg_policy_user_index(p, r->users[j]);
            if (u >= 0 && stamp[u] != i + 1) {
                stamp[u] = (unsigned)i + 1;
                add_index(rl, (unsigned)u, (unsigned)i);
            }
        }
        for (j = 0; j < r->n_groups; j++) {
            GArray *members = g_hash_table_lookup(by_group, r->groups[j]);
            size_t k;
            for (k = 0; members != NULL && k < members->len; k++) {
                unsigned u = g_array_index(members, unsigned, k);
                if (stamp[u] != i + 1) {
                    stamp[u] = (unsigned)i + 1;
                    add_index(rl, u, (unsigned)i);
                }
            }
        }
    }
    g_hash_table_remove_all(seen);
    for (i = 0; i < p->grants->len; i++) {
        struct pol_grant *g = POL_GRANT(p, i);
        const struct jg_ynode *gn = node(x->grant_nodes, i);
        char owner[160];
        int u;

        snprintf(owner, sizeof(owner), "grant '%s'", g->pub.id ? g->pub.id : "?");
        if (g->pub.id != NULL) {
            if (g_hash_table_contains(seen, g->pub.id))
                jg_diags_add(x->d, g->pub.file, gn->line, gn->col,
                             "grant id '%s' is used twice", g->pub.id);
            g_hash_table_add(seen, (gpointer)g->pub.id);
        }
        if (g->pub.n_targets > 0)
            compile_targets(x, g->pub.file, jg_y_get(gn, "targets"), g->pub.targets,
                            g->pub.n_targets, &g->tset, owner);
        if (g->pub.user == NULL)
            continue;
        if ((u = jg_policy_user_index(p, g->pub.user)) < 0) {
            const struct jg_ynode *un = jg_y_get(gn, "user");
            jg_diags_add(x->d, g->pub.file, un->line, un->col,
                         "%s names user '%s', which does not exist", owner, g->pub.user);
            continue;
        }
        add_index(gl, (unsigned)u, (unsigned)i);
    }
    g_hash_table_remove_all(seen);
    for (i = 0; i < p->exposures->len; i++) {
        struct pol_exposure *e = POL_EXPOSURE(p, i);
        const struct jg_ynode *en = node(x->exposure_nodes, i);
        const struct jg_ynode *sn = jg_y_get(en, "sources");
        char owner[160];

        snprintf(owner, sizeof(owner), "exposure '%s'", e->pub.name ? e->pub.name : "?");
        if (e->cf.list != NULL)
            e->pub.cloudflare = &e->cf;
        if (e->pub.name != NULL) {
            if (g_hash_table_contains(seen, e->pub.name))
                jg_diags_add(x->d, e->file, en->line, en->col, "exposure name '%s' is used twice",
                             e->pub.name);
            g_hash_table_add(seen, (gpointer)e->pub.name);
        }
        check_names(x, e->file, sn, e->src_users, e->n_src_users, true, owner);
        check_names(x, e->file, sn, e->src_groups, e->n_src_groups, false, owner);
    }
    g_hash_table_remove_all(seen);
    index_auditors(x, seen);
    for (i = 0; i < nu; i++) {
        struct pol_user *u = POL_USER(p, i);
        u->rules = take(p, rl[i], &u->n_rules);
        u->grants = take(p, gl[i], &u->n_grants);
    }
    p->global_rules = take(p, global, &p->n_global_rules);
    g_hash_table_destroy(seen);
    g_hash_table_destroy(by_group);
    g_free(stamp);
    g_free(rl);
    g_free(gl);
}
