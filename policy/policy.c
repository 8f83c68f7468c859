/* SPDX-License-Identifier: Apache-2.0 */
/* policy/policy.c - loading a policy from its files, and its accessors. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/internal.h"

struct jg_policy *
jg_policy_new(void)
{
    struct jg_policy *p = g_new0(struct jg_policy, 1);

    p->strs = g_string_chunk_new(4096);
    p->allocs = g_ptr_array_new_with_free_func(g_free);
    p->users = g_array_new(FALSE, TRUE, sizeof(struct pol_user));
    p->targets = g_array_new(FALSE, TRUE, sizeof(struct pol_target));
    p->rules = g_array_new(FALSE, TRUE, sizeof(struct pol_rule));
    p->grants = g_array_new(FALSE, TRUE, sizeof(struct pol_grant));
    p->exposures = g_array_new(FALSE, TRUE, sizeof(struct pol_exposure));
    p->auditors = g_array_new(FALSE, TRUE, sizeof(struct pol_auditor));
    p->members = g_array_new(FALSE, TRUE, sizeof(struct pol_member));
    p->user_idx = g_hash_table_new(g_str_hash, g_str_equal);
    p->target_idx = g_hash_table_new(g_str_hash, g_str_equal);
    p->member_idx = g_hash_table_new(g_str_hash, g_str_equal);
    p->groups = g_hash_table_new(g_str_hash, g_str_equal);
    p->files = g_ptr_array_new();
    return p;
}

const char *
jg_policy_str(struct jg_policy *p, const char *s)
{
    return s == NULL ? NULL : g_string_chunk_insert(p->strs, s);
}

void *
jg_policy_alloc(struct jg_policy *p, size_t n)
{
    void *b = g_malloc0(n ? n : 1);

    g_ptr_array_add(p->allocs, b);
    return b;
}

const char *const *
jg_policy_strv(struct jg_policy *p, char **v, size_t n)
{
    const char **out = jg_policy_alloc(p, (n + 1) * sizeof(*out));
    size_t i;

    for (i = 0; i < n; i++)
        out[i] = jg_policy_str(p, v[i]);
    return out;
}

void
jg_policy_free(struct jg_policy *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->rules->len; i++)
        jg_policy_when_free(&POL_RULE(p, i)->when);
    g_array_free(p->users, TRUE);
    g_array_free(p->targets, TRUE);
    g_array_free(p->rules, TRUE);
    g_array_free(p->grants, TRUE);
    g_array_free(p->exposures, TRUE);
    g_array_free(p->auditors, TRUE);
    g_array_free(p->members, TRUE);
    g_hash_table_destroy(p->user_idx);
    g_hash_table_destroy(p->target_idx);
    g_hash_table_destroy(p->member_idx);
    g_hash_table_destroy(p->groups);
    g_ptr_array_free(p->files, TRUE);
    g_ptr_array_free(p->allocs, TRUE);
    g_string_chunk_free(p->strs);
    g_free(p);
}

/* One file's top level: which sections it may hold. */
static void
load_doc(struct pol_ctx *x, const struct jg_ynode *root, bool main_file)
{
    static const char *const keys[] = {"version", "users", "targets", "rules",
                                       "grants", "exposure", "auditors", NULL};
    const struct jg_ynode *v;

    if (root == NULL) {
        if (main_file)
            jg_diags_add(x->d, x->file, 0, 0, "the policy file is empty");
        return;
    }
    if (!jg_y_expect(root, JG_Y_MAP, x->file, "a policy file", x->d))
        return;
    jg_y_check_keys(root, keys, x->file, "a policy file", x->d);
    v = jg_y_get(root, "version");
    if (v == NULL && main_file) {
        jg_diags_add(x->d, x->file, root->line, root->col,
                     "missing 'version: 1'");
    } else if (v != NULL && (v->type != JG_Y_SCALAR || strcmp(v->str, "1") != 0)) {
        jg_diags_add(x->d, x->file, v->line, v->col,
                     "unsupported policy version (this jumpgate reads version 1)");
    }
}

