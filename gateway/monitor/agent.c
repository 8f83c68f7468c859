/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/agent.c - the upstream keys never leave the monitor:
 * for each upstream connection the worker gets one end of a socketpair on
 * which the monitor answers as an SSH agent (draft-miller-ssh-agent). It
 * lists one key and signs exactly one SSH_MSG_USERAUTH_REQUEST for the
 * login of that connection's allowed grant; anything else gets
 * SSH_AGENT_FAILURE, and after the signature the socket is closed. The
 * key is the static upstream.identity, or, for targets that log in with
 * a certificate, a fresh Ed25519 key made for this one login with a
 * short-lived certificate from the user CA (upstream.ca), both dropped
 * once it is used. Signing is done with OpenSSL from the key libssh
 * loaded: ed25519 from its OpenSSH encoding, other types through PEM. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "audit/audit.h"
#include "gateway/monitor/internal.h"

#define AGENT_MSG_MAX 16384     /* a user-auth sign request is far smaller */
#define SSH_AGENT_FAILURE 5
#define SSH2_AGENTC_REQUEST_IDENTITIES 11
#define SSH2_AGENT_IDENTITIES_ANSWER 12
#define SSH2_AGENTC_SIGN_REQUEST 13
#define SSH2_AGENT_SIGN_RESPONSE 14
#define SSH_AGENT_RSA_SHA2_256 2
#define SSH_AGENT_RSA_SHA2_512 4
#define SSH_MSG_USERAUTH_REQUEST 50


/* ---- the key ----------------------------------------------------------- */

/* The ed25519 seed from an unencrypted "openssh-key-v1" text. */
static int
ed25519_from_openssh(const char *text, EVP_PKEY **out)
{
    static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
    static const char magic[] = "openssh-key-v1";
    const char *s = strstr(text, begin), *e;
    uint8_t *raw = NULL, *b64 = NULL;
    const uint8_t *priv;
    size_t nb = 0, plen, i;
    struct jg_gw_rd r;
    int len, r_ = JG_ERR_INVALID;

    if (s == NULL || (e = strstr(s, "-----END")) == NULL)
        return JG_ERR_INVALID;
    s += sizeof(begin) - 1;
    b64 = jg_xmalloc((size_t)(e - s) + 1);
    for (i = 0; s + i < e; i++)
        if (s[i] != '\n' && s[i] != '\r')
            b64[nb++] = (uint8_t)s[i];
    raw = jg_xmalloc(nb + 1);
    if ((len = jg_gw_unb64(b64, nb, raw)) < 0)
        goto out;
    r = (struct jg_gw_rd){raw, (size_t)len, false};
    if (r.n < sizeof(magic) || memcmp(r.p, magic, sizeof(magic)) != 0)
        goto out;
    r.p += sizeof(magic);
    r.n -= sizeof(magic);
    if (!jg_gw_rd_str_is(&r, "none", 4) || !jg_gw_rd_str_is(&r, "none", 4))
        goto out;
    (void)jg_gw_rd_str(&r, &plen);        /* kdf options */
    if (jg_gw_rd_u32(&r) != 1)
        goto out;
    (void)jg_gw_rd_str(&r, &plen);        /* public key */
    priv = jg_gw_rd_str(&r, &plen);
    if (r.bad)
        goto out;
    r = (struct jg_gw_rd){priv, plen, false};
    if (jg_gw_rd_u32(&r) != jg_gw_rd_u32(&r) || !jg_gw_rd_str_is(&r, "ssh-ed25519", 11))
        goto out;
    (void)jg_gw_rd_str(&r, &plen);        /* public half */
    priv = jg_gw_rd_str(&r, &plen);       /* seed || public */
    if (r.bad || plen != 64)
        goto out;
    *out = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
    r_ = *out != NULL ? 0 : JG_ERR_INVALID;
out:
    if (raw != NULL)
        OPENSSL_cleanse(raw, nb + 1);
    if (b64 != NULL)
        OPENSSL_cleanse(b64, (size_t)(e - s) + 1);
    free(raw);
    free(b64);
    return r_;
}

