/* SPDX-License-Identifier: Apache-2.0 */
/* sync/plan_print.c - a plan as terraform-like text or as JSON. */
#include <string.h>

#include "sync/internal.h"

static const char *
where_name(enum jg_sync_where w)
{
    switch (w) {
    case JG_SYNC_AWS_SG:
        return "aws_security_group";
    case JG_SYNC_CF_LIST:
        return "cloudflare_list";
    case JG_SYNC_CF_RULE:
        return "cloudflare_rule";
    }
    return "?";
}

static void
print_change(const struct jg_sync_change *c, FILE *out)
{
    char cs[JG_CIDR_STRLEN] = "-";

    if (c->where != JG_SYNC_CF_RULE && c->cidr.a.family != 0)
        jg_cidr_format(&c->cidr, cs, sizeof(cs));
    switch (c->where) {
    case JG_SYNC_AWS_SG:
        fprintf(out, "  %c %-44s tcp/%u", c->op, cs, (unsigned)c->port);
        if (c->op == '-' && c->rule_id != NULL)
            fprintf(out, "  %s", c->rule_id);
        if (c->description != NULL)
            fprintf(out, "  \"%s\"", c->description);
        break;
    case JG_SYNC_CF_LIST:
        fprintf(out, "  %c %-44s", c->op, cs);
        if (c->description != NULL)
            fprintf(out, "  \"%s\"", c->description);
        break;
    case JG_SYNC_CF_RULE:
        fprintf(out, "  %c waf rule %s", c->op,
                c->description != NULL ? c->description : "");
        break;
    }
    fputc('\n', out);
}

void
jg_sync_plan_print(const struct jg_sync_plan *plan, FILE *out)
{
    size_t i, j, add = 0;
    bool *done = NULL;

    for (i = 0; i < plan->n_notes; i++)
        fprintf(out, "Note: %s\n", plan->notes[i]);
    if (plan->n == 0) {
        fprintf(out, "No changes: the cloud firewalls match the policy.\n");
        return;
    }
    done = jg_xcalloc(plan->n, sizeof(*done));
    /* Group by (exposure, where, target), in first-seen order. */
    for (i = 0; i < plan->n; i++) {
        const struct jg_sync_change *h = &plan->v[i];

        if (done[i])
            continue;
        fprintf(out, "%s: %s %s\n", h->exposure,
                h->where == JG_SYNC_AWS_SG ? "aws security group"
                                           : "cloudflare",
                h->target);
        for (j = i; j < plan->n; j++) {
            const struct jg_sync_change *c = &plan->v[j];

            if (done[j] ||
                (c->where == JG_SYNC_AWS_SG) != (h->where == JG_SYNC_AWS_SG) ||
                strcmp(c->exposure, h->exposure) != 0 ||
                strcmp(c->target, h->target) != 0)
                continue;
            print_change(c, out);
            done[j] = true;
            add += c->op == '+';
        }
    }
    fprintf(out, "Plan: %zu to add, %zu to remove.\n", add, plan->n - add);
    free(done);
}

json_t *
jg_sync_plan_json(const struct jg_sync_plan *plan)
{
    json_t *o = json_object(), *arr = json_array();
    size_t i, add = 0;

    for (i = 0; i < plan->n; i++) {
        const struct jg_sync_change *c = &plan->v[i];
        char cs[JG_CIDR_STRLEN];
        json_t *x = json_object();

        json_object_set_new(x, "op",
                            json_string(c->op == '+' ? "add" : "remove"));
        json_object_set_new(x, "where", json_string(where_name(c->where)));
        json_object_set_new(x, "exposure", json_string(c->exposure));
        json_object_set_new(x, "target", json_string(c->target));
        if (c->where != JG_SYNC_CF_RULE && c->cidr.a.family != 0) {
            jg_cidr_format(&c->cidr, cs, sizeof(cs));
            json_object_set_new(x, "cidr", json_string(cs));
        } else {
            json_object_set_new(x, "cidr", json_null());
        }
        json_object_set_new(x, "port", c->where == JG_SYNC_AWS_SG
                                           ? json_integer(c->port)
                                           : json_null());
        json_object_set_new(x, "rule_id", c->rule_id != NULL
                                              ? json_string(c->rule_id)
                                              : json_null());
        json_object_set_new(x, "description",
                            c->description != NULL
                                ? json_string(c->description)
                                : json_null());
        json_array_append_new(arr, x);
        add += c->op == '+';
    }
    json_object_set_new(o, "changes", arr);
    arr = json_array();
    for (i = 0; i < plan->n_notes; i++)
        json_array_append_new(arr, json_string(plan->notes[i]));
    json_object_set_new(o, "notes", arr);
    json_object_set_new(o, "add", json_integer((json_int_t)add));
    json_object_set_new(o, "remove", json_integer((json_int_t)(plan->n - add)));
    return o;
}
