/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/agent.c - the upstream identity never leaves the
 * monitor: for each upstream connection the worker gets one end of a
 * socketpair on which the monitor answers as an SSH agent
 * (draft-miller-ssh-agent). It lists the one key and signs exactly one
 * SSH_MSG_USERAUTH_REQUEST for the login of that connection's allowed
 * grant; anything else gets SSH_AGENT_FAILURE, and after the signature
 * the socket is closed. Signing is done with OpenSSL from the key libssh
 * loaded: ed25519 from its OpenSSH encoding, other types through PEM. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

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

struct jg_gw_agent_key {
    EVP_PKEY *pkey;
    enum ssh_keytypes_e type;
    uint8_t *blob;              /* public key blob */
    size_t blob_len;
};

/* ---- wire helpers ------------------------------------------------------ */

struct rd {
    const uint8_t *p;
    size_t n;
    bool bad;
};

static uint32_t
rd_u32(struct rd *r)
{
    uint32_t v;

    if (r->bad || r->n < 4) {
        r->bad = true;
        return 0;
    }
    v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
        (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->n -= 4;
    return v;
}

static uint8_t
rd_u8(struct rd *r)
{
    uint8_t v;

    if (r->bad || r->n < 1) {
        r->bad = true;
        return 0;
    }
    v = r->p[0];
    r->p++;
    r->n--;
    return v;
}

/* A string: a borrowed view of its bytes. */
static const uint8_t *
rd_str(struct rd *r, size_t *len)
{
    uint32_t l = rd_u32(r);
    const uint8_t *p;

    if (r->bad || l > r->n) {
        r->bad = true;
        *len = 0;
        return NULL;
    }
    p = r->p;
    r->p += l;
    r->n -= l;
    *len = l;
    return p;
}

static bool
rd_str_is(struct rd *r, const void *want, size_t wlen)
{
    size_t len;
    const uint8_t *p = rd_str(r, &len);

    return p != NULL && len == wlen && memcmp(p, want, len) == 0;
}

struct wr {
    uint8_t *p;
    size_t n, cap;
};

static void
wr_put(struct wr *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->p = jg_xrealloc(w->p, w->cap, 1);
    }
    memcpy(w->p + w->n, p, n);
    w->n += n;
}

static void
wr_u32(struct wr *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};

    wr_put(w, b, 4);
}

static void
wr_str(struct wr *w, const void *p, size_t n)
{
    wr_u32(w, (uint32_t)n);
    wr_put(w, p, n);
}

