/* SPDX-License-Identifier: Apache-2.0 */
/* sync/rds_token.c - RDS IAM authentication tokens: a SigV4 presigned
 * "connect" request for one database user (service rds-db, valid 15
 * minutes), as AWS's SDKs make with generate_db_auth_token and RDS takes
 * as a password over TLS with the mysql_clear_password plugin
 * (sync.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sync/internal.h"

/* RFC 3986 unreserved characters stay, every other byte is %XX. */
static char *
uri_encode(const char *s)
{
    char *out = jg_xmalloc(3 * strlen(s) + 1), *o = out;

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~')
            *o++ = (char)c;
        else {
            *o++ = '%';
            *o++ = "0123456789ABCDEF"[c >> 4];
            *o++ = "0123456789ABCDEF"[c & 15];
        }
    }
    *o = '\0';
    return out;
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[b[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool
hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int n = 0;

    return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
                strlen(msg), out, &n) != NULL && n == 32;
}

int
jg_sync_rds_token(const struct jg_sync_creds *c, const char *host,
                  uint16_t port, const char *user, const char *region,
                  int64_t now, char **out)
{
    char date[9], stamp[17], scope[256], crq_hash[65], sig_hex[65];
    char *u = NULL, *cred = NULL, *tok = NULL, *query = NULL, *crq = NULL;
    char *sts = NULL, *secret = NULL;
    unsigned char k[32], d[32];
    unsigned int dn = 0;
    time_t t = (time_t)now;
    struct tm tm;
    int r = JG_ERR_INVALID;

    *out = NULL;
    if (c == NULL || c->key_id == NULL || c->secret == NULL || host == NULL ||
        *host == '\0' || user == NULL || *user == '\0' || region == NULL ||
        *region == '\0' || gmtime_r(&t, &tm) == NULL)
        return JG_ERR_INVALID;
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(scope, sizeof(scope), "%s/%s/rds-db/aws4_request", date, region);
    u = uri_encode(user);
    {
        char *raw = jg_xasprintf("%s/%s", c->key_id, scope);
        cred = uri_encode(raw);
        free(raw);
    }
    tok = c->token != NULL ? uri_encode(c->token) : NULL;
    /* The canonical query: its keys in byte order. */
    query = jg_xasprintf("Action=connect&DBUser=%s"
                         "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                         "&X-Amz-Credential=%s&X-Amz-Date=%s"
                         "&X-Amz-Expires=900%s%s&X-Amz-SignedHeaders=host",
                         u, cred, stamp, tok ? "&X-Amz-Security-Token=" : "",
                         tok ? tok : "");
    /* The payload's hash is that of nothing, as the SDKs sign it. */
    crq = jg_xasprintf("GET\n/\n%s\nhost:%s:%u\n\nhost\n"
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca49599"
                       "1b7852b855", query, host, port);
    if (EVP_Digest(crq, strlen(crq), d, &dn, EVP_sha256(), NULL) != 1 ||
        dn != 32)
        goto out;
    hex(d, 32, crq_hash);
    sts = jg_xasprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", stamp, scope,
                       crq_hash);
    secret = jg_xasprintf("AWS4%s", c->secret);
    if (!hmac(secret, strlen(secret), date, k) ||
        !hmac(k, 32, region, k) || !hmac(k, 32, "rds-db", k) ||
        !hmac(k, 32, "aws4_request", k) || !hmac(k, 32, sts, d))
        goto out;
    hex(d, 32, sig_hex);
    /* The order AWS's SDKs write: the token after SignedHeaders. */
    *out = jg_xasprintf("%s:%u/?Action=connect&DBUser=%s"
                        "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                        "&X-Amz-Credential=%s&X-Amz-Date=%s"
                        "&X-Amz-Expires=900&X-Amz-SignedHeaders=host%s%s"
                        "&X-Amz-Signature=%s",
                        host, port, u, cred, stamp,
                        tok ? "&X-Amz-Security-Token=" : "", tok ? tok : "",
                        sig_hex);
    r = 0;
out:
    if (secret != NULL) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
    explicit_bzero(k, sizeof(k));
    free(u);
    free(cred);
    free(tok);
    free(query);
    free(crq);
    free(sts);
    return r;
}
