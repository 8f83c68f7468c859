/* SPDX-License-Identifier: Apache-2.0 */
/* sync/plan.c - compares the policy's exposure sets with the managed
 * security-group rules (and, through cf_plan.c, the Cloudflare lists) and
 * lists the changes that would make them equal. Only reads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

#define DESC_MAX 255 /* EC2's limit for a rule description */

void
jg_sync_plan_add(struct jg_sync_plan *plan, enum jg_sync_where where, char op,
                 const char *exposure, const char *target, uint16_t port,
                 const struct jg_cidr *cidr, const char *rule_id,
                 const char *description)
{
    struct jg_sync_change *c;

    plan->v = jg_xrealloc(plan->v, plan->n + 1, sizeof(*plan->v));
    c = &plan->v[plan->n++];
    memset(c, 0, sizeof(*c));
    c->where = where;
    c->op = op;
    c->exposure = jg_xstrdup(exposure != NULL ? exposure : "?");
    c->target = jg_xstrdup(target);
    c->port = port;
    if (cidr != NULL)
        c->cidr = *cidr;
    c->rule_id = rule_id != NULL ? jg_xstrdup(rule_id) : NULL;
    c->description = description != NULL ? jg_xstrdup(description) : NULL;
    if (op == '-')
        plan->n_removals++;
}

void
jg_sync_plan_free(struct jg_sync_plan *plan)
{
    size_t i;

    if (plan == NULL)
        return;
    for (i = 0; i < plan->n; i++) {
        free(plan->v[i].exposure);
        free(plan->v[i].target);
        free(plan->v[i].rule_id);
        free(plan->v[i].description);
    }
    free(plan->v);
    jg_sync_cf_state_free(plan->cf, plan->n_cf);
    for (i = 0; i < plan->n_notes; i++)
        free(plan->notes[i]);
    free(plan->notes);
    free(plan);
}

void
jg_sync_plan_note(struct jg_sync_plan *plan, const char *fmt, ...)
{
    va_list ap;
    char *t = NULL;

    va_start(ap, fmt);
    if (vasprintf(&t, fmt, ap) < 0)
        t = NULL;
    va_end(ap);
    if (t == NULL)
        abort();
    plan->notes = jg_xrealloc(plan->notes, plan->n_notes + 1,
                              sizeof(*plan->notes));
    plan->notes[plan->n_notes++] = t;
}

/* Whether exposure e names user u (sources as written: "users",
 * "group:G", "user:U"; a list is shown as "(list)" and counts every user,
 * which only widens the description, never the rule set). */
static bool
names_user(const struct jg_exposure *e, const struct jg_user *u)
{
    const char *s = e->sources != NULL ? e->sources : "users";
    size_t i;

    if (strncmp(s, "user:", 5) == 0)
        return strcmp(s + 5, u->name) == 0;
    if (strncmp(s, "group:", 6) == 0) {
        for (i = 0; i < u->n_groups; i++) {
            if (strcmp(u->groups[i], s + 6) == 0)
                return true;
        }
        return false;
    }
    return true;
}

static bool
inside(const struct jg_cidr *outer, const struct jg_cidr *c)
{
    return c->a.family == outer->a.family && c->prefix >= outer->prefix &&
           jg_cidr_contains(outer, &c->a);
}

static void
desc_add(GString *d, const char *name)
{
    const char *p;

    if (d->len + strlen(name) + 2 > DESC_MAX)
        return;
    if (d->len > strlen("jumpgate:"))
        g_string_append_c(d, ',');
    g_string_append_c(d, ' ');
    /* EC2 allows a-zA-Z0-9. _-:/()#,@[]+=&;{}!$* in descriptions. */
    for (p = name; *p != '\0'; p++)
        g_string_append_c(d, g_ascii_isalnum(*p) || strchr("._-", *p) != NULL
                                 ? *p
                                 : '_');
}

/* "jumpgate: alice, g-7f3a": the users and grants whose sources fall in c. */
char *
jg_sync_describe_cidr(const struct jg_policy *p, size_t ei, int64_t at,
                      const struct jg_cidr *c)
{
    const struct jg_exposure *e = jg_policy_exposure_at(p, ei);
    GString *d = g_string_new("jumpgate:");
    size_t i, k;

    for (i = 0; i < jg_policy_n_users(p); i++) {
        const struct jg_user *u = jg_policy_user_at(p, i);

        if (at >= u->expires || !names_user(e, u))
            continue;
        for (k = 0; k < u->n_from; k++) {
            if (inside(c, &u->from[k])) {
                desc_add(d, u->name);
                break;
            }
        }
    }
    for (i = 0; i < jg_policy_n_grants(p); i++) {
        const struct jg_grant *g = jg_policy_grant_at(p, i);
        const struct jg_user *u = jg_policy_user(p, g->user);

        if (u == NULL || at >= g->until || at >= u->expires ||
            !names_user(e, u))
            continue;
        for (k = 0; k < g->n_from; k++) {
            if (inside(c, &g->from[k])) {
                desc_add(d, g->id);
                break;
            }
        }
    }
    return g_string_free(d, FALSE);
}

/* One desired (cidr, port) of a security group. */
struct want {
    struct jg_cidr cidr;
    uint16_t port;
    size_t exposure;  /* index in the policy */
    bool present;
};

static bool
rule_matches(const struct jg_sync_sg_rule *g, const struct want *w)
{
    return !g->egress && g->has_cidr && strcmp(g->protocol, "tcp") == 0 &&
           g->from_port == w->port && g->to_port == w->port &&
           jg_cidr_cmp(&g->cidr, &w->cidr) == 0;
}