/* An mpint from unsigned big-endian bytes. */
static void
wr_mpint(struct wr *w, const uint8_t *p, size_t n)
{
    while (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    if (n > 0 && (p[0] & 0x80) != 0) {
        wr_u32(w, (uint32_t)n + 1);
        wr_put(w, "", 1);
        wr_put(w, p, n);
    } else {
        wr_str(w, p, n);
    }
}

/* ---- the key ----------------------------------------------------------- */

/* Decodes n bytes of base64 (no line breaks) into out, which holds at
 * least n bytes; the length, or -1. EVP_DecodeBlock counts the bytes of
 * '=' padding as data; they are taken off here. */
static int
unb64(const uint8_t *in, size_t n, uint8_t *out)
{
    int len = EVP_DecodeBlock(out, in, (int)n);

    for (; len > 0 && n > 0 && in[n - 1] == '='; n--)
        len--;
    return len;
}

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
    struct rd r;
    int len, r_ = JG_ERR_INVALID;

    if (s == NULL || (e = strstr(s, "-----END")) == NULL)
        return JG_ERR_INVALID;
    s += sizeof(begin) - 1;
    b64 = jg_xmalloc((size_t)(e - s) + 1);
    for (i = 0; s + i < e; i++)
        if (s[i] != '\n' && s[i] != '\r')
            b64[nb++] = (uint8_t)s[i];
    raw = jg_xmalloc(nb + 1);
    if ((len = unb64(b64, nb, raw)) < 0)
        goto out;
    r = (struct rd){raw, (size_t)len, false};
    if (r.n < sizeof(magic) || memcmp(r.p, magic, sizeof(magic)) != 0)
        goto out;
    r.p += sizeof(magic);
    r.n -= sizeof(magic);
    if (!rd_str_is(&r, "none", 4) || !rd_str_is(&r, "none", 4))
        goto out;
    (void)rd_str(&r, &plen);        /* kdf options */
    if (rd_u32(&r) != 1)
        goto out;
    (void)rd_str(&r, &plen);        /* public key */
    priv = rd_str(&r, &plen);
    if (r.bad)
        goto out;
    r = (struct rd){priv, plen, false};
    if (rd_u32(&r) != rd_u32(&r) || !rd_str_is(&r, "ssh-ed25519", 11))
        goto out;
    (void)rd_str(&r, &plen);        /* public half */
    priv = rd_str(&r, &plen);       /* seed || public */
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
jg_gw_agent_key_load(const char *path, struct jg_gw_agent_key **out,
                     char *err, size_t errn)
{
    struct jg_gw_agent_key *k = jg_xcalloc(1, sizeof(*k));
    ssh_key key = NULL;
    char *priv = NULL, *pub = NULL;
    int r = JG_ERR_INVALID, len;
    size_t pl;

    *out = NULL;
    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
        snprintf(err, errn, "upstream.identity %s: not a readable, "
                 "unencrypted private key", path);
        goto out;
    }
    k->type = ssh_key_type(key);
    if (ssh_pki_export_pubkey_base64(key, &pub) != SSH_OK) {
        snprintf(err, errn, "upstream.identity %s: no public half", path);
        goto out;
    }
    pl = strlen(pub);
    k->blob = jg_xmalloc(pl + 1);
    if ((len = unb64((const uint8_t *)pub, pl, k->blob)) < 0)
        goto out;
    k->blob_len = (size_t)len;
    if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) !=
        SSH_OK) {
        snprintf(err, errn, "upstream.identity %s: cannot use this key type "
                 "(%s) in this format; use ed25519, or convert it with "
                 "ssh-keygen -p -m PEM", path, ssh_key_type_to_char(k->type));
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
        snprintf(err, errn, "upstream.identity %s: unsupported key (%s)",
                 path, ssh_key_type_to_char(k->type));
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
     const uint8_t *data, size_t n, struct wr *out)
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
    wr_str(out, alg, strlen(alg));
    if (k->type == SSH_KEYTYPE_ECDSA_P256 || k->type == SSH_KEYTYPE_ECDSA_P384 ||
        k->type == SSH_KEYTYPE_ECDSA_P521) {
        /* DER (r, s) to SSH's string(mpint r, mpint s) */
        const uint8_t *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
        uint8_t rb[80], sb[80];
        struct wr inner = {0};
        int rl, sl;
        if (es == NULL)
            goto out;
        rl = BN_bn2bin(ECDSA_SIG_get0_r(es), rb);
        sl = BN_bn2bin(ECDSA_SIG_get0_s(es), sb);
        ECDSA_SIG_free(es);
        if (rl < 0 || sl < 0)
            goto out;
        wr_mpint(&inner, rb, (size_t)rl);
        wr_mpint(&inner, sb, (size_t)sl);
        wr_str(out, inner.p, inner.n);
        free(inner.p);
    } else {
        wr_str(out, sig, slen);
    }
    r = 0;
out:
    free(sig);
    EVP_MD_CTX_free(ctx);
    return r;
}

/* ---- the agent conversation -------------------------------------------- */

/* Is data the user-auth request this connection may sign? */
static bool
userauth_ok(const struct jg_gw_mon *m, const struct jg_gw_agent_key *k,
            const char *alg, const uint8_t *data, size_t n)
{
    struct rd r = {data, n, false};
    size_t sid_len, len;
    const uint8_t *p;

    (void)rd_str(&r, &sid_len);
    if (r.bad || sid_len == 0 || sid_len > 64 ||
        rd_u8(&r) != SSH_MSG_USERAUTH_REQUEST ||
        !rd_str_is(&r, m->agent_login, strlen(m->agent_login)) ||
        !rd_str_is(&r, "ssh-connection", 14) ||
        !rd_str_is(&r, "publickey", 9) || rd_u8(&r) != 1 ||
        !rd_str_is(&r, alg, strlen(alg)))
        return false;
    p = rd_str(&r, &len);
    return !r.bad && r.n == 0 && p != NULL && len == k->blob_len &&
           memcmp(p, k->blob, len) == 0;
}

