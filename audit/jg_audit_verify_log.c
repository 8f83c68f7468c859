/* SPDX-License-Identifier: Apache-2.0 */
/* audit/jg_audit_verify_log.c - proves the event log: every line chained
 * to the one before (across days), seq without gaps, seals valid. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

#define DAY_MAX ((size_t)1 << 30)

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Checks a seal line's key and signature. */
static void
check_seal(const char *name, size_t lineno, const char *line, size_t len,
           json_t *o, const struct jg_audit_key *key,
           struct jg_audit_log_status *st, struct jg_diags *d)
{
    const char *b64, *kid = json_string_value(json_object_get(o, "key"));
    size_t b64_len, prefix = jg_audit_sealed_prefix(line, len, &b64, &b64_len);

    if (prefix == 0 || kid == NULL) {
        jg_diags_add(d, name, (int)lineno, 0, "seal without a signature");
        return;
    }
    if (key != NULL && strcmp(kid, jg_audit_key_id(key)) != 0) {
        jg_diags_add(d, name, (int)lineno, 0,
                     "sealed with another key (%.40s, not %s)", kid,
                     jg_audit_key_id(key));
        return;
    }
    if (key != NULL && !jg_audit_sig_ok(key, JG_AUDIT_DOMAIN_EVENTS, line,
                                        prefix, b64, b64_len)) {
        jg_diags_add(d, name, (int)lineno, 0, "bad seal signature");
        return;
    }
    st->seals++;
    st->unsealed = 0;
}

int
jg_audit_verify_log_mem(const char *name, const char *data, size_t len,
                        const struct jg_audit_key *key, char prev[65],
                        uint64_t *last_seq, struct jg_audit_log_status *st,
                        struct jg_diags *d)
{
    const char *p = data, *end = data + len, *nl, *type, *lp;
    size_t lineno = 0, before = d->n, ll;
    char err[256], expect[65];
    json_t *o = NULL;
    uint64_t seq;

    jg_strlcpy(expect, prev != NULL && prev[0] != '\0' ? prev : zeros,
               sizeof(expect));
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        lineno++;
        ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        lp = p;
        p = nl != NULL ? nl + 1 : end;
        if (nl == NULL) {
            jg_diags_add(d, name, (int)lineno, 0,
                         "incomplete last line (cut short by a crash?)");
            break;
        }
        st->lines++;
        st->unsealed++;
        if (jg_audit_event_parse(lp, ll, &o, err, sizeof(err)) != 0) {
            jg_diags_add(d, name, (int)lineno, 0, "%s", err);
            jg_audit_sha256_hex(lp, ll, expect);
            continue;
        }
        if (strcmp(json_string_value(json_object_get(o, "prev")), expect) != 0)
            jg_diags_add(d, name, (int)lineno, 0,
                         "prev does not match the line before (a line was "
                         "changed, removed, added or moved)");
        seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
        if (seq != *last_seq + 1)
            jg_diags_add(d, name, (int)lineno, 0,
                         "seq %" PRIu64 " where %" PRIu64 " was expected",
                         seq, *last_seq + 1);
        *last_seq = seq;
        type = json_string_value(json_object_get(o, "type"));
        if (strcmp(type, "seal") == 0)
            check_seal(name, lineno, lp, ll, o, key, st, d);
        json_decref(o);
        o = NULL;
        jg_audit_sha256_hex(lp, ll, expect);
    }
    if (prev != NULL)
        memcpy(prev, expect, 65);
    return d->n > before ? JG_ERR_INVALID : 0;
}

int
jg_audit_verify_log(const char *audit_dir, const struct jg_audit_key *key,
                    struct jg_audit_log_status *st, struct jg_diags *d)
{
    char **days = NULL, prev[65], *data = NULL, *name = NULL;
    size_t n = 0, i, len, before = d->n;
    uint64_t last_seq = 0;
    int r, efd = -1, top = -1;

    memset(st, 0, sizeof(*st));
    memcpy(prev, zeros, sizeof(prev));
    if ((r = jg_audit_list_days(audit_dir, &days, &n)) != 0)
        goto out;
    if (n > 0 && ((r = jg_audit_dir_open(audit_dir, &top)) != 0 ||
                  (r = jg_audit_subdir(top, "events", false, &efd)) != 0))
        goto out;
    for (i = 0; i < n; i++) {
        free(name);
        name = jg_xasprintf("events/%s", days[i]);
        r = jg_audit_read_at(efd, days[i], DAY_MAX, &data, &len);
        if (r == JG_ERR_TOOBIG) {
            jg_diags_add(d, name, 0, 0, "larger than %zu bytes", DAY_MAX);
            continue;
        }
        if (r != 0)
            goto out;
        st->files++;
        jg_audit_verify_log_mem(name, data, len, key, prev, &last_seq, st, d);
        free(data);
        data = NULL;
    }
    if (st->unsealed > 0)
        jg_diags_add(d, name, 0, 0,
                     "%zu event%s after the last seal %s not sealed",
                     st->unsealed, st->unsealed == 1 ? "" : "s",
                     st->unsealed == 1 ? "is" : "are");
    r = d->n > before ? JG_ERR_INVALID : 0;
out:
    free(data);
    free(name);
    jg_strv_free(days);
    if (efd >= 0)
        close(efd);
    if (top >= 0)
        close(top);
    return r;
}