void
jg_gw_agent_key_free(struct jg_gw_agent_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->blob);
    free(k);
}

int
jg_gw_agent_key_load(const char *path, const char *what,
                     struct jg_gw_agent_key **out, char *err, size_t errn)
{
    struct jg_gw_agent_key *k = jg_xcalloc(1, sizeof(*k));
    bool ca = strcmp(what, "upstream.ca") == 0;
    ssh_key key = NULL;
    char *priv = NULL, *pub = NULL;
    int r = JG_ERR_INVALID, len;
    struct stat st;
    size_t pl;

    *out = NULL;
    if (stat(path, &st) != 0) {
        snprintf(err, errn, "%s %s: %s", what, path, strerror(errno));
        goto out;
    }
    /* As ssh refuses an identity others can read: a CA key is worth more. */
    if (ca && (st.st_mode & 077) != 0) {
        snprintf(err, errn, "%s %s: readable or writable by others than its "
                 "owner (mode %04o); chmod 600 it", what, path,
                 (unsigned)(st.st_mode & 07777));
        goto out;
    }
    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
        snprintf(err, errn, "%s %s: not a readable, unencrypted private key",
                 what, path);
        goto out;
    }
    k->type = ssh_key_type(key);
    if (ca && k->type != SSH_KEYTYPE_ED25519) {
        snprintf(err, errn, "%s %s: a %s key; the user CA must be ed25519 "
                 "(jumpgate ca keygen makes one)", what, path,
                 ssh_key_type_to_char(k->type));
        goto out;
    }
    if (ssh_pki_export_pubkey_base64(key, &pub) != SSH_OK) {
        snprintf(err, errn, "%s %s: no public half", what, path);
        goto out;
    }
    pl = strlen(pub);
    k->blob = jg_xmalloc(pl + 1);
    if ((len = jg_gw_unb64((const uint8_t *)pub, pl, k->blob)) < 0)
        goto out;
    k->blob_len = (size_t)len;
    if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) !=
        SSH_OK) {
        snprintf(err, errn, "%s %s: cannot use this key type (%s) in this "
                 "format; use ed25519, or convert it with ssh-keygen -p -m PEM",
                 what, path, ssh_key_type_to_char(k->type));
        goto out;
    }
    if (k->type == SSH_KEYTYPE_ED25519) {
        r = ed25519_from_openssh(priv, &k->pkey);
    } else if (k->type == SSH_KEYTYPE_RSA ||
               k->type == SSH_KEYTYPE_ECDSA_P256 ||
               k->type == SSH_KEYTYPE_ECDSA_P384 ||
               k->type == SSH_KEYTYPE_ECDSA_P521) {
        BIO *b = BIO_new_mem_buf(priv, -1);
        k->pkey = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        r = k->pkey != NULL ? 0 : JG_ERR_INVALID;
    }
    if (r != 0) {
        snprintf(err, errn, "%s %s: unsupported key (%s)", what, path,
                 ssh_key_type_to_char(k->type));
        goto out;
    }
    *out = k;
    k = NULL;
out:
    if (priv != NULL) {
        OPENSSL_cleanse(priv, strlen(priv));
        ssh_string_free_char(priv);
    }
    ssh_string_free_char(pub);
    ssh_key_free(key);
    jg_gw_agent_key_free(k);
    return r;
}

/* The algorithm the key signs user-auth requests with, given the agent
 * flags; NULL when we refuse (ssh-rsa with SHA-1). */