/* Plans security group sg: every exposure naming it, against its managed
 * rules. */
static int
plan_group(struct jg_sync *s, const struct jg_policy *p, int64_t at,
           const char *sg, struct jg_sync_plan *plan)
{
    struct jg_sync_sg_rule *rules = NULL;
    struct want *w = NULL;
    struct jg_cidr *v = NULL;
    size_t nw = 0, nr = 0, nv = 0, i, k;
    int r;

    for (i = 0; i < jg_policy_n_exposures(p); i++) {
        const struct jg_exposure *e = jg_policy_exposure_at(p, i);

        if (e->aws_security_group == NULL ||
            strcmp(e->aws_security_group, sg) != 0)
            continue;
        if ((r = jg_policy_exposure_sources(p, i, at, &v, &nv)) != 0) {
            jg_sync_seterr(s, "exposure %s: %s", e->name, jg_strerror(r));
            goto out;
        }
        for (k = 0; k < nv; k++) {
            size_t j;
            bool dup = false;

            for (j = 0; j < nw && !dup; j++)
                dup = w[j].port == e->port &&
                      jg_cidr_cmp(&w[j].cidr, &v[k]) == 0;
            if (dup)
                continue;
            w = jg_xrealloc(w, nw + 1, sizeof(*w));
            w[nw++] = (struct want){.cidr = v[k], .port = e->port,
                                    .exposure = i};
        }
        free(v);
        v = NULL;
    }
    if ((r = jg_sync_sg_describe(s, sg, &rules, &nr)) != 0)
        goto out;
    for (i = 0; i < nr; i++) {
        bool keep = false;

        for (k = 0; k < nw && !keep; k++) {
            if (!w[k].present && rule_matches(&rules[i], &w[k])) {
                w[k].present = true;
                keep = true;
            }
        }
        if (keep || rules[i].egress)
            continue; /* we never create egress rules: not ours to judge */
        jg_sync_plan_add(plan, JG_SYNC_AWS_SG, '-', rules[i].exposure, sg,
                         rules[i].from_port >= 0 ? (uint16_t)rules[i].from_port
                                                 : 0,
                         rules[i].has_cidr ? &rules[i].cidr : NULL,
                         rules[i].rule_id, rules[i].description);
    }
    for (k = 0; k < nw; k++) {
        char *d;

        if (w[k].present)
            continue;
        d = jg_sync_describe_cidr(p, w[k].exposure, at, &w[k].cidr);
        jg_sync_plan_add(plan, JG_SYNC_AWS_SG, '+',
                         jg_policy_exposure_at(p, w[k].exposure)->name, sg,
                         w[k].port, &w[k].cidr, NULL, d);
        g_free(d);
    }
    r = 0;
out:
    jg_sync_sg_rules_free(rules, nr);
    free(v);
    free(w);
    return r;
}

static bool
group_named(const struct jg_policy *p, const char *sg)
{
    size_t i;

    for (i = 0; i < jg_policy_n_exposures(p); i++) {
        const struct jg_exposure *e = jg_policy_exposure_at(p, i);

        if (e->aws_security_group != NULL &&
            strcmp(e->aws_security_group, sg) == 0)
            return true;
    }
    return false;
}

/* Managed rules of groups no exposure names any more (an exposure was
 * removed, or moved to another group): all of them go. */
static int
plan_removed_groups(struct jg_sync *s, const struct jg_policy *p,
                    struct jg_sync_plan *plan)
{
    struct jg_sync_sg_rule *rules = NULL;
    size_t nr = 0, i;
    int r;

    if ((r = jg_sync_sg_describe(s, NULL, &rules, &nr)) != 0)
        return r;
    for (i = 0; i < nr; i++) {
        const struct jg_sync_sg_rule *g = &rules[i];

        if (g->egress || group_named(p, g->group_id))
            continue;
        jg_sync_plan_add(plan, JG_SYNC_AWS_SG, '-',
                         g->exposure != NULL ? g->exposure : "(no exposure)",
                         g->group_id,
                         g->from_port >= 0 ? (uint16_t)g->from_port : 0,
                         g->has_cidr ? &g->cidr : NULL, g->rule_id,
                         g->description);
    }
    jg_sync_sg_rules_free(rules, nr);
    return 0;
}

int
jg_sync_plan_build(struct jg_sync *s, const struct jg_policy *p, int64_t at,
                   struct jg_sync_plan **out)
{
    struct jg_sync_plan *plan = jg_xcalloc(1, sizeof(*plan));
    size_t i, j;
    bool any_sg = false;
    int r = JG_ERR_INTERNAL;

    *out = NULL;
    s->err[0] = '\0';
    for (i = 0; i < jg_policy_n_exposures(p); i++) {
        const struct jg_exposure *e = jg_policy_exposure_at(p, i);
        bool seen = false;

        if (e->aws_security_group == NULL)
            continue;
        any_sg = true;
        /* Each group once, at its first exposure. */
        for (j = 0; j < i && !seen; j++) {
            const struct jg_exposure *f = jg_policy_exposure_at(p, j);

            seen = f->aws_security_group != NULL &&
                   strcmp(f->aws_security_group, e->aws_security_group) == 0;
        }
        if (!seen && (r = plan_group(s, p, at, e->aws_security_group,
                                     plan)) != 0)
            goto out;
    }
    if ((any_sg || s->aws_configured) &&
        (r = plan_removed_groups(s, p, plan)) != 0)
        goto out;
    if ((r = jg_sync_cf_plan(s, p, at, plan)) != 0)
        goto out;
    *out = plan;
    plan = NULL;
    r = 0;
out:
    jg_sync_plan_free(plan);
    return r;
}
