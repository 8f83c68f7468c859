/* SPDX-License-Identifier: Apache-2.0 */
/* audit/verify_log.c - proves the event log: every line chained
 * to the one before (across days), seq without gaps, seals valid; and
 * notes what is not tampering but an auditor must know: gaps the writers
 * recorded (audit.gap events) and time without the seals a writer
 * promised ("next_within" of timed seals). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

#define DAY_MAX ((size_t)1 << 30)

/* A timed seal promising the next within n seconds is late after this. */
static int64_t
late_after_us(int64_t n)
{
    return (2 * n + JG_AUDIT_SEAL_SLACK_S) * 1000000;
}

/* A recorded gap as a note: what the event says was lost. */
static void
note_gap(const char *name, size_t lineno, json_t *o, struct jg_diags *notes)
{
    const char *file = json_string_value(json_object_get(o, "file"));
    const char *since = json_string_value(json_object_get(o, "since"));
    const char *until = json_string_value(json_object_get(o, "until"));
    json_t *bytes = json_object_get(o, "bytes");

    if (notes == NULL)
        return;
    if (file != NULL && json_is_integer(bytes))
        jg_diags_add(notes, name, (int)lineno, 0,
                     "recorded gap: an incomplete line of %" JSON_INTEGER_FORMAT
                     " bytes was cut off %.64s at byte %" JSON_INTEGER_FORMAT
                     " (a write cut short by a full disk or a crash)",
                     json_integer_value(bytes), file,
                     json_integer_value(json_object_get(o, "offset")));
    else if (since != NULL && until != NULL)
        jg_diags_add(notes, name, (int)lineno, 0,
                     "recorded gap: audit writes failed from %.40s to %.40s; "
                     "sessions were ended and new ones refused",
                     since, until);
    else
        jg_diags_add(notes, name, (int)lineno, 0, "recorded gap: %.200s",
                     json_string_value(json_object_get(o, "reason")) != NULL
                         ? json_string_value(json_object_get(o, "reason"))
                         : "(no reason given)");
}

/* A valid seal: keeps the promise of the last timed seal, or notes that it
 * was broken, and remembers its own. */
static void
check_promise(const char *name, size_t lineno, json_t *o,
              struct jg_audit_log_status *st, struct jg_diags *notes)
{
    json_t *next = json_object_get(o, "next_within");
    const char *t = json_string_value(json_object_get(o, "time"));
    char when[JG_AUDIT_TIME_STRLEN];
    int64_t us;

    if (!json_is_integer(next) || t == NULL ||
        jg_audit_time_parse(t, &us) != 0)
        return;
    if (st->promise_us != 0 && us > st->promise_us &&
        !st->gap_since_promise) {
        st->missing_time++;
        jg_audit_time_format(st->promised_at_us, when, sizeof(when));
        if (notes != NULL)
            jg_diags_add(notes, name, (int)lineno, 0,
                         "missing time: no timed seal from %s to %s (%" PRId64
                         " s; one was promised within %" PRId64 " s): events "
                         "may have been cut off the log before it went on, or "
                         "the gateway stopped without its final seal",
                         when, t, (us - st->promised_at_us) / 1000000,
                         st->promised_within);
    }
    st->gap_since_promise = false;
    st->promised_within = json_integer_value(next);
    st->promised_at_us = us;
    st->promise_us = st->promised_within > 0 &&
                             st->promised_within <= 86400
                         ? us + late_after_us(st->promised_within)
                         : 0;
    jg_strlcpy(st->promise_file, name, sizeof(st->promise_file));
    st->promise_line = lineno;
}

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Checks a seal line's key and signature. */
static void
check_seal(const char *name, size_t lineno, const char *line, size_t len,
           json_t *o, const struct jg_audit_key *key,
           struct jg_audit_log_status *st, struct jg_diags *d,
           struct jg_diags *notes)
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
    check_promise(name, lineno, o, st, notes);
}

int
jg_audit_verify_log_mem(const char *name, const char *data, size_t len,
                        const struct jg_audit_key *key, char prev[65],
                        uint64_t *last_seq, struct jg_audit_log_status *st,
                        struct jg_diags *d, struct jg_diags *notes)
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
        if (strcmp(type, "seal") == 0) {
            check_seal(name, lineno, lp, ll, o, key, st, d, notes);
        } else if (strcmp(type, "audit.gap") == 0) {
            st->gaps++;
            st->gap_since_promise = true;
            note_gap(name, lineno, o, notes);
        }
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
    return jg_audit_verify_log_notes(audit_dir, key, 0, st, d, NULL);
}

int
jg_audit_verify_log_notes(const char *audit_dir,
                          const struct jg_audit_key *key, int64_t now_us,
                          struct jg_audit_log_status *st, struct jg_diags *d,
                          struct jg_diags *notes)
{
    return jg_audit_verify_log_from(audit_dir, key, now_us, NULL, 1, st, d,
                                    notes);
}

int
jg_audit_verify_log_from(const char *audit_dir,
                         const struct jg_audit_key *key, int64_t now_us,
                         const char *first_prev, uint64_t first_seq,
                         struct jg_audit_log_status *st, struct jg_diags *d,
                         struct jg_diags *notes)
{
    char when[JG_AUDIT_TIME_STRLEN], at[JG_AUDIT_TIME_STRLEN];
    char **days = NULL, prev[65], *data = NULL, *name = NULL;
    size_t n = 0, i, len, before = d->n;
    uint64_t last_seq = 0;
    int r, efd = -1, top = -1;

    memset(st, 0, sizeof(*st));
    jg_strlcpy(prev, first_prev != NULL ? first_prev : zeros, sizeof(prev));
    last_seq = first_seq > 0 ? first_seq - 1 : 0;
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
        jg_audit_verify_log_mem(name, data, len, key, prev, &last_seq, st, d,
                                notes);
        free(data);
        data = NULL;
    }
    if (st->unsealed > 0)
        jg_diags_add(d, name, 0, 0,
                     "%zu event%s after the last seal %s not sealed",
                     st->unsealed, st->unsealed == 1 ? "" : "s",
                     st->unsealed == 1 ? "is" : "are");
    if (now_us > 0 && st->promise_us != 0 && now_us > st->promise_us) {
        st->missing_time++;
        jg_audit_time_format(st->promised_at_us, at, sizeof(at));
        jg_audit_time_format(now_us, when, sizeof(when));
        if (notes != NULL)
            jg_diags_add(notes, st->promise_file, (int)st->promise_line, 0,
                         "missing time: this timed seal (%s) promised the "
                         "next within %" PRId64 " s, and none followed by %s: "
                         "events may have been cut off the end of the log, "
                         "or the gateway is stopped without its final seal "
                         "(killed, crashed), or this is an old copy",
                         at, st->promised_within, when);
    }
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