static const char *
sign_alg(const struct jg_gw_agent_key *k, uint32_t flags, const EVP_MD **md)
{
    switch (k->type) {
    case SSH_KEYTYPE_ED25519:
        *md = NULL;
        return "ssh-ed25519";
    case SSH_KEYTYPE_RSA:
        if (flags & SSH_AGENT_RSA_SHA2_512) {
            *md = EVP_sha512();
            return "rsa-sha2-512";
        }
        if (flags & SSH_AGENT_RSA_SHA2_256) {
            *md = EVP_sha256();
            return "rsa-sha2-256";
        }
        return NULL;
    case SSH_KEYTYPE_ECDSA_P256:
        *md = EVP_sha256();
        return "ecdsa-sha2-nistp256";
    case SSH_KEYTYPE_ECDSA_P384:
        *md = EVP_sha384();
        return "ecdsa-sha2-nistp384";
    case SSH_KEYTYPE_ECDSA_P521:
        *md = EVP_sha512();
        return "ecdsa-sha2-nistp521";
    default:
        return NULL;
    }
}

/* The SSH signature blob of data: string alg, string signature. */
static int
sign(const struct jg_gw_agent_key *k, const char *alg, const EVP_MD *md,
     const uint8_t *data, size_t n, struct jg_gw_wr *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t *sig = NULL;
    size_t slen = 0;
    int r = JG_ERR_INTERNAL;

    if (ctx == NULL ||
        EVP_DigestSignInit(ctx, NULL, md, NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, NULL, &slen, data, n) != 1)
        goto out;
    sig = jg_xmalloc(slen);
    if (EVP_DigestSign(ctx, sig, &slen, data, n) != 1)
        goto out;
    jg_gw_wr_str(out, alg, strlen(alg));
    if (k->type == SSH_KEYTYPE_ECDSA_P256 || k->type == SSH_KEYTYPE_ECDSA_P384 ||
        k->type == SSH_KEYTYPE_ECDSA_P521) {
        /* DER (r, s) to SSH's string(mpint r, mpint s) */
        const uint8_t *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
        uint8_t rb[80], sb[80];
        struct jg_gw_wr inner = {0};
        int rl, sl;
        if (es == NULL)
            goto out;
        rl = BN_bn2bin(ECDSA_SIG_get0_r(es), rb);
        sl = BN_bn2bin(ECDSA_SIG_get0_s(es), sb);
        ECDSA_SIG_free(es);
        if (rl < 0 || sl < 0)
            goto out;
        jg_gw_wr_mpint(&inner, rb, (size_t)rl);
        jg_gw_wr_mpint(&inner, sb, (size_t)sl);
        jg_gw_wr_str(out, inner.p, inner.n);
        free(inner.p);
    } else {
        jg_gw_wr_str(out, sig, slen);
    }
    r = 0;
out:
    free(sig);
    EVP_MD_CTX_free(ctx);
    return r;
}

/* ---- the agent conversation -------------------------------------------- */

/* OpenSSH's host-bound public key method: the request also names the
 * target's host key, so that the signature is good for that host only. */
static const char hostbound[] = "publickey-hostbound-v00@openssh.com";

/* Is data the user-auth request this connection may sign? alg is the
 * signature's algorithm; a certificate goes by its own name. A host-bound
 * request must name the host key the monitor accepted for this login. */
