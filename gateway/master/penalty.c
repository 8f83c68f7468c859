/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/penalty.c - the master's per-source penalties
 * (limits.penalties) as pure functions: a connection that ends without
 * authenticating adds to its source's penalty, and a source whose penalty
 * reaches the minimum is refused until the penalty has run out. */
#include <stdlib.h>
#include <string.h>

#include "gateway/master/master.h"

struct pen_entry {
    char src[64];
    int64_t expiry;     /* the penalty runs out then */
    bool active;        /* refused until expiry */
};

struct jg_gw_penalties {
    int64_t min, max;
    struct pen_entry *v;
    size_t n, cap;
};

struct jg_gw_penalties *
jg_gw_penalties_new(int64_t min, int64_t max)
{
    struct jg_gw_penalties *p = jg_xcalloc(1, sizeof(*p));

    jg_gw_penalties_set(p, min, max);
    return p;
}

void
jg_gw_penalties_set(struct jg_gw_penalties *p, int64_t min, int64_t max)
{
    p->max = max > 0 ? max : 1;
    p->min = min < 0 ? 0 : min > p->max ? p->max : min;
}

void
jg_gw_penalties_free(struct jg_gw_penalties *p)
{
    if (p == NULL)
        return;
    free(p->v);
    free(p);
}

static struct pen_entry *
find(const struct jg_gw_penalties *p, const char *src)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        if (strcmp(p->v[i].src, src) == 0)
            return &p->v[i];
    return NULL;
}

/* A slot for a new source: grows up to JG_GW_PENALTIES_MAX, then reuses
 * the source that is not refused whose penalty runs out first (NULL: all
 * are refused). */
static struct pen_entry *
slot(struct jg_gw_penalties *p, int64_t now)
{
    struct pen_entry *old = NULL;
    size_t i;

    if (p->n < JG_GW_PENALTIES_MAX) {
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 16;
            p->v = jg_xrealloc(p->v, p->cap, sizeof(*p->v));
        }
        return &p->v[p->n++];
    }
    for (i = 0; i < p->n; i++)
        if ((!p->v[i].active || p->v[i].expiry <= now) &&
            (old == NULL || p->v[i].expiry < old->expiry))
            old = &p->v[i];
    return old;
}

bool
jg_gw_penalties_add(struct jg_gw_penalties *p, const char *src, int64_t secs,
                    int64_t now, int64_t *until)
{
    struct pen_entry *e = find(p, src);

    if (secs <= 0)
        return false;
    if (e != NULL && e->active && e->expiry > now)
        return false;           /* refused already */
    if (e == NULL || e->expiry <= now) {
        if (e == NULL && (e = slot(p, now)) == NULL)
            return false;
        memset(e, 0, sizeof(*e));
        jg_strlcpy(e->src, src, sizeof(e->src));
        e->expiry = now;
    }
    e->expiry += secs < p->max ? secs : p->max;
    if (e->expiry - now > p->max)
        e->expiry = now + p->max;
    if (e->expiry - now < p->min)
        return false;
    e->active = true;
    if (until != NULL)
        *until = e->expiry;
    return true;
}

bool
jg_gw_penalties_refused(const struct jg_gw_penalties *p, const char *src,
                        int64_t now, int64_t *until)
{
    const struct pen_entry *e = find(p, src);

    if (e == NULL || !e->active || e->expiry <= now)
        return false;
    if (until != NULL)
        *until = e->expiry;
    return true;
}

void
jg_gw_penalties_expire(struct jg_gw_penalties *p, int64_t now,
                       void (*ended)(const char *src, void *arg), void *arg,
                       int64_t *next)
{
    size_t i = 0;

    *next = JG_TIME_NEVER;
    while (i < p->n) {
        struct pen_entry *e = &p->v[i];

        if (e->expiry <= now) {
            if (e->active && ended != NULL)
                ended(e->src, arg);
            p->v[i] = p->v[--p->n];
            continue;
        }
        if (e->active && e->expiry < *next)
            *next = e->expiry;
        i++;
    }
}

size_t
jg_gw_penalties_active(const struct jg_gw_penalties *p, int64_t now)
{
    size_t i, n = 0;

    for (i = 0; i < p->n; i++)
        n += p->v[i].active && p->v[i].expiry > now;
    return n;
}
