/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/cert.c - OpenSSH certificates (PROTOCOL.certkeys in
 * OpenSSH's source): makes the Ed25519 user certificate of one upstream
 * login, signed by the Ed25519 user CA, and reads a target's host
 * certificate, checking the CA's signature over it (Ed25519, ECDSA, or
 * RSA with SHA-2). A certificate from a target is untrusted input: every
 * length is checked against what is left, nothing may follow the
 * signature, and nothing is returned from a certificate whose signature
 * does not verify. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "gateway/monitor/internal.h"

#define SUFFIX_LEN (sizeof(JG_GW_CERT_SUFFIX) - 1)

/* ---- making a user certificate ---------------------------------------- */

/* An option or extension list: (string name, string data) pairs in the
 * order given, which must be sorted (OpenSSH writes and expects them so). */
static void
put_opt(struct jg_gw_wr *w, const char *name, const char *value)
{
    struct jg_gw_wr data = {0};

    jg_gw_wr_cstr(w, name);
    if (value != NULL)
        jg_gw_wr_cstr(&data, value);
    jg_gw_wr_str(w, data.p, data.n);
    free(data.p);
}

int
jg_gw_cert_make(EVP_PKEY *ca, const uint8_t *ca_blob, size_t ca_len,
                const uint8_t pub[32], const struct jg_gw_cert_spec *s,
                struct jg_gw_wr *out)
{
    struct jg_gw_wr w = {0}, list = {0}, sig = {0};
    uint8_t nonce[32], *raw = NULL;
    size_t rawlen = 0;
    EVP_MD_CTX *ctx = NULL;
    int r = JG_ERR_INTERNAL;

    if (EVP_PKEY_get_base_id(ca) != EVP_PKEY_ED25519 ||
        RAND_bytes(nonce, sizeof(nonce)) != 1)
        return JG_ERR_INVALID;
    jg_gw_wr_cstr(&w, JG_GW_ED25519_CERT);
    jg_gw_wr_str(&w, nonce, sizeof(nonce));
    jg_gw_wr_str(&w, pub, 32);
    jg_gw_wr_u64(&w, s->serial);
    jg_gw_wr_u32(&w, JG_GW_CERT_USER);
    jg_gw_wr_cstr(&w, s->key_id);
    jg_gw_wr_cstr(&list, s->principal);
    jg_gw_wr_str(&w, list.p, list.n);
    jg_gw_wr_u64(&w, s->valid_after);
    jg_gw_wr_u64(&w, s->valid_before);
    list.n = 0;
    if (s->source_address != NULL)
        put_opt(&list, "source-address", s->source_address);
    jg_gw_wr_str(&w, list.p, list.n);          /* critical options */
    list.n = 0;
    if (s->permit_pty)
        put_opt(&list, "permit-pty", NULL);
    jg_gw_wr_str(&w, list.p, list.n);          /* extensions */
    jg_gw_wr_str(&w, "", 0);                   /* reserved */
    jg_gw_wr_str(&w, ca_blob, ca_len);
    /* The CA signs everything above, signature key included. */
    if ((ctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestSignInit(ctx, NULL, NULL, NULL, ca) != 1 ||
        EVP_DigestSign(ctx, NULL, &rawlen, w.p, w.n) != 1)
        goto out;
    raw = jg_xmalloc(rawlen);
    if (EVP_DigestSign(ctx, raw, &rawlen, w.p, w.n) != 1)
        goto out;
    jg_gw_wr_cstr(&sig, "ssh-ed25519");
    jg_gw_wr_str(&sig, raw, rawlen);
    jg_gw_wr_str(&w, sig.p, sig.n);
    *out = w;
    w.p = NULL;
    r = 0;
out:
    EVP_MD_CTX_free(ctx);
    free(raw);
    free(sig.p);
    free(list.p);
    free(w.p);
    return r;
}

/* ---- checking a signature with a public key blob ---------------------- */

static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM_BLD *b)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *k = NULL;

    if (params == NULL || pc == NULL || EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
        k = NULL;
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    return k;
}