static bool
userauth_ok(const struct jg_gw_mon *m, const struct jg_gw_agent_key *k,
            const char *alg, const uint8_t *data, size_t n)
{
    if (k->cert)
        alg = JG_GW_ED25519_CERT;
    struct jg_gw_rd r = {data, n, false};
    size_t sid_len, len, mlen;
    const uint8_t *p, *method;
    bool bound;

    (void)jg_gw_rd_str(&r, &sid_len);
    if (r.bad || sid_len == 0 || sid_len > 64 ||
        jg_gw_rd_u8(&r) != SSH_MSG_USERAUTH_REQUEST ||
        !jg_gw_rd_str_is(&r, m->agent_login, strlen(m->agent_login)) ||
        !jg_gw_rd_str_is(&r, "ssh-connection", 14))
        return false;
    method = jg_gw_rd_str(&r, &mlen);
    bound = method != NULL && mlen == sizeof(hostbound) - 1 &&
            memcmp(method, hostbound, mlen) == 0;
    if (r.bad || (!bound && (mlen != 9 || memcmp(method, "publickey", 9))) ||
        jg_gw_rd_u8(&r) != 1 || !jg_gw_rd_str_is(&r, alg, strlen(alg)))
        return false;
    p = jg_gw_rd_str(&r, &len);
    if (r.bad || p == NULL || len != k->blob_len || memcmp(p, k->blob, len))
        return false;
    if (bound) {
        p = jg_gw_rd_str(&r, &len);
        if (r.bad || p == NULL || m->agent_hostkey == NULL ||
            len != m->agent_hostkey_len || memcmp(p, m->agent_hostkey, len))
            return false;
    }
    return !r.bad && r.n == 0;
}

/* Closes the agent socket; a login's own key and certificate go with it. */
static void
agent_close(struct jg_gw_mon *m)
{
    if (m->agent_fd >= 0)
        close(m->agent_fd);
    m->agent_fd = -1;
    m->agent_len = 0;
    if (m->agent_use == m->agent_cert)
        m->agent_use = NULL;
    jg_gw_agent_key_free(m->agent_cert);
    m->agent_cert = NULL;
    free(m->agent_hostkey);
    m->agent_hostkey = NULL;
    m->agent_hostkey_len = 0;
}

/* Answers one complete request in m->agent_buf; false ends the agent. */
static bool
agent_answer(struct jg_gw_mon *m, const uint8_t *msg, size_t n)
{
    struct jg_gw_agent_key *k = m->agent_use;
    struct jg_gw_wr body = {0}, out = {0};
    struct jg_gw_rd r = {msg, n, false};
    bool keep = true;
    uint8_t type = jg_gw_rd_u8(&r);

    if (k == NULL) {
        keep = false;
    } else if (type == SSH2_AGENTC_REQUEST_IDENTITIES && r.n == 0) {
        uint8_t t = SSH2_AGENT_IDENTITIES_ANSWER;
        jg_gw_wr_put(&body, &t, 1);
        jg_gw_wr_u32(&body, 1);
        jg_gw_wr_str(&body, k->blob, k->blob_len);
        jg_gw_wr_str(&body, "jumpgate", 8);
    } else if (type == SSH2_AGENTC_SIGN_REQUEST) {
        size_t blen, dlen;
        const uint8_t *blob = jg_gw_rd_str(&r, &blen), *data = jg_gw_rd_str(&r, &dlen);
        uint32_t flags = jg_gw_rd_u32(&r);
        const EVP_MD *md = NULL;
        const char *alg = sign_alg(k, flags, &md);
        struct jg_gw_wr sig = {0};
        if (!r.bad && r.n == 0 && alg != NULL && blen == k->blob_len &&
            memcmp(blob, k->blob, blen) == 0 &&
            userauth_ok(m, k, alg, data, dlen) &&
            sign(k, alg, md, data, dlen, &sig) == 0) {
            uint8_t t = SSH2_AGENT_SIGN_RESPONSE;
            jg_gw_wr_put(&body, &t, 1);
            jg_gw_wr_str(&body, sig.p, sig.n);
            keep = false;       /* one signature per upstream connection */
            if (k->cert)
                jg_info("signed the upstream login of %s as %s (certificate "
                        "serial %llu, key id %s)", m->user, m->agent_login,
                        (unsigned long long)m->agent_serial, m->agent_key_id);
            else
                jg_info("signed the upstream login of %s as %s", m->user,
                        m->agent_login);
        } else {
            jg_warn("monitor: refused an agent signature for the worker of "
                    "%s (not this connection's user-auth request)",
                    m->conn->peer);
        }
        free(sig.p);
    }
    if (body.n == 0) {
        uint8_t t = SSH_AGENT_FAILURE;
        jg_gw_wr_put(&body, &t, 1);
    }
    jg_gw_wr_str(&out, body.p, body.n);
    if (write(m->agent_fd, out.p, out.n) != (ssize_t)out.n)
        keep = false;
    free(body.p);
    free(out.p);
    return keep;
}

