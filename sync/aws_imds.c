/* SPDX-License-Identifier: Apache-2.0 */
/* sync/aws_imds.c - role credentials from the EC2 instance metadata service,
 * version 2 (session token first), and the parser of its answer. */
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

int jg_sync_imds_fetch(struct jg_sync *s, struct jg_sync_creds *c);

static const char *
str_field(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int
jg_sync_creds_parse_imds(const char *text, size_t len,
                         struct jg_sync_creds *c, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = NULL;
    const char *code, *id, *secret, *token, *exp;
    int64_t t;
    int r = JG_ERR_INVALID;

    memset(c, 0, sizeof(*c));
    o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "not a JSON object");
        goto out;
    }
    code = str_field(o, "Code");
    if (code != NULL && strcmp(code, "Success") != 0) {
        snprintf(err, errlen, "Code is %.64s, not Success", code);
        goto out;
    }
    id = str_field(o, "AccessKeyId");
    secret = str_field(o, "SecretAccessKey");
    token = str_field(o, "Token");
    exp = str_field(o, "Expiration");
    if (id == NULL || secret == NULL || token == NULL || exp == NULL) {
        snprintf(err, errlen, "missing %s",
                 id == NULL       ? "AccessKeyId"
                 : secret == NULL ? "SecretAccessKey"
                 : token == NULL  ? "Token"
                                  : "Expiration");
        goto out;
    }
    if (jg_time_parse(exp, &t) != 0) {
        snprintf(err, errlen, "Expiration is not a time");
        goto out;
    }
    c->key_id = jg_xstrdup(id);
    c->secret = jg_xstrdup(secret);
    c->token = jg_xstrdup(token);
    c->expires = t;
    c->source = "imds";
    r = 0;
out:
    json_decref(o);
    return r;
}

/* One metadata request; *body on success (HTTP 200). */
static int
imds_req(struct jg_sync *s, const char *method, const char *url,
         const struct curl_slist *h, struct sync_http_resp *resp)
{
    struct sync_http_req req = {.method = method, .url = url, .headers = h};
    int attempt, r = JG_ERR_INTERNAL;

    for (attempt = 0; attempt < 2; attempt++) {
        jg_sync_http_resp_clear(resp);
        if (strcmp(method, "PUT") == 0) {
            req.body = "";
            req.body_len = 0;
        }
        r = jg_sync_http_do(s, &req, resp);
        if (r == 0 && resp->status == 200)
            return 0;
        if (r == 0 && resp->status < 500) {
            jg_sync_seterr(s, "IMDS %s %s: HTTP %ld", method, url,
                           resp->status);
            return JG_ERR_DENIED;
        }
        if (r == 0)
            jg_sync_seterr(s, "IMDS %s %s: HTTP %ld", method, url,
                           resp->status);
    }
    return r != 0 ? r : JG_ERR_IO;
}

int
jg_sync_imds_fetch(struct jg_sync *s, struct jg_sync_creds *c)
{
    const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    struct sync_http_resp resp = {.retry_after = -1};
    struct curl_slist *h = NULL;
    char *root = NULL, *url = NULL, *hdr = NULL, *role = NULL;
    char err[256];
    long saved_to = s->timeout_ms, saved_cto = s->connect_timeout_ms;
    size_t n;
    int r;

    if (base == NULL || *base == '\0')
        base = "http://169.254.169.254";
    n = strlen(base);
    root = g_strndup(base, base[n - 1] == '/' ? n - 1 : n);
    s->timeout_ms = 2000;
    s->connect_timeout_ms = 1000;

    url = jg_xasprintf("%s/latest/api/token", root);
    h = curl_slist_append(h, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    if ((r = imds_req(s, "PUT", url, h, &resp)) != 0)
        goto fail;
    curl_slist_free_all(h);
    hdr = jg_xasprintf("X-aws-ec2-metadata-token: %s", resp.body);
    h = curl_slist_append(NULL, hdr);

    free(url);
    url = jg_xasprintf("%s/latest/meta-data/iam/security-credentials/", root);
    if ((r = imds_req(s, "GET", url, h, &resp)) != 0)
        goto fail;
    role = g_strndup(resp.body, strcspn(resp.body, "\r\n"));
    if (role[0] == '\0' || strchr(role, '/') != NULL) {
        jg_sync_seterr(s, "IMDS: no instance role (or a malformed role name)");
        r = JG_ERR_NOTFOUND;
        goto out;
    }
    free(url);
    url = jg_xasprintf("%s/latest/meta-data/iam/security-credentials/%s", root,
                       role);
    if ((r = imds_req(s, "GET", url, h, &resp)) != 0)
        goto fail;
    if ((r = jg_sync_creds_parse_imds(resp.body, resp.len, c, err,
                                      sizeof(err))) != 0) {
        jg_sync_seterr(s, "IMDS role credentials for %s: %s", role, err);
        goto out;
    }
    r = 0;
    goto out;
fail:
    if (r == JG_ERR_IO)
        jg_sync_seterr(s, "no AWS credentials: not in the environment, not in "
                          "the shared credentials file, and IMDS at %s did not "
                          "answer",
                       root);
out:
    s->timeout_ms = saved_to;
    s->connect_timeout_ms = saved_cto;
    if (resp.body != NULL)
        explicit_bzero(resp.body, resp.len);
    jg_sync_http_resp_clear(&resp);
    if (hdr != NULL)
        explicit_bzero(hdr, strlen(hdr));
    free(hdr);
    curl_slist_free_all(h);
    g_free(role);
    free(url);
    g_free(root);
    return r;
}