/* The OpenSSL key and digest for a signature made with algorithm alg by
 * the key in blob; NULL when the pair is not one we accept. */
static EVP_PKEY *
key_for(const uint8_t *blob, size_t len, const char *alg, const EVP_MD **md)
{
    struct jg_gw_rd r = {blob, len, false};
    size_t tl, al, bl;
    const uint8_t *t = jg_gw_rd_str(&r, &tl), *a, *b;
    OSSL_PARAM_BLD *pb = NULL;
    EVP_PKEY *k = NULL;
    BIGNUM *n = NULL, *e = NULL;

    if (t == NULL)
        return NULL;
    if (tl == 11 && memcmp(t, "ssh-ed25519", 11) == 0) {
        a = jg_gw_rd_str(&r, &al);
        *md = NULL;
        if (r.bad || r.n != 0 || al != 32 || strcmp(alg, "ssh-ed25519") != 0)
            return NULL;
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, 32);
    }
    if (tl == 19 && memcmp(t, "ecdsa-sha2-nistp", 16) == 0) {
        static const struct {
            const char *name, *group;
        } curves[] = {{"nistp256", "P-256"}, {"nistp384", "P-384"},
                      {"nistp521", "P-521"}};
        size_t i;
        a = jg_gw_rd_str(&r, &al);     /* curve */
        b = jg_gw_rd_str(&r, &bl);     /* point */
        if (r.bad || r.n != 0 || al != 8 || memcmp(a, t + 11, 8) != 0 ||
            strlen(alg) != tl || memcmp(alg, t, tl) != 0)
            return NULL;
        for (i = 0; i < 3 && memcmp(curves[i].name, a, 8) != 0; i++)
            ;
        if (i == 3)
            return NULL;
        *md = i == 0 ? EVP_sha256() : i == 1 ? EVP_sha384() : EVP_sha512();
        if ((pb = OSSL_PARAM_BLD_new()) != NULL &&
            OSSL_PARAM_BLD_push_utf8_string(pb, OSSL_PKEY_PARAM_GROUP_NAME,
                                            curves[i].group, 0) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(pb, OSSL_PKEY_PARAM_PUB_KEY, b,
                                             bl) == 1)
            k = pkey_fromdata("EC", pb);
        OSSL_PARAM_BLD_free(pb);
        return k;
    }
    if (tl == 7 && memcmp(t, "ssh-rsa", 7) == 0) {
        a = jg_gw_rd_str(&r, &al);     /* e */
        b = jg_gw_rd_str(&r, &bl);     /* n */
        if (r.bad || r.n != 0 || bl > 2049 || bl < 128)
            return NULL;
        if (strcmp(alg, "rsa-sha2-256") == 0)
            *md = EVP_sha256();
        else if (strcmp(alg, "rsa-sha2-512") == 0)
            *md = EVP_sha512();
        else
            return NULL;        /* ssh-rsa signs with SHA-1 */
        e = BN_bin2bn(a, (int)al, NULL);
        n = BN_bin2bn(b, (int)bl, NULL);
        if (e != NULL && n != NULL && (pb = OSSL_PARAM_BLD_new()) != NULL &&
            OSSL_PARAM_BLD_push_BN(pb, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
            OSSL_PARAM_BLD_push_BN(pb, OSSL_PKEY_PARAM_RSA_E, e) == 1)
            k = pkey_fromdata("RSA", pb);
        OSSL_PARAM_BLD_free(pb);
        BN_free(e);
        BN_free(n);
        return k;
    }
    return NULL;
}

