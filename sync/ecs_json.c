/* SPDX-License-Identifier: Apache-2.0 */
/* sync/ecs_json.c - parsers of the ECS JSON 1.1 answers discovery reads:
 * ListContainerInstances (ARNs and nextToken) and
 * DescribeContainerInstances (instance ids, status, failures). Untrusted
 * input: sizes capped, every field's type checked. */
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

#define ARN_MAX 2048
#define TOKEN_MAX 8192

bool
jg_sync_instance_id_ok(const char *s)
{
    size_t i, n;

    if (s == NULL || strncmp(s, "i-", 2) != 0)
        return false;
    n = strlen(s + 2);
    if (n != 8 && n != 17)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[2 + i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static json_t *
load(const char *buf, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o;

    if (len > JG_SYNC_JSON_MAX) {
        snprintf(err, errlen, "answer larger than %u bytes",
                 JG_SYNC_JSON_MAX);
        return NULL;
    }
    o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        snprintf(err, errlen, "answer is not JSON (%s at %d:%d)", je.text,
                 je.line, je.column);
        return NULL;
    }
    if (!json_is_object(o)) {
        snprintf(err, errlen, "answer is not a JSON object");
        json_decref(o);
        return NULL;
    }
    return o;
}

/* nextToken: absent, null or "" ends the paging; else a string. */
static int
next_token(json_t *o, char **out, char *err, size_t errlen)
{
    json_t *t = json_object_get(o, "nextToken");

    *out = NULL;
    if (t == NULL || json_is_null(t))
        return 0;
    if (!json_is_string(t) || json_string_length(t) > TOKEN_MAX) {
        snprintf(err, errlen, "nextToken is not a string of at most %d "
                 "bytes", TOKEN_MAX);
        return JG_ERR_INVALID;
    }
    if (json_string_length(t) > 0)
        *out = jg_xstrdup(json_string_value(t));
    return 0;
}

static bool
arn_ok(json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0 &&
           json_string_length(v) <= ARN_MAX &&
           strlen(json_string_value(v)) == json_string_length(v);
}

int
jg_sync_ecs_parse_list(const char *buf, size_t len, char ***arns, size_t *n,
                       char **next, char *err, size_t errlen)
{
    json_t *o, *a, *v;
    size_t i;
    int r = JG_ERR_INVALID;

    *next = NULL;
    if ((o = load(buf, len, err, errlen)) == NULL)
        return JG_ERR_INVALID;
    a = json_object_get(o, "containerInstanceArns");
    if (!json_is_array(a)) {
        snprintf(err, errlen, "containerInstanceArns %s",
                 a == NULL ? "is missing" : "is not an array");
        goto out;
    }
    json_array_foreach(a, i, v) {
        if (!arn_ok(v)) {
            snprintf(err, errlen, "containerInstanceArns[%zu] is not an ARN "
                     "string", i);
            goto out;
        }
    }
    if ((r = next_token(o, next, err, errlen)) != 0)
        goto out;
    json_array_foreach(a, i, v) {
        *arns = jg_xrealloc(*arns, *n + 2, sizeof(**arns));
        (*arns)[(*n)++] = jg_xstrdup(json_string_value(v));
        (*arns)[*n] = NULL;
    }
    r = 0;
out:
    json_decref(o);
    return r;
}

void
jg_sync_container_instances_free(struct jg_sync_container_instance *v,
                                 size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++) {
        free(v[i].arn);
        free(v[i].instance_id);
        free(v[i].status);
    }
    free(v);
}

static const char *
str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) &&
                   strlen(json_string_value(v)) == json_string_length(v)
               ? json_string_value(v)
               : NULL;
}

int
jg_sync_ecs_parse_describe(const char *buf, size_t len,
                           struct jg_sync_container_instance **v, size_t *n,
                           size_t *n_failures, char *err, size_t errlen)
{
    json_t *o, *a, *f, *x;
    size_t i;
    int r = JG_ERR_INVALID;

    if (n_failures != NULL)
        *n_failures = 0;
    if ((o = load(buf, len, err, errlen)) == NULL)
        return JG_ERR_INVALID;
    a = json_object_get(o, "containerInstances");
    f = json_object_get(o, "failures");
    if (!json_is_array(a)) {
        snprintf(err, errlen, "containerInstances %s",
                 a == NULL ? "is missing" : "is not an array");
        goto out;
    }
    if (f != NULL && !json_is_array(f)) {
        snprintf(err, errlen, "failures is not an array");
        goto out;
    }
    json_array_foreach(a, i, x) {
        const char *arn = str(x, "containerInstanceArn");
        const char *id = str(x, "ec2InstanceId");
        const char *st = str(x, "status");

        if (!json_is_object(x)) {
            snprintf(err, errlen, "containerInstances[%zu] is not an object",
                     i);
            goto out;
        }
        if (arn == NULL || !arn_ok(json_object_get(x, "containerInstanceArn"))
            || st == NULL) {
            snprintf(err, errlen, "containerInstances[%zu]: %s missing or "
                     "not a string", i,
                     arn == NULL ? "containerInstanceArn" : "status");
            goto out;
        }
        if (!jg_sync_instance_id_ok(id)) {
            snprintf(err, errlen, "containerInstances[%zu]: ec2InstanceId "
                     "missing or not an instance id", i);
            goto out;
        }
    }
    json_array_foreach(f, i, x) {
        if (!json_is_object(x) || (json_object_get(x, "reason") != NULL &&
                                   str(x, "reason") == NULL)) {
            snprintf(err, errlen, "failures[%zu] is not a failure object", i);
            goto out;
        }
    }
    json_array_foreach(a, i, x) {
        struct jg_sync_container_instance c = {
            .arn = jg_xstrdup(str(x, "containerInstanceArn")),
            .instance_id = jg_xstrdup(str(x, "ec2InstanceId")),
            .status = jg_xstrdup(str(x, "status")),
        };

        *v = jg_xrealloc(*v, *n + 1, sizeof(**v));
        (*v)[(*n)++] = c;
    }
    if (n_failures != NULL)
        *n_failures = json_is_array(f) ? json_array_size(f) : 0;
    r = 0;
out:
    json_decref(o);
    return r;
}
