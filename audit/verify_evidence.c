/* SPDX-License-Identifier: Apache-2.0 */
/* audit/verify_evidence.c - the reading side of an evidence archive
 * (evidence.c writes it): its EVIDENCE manifest, and whether each line of
 * session-events.jsonl is a line of the chain slice under events/, which
 * verify proves with the seals. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

#define MANIFEST_MAX 65536
#define DAY_MAX ((size_t)1 << 30)

int
jg_audit_evidence_parse(const char *data, size_t len, const char *name,
                        struct jg_audit_evidence_info *e, char *err,
                        size_t errn)
{
    const char *s, *prev;
    json_t *j = NULL, *ev, *seq;
    json_error_t je;
    int r = JG_ERR_INVALID;

    memset(e, 0, sizeof(*e));
    if ((j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
        snprintf(err, errn, "%s:%d:%d: %s", name, je.line, je.column,
                 je.text);
        goto out;
    }
    if ((s = json_string_value(json_object_get(j, "format"))) == NULL ||
        strcmp(s, "jumpgate-evidence-v1") != 0) {
        snprintf(err, errn, "%s: format is not \"jumpgate-evidence-v1\"",
                 name);
        goto out;
    }
    if ((s = json_string_value(json_object_get(j, "session"))) == NULL ||
        !jg_audit_id_valid(s)) {
        snprintf(err, errn, "%s: session is not a session id", name);
        goto out;
    }
    jg_strlcpy(e->session, s, sizeof(e->session));
    if ((s = json_string_value(json_object_get(j, "made"))) != NULL)
        jg_strlcpy(e->made, s, sizeof(e->made));
    if ((s = json_string_value(json_object_get(j, "by"))) != NULL)
        jg_strlcpy(e->by, s, sizeof(e->by));
    ev = json_object_get(j, "events");
    if (json_is_object(ev)) {
        seq = json_object_get(ev, "seq");
        prev = json_string_value(json_object_get(ev, "prev"));
        if (!json_is_integer(seq) || json_integer_value(seq) < 1 ||
            prev == NULL || strlen(prev) != 64 ||
            strspn(prev, "0123456789abcdef") != 64) {
            snprintf(err, errn, "%s: events needs seq (>= 1) and prev (64 "
                     "hex digits)", name);
            goto out;
        }
        e->has_events = true;
        e->seq = (uint64_t)json_integer_value(seq);
        jg_strlcpy(e->prev, prev, sizeof(e->prev));
    } else if (ev != NULL && !json_is_null(ev)) {
        snprintf(err, errn, "%s: events is neither an object nor null", name);
        goto out;
    }
    r = 0;
out:
    json_decref(j);
    return r;
}

int
jg_audit_evidence_read(const char *dir, struct jg_audit_evidence_info *e,
                       char *err, size_t errn)
{
    char *data = NULL, *name;
    size_t len;
    int top = -1, r;

    memset(e, 0, sizeof(*e));
    err[0] = '\0';
    if ((r = jg_audit_dir_open(dir, &top)) != 0)
        return r;
    r = jg_audit_read_at(top, "EVIDENCE", MANIFEST_MAX, &data, &len);
    close(top);
    if (r == JG_ERR_TOOBIG)
        snprintf(err, errn, "%s/EVIDENCE: larger than %d bytes", dir,
                 MANIFEST_MAX);
    if (r != 0)
        return r;   /* JG_ERR_NOTFOUND: an audit folder, not evidence */
    name = jg_xasprintf("%s/EVIDENCE", dir);
    r = jg_audit_evidence_parse(data, len, name, e, err, errn);
    free(name);
    free(data);
    return r;
}

bool
jg_audit_evidence_line(json_t *o, const char *id)
{
    const char *sid = json_string_value(json_object_get(o, "session"));
    const char *type = json_string_value(json_object_get(o, "type"));

    return sid != NULL && strcmp(sid, id) == 0 && type != NULL &&
           strncmp(type, "console.", 8) != 0;
}

static int
cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, 65);
}

/* The SHA-256 (hex) of every complete line of data that is an event of
 * session id, appended to *v. */
static void
hash_lines(const char *data, size_t len, const char *id, char (**v)[65],
           size_t *n)
{
    const char *p = data, *end = data + len, *nl;
    char perr[128];
    json_t *o;

    for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
         p = nl + 1) {
        if (jg_audit_event_parse(p, (size_t)(nl - p), &o, perr,
                                 sizeof(perr)) != 0)
            continue;
        if (jg_audit_evidence_line(o, id)) {
            *v = jg_xrealloc(*v, *n + 1, sizeof(**v));
            jg_audit_sha256_hex(p, (size_t)(nl - p), (*v)[(*n)++]);
        }
        json_decref(o);
    }
}

int
jg_audit_evidence_excerpt(const char *dir, const char *id, size_t *lines,
                          struct jg_diags *d)
{
    char (*have)[65] = NULL, h[65], **days = NULL, *data = NULL;
    const char *p, *end, *nl;
    size_t n_have = 0, n = 0, i, len, lineno = 0, before = d->n;
    int top = -1, efd = -1, r;

    *lines = 0;
    if ((r = jg_audit_list_days(dir, &days, &n)) != 0 ||
        (r = jg_audit_dir_open(dir, &top)) != 0)
        goto out;
    if (n > 0 && (r = jg_audit_subdir(top, "events", false, &efd)) != 0)
        goto out;
    for (i = 0; i < n; i++) {
        if ((r = jg_audit_read_at(efd, days[i], DAY_MAX, &data, &len)) != 0)
            goto out;
        hash_lines(data, len, id, &have, &n_have);
        free(data);
        data = NULL;
    }
    if (n_have > 1)
        qsort(have, n_have, sizeof(*have), cmp_hash);
    if ((r = jg_audit_read_at(top, "session-events.jsonl", DAY_MAX, &data,
                              &len)) != 0)
        goto out;
    for (p = data, end = data + len; p < end; p = nl + 1) {
        lineno++;
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
            jg_diags_add(d, "session-events.jsonl", (int)lineno, 0,
                         "incomplete last line");
            break;
        }
        (*lines)++;
        jg_audit_sha256_hex(p, (size_t)(nl - p), h);
        if (n_have == 0 ||
            bsearch(h, have, n_have, sizeof(*have), cmp_hash) == NULL)
            jg_diags_add(d, "session-events.jsonl", (int)lineno, 0,
                         "not a line of the session in the chain under "
                         "events/ (changed, or added)");
    }
    if (*lines < n_have)
        jg_diags_add(d, "session-events.jsonl", 0, 0,
                     "%zu line(s) of the session in the chain under events/ "
                     "are not here (removed)", n_have - *lines);
    r = d->n > before ? JG_ERR_INVALID : 0;
out:
    free(have);
    free(data);
    jg_strv_free(days);
    if (efd >= 0)
        close(efd);
    if (top >= 0)
        close(top);
    return r;
}
