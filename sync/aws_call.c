/* SPDX-License-Identifier: Apache-2.0 */
/* sync/aws_call.c - signed AWS API calls (EC2 Query, ECS JSON 1.1) with
 * credentials refreshed before they expire and full-jitter retries.
 *
 * SigV4: libcurl 7.88's CURLOPT_AWS_SIGV4 signs. We checked it against the
 * AWS SigV4 test suite (tests/unit/sync/test_sigv4.c runs the vectors
 * through curl to a loopback listener and compares the Authorization
 * header): it reproduces every POST, form-body, header-case/sort and
 * session-token ("header before") vector exactly. It does not sort query
 * strings, normalise paths or fold multi-line/duplicate headers, so we
 * never send any of those: every call is a POST to "/" with the parameters
 * in the body and single-line headers. The session token is sent as a
 * normal X-Amz-Security-Token header, which curl signs like the suite's
 * post-sts-header-before case and as EC2 and ECS expect. */
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

#define EC2_VERSION "2016-11-15"
#define CREDS_REFRESH_SECS 300 /* refresh this long before Expiration */

int
jg_sync_aws_creds(struct jg_sync *s)
{
    int r;

    if (s->have_creds && (s->creds.expires == JG_TIME_NEVER ||
                          jg_now() < s->creds.expires - CREDS_REFRESH_SECS))
        return 0;
    jg_sync_creds_clear(&s->creds);
    s->have_creds = false;
    if ((r = jg_sync_creds_resolve(s, &s->creds)) != 0)
        return r;
    s->have_creds = true;
    jg_debug("AWS credentials from %s", s->creds.source);
    return 0;
}

static bool
retryable_code(const char *code)
{
    static const char *const codes[] = {
        "RequestLimitExceeded", "Throttling", "ThrottlingException",
        "RequestThrottled", "TooManyRequestsException",
        "RequestThrottledException", "ServiceUnavailable", "InternalError",
        "Unavailable", NULL};
    size_t i;

    for (i = 0; codes[i] != NULL; i++) {
        if (strcmp(code, codes[i]) == 0)
            return true;
    }
    return false;
}

/* The error code and message of a failed ECS call ({"__type": "...#Code",
 * "message": ...}). */
static int
json_error(const char *buf, size_t len, char *code, size_t codelen, char *msg,
           size_t msglen)
{
    json_error_t je;
    json_t *o = json_loadb(buf, len, 0, &je);
    json_t *t, *m;
    const char *ts, *hash;
    int r = JG_ERR_INVALID;

    if (!json_is_object(o))
        goto out;
    t = json_object_get(o, "__type");
    if (!json_is_string(t))
        goto out;
    ts = json_string_value(t);
    hash = strrchr(ts, '#');
    snprintf(code, codelen, "%s", hash != NULL ? hash + 1 : ts);
    m = json_object_get(o, "message");
    if (!json_is_string(m))
        m = json_object_get(o, "Message");
    snprintf(msg, msglen, "%s", json_is_string(m) ? json_string_value(m) : "");
    r = 0;
out:
    json_decref(o);
    return r;
}

struct aws_call {
    const char *label;   /* "EC2", "ECS" */
    const char *service; /* signing name: "ec2", "ecs" */
    const char *url;
    const char *action;
    const char *content_type;
    const char *target;  /* X-Amz-Target or NULL */
    const char *body;
    size_t body_len;
    bool json;           /* error documents are JSON */
};

