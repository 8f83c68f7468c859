/* SPDX-License-Identifier: Apache-2.0 */
/* policy/load_users.c - the users and targets sections of a policy file. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

bool
jg_policy_name_ok(const char *s, bool user)
{
    size_t i, l = strlen(s);

    if (l == 0 || l > (user ? 32 : 64))
        return false;
    if (user ? !(islower((unsigned char)s[0]) || s[0] == '_')
             : !isalnum((unsigned char)s[0]))
        return false;
    for (i = 1; i < l; i++) {
        unsigned char c = (unsigned char)s[i];
        if (user ? !(islower(c) || isdigit(c) || c == '_' || c == '.' || c == '-')
                 : !(isalnum(c) || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

bool
jg_policy_cidrs(struct pol_ctx *x, const struct jg_ynode *n, const char *what,
                struct jg_cidr **out, size_t *count)
{
    const struct jg_ynode *const *items;
    const struct jg_ynode *one[1];
    size_t i, k = 0, cnt;
    struct jg_cidr *v;
    bool ok = true;

    if (n->type == JG_Y_MAP) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "%s must be a list of addresses or CIDRs", what);
        return false;
    }
    if (n->type == JG_Y_SCALAR) {
        one[0] = n;
        items = one;
        cnt = 1;
    } else {
        items = (const struct jg_ynode *const *)n->kids;
        cnt = n->n;
    }
    v = jg_policy_alloc(x->p, (cnt ? cnt : 1) * sizeof(*v));
    for (i = 0; i < cnt; i++) {
        const struct jg_ynode *c = items[i];
        if (c->type != JG_Y_SCALAR || jg_cidr_parse(c->str, &v[k], NULL) != 0) {
            jg_diags_add(x->d, x->file, c->line, c->col,
                         "%s: bad address or CIDR '%s'", what,
                         c->type == JG_Y_SCALAR ? c->str : "(not a value)");
            ok = false;
            continue;
        }
        k++;
    }
    *out = v;
    *count = jg_cidr_canonicalize(v, k);
    return ok;
}

static bool
get_time(struct pol_ctx *x, const struct jg_ynode *n, const char *what,
         int64_t *out)
{
    if (!jg_y_expect(n, JG_Y_SCALAR, x->file, what, x->d))
        return false;
    if (jg_time_parse(n->str, out) != 0) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "%s: bad time '%s' (use RFC 3339, e.g. 2027-06-30T00:00:00Z)",
                     what, n->str);
        return false;
    }
    return true;
}

/* Reads the keys of keys_file (one per line; # comments). */
static void
read_keys_file(struct pol_ctx *x, const struct jg_ynode *n, GPtrArray *keys)
{
    char *path, *data = NULL, *line, *save = NULL;
    size_t len;
    int r;

    if (!jg_y_expect(n, JG_Y_SCALAR, x->file, "keys_file", x->d))
        return;
    if (x->flags & JG_POLICY_NO_FILES)
        return;
    path = jg_path_relative_to(x->file, n->str);
    if ((r = jg_read_file(path, 1u << 20, &data, &len)) != 0) {
        jg_diags_add(x->d, x->file, n->line, n->col, "keys_file %s: %s", path,
                     jg_read_strerror(r));
        free(path);
        return;
    }
    for (line = strtok_r(data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char why[128];
        size_t l;

        while (*line == ' ' || *line == '\t')
            line++;
        l = strlen(line);
        while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        if (*line == '\0' || *line == '#')
            continue;
        if (!jg_policy_key_ok(line, why, sizeof(why))) {
            /* the line number inside keys_file, counting every newline */
            int real = 1;
            for (const char *c = data; c < line; c++)
                real += *c == '\0' || *c == '\n';
            jg_diags_add(x->d, path, real, 1, "malformed public key: %s", why);
            continue;
        }
        g_ptr_array_add(keys, (gpointer)jg_policy_str(x->p, line));
    }
    free(data);
    free(path);
}

static void
load_user(struct pol_ctx *x, const struct jg_ynode *k, const struct jg_ynode *v)
{
    static const char *const keys[] = {"keys", "keys_file", "groups", "from",
                                       "mfa", "expires", "max_sessions",
                                       NULL};
    struct pol_user u = {0};
    const struct jg_ynode *n;
    GPtrArray *kv = g_ptr_array_new();
    size_t i;

    if (!jg_policy_name_ok(k->str, true))
        jg_diags_add(x->d, x->file, k->line, k->col,
                     "bad user name '%s' (lower-case letters, digits, _ . -; "
                     "at most 32)", k->str);
    if (g_hash_table_contains(x->p->user_idx, k->str))
        jg_diags_add(x->d, x->file, k->line, k->col, "user '%s' is defined twice",
                     k->str);
    if (!jg_y_expect(v, JG_Y_MAP, x->file, "a user", x->d))
        goto out;
    jg_y_check_keys(v, keys, x->file, "a user", x->d);
    u.pub.name = jg_policy_str(x->p, k->str);
    u.pub.expires = JG_TIME_NEVER;

    if ((n = jg_y_get(v, "keys")) != NULL) {
        char **sv = NULL;
        size_t cnt = 0;
        if (jg_y_strv(n, x->file, "keys", &sv, &cnt, x->d)) {
            for (i = 0; i < cnt; i++) {
                char why[128];
                const struct jg_ynode *at = n->type == JG_Y_SEQ ? n->kids[i] : n;
                if (!jg_policy_key_ok(sv[i], why, sizeof(why)))
                    jg_diags_add(x->d, x->file, at->line, at->col,
                                 "malformed public key: %s", why);
                else
                    g_ptr_array_add(kv, (gpointer)jg_policy_str(x->p, sv[i]));
            }
            jg_strv_free(sv);
        }
    }
    if ((n = jg_y_get(v, "keys_file")) != NULL)
        read_keys_file(x, n, kv);
    if (jg_y_get(v, "keys") == NULL && jg_y_get(v, "keys_file") == NULL)
        jg_diags_add(x->d, x->file, k->line, k->col,
                     "user '%s' has no keys (give keys or keys_file)", k->str);
    u.pub.keys = jg_policy_strv(x->p, (char **)kv->pdata, kv->len);
    u.pub.n_keys = kv->len;

    if ((n = jg_y_get(v, "groups")) != NULL) {
        char **sv = NULL;
        size_t cnt = 0;
        if (jg_y_strv(n, x->file, "groups", &sv, &cnt, x->d)) {
            for (i = 0; i < cnt; i++) {
                const struct jg_ynode *at = n->type == JG_Y_SEQ ? n->kids[i] : n;
                if (!jg_policy_name_ok(sv[i], false))
                    jg_diags_add(x->d, x->file, at->line, at->col,
                                 "bad group name '%s'", sv[i]);
                g_hash_table_replace(x->p->groups,
                                     (gpointer)jg_policy_str(x->p, sv[i]),
                                     GINT_TO_POINTER(1));
            }
            u.pub.groups = jg_policy_strv(x->p, sv, cnt);
            u.pub.n_groups = cnt;
            jg_strv_free(sv);
        }
    }
    if ((n = jg_y_get(v, "from")) != NULL) {
        struct jg_cidr *c = NULL;
        if (jg_policy_cidrs(x, n, "from", &c, &u.pub.n_from) &&
            u.pub.n_from == 0)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "from is empty: user '%s' could never log in", k->str);
        u.pub.from = c;
    } else {
        jg_diags_add(x->d, x->file, k->line, k->col,
                     "user '%s' has no 'from' (write 0.0.0.0/0 and ::/0 to "
                     "allow any address)", k->str);
    }
    if ((n = jg_y_get(v, "mfa")) != NULL)
        jg_y_bool(n, x->file, &u.pub.mfa, x->d);
    if ((n = jg_y_get(v, "expires")) != NULL)
        get_time(x, n, "expires", &u.pub.expires);
    if ((n = jg_y_get(v, "max_sessions")) != NULL &&
        jg_y_expect(n, JG_Y_SCALAR, x->file, "max_sessions", x->d)) {
        char *end;
        long mv = strtol(n->str, &end, 10);

        if (n->len == 0 || *end != '\0' || mv < 1 || mv > 10000)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "bad max_sessions '%s' (1-10000)", n->str);
        else
            u.pub.max_sessions = (unsigned)mv;
    }

    if (u.pub.name != NULL && !g_hash_table_contains(x->p->user_idx, k->str)) {
        g_array_append_val(x->p->users, u);
        g_hash_table_insert(x->p->user_idx, (gpointer)u.pub.name,
                            GUINT_TO_POINTER(x->p->users->len));
    }
