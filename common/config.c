/* SPDX-License-Identifier: Apache-2.0 */
/* common/config.c - loads and validates jumpgate.yaml. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct cctx {
    const char *file;
    struct jg_diags *d;
    struct jg_config *c;
};

const char *
jg_config_default_path(void)
{
    const char *e = getenv("JUMPGATE_CONFIG");

    return e != NULL && *e != '\0' ? e : JG_CONFIG_DEFAULT;
}

static bool
get_str(struct cctx *x, const struct jg_ynode *map, const char *key,
        const char *what, char **out)
{
    const struct jg_ynode *n = jg_y_get(map, key);

    if (n == NULL)
        return false;
    if (!jg_y_expect(n, JG_Y_SCALAR, x->file, what, x->d))
        return false;
    if (n->len == 0) {
        jg_diags_add(x->d, x->file, n->line, n->col, "%s must not be empty", what);
        return false;
    }
    free(*out);
    *out = jg_xstrdup(n->str);
    return true;
}

/* A path, taken relative to the config file's folder. */
static bool
get_path(struct cctx *x, const struct jg_ynode *map, const char *key,
         const char *what, char **out)
{
    char *s = NULL;

    if (!get_str(x, map, key, what, &s))
        return false;
    free(*out);
    *out = jg_path_relative_to(x->file, s);
    free(s);
    return true;
}

static void
get_duration(struct cctx *x, const struct jg_ynode *map, const char *key,
             const char *what, int64_t *out)
{
    const struct jg_ynode *n = jg_y_get(map, key);

    if (n == NULL || !jg_y_expect(n, JG_Y_SCALAR, x->file, what, x->d))
        return;
    if (jg_duration_parse(n->str, out) != 0)
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "%s: bad duration '%s' (use e.g. 90s, 30m, 4h, 7d)", what,
                     n->str);
}

static void
get_int(struct cctx *x, const struct jg_ynode *map, const char *key,
        const char *what, int lo, int hi, int *out)
{
    const struct jg_ynode *n = jg_y_get(map, key);
    char *end;
    long v;

    if (n == NULL || !jg_y_expect(n, JG_Y_SCALAR, x->file, what, x->d))
        return;
    errno = 0;
    v = strtol(n->str, &end, 10);
    if (n->quoted || *n->str == '\0' || *end != '\0' || errno != 0 || v < lo ||
        v > hi) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "%s must be a whole number from %d to %d", what, lo, hi);
        return;
    }
    *out = (int)v;
}

static void
get_hostport(struct cctx *x, const struct jg_ynode *n, const char *what,
             char **out)
{
    char *host = NULL;
    uint16_t port;

    if (!jg_y_expect(n, JG_Y_SCALAR, x->file, what, x->d))
        return;
    if (jg_hostport_parse(n->str, &host, &port) != 0) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "%s: bad address '%s' (use HOST:PORT or [IPv6]:PORT)", what,
                     n->str);
        return;
    }
    free(host);
    free(*out);
    *out = jg_xstrdup(n->str);
}

/* limits.max_startups: "N" (refuse beyond N unauthenticated connections)
 * or sshd's "start:rate:full" (from start on, refuse rate percent, rising
 * linearly to 100 at full). */
static void
get_startups(struct cctx *x, const struct jg_ynode *map)
{
    const struct jg_ynode *n = jg_y_get(map, "max_startups");
    struct jg_config *c = x->c;
    long v[3] = {0, 0, 0};
    const char *p;
    char *end = NULL;
    size_t k = 0;
    bool ok = true;

    if (n == NULL || !jg_y_expect(n, JG_Y_SCALAR, x->file,
                                  "limits.max_startups", x->d))
        return;
    /* Up to three whole numbers separated by ':'. */
    for (p = n->str; ok; p = end + 1) {
        if (k == 3 || *p < '0' || *p > '9') {
            ok = false;
            break;
        }
        errno = 0;
        v[k++] = strtol(p, &end, 10);
        if (errno != 0 || v[k - 1] > 100000)
            ok = false;
        if (*end != ':')
            break;
    }
    ok = ok && *end == '\0';
    /* A number is a number; the three-part form may be quoted. */
    if (ok && k == 1 && v[0] >= 1 && !n->quoted) {
        c->startups_begin = c->startups_full = (int)v[0];
        c->startups_rate = 100;
    } else if (ok && k == 3 && v[0] >= 1 && v[1] >= 1 && v[1] <= 100 &&
               v[2] > v[0]) {
        c->startups_begin = (int)v[0];
        c->startups_rate = (int)v[1];
        c->startups_full = (int)v[2];
    } else {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "limits.max_startups must be a whole number from 1 to "
                     "100000, or START:RATE:FULL (1 <= RATE <= 100, START < "
                     "FULL)");
        return;
    }
    c->max_startups = c->startups_full;
}

