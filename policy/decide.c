/* SPDX-License-Identifier: Apache-2.0 */
/* policy/decide.c - decide(): default deny, deny rules win, allow rules and
 * grants, the user's (or grant's) source addresses, time windows, expiry,
 * and the moment the permission lapses. */
#include <string.h>

#include "policy/internal.h"

/* How close a request came to being allowed, for the reason of a deny. */
enum miss { MISS_NONE, MISS_ACTION, MISS_LOGIN, MISS_GRANT_ENDED, MISS_TIME, MISS_FROM };

struct dctx {
    const struct jg_policy *p;
    const struct jg_request *req;
    const struct jg_user *u;
    struct jg_addr from;
    unsigned target;
    bool needs_login;
    enum miss miss;
    char miss_text[384];
    int64_t opens;      /* MISS_TIME: when the first missed window opens */
};

static int64_t
min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void
note_miss(struct dctx *x, enum miss m, const char *fmt, ...) JG_PRINTF(3, 4);

static void
note_miss(struct dctx *x, enum miss m, const char *fmt, ...)
{
    va_list ap;

    if (m <= x->miss)
        return;
    x->miss = m;
    va_start(ap, fmt);
    vsnprintf(x->miss_text, sizeof(x->miss_text), fmt, ap);
    va_end(ap);
}

/* A rule that would allow the request at another time: the reason says
 * when its window next opens (the earliest of all such rules), or that it
 * does not open again while the user is valid. */
static void
time_miss(struct dctx *x, const char *rule, int64_t opens)
{
    char t[JG_TIME_STRLEN];

    if (x->miss > MISS_TIME || (x->miss == MISS_TIME && opens >= x->opens))
        return;
    x->miss = MISS_TIME;
    x->opens = opens;
    if (opens == JG_TIME_NEVER || opens >= x->u->expires) {
        snprintf(x->miss_text, sizeof(x->miss_text),
                 "outside the time window of rule '%s' (it does not open "
                 "again%s)", rule,
                 x->u->expires != JG_TIME_NEVER ? " before the user expires"
                                                : "");
        return;
    }
    jg_time_format(opens, t, sizeof(t));
    snprintf(x->miss_text, sizeof(x->miss_text),
             "outside the time window of rule '%s' (it opens next at %s)",
             rule, t);
}

static bool
in_from(const struct jg_cidr *v, size_t n, const struct jg_addr *a)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (jg_cidr_contains(&v[i], a))
            return true;
    }
    return false;
}

/* The login a rule or grant gives: its first login, or the user's name when
 * it lists none. *chosen is NULL when the asked login is not allowed. */
static bool
login_ok(const struct dctx *x, const char *const *logins, size_t n,
         const char **chosen)
{
    const char *want = x->req->login;
    size_t i;

    *chosen = NULL;
    if (!x->needs_login) {
        *chosen = "";
        return true;
    }
    if (n == 0) {
        if (want == NULL || strcmp(want, x->u->name) == 0) {
            *chosen = x->u->name;
            return true;
        }
        return false;
    }
    if (want == NULL) {
        *chosen = logins[0];
        return true;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(logins[i], want) == 0) {
            *chosen = logins[i];
            return true;
        }
    }
    return false;
}

/* A deny rule concerns this request (apart from its time window). */
static bool
deny_matches(const struct dctx *x, const struct pol_rule *r, const char *login)
{
    size_t i;

    if (!r->deny || !jg_policy_tset_has(x->p, &r->tset, x->target))
        return false;
    if (r->allow != 0 && !(r->allow & x->req->action))
        return false;
    if (r->n_logins > 0) {
        if (!x->needs_login || login == NULL || *login == '\0')
            return false;
        for (i = 0; i < r->n_logins; i++) {
            if (strcmp(r->logins[i], login) == 0)
                return true;
        }
        return false;
    }
    return true;
}

/* Calls fn for each rule that can concern the user: those naming the user
 * or a group of theirs, then those naming nobody (deny rules only). */
#define FOR_EACH_RULE(x, r, body)                                               \
    do {                                                                        \
        const struct pol_user *pu_ = (const struct pol_user *)(x)->u;           \
        size_t k_;                                                              \
        for (k_ = 0; k_ < pu_->n_rules + (x)->p->n_global_rules; k_++) {       \
            unsigned ri_ = k_ < pu_->n_rules                                    \
                               ? pu_->rules[k_]                                 \
                               : (x)->p->global_rules[k_ - pu_->n_rules];       \
            const struct pol_rule *r = POL_RULE((x)->p, ri_);                   \
            body                                                                \
        }                                                                       \
    } while (0)

static const struct pol_rule *
deny_now(const struct dctx *x, const char *login)
{
    const struct pol_rule *hit = NULL;

    FOR_EACH_RULE(x, r, {
        if (hit == NULL && deny_matches(x, r, login) &&
            jg_policy_when_contains(&r->when, x->req->at))
            hit = r;
    });
    return hit;
}