out:
    g_ptr_array_free(kv, TRUE);
}

void
jg_policy_load_users(struct pol_ctx *x, const struct jg_ynode *n)
{
    size_t i;

    if (!jg_y_expect(n, JG_Y_MAP, x->file, "users", x->d))
        return;
    for (i = 0; i + 1 < n->n; i += 2)
        load_user(x, n->kids[i], n->kids[i + 1]);
}

static bool
protocol_ok(const char *s)
{
    static const char *const known[] = {"mysql", "postgresql", "http", "https",
                                        "redis", "tcp", NULL};
    size_t i;

    for (i = 0; known[i] != NULL; i++) {
        if (strcmp(s, known[i]) == 0)
            return true;
    }
    return false;
}

/* An absolute path, or a diagnostic at n. */
static const char *
abs_path(struct pol_ctx *x, const struct jg_ynode *n, const char *what)
{
    if (!jg_y_expect(n, JG_Y_SCALAR, x->file, what, x->d))
        return NULL;
    if (n->str[0] != '/') {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "%s must be an absolute path, not '%s'", what, n->str);
        return NULL;
    }
    return jg_policy_str(x->p, n->str);
}

/* auth: {password_file: FILE} or {iam: {region: R}} of a mysql target. */
static void
db_auth(struct pol_ctx *x, struct jg_target *t, const struct jg_ynode *n)
{
    static const char *const keys[] = {"password_file", "iam", NULL};
    static const char *const iam_keys[] = {"region", NULL};
    const struct jg_ynode *pf = jg_y_get(n, "password_file");
    const struct jg_ynode *iam = jg_y_get(n, "iam"), *r;

    jg_y_check_keys(n, keys, x->file, "auth", x->d);
    if (t->kind != JG_TARGET_TCP || t->protocol == NULL ||
        strcmp(t->protocol, "mysql") != 0) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "auth: {password_file|iam} is only for kind tcp with "
                     "protocol: mysql (an ssh target takes auth: key or cert)");
        return;
    }
    if ((pf == NULL) == (iam == NULL)) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "auth needs exactly one of password_file: FILE or "
                     "iam: {region: REGION}");
        return;
    }
    if (pf != NULL) {
        t->db_password_file = abs_path(x, pf, "password_file");
        return;
    }
    if (!jg_y_expect(iam, JG_Y_MAP, x->file, "iam", x->d))
        return;
    jg_y_check_keys(iam, iam_keys, x->file, "iam", x->d);
    if ((r = jg_y_get(iam, "region")) == NULL)
        jg_diags_add(x->d, x->file, iam->line, iam->col,
                     "iam needs region: REGION (e.g. eu-west-1)");
    else if (jg_y_expect(r, JG_Y_SCALAR, x->file, "region", x->d))
        t->db_iam_region = jg_policy_str(x->p, r->str);
}