/* A duration that may be zero ("0s" or "0"). */
static void
get_duration0(struct cctx *x, const struct jg_ynode *map, const char *key,
              const char *what, int64_t *out)
{
    const struct jg_ynode *n = jg_y_get(map, key);

    if (n != NULL && n->type == JG_Y_SCALAR && !n->quoted &&
        (strcmp(n->str, "0s") == 0 || strcmp(n->str, "0") == 0)) {
        *out = 0;
        return;
    }
    get_duration(x, map, key, what, out);
}

/* limits.penalties: durations (the first three may be 0s); max more than
 * zero and not below min. */
static void
get_penalties(struct cctx *x, const struct jg_ynode *map)
{
    struct jg_config *c = x->c;
    const struct jg_ynode *n;

    get_duration0(x, map, "grace_exceeded", "limits.penalties.grace_exceeded",
                  &c->pen_grace);
    get_duration0(x, map, "noauth", "limits.penalties.noauth",
                  &c->pen_noauth);
    get_duration0(x, map, "min", "limits.penalties.min", &c->pen_min);
    get_duration(x, map, "max", "limits.penalties.max", &c->pen_max);
    if (c->pen_max <= 0 || c->pen_max < c->pen_min) {
        n = jg_y_get(map, "max") != NULL ? jg_y_get(map, "max") : map;
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "limits.penalties.max must be more than zero and not "
                     "less than limits.penalties.min");
    }
}

/* control_socket: an absolute path short enough for a unix socket. */
static void
get_control(struct cctx *x, const struct jg_ynode *root)
{
    const struct jg_ynode *n = jg_y_get(root, "control_socket");
    char *s = NULL;

    if (n == NULL || !get_path(x, root, "control_socket", "control_socket",
                               &s))
        return;
    if (strlen(s) >= JG_CONTROL_SOCKET_MAX) {
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "control_socket: the path is longer than %d bytes",
                     JG_CONTROL_SOCKET_MAX - 1);
        free(s);
        return;
    }
    free(x->c->control_socket);
    x->c->control_socket = s;
}

static const struct jg_ynode *
section(struct cctx *x, const struct jg_ynode *root, const char *key,
        const char *const *keys)
{
    const struct jg_ynode *n = jg_y_get(root, key);

    if (n == NULL)
        return NULL;
    if (!jg_y_expect(n, JG_Y_MAP, x->file, key, x->d))
        return NULL;
    jg_y_check_keys(n, keys, x->file, key, x->d);
    return n;
}

/* upstream.cert_source_address: the jump host's addresses (CIDRs), which
 * each certificate's source-address option names. */
static void
get_cert_source(struct cctx *x, const struct jg_ynode *up)
{
    const struct jg_ynode *n = jg_y_get(up, "cert_source_address");
    char **v = NULL, *list = NULL, *nl;
    size_t cnt = 0, i;

    if (n == NULL || !jg_y_strv(n, x->file, "upstream.cert_source_address", &v,
                                &cnt, x->d))
        return;
    if (cnt == 0)
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "upstream.cert_source_address needs at least one address");
    for (i = 0; i < cnt; i++) {
        struct jg_cidr c;
        const struct jg_ynode *at = n->type == JG_Y_SEQ ? n->kids[i] : n;
        bool host_bits = false;
        char canon[64];

        if (jg_cidr_parse(v[i], &c, &host_bits) != 0) {
            jg_diags_add(x->d, x->file, at->line, at->col,
                         "upstream.cert_source_address: '%s' is not an address "
                         "or CIDR", v[i]);
            continue;
        }
        if (host_bits) {
            /* OpenSSH refuses such a source-address: every login would. */
            jg_cidr_format(&c, canon, sizeof(canon));
            jg_diags_add(x->d, x->file, at->line, at->col,
                         "upstream.cert_source_address: '%s' has bits set "
                         "past its prefix length (meant %s?), which the "
                         "targets' sshd refuses", v[i], canon);
            continue;
        }
        nl = jg_xasprintf("%s%s%s", list ? list : "", list ? "," : "", v[i]);
        free(list);
        list = nl;
    }
    jg_strv_free(v);
    free(x->c->upstream_cert_source);
    x->c->upstream_cert_source = list;
}

