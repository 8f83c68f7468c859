/* SPDX-License-Identifier: Apache-2.0 */
/* sync/s3.c - the S3 client: PutObject and multipart uploads signed with
 * SigV4 by libcurl, each body's SHA-256 and MD5 sent (and signed) so S3
 * refuses one corrupted in transit, answers' ETags checked, failures
 * retried with full-jitter backoff, errors named by code and request id.
 *
 * SigV4 through curl 7.88 (see aws_call.c): curl signs every header we
 * pass, takes the payload hash from our x-amz-content-sha256 header, and
 * uses the path and query string exactly as given. So keys are sent
 * percent-encoded the way SigV4 canonicalises them, and query strings are
 * already canonical: sorted, every name with "=", values encoded
 * ("uploads=", "partNumber=N&uploadId=ID"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sync/internal.h"

#define EMPTY_SHA256 \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_PARTS 10000

void
jg_sync_s3_set_part_size(struct jg_sync *s, uint64_t bytes)
{
    s->s3_part_size = bytes > 0 ? bytes : JG_SYNC_S3_MIN_PART;
}

bool
jg_sync_s3_is_aws(const struct jg_sync *s)
{
    return s->s3_endpoint == NULL;
}

char *
jg_sync_s3_url(const struct jg_sync *s, const char *bucket, const char *key)
{
    GString *u = g_string_new(NULL);

    if (s->s3_endpoint != NULL) {
        g_string_append(u, s->s3_endpoint);
        jg_sync_uri_encode(u, bucket, false);
        g_string_append_c(u, '/');
    } else if (strchr(bucket, '.') != NULL) {
        g_string_append_printf(u, "https://s3.%s.amazonaws.com/", s->s3_region);
        jg_sync_uri_encode(u, bucket, false);
        g_string_append_c(u, '/');
    } else {
        g_string_append_printf(u, "https://%s.s3.%s.amazonaws.com/", bucket,
                               s->s3_region);
    }
    jg_sync_uri_encode(u, key, true);
    return g_string_free(u, FALSE);
}

/* Digests of one body: MD5 (raw and base64) and SHA-256 (hex). */
struct digest {
    unsigned char md5[16];
    char md5_hex[33];
    char md5_b64[25];
    char sha256[65];
};