/* tls: {ca: FILE} or tls: false; a mysql target with auth needs one. */
static void
db_tls(struct pol_ctx *x, struct jg_target *t, const struct jg_ynode *v,
       const struct jg_ynode *k)
{
    static const char *const keys[] = {"ca", NULL};
    const struct jg_ynode *n = jg_y_get(v, "tls"), *ca;
    bool db = t->db_password_file != NULL || t->db_iam_region != NULL;

    if (n == NULL) {
        if (db)
            jg_diags_add(x->d, x->file, k->line, k->col,
                         "target '%s' signs in to MySQL and needs tls: {ca: "
                         "FILE} (the CA that signed the server's certificate) "
                         "or, by explicit choice, tls: false", k->str);
        return;
    }
    if (!db) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "tls is only for a protocol: mysql target with auth");
        return;
    }
    if (n->type == JG_Y_SCALAR) {
        if (strcmp(n->str, "false") != 0)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "tls is {ca: FILE} or false, not '%s'", n->str);
        else if (t->db_iam_region != NULL)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "auth: {iam: ...} sends its token only over TLS; "
                         "tls: false is refused");
        return;
    }
    if (!jg_y_expect(n, JG_Y_MAP, x->file, "tls", x->d))
        return;
    jg_y_check_keys(n, keys, x->file, "tls", x->d);
    if ((ca = jg_y_get(n, "ca")) == NULL) {
        jg_diags_add(x->d, x->file, n->line, n->col, "tls needs ca: FILE");
        return;
    }
    if ((t->db_tls_ca = abs_path(x, ca, "ca")) != NULL)
        t->db_tls = true;
}