static int
aws_do(struct jg_sync *s, const struct aws_call *a, char **out, size_t *outlen)
{
    struct sync_http_resp resp = {.retry_after = -1};
    struct curl_slist *h = NULL;
    char *sigv4 = NULL, *ct = NULL, *tg = NULL, *tok = NULL;
    char code[128], msg[512];
    int attempt, r = JG_ERR_INTERNAL;

    s->aws_code[0] = '\0';
    s->provider = "aws";
    *out = NULL;
    *outlen = 0;
    sigv4 = jg_xasprintf("aws:amz:%s:%s", s->region, a->service);
    for (attempt = 0; attempt < s->max_attempts; attempt++) {
        struct sync_http_req req = {0};
        bool retry = false;

        if (attempt > 0)
            jg_sync_sleep_ms(jg_sync_backoff_ms(attempt - 1, s->backoff_base_ms,
                                                s->backoff_cap_ms));
        if ((r = jg_sync_aws_creds(s)) != 0)
            goto out;
        curl_slist_free_all(h);
        h = NULL;
        free(ct);
        ct = jg_xasprintf("Content-Type: %s", a->content_type);
        h = curl_slist_append(h, ct);
        if (a->target != NULL) {
            free(tg);
            tg = jg_xasprintf("X-Amz-Target: %s", a->target);
            h = curl_slist_append(h, tg);
        }
        if (s->creds.token != NULL) {
            if (tok != NULL)
                explicit_bzero(tok, strlen(tok));
            free(tok);
            tok = jg_xasprintf("X-Amz-Security-Token: %s", s->creds.token);
            h = curl_slist_append(h, tok);
        }
        req.method = "POST";
        req.url = a->url;
        req.headers = h;
        req.body = a->body;
        req.body_len = a->body_len;
        req.sigv4 = sigv4;
        req.key_id = s->creds.key_id;
        req.secret = s->creds.secret;
        jg_sync_http_resp_clear(&resp);
        r = jg_sync_http_do(s, &req, &resp);
        if (r == JG_ERR_IO) {
            char tmp[SYNC_ERR_MAX + 64];

            snprintf(tmp, sizeof(tmp), "%s %s: %s", a->label, a->action,
                     s->err);
            jg_sync_seterr(s, "%s", tmp);
            jg_debug("%s (attempt %d)", s->err, attempt + 1);
            continue; /* timeouts and connection failures are retried */
        }
        if (r != 0)
            goto out;
        if (resp.status == 200) {
            *out = resp.body;
            *outlen = resp.len;
            resp.body = NULL;
            r = 0;
            goto out;
        }
        if ((a->json ? json_error(resp.body, resp.len, code, sizeof(code), msg,
                                  sizeof(msg))
                     : jg_sync_ec2_parse_error(resp.body, resp.len, code,
                                               sizeof(code), msg,
                                               sizeof(msg))) != 0) {
            snprintf(code, sizeof(code), "HTTP%ld", resp.status);
            snprintf(msg, sizeof(msg), "HTTP %ld with an answer that is not "
                     "an %s error document", resp.status, a->label);
        }
        snprintf(s->aws_code, sizeof(s->aws_code), "%s", code);
        jg_sync_seterr(s, "%s %s: %s: %s (HTTP %ld)", a->label, a->action, code,
                       msg, resp.status);
        retry = resp.status >= 500 || retryable_code(code);
        if (!retry) {
            r = JG_ERR_DENIED;
            goto out;
        }
        jg_debug("%s; retrying (attempt %d)", s->err, attempt + 1);
        r = JG_ERR_IO;
    }
    {
        char tmp[SYNC_ERR_MAX + 64];

        snprintf(tmp, sizeof(tmp), "%s (gave up after %d attempts)", s->err,
                 s->max_attempts);
        jg_sync_seterr(s, "%s", tmp);
    }
    if (r == 0)
        r = JG_ERR_IO;
out:
    jg_sync_http_resp_clear(&resp);
    curl_slist_free_all(h);
    if (tok != NULL)
        explicit_bzero(tok, strlen(tok));
    free(tok);
    free(tg);
    free(ct);
    free(sigv4);
    return r;
}

int
jg_sync_ec2_call(struct jg_sync *s, const char *action, const GString *params,
                 char **body, size_t *len)
{
    GString *f = g_string_new(NULL);
    struct aws_call a = {.label = "EC2", .service = "ec2",
                         .url = s->ec2_endpoint, .action = action,
                         .content_type =
                             "application/x-www-form-urlencoded; charset=utf-8"};
    int r;

    jg_sync_form_add(f, "Action", action);
    jg_sync_form_add(f, "Version", EC2_VERSION);
    if (params != NULL && params->len > 0) {
        g_string_append_c(f, '&');
        g_string_append_len(f, params->str, (gssize)params->len);
    }
    a.body = f->str;
    a.body_len = f->len;
    r = aws_do(s, &a, body, len);
    g_string_free(f, TRUE);
    return r;
}

int
jg_sync_ecs_call(struct jg_sync *s, const char *action, json_t *req, char **out,
                 size_t *outlen)
{
    struct aws_call a = {.label = "ECS", .service = "ecs",
                         .url = s->ecs_endpoint, .action = action,
                         .content_type = "application/x-amz-json-1.1",
                         .json = true};
    char *body = NULL, *target = NULL;
    int r = JG_ERR_INTERNAL;

    *out = NULL;
    *outlen = 0;
    if ((body = json_dumps(req, JSON_COMPACT)) == NULL)
        goto out;
    target = jg_xasprintf("AmazonEC2ContainerServiceV20141113.%s", action);
    a.target = target;
    a.body = body;
    a.body_len = strlen(body);
    r = aws_do(s, &a, out, outlen);
out:
    free(target);
    free(body);
    return r;
}
