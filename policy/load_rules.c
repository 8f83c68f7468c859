/* SPDX-License-Identifier: Apache-2.0 */
/* policy/load_rules.c - the rules, grants and exposure sections. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

unsigned
jg_policy_actions(struct pol_ctx *x, const struct jg_ynode *n, bool *ok)
{
    char **sv = NULL;
    size_t cnt = 0, i;
    unsigned mask = 0;

    *ok = false;
    if (!jg_y_strv(n, x->file, "allow", &sv, &cnt, x->d))
        return 0;
    *ok = true;
    for (i = 0; i < cnt; i++) {
        const struct jg_ynode *at = n->type == JG_Y_SEQ ? n->kids[i] : n;
        unsigned a = jg_policy_action_parse(sv[i]);
        if (a == 0) {
            jg_diags_add(x->d, x->file, at->line, at->col,
                         "unknown action '%s' (shell, exec, sftp, forward, jump)",
                         sv[i]);
            *ok = false;
        }
        mask |= a;
    }
    if (cnt == 0) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "allow is empty: name at least one action");
        *ok = false;
    }
    jg_strv_free(sv);
    return mask;
}

const char *const *
jg_policy_names(struct pol_ctx *x, const struct jg_ynode *n, const char *what,
                size_t *cnt)
{
    char **sv = NULL;
    const char *const *out;

    *cnt = 0;
    if (n == NULL || !jg_y_strv(n, x->file, what, &sv, cnt, x->d))
        return jg_policy_strv(x->p, NULL, 0);
    out = jg_policy_strv(x->p, sv, *cnt);
    jg_strv_free(sv);
    return out;
}

/* Logins are account names on the targets: the same rules as user names. */
static void
check_logins(struct pol_ctx *x, const struct jg_ynode *n, const char *const *v,
             size_t cnt, const char *hint)
{
    size_t i;

    for (i = 0; i < cnt; i++) {
        const struct jg_ynode *at = n->type == JG_Y_SEQ ? n->kids[i] : n;
        if (!jg_policy_name_ok(v[i], true))
            jg_diags_add(x->d, x->file, at->line, at->col,
                         "bad login '%s' (lower-case letters, digits, _ . -; at "
                         "most 32)", v[i]);
    }
    if (n != NULL && n->type == JG_Y_SEQ && n->n == 0)
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "logins is empty: %s", hint);
}

static void
load_rule(struct pol_ctx *x, const struct jg_ynode *v)
{
    static const char *const keys[] = {"name", "effect", "users", "groups",
        "targets", "allow", "logins", "when", "max_session", "record_input", NULL};
    struct pol_rule r = {0};
    const struct jg_ynode *n;
    bool ok;

    if (!jg_y_expect(v, JG_Y_MAP, x->file, "a rule", x->d))
        return;
    jg_y_check_keys(v, keys, x->file, "a rule", x->d);
    r.file = x->file;
    r.line = v->line;
    r.col = v->col;
    n = jg_y_get(v, "name");
    if (n == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "a rule needs a name");
    else if (jg_y_expect(n, JG_Y_SCALAR, x->file, "name", x->d)) {
        if (!jg_policy_name_ok(n->str, false))
            jg_diags_add(x->d, x->file, n->line, n->col, "bad rule name '%s'", n->str);
        r.name = jg_policy_str(x->p, n->str);
    }
    if ((n = jg_y_get(v, "effect")) != NULL &&
        jg_y_expect(n, JG_Y_SCALAR, x->file, "effect", x->d)) {
        if (strcmp(n->str, "deny") == 0)
            r.deny = true;
        else if (strcmp(n->str, "allow") != 0)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "effect must be allow or deny, not '%s'", n->str);
    }
    r.users = jg_policy_names(x, jg_y_get(v, "users"), "users", &r.n_users);
    r.groups = jg_policy_names(x, jg_y_get(v, "groups"), "groups", &r.n_groups);
    r.targets = jg_policy_names(x, jg_y_get(v, "targets"), "targets", &r.n_targets);
    r.logins = jg_policy_names(x, jg_y_get(v, "logins"), "logins", &r.n_logins);
    check_logins(x, jg_y_get(v, "logins"), r.logins, r.n_logins,
                 r.deny ? "leave it out to mean every login"
                        : "leave it out to mean the user's own name");
    if ((n = jg_y_get(v, "allow")) != NULL)
        r.allow = jg_policy_actions(x, n, &ok);
    if ((n = jg_y_get(v, "when")) != NULL)
        jg_policy_when_parse(x, n, &r.when);
    if ((n = jg_y_get(v, "max_session")) != NULL &&
        jg_y_expect(n, JG_Y_SCALAR, x->file, "max_session", x->d) &&
        jg_duration_parse(n->str, &r.max_session) != 0)
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "bad duration '%s' (use e.g. 90s, 30m, 4h, 7d)", n->str);
    if ((n = jg_y_get(v, "record_input")) != NULL)
        jg_y_bool(n, x->file, &r.record_input, x->d);

    if (!r.deny) {
        if (r.n_users == 0 && r.n_groups == 0)
            jg_diags_add(x->d, x->file, v->line, v->col,
                         "allow rule '%s' must name users or groups",
                         r.name ? r.name : "?");
        if (r.n_targets == 0)
            jg_diags_add(x->d, x->file, v->line, v->col,
                         "allow rule '%s' must name targets", r.name ? r.name : "?");
        if (jg_y_get(v, "allow") == NULL)
            jg_diags_add(x->d, x->file, v->line, v->col,
                         "allow rule '%s' must list the actions it allows (allow: [...])",
                         r.name ? r.name : "?");
    } else if (jg_y_get(v, "record_input") != NULL || r.max_session != 0) {
        n = jg_y_get(v, "record_input") ? jg_y_get(v, "record_input")
                                        : jg_y_get(v, "max_session");
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "record_input and max_session mean nothing in a deny rule");
    }
    g_array_append_val(x->p->rules, r);
    g_array_append_val(x->rule_nodes, v);
}

