/* SPDX-License-Identifier: Apache-2.0 */
/* policy/discovered.c - the members of discovering targets: reads and
 * validates policy.d/TARGET.discovered.json (written by `jumpgate sync`),
 * so that "ecs-prod/i-0abc" resolves to that instance's address and
 * labels and every name discovery did not find stays unknown. File I/O
 * only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/internal.h"

char *
jg_policy_discovered_path(const char *policy_path, const char *target)
{
    char *rel = jg_xasprintf("policy.d/%s" JG_POLICY_DISCOVERED_SUFFIX, target);
    char *path = jg_path_relative_to(policy_path, rel);

    free(rel);
    return path;
}

static bool
keys_ok(struct pol_ctx *x, const char *file, json_t *o,
        const char *const *allowed, const char *where)
{
    const char *k;
    json_t *v;
    size_t i;
    bool ok = true;

    json_object_foreach(o, k, v) {
        for (i = 0; allowed[i] != NULL && strcmp(allowed[i], k) != 0; i++)
            ;
        if (allowed[i] == NULL) {
            jg_diags_add(x->d, file, 0, 0, "%sunknown key '%s'", where, k);
            ok = false;
        }
    }
    return ok;
}

static const char *
str_of(struct pol_ctx *x, const char *file, json_t *o, const char *key,
       const char *where)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v)) {
        jg_diags_add(x->d, file, 0, 0, "%s%s %s", where, key,
                     v == NULL ? "is missing" : "must be a string");
        return NULL;
    }
    return json_string_value(v);
}

/* One member; adds it (and its names to member_idx) when valid. */
static void
load_member(struct pol_ctx *x, unsigned ti, const char *file, size_t i,
            json_t *m, GHashTable *seen)
{
    static const char *const keys[] = {"name", "alias", "address", "labels",
                                       NULL};
    struct jg_policy *p = x->p;
    const struct jg_target *parent = &POL_TARGET(p, ti)->pub;
    size_t pl = strlen(parent->name), nl;
    struct pol_member mb = {.parent = ti};
    const char *name, *alias, *addr, *k;
    char where[64], *host = NULL, *alias_full = NULL;
    struct jg_label *l;
    json_t *labels, *v;
    size_t before = x->d->n;

    snprintf(where, sizeof(where), "members[%zu]: ", i);
    if (!json_is_object(m)) {
        jg_diags_add(x->d, file, 0, 0, "%snot an object", where);
        return;
    }
    keys_ok(x, file, m, keys, where);
    name = str_of(x, file, m, "name", where);
    alias = str_of(x, file, m, "alias", where);
    addr = str_of(x, file, m, "address", where);
    labels = json_object_get(m, "labels");
    if (labels != NULL && !json_is_object(labels))
        jg_diags_add(x->d, file, 0, 0, "%slabels must be an object", where);
    if (name != NULL) {
        nl = strlen(name);
        if (nl <= pl + 1 || strncmp(name, parent->name, pl) != 0 ||
            name[pl] != '/' || !jg_policy_name_ok(name + pl + 1, false))
            jg_diags_add(x->d, file, 0, 0,
                         "%sbad member name '%s' (%s/ and a name of letters, "
                         "digits, _ . -)", where, name, parent->name);
    }
    if (alias != NULL && !jg_policy_name_ok(alias, false))
        jg_diags_add(x->d, file, 0, 0,
                     "%sbad alias '%s' (letters, digits, _ . -)", where, alias);
    if (addr != NULL && jg_hostport_parse(addr, &host, &mb.pub.port) != 0)
        jg_diags_add(x->d, file, 0, 0,
                     "%sbad address '%s' (HOST:PORT, or [IPv6]:PORT)", where,
                     addr);
    if (json_is_object(labels)) {
        json_object_foreach(labels, k, v) {
            if (!json_is_string(v) || *k == '\0' || strchr(k, '=') != NULL)
                jg_diags_add(x->d, file, 0, 0, "%sbad label '%s'", where, k);
        }
    }
    if (x->d->n > before)
        goto out;
    alias_full = jg_xasprintf("%s/%s", parent->name, alias);
    if (g_hash_table_contains(seen, name)) {
        jg_diags_add(x->d, file, 0, 0, "%smember '%s' is listed twice", where,
                     name);
        goto out;
    }
    if (strcmp(alias_full, name) != 0 &&
        g_hash_table_contains(seen, alias_full)) {
        jg_diags_add(x->d, file, 0, 0,
                     "%salias '%s' is already the name or alias of another "
                     "member", where, alias);
        goto out;
    }
    mb.pub.name = jg_policy_str(p, name);
    mb.pub.alias = jg_policy_str(p, alias);
    mb.pub.kind = parent->kind;
    mb.pub.auth = parent->auth;
    mb.pub.host = jg_policy_str(p, host);
    mb.pub.address = jg_policy_str(p, addr);
    mb.pub.parent = parent->name;
    if (json_is_object(labels)) {
        l = jg_policy_alloc(p, (json_object_size(labels) + 1) * sizeof(*l));
        json_object_foreach(labels, k, v) {
            l[mb.pub.n_labels].key = jg_policy_str(p, k);
            l[mb.pub.n_labels].value = jg_policy_str(p, json_string_value(v));
            mb.pub.n_labels++;
        }
        mb.pub.labels = l;
    }
    g_array_append_val(p->members, mb);
    g_hash_table_add(seen, (gpointer)mb.pub.name);
    g_hash_table_insert(p->member_idx, (gpointer)mb.pub.name,
                        GUINT_TO_POINTER(p->members->len));
    if (strcmp(alias_full, name) != 0) {
        const char *af = jg_policy_str(p, alias_full);

        g_hash_table_add(seen, (gpointer)af);
        g_hash_table_insert(p->member_idx, (gpointer)af,
                            GUINT_TO_POINTER(p->members->len));
    }
out:
    free(alias_full);
    free(host);
}