void
jg_gw_mon_agent_serve(struct jg_gw_mon *m)
{
    ssize_t got;
    uint32_t len;

    if (m->agent_fd < 0)
        return;
    got = read(m->agent_fd, m->agent_buf + m->agent_len,
               sizeof(m->agent_buf) - m->agent_len);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got <= 0) {
        agent_close(m);
        return;
    }
    m->agent_len += (size_t)got;
    while (m->agent_fd >= 0 && m->agent_len >= 4) {
        len = (uint32_t)m->agent_buf[0] << 24 | (uint32_t)m->agent_buf[1] << 16 |
              (uint32_t)m->agent_buf[2] << 8 | m->agent_buf[3];
        if (len == 0 || len > sizeof(m->agent_buf) - 4) {
            jg_warn("monitor: oversized agent request from the worker of %s",
                    m->conn->peer);
            agent_close(m);
            return;
        }
        if (m->agent_len < 4 + (size_t)len)
            return;
        if (!agent_answer(m, m->agent_buf + 4, len)) {
            agent_close(m);
            return;
        }
        memmove(m->agent_buf, m->agent_buf + 4 + len,
                m->agent_len - 4 - len);
        m->agent_len -= 4 + (size_t)len;
    }
}

bool
jg_gw_mon_uses_cert(const struct jg_gw_mon *m, const struct jg_gw_grant *g)
{
    const struct jg_target *t = jg_policy_target(m->d->pol, g->target);

    if (t != NULL && t->auth != JG_AUTH_DEFAULT)
        return t->auth == JG_AUTH_CERT;
    return m->d->cfg->upstream_ca != NULL;
}

void
jg_gw_mon_agent_plan(struct jg_gw_mon *m, struct jg_gw_grant *g,
                     const char *session, bool pty, json_t *extra)
{
    uint64_t serial = 0;

    g->cert_serial = 0;
    if (!jg_gw_mon_uses_cert(m, g))
        return;
    /* Random, 53 bits: unique in practice, and exact as a JSON number. */
    while (serial == 0) {
        if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
            serial = (uint64_t)jg_audit_now_us();
        serial &= (UINT64_C(1) << 53) - 1;
    }
    g->cert_serial = serial;
    snprintf(g->cert_key_id, sizeof(g->cert_key_id), "jumpgate:%s:%s", m->user,
             session);
    g->cert_pty = pty || g->action == JG_ACT_SHELL;
    if (extra == NULL)
        return;
    json_object_set_new(extra, "cert_serial", json_integer((json_int_t)serial));
    json_object_set_new(extra, "cert_key_id", json_string(g->cert_key_id));
}

