/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/daemon/daemon.c - loads and reloads what the daemon runs on: the
 * configuration, the policy, the host keys and the unprivileged user. */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "gateway/daemon/daemon.h"

/* Algorithms offered to clients: post-quantum hybrid key exchange first
 * (ML-KEM, then Streamlined NTRU Prime, both with X25519, so that a
 * recording of the traffic cannot be decrypted later by a quantum
 * computer), curve25519 for older clients; AEAD or CTR ciphers,
 * encrypt-then-MAC. */
static const char kex_algos[] =
    "mlkem768x25519-sha256,"
    "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,"
    "curve25519-sha256,curve25519-sha256@libssh.org";
static const char ciphers[] =
    "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
    "aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr";
/* Encrypt-then-MAC only (the AEAD ciphers need no MAC at all). */
static const char macs[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com";
static const char hostkey_algos[] =
    "ssh-ed25519,ecdsa-sha2-nistp521,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256";

/* A MySQL target's password file and CA bundle, checked as the monitor
 * will read them: said now, not at the first sign-in. */
static int
check_db(const struct jg_config *cfg, const struct jg_target *t,
         struct jg_diags *diags)
{
    struct stat st;
    int r = 0;

    if (t->db_password_file != NULL) {
        if (stat(t->db_password_file, &st) != 0) {
            jg_diags_add(diags, cfg->policy, 0, 0, "target %s: password_file "
                         "%s: %s", t->name, t->db_password_file,
                         strerror(errno));
            r = JG_ERR_INVALID;
        } else if (st.st_uid != 0 || (st.st_mode & 077) != 0) {
            jg_diags_add(diags, cfg->policy, 0, 0, "target %s: password_file "
                         "%s must belong to root and be readable by root only "
                         "(chown root %s; chmod 600 %s)", t->name,
                         t->db_password_file, t->db_password_file,
                         t->db_password_file);
            r = JG_ERR_INVALID;
        }
    }
    if (t->db_tls_ca != NULL) {
        BIO *b = BIO_new_file(t->db_tls_ca, "r");
        X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

        if (x == NULL) {
            jg_diags_add(diags, cfg->policy, 0, 0, "target %s: tls.ca %s %s",
                         t->name, t->db_tls_ca,
                         b == NULL ? "cannot be read"
                                   : "holds no PEM certificate");
            r = JG_ERR_INVALID;
        }
        X509_free(x);
        BIO_free(b);
        ERR_clear_error();
    }
    return r;
}

/* Each SSH target must have what its login takes: auth: cert a user CA,
 * auth: key (or no CA) an identity; each MySQL target with auth its files.
 * Said now, not at the first login. */
static int
check_auth(const struct jg_config *cfg, const struct jg_policy *pol,
           struct jg_diags *diags)
{
    size_t i, n = jg_policy_n_targets(pol);
    int r = 0;

    for (i = 0; i < n; i++) {
        const struct jg_target *t = jg_policy_target_at(pol, i);
        bool cert = t->auth == JG_AUTH_CERT ||
                    (t->auth == JG_AUTH_DEFAULT && cfg->upstream_ca != NULL);

        if (t->kind != JG_TARGET_SSH) {
            if (check_db(cfg, t, diags) != 0)
                r = JG_ERR_INVALID;
            continue;
        }
        if (cert && cfg->upstream_ca == NULL) {
            jg_diags_add(diags, cfg->policy, 0, 0, "target %s logs in with a "
                         "certificate (auth: cert) but %s sets no upstream.ca",
                         t->name, cfg->path);
            r = JG_ERR_INVALID;
        } else if (!cert && cfg->upstream_identity == NULL) {
            jg_diags_add(diags, cfg->policy, 0, 0, "target %s logs in with the "
                         "gateway's key (auth: key) but %s sets no "
                         "upstream.identity", t->name, cfg->path);
            r = JG_ERR_INVALID;
        }
    }
    return r;
}

static int
load_policy(const struct jg_config *cfg, struct jg_policy **out,
            struct jg_diags *diags)
{
    int r;

    if (cfg->policy == NULL) {
        jg_diags_add(diags, cfg->path, 0, 0, "no 'policy' file is configured");
        return JG_ERR_INVALID;
    }
    if ((r = jg_policy_load(cfg->policy, out, diags)) != 0)
        return r;
    if ((r = check_auth(cfg, *out, diags)) != 0) {
        jg_policy_free(*out);
        *out = NULL;
    }
    return r;
}

static int
load_bind(const struct jg_config *cfg, ssh_bind *out, struct jg_diags *diags)
{
    ssh_bind b = NULL;
    ssh_key key = NULL;
    size_t i;
    int r = JG_ERR_INVALID;

    *out = NULL;
    if ((b = ssh_bind_new()) == NULL)
        return JG_ERR_NOMEM;
    for (i = 0; i < cfg->n_host_keys; i++) {
        if (ssh_pki_import_privkey_file(cfg->host_keys[i], NULL, NULL, NULL,
                                        &key) != SSH_OK) {
            jg_diags_add(diags, cfg->path, 0, 0,
                         "host key '%s' cannot be read", cfg->host_keys[i]);
            goto out;
        }
        /* The bind takes the key. */
        if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
            jg_diags_add(diags, cfg->path, 0, 0,
                         "host key '%s': unsupported type", cfg->host_keys[i]);
            ssh_key_free(key);
            goto out;
        }
        key = NULL;
    }
    if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE, kex_algos) < 0 ||
        ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, ciphers) < 0 ||
        ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, ciphers) < 0 ||
        ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S, macs) < 0 ||
        ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C, macs) < 0 ||
        ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS,
                             hostkey_algos) < 0 ||
        ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG,
                             &(bool){false}) < 0 ||
        ssh_bind_options_set(b, SSH_BIND_OPTIONS_BANNER,
                             "jumpgate_" JG_VERSION) < 0) {
        jg_diags_add(diags, cfg->path, 0, 0, "cannot set SSH algorithms: %s",
                     ssh_get_error(b));
        goto out;
    }
    *out = b;
    b = NULL;
    r = 0;
