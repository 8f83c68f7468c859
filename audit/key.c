/* SPDX-License-Identifier: Apache-2.0 */
/* audit/key.c - the Ed25519 seal key: making the pair, loading
 * either half, and signing and checking seal lines (OpenSSL EVP). */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "audit/internal.h"

struct jg_audit_key {
    EVP_PKEY *pkey;
    bool priv;
    char id[33];
};

void
jg_audit_key_free(struct jg_audit_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const char *
jg_audit_key_id(const struct jg_audit_key *k)
{
    return k->id;
}

bool
jg_audit_key_is_private(const struct jg_audit_key *k)
{
    return k->priv;
}

char *
jg_audit_key_pub_path(const char *priv_path)
{
    return jg_xasprintf("%s.pub", priv_path);
}

/* Takes ownership of pkey. */
static int
key_wrap(EVP_PKEY *pkey, bool priv, struct jg_audit_key **out)
{
    uint8_t raw[32], md[32];
    size_t rawlen = sizeof(raw);
    unsigned int mdlen = 0;
    struct jg_audit_key *k;

    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 || rawlen != 32 ||
        EVP_Digest(raw, rawlen, md, &mdlen, EVP_sha256(), NULL) != 1) {
        EVP_PKEY_free(pkey);
        return JG_ERR_INVALID;
    }
    if ((k = calloc(1, sizeof(*k))) == NULL) {
        EVP_PKEY_free(pkey);
        return JG_ERR_NOMEM;
    }
    k->pkey = pkey;
    k->priv = priv;
    jg_audit_hex(md, 16, k->id);
    *out = k;
    return 0;
}

int
jg_audit_key_parse(const char *pem, size_t len, bool want_private,
                   struct jg_audit_key **out)
{
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    bool priv = want_private;
    int r = JG_ERR_INVALID;

    *out = NULL;
    if (len > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        goto out;
    if (want_private) {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    } else {
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        if (pkey == NULL) {
            /* A private key file holds the public half too. */
            BIO_free(bio);
            if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
                goto out;
            pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        }
    }
    ERR_clear_error();
    if (pkey == NULL)
        goto out;
    r = key_wrap(pkey, priv, out);
    pkey = NULL;
out:
    BIO_free(bio);
    return r;
}

static int
key_load(const char *path, bool want_private, struct jg_audit_key **out)
{
    char *data = NULL;
    size_t len = 0;
    int r, err;

    *out = NULL;
    r = jg_read_file(path, 64 * 1024, &data, &len);
    if (r != 0) {
        err = errno;
        r = err == ENOENT ? JG_ERR_NOTFOUND : r;
        errno = err;
        return r;
    }
    r = jg_audit_key_parse(data, len, want_private, out);
    if (data != NULL) {
        explicit_bzero(data, len);
        free(data);
    }
    return r;
}

int
jg_audit_key_load_private(const char *path, struct jg_audit_key **out)
{
    return key_load(path, true, out);
}

int
jg_audit_key_load_public(const char *path, struct jg_audit_key **out)
{
    return key_load(path, false, out);
}

int
jg_audit_write_file(const char *path, const char *data, size_t len, mode_t mode,
           bool force)
{
    char *tmp = jg_xasprintf("%s.tmp", path);
    int r = JG_ERR_INTERNAL, fd = -1;

    if (!force && access(path, F_OK) == 0) {
        r = JG_ERR_EXISTS;
        goto out;
    }
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 || fchmod(fd, mode) != 0) {
        r = JG_ERR_IO;
        goto out;
    }
    if ((r = jg_audit_write_all(fd, data, len)) != 0)
        goto out;
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        r = JG_ERR_IO;
        goto out;
    }
    fd = -1;
    if (!force && link(tmp, path) != 0) {
        r = errno == EEXIST ? JG_ERR_EXISTS : JG_ERR_IO;
        goto out;
    }
    if (force && rename(tmp, path) != 0) {
        r = JG_ERR_IO;
        goto out;
    }
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    if (r != 0 || !force) {
        int err = errno;

        unlink(tmp);
        errno = err;
    }
    free(tmp);
    return r;
}

/* PEM of pkey (private or public) into *pem (caller frees). */
static int
pem_of(EVP_PKEY *pkey, bool priv, char **pem, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n;
    int ok;

    if (bio == NULL)
        return JG_ERR_NOMEM;
    ok = priv ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
              : PEM_write_bio_PUBKEY(bio, pkey);
    n = BIO_get_mem_data(bio, &p);
    if (ok != 1 || n <= 0) {
        BIO_free(bio);
        return JG_ERR_INTERNAL;
    }
    *pem = jg_xmalloc((size_t)n);
    memcpy(*pem, p, (size_t)n);
    *len = (size_t)n;
    BIO_free(bio);
    return 0;
}

int
jg_audit_keygen(const char *priv_path, bool force)
{
    EVP_PKEY *pkey = NULL;
    char *priv = NULL, *pub = NULL, *pub_path = NULL;
    size_t priv_len = 0, pub_len = 0;
    int r = JG_ERR_INTERNAL;

    pub_path = jg_audit_key_pub_path(priv_path);
    if (!force && (access(priv_path, F_OK) == 0 ||
                   access(pub_path, F_OK) == 0)) {
        r = JG_ERR_EXISTS;
        goto out;
    }
    if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
        goto out;
    if ((r = pem_of(pkey, true, &priv, &priv_len)) != 0 ||
        (r = pem_of(pkey, false, &pub, &pub_len)) != 0)
        goto out;
    if ((r = jg_audit_write_file(priv_path, priv, priv_len, 0600, force)) != 0 ||
        (r = jg_audit_write_file(pub_path, pub, pub_len, 0644, force)) != 0)
        goto out;
    r = 0;
out:
    ERR_clear_error();
    if (priv != NULL) {
        explicit_bzero(priv, priv_len);
        free(priv);
    }
    free(pub);
    free(pub_path);
    EVP_PKEY_free(pkey);
    return r;
}

int
jg_audit_sign(const struct jg_audit_key *k, const char *domain,
              const void *msg, size_t len, char *b64, size_t b64n)
{
    EVP_MD_CTX *ctx = NULL;
    uint8_t sig[64];
    size_t siglen = sizeof(sig), dl = strlen(domain);
    uint8_t *buf = NULL;
    int r = JG_ERR_INTERNAL;

    if (!k->priv || b64n < 89)
        goto out;
    if (len > SIZE_MAX - dl - 1 || (buf = malloc(dl + len + 1)) == NULL) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    memcpy(buf, domain, dl);
    memcpy(buf + dl, msg, len);
    if ((ctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, buf, dl + len) != 1 || siglen != 64)
        goto out;
    jg_audit_b64(sig, siglen, b64);
    r = 0;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    free(buf);
    return r;
}

bool
jg_audit_sig_ok(const struct jg_audit_key *k, const char *domain,
                const void *msg, size_t len, const char *b64, size_t b64_len)
{
    EVP_MD_CTX *ctx = NULL;
    uint8_t sig[64];
    size_t dl = strlen(domain);
    uint8_t *buf = NULL;
    bool ok = false;

    if (jg_audit_unb64(b64, b64_len, sig, sizeof(sig)) != 64)
        return false;
    buf = jg_xmalloc(dl + len + 1);
    memcpy(buf, domain, dl);
    memcpy(buf + dl, msg, len);
    ok = (ctx = EVP_MD_CTX_new()) != NULL &&
         EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
         EVP_DigestVerify(ctx, sig, 64, buf, dl + len) == 1;
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    free(buf);
    return ok;
}