/* This login's own key and certificate, signed by the user CA. */
static int
make_cert(struct jg_gw_mon *m, struct jg_gw_grant *g, char *err,
          size_t errn)
{
    const struct jg_config *cfg = m->d->cfg;
    struct jg_gw_agent_key *k = NULL;
    struct jg_gw_cert_spec spec;
    struct jg_gw_wr cert = {0};
    uint8_t pub[32];
    size_t plen = sizeof(pub);
    int64_t now = jg_audit_now_us() / 1000000;

    if (cfg->upstream_ca == NULL) {
        snprintf(err, errn, "target %s logs in with a certificate (auth: "
                 "cert) but the gateway has no upstream.ca", g->target);
        return JG_ERR_INVALID;
    }
    if (g->cert_serial == 0)    /* no session.start (not recorded) */
        jg_gw_mon_agent_plan(m, g, m->conn_id, false, NULL);
    if (m->agent_ca == NULL &&
        jg_gw_agent_key_load(cfg->upstream_ca, "upstream.ca", &m->agent_ca, err,
                             errn) != 0)
        return JG_ERR_INVALID;
    k = jg_xcalloc(1, sizeof(*k));
    k->type = SSH_KEYTYPE_ED25519;
    k->cert = true;
    spec = (struct jg_gw_cert_spec){
        .serial = g->cert_serial,
        .key_id = g->cert_key_id,
        .principal = g->login,
        .valid_after = (uint64_t)(now - 60),
        .valid_before = (uint64_t)(now + cfg->upstream_cert_validity),
        .source_address = cfg->upstream_cert_source,
        .permit_pty = g->cert_pty,
    };
    if ((k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
        EVP_PKEY_get_raw_public_key(k->pkey, pub, &plen) != 1 ||
        plen != sizeof(pub) ||
        jg_gw_cert_make(m->agent_ca->pkey, m->agent_ca->blob,
                        m->agent_ca->blob_len, pub, &spec, &cert) != 0) {
        jg_gw_agent_key_free(k);
        snprintf(err, errn, "cannot make the login certificate");
        return JG_ERR_INTERNAL;
    }
    k->blob = cert.p;
    k->blob_len = cert.n;
    jg_gw_agent_key_free(m->agent_cert);
    m->agent_cert = k;
    return 0;
}

int
jg_gw_mon_agent(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t;
    struct jg_gw_grant *g;
    struct jg_gw_msg *a;
    char err[512] = "";
    uint32_t id;
    int sv[2] = {-1, -1}, r;
    bool ok = false, cert;

    if (jg_gw_msg_get_u32(q, &id) != 0)
        return JG_ERR_INVALID;
    if ((t = jg_gw_mon_grant_target(m, id, &g)) == NULL)
        return JG_ERR_DENIED;   /* the worker asked for what it may not */
    agent_close(m);             /* one upstream login at a time */
    if ((cert = jg_gw_mon_uses_cert(m, g))) {
        if (make_cert(m, g, err, sizeof(err)) != 0) {
            jg_error("target %s for %s: %s", g->target, m->user, err);
            jg_gw_mon_target_error(m, t, g->action, "login_refused", err);
        }
    } else if (m->d->cfg->upstream_identity == NULL) {
        snprintf(err, sizeof(err), "target %s logs in with the gateway's key "
                 "(auth: key) but the gateway has no upstream.identity",
                 g->target);
        jg_error("%s", err);
        jg_gw_mon_target_error(m, t, g->action, "login_refused", err);
    } else if (m->agent_key == NULL &&
               jg_gw_agent_key_load(m->d->cfg->upstream_identity,
                                    "upstream.identity", &m->agent_key, err,
                                    sizeof(err)) != 0) {
        jg_error("%s", err);
        snprintf(err, sizeof(err), "the gateway's upstream key is not usable");
    }
    if (err[0] != '\0') {
        /* said above */
    } else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
               fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0) {
        jg_error("socketpair: %s", strerror(errno));
        snprintf(err, sizeof(err), "internal error");
    } else {
        m->agent_fd = sv[0];
        m->agent_use = cert ? m->agent_cert : m->agent_key;
        jg_strlcpy(m->agent_login, g->login, sizeof(m->agent_login));
        m->agent_serial = cert ? g->cert_serial : 0;
        /* the host key accepted for this grant, kept for this login only */
        if (m->up_hostkey != NULL && m->up_hostkey_grant == id) {
            m->agent_hostkey = m->up_hostkey;
            m->agent_hostkey_len = m->up_hostkey_len;
            m->up_hostkey = NULL;
            m->up_hostkey_len = 0;
        }
        jg_strlcpy(m->agent_key_id, cert ? g->cert_key_id : "",
                   sizeof(m->agent_key_id));
        ok = true;
    }
    if (!ok && sv[0] >= 0)
        close(sv[0]);
    if (!ok)
        agent_close(m);
    a = jg_xmalloc(sizeof(*a));
    jg_gw_msg_init(a, JG_GW_ANS | JG_GW_REQ_AGENT);
    jg_gw_msg_put_u8(a, ok);
    jg_gw_msg_put_str(a, err);
    jg_gw_msg_put_u64(a, ok && cert ? g->cert_serial : 0);
    r = jg_gw_msg_send(m->sock, a, ok ? sv[1] : -1) == 0 ? 0 : JG_ERR_IO;
    free(a);
    if (sv[1] >= 0)
        close(sv[1]);
    return r;
}

