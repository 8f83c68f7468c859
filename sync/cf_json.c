/* SPDX-License-Identifier: Apache-2.0 */
/* sync/cf_json.c - the Cloudflare API v4 envelope: success, errors with
 * their codes, result and the paging cursor. Untrusted input. */
#include <string.h>

#include "sync/internal.h"

/* "CODE: message; CODE: message" from errors[] (or messages[]). */
static void
errors_text(json_t *errs, char *err, size_t errlen)
{
    size_t i, used = 0;
    json_t *e;

    err[0] = '\0';
    json_array_foreach(errs, i, e) {
        json_t *code = json_object_get(e, "code");
        json_t *msg = json_object_get(e, "message");
        int k;

        if (used >= errlen)
            break;
        k = snprintf(err + used, errlen - used, "%s%lld: %s",
                     used > 0 ? "; " : "",
                     json_is_integer(code) ? (long long)json_integer_value(code)
                                           : 0LL,
                     json_is_string(msg) ? json_string_value(msg) : "?");
        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (err[0] == '\0')
        snprintf(err, errlen, "success is false and errors is empty");
}

int
jg_sync_cf_parse_envelope(const char *buf, size_t len, json_t **result,
                          char **cursor, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = NULL, *ok, *errs, *info, *cur;
    int r = JG_ERR_INVALID;

    *result = NULL;
    if (cursor != NULL)
        *cursor = NULL;
    if (len > JG_SYNC_JSON_MAX) {
        snprintf(err, errlen, "answer larger than %u bytes", JG_SYNC_JSON_MAX);
        goto out;
    }
    o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        snprintf(err, errlen, "answer is not JSON (%s at line %d)", je.text,
                 je.line);
        goto out;
    }
    if (!json_is_object(o)) {
        snprintf(err, errlen, "answer is not a JSON object");
        goto out;
    }
    ok = json_object_get(o, "success");
    errs = json_object_get(o, "errors");
    if (!json_is_boolean(ok)) {
        snprintf(err, errlen, "field success missing or not a boolean");
        goto out;
    }
    if (errs != NULL && !json_is_array(errs)) {
        snprintf(err, errlen, "field errors is not an array");
        goto out;
    }
    if (!json_is_true(ok)) {
        errors_text(errs, err, errlen);
        r = JG_ERR_DENIED;
        goto out;
    }
    if (!json_object_get(o, "result")) {
        snprintf(err, errlen, "field result missing");
        goto out;
    }
    info = json_object_get(o, "result_info");
    if (info != NULL && !json_is_object(info) && !json_is_null(info)) {
        snprintf(err, errlen, "field result_info is not an object");
        goto out;
    }
    cur = json_is_object(info) ? json_object_get(json_object_get(info,
                                                                 "cursors"),
                                                 "after")
                               : NULL;
    if (cur != NULL && !json_is_string(cur) && !json_is_null(cur)) {
        snprintf(err, errlen, "field result_info.cursors.after is not a "
                              "string");
        goto out;
    }
    if (cursor != NULL && json_is_string(cur) && *json_string_value(cur))
        *cursor = jg_xstrdup(json_string_value(cur));
    *result = json_incref(json_object_get(o, "result"));
    r = 0;
out:
    json_decref(o);
    return r;
}