void
jg_policy_parse_discovered(struct pol_ctx *x, unsigned ti, const char *file,
                           const char *data, size_t len)
{
    static const char *const keys[] = {"target", "cluster", "refreshed",
                                       "members", NULL};
    const struct jg_target *t = &POL_TARGET(x->p, ti)->pub;
    GHashTable *seen = NULL;
    json_error_t je;
    json_t *o, *members;
    const char *target, *cluster, *refreshed;
    size_t before = x->d->n, i;
    int64_t when;

    o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        jg_diags_add(x->d, file, je.line > 0 ? je.line : 0,
                     je.column > 0 ? je.column : 0, "not valid JSON: %s",
                     je.text);
        return;
    }
    if (!json_is_object(o)) {
        jg_diags_add(x->d, file, 0, 0, "a discovered-members file must be a "
                     "JSON object");
        goto out;
    }
    keys_ok(x, file, o, keys, "");
    target = str_of(x, file, o, "target", "");
    cluster = str_of(x, file, o, "cluster", "");
    refreshed = str_of(x, file, o, "refreshed", "");
    members = json_object_get(o, "members");
    if (!json_is_array(members))
        jg_diags_add(x->d, file, 0, 0, "members %s",
                     members == NULL ? "is missing" : "must be an array");
    else if (json_array_size(members) > JG_POLICY_MEMBERS_MAX)
        jg_diags_add(x->d, file, 0, 0, "more than %d members",
                     JG_POLICY_MEMBERS_MAX);
    if (target != NULL && strcmp(target, t->name) != 0)
        jg_diags_add(x->d, file, 0, 0, "target is '%s' but the file is that "
                     "of target '%s'", target, t->name);
    if (refreshed != NULL && jg_time_parse(refreshed, &when) != 0)
        jg_diags_add(x->d, file, 0, 0, "refreshed '%s' is not an RFC 3339 "
                     "time", refreshed);
    if (x->d->n > before)
        goto out;
    if (strcmp(cluster, t->ecs_cluster) != 0) {
        /* The policy now names another cluster: these members are not its
         * members. Nothing resolves until sync rewrites the file. */
        jg_warn("%s: members of ECS cluster '%s', but target %s now "
                "discovers cluster '%s'; ignored until the next sync", file,
                cluster, t->name, t->ecs_cluster);
        goto out;
    }
    seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (i = 0; i < json_array_size(members); i++)
        load_member(x, ti, file, i, json_array_get(members, i), seen);
out:
    if (seen != NULL)
        g_hash_table_destroy(seen);
    json_decref(o);
}

void
jg_policy_load_discovered(struct pol_ctx *x, const char *policy_path)
{
    struct jg_policy *p = x->p;
    size_t i;

    for (i = 0; i < p->targets->len; i++) {
        const struct jg_target *t = &POL_TARGET(p, i)->pub;
        char *path, *data = NULL;
        size_t len = 0;
        int r;

        if (t->ecs_cluster == NULL)
            continue;
        path = jg_policy_discovered_path(policy_path, t->name);
        r = jg_read_file(path, JG_POLICY_DISCOVERED_MAX, &data, &len);
        if (r == 0)
            jg_policy_parse_discovered(x, (unsigned)i, path, data, len);
        else if (r == JG_ERR_TOOBIG)
            jg_diags_add(x->d, path, 0, 0, "larger than %u bytes",
                         JG_POLICY_DISCOVERED_MAX);
        else if (!(r == JG_ERR_IO && errno == ENOENT))
            jg_diags_add(x->d, path, 0, 0, "cannot read the discovered "
                         "members: %s", jg_read_strerror(r));
        free(data);
        free(path);
    }
}