/* Sections in an order that lets later ones refer to earlier ones. */
static void
load_sections(struct pol_ctx *x, const struct jg_ynode *root, int pass)
{
    const struct jg_ynode *n;

    if (root == NULL || root->type != JG_Y_MAP)
        return;
    if (pass == 0) {
        if ((n = jg_y_get(root, "users")) != NULL)
            jg_policy_load_users(x, n);
        if ((n = jg_y_get(root, "targets")) != NULL)
            jg_policy_load_targets(x, n);
    } else {
        if ((n = jg_y_get(root, "rules")) != NULL)
            jg_policy_load_rules(x, n);
        if ((n = jg_y_get(root, "grants")) != NULL)
            jg_policy_load_grants(x, n);
        if ((n = jg_y_get(root, "exposure")) != NULL)
            jg_policy_load_exposure(x, n);
        if ((n = jg_y_get(root, "auditors")) != NULL)
            jg_policy_load_auditors(x, n);
    }
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the .yaml files of policy.d beside path, sorted. A missing folder is empty. */
static int
list_dropins(const char *path, GPtrArray *out, struct jg_diags *d)
{
    char *dir = jg_path_relative_to(path, "policy.d");
    DIR *dh;
    struct dirent *e;
    guint first = out->len;
    int r = 0;

    if ((dh = opendir(dir)) == NULL) {
        if (errno != ENOENT) {
            jg_diags_add(d, dir, 0, 0, "cannot read the folder: %s", strerror(errno));
            r = JG_ERR_IO;
        }
        free(dir);
        return r;
    }
    while ((e = readdir(dh)) != NULL) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0)
            continue;
        g_ptr_array_add(out, jg_xasprintf("%s/%s", dir, e->d_name));
    }
    closedir(dh);
    free(dir);
    qsort(out->pdata + first, out->len - first, sizeof(char *), name_cmp);
    return 0;
}

/* Builds the policy from its parsed files; with policy_path (NULL for a
 * policy from memory) also the discovered members beside it. */
static int
load_trees(struct jg_policy *p, struct jg_diags *d, const char *policy_path,
           struct jg_ynode **trees, size_t n, unsigned flags,
           struct jg_policy **out)
{
    struct pol_ctx x = {.p = p, .d = d, .flags = flags};
    size_t before = d->n, i;
    int pass;

    x.rule_nodes = g_array_new(FALSE, FALSE, sizeof(const struct jg_ynode *));
    x.grant_nodes = g_array_new(FALSE, FALSE, sizeof(const struct jg_ynode *));
    x.exposure_nodes = g_array_new(FALSE, FALSE, sizeof(const struct jg_ynode *));
    x.auditor_nodes = g_array_new(FALSE, FALSE, sizeof(const struct jg_ynode *));
    for (i = 0; i < n; i++) {
        x.file = g_ptr_array_index(p->files, i);
        load_doc(&x, trees[i], i == 0);
    }
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < n; i++) {
            x.file = g_ptr_array_index(p->files, i);
            load_sections(&x, trees[i], pass);
        }
    }
    jg_policy_index(&x);
    if (policy_path != NULL && d->n == before)
        jg_policy_load_discovered(&x, policy_path);
    g_array_free(x.rule_nodes, TRUE);
    g_array_free(x.grant_nodes, TRUE);
    g_array_free(x.exposure_nodes, TRUE);
    g_array_free(x.auditor_nodes, TRUE);
    if (d->n > before) {
        jg_policy_free(p);
        return JG_ERR_INVALID;
    }
    *out = p;
    return 0;
}

int
jg_policy_load(const char *path, struct jg_policy **out, struct jg_diags *d)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(free);
    struct jg_ynode **trees = NULL;
    struct jg_policy *p = NULL;
    size_t before = d->n, i;
    GChecksum *sum = NULL;
    struct stat st = {0};
    int r;

    *out = NULL;
    if (stat(path, &st) != 0 || S_ISDIR(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            errno = EISDIR;
        jg_diags_add(d, path, 0, 0, "cannot read the policy: %s",
                     strerror(errno));
        r = JG_ERR_IO;
        goto out;
    }
    g_ptr_array_add(names, jg_xstrdup(path));
    if ((r = list_dropins(path, names, d)) != 0)
        goto out;
    p = jg_policy_new();
    trees = g_new0(struct jg_ynode *, names->len);
    sum = g_checksum_new(G_CHECKSUM_SHA256);
    for (i = 0; i < names->len; i++) {
        const char *f = g_ptr_array_index(names, i);
        char *data = NULL;
        size_t len = 0;

        g_ptr_array_add(p->files, (char *)jg_policy_str(p, f));
        r = jg_yaml_read_file(f, &data, &len, d);
        if (r == JG_ERR_IO) {
            jg_diags_add(d, f, 0, 0, "cannot read the policy: %s", strerror(errno));
            goto out;
        }
        if (r == 0) {
            g_checksum_update(sum, (const guchar *)data, (gssize)len);
            jg_yaml_parse(f, data, len, &trees[i], d);
        }
        free(data);
    }
    if (d->n > before) {
        r = JG_ERR_INVALID;
        goto out;
    }
    jg_strlcpy(p->digest, g_checksum_get_string(sum), sizeof(p->digest));
    r = load_trees(p, d, path, trees, names->len, 0, out);
    p = NULL; /* load_trees owns it now */
out:
    if (trees != NULL) {
        for (i = 0; i < names->len; i++)
            jg_ynode_free(trees[i]);
        g_free(trees);
    }
    jg_policy_free(p);
    if (sum != NULL)
        g_checksum_free(sum);
    g_ptr_array_free(names, TRUE);
    return r;
}

