/* SPDX-License-Identifier: Apache-2.0 */
/* console/state.c - what the console keeps between requests and checks on
 * each: the policy (read again when its file or policy.d changed, or after
 * SIGHUP, so that an auditor removed from it loses access at the next
 * click), the scope of the signed-in auditor (remembered per request for
 * the pages that scan many sessions or events), and the console's own
 * events in the audit log. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "console/internal.h"

static struct timespec
mtime_of(const char *path)
{
    struct stat st;
    struct timespec zero = {0, 0};

    return stat(path, &st) == 0 ? st.st_mtim : zero;
}

static bool
same(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

const struct jg_policy *
jgc_policy(struct jg_console *x)
{
    const char *path = x->cfg->policy;
    char *dropins = jg_path_relative_to(path, "policy.d");
    struct timespec m = mtime_of(path), dm = mtime_of(dropins);
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};

    free(dropins);
    if (x->pol != NULL && same(m, x->pol_mtime) && same(dm, x->dropins_mtime))
        return x->pol;
    if (jg_policy_load(path, &p, &d) != 0) {
        /* Fail closed: with a policy that does not load, nobody is an
         * auditor until it is fixed. */
        jg_error("audit console: the policy %s does not load (%zu error%s); "
                 "every request is refused", path, d.n, d.n == 1 ? "" : "s");
        jg_diags_clear(&d);
        jg_policy_free(x->pol);
        x->pol = NULL;
        memset(&x->pol_mtime, 0, sizeof(x->pol_mtime));
        return NULL;
    }
    jg_diags_clear(&d);
    jg_policy_free(x->pol);
    x->pol = p;
    x->pol_mtime = m;
    x->dropins_mtime = dm;
    return p;
}

const struct jg_auditor *
jgc_auditor(struct jgc_req *q, const struct jg_policy **pol)
{
    const struct jg_policy *p = jgc_policy(q->x);
    const struct jg_auditor *a;

    *pol = p;
    if (p == NULL || (a = jg_policy_auditor(p, q->s.account)) == NULL ||
        strcmp(a->name, q->s.auditor) != 0)
        return NULL;
    return a;
}

bool
jgc_sees(struct jgc_req *q, const char *user, const char *target)
{
    const struct jg_policy *p;
    const struct jg_auditor *a;
    bool ok;

    pthread_mutex_lock(&q->x->mu);
    ok = (a = jgc_auditor(q, &p)) != NULL &&
         jg_policy_auditor_sees(p, a, user, target);
    pthread_mutex_unlock(&q->x->mu);
    return ok;
}

const struct jg_audit_session *
jgc_find(struct jgc_req *q, const char *id, struct jg_audit_sessions *all,
         int *err)
{
    const struct jg_audit_session *s = NULL;
    size_t i;

    if ((*err = jg_audit_sessions_load(q->x->cfg->audit_dir, all)) != 0)
        return NULL;
    for (i = 0; i < all->n && s == NULL; i++) {
        if (strcmp(all->v[i].id, id) == 0)
            s = &all->v[i];
    }
    if (s == NULL || !jgc_sees(q, s->user, s->target))
        return NULL;
    return s;
}

int
jgc_event(struct jgc_req *q, const char *type, const char *session,
          const char *result, const char *detail)
{
    json_t *extra = json_object();
    struct jg_audit_event ev = {
        .type = type,
        .session = session,
        .from = q->from,
        .user = q->s.account[0] != '\0' ? q->s.account : NULL,
        .reason = detail,
        .extra = extra,
    };
    int r;

    json_object_set_new(extra, "result", json_string(result));
    if (q->s.auditor[0] != '\0')
        json_object_set_new(extra, "auditor", json_string(q->s.auditor));
    pthread_mutex_lock(&q->x->mu);
    r = jg_audit_log_append(q->x->log, &ev, jg_audit_now_us());
    pthread_mutex_unlock(&q->x->mu);
    json_decref(extra);
    if (r != 0)
        jg_error("audit console: cannot write %s to the event log: %s", type,
                 jg_strerror(r));
    return r;
}

static bool
same_name(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

bool
jgc_scope_sees(struct jgc_scope *sc, const char *user, const char *target)
{
    struct jgc_seen *e;
    size_t i;
    bool ok;

    for (i = 0; i < sc->n; i++) {
        if (same_name(sc->v[i].user, user) &&
            same_name(sc->v[i].target, target))
            return sc->v[i].ok;
    }
    ok = jgc_sees(sc->q, user, target);
    if (sc->n < JGC_SEEN_MAX) {
        e = &sc->v[sc->n++];
        e->user = user != NULL ? jg_xstrdup(user) : NULL;
        e->target = target != NULL ? jg_xstrdup(target) : NULL;
        e->ok = ok;
    }
    return ok;
}

void
jgc_scope_free(struct jgc_scope *sc)
{
    size_t i;

    for (i = 0; i < sc->n; i++) {
        free(sc->v[i].user);
        free(sc->v[i].target);
    }
    sc->n = 0;
}
