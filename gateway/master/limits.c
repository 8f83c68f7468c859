/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/limits.c - the master's connection limits as pure
 * functions: the random early drop of limits.max_startups and the table of
 * per-source authentication failures and bans (limits.auth_failures). */
#include <stdlib.h>
#include <string.h>

#include "gateway/master/master.h"

int
jg_gw_startups_drop_pct(int start, int rate, int full, size_t n)
{
    if (start < 1 || full < start)
        return 100;             /* no sane limit: fail closed */
    if (n < (size_t)start)
        return 0;
    if (n >= (size_t)full)
        return 100;
    /* start <= n < full: rate at start, rising linearly to 100 at full */
    return rate + (int)((100 - rate) * (long)(n - (size_t)start) /
                        (full - start));
}

bool
jg_gw_startups_drop(int start, int rate, int full, size_t n, uint32_t rnd)
{
    int pct = jg_gw_startups_drop_pct(start, rate, full, n);

    return pct >= 100 || (pct > 0 && (int)(rnd % 100) < pct);
}

struct ban_entry {
    char src[64];
    int fails;          /* within the window that began at first */
    int64_t first;      /* the window's start */
    int64_t until;      /* banned until; 0 none */
};

struct jg_gw_bans {
    int max;
    int64_t window, ban;
    struct ban_entry *v;
    size_t n, cap;
};

struct jg_gw_bans *
jg_gw_bans_new(int max, int64_t window, int64_t ban)
{
    struct jg_gw_bans *b = jg_xcalloc(1, sizeof(*b));

    jg_gw_bans_set(b, max, window, ban);
    return b;
}

void
jg_gw_bans_set(struct jg_gw_bans *b, int max, int64_t window, int64_t ban)
{
    b->max = max > 0 ? max : 1;
    b->window = window > 0 ? window : 1;
    b->ban = ban > 0 ? ban : 1;
}

void
jg_gw_bans_free(struct jg_gw_bans *b)
{
    if (b == NULL)
        return;
    free(b->v);
    free(b);
}

static struct ban_entry *
find(const struct jg_gw_bans *b, const char *src)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        if (strcmp(b->v[i].src, src) == 0)
            return &b->v[i];
    return NULL;
}

/* A slot for a new source: grows up to JG_GW_BANS_MAX, then reuses the
 * entry with the oldest window that is not banned (NULL: all banned). */
static struct ban_entry *
slot(struct jg_gw_bans *b, int64_t now)
{
    struct ban_entry *old = NULL;
    size_t i;

    if (b->n < JG_GW_BANS_MAX) {
        if (b->n == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 16;
            b->v = jg_xrealloc(b->v, b->cap, sizeof(*b->v));
        }
        return &b->v[b->n++];
    }
    for (i = 0; i < b->n; i++)
        if ((b->v[i].until == 0 || b->v[i].until <= now) &&
            (old == NULL || b->v[i].first < old->first))
            old = &b->v[i];
    return old;
}

bool
jg_gw_bans_fail(struct jg_gw_bans *b, const char *src, int64_t now,
                int64_t *until)
{
    struct ban_entry *e = find(b, src);

    if (e != NULL && e->until > now)
        return false;           /* already banned */
    if (e == NULL) {
        if ((e = slot(b, now)) == NULL)
            return false;
        memset(e, 0, sizeof(*e));
        jg_strlcpy(e->src, src, sizeof(e->src));
    }
    if (e->fails == 0 || now - e->first >= b->window) {
        e->fails = 0;
        e->first = now;
    }
    if (++e->fails < b->max)
        return false;
    e->until = now + b->ban;
    e->fails = 0;
    if (until != NULL)
        *until = e->until;
    return true;
}

bool
jg_gw_bans_banned(const struct jg_gw_bans *b, const char *src, int64_t now)
{
    const struct ban_entry *e = find(b, src);

    return e != NULL && e->until > now;
}

void
jg_gw_bans_expire(struct jg_gw_bans *b, int64_t now,
                  void (*ended)(const char *src, void *arg), void *arg,
                  int64_t *next)
{
    size_t i = 0;

    *next = JG_TIME_NEVER;
    while (i < b->n) {
        struct ban_entry *e = &b->v[i];
        bool banned = e->until != 0 && e->until > now;
        bool counting = e->fails > 0 && now - e->first < b->window;

        if (e->until != 0 && !banned && ended != NULL)
            ended(e->src, arg);
        if (!banned && !counting) {
            b->v[i] = b->v[--b->n];
            continue;
        }
        if (banned) {
            if (e->until < *next)
                *next = e->until;
        } else {
            e->until = 0;
            if (e->first + b->window < *next)
                *next = e->first + b->window;
        }
        i++;
    }
}

size_t
jg_gw_bans_active(const struct jg_gw_bans *b, int64_t now)
{
    size_t i, n = 0;

    for (i = 0; i < b->n; i++)
        if (b->v[i].until > now)
            n++;
    return n;
}
