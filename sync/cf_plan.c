/* SPDX-License-Identifier: Apache-2.0 */
/* sync/cf_plan.c - the Cloudflare reconciler: per exposure, one account IP
 * list equal to the desired set (replaced whole by one bulk operation, then
 * polled to completion) and one WAF custom rule in the zone's
 * http_request_firewall_custom phase blocking host + path prefix for
 * sources outside the list (added with POST .../rules, patched when it
 * drifts, never a PUT of the whole phase). */
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

#define PHASE "http_request_firewall_custom"
#define MAX_PAGES 1000
#define BULK_POLLS 120      /* x 250 ms */
#define LIST_DESCRIPTION "managed by jumpgate"

struct jg_sync_cf_state {
    size_t exposure;        /* index in the policy */
    char *name;             /* exposure name */
    char *list;             /* list name */
    char *list_id;          /* NULL: create it */
    bool list_differs;
    struct jg_cidr *want;
    char **comments;        /* per want entry */
    size_t n_want;
    char *zone;
    char *ruleset_id;       /* NULL: no entrypoint yet */
    char *rule_id;          /* NULL: rule missing */
    bool rule_differs;
    char *expression;
    char *description;
};

void
jg_sync_cf_state_free(struct jg_sync_cf_state *v, size_t n)
{
    size_t i, k;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].list);
        free(v[i].list_id);
        free(v[i].want);
        for (k = 0; k < v[i].n_want; k++)
            g_free(v[i].comments[k]);
        free(v[i].comments);
        free(v[i].zone);
        free(v[i].ruleset_id);
        free(v[i].rule_id);
        free(v[i].expression);
        free(v[i].description);
    }
    free(v);
}

/* A JSON string literal for the rule expression language. */
static void
quote(GString *g, const char *s)
{
    g_string_append_c(g, '"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            g_string_append_c(g, '\\');
        g_string_append_c(g, *s);
    }
    g_string_append_c(g, '"');
}

static char *
expression(const struct jg_cloudflare_exposure *cf)
{
    GString *g = g_string_new("(http.host eq ");

    quote(g, cf->host);
    g_string_append(g, " and starts_with(http.request.uri.path, ");
    quote(g, cf->path_prefix);
    g_string_append_printf(g, ") and not ip.src in $%s)", cf->list);
    return g_string_free(g, FALSE);
}

static const char *
jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The id of account list name, or NULL. */
static int
find_list(struct jg_sync *s, const char *name, char **id)
{
    json_t *res = NULL, *x;
    char *path = jg_xasprintf("/accounts/%s/rules/lists", s->cf_account_id);
    size_t i;
    int r;

    *id = NULL;
    if ((r = jg_sync_cf_call(s, "GET", path, NULL, &res, NULL)) != 0)
        goto out;
    if (!json_is_array(res)) {
        jg_sync_seterr(s, "Cloudflare GET %s: malformed answer: result is not "
                       "an array", path);
        r = JG_ERR_INVALID;
        goto out;
    }
    json_array_foreach(res, i, x) {
        const char *n = jstr(x, "name"), *lid = jstr(x, "id");

        if (n == NULL || lid == NULL) {
            jg_sync_seterr(s, "Cloudflare GET %s: malformed answer: list %zu "
                           "without %s", path, i, n == NULL ? "name" : "id");
            r = JG_ERR_INVALID;
            goto out;
        }
        if (strcmp(n, name) == 0) {
            *id = jg_xstrdup(lid);
            break;
        }
    }
    r = 0;
out:
    json_decref(res);
    free(path);
    return r;
}