static void
load_target(struct pol_ctx *x, const struct jg_ynode *k, const struct jg_ynode *v)
{
    static const char *const keys[] = {"kind", "address", "discover", "labels",
                                       "protocol", "auth", "tls", NULL};
    static const char *const disc_keys[] = {"ecs_cluster", "port", NULL};
    struct pol_target t = {0};
    const struct jg_ynode *n, *kind, *addr, *disc;
    bool ok = true;
    size_t i;

    if (!jg_policy_name_ok(k->str, false)) {
        jg_diags_add(x->d, x->file, k->line, k->col,
                     "bad target name '%s' (letters, digits, _ . -)", k->str);
        ok = false;
    }
    if (g_hash_table_contains(x->p->target_idx, k->str)) {
        jg_diags_add(x->d, x->file, k->line, k->col,
                     "target '%s' is defined twice", k->str);
        ok = false;
    }
    if (!jg_y_expect(v, JG_Y_MAP, x->file, "a target", x->d))
        return;
    jg_y_check_keys(v, keys, x->file, "a target", x->d);
    t.pub.name = jg_policy_str(x->p, k->str);

    kind = jg_y_get(v, "kind");
    if (kind == NULL) {
        jg_diags_add(x->d, x->file, k->line, k->col,
                     "target '%s' needs a kind (ssh or tcp)", k->str);
    } else if (jg_y_expect(kind, JG_Y_SCALAR, x->file, "kind", x->d)) {
        if (strcmp(kind->str, "ssh") == 0)
            t.pub.kind = JG_TARGET_SSH;
        else if (strcmp(kind->str, "tcp") == 0)
            t.pub.kind = JG_TARGET_TCP;
        else
            jg_diags_add(x->d, x->file, kind->line, kind->col,
                         "unknown target kind '%s' (ssh or tcp)", kind->str);
    }
    addr = jg_y_get(v, "address");
    disc = jg_y_get(v, "discover");
    if (addr != NULL && disc != NULL) {
        jg_diags_add(x->d, x->file, disc->line, disc->col,
                     "a target has either an address or discover, not both");
    } else if (addr == NULL && disc == NULL) {
        jg_diags_add(x->d, x->file, k->line, k->col,
                     "target '%s' needs an address (or discover)", k->str);
    }
    if (addr != NULL && jg_y_expect(addr, JG_Y_SCALAR, x->file, "address", x->d)) {
        char *host = NULL;
        if (jg_hostport_parse(addr->str, &host, &t.pub.port) != 0) {
            jg_diags_add(x->d, x->file, addr->line, addr->col,
                         "bad address '%s' (HOST:PORT, or [IPv6]:PORT)", addr->str);
        } else {
            t.pub.host = jg_policy_str(x->p, host);
            t.pub.address = jg_policy_str(x->p, addr->str);
        }
        free(host);
    }
    if (disc != NULL && jg_y_expect(disc, JG_Y_MAP, x->file, "discover", x->d)) {
        jg_y_check_keys(disc, disc_keys, x->file, "discover", x->d);
        n = jg_y_get(disc, "ecs_cluster");
        if (n == NULL)
            jg_diags_add(x->d, x->file, disc->line, disc->col,
                         "discover needs ecs_cluster");
        else if (jg_y_expect(n, JG_Y_SCALAR, x->file, "ecs_cluster", x->d))
            t.pub.ecs_cluster = jg_policy_str(x->p, n->str);
        t.pub.port = 22;
        if ((n = jg_y_get(disc, "port")) != NULL &&
            jg_y_expect(n, JG_Y_SCALAR, x->file, "port", x->d)) {
            char *end;
            long pv = strtol(n->str, &end, 10);

            if (n->len == 0 || *end != '\0' || pv < 1 || pv > 65535)
                jg_diags_add(x->d, x->file, n->line, n->col,
                             "bad port '%s' (1-65535)", n->str);
            else
                t.pub.port = (uint16_t)pv;
        }
    }
    if ((n = jg_y_get(v, "protocol")) != NULL &&
        jg_y_expect(n, JG_Y_SCALAR, x->file, "protocol", x->d)) {
        if (!protocol_ok(n->str))
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "unknown protocol '%s' (mysql, postgresql, http, https, "
                         "redis, tcp)", n->str);
        else if (t.pub.kind != JG_TARGET_TCP)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "protocol is only for kind tcp");
        t.pub.protocol = jg_policy_str(x->p, n->str);
    }
    if ((n = jg_y_get(v, "auth")) != NULL && n->type == JG_Y_MAP) {
        db_auth(x, &t.pub, n);
    } else if (n != NULL &&
               jg_y_expect(n, JG_Y_SCALAR, x->file, "auth", x->d)) {
        if (strcmp(n->str, "key") == 0)
            t.pub.auth = JG_AUTH_KEY;
        else if (strcmp(n->str, "cert") == 0)
            t.pub.auth = JG_AUTH_CERT;
        else
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "unknown auth '%s' (key: the gateway's upstream.identity; "
                         "cert: a certificate from upstream.ca)", n->str);
        if (t.pub.kind != JG_TARGET_SSH)
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "auth is only for kind ssh");
    }
    db_tls(x, &t.pub, v, k);
    if ((n = jg_y_get(v, "labels")) != NULL &&
        jg_y_expect(n, JG_Y_MAP, x->file, "labels", x->d)) {
        struct jg_label *l = jg_policy_alloc(x->p, (n->n / 2 + 1) * sizeof(*l));
        for (i = 0; i + 1 < n->n; i += 2) {
            const struct jg_ynode *lv = n->kids[i + 1];
            if (!jg_y_expect(lv, JG_Y_SCALAR, x->file, "a label value", x->d))
                continue;
            if (strchr(n->kids[i]->str, '=') || n->kids[i]->len == 0)
                jg_diags_add(x->d, x->file, n->kids[i]->line, n->kids[i]->col,
                             "bad label name '%s'", n->kids[i]->str);
            l[t.pub.n_labels].key = jg_policy_str(x->p, n->kids[i]->str);
            l[t.pub.n_labels].value = jg_policy_str(x->p, lv->str);
            t.pub.n_labels++;
        }
        t.pub.labels = l;
    }
    if (ok) {
        g_array_append_val(x->p->targets, t);
        g_hash_table_insert(x->p->target_idx, (gpointer)t.pub.name,
                            GUINT_TO_POINTER(x->p->targets->len));
    }
}

void
jg_policy_load_targets(struct pol_ctx *x, const struct jg_ynode *n)
{
    size_t i;

    if (!jg_y_expect(n, JG_Y_MAP, x->file, "targets", x->d))
        return;
    for (i = 0; i + 1 < n->n; i += 2)
        load_target(x, n->kids[i], n->kids[i + 1]);
}