/* Is host (a name or an address from HOST:PORT) loopback only? */
static bool
loopback_host(const char *host)
{
    struct jg_addr a;

    if (strcmp(host, "localhost") == 0)
        return true;
    if (jg_addr_parse(host, &a) != 0)
        return false;
    if (a.family == 4)
        return a.b[0] == 127;
    return memcmp(a.b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
}

/* audit.console: the auditors' web console. Without TLS it may listen on
 * loopback only: a password and a one-time code never cross a network in
 * clear text. */
static void
get_console(struct cctx *x, const struct jg_ynode *audit)
{
    static const char *const keys[] = {"listen", "tls_cert", "tls_key",
        "pam_service", "session_timeout", NULL};
    struct jg_config *c = x->c;
    const struct jg_ynode *s, *n;
    char *host = NULL;
    uint16_t port;

    if ((s = section(x, audit, "console", keys)) == NULL)
        return;
    if ((n = jg_y_get(s, "listen")) == NULL) {
        jg_diags_add(x->d, x->file, s->line, s->col,
                     "audit.console needs listen (HOST:PORT)");
        return;
    }
    get_hostport(x, n, "audit.console.listen", &c->console_listen);
    get_path(x, s, "tls_cert", "audit.console.tls_cert", &c->console_tls_cert);
    get_path(x, s, "tls_key", "audit.console.tls_key", &c->console_tls_key);
    get_str(x, s, "pam_service", "audit.console.pam_service",
            &c->console_pam_service);
    get_duration(x, s, "session_timeout", "audit.console.session_timeout",
                 &c->console_session_timeout);
    if ((n = jg_y_get(s, "session_timeout")) != NULL &&
        (c->console_session_timeout < 60 || c->console_session_timeout > 86400))
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "audit.console.session_timeout must be 1m to 24h");
    if ((c->console_tls_cert == NULL) != (c->console_tls_key == NULL))
        jg_diags_add(x->d, x->file, s->line, s->col,
                     "audit.console needs both tls_cert and tls_key, or neither");
    if (c->console_listen != NULL && c->console_tls_cert == NULL &&
        jg_hostport_parse(c->console_listen, &host, &port) == 0 &&
        !loopback_host(host)) {
        n = jg_y_get(s, "listen");
        jg_diags_add(x->d, x->file, n->line, n->col,
                     "audit.console.listen: '%s' is not loopback; without "
                     "tls_cert and tls_key the console listens on 127.0.0.1 or "
                     "[::1] only", c->console_listen);
    }
    free(host);
}