/* Every item of list id, as CIDRs (all pages). */
static int
list_items(struct jg_sync *s, const char *id, struct jg_cidr **out,
           size_t *n)
{
    char *cursor = NULL, *path = NULL;
    json_t *res = NULL, *x;
    int page, r = 0;
    size_t i;

    *out = NULL;
    *n = 0;
    for (page = 0; page < MAX_PAGES; page++) {
        free(path);
        path = cursor != NULL
                   ? jg_xasprintf("/accounts/%s/rules/lists/%s/items?cursor=%s",
                                  s->cf_account_id, id, cursor)
                   : jg_xasprintf("/accounts/%s/rules/lists/%s/items",
                                  s->cf_account_id, id);
        free(cursor);
        cursor = NULL;
        json_decref(res);
        res = NULL;
        if ((r = jg_sync_cf_call(s, "GET", path, NULL, &res, &cursor)) != 0)
            goto out;
        if (!json_is_array(res)) {
            jg_sync_seterr(s, "Cloudflare GET %s: malformed answer: result is "
                           "not an array", path);
            r = JG_ERR_INVALID;
            goto out;
        }
        json_array_foreach(res, i, x) {
            const char *ip = jstr(x, "ip");
            struct jg_cidr c;

            if (ip == NULL || jg_cidr_parse(ip, &c, NULL) != 0) {
                jg_sync_seterr(s, "Cloudflare GET %s: malformed answer: item "
                               "%zu: field ip missing or not an address", path,
                               i);
                r = JG_ERR_INVALID;
                goto out;
            }
            *out = jg_xrealloc(*out, *n + 1, sizeof(**out));
            (*out)[(*n)++] = c;
        }
        if (cursor == NULL)
            break;
    }
out:
    json_decref(res);
    free(cursor);
    free(path);
    return r;
}

/* The phase entrypoint ruleset and our rule in it. */
static int
find_rule(struct jg_sync *s, struct jg_sync_cf_state *st)
{
    char *path = jg_xasprintf("/zones/%s/rulesets/phases/" PHASE "/entrypoint",
                              st->zone);
    json_t *res = NULL, *rules, *x;
    size_t i;
    int r;

    r = jg_sync_cf_call(s, "GET", path, NULL, &res, NULL);
    if (r == JG_ERR_DENIED && s->cf_status == 404) {
        r = 0; /* no entrypoint yet: created with our rule in it */
        goto out;
    }
    if (r != 0)
        goto out;
    rules = json_object_get(res, "rules");
    if (jstr(res, "id") == NULL || (rules != NULL && !json_is_array(rules))) {
        jg_sync_seterr(s, "Cloudflare GET %s: malformed answer: %s", path,
                       jstr(res, "id") == NULL ? "ruleset without id"
                                               : "rules is not an array");
        r = JG_ERR_INVALID;
        goto out;
    }
    st->ruleset_id = jg_xstrdup(jstr(res, "id"));
    json_array_foreach(rules, i, x) {
        const char *d = jstr(x, "description"), *rid = jstr(x, "id");
        const char *e = jstr(x, "expression"), *a = jstr(x, "action");
        json_t *en = json_object_get(x, "enabled");

        if (d == NULL || strcmp(d, st->description) != 0)
            continue;
        if (rid == NULL) {
            jg_sync_seterr(s, "Cloudflare GET %s: malformed answer: rule %zu "
                           "without id", path, i);
            r = JG_ERR_INVALID;
            goto out;
        }
        st->rule_id = jg_xstrdup(rid);
        st->rule_differs = e == NULL || strcmp(e, st->expression) != 0 ||
                           a == NULL || strcmp(a, "block") != 0 ||
                           json_is_false(en);
        break;
    }
out:
    json_decref(res);
    free(path);
    return r;
}

static bool
has(const struct jg_cidr *v, size_t n, const struct jg_cidr *c)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (jg_cidr_cmp(&v[i], c) == 0)
            return true;
    }
    return false;
}

static int
plan_one(struct jg_sync *s, const struct jg_policy *p, size_t ei, int64_t at,
         struct jg_sync_cf_state *st, struct jg_sync_plan *plan)
{
    const struct jg_exposure *e = jg_policy_exposure_at(p, ei);
    struct jg_cidr *have = NULL;
    size_t nh = 0, i;
    int r;