static int64_t
next_deny(const struct dctx *x, const char *login)
{
    int64_t t = JG_TIME_NEVER;

    FOR_EACH_RULE(x, r, {
        if (deny_matches(x, r, login) && r->when.n > 0)
            t = min64(t, jg_policy_when_next_start(&r->when, x->req->at));
    });
    return t;
}

static void
set_reason(struct jg_decision *out, const char *fmt, ...) JG_PRINTF(2, 3);

static void
set_reason(struct jg_decision *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

static int
deny_user(struct jg_decision *out, const char *fmt, ...) JG_PRINTF(2, 3);

static int
deny_user(struct jg_decision *out, const char *fmt, ...)
{
    va_list ap;

    out->effect = JG_DENY;
    out->by = JG_BY_USER;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
    return 0;
}

int
jg_policy_decide(const struct jg_policy *p, const struct jg_request *req,
                 struct jg_decision *out)
{
    struct dctx x = {.p = p, .req = req};
    const char *act, *best_login = NULL;
    const struct pol_rule *best_rule = NULL, *denier;
    const struct pol_grant *best_grant = NULL;
    int64_t best_until = 0;
    bool from_ok;
    char tbuf[JG_TIME_STRLEN];
    size_t k;
    int ui, ti;

    memset(out, 0, sizeof(*out));
    out->effect = JG_DENY;
    out->by = JG_BY_USER;
    if (req->user == NULL || req->target == NULL || req->from == NULL) {
        set_reason(out, "incomplete request");
        return JG_ERR_INVALID;
    }
    act = jg_policy_action_name(req->action);
    if (*act == '?') {
        set_reason(out, "the request must name exactly one action");
        return JG_ERR_INVALID;
    }
    if ((ui = jg_policy_user_index(p, req->user)) < 0)
        return deny_user(out, "unknown user '%s'", req->user);
    x.u = &POL_USER(p, (unsigned)ui)->pub;
    if (req->at >= x.u->expires) {
        jg_time_format(x.u->expires, tbuf, sizeof(tbuf));
        return deny_user(out, "user '%s' expired at %s", x.u->name, tbuf);
    }
    if (jg_addr_parse(req->from, &x.from) != 0)
        return deny_user(out, "bad source address '%s'", req->from);
    out->by = JG_BY_DEFAULT;
    if ((ti = jg_policy_target_index(p, req->target)) < 0) {
        set_reason(out, "unknown target '%s'", req->target);
        return 0;
    }
    x.target = (unsigned)ti;
    {
        const struct jg_target *tg = &POL_TARGET(p, x.target)->pub;
        if (tg->kind == JG_TARGET_TCP && req->action != JG_ACT_FORWARD) {
            set_reason(out, "target '%s' is a TCP service: only forward reaches it",
                       req->target);
            return 0;
        }
        if (tg->kind == JG_TARGET_SSH && req->action == JG_ACT_FORWARD) {
            set_reason(out, "target '%s' is an SSH host: forwarding to it is a jump",
                       req->target);
            return 0;
        }
    }
    x.needs_login = (req->action & JG_ACT_NEEDS_LOGIN) != 0 || req->db_login;
    from_ok = in_from(x.u->from, x.u->n_from, &x.from);

    /* allow rules */
    FOR_EACH_RULE(&x, r, {
        const char *login;
        int64_t until;

        if (r->deny || !jg_policy_tset_has(p, &r->tset, x.target))
            continue;
        if (!(r->allow & req->action)) {
            note_miss(&x, MISS_ACTION, "rule '%s' covers %s but does not allow %s",
                      r->name, req->target, act);
            continue;
        }
        if (!login_ok(&x, r->logins, r->n_logins, &login)) {
            note_miss(&x, MISS_LOGIN, "rule '%s' does not allow login '%s' on %s",
                      r->name, req->login, req->target);
            continue;
        }
        if (!jg_policy_when_contains(&r->when, req->at)) {
            time_miss(&x, r->name, jg_policy_when_next_start(&r->when, req->at));
            continue;
        }
        if (!from_ok) {
            note_miss(&x, MISS_FROM, "source %s is not in the 'from' of user '%s'",
                      req->from, x.u->name);
            continue;
        }
        until = min64(jg_policy_when_end(&r->when, req->at), x.u->expires);
        if (r->max_session > 0)
            until = min64(until, req->at + r->max_session);
        if (best_rule == NULL && best_grant == NULL ? true : until > best_until) {
            best_rule = r;
            best_until = until;
            best_login = login;
        }
    });

    /* grants */
    for (k = 0; k < ((const struct pol_user *)x.u)->n_grants; k++) {
        const struct pol_grant *g =
            POL_GRANT(p, ((const struct pol_user *)x.u)->grants[k]);
        const char *login;
        int64_t until;

        if (!jg_policy_tset_has(p, &g->tset, x.target))
            continue;
        if (!(g->pub.allow & req->action)) {
            note_miss(&x, MISS_ACTION, "grant %s covers %s but does not allow %s",
                      g->pub.id, req->target, act);
            continue;
        }
        if (req->at >= g->pub.until) {
            jg_time_format(g->pub.until, tbuf, sizeof(tbuf));
            note_miss(&x, MISS_GRANT_ENDED, "grant %s ended at %s", g->pub.id, tbuf);
            continue;
        }
        if (!login_ok(&x, g->pub.logins, g->pub.n_logins, &login)) {
            note_miss(&x, MISS_LOGIN, "grant %s does not allow login '%s' on %s",
                      g->pub.id, req->login, req->target);
            continue;
        }
        if (g->pub.n_from > 0 ? !in_from(g->pub.from, g->pub.n_from, &x.from)
                              : !from_ok) {
            note_miss(&x, MISS_FROM, "source %s is not in the 'from' of grant %s",
                      req->from, g->pub.id);
            continue;
        }
        until = min64(g->pub.until, x.u->expires);
        if ((best_rule == NULL && best_grant == NULL) || until > best_until) {
            best_rule = NULL;
            best_grant = g;
            best_until = until;
            best_login = login;
        }
    }

    /* deny rules win */
    if ((denier = deny_now(&x, best_login ? best_login : req->login)) != NULL) {
        out->by = JG_BY_RULE;
        jg_strlcpy(out->by_name, denier->name, sizeof(out->by_name));
        set_reason(out, "deny rule '%s' forbids %s on %s for user '%s'", denier->name,
                   act, req->target, x.u->name);
        return 0;
    }
    if (best_rule == NULL && best_grant == NULL) {
        if (x.miss != MISS_NONE)
            set_reason(out, "%s", x.miss_text);
        else
            set_reason(out, "no rule or grant allows user '%s' to %s on %s",
                       x.u->name, act, req->target);
        return 0;
    }
    out->effect = JG_ALLOW;
    out->until = min64(best_until, next_deny(&x, best_login));
    jg_strlcpy(out->login, best_login, sizeof(out->login));
    if (best_rule != NULL) {
        out->by = JG_BY_RULE;
        jg_strlcpy(out->by_name, best_rule->name, sizeof(out->by_name));
        out->max_session = best_rule->max_session;
        out->record_input = best_rule->record_input;
        set_reason(out, "rule '%s' allows user '%s' to %s on %s%s%s", best_rule->name,
                   x.u->name, act, req->target, *best_login ? " as " : "", best_login);
    } else {
        out->by = JG_BY_GRANT;
        jg_strlcpy(out->by_name, best_grant->pub.id, sizeof(out->by_name));
        set_reason(out, "grant %s (%s) allows user '%s' to %s on %s%s%s",
                   best_grant->pub.id, best_grant->pub.reason, x.u->name, act,
                   req->target, *best_login ? " as " : "", best_login);
    }
    return 0;
}

size_t
jg_policy_logins(const struct jg_policy *p, const struct jg_request *req,
                 const char **out, size_t max)
{
    struct jg_request q = *req;
    struct jg_decision d;
    const struct pol_user *u;
    GPtrArray *cands;
    size_t n = 0, i, k;
    int ui = jg_policy_user_index(p, req->user);

    if (ui < 0 || (!(req->action & JG_ACT_NEEDS_LOGIN) && !req->db_login))
        return 0;
    u = POL_USER(p, (unsigned)ui);
    cands = g_ptr_array_new();
    for (k = 0; k < u->n_rules; k++) {
        const struct pol_rule *r = POL_RULE(p, u->rules[k]);
        if (r->deny)
            continue;
        if (r->n_logins == 0)
            g_ptr_array_add(cands, (gpointer)u->pub.name);
        for (i = 0; i < r->n_logins; i++)
            g_ptr_array_add(cands, (gpointer)r->logins[i]);
    }
    for (k = 0; k < u->n_grants; k++) {
        const struct pol_grant *g = POL_GRANT(p, u->grants[k]);
        if (g->pub.n_logins == 0)
            g_ptr_array_add(cands, (gpointer)u->pub.name);
        for (i = 0; i < g->pub.n_logins; i++)
            g_ptr_array_add(cands, (gpointer)g->pub.logins[i]);
    }
    for (k = 0; k < cands->len && n < max; k++) {
        const char *l = g_ptr_array_index(cands, k);
        bool dup = false;
        for (i = 0; i < n && !dup; i++)
            dup = strcmp(out[i], l) == 0;
        if (dup)
            continue;
        q.login = l;
        if (jg_policy_decide(p, &q, &d) == 0 && d.effect == JG_ALLOW)
            out[n++] = l;
    }
    g_ptr_array_free(cands, TRUE);
    return n;
}
