/* SPDX-License-Identifier: Apache-2.0 */
/* sync/http.c - one HTTP exchange on the client's curl handle, with size
 * limits, timeouts, Retry-After and optional SigV4 signing by libcurl. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sync/internal.h"

struct sink {
    GString *buf;
    bool toobig;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct sink *k = arg;
    size_t n = size * nmemb;

    if (k->buf->len + n > SYNC_BODY_MAX) {
        k->toobig = true;
        return 0;
    }
    g_string_append_len(k->buf, data, (gssize)n);
    return n;
}

/* Copies the value of header line data (n bytes) into out when its name
 * is name (with the colon), trimmed, quotes removed. */
static void
header_value(const char *data, size_t n, const char *name, char *out,
             size_t outlen)
{
    size_t nl = strlen(name), vl;
    const char *v;

    if (n <= nl || strncasecmp(data, name, nl) != 0)
        return;
    v = data + nl;
    vl = n - nl;
    while (vl > 0 && (*v == ' ' || *v == '\t' || *v == '"')) {
        v++;
        vl--;
    }
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
                      v[vl - 1] == ' ' || v[vl - 1] == '"'))
        vl--;
    if (vl >= outlen)
        vl = outlen - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct sync_http_resp *resp = arg;
    size_t n = size * nmemb;
    char v[32];
    char *end;
    long long secs;

    v[0] = '\0';
    header_value(data, n, "retry-after:", v, sizeof(v));
    if (v[0] != '\0') {
        secs = strtoll(v, &end, 10);
        if (end != v && secs >= 0)
            resp->retry_after = secs;
    }
    header_value(data, n, "etag:", resp->etag, sizeof(resp->etag));
    header_value(data, n, "x-amz-request-id:", resp->request_id,
                 sizeof(resp->request_id));
    header_value(data, n, "x-amz-server-side-encryption:", resp->sse,
                 sizeof(resp->sse));
    return n;
}

void
jg_sync_http_resp_clear(struct sync_http_resp *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
}

int
jg_sync_http_do(struct jg_sync *s, const struct sync_http_req *req,
                struct sync_http_resp *resp)
{
    struct sink k = {.buf = g_string_new(NULL), .toobig = false};
    CURL *c = s->curl;
    CURLcode cr;
    int r = JG_ERR_INTERNAL;

    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    curl_easy_reset(c);
    if (curl_easy_setopt(c, CURLOPT_URL, req->url) != CURLE_OK) {
        jg_sync_seterr(s, "%s %s: bad URL", req->method, req->url);
        r = JG_ERR_INVALID;
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "jumpgate/" JG_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, req->headers);
    if (req->sigv4 != NULL) {
        /* libcurl signs (see the comment in aws_call.c); the secret goes
         * only to curl's HMAC, never into a header or a message. */
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->sigv4);
        curl_easy_setopt(c, CURLOPT_USERNAME, req->key_id);
        curl_easy_setopt(c, CURLOPT_PASSWORD, req->secret);
    }
    cr = curl_easy_perform(c);
    if (req->sigv4 != NULL) {
        /* Do not leave the secret in the handle's options. */
        curl_easy_setopt(c, CURLOPT_PASSWORD, "");
    }
    if (cr != CURLE_OK) {
        resp->timed_out = cr == CURLE_OPERATION_TIMEDOUT;
        if (k.toobig)
            jg_sync_seterr(s, "%s %s: answer larger than %u bytes", req->method,
                           req->url, SYNC_BODY_MAX);
        else
            jg_sync_seterr(s, "%s %s: %s", req->method, req->url,
                           curl_easy_strerror(cr));
        r = JG_ERR_IO;
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->len = k.buf->len;
    resp->body = g_string_free(k.buf, FALSE);
    k.buf = NULL;
    r = 0;
out:
    if (k.buf != NULL)
        g_string_free(k.buf, TRUE);
    return r;
}