    st->exposure = ei;
    st->name = jg_xstrdup(e->name);
    st->list = jg_xstrdup(e->cloudflare->list);
    st->zone = jg_xstrdup(e->cloudflare->zone_id);
    st->expression = expression(e->cloudflare);
    st->description = jg_xasprintf("jumpgate: %s", e->name);
    if ((r = jg_policy_exposure_sources(p, ei, at, &st->want, &st->n_want)) !=
        0) {
        jg_sync_seterr(s, "exposure %s: %s", e->name, jg_strerror(r));
        goto out;
    }
    st->comments = jg_xcalloc(st->n_want + 1, sizeof(*st->comments));
    for (i = 0; i < st->n_want; i++)
        st->comments[i] = jg_sync_describe_cidr(p, ei, at, &st->want[i]);
    if ((r = find_list(s, st->list, &st->list_id)) != 0)
        goto out;
    if (st->list_id != NULL &&
        (r = list_items(s, st->list_id, &have, &nh)) != 0)
        goto out;
    for (i = 0; i < nh; i++) {
        if (!has(st->want, st->n_want, &have[i]) ||
            has(have, i, &have[i])) {
            jg_sync_plan_add(plan, JG_SYNC_CF_LIST, '-', e->name, st->list, 0,
                             &have[i], NULL, NULL);
            st->list_differs = true;
        }
    }
    for (i = 0; i < st->n_want; i++) {
        if (!has(have, nh, &st->want[i])) {
            jg_sync_plan_add(plan, JG_SYNC_CF_LIST, '+', e->name, st->list, 0,
                             &st->want[i], NULL, st->comments[i]);
            st->list_differs = true;
        }
    }
    if (st->list_id == NULL)
        st->list_differs = true; /* created, then filled (even if empty) */
    if ((r = find_rule(s, st)) != 0)
        goto out;
    if (st->rule_id == NULL || st->rule_differs) {
        char *d = jg_xasprintf("%s (%s): %s", st->description,
                               st->rule_id == NULL ? "create" : "update",
                               st->expression);

        jg_sync_plan_add(plan, JG_SYNC_CF_RULE, '+', e->name, st->list, 0, NULL,
                         st->rule_id, d);
        free(d);
    }
    r = 0;
out:
    free(have);
    return r;
}

/* Lists jumpgate created (description "managed by jumpgate") that no
 * exposure names any more stay: a WAF rule may still use them, and they
 * only let addresses through. The plan says so. */
static int
note_orphan_lists(struct jg_sync *s, const struct jg_policy *p,
                  struct jg_sync_plan *plan)
{
    char *path = jg_xasprintf("/accounts/%s/rules/lists", s->cf_account_id);
    json_t *res = NULL, *x;
    size_t i, k;
    int r;

    if ((r = jg_sync_cf_call(s, "GET", path, NULL, &res, NULL)) != 0)
        goto out;
    json_array_foreach(res, i, x) {
        const char *n = jstr(x, "name"), *d = jstr(x, "description");
        bool named = false;

        if (n == NULL || d == NULL || strcmp(d, LIST_DESCRIPTION) != 0)
            continue;
        for (k = 0; k < jg_policy_n_exposures(p) && !named; k++) {
            const struct jg_exposure *e = jg_policy_exposure_at(p, k);

            named = e->cloudflare != NULL &&
                    strcmp(e->cloudflare->list, n) == 0;
        }
        if (!named)
            jg_sync_plan_note(plan, "cloudflare list %s (%s) is no longer "
                              "named by any exposure; left in place (delete it "
                              "by hand once no WAF rule uses it)", n,
                              jstr(x, "id") != NULL ? jstr(x, "id") : "?");
    }
    r = 0;
out:
    json_decref(res);
    free(path);
    return r;
}

int
jg_sync_cf_plan(struct jg_sync *s, const struct jg_policy *p, int64_t at,
                struct jg_sync_plan *plan)
{
    size_t i;
    int r;

    for (i = 0; i < jg_policy_n_exposures(p); i++) {
        if (jg_policy_exposure_at(p, i)->cloudflare == NULL)
            continue;
        if (s->cf_account_id == NULL) {
            s->provider = "cloudflare";
            jg_sync_seterr(s, "exposure %s: sync.cloudflare.account_id is not "
                           "set in the configuration",
                           jg_policy_exposure_at(p, i)->name);
            return JG_ERR_INVALID;
        }
        plan->cf = jg_xrealloc(plan->cf, plan->n_cf + 1, sizeof(*plan->cf));
        memset(&plan->cf[plan->n_cf], 0, sizeof(*plan->cf));
        plan->n_cf++;
        if ((r = plan_one(s, p, i, at, &plan->cf[plan->n_cf - 1], plan)) != 0)
            return r;
    }
    if (s->cf_account_id != NULL && s->cf_token_file != NULL)
        return note_orphan_lists(s, p, plan);
    return 0;
}