static void
load_root(struct cctx *x, const struct jg_ynode *root)
{
    static const char *const top[] = {"listen", "host_keys", "policy", "upstream",
        "pam_service", "audit", "metrics", "limits", "sync", "control_socket",
        NULL};
    static const char *const up_keys[] = {"identity", "known_hosts", "ca",
        "cert_validity", "cert_source_address", NULL};
    static const char *const audit_keys[] = {"dir", "signing_key", "on_failure",
        "seal_interval", "s3", "console", NULL};
    static const char *const s3_keys[] = {"bucket", "prefix", "region", "part_size", NULL};
    static const char *const metrics_keys[] = {"listen", NULL};
    static const char *const limit_keys[] = {"max_startups", "login_grace",
        "idle_timeout", "auth_failures", "per_source_startups", "penalties",
        NULL};
    static const char *const af_keys[] = {"max", "window", "ban", NULL};
    static const char *const pen_keys[] = {"grace_exceeded", "noauth", "min",
        "max", NULL};
    static const char *const sync_keys[] = {"interval", "aws", "cloudflare",
        "max_removals", "metrics", NULL};
    static const char *const aws_keys[] = {"region", NULL};
    static const char *const cf_keys[] = {"account_id", "api_token_file", "api_base", NULL};
    struct jg_config *c = x->c;
    const struct jg_ynode *n, *s;
    size_t i;

    if (!jg_y_expect(root, JG_Y_MAP, x->file, "the configuration", x->d))
        return;
    jg_y_check_keys(root, top, x->file, "the configuration", x->d);

    if ((n = jg_y_get(root, "listen")) != NULL) {
        if (n->type == JG_Y_SCALAR) {
            c->listen = jg_xcalloc(1, sizeof(char *));
            c->n_listen = 1;
            get_hostport(x, n, "listen", &c->listen[0]);
        } else if (jg_y_expect(n, JG_Y_SEQ, x->file, "listen", x->d)) {
            c->listen = jg_xcalloc(n->n, sizeof(char *));
            c->n_listen = n->n;
            for (i = 0; i < n->n; i++)
                get_hostport(x, n->kids[i], "listen", &c->listen[i]);
            if (n->n == 0)
                jg_diags_add(x->d, x->file, n->line, n->col,
                             "listen needs at least one address");
        }
    }
    if ((n = jg_y_get(root, "host_keys")) != NULL) {
        char **v = NULL;
        size_t cnt = 0;
        if (jg_y_strv(n, x->file, "host_keys", &v, &cnt, x->d)) {
            c->host_keys = jg_xcalloc(cnt + 1, sizeof(char *));
            for (i = 0; i < cnt; i++)
                c->host_keys[i] = jg_path_relative_to(x->file, v[i]);
            c->n_host_keys = cnt;
            jg_strv_free(v);
        }
    }
    get_path(x, root, "policy", "policy", &c->policy);
    if ((s = section(x, root, "upstream", up_keys)) != NULL) {
        get_path(x, s, "identity", "upstream.identity", &c->upstream_identity);
        get_path(x, s, "known_hosts", "upstream.known_hosts", &c->upstream_known_hosts);
        get_path(x, s, "ca", "upstream.ca", &c->upstream_ca);
        get_duration(x, s, "cert_validity", "upstream.cert_validity",
                     &c->upstream_cert_validity);
        if ((n = jg_y_get(s, "cert_validity")) != NULL &&
            (c->upstream_cert_validity < 60 || c->upstream_cert_validity > 3600))
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "upstream.cert_validity must be 1m to 1h (long enough "
                         "to log in; the connection itself lives on)");
        get_cert_source(x, s);
    }
    get_str(x, root, "pam_service", "pam_service", &c->pam_service);
    get_control(x, root);
    if ((s = section(x, root, "audit", audit_keys)) != NULL) {
        char *of = NULL;
        get_path(x, s, "dir", "audit.dir", &c->audit_dir);
        get_path(x, s, "signing_key", "audit.signing_key", &c->audit_signing_key);
        if (get_str(x, s, "on_failure", "audit.on_failure", &of)) {
            if (strcmp(of, "refuse") == 0)
                c->audit_on_failure = JG_ON_FAILURE_REFUSE;
            else if (strcmp(of, "continue") == 0)
                c->audit_on_failure = JG_ON_FAILURE_CONTINUE;
            else
                jg_diags_add(x->d, x->file, jg_y_get(s, "on_failure")->line,
                             jg_y_get(s, "on_failure")->col,
                             "audit.on_failure must be 'refuse' or 'continue'");
            free(of);
        }
        get_duration(x, s, "seal_interval", "audit.seal_interval",
                     &c->audit_seal_interval);
        if ((n = jg_y_get(s, "seal_interval")) != NULL &&
            (c->audit_seal_interval < 1 || c->audit_seal_interval > 60))
            jg_diags_add(x->d, x->file, n->line, n->col,
                         "audit.seal_interval must be 1s to 60s (a seal at "
                         "least once a minute)");
        if ((n = section(x, s, "s3", s3_keys)) != NULL) {
            if (!get_str(x, n, "bucket", "audit.s3.bucket", &c->s3_bucket))
                jg_diags_add(x->d, x->file, n->line, n->col, "audit.s3 needs a bucket");
            get_str(x, n, "prefix", "audit.s3.prefix", &c->s3_prefix);
            get_str(x, n, "region", "audit.s3.region", &c->s3_region);
            get_int(x, n, "part_size", "audit.s3.part_size", 1, 5120,
                    &c->s3_part_size_mib);
        }
        get_console(x, s);
    }
    if ((s = section(x, root, "metrics", metrics_keys)) != NULL &&
        (n = jg_y_get(s, "listen")) != NULL)
        get_hostport(x, n, "metrics.listen", &c->metrics_listen);
    if ((s = section(x, root, "limits", limit_keys)) != NULL) {
        get_startups(x, s);
        get_duration(x, s, "login_grace", "limits.login_grace", &c->login_grace);
        get_duration(x, s, "idle_timeout", "limits.idle_timeout", &c->idle_timeout);
        if ((n = section(x, s, "auth_failures", af_keys)) != NULL) {
            get_int(x, n, "max", "limits.auth_failures.max", 1, 1000, &c->auth_fail_max);
            get_duration(x, n, "window", "limits.auth_failures.window", &c->auth_fail_window);
            get_duration(x, n, "ban", "limits.auth_failures.ban", &c->auth_fail_ban);
        }
        get_int(x, s, "per_source_startups", "limits.per_source_startups", 1,
                100000, &c->per_source_startups);
        if ((n = section(x, s, "penalties", pen_keys)) != NULL)
            get_penalties(x, n);
    }
    if ((s = section(x, root, "sync", sync_keys)) != NULL) {
        get_duration(x, s, "interval", "sync.interval", &c->sync_interval);
        get_int(x, s, "max_removals", "sync.max_removals", 0, 1000000, &c->max_removals);
        if ((n = section(x, s, "aws", aws_keys)) != NULL)
            get_str(x, n, "region", "sync.aws.region", &c->aws_region);
        if ((n = section(x, s, "cloudflare", cf_keys)) != NULL) {
            get_str(x, n, "account_id", "sync.cloudflare.account_id", &c->cf_account_id);
            get_path(x, n, "api_token_file", "sync.cloudflare.api_token_file",
                     &c->cf_api_token_file);
            get_str(x, n, "api_base", "sync.cloudflare.api_base", &c->cf_api_base);
        }
        if ((n = section(x, s, "metrics", metrics_keys)) != NULL &&
            jg_y_get(n, "listen") != NULL)
            get_hostport(x, jg_y_get(n, "listen"), "sync.metrics.listen",
                         &c->sync_metrics_listen);
    }
    if (c->policy == NULL)
        jg_diags_add(x->d, x->file, root->line, root->col,
                     "the configuration needs 'policy' (path of policy.yaml)");
}

