/* SPDX-License-Identifier: Apache-2.0 */
/* audit/seal.c - recording checkpoints: formatting a signed seal
 * line and parsing and checking one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"

static const char sig_key[] = "\"sig\":\"";

size_t
jg_audit_sealed_prefix(const char *line, size_t len, const char **b64,
                       size_t *b64_len)
{
    size_t kl = sizeof(sig_key) - 1, i;
    const char *end;

    *b64 = NULL;
    *b64_len = 0;
    if (len < kl + 4 || line[len - 1] != '}' || line[len - 2] != '"')
        return 0;
    end = line + len - 2;
    /* The base64 has no quote: the key is right before the last run. */
    for (i = len - 2; i > 0 && line[i - 1] != '"'; i--)
        ;
    if (i < kl + 1 || memcmp(line + i - kl, sig_key, kl) != 0 ||
        line[i - kl - 1] != ',')
        return 0;
    *b64 = line + i;
    *b64_len = (size_t)(end - (line + i));
    return i - kl;
}

int
jg_audit_checkpoint_format(const struct jg_audit_checkpoint *cp,
                           const struct jg_audit_key *key, const char *domain,
                           char **line, size_t *len)
{
    char when[JG_AUDIT_TIME_STRLEN], sig[128];
    json_t *o = NULL;
    char *body = NULL, *out = NULL;
    size_t bl, n;
    int r = JG_ERR_INTERNAL;

    *line = NULL;
    jg_audit_time_format(cp->time_us, when, sizeof(when));
    o = json_object();
    if (o == NULL ||
        json_object_set_new(o, "seq", json_integer((json_int_t)cp->seq)) ||
        json_object_set_new(o, "session", json_string(cp->session)) ||
        json_object_set_new(o, "offset", json_integer((json_int_t)cp->offset)) ||
        json_object_set_new(o, "sha256", json_string(cp->sha256)) ||
        json_object_set_new(o, "time", json_string(when)) ||
        json_object_set_new(o, "final", json_boolean(cp->final)) ||
        json_object_set_new(o, "raw", json_integer((json_int_t)cp->raw)) ||
        json_object_set_new(o, "replaced",
                            json_integer((json_int_t)cp->replaced)) ||
        json_object_set_new(o, "key", json_string(jg_audit_key_id(key))))
        goto out;
    if ((body = jg_audit_dump_line(o, &bl)) == NULL)
        goto out;
    /* body is "{...}\n": the signed prefix is "{...," */
    body[bl - 2] = ',';
    if ((r = jg_audit_sign(key, domain, body, bl - 1, sig,
                           sizeof(sig))) != 0)
        goto out;
    n = bl - 1 + sizeof(sig_key) - 1 + strlen(sig) + 3;
    out = jg_xmalloc(n + 1);
    snprintf(out, n + 1, "%.*s%s%s\"}\n", (int)(bl - 1), body, sig_key, sig);
    *line = out;
    *len = strlen(out);
    out = NULL;
    r = 0;
out:
    json_decref(o);
    free(body);
    free(out);
    return r;
}

static bool
is_hex(const char *s, size_t n)
{
    size_t i;

    if (strlen(s) != n)
        return false;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* A non-negative integer member. */
static bool
get_u64(json_t *o, const char *k, uint64_t *v)
{
    json_t *j = json_object_get(o, k);

    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return false;
    *v = (uint64_t)json_integer_value(j);
    return true;
}

int
jg_audit_checkpoint_parse(const char *line, size_t len,
                          const struct jg_audit_key *key, const char *domain,
                          struct jg_audit_checkpoint *cp, char *err,
                          size_t errn)
{
    static const char *const keys[] = {"seq", "session", "offset", "sha256",
        "time", "final", "raw", "replaced", "key", "sig", NULL};
    const char *b64, *s, *k;
    size_t b64_len, prefix, i, nkeys = 0;
    json_error_t je;
    json_t *o = NULL, *v;
    int r = JG_ERR_INVALID;

    memset(cp, 0, sizeof(*cp));
    prefix = jg_audit_sealed_prefix(line, len, &b64, &b64_len);
    if (prefix == 0) {
        snprintf(err, errn, "not a seal line (no signature at its end)");
        goto out;
    }
    o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        snprintf(err, errn, "not a JSON object: %s", o == NULL ? je.text : "");
        goto out;
    }
    json_object_foreach(o, k, v) {
        for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
            ;
        if (keys[i] == NULL) {
            snprintf(err, errn, "unknown member \"%.40s\"", k);
            goto out;
        }
        nkeys++;
    }
    if (nkeys != 10 || !get_u64(o, "seq", &cp->seq) ||
        !get_u64(o, "offset", &cp->offset) || !get_u64(o, "raw", &cp->raw) ||
        !get_u64(o, "replaced", &cp->replaced) ||
        !json_is_boolean(json_object_get(o, "final"))) {
        snprintf(err, errn, "missing or malformed members");
        goto out;
    }
    cp->final = json_is_true(json_object_get(o, "final"));
    s = json_string_value(json_object_get(o, "session"));
    if (s == NULL || !jg_audit_id_valid(s)) {
        snprintf(err, errn, "bad session id");
        goto out;
    }
    jg_strlcpy(cp->session, s, sizeof(cp->session));
    s = json_string_value(json_object_get(o, "sha256"));
    if (s == NULL || !is_hex(s, 64)) {
        snprintf(err, errn, "bad sha256");
        goto out;
    }
    jg_strlcpy(cp->sha256, s, sizeof(cp->sha256));
    s = json_string_value(json_object_get(o, "key"));
    if (s == NULL || !is_hex(s, 32)) {
        snprintf(err, errn, "bad key id");
        goto out;
    }
    jg_strlcpy(cp->key, s, sizeof(cp->key));
    s = json_string_value(json_object_get(o, "time"));
    if (s == NULL || jg_audit_time_parse(s, &cp->time_us) != 0) {
        snprintf(err, errn, "bad time");
        goto out;
    }
    if (key != NULL) {
        if (strcmp(cp->key, jg_audit_key_id(key)) != 0) {
            snprintf(err, errn, "sealed with another key (%s, not %s)",
                     cp->key, jg_audit_key_id(key));
            goto out;
        }
        if (!jg_audit_sig_ok(key, domain, line, prefix, b64,
                             b64_len)) {
            snprintf(err, errn, "bad signature");
            goto out;
        }
    }
    r = 0;
out:
    json_decref(o);
    return r;
}