/* ---- apply ------------------------------------------------------------- */

static int
create_list(struct jg_sync *s, struct jg_sync_cf_state *st)
{
    char *path = jg_xasprintf("/accounts/%s/rules/lists", s->cf_account_id);
    json_t *body = json_pack("{s:s, s:s, s:s}", "name", st->list, "kind", "ip",
                             "description", LIST_DESCRIPTION);
    json_t *res = NULL;
    int r;

    if ((r = jg_sync_cf_call(s, "POST", path, body, &res, NULL)) != 0)
        goto out;
    if (jstr(res, "id") == NULL) {
        jg_sync_seterr(s, "Cloudflare POST %s: malformed answer: no result.id",
                       path);
        r = JG_ERR_INVALID;
        goto out;
    }
    st->list_id = jg_xstrdup(jstr(res, "id"));
    jg_info("%s: Cloudflare list %s created", st->name, st->list);
out:
    json_decref(res);
    json_decref(body);
    free(path);
    return r;
}

static int
wait_bulk(struct jg_sync *s, const char *op)
{
    char *path = jg_xasprintf("/accounts/%s/rules/lists/bulk_operations/%s",
                              s->cf_account_id, op);
    json_t *res = NULL;
    int i, r = JG_ERR_IO;

    for (i = 0; i < BULK_POLLS; i++) {
        const char *status;

        json_decref(res);
        res = NULL;
        if ((r = jg_sync_cf_call(s, "GET", path, NULL, &res, NULL)) != 0)
            goto out;
        if ((status = jstr(res, "status")) == NULL) {
            jg_sync_seterr(s, "Cloudflare GET %s: malformed answer: no "
                           "result.status", path);
            r = JG_ERR_INVALID;
            goto out;
        }
        if (strcmp(status, "completed") == 0) {
            r = 0;
            goto out;
        }
        if (strcmp(status, "failed") == 0) {
            jg_sync_seterr(s, "Cloudflare bulk operation %s failed: %s", op,
                           jstr(res, "error") != NULL ? jstr(res, "error")
                                                      : "?");
            r = JG_ERR_DENIED;
            goto out;
        }
        jg_sync_sleep_ms(250);
    }
    jg_sync_seterr(s, "Cloudflare bulk operation %s still not completed after "
                   "%d s", op, BULK_POLLS / 4);
    r = JG_ERR_IO;
out:
    json_decref(res);
    free(path);
    return r;
}

static int
replace_items(struct jg_sync *s, struct jg_sync_cf_state *st)
{
    char *path = jg_xasprintf("/accounts/%s/rules/lists/%s/items",
                              s->cf_account_id, st->list_id);
    json_t *items = json_array(), *res = NULL;
    char cs[JG_CIDR_STRLEN];
    size_t i;
    int r;

    for (i = 0; i < st->n_want; i++) {
        const struct jg_cidr *c = &st->want[i];

        jg_cidr_format(c, cs, sizeof(cs));
        /* Single addresses are written without a prefix length. */
        if ((c->a.family == 4 && c->prefix == 32) ||
            (c->a.family == 6 && c->prefix == 128))
            jg_addr_format(&c->a, cs, sizeof(cs));
        json_array_append_new(items, json_pack("{s:s, s:s}", "ip", cs,
                                               "comment", st->comments[i]));
    }
    if ((r = jg_sync_cf_call(s, "PUT", path, items, &res, NULL)) != 0)
        goto out;
    if (jstr(res, "operation_id") == NULL) {
        jg_sync_seterr(s, "Cloudflare PUT %s: malformed answer: no "
                       "result.operation_id", path);
        r = JG_ERR_INVALID;
        goto out;
    }
    if ((r = wait_bulk(s, jstr(res, "operation_id"))) != 0)
        goto out;
    jg_info("%s: Cloudflare list %s now holds %zu entries", st->name,
            st->list, st->n_want);
out:
    json_decref(res);
    json_decref(items);
    free(path);
    return r;
}