static void
agent_close(struct jg_gw_mon *m)
{
    if (m->agent_fd >= 0)
        close(m->agent_fd);
    m->agent_fd = -1;
    m->agent_len = 0;
}

/* Answers one complete request in m->agent_buf; false ends the agent. */
static bool
agent_answer(struct jg_gw_mon *m, const uint8_t *msg, size_t n)
{
    struct jg_gw_agent_key *k = m->agent_key;
    struct wr body = {0}, out = {0};
    struct rd r = {msg, n, false};
    bool keep = true;
    uint8_t type = rd_u8(&r);

    if (type == SSH2_AGENTC_REQUEST_IDENTITIES && r.n == 0) {
        uint8_t t = SSH2_AGENT_IDENTITIES_ANSWER;
        wr_put(&body, &t, 1);
        wr_u32(&body, 1);
        wr_str(&body, k->blob, k->blob_len);
        wr_str(&body, "jumpgate", 8);
    } else if (type == SSH2_AGENTC_SIGN_REQUEST) {
        size_t blen, dlen;
        const uint8_t *blob = rd_str(&r, &blen), *data = rd_str(&r, &dlen);
        uint32_t flags = rd_u32(&r);
        const EVP_MD *md = NULL;
        const char *alg = sign_alg(k, flags, &md);
        struct wr sig = {0};
        if (!r.bad && r.n == 0 && alg != NULL && blen == k->blob_len &&
            memcmp(blob, k->blob, blen) == 0 &&
            userauth_ok(m, k, alg, data, dlen) &&
            sign(k, alg, md, data, dlen, &sig) == 0) {
            uint8_t t = SSH2_AGENT_SIGN_RESPONSE;
            wr_put(&body, &t, 1);
            wr_str(&body, sig.p, sig.n);
            keep = false;       /* one signature per upstream connection */
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
        wr_put(&body, &t, 1);
    }
    wr_str(&out, body.p, body.n);
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

int
jg_gw_mon_agent(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_gw_grant *g;
    struct jg_gw_msg *a;
    char err[256] = "";
    uint32_t id;
    int sv[2] = {-1, -1}, r;
    bool ok = false;

    if (jg_gw_msg_get_u32(q, &id) != 0)
        return JG_ERR_INVALID;
    if (jg_gw_mon_grant_target(m, id, &g) == NULL)
        return JG_ERR_DENIED;   /* the worker asked for what it may not */
    if (m->agent_key == NULL &&
        jg_gw_agent_key_load(m->d->cfg->upstream_identity, &m->agent_key, err,
                             sizeof(err)) != 0) {
        jg_error("%s", err);
        snprintf(err, sizeof(err), "the gateway's upstream key is not usable");
    } else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
               fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0) {
        jg_error("socketpair: %s", strerror(errno));
        snprintf(err, sizeof(err), "internal error");
    } else {
        agent_close(m);     /* one upstream login at a time */
        m->agent_fd = sv[0];
        jg_strlcpy(m->agent_login, g->login, sizeof(m->agent_login));
        ok = true;
    }
    a = jg_xmalloc(sizeof(*a));
    jg_gw_msg_init(a, JG_GW_ANS | JG_GW_REQ_AGENT);
    jg_gw_msg_put_u8(a, ok);
    jg_gw_msg_put_str(a, err);
    r = jg_gw_msg_send(m->sock, a, ok ? sv[1] : -1) == 0 ? 0 : JG_ERR_IO;
    free(a);
    if (sv[1] >= 0)
        close(sv[1]);
    return r;
}

int
jg_gw_agent_key_check(const char *path, char *err, size_t errn)
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
        if (jg_gw_agent_key_load(path, &k, msg, sizeof(msg)) == 0)
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
        snprintf(err, errn, "upstream.identity %s: cannot be checked", path);
    return JG_ERR_INVALID;
}

void
jg_gw_mon_agent_clear(struct jg_gw_mon *m)
{
    agent_close(m);
    jg_gw_agent_key_free(m->agent_key);
    m->agent_key = NULL;
}
