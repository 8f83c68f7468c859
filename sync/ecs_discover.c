/* SPDX-License-Identifier: Apache-2.0 */
/* sync/ecs_discover.c - ECS discovery: the ACTIVE container instances of a
 * cluster (ListContainerInstances, DescribeContainerInstances), their EC2
 * private addresses and Name tags (DescribeInstances), and the short
 * aliases members are known by. */
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

#define MAX_PAGES 1000
#define DESCRIBE_BATCH 100  /* DescribeContainerInstances takes at most 100 */
#define INSTANCE_BATCH 100  /* InstanceId.N per DescribeInstances */
#define ALIAS_SUFFIX 8

void
jg_sync_members_free(struct jg_sync_member *v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++) {
        free(v[i].instance_id);
        free(v[i].alias);
        free(v[i].address);
        free(v[i].name_tag);
    }
    free(v);
}

static void
strv_free(char **v, size_t n)
{
    size_t i;

    for (i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

/* Every container instance ARN of cluster with status ACTIVE. */
static int
list_arns(struct jg_sync *s, const char *cluster, char ***arns, size_t *n)
{
    char *token = NULL, *body = NULL, err[512];
    size_t len;
    int page, r = JG_ERR_INTERNAL;

    for (page = 0; page < MAX_PAGES; page++) {
        json_t *req = json_pack("{s:s, s:s, s:i}", "cluster", cluster,
                                "status", "ACTIVE", "maxResults", 100);

        if (token != NULL)
            json_object_set_new(req, "nextToken", json_string(token));
        r = jg_sync_ecs_call(s, "ListContainerInstances", req, &body, &len);
        json_decref(req);
        if (r != 0)
            goto out;
        free(token);
        token = NULL;
        if ((r = jg_sync_ecs_parse_list(body, len, arns, n, &token, err,
                                        sizeof(err))) != 0) {
            jg_sync_seterr(s, "ECS ListContainerInstances (%s): malformed "
                           "answer: %s", cluster, err);
            goto out;
        }
        free(body);
        body = NULL;
        if (token == NULL)
            break;
    }
    if (token != NULL) {
        jg_sync_seterr(s, "ECS ListContainerInstances (%s): more than %d pages",
                       cluster, MAX_PAGES);
        r = JG_ERR_TOOBIG;
        goto out;
    }
    r = 0;
out:
    free(token);
    free(body);
    return r;
}

static bool
has_str(char **v, size_t n, const char *x)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(v[i], x) == 0)
            return true;
    }
    return false;
}

/* The EC2 instance ids of the ACTIVE instances among arns. */
static int
instance_ids(struct jg_sync *s, const char *cluster, char **arns,
             size_t n_arns, char ***ids, size_t *n_ids)
{
    struct jg_sync_container_instance *ci = NULL;
    size_t nci = 0, i, k, failures = 0;
    char *body = NULL, err[512];
    size_t len;
    int r = 0;

    for (i = 0; i < n_arns; i += DESCRIBE_BATCH) {
        json_t *list = json_array();
        json_t *req;
        size_t f = 0;

        for (k = i; k < n_arns && k < i + DESCRIBE_BATCH; k++)
            json_array_append_new(list, json_string(arns[k]));
        req = json_pack("{s:s, s:o}", "cluster", cluster,
                        "containerInstances", list);
        r = jg_sync_ecs_call(s, "DescribeContainerInstances", req, &body, &len);
        json_decref(req);
        if (r != 0)
            goto out;
        if ((r = jg_sync_ecs_parse_describe(body, len, &ci, &nci, &f, err,
                                            sizeof(err))) != 0) {
            jg_sync_seterr(s, "ECS DescribeContainerInstances (%s): malformed "
                           "answer: %s", cluster, err);
            goto out;
        }
        failures += f;
        free(body);
        body = NULL;
    }
    if (failures > 0)
        jg_debug("ECS cluster %s: %zu container instances were gone when "
                 "described", cluster, failures);
    for (i = 0; i < nci; i++) {
        if (strcmp(ci[i].status, "ACTIVE") != 0 ||
            has_str(*ids, *n_ids, ci[i].instance_id))
            continue;
        *ids = jg_xrealloc(*ids, *n_ids + 1, sizeof(**ids));
        (*ids)[(*n_ids)++] = jg_xstrdup(ci[i].instance_id);
    }
out:
    jg_sync_container_instances_free(ci, nci);
    free(body);
    return r;
}

/* DescribeInstances of ids (every page of every batch). */
static int
describe_instances(struct jg_sync *s, char **ids, size_t n_ids,
                   struct jg_sync_instance **inst, size_t *n_inst)
{
    char *token = NULL, *body = NULL, err[512];
    size_t len, i, k;
    int page, r = 0;

    for (i = 0; i < n_ids; i += INSTANCE_BATCH) {
        for (page = 0; page < MAX_PAGES; page++) {
            GString *f = g_string_new(NULL);

            for (k = i; k < n_ids && k < i + INSTANCE_BATCH; k++) {
                char name[32];

                snprintf(name, sizeof(name), "InstanceId.%zu", k - i + 1);
                jg_sync_form_add(f, name, ids[k]);
            }
            if (token != NULL)
                jg_sync_form_add(f, "NextToken", token);
            r = jg_sync_ec2_call(s, "DescribeInstances", f, &body, &len);
            g_string_free(f, TRUE);
            if (r != 0)
                goto out;
            free(token);
            token = NULL;
            if ((r = jg_sync_ec2_parse_instances(body, len, inst, n_inst,
                                                 &token, err,
                                                 sizeof(err))) != 0) {
                jg_sync_seterr(s, "EC2 DescribeInstances: malformed answer: %s",
                               err);
                goto out;
            }
            free(body);
            body = NULL;
            if (token == NULL)
                break;
        }
        if (token != NULL) {
            jg_sync_seterr(s, "EC2 DescribeInstances: more than %d pages",
                           MAX_PAGES);
            r = JG_ERR_TOOBIG;
            goto out;
        }
    }
out:
    free(token);
    free(body);
    return r;
}