int
jg_gw_mon_login_failed(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t;
    struct jg_gw_grant *g;
    char *raw = NULL, why[512], reason[1400];
    uint32_t id;

    if (jg_gw_msg_get_u32(q, &id) != 0 || jg_gw_msg_get_strdup(q, &raw) != 0)
        return JG_ERR_INVALID;
    if (strlen(raw) > 200)
        raw[200] = '\0';       /* it is escaped below; a cut byte shows */
    jg_gw_escape(raw, why, sizeof(why));
    free(raw);
    if ((t = jg_gw_mon_grant_target(m, id, &g)) == NULL)
        return 0;               /* the grant lapsed meanwhile */
    if (g->cert_serial != 0 && jg_gw_mon_uses_cert(m, g))
        snprintf(reason, sizeof(reason), "target %s refused the gateway's "
                 "certificate login as %s (serial %llu, key id %s): %s",
                 t->name, g->login, (unsigned long long)g->cert_serial,
                 g->cert_key_id, why);
    else
        snprintf(reason, sizeof(reason), "target %s refused the gateway's "
                 "login as %s with upstream.identity: %s", t->name, g->login,
                 why);
    jg_gw_mon_target_error(m, t, g->action, "login_refused", reason);
    return 0;
}

int
jg_gw_agent_key_check(const char *path, const char *what, char *err,
                      size_t errn)
{
    int pfd[2], st = 0;
    ssize_t n;
    pid_t pid, w;

    /* In a child: the key's bytes must never sit in the daemon's heap,
     * from where every monitor and worker would inherit them. */
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(err, errn, "pipe: %s", strerror(errno));
        return JG_ERR_IO;
    }
    if ((pid = fork()) < 0) {
        snprintf(err, errn, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return JG_ERR_IO;
    }
    if (pid == 0) {
        struct jg_gw_agent_key *k = NULL;
        char msg[512] = "";
        unsigned int keep = (unsigned int)pfd[1];
        /* Only the pipe and stdio: a monitor's child must not keep the
         * connection's sockets open (its worker would not see the monitor
         * die) for as long as it runs. */
        close_range(3, keep - 1, 0);
        close_range(keep + 1, ~0U, 0);
        if (jg_gw_agent_key_load(path, what, &k, msg, sizeof(msg)) == 0)
            msg[0] = '\0';
        if (write(pfd[1], msg, strlen(msg)) < 0)
            _exit(2);
        _exit(k != NULL ? 0 : 1);
    }
    close(pfd[1]);
    n = read(pfd[0], err, errn - 1);
    close(pfd[0]);
    err[n > 0 ? n : 0] = '\0';
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (err[0] == '\0')
        snprintf(err, errn, "%s %s: cannot be checked", what, path);
    return JG_ERR_INVALID;
}

void
jg_gw_mon_agent_clear(struct jg_gw_mon *m)
{
    agent_close(m);
    free(m->up_hostkey);
    m->up_hostkey = NULL;
    jg_gw_agent_key_free(m->agent_key);
    jg_gw_agent_key_free(m->agent_ca);
    m->agent_key = m->agent_ca = m->agent_use = NULL;
}