int
jg_policy_load_mem(const char *name, const char *data, size_t len,
                   unsigned flags, struct jg_policy **out, struct jg_diags *d)
{
    struct jg_ynode *tree = NULL;
    struct jg_policy *p;
    int r;

    *out = NULL;
    if ((r = jg_yaml_parse(name, data, len, &tree, d)) != 0)
        return r;
    p = jg_policy_new();
    g_ptr_array_add(p->files, (char *)jg_policy_str(p, name));
    {
        gchar *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
                                                 (const guchar *)data, len);
        jg_strlcpy(p->digest, hex, sizeof(p->digest));
        g_free(hex);
    }
    r = load_trees(p, d, NULL, &tree, 1, flags, out);
    jg_ynode_free(tree);
    return r;
}

size_t jg_policy_n_users(const struct jg_policy *p) { return p->users->len; }
size_t jg_policy_n_targets(const struct jg_policy *p) { return p->targets->len; }
size_t jg_policy_n_rules(const struct jg_policy *p) { return p->rules->len; }
size_t jg_policy_n_grants(const struct jg_policy *p) { return p->grants->len; }
size_t jg_policy_n_exposures(const struct jg_policy *p) { return p->exposures->len; }
size_t jg_policy_n_files(const struct jg_policy *p) { return p->files->len; }

const char *
jg_policy_digest(const struct jg_policy *p)
{
    return p->digest;
}

const char *
jg_policy_file_at(const struct jg_policy *p, size_t i)
{
    return i < p->files->len ? g_ptr_array_index(p->files, i) : NULL;
}

const struct jg_user *
jg_policy_user(const struct jg_policy *p, const char *name)
{
    int i = jg_policy_user_index(p, name);

    return i < 0 ? NULL : &POL_USER(p, (unsigned)i)->pub;
}

const struct jg_user *
jg_policy_user_at(const struct jg_policy *p, size_t i)
{
    return i < p->users->len ? &POL_USER(p, i)->pub : NULL;
}

const struct jg_target *
jg_policy_target(const struct jg_policy *p, const char *name)
{
    gpointer v;

    if (name == NULL)
        return NULL;
    if ((v = g_hash_table_lookup(p->target_idx, name)) != NULL)
        return &POL_TARGET(p, GPOINTER_TO_UINT(v) - 1)->pub;
    if ((v = g_hash_table_lookup(p->member_idx, name)) != NULL)
        return &POL_MEMBER(p, GPOINTER_TO_UINT(v) - 1)->pub;
    return NULL;
}

size_t jg_policy_n_members(const struct jg_policy *p) { return p->members->len; }

const struct jg_target *
jg_policy_member_at(const struct jg_policy *p, size_t i)
{
    return i < p->members->len ? &POL_MEMBER(p, i)->pub : NULL;
}

const struct jg_target *
jg_policy_target_at(const struct jg_policy *p, size_t i)
{
    return i < p->targets->len ? &POL_TARGET(p, i)->pub : NULL;
}

const struct jg_grant *
jg_policy_grant_at(const struct jg_policy *p, size_t i)
{
    return i < p->grants->len ? &POL_GRANT(p, i)->pub : NULL;
}

const struct jg_exposure *
jg_policy_exposure_at(const struct jg_policy *p, size_t i)
{
    return i < p->exposures->len ? &POL_EXPOSURE(p, i)->pub : NULL;
}