void
jg_policy_load_rules(struct pol_ctx *x, const struct jg_ynode *n)
{
    size_t i;

    if (!jg_y_expect(n, JG_Y_SEQ, x->file, "rules", x->d))
        return;
    for (i = 0; i < n->n; i++)
        load_rule(x, n->kids[i]);
}

static bool
grant_id_ok(const char *s)
{
    size_t i, l = strlen(s);

    if (l < 3 || l > 64)
        return false;
    for (i = 0; i < l; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    }
    return true;
}

static void
load_grant(struct pol_ctx *x, const struct jg_ynode *v)
{
    static const char *const keys[] = {"id", "user", "targets", "allow", "logins",
                                       "from", "until", "created", "reason", "author",
                                       NULL};
    struct pol_grant g = {0};
    const struct jg_ynode *n;
    bool ok;

    if (!jg_y_expect(v, JG_Y_MAP, x->file, "a grant", x->d))
        return;
    jg_y_check_keys(v, keys, x->file, "a grant", x->d);
    g.pub.file = x->file;
    g.pub.line = v->line;
    g.pub.until = 0;
    if ((n = jg_y_get(v, "id")) == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "a grant needs an id");
    else if (jg_y_expect(n, JG_Y_SCALAR, x->file, "id", x->d)) {
        if (!grant_id_ok(n->str))
            jg_diags_add(x->d, x->file, n->line, n->col, "bad grant id '%s'", n->str);
        g.pub.id = jg_policy_str(x->p, n->str);
    }
    if ((n = jg_y_get(v, "user")) == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "a grant needs a user");
    else if (jg_y_expect(n, JG_Y_SCALAR, x->file, "user", x->d))
        g.pub.user = jg_policy_str(x->p, n->str);
    g.pub.targets = jg_policy_names(x, jg_y_get(v, "targets"), "targets", &g.pub.n_targets);
    if (g.pub.n_targets == 0)
        jg_diags_add(x->d, x->file, v->line, v->col, "a grant needs targets");
    if ((n = jg_y_get(v, "allow")) == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "a grant needs allow");
    else
        g.pub.allow = jg_policy_actions(x, n, &ok);
    g.pub.logins = jg_policy_names(x, jg_y_get(v, "logins"), "logins", &g.pub.n_logins);
    check_logins(x, jg_y_get(v, "logins"), g.pub.logins, g.pub.n_logins,
                 "leave it out to mean the user's own name");
    if ((n = jg_y_get(v, "from")) != NULL) {
        struct jg_cidr *c = NULL;
        if (jg_policy_cidrs(x, n, "from", &c, &g.pub.n_from) &&
            g.pub.n_from == 0)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "from is empty: leave it out to use the user's own");
        g.pub.from = c;
    }
    if ((n = jg_y_get(v, "until")) == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "a grant needs until");
    else if (jg_y_expect(n, JG_Y_SCALAR, x->file, "until", x->d) &&
             jg_time_parse(n->str, &g.pub.until) != 0)
        jg_diags_add(x->d, x->file, n->line, n->col, "bad time '%s' (RFC 3339)", n->str);
    if ((n = jg_y_get(v, "created")) != NULL &&
        jg_y_expect(n, JG_Y_SCALAR, x->file, "created", x->d) &&
        jg_time_parse(n->str, &g.pub.created) != 0)
        jg_diags_add(x->d, x->file, n->line, n->col, "bad time '%s' (RFC 3339)", n->str);
    if ((n = jg_y_get(v, "reason")) == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "a grant needs a reason");
    else if (jg_y_expect(n, JG_Y_SCALAR, x->file, "reason", x->d)) {
        if (n->len == 0)
            jg_diags_add(x->d, x->file, n->line, n->col, "the reason is empty");
        g.pub.reason = jg_policy_str(x->p, n->str);
    }
    if ((n = jg_y_get(v, "author")) != NULL &&
        jg_y_expect(n, JG_Y_SCALAR, x->file, "author", x->d)) {
        if (n->len == 0)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "the author is empty: leave it out when unknown");
        g.pub.author = jg_policy_str(x->p, n->str);
    }
    g_array_append_val(x->p->grants, g);
    g_array_append_val(x->grant_nodes, v);
}