/* SSH's ECDSA signature, string(mpint r, mpint s), as DER. */
static uint8_t *
ecdsa_der(const uint8_t *p, size_t n, size_t *out_len)
{
    struct jg_gw_rd r = {p, n, false};
    size_t rl, sl;
    const uint8_t *rb = jg_gw_rd_str(&r, &rl), *sb = jg_gw_rd_str(&r, &sl);
    ECDSA_SIG *es;
    BIGNUM *br, *bs;
    uint8_t *der = NULL;
    int len;

    if (r.bad || r.n != 0 || rl > 67 || sl > 67)
        return NULL;
    br = BN_bin2bn(rb, (int)rl, NULL);
    bs = BN_bin2bn(sb, (int)sl, NULL);
    if ((es = ECDSA_SIG_new()) == NULL || br == NULL || bs == NULL ||
        ECDSA_SIG_set0(es, br, bs) != 1) {
        BN_free(br);
        BN_free(bs);
        ECDSA_SIG_free(es);
        return NULL;
    }
    len = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (len <= 0)
        return NULL;
    *out_len = (size_t)len;
    return der;
}

bool
jg_gw_sig_verify(const uint8_t *key, size_t key_len, const uint8_t *sig,
                 size_t sig_len, const uint8_t *data, size_t n)
{
    struct jg_gw_rd r = {sig, sig_len, false};
    size_t al, sl, dl = 0;
    const uint8_t *a = jg_gw_rd_str(&r, &al), *s = jg_gw_rd_str(&r, &sl);
    const EVP_MD *md = NULL;
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY *k = NULL;
    uint8_t *der = NULL;
    char alg[32];
    bool ok = false;

    if (r.bad || r.n != 0 || al == 0 || al >= sizeof(alg) ||
        memchr(a, '\0', al) != NULL)
        return false;
    memcpy(alg, a, al);
    alg[al] = '\0';
    if ((k = key_for(key, key_len, alg, &md)) == NULL)
        return false;
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC) {
        if ((der = ecdsa_der(s, sl, &dl)) == NULL)
            goto out;
        s = der;
        sl = dl;
    }
    ok = (ctx = EVP_MD_CTX_new()) != NULL &&
         EVP_DigestVerifyInit(ctx, NULL, md, NULL, k) == 1 &&
         EVP_DigestVerify(ctx, s, sl, data, n) == 1;
out:
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok;
}

/* ---- reading a certificate -------------------------------------------- */

/* The public key fields that follow the nonce, by plain key type. */
static int
key_fields(const char *plain)
{
    if (strcmp(plain, "ssh-ed25519") == 0)
        return 1;
    if (strcmp(plain, "ssh-rsa") == 0 ||
        strcmp(plain, "ecdsa-sha2-nistp256") == 0 ||
        strcmp(plain, "ecdsa-sha2-nistp384") == 0 ||
        strcmp(plain, "ecdsa-sha2-nistp521") == 0)
        return 2;
    return 0;
}

/* A string field copied into buf as text; false if it does not fit or
 * holds a NUL. */
static bool
rd_text(struct jg_gw_rd *r, char *buf, size_t n)
{
    size_t len;
    const uint8_t *p = jg_gw_rd_str(r, &len);

    if (p == NULL || len >= n || memchr(p, '\0', len) != NULL)
        return false;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return true;
}

/* A string field of any length and bytes, kept in buf in a form safe to
 * log and show (escaped by jg_gw_escape(), cut to fit; a NUL ends it,
 * shown as "\x00..."); false only when the field is not there. */
static bool
rd_shown(struct jg_gw_rd *r, char *buf, size_t n)
{
    size_t len, cut, used;
    const uint8_t *p = jg_gw_rd_str(r, &len);
    const uint8_t *nul;
    char raw[256];

    if (p == NULL)
        return false;
    nul = memchr(p, '\0', len);
    cut = nul != NULL ? (size_t)(nul - p) : len;
    cut = cut < sizeof(raw) - 1 ? cut : sizeof(raw) - 1;
    memcpy(raw, p, cut);
    raw[cut] = '\0';
    jg_gw_escape(raw, buf, n);
    if (nul != NULL && (used = strlen(buf)) + 8 < n)
        memcpy(buf + used, "\\x00...", 8);
    return true;
}