static void
hex(const unsigned char *v, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = h[v[i] >> 4];
        out[2 * i + 1] = h[v[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
digest(const void *data, size_t len, struct digest *d)
{
    unsigned char sha[32];
    unsigned int n = 0;

    if (EVP_Digest(data, len, d->md5, &n, EVP_md5(), NULL) != 1 || n != 16)
        return JG_ERR_INTERNAL;
    if (EVP_Digest(data, len, sha, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return JG_ERR_INTERNAL;
    hex(d->md5, 16, d->md5_hex);
    hex(sha, 32, d->sha256);
    EVP_EncodeBlock((unsigned char *)d->md5_b64, d->md5, 16);
    return 0;
}

/* One S3 request to make (and retry). */
struct s3_req {
    const char *op;         /* "PutObject", ... (for messages) */
    const char *key;        /* for messages */
    const char *method;
    const char *url;
    const char *content_type; /* or NULL */
    const char *body;       /* NULL: none */
    size_t body_len;
    const struct digest *dig; /* of body; NULL: empty body */
};

static bool
retryable(long status, const char *code)
{
    static const char *const codes[] = {"SlowDown", "InternalError",
                                        "RequestTimeout", "ServiceUnavailable",
                                        "OperationAborted", NULL};
    size_t i;

    if (status >= 500)
        return true;
    for (i = 0; codes[i] != NULL; i++) {
        if (strcmp(code, codes[i]) == 0)
            return true;
    }
    return false;
}

static void
set_error(struct jg_sync *s, const struct s3_req *q,
          const struct sync_http_resp *resp)
{
    struct jg_sync_s3_error e;
    const char *rid;

    if (jg_sync_s3_parse_error(resp->body, resp->len, &e) != 0) {
        snprintf(e.code, sizeof(e.code), "HTTP%ld", resp->status);
        snprintf(e.message, sizeof(e.message),
                 "HTTP %ld with an answer that is not an S3 error document",
                 resp->status);
        e.request_id[0] = '\0';
    }
    rid = e.request_id[0] != '\0' ? e.request_id : resp->request_id;
    snprintf(s->aws_code, sizeof(s->aws_code), "%s", e.code);
    jg_sync_seterr(s, "S3 %s %s: %s: %s (request %s, HTTP %ld)", q->op, q->key,
                   e.code, e.message, rid[0] != '\0' ? rid : "-", resp->status);
}

/* Performs q until it succeeds (2xx: *resp holds the answer; caller
 * clears it; what *resp held before is freed), is refused (JG_ERR_DENIED), or attempts run out (JG_ERR_IO).
 * JG_ERR_NOTFOUND when there are no credentials. */
static int
s3_do(struct jg_sync *s, const struct s3_req *q, struct sync_http_resp *resp)
{
    struct curl_slist *h = NULL;
    char *sigv4 = NULL, *ct = NULL, *md5 = NULL, *sha = NULL, *tok = NULL;
    int attempt, r = JG_ERR_INTERNAL;

    s->aws_code[0] = '\0';
    jg_sync_http_resp_clear(resp);
    sigv4 = jg_xasprintf("aws:amz:%s:s3", s->s3_region);
    sha = jg_xasprintf("x-amz-content-sha256: %s",
                       q->dig != NULL ? q->dig->sha256 : EMPTY_SHA256);
    if (q->dig != NULL)
        md5 = jg_xasprintf("Content-MD5: %s", q->dig->md5_b64);
    if (q->content_type != NULL)
        ct = jg_xasprintf("Content-Type: %s", q->content_type);
    for (attempt = 0; attempt < s->max_attempts; attempt++) {
        struct sync_http_req req = {0};
        const char *wait = "";

        if (attempt > 0)
            jg_sync_sleep_ms(jg_sync_backoff_ms(attempt - 1, s->backoff_base_ms,
                                                s->backoff_cap_ms));
        if ((r = jg_sync_aws_creds(s)) != 0) {
            jg_sync_seterr(s, "S3 %s %s: no AWS credentials (environment, "
                           "shared credentials file or IMDS)", q->op, q->key);
            goto out;
        }
        curl_slist_free_all(h);
        h = NULL;
        h = curl_slist_append(h, sha);
        if (md5 != NULL)
            h = curl_slist_append(h, md5);
        if (ct != NULL)
            h = curl_slist_append(h, ct);
        if (tok != NULL) {
            explicit_bzero(tok, strlen(tok));
            free(tok);
            tok = NULL;
        }
        if (s->creds.token != NULL) {
            tok = jg_xasprintf("X-Amz-Security-Token: %s", s->creds.token);
            h = curl_slist_append(h, tok);
        }
        req.method = q->method;
        req.url = q->url;
        req.headers = h;
        req.body = q->body != NULL ? q->body
                   : strcmp(q->method, "POST") == 0 ||
                           strcmp(q->method, "PUT") == 0
                       ? ""
                       : NULL;
        req.body_len = q->body != NULL ? q->body_len : 0;
        req.sigv4 = sigv4;
        req.key_id = s->creds.key_id;
        req.secret = s->creds.secret;
        jg_sync_http_resp_clear(resp);
        r = jg_sync_http_do(s, &req, resp);
        if (r == JG_ERR_IO) {
            char tmp[SYNC_ERR_MAX + 64];

            snprintf(tmp, sizeof(tmp), "S3 %s %s: %s", q->op, q->key, s->err);
            jg_sync_seterr(s, "%s", tmp);
            jg_debug("%s (attempt %d)", s->err, attempt + 1);
            continue;
        }
        if (r != 0)
            goto out;
        if (resp->status >= 200 && resp->status < 300) {
            r = 0;
            goto out;
        }
        set_error(s, q, resp);
        if (!retryable(resp->status, s->aws_code)) {
            r = JG_ERR_DENIED;
            goto out;
        }
        if (resp->retry_after > 0)
            wait = " (the store asked to wait)";
        jg_debug("%s; retrying (attempt %d)%s", s->err, attempt + 1, wait);
        if (resp->retry_after > 0 && resp->retry_after < 60)
            jg_sync_sleep_ms(resp->retry_after * 1000);
        r = JG_ERR_IO;
    }
    {
        char tmp[SYNC_ERR_MAX + 64];

        snprintf(tmp, sizeof(tmp), "%s (gave up after %d attempts)", s->err,
                 s->max_attempts);
        jg_sync_seterr(s, "%s", tmp);
    }
    r = JG_ERR_IO;
out:
    curl_slist_free_all(h);
    if (tok != NULL)
        explicit_bzero(tok, strlen(tok));
    free(tok);
    free(ct);
    free(md5);
    free(sha);
    free(sigv4);
    return r;
}

/* Whether an ETag can be checked: SSE-KMS objects have ETags that are not
 * MD5 digests of the data. */
static bool
etag_is_md5(const struct sync_http_resp *resp)
{
    return strncasecmp(resp->sse, "aws:kms", 7) != 0;
}

/* Reads len bytes of fd at off into buf. */
static int
read_at(int fd, char *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    ssize_t n;

    while (got < len) {
        n = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return JG_ERR_IO;
        if (n == 0)
            return JG_ERR_INVALID;
        got += (size_t)n;
    }
    return 0;
}

/* PUTs len bytes of buf as one object. */
static int
put_mem(struct jg_sync *s, const char *url, const char *key, const char *buf,
        size_t len, const char *content_type, struct jg_sync_s3_put *out)
{
    struct sync_http_resp resp = {.retry_after = -1};
    struct digest d;
    struct s3_req q = {.op = "PutObject", .key = key, .method = "PUT",
                       .url = url, .content_type = content_type, .body = buf,
                       .body_len = len, .dig = &d};
    int r;

    if ((r = digest(buf, len, &d)) != 0)
        goto out;
    if ((r = s3_do(s, &q, &resp)) != 0)
        goto out;
    if (etag_is_md5(&resp) && strcasecmp(resp.etag, d.md5_hex) != 0) {
        jg_sync_seterr(s, "S3 PutObject %s: the store's ETag \"%s\" is not the "
                       "MD5 of what was sent (%s)", key, resp.etag, d.md5_hex);
        r = JG_ERR_DENIED;
        goto out;
    }
    out->size = len;
    out->parts = 0;
    memcpy(out->sha256, d.sha256, sizeof(out->sha256));
    snprintf(out->etag, sizeof(out->etag), "%s", resp.etag);
    r = 0;
out:
    jg_sync_http_resp_clear(&resp);
    return r;
}

static int
put_single(struct jg_sync *s, const char *url, const char *key, int fd,
           uint64_t size, const char *content_type, struct jg_sync_s3_put *out)
{
    char *buf = jg_xmalloc(size > 0 ? (size_t)size : 1);
    int r;

    if ((r = read_at(fd, buf, (size_t)size, 0)) != 0) {
        jg_sync_seterr(s, "S3 PutObject %s: the file %s while being read", key,
                       r == JG_ERR_IO ? "could not be read" : "shrank");
        goto out;
    }
    r = put_mem(s, url, key, buf, (size_t)size, content_type, out);
out:
    free(buf);
    return r;
}

/* Best effort: an abandoned upload costs storage until a lifecycle rule
 * removes it, so say so when even the abort fails. */
static void
abort_upload(struct jg_sync *s, const char *url, const char *key,
             const char *query)
{
    struct sync_http_resp resp = {.retry_after = -1};
    char *u = jg_xasprintf("%s?%s", url, query);
    char saved[SYNC_ERR_MAX];
    struct s3_req q = {.op = "AbortMultipartUpload", .key = key,
                       .method = "DELETE", .url = u};
    int attempts = s->max_attempts;

    memcpy(saved, s->err, sizeof(saved));
    s->max_attempts = 2;
    if (s3_do(s, &q, &resp) != 0)
        jg_warn("%s; the parts stay until a lifecycle rule removes them",
                s->err);
    s->max_attempts = attempts;
    memcpy(s->err, saved, sizeof(saved));
    jg_sync_http_resp_clear(&resp);
    free(u);
}

static int
put_multipart(struct jg_sync *s, const char *url, const char *key, int fd,
              uint64_t size, const char *content_type,
              struct jg_sync_s3_put *out)
{
    struct sync_http_resp resp = {.retry_after = -1};
    uint64_t psize = s->s3_part_size, off;
    unsigned nparts = (unsigned)((size + psize - 1) / psize), i;
    GString *xml = NULL, *idq = g_string_new("uploadId=");
    EVP_MD_CTX *whole = NULL, *etags = NULL;
    unsigned char sha[32], md5[16];
    char *buf = NULL, *u = NULL, *upload_id = NULL, err[256];
    char want_etag[48], whole_md5[33];
    struct digest d, dx;
    struct jg_sync_s3_error se;
    unsigned int n;
    int r = JG_ERR_INTERNAL;

    if (nparts > MAX_PARTS) {
        jg_sync_seterr(s, "S3 %s: %llu bytes need more than %d parts of %llu "
                       "bytes", key, (unsigned long long)size, MAX_PARTS,
                       (unsigned long long)psize);
        return JG_ERR_TOOBIG;
    }
    /* CreateMultipartUpload */
    u = jg_xasprintf("%s?uploads=", url);
    {
        struct s3_req q = {.op = "CreateMultipartUpload", .key = key,
                           .method = "POST", .url = u,
                           .content_type = content_type};

        if ((r = s3_do(s, &q, &resp)) != 0)
            goto out;
    }
    if (jg_sync_s3_parse_initiate(resp.body, resp.len, &upload_id, err,
                                  sizeof(err)) != 0) {
        jg_sync_seterr(s, "S3 CreateMultipartUpload %s: %s", key, err);
        r = JG_ERR_INVALID;
        goto out;
    }
    jg_sync_uri_encode(idq, upload_id, false);
    whole = EVP_MD_CTX_new();
    etags = EVP_MD_CTX_new();
    if (whole == NULL || etags == NULL ||
        EVP_DigestInit_ex(whole, EVP_sha256(), NULL) != 1 ||
        EVP_DigestInit_ex(etags, EVP_md5(), NULL) != 1) {
        r = JG_ERR_NOMEM;
        goto abort;
    }
    {
        EVP_MD_CTX *all = EVP_MD_CTX_new();

        /* MD5 of the whole object too: some stores give that as the
         * ETag instead of S3's MD5-of-MD5s. */
        if (all == NULL || EVP_DigestInit_ex(all, EVP_md5(), NULL) != 1) {
            EVP_MD_CTX_free(all);
            r = JG_ERR_NOMEM;
            goto abort;
        }
        xml = g_string_new("<CompleteMultipartUpload xmlns=\""
                           "http://s3.amazonaws.com/doc/2006-03-01/\">");
        buf = jg_xmalloc((size_t)psize);
        for (i = 1, off = 0; i <= nparts; i++, off += psize) {
            size_t len = (size_t)(size - off < psize ? size - off : psize);
            char *pu;

            if ((r = read_at(fd, buf, len, off)) != 0) {
                jg_sync_seterr(s, "S3 UploadPart %s: the file %s while being "
                               "read", key, r == JG_ERR_IO ? "could not be read"
                                                       : "shrank");
                EVP_MD_CTX_free(all);
                goto abort;
            }
            if ((r = digest(buf, len, &d)) != 0) {
                EVP_MD_CTX_free(all);
                goto abort;
            }
            EVP_DigestUpdate(whole, buf, len);
            EVP_DigestUpdate(all, buf, len);
            EVP_DigestUpdate(etags, d.md5, 16);
            pu = jg_xasprintf("%s?partNumber=%u&%s", url, i, idq->str);
            {
                struct s3_req q = {.op = "UploadPart", .key = key,
                                   .method = "PUT", .url = pu, .body = buf,
                                   .body_len = len, .dig = &d};

                r = s3_do(s, &q, &resp);
            }
            free(pu);
            if (r != 0) {
                EVP_MD_CTX_free(all);
                goto abort;
            }
            if (etag_is_md5(&resp) && strcasecmp(resp.etag, d.md5_hex) != 0) {
                jg_sync_seterr(s, "S3 UploadPart %s: part %u: the store's ETag "
                               "\"%s\" is not the MD5 of what was sent (%s)",
                               key, i, resp.etag, d.md5_hex);
                EVP_MD_CTX_free(all);
                r = JG_ERR_DENIED;
                goto abort;
            }
            g_string_append_printf(xml, "<Part><PartNumber>%u</PartNumber>"
                                   "<ETag>\"%s\"</ETag></Part>", i,
                                   d.md5_hex);
        }
        EVP_DigestFinal_ex(all, md5, &n);
        EVP_MD_CTX_free(all);
        hex(md5, 16, whole_md5);
    }
    g_string_append(xml, "</CompleteMultipartUpload>");
    EVP_DigestFinal_ex(whole, sha, &n);
    EVP_DigestFinal_ex(etags, md5, &n);
    hex(md5, 16, want_etag);
    snprintf(want_etag + 32, sizeof(want_etag) - 32, "-%u", nparts);
    /* CompleteMultipartUpload */
    if ((r = digest(xml->str, xml->len, &dx)) != 0)
        goto abort;
    free(u);
    u = jg_xasprintf("%s?%s", url, idq->str);
    {
        struct s3_req q = {.op = "CompleteMultipartUpload", .key = key,
                           .method = "POST", .url = u,
                           .content_type = "application/xml",
                           .body = xml->str, .body_len = xml->len,
                           .dig = &dx};
        int attempt;

        /* S3 may answer 200 with an <Error> inside; InternalError there
         * is to be retried like a 500. */
        for (attempt = 0; attempt < 3; attempt++) {
            if ((r = s3_do(s, &q, &resp)) != 0)
                goto abort;
            r = jg_sync_s3_parse_complete(resp.body, resp.len, out->etag,
                                          sizeof(out->etag), &se, err,
                                          sizeof(err));
            if (r == 0)
                break;
            jg_sync_seterr(s, "S3 CompleteMultipartUpload %s: %s (request %s)",
                           key, err, se.request_id[0] != '\0' ? se.request_id
                                     : resp.request_id[0] != '\0'
                                         ? resp.request_id
                                         : "-");
            if (r != JG_ERR_DENIED || !retryable(200, se.code))
                goto abort;
            jg_sync_sleep_ms(jg_sync_backoff_ms(attempt, s->backoff_base_ms,
                                                s->backoff_cap_ms));
        }
        if (r != 0)
            goto abort;
    }
    if (etag_is_md5(&resp) && strcasecmp(out->etag, want_etag) != 0 &&
        strcasecmp(out->etag, whole_md5) != 0) {
        jg_sync_seterr(s, "S3 CompleteMultipartUpload %s: the store's ETag "
                       "\"%s\" is neither %s nor the MD5 of the file (%s)",
                       key, out->etag, want_etag, whole_md5);
        r = JG_ERR_DENIED;
        goto out; /* complete: nothing left to abort */
    }
    out->size = size;
    out->parts = nparts;
    hex(sha, 32, out->sha256);
    r = 0;
    goto out;
abort:
    abort_upload(s, url, key, idq->str);
out:
    jg_sync_http_resp_clear(&resp);
    EVP_MD_CTX_free(whole);
    EVP_MD_CTX_free(etags);
    if (xml != NULL)
        g_string_free(xml, TRUE);
    g_string_free(idq, TRUE);
    free(buf);
    free(u);
    free(upload_id);
    return r;
}

int
jg_sync_s3_put_file(struct jg_sync *s, const char *bucket, const char *key,
                    int fd, uint64_t size, const char *content_type,
                    struct jg_sync_s3_put *out)
{
    char *url = jg_sync_s3_url(s, bucket, key);
    int r;

    memset(out, 0, sizeof(*out));
    jg_sync_seterr(s, "%s", "");
    if (size > s->s3_part_size)
        r = put_multipart(s, url, key, fd, size, content_type, out);
    else
        r = put_single(s, url, key, fd, size, content_type, out);
    free(url);
    return r;
}

int
jg_sync_s3_put_buf(struct jg_sync *s, const char *bucket, const char *key,
                   const char *buf, size_t len, const char *content_type,
                   struct jg_sync_s3_put *out)
{
    char *url = jg_sync_s3_url(s, bucket, key);
    int r;

    memset(out, 0, sizeof(*out));
    jg_sync_seterr(s, "%s", "");
    r = put_mem(s, url, key, buf, len, content_type, out);
    free(url);
    return r;
}

int
jg_sync_s3_get(struct jg_sync *s, const char *bucket, const char *key,
               size_t max, bool *found, char **buf, size_t *len)
{
    struct sync_http_resp resp = {.retry_after = -1};
    char *url = jg_sync_s3_url(s, bucket, key);
    struct s3_req q = {.op = "GetObject", .key = key, .method = "GET",
                       .url = url};
    int r;

    *found = false;
    *buf = NULL;
    *len = 0;
    jg_sync_seterr(s, "%s", "");
    r = s3_do(s, &q, &resp);
    if (r == JG_ERR_DENIED &&
        (resp.status == 404 || strcmp(s->aws_code, "NoSuchKey") == 0)) {
        r = 0;
        goto out;
    }
    if (r != 0)
        goto out;
    if (resp.len > max) {
        jg_sync_seterr(s, "S3 GetObject %s: larger than %zu bytes", key, max);
        r = JG_ERR_TOOBIG;
        goto out;
    }
    *found = true;
    *buf = resp.body != NULL ? resp.body : jg_xstrdup("");
    *len = resp.len;
    resp.body = NULL;
    r = 0;
out:
    jg_sync_http_resp_clear(&resp);
    free(url);
    return r;
}
