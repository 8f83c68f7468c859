/* SPDX-License-Identifier: Apache-2.0 */
/* audit/cast.c - parses asciicast v2 header and event lines from
 * memory (untrusted input: the fuzzer's entry points). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"

void
jg_audit_cast_header_clear(struct jg_audit_cast_header *h)
{
    free(h->title);
    free(h->term);
    free(h->session);
    free(h->connection);
    free(h->user);
    free(h->target);
    free(h->login);
    free(h->from);
    free(h->rule);
    free(h->action);
    free(h->command);
    free(h->target_id);
    free(h->address);
    memset(h, 0, sizeof(*h));
}

/* A copy of string member k of o, or NULL. */
static char *
dup_str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? jg_xstrdup(s) : NULL;
}

static bool
get_dim(json_t *o, const char *k, unsigned *v)
{
    json_t *j = json_object_get(o, k);

    if (!json_is_integer(j) || json_integer_value(j) < 1 ||
        json_integer_value(j) > 10000)
        return false;
    *v = (unsigned)json_integer_value(j);
    return true;
}

int
jg_audit_cast_header_parse(const char *line, size_t len,
                           struct jg_audit_cast_header *h, char *err,
                           size_t errn)
{
    json_error_t je;
    json_t *o = NULL, *jg, *ts;
    int r = JG_ERR_INVALID;

    memset(h, 0, sizeof(*h));
    o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        snprintf(err, errn, "header is not a JSON object%s%s",
                 o == NULL ? ": " : "", o == NULL ? je.text : "");
        goto out;
    }
    if (!json_is_integer(json_object_get(o, "version")) ||
        json_integer_value(json_object_get(o, "version")) != 2) {
        snprintf(err, errn, "not an asciicast v2 header (version)");
        goto out;
    }
    if (!get_dim(o, "width", &h->width) || !get_dim(o, "height", &h->height)) {
        snprintf(err, errn, "header width/height missing or out of range");
        goto out;
    }
    ts = json_object_get(o, "timestamp");
    if (json_is_integer(ts))
        h->timestamp = json_integer_value(ts);
    else if (json_is_real(ts) && isfinite(json_real_value(ts)) &&
             fabs(json_real_value(ts)) < 1e15)
        h->timestamp = (int64_t)json_real_value(ts);
    h->title = dup_str(o, "title");
    h->term = dup_str(json_object_get(o, "env"), "TERM");
    jg = json_object_get(o, "jumpgate");
    if (json_is_object(jg)) {
        h->session = dup_str(jg, "session");
        h->connection = dup_str(jg, "connection");
        h->user = dup_str(jg, "user");
        h->target = dup_str(jg, "target");
        h->target_id = dup_str(jg, "target_id");
        h->address = dup_str(jg, "address");
        h->login = dup_str(jg, "login");
        h->from = dup_str(jg, "from");
        h->rule = dup_str(jg, "rule");
        h->action = dup_str(jg, "action");
        h->command = dup_str(jg, "command");
        h->record_input = json_is_true(json_object_get(jg, "record_input"));
    }
    r = 0;
out:
    if (r != 0)
        jg_audit_cast_header_clear(h);
    json_decref(o);
    return r;
}

int
jg_audit_cast_event_parse(const char *line, size_t len,
                          struct jg_audit_cast_event *ev, char *err,
                          size_t errn)
{
    json_error_t je;
    json_t *a = NULL, *t, *c, *d;
    const char *code;
    int r = JG_ERR_INVALID;

    memset(ev, 0, sizeof(*ev));
    a = json_loadb(line, len, JSON_ALLOW_NUL, &je);
    if (!json_is_array(a) || json_array_size(a) != 3) {
        snprintf(err, errn, "not an event [time, code, data]%s%s",
                 a == NULL ? ": " : "", a == NULL ? je.text : "");
        goto out;
    }
    t = json_array_get(a, 0);
    c = json_array_get(a, 1);
    d = json_array_get(a, 2);
    if (!json_is_number(t) || !isfinite(json_number_value(t)) ||
        json_number_value(t) < 0 || json_number_value(t) > 1e10) {
        snprintf(err, errn, "event time is not a number of seconds");
        goto out;
    }
    code = json_string_value(c);
    if (code == NULL || strlen(code) != 1 || strchr("oirm", code[0]) == NULL) {
        snprintf(err, errn, "unknown event code");
        goto out;
    }
    if (!json_is_string(d)) {
        snprintf(err, errn, "event data is not a string");
        goto out;
    }
    ev->time = json_number_value(t);
    ev->code = code[0];
    ev->len = json_string_length(d);
    ev->data = jg_xmalloc(ev->len + 1);
    memcpy(ev->data, json_string_value(d), ev->len);
    ev->data[ev->len] = '\0';
    r = 0;
out:
    json_decref(a);
    return r;
}

static bool
is_hex64(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 64)
        return false;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int
jg_audit_event_parse(const char *line, size_t len, json_t **out, char *err,
                     size_t errn)
{
    json_error_t je;
    json_t *o = NULL, *seq;
    const char *t;
    int64_t us;
    int r = JG_ERR_INVALID;

    *out = NULL;
    o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        snprintf(err, errn, "not a JSON object%s%s", o == NULL ? ": " : "",
                 o == NULL ? je.text : "");
        goto out;
    }
    seq = json_object_get(o, "seq");
    if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
        snprintf(err, errn, "seq missing or not a positive integer");
        goto out;
    }
    t = json_string_value(json_object_get(o, "time"));
    if (t == NULL || jg_audit_time_parse(t, &us) != 0) {
        snprintf(err, errn, "time missing or not RFC 3339");
        goto out;
    }
    if (json_string_value(json_object_get(o, "type")) == NULL) {
        snprintf(err, errn, "type missing");
        goto out;
    }
    if (!is_hex64(json_string_value(json_object_get(o, "prev")))) {
        snprintf(err, errn, "prev missing or not 64 hex digits");
        goto out;
    }
    *out = o;
    o = NULL;
    r = 0;
out:
    json_decref(o);
    return r;
}