int
jg_gw_cert_parse(const uint8_t *blob, size_t len, struct jg_gw_cert *c,
                 char *why, size_t whyn)
{
    struct jg_gw_rd r = {blob, len, false}, o;
    char type[64];
    const uint8_t *sig, *signed_end;
    size_t tl, fl, sl, i, nf;

    memset(c, 0, sizeof(*c));
    if (!rd_text(&r, type, sizeof(type)) ||
        (tl = strlen(type)) <= SUFFIX_LEN ||
        strcmp(type + tl - SUFFIX_LEN, JG_GW_CERT_SUFFIX) != 0) {
        snprintf(why, whyn, "not an OpenSSH certificate");
        return JG_ERR_INVALID;
    }
    type[tl - SUFFIX_LEN] = '\0';
    if ((nf = (size_t)key_fields(type)) == 0) {
        char shown[200];

        jg_gw_escape(type, shown, sizeof(shown));
        snprintf(why, whyn, "certificates of %s keys are not supported", shown);
        return JG_ERR_INVALID;
    }
    jg_strlcpy(c->key_type, type, sizeof(c->key_type));
    (void)jg_gw_rd_str(&r, &fl);                 /* nonce */
    jg_gw_wr_cstr(&c->plain, type);
    for (i = 0; i < nf; i++) {
        const uint8_t *f = jg_gw_rd_str(&r, &fl);
        if (f != NULL)
            jg_gw_wr_str(&c->plain, f, fl);
    }
    c->serial = jg_gw_rd_u64(&r);
    c->type = jg_gw_rd_u32(&r);
    if (!rd_shown(&r, c->key_id, sizeof(c->key_id)))
        r.bad = true;
    c->principals = jg_gw_rd_str(&r, &c->principals_len);
    c->valid_after = jg_gw_rd_u64(&r);
    c->valid_before = jg_gw_rd_u64(&r);
    (void)jg_gw_rd_str(&r, &fl);
    c->n_critical = fl;
    (void)jg_gw_rd_str(&r, &fl);                 /* extensions */
    (void)jg_gw_rd_str(&r, &fl);                 /* reserved */
    c->ca = jg_gw_rd_str(&r, &c->ca_len);
    signed_end = r.p;
    sig = jg_gw_rd_str(&r, &sl);
    if (r.bad || r.n != 0 || c->ca == NULL || sig == NULL) {
        snprintf(why, whyn, "a malformed certificate");
        goto bad;
    }
    /* The principals must be a list of strings with nothing left over. */
    o = (struct jg_gw_rd){c->principals, c->principals_len, false};
    while (o.n > 0 && !o.bad)
        (void)jg_gw_rd_str(&o, &fl);
    if (o.bad) {
        snprintf(why, whyn, "a malformed certificate (principals)");
        goto bad;
    }
    if (!jg_gw_sig_verify(c->ca, c->ca_len, sig, sl, blob,
                          (size_t)(signed_end - blob))) {
        snprintf(why, whyn, "the certificate's signature does not verify "
                 "(or its CA's key type is not supported)");
        goto bad;
    }
    return 0;
bad:
    jg_gw_cert_clear(c);
    return JG_ERR_INVALID;
}

bool
jg_gw_cert_names(const struct jg_gw_cert *c, const char *name)
{
    struct jg_gw_rd r = {c->principals, c->principals_len, false};
    size_t nl = strlen(name), len;
    const uint8_t *p;

    while (r.n > 0) {
        p = jg_gw_rd_str(&r, &len);
        if (p == NULL)
            return false;
        if (len == nl && memcmp(p, name, nl) == 0)
            return true;
    }
    return false;
}

void
jg_gw_cert_clear(struct jg_gw_cert *c)
{
    free(c->plain.p);
    memset(c, 0, sizeof(*c));
}