static int
member_cmp(const void *a, const void *b)
{
    const struct jg_sync_member *x = a, *y = b;

    return strcmp(x->instance_id, y->instance_id);
}

int
jg_sync_discover(struct jg_sync *s, const struct jg_target *t,
                 struct jg_sync_member **out, size_t *n_out)
{
    struct jg_sync_instance *inst = NULL;
    struct jg_sync_member *v = NULL;
    char **arns = NULL, **ids = NULL;
    size_t n_arns = 0, n_ids = 0, n_inst = 0, n = 0, i;
    int r;

    *out = NULL;
    *n_out = 0;
    s->err[0] = '\0';
    if ((r = list_arns(s, t->ecs_cluster, &arns, &n_arns)) != 0 ||
        (r = instance_ids(s, t->ecs_cluster, arns, n_arns, &ids,
                          &n_ids)) != 0 ||
        (r = describe_instances(s, ids, n_ids, &inst, &n_inst)) != 0)
        goto out;
    for (i = 0; i < n_inst; i++) {
        struct jg_addr a;
        char ip[64];

        if (!has_str(ids, n_ids, inst[i].instance_id) ||
            !jg_sync_instance_id_ok(inst[i].instance_id) ||
            inst[i].private_ip == NULL ||
            jg_addr_parse(inst[i].private_ip, &a) != 0 ||
            (inst[i].state != NULL && strcmp(inst[i].state, "running") != 0))
            continue;
        jg_addr_format(&a, ip, sizeof(ip));
        v = jg_xrealloc(v, n + 1, sizeof(*v));
        memset(&v[n], 0, sizeof(*v));
        v[n].instance_id = jg_xstrdup(inst[i].instance_id);
        v[n].address = a.family == 6
                           ? jg_xasprintf("[%s]:%u", ip, (unsigned)t->port)
                           : jg_xasprintf("%s:%u", ip, (unsigned)t->port);
        if (inst[i].name_tag != NULL)
            v[n].name_tag = jg_xstrdup(inst[i].name_tag);
        n++;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), member_cmp);
    /* An instance listed twice (in two batches) counts once. */
    for (i = 1; i < n;) {
        if (strcmp(v[i].instance_id, v[i - 1].instance_id) == 0) {
            free(v[i].instance_id);
            free(v[i].address);
            free(v[i].name_tag);
            memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
            n--;
        } else {
            i++;
        }
    }
    jg_sync_members_alias(v, n);
    *out = v;
    *n_out = n;
    v = NULL;
    n = 0;
    r = 0;
out:
    jg_sync_members_free(v, n);
    jg_sync_instances_free(inst, n_inst);
    strv_free(arns, n_arns);
    strv_free(ids, n_ids);
    return r;
}

/* letters, digits, _ . -, starting with a letter or digit, 1..64 (the
 * policy's rule for target names) */
static bool
name_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 64 || !g_ascii_isalnum(s[0]))
        return false;
    for (i = 1; i < n; i++) {
        if (!g_ascii_isalnum(s[i]) && strchr("_.-", s[i]) == NULL)
            return false;
    }
    return true;
}

/* Whether alias a is another member's instance id or alias. */
static bool
taken(const struct jg_sync_member *v, size_t n, size_t self, const char *a)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (i == self)
            continue;
        if (strcmp(v[i].instance_id, a) == 0 ||
            (v[i].alias != NULL && strcmp(v[i].alias, a) == 0))
            return true;
    }
    return false;
}

/* Whether another member's id ends in the same want characters as id. */
static bool
suffix_shared(const struct jg_sync_member *v, size_t n, size_t self,
              size_t want)
{
    const char *id = v[self].instance_id;
    size_t l = strlen(id), i;

    for (i = 0; i < n; i++) {
        size_t li = strlen(v[i].instance_id);

        if (i != self && li >= want &&
            strcmp(v[i].instance_id + li - want, id + l - want) == 0)
            return true;
    }
    return false;
}

void
jg_sync_members_alias(struct jg_sync_member *v, size_t n)
{
    size_t i, k;

    for (i = 0; i < n; i++) {
        free(v[i].alias);
        v[i].alias = NULL;
    }
    /* Name tags first, so that a suffix never takes a tag's name. */
    for (i = 0; i < n; i++) {
        const char *tag = v[i].name_tag;
        bool unique = true;

        if (tag == NULL || !name_ok(tag) || strncmp(tag, "i-", 2) == 0)
            continue;
        for (k = 0; k < n && unique; k++)
            unique = k == i || v[k].name_tag == NULL ||
                     strcmp(v[k].name_tag, tag) != 0;
        if (unique && !taken(v, n, i, tag))
            v[i].alias = jg_xstrdup(tag);
    }
    /* Then the shortest suffix (of at least 8) that no other id shares and
     * no tag took: it depends on this member's neighbours only when they
     * share its last characters. */
    for (i = 0; i < n; i++) {
        const char *id = v[i].instance_id;
        size_t l = strlen(id), want;

        if (v[i].alias != NULL)
            continue;
        for (want = ALIAS_SUFFIX; want < l; want++) {
            const char *suf = id + l - want;

            if (name_ok(suf) && !suffix_shared(v, n, i, want) &&
                !taken(v, n, i, suf))
                break;
        }
        v[i].alias = jg_xstrdup(want < l ? id + l - want : id);
    }
}
