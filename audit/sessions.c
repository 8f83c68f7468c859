/* SPDX-License-Identifier: Apache-2.0 */
/* audit/sessions.c - the sessions of an audit folder, as auditors list
 * them: one per recording (from its header and its end) and one per
 * session.start event that has none (SFTP) or forward.open (a port
 * forward), with the end and exit status of its session.end or
 * forward.close. */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/internal.h"

void
jg_audit_sessions_free(struct jg_audit_sessions *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        struct jg_audit_session *r = &s->v[i];

        free(r->user);
        free(r->target);
        free(r->login);
        free(r->action);
        free(r->from);
        free(r->rule);
        free(r->command);
        free(r->target_id);
        free(r->address);
        free(r->path);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static char *
dup_or_null(const char *s)
{
    return s != NULL ? jg_xstrdup(s) : NULL;
}

/* Fills r from the recording at path (its header and end). */
static int
from_rec(struct jg_audit_session *r, const char *id, const char *path)
{
    struct jg_audit_recr *rd = NULL;
    struct jg_audit_cast_header *h;
    struct stat st;
    char err[512];
    bool fin;

    if (jg_audit_recr_open(path, &rd, err, sizeof(err)) != 0)
        return JG_ERR_INVALID;
    h = (struct jg_audit_cast_header *)jg_audit_recr_header(rd);
    jg_strlcpy(r->id, id, sizeof(r->id));
    r->start_us = jg_audit_recr_start_us(rd);
    r->user = h->user;
    r->target = h->target;
    r->login = h->login;
    r->action = h->action;
    r->from = h->from;
    r->rule = h->rule;
    r->command = h->command;
    r->target_id = h->target_id;
    r->address = h->address;
    h->user = h->target = h->login = h->action = h->from = h->rule =
        h->command = h->target_id = h->address = NULL;
    r->path = jg_xstrdup(path);
    if (stat(path, &st) == 0)
        r->size = (uint64_t)st.st_size;
    if (jg_audit_recr_tail(rd, &r->end_us, &fin) != 0)
        r->end_us = r->start_us;
    jg_audit_recr_free(rd);
    return 0;
}

/* The sessions being loaded and an index of their ids (hsearch_r: a
 * year of forwards is many thousands of sessions, each looked up by every
 * event that names it). The table's keys point into s->v, which grows by
 * doubling; each time it moves the table is made again. */
struct load {
    struct jg_audit_sessions *s;
    size_t vcap;                /* room in s->v */
    struct hsearch_data h;
    bool made;
};

static void
index_build(struct load *l)
{
    size_t i;

    if (l->made)
        hdestroy_r(&l->h);
    memset(&l->h, 0, sizeof(l->h));
    if (hcreate_r(l->vcap * 2 + 64, &l->h) == 0) {
        fputs("jumpgate: out of memory\n", stderr);   /* as jg_xmalloc */
        abort();
    }
    l->made = true;
    for (i = 0; i < l->s->n; i++) {
        ENTRY e = {.key = l->s->v[i].id, .data = (void *)(uintptr_t)i}, *r;
        (void)hsearch_r(e, ENTER, &r, &l->h);
    }
}

static struct jg_audit_session *
find(struct load *l, const char *id)
{
    ENTRY e = {.key = (char *)id}, *r = NULL;

    if (hsearch_r(e, FIND, &r, &l->h) == 0 || r == NULL)
        return NULL;
    return &l->s->v[(uintptr_t)r->data];
}

/* A new session at the end of s->v, indexed. */
static struct jg_audit_session *
add(struct load *l, const char *id)
{
    struct jg_audit_sessions *s = l->s;
    struct jg_audit_session *r;
    ENTRY e, *found;

    if (s->n == l->vcap) {
        l->vcap = l->vcap ? l->vcap * 2 : 64;
        s->v = jg_xrealloc(s->v, l->vcap, sizeof(*s->v));
        r = &s->v[s->n];
        memset(r, 0, sizeof(*r));
        jg_strlcpy(r->id, id, sizeof(r->id));
        s->n++;
        index_build(l);         /* the keys moved with s->v */
        return r;
    }
    r = &s->v[s->n];
    memset(r, 0, sizeof(*r));
    jg_strlcpy(r->id, id, sizeof(r->id));
    e.key = r->id;
    e.data = (void *)(uintptr_t)s->n++;
    (void)hsearch_r(e, ENTER, &found, &l->h);
    return r;
}

static const char *
jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool
on_event(json_t *ev, const char *file, size_t line, void *arg)
{
    struct load *l = arg;
    const char *type = jstr(ev, "type"), *id = jstr(ev, "session");
    struct jg_audit_session *r;
    int64_t t = 0;
    json_t *x;

    (void)file;
    (void)line;
    if (type == NULL || id == NULL || !jg_audit_id_valid(id) ||
        jg_audit_time_parse(jstr(ev, "time"), &t) != 0)
        return true;
    r = find(l, id);
    if ((strcmp(type, "session.start") == 0 ||
         strcmp(type, "forward.open") == 0) && r == NULL) {
        r = add(l, id);
        r->start_us = t;
        r->exit_status = -1;
        r->user = dup_or_null(jstr(ev, "user"));
        r->target = dup_or_null(jstr(ev, "target"));
        r->login = dup_or_null(jstr(ev, "login"));
        r->action = dup_or_null(jstr(ev, "action"));
        r->from = dup_or_null(jstr(ev, "from"));
        r->rule = dup_or_null(jstr(ev, "rule"));
        r->command = dup_or_null(jstr(ev, "command"));
        r->target_id = dup_or_null(jstr(ev, "target_id"));
        r->address = dup_or_null(jstr(ev, "address"));
        /* A recording was made (the event names it), and is not here. */
        r->rec_missing = json_is_string(json_object_get(ev, "recording"));
    } else if ((strcmp(type, "session.end") == 0 ||
                strcmp(type, "forward.close") == 0) && r != NULL) {
        if (r->path == NULL || t > r->end_us)
            r->end_us = t;
        r->ended = true;
        x = json_object_get(ev, "exit_status");
        r->exit_status = json_is_integer(x) && json_integer_value(x) >= 0 &&
                                 json_integer_value(x) <= 255
                             ? (int)json_integer_value(x)
                             : -1;
    }
    return true;
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(((const struct jg_audit_session *)a)->id,
                  ((const struct jg_audit_session *)b)->id);
}

int
jg_audit_sessions_load(const char *dir, struct jg_audit_sessions *out)
{
    char **ids = NULL, *path = NULL;
    size_t n = 0, i;
    int r;

    struct load l = {.s = out};

    memset(out, 0, sizeof(*out));
    if ((r = jg_audit_list_ids(dir, &ids, &n)) != 0)
        return r;
    l.vcap = n + 64;
    out->v = jg_xcalloc(l.vcap, sizeof(*out->v));
    for (i = 0; i < n; i++) {
        if (jg_audit_find_rec(dir, ids[i], &path) != 0)
            continue;
        memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
        out->v[out->n].exit_status = -1;
        if (from_rec(&out->v[out->n], ids[i], path) == 0)
            out->n++;
        else
            out->bad_recs++;
        free(path);
        path = NULL;
    }
    jg_strv_free(ids);
    index_build(&l);
    if (jg_audit_events_each(dir, on_event, &l, &out->bad_events) != 0)
        out->events_unreadable = true;
    hdestroy_r(&l.h);
    if (out->n > 0)
        qsort(out->v, out->n, sizeof(*out->v), cmp);
    return 0;
}