out:
    if (b != NULL)
        ssh_bind_free(b);
    return r;
}

int
jg_gw_daemon_load(const char *path, struct jg_gw_daemon *d,
                  jg_gw_check_fn check, struct jg_diags *diags)
{
    struct jg_config *cfg = NULL;
    struct jg_policy *pol = NULL;
    struct passwd *pw;
    ssh_bind b = NULL;
    int r;

    if ((r = jg_config_load(path, &cfg, diags)) != 0) {
        if (r == JG_ERR_IO)
            jg_diags_add(diags, path, 0, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (check != NULL && (r = check(cfg, diags)) != 0)
        goto out;
    if ((r = load_policy(cfg, &pol, diags)) != 0)
        goto out;
    if ((r = load_bind(cfg, &b, diags)) != 0)
        goto out;
    if ((pw = getpwnam(JG_GW_UNPRIV_USER)) == NULL || pw->pw_uid == 0) {
        jg_diags_add(diags, path, 0, 0,
                     "the system user '%s' is missing (run 'make deps')",
                     JG_GW_UNPRIV_USER);
        r = JG_ERR_NOTFOUND;
        goto out;
    }
    d->uid = pw->pw_uid;
    d->gid = pw->pw_gid;
    d->cfg = cfg;
    d->pol = pol;
    d->bind = b;
    cfg = NULL;
    pol = NULL;
    b = NULL;
    r = 0;
out:
    jg_config_free(cfg);
    jg_policy_free(pol);
    if (b != NULL)
        ssh_bind_free(b);
    return r;
}

int
jg_gw_daemon_reload(struct jg_gw_daemon *d, jg_gw_check_fn check,
                    struct jg_diags *diags)
{
    struct jg_config *cfg = NULL;
    struct jg_policy *pol = NULL;
    int r;

    if ((r = jg_config_load(d->cfg->path, &cfg, diags)) != 0) {
        if (r == JG_ERR_IO)
            jg_diags_add(diags, d->cfg->path, 0, 0, "cannot read: %s",
                         strerror(errno));
        goto out;
    }
    if (check != NULL && (r = check(cfg, diags)) != 0)
        goto out;
    if ((r = load_policy(cfg, &pol, diags)) != 0)
        goto out;
    jg_config_free(d->cfg);
    jg_policy_free(d->pol);
    d->cfg = cfg;
    d->pol = pol;
    cfg = NULL;
    pol = NULL;
    r = 0;
out:
    jg_config_free(cfg);
    jg_policy_free(pol);
    return r;
}

void
jg_gw_daemon_clear(struct jg_gw_daemon *d)
{
    jg_config_free(d->cfg);
    jg_policy_free(d->pol);
    if (d->bind != NULL)
        ssh_bind_free(d->bind);
    d->cfg = NULL;
    d->pol = NULL;
    d->bind = NULL;
}