void
jg_policy_load_grants(struct pol_ctx *x, const struct jg_ynode *n)
{
    size_t i;

    if (!jg_y_expect(n, JG_Y_SEQ, x->file, "grants", x->d))
        return;
    for (i = 0; i < n->n; i++)
        load_grant(x, n->kids[i]);
}

static void
load_sources(struct pol_ctx *x, struct pol_exposure *e, const struct jg_ynode *n)
{
    char **sv = NULL;
    size_t cnt = 0, i;
    GPtrArray *us = g_ptr_array_new(), *gs = g_ptr_array_new();

    if (!jg_y_strv(n, x->file, "sources", &sv, &cnt, x->d))
        goto out;
    if (cnt == 0)
        jg_diags_add(x->d, x->file, n->line, n->col, "sources is empty");
    for (i = 0; i < cnt; i++) {
        const struct jg_ynode *at = n->type == JG_Y_SEQ ? n->kids[i] : n;
        if (strcmp(sv[i], "users") == 0)
            e->all_users = true;
        else if (strncmp(sv[i], "group:", 6) == 0 && sv[i][6] != '\0')
            g_ptr_array_add(gs, sv[i] + 6);
        else if (strncmp(sv[i], "user:", 5) == 0 && sv[i][5] != '\0')
            g_ptr_array_add(us, sv[i] + 5);
        else
            jg_diags_add(x->d, x->file, at->line, at->col,
                         "bad source '%s' (users, group:NAME or user:NAME)", sv[i]);
    }
    e->src_users = jg_policy_strv(x->p, (char **)us->pdata, us->len);
    e->n_src_users = us->len;
    e->src_groups = jg_policy_strv(x->p, (char **)gs->pdata, gs->len);
    e->n_src_groups = gs->len;
    e->pub.sources = jg_policy_str(x->p, n->type == JG_Y_SCALAR ? n->str
                                                                : "(list)");
out:
    g_ptr_array_free(us, TRUE);
    g_ptr_array_free(gs, TRUE);
    jg_strv_free(sv);
}