static int
put_rule(struct jg_sync *s, struct jg_sync_cf_state *st)
{
    json_t *rule = json_pack("{s:s, s:s, s:s, s:b}", "description",
                             st->description, "expression", st->expression,
                             "action", "block", "enabled", 1);
    json_t *body = NULL, *res = NULL;
    char *path = NULL;
    const char *method = "POST";
    int r;

    if (st->ruleset_id == NULL) {
        /* No entrypoint yet: create it holding only our rule. */
        path = jg_xasprintf("/zones/%s/rulesets", st->zone);
        body = json_pack("{s:s, s:s, s:s, s:[O]}", "name", "default", "kind",
                         "zone", "phase", PHASE, "rules", rule);
    } else if (st->rule_id == NULL) {
        path = jg_xasprintf("/zones/%s/rulesets/%s/rules", st->zone,
                            st->ruleset_id);
        body = json_incref(rule);
    } else {
        method = "PATCH";
        path = jg_xasprintf("/zones/%s/rulesets/%s/rules/%s", st->zone,
                            st->ruleset_id, st->rule_id);
        body = json_incref(rule);
    }
    if ((r = jg_sync_cf_call(s, method, path, body, &res, NULL)) != 0)
        goto out;
    jg_info("%s: Cloudflare WAF rule %s in zone %s", st->name,
            st->rule_id == NULL ? "added" : "updated", st->zone);
    /* The answer is the ruleset: remember the ids for the event. */
    if (st->ruleset_id == NULL && jstr(res, "id") != NULL)
        st->ruleset_id = jg_xstrdup(jstr(res, "id"));
    if (st->rule_id == NULL) {
        json_t *x;
        size_t i;

        json_array_foreach(json_object_get(res, "rules"), i, x) {
            const char *d = jstr(x, "description"), *rid = jstr(x, "id");

            if (d != NULL && rid != NULL && strcmp(d, st->description) == 0) {
                st->rule_id = jg_xstrdup(rid);
                break;
            }
        }
    }
out:
    json_decref(res);
    json_decref(body);
    json_decref(rule);
    free(path);
    return r;
}

/* Tells the observer about the plan's changes of kind where for st, and
 * returns how many there were: one call (a whole list put at once) carries
 * out each of the plan's entries for it, and counts as that many changes,
 * so that apply reports what plan announced. */
static size_t
report(struct jg_sync *s, const struct jg_sync_plan *plan,
       const struct jg_sync_cf_state *st, enum jg_sync_where where,
       const char *resource)
{
    size_t i, n = 0;

    for (i = 0; i < plan->n; i++) {
        const struct jg_sync_change *c = &plan->v[i];

        if (c->where == where && strcmp(c->exposure, st->name) == 0 &&
            strcmp(c->target, st->list) == 0) {
            jg_sync_report(s, c, "cloudflare",
                           resource != NULL ? resource : "", false);
            n++;
        }
    }
    return n;
}

int
jg_sync_cf_apply(struct jg_sync *s, const struct jg_sync_plan *plan,
                 size_t *done)
{
    size_t i;
    int r = 0;

    *done = 0;
    for (i = 0; i < plan->n_cf; i++) {
        struct jg_sync_cf_state *st = &plan->cf[i];

        if (st->list_id == NULL && (r = create_list(s, st)) != 0)
            return r;
        if (st->list_differs) {
            if ((r = replace_items(s, st)) != 0)
                return r;
            *done += report(s, plan, st, JG_SYNC_CF_LIST, st->list_id);
        }
        if (st->rule_id == NULL || st->rule_differs) {
            if ((r = put_rule(s, st)) != 0)
                return r;
            *done += report(s, plan, st, JG_SYNC_CF_RULE,
                            st->rule_id != NULL ? st->rule_id
                                                : st->ruleset_id);
        }
    }
    return 0;
}