int
jg_config_load(const char *path, struct jg_config **out, struct jg_diags *d)
{
    struct jg_config *c;
    struct jg_ynode *root = NULL;
    struct cctx x;
    size_t before = d->n;
    int r;

    *out = NULL;
    if ((r = jg_yaml_load_file(path, &root, d)) != 0)
        return r;
    c = jg_xcalloc(1, sizeof(*c));
    c->path = jg_xstrdup(path);
    c->pam_service = jg_xstrdup("jumpgate");
    c->audit_dir = jg_xstrdup("/var/lib/jumpgate");
    c->audit_on_failure = JG_ON_FAILURE_REFUSE;
    c->max_startups = 64;
    c->startups_begin = 64;
    c->startups_rate = 100;
    c->startups_full = 64;
    c->control_socket = jg_xstrdup(JG_CONTROL_SOCKET_DEFAULT);
    c->login_grace = 30;
    c->idle_timeout = 30 * 60;
    c->auth_fail_max = 5;
    c->auth_fail_window = 10 * 60;
    c->auth_fail_ban = 15 * 60;
    c->per_source_startups = 10;
    c->pen_grace = 10;
    c->pen_noauth = 1;
    c->pen_min = 15;
    c->pen_max = 10 * 60;
    c->sync_interval = 60;
    c->upstream_cert_validity = 5 * 60;
    c->audit_seal_interval = 60;
    c->max_removals = 10;
    c->s3_part_size_mib = 8;
    c->console_session_timeout = 30 * 60;
    c->cf_api_base = jg_xstrdup("https://api.cloudflare.com/client/v4");
    x = (struct cctx){.file = path, .d = d, .c = c};
    if (root == NULL)
        jg_diags_add(d, path, 0, 0, "the configuration file is empty");
    else
        load_root(&x, root);
    jg_ynode_free(root);
    if (d->n > before) {
        jg_config_free(c);
        return JG_ERR_INVALID;
    }
    *out = c;
    return 0;
}

void
jg_config_free(struct jg_config *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n_listen; i++)
        free(c->listen[i]);
    free(c->listen);
    for (i = 0; i < c->n_host_keys; i++)
        free(c->host_keys[i]);
    free(c->host_keys);
    free(c->path);
    free(c->policy);
    free(c->upstream_identity);
    free(c->upstream_known_hosts);
    free(c->upstream_ca);
    free(c->upstream_cert_source);
    free(c->pam_service);
    free(c->audit_dir);
    free(c->audit_signing_key);
    free(c->s3_bucket);
    free(c->console_listen);
    free(c->console_tls_cert);
    free(c->console_tls_key);
    free(c->console_pam_service);
    free(c->s3_prefix);
    free(c->s3_region);
    free(c->metrics_listen);
    free(c->aws_region);
    free(c->cf_account_id);
    free(c->cf_api_token_file);
    free(c->cf_api_base);
    free(c->sync_metrics_listen);
    free(c->control_socket);
    free(c);
}