static void
load_exposure_entry(struct pol_ctx *x, const struct jg_ynode *v)
{
    static const char *const keys[] = {"name", "port", "sources",
                                       "aws_security_group", "cloudflare", NULL};
    static const char *const cf_keys[] = {"list", "zone_id", "host", "path_prefix", NULL};
    struct pol_exposure e = {0};
    const struct jg_ynode *n, *cf;
    size_t i;

    if (!jg_y_expect(v, JG_Y_MAP, x->file, "an exposure entry", x->d))
        return;
    jg_y_check_keys(v, keys, x->file, "an exposure entry", x->d);
    e.file = x->file;
    if ((n = jg_y_get(v, "name")) == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "an exposure entry needs a name");
    else if (jg_y_expect(n, JG_Y_SCALAR, x->file, "name", x->d)) {
        if (!jg_policy_name_ok(n->str, false))
            jg_diags_add(x->d, x->file, n->line, n->col, "bad name '%s'", n->str);
        e.pub.name = jg_policy_str(x->p, n->str);
    }
    if ((n = jg_y_get(v, "port")) != NULL &&
        jg_y_expect(n, JG_Y_SCALAR, x->file, "port", x->d)) {
        char *end;
        long p = strtol(n->str, &end, 10);
        if (n->quoted || *n->str == '\0' || *end != '\0' || p < 1 || p > 65535)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "port must be a number from 1 to 65535");
        else
            e.pub.port = (uint16_t)p;
    }
    if ((n = jg_y_get(v, "sources")) == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col, "an exposure entry needs sources");
    else
        load_sources(x, &e, n);
    if ((n = jg_y_get(v, "aws_security_group")) != NULL &&
        jg_y_expect(n, JG_Y_SCALAR, x->file, "aws_security_group", x->d)) {
        bool ok = strncmp(n->str, "sg-", 3) == 0 && n->len > 3 && n->len <= 23;
        for (i = 3; ok && i < n->len; i++)
            ok = isxdigit((unsigned char)n->str[i]) && !isupper((unsigned char)n->str[i]);
        if (!ok)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "bad security group id '%s' (sg- and hex digits)", n->str);
        e.pub.aws_security_group = jg_policy_str(x->p, n->str);
        if (e.pub.port == 0)
            jg_diags_add(x->d, x->file, v->line, v->col,
                         "an exposure entry with aws_security_group needs a port");
    }
    if ((cf = jg_y_get(v, "cloudflare")) != NULL &&
        jg_y_expect(cf, JG_Y_MAP, x->file, "cloudflare", x->d)) {
        const char **fields[] = {&e.cf.list, &e.cf.zone_id, &e.cf.host, &e.cf.path_prefix};
        jg_y_check_keys(cf, cf_keys, x->file, "cloudflare", x->d);
        for (i = 0; i < 4; i++) {
            n = jg_y_get(cf, cf_keys[i]);
            if (n == NULL)
                jg_diags_add(x->d, x->file, cf->line, cf->col,
                             "cloudflare needs %s", cf_keys[i]);
            else if (jg_y_expect(n, JG_Y_SCALAR, x->file, cf_keys[i], x->d))
                *fields[i] = jg_policy_str(x->p, n->str);
        }
        if (e.cf.list != NULL) {
            bool ok = *e.cf.list != '\0' && strlen(e.cf.list) <= 50;
            for (const char *c = e.cf.list; ok && *c; c++)
                ok = islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_';
            if (!ok)
                jg_diags_add(x->d, x->file, jg_y_get(cf, "list")->line,
                             jg_y_get(cf, "list")->col,
                             "bad Cloudflare list name '%s' (a-z, 0-9, _)", e.cf.list);
        }
        if (e.cf.path_prefix != NULL && e.cf.path_prefix[0] != '/')
            jg_diags_add(x->d, x->file, jg_y_get(cf, "path_prefix")->line,
                         jg_y_get(cf, "path_prefix")->col,
                         "path_prefix must start with /");
    }
    if (jg_y_get(v, "aws_security_group") == NULL && cf == NULL)
        jg_diags_add(x->d, x->file, v->line, v->col,
                     "an exposure entry needs aws_security_group or cloudflare");
    g_array_append_val(x->p->exposures, e);
    g_array_append_val(x->exposure_nodes, v);
}

void
jg_policy_load_exposure(struct pol_ctx *x, const struct jg_ynode *n)
{
    size_t i;

    if (!jg_y_expect(n, JG_Y_SEQ, x->file, "exposure", x->d))
        return;
    for (i = 0; i < n->n; i++)
        load_exposure_entry(x, n->kids[i]);
}
