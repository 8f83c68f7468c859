/* SPDX-License-Identifier: Apache-2.0 */
/* sync/cf_call.c - Cloudflare API v4 calls: bearer token from
 * sync.cloudflare.api_token_file, 429 with retry-after honoured, 5xx and
 * timeouts retried with full-jitter backoff, envelope errors with codes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

#define RETRY_AFTER_MAX 60 /* seconds we are willing to wait for one 429 */

static int
load_token(struct jg_sync *s)
{
    char *data = NULL;
    size_t len = 0, a = 0;
    int r;

    if (s->cf_token != NULL)
        return 0;
    if (s->cf_token_file == NULL) {
        jg_sync_seterr(s, "Cloudflare: sync.cloudflare.api_token_file is not "
                          "set in the configuration");
        return JG_ERR_INVALID;
    }
    if ((r = jg_read_file(s->cf_token_file, 4096, &data, &len)) != 0) {
        jg_sync_seterr(s, "Cloudflare token file %s: %s", s->cf_token_file,
                       jg_read_strerror(r));
        return r;
    }
    while (len > 0 && g_ascii_isspace(data[len - 1]))
        len--;
    while (a < len && g_ascii_isspace(data[a]))
        a++;
    if (a == len || memchr(data + a, '\n', len - a) != NULL) {
        jg_sync_seterr(s, "Cloudflare token file %s: expected one line",
                       s->cf_token_file);
        explicit_bzero(data, len);
        free(data);
        return JG_ERR_INVALID;
    }
    s->cf_token = g_strndup(data + a, len - a);
    explicit_bzero(data, len);
    free(data);
    return 0;
}

int
jg_sync_cf_call(struct jg_sync *s, const char *method, const char *path,
                json_t *body, json_t **result, char **cursor)
{
    struct sync_http_resp resp = {.retry_after = -1};
    struct curl_slist *h = NULL;
    char *url = NULL, *auth = NULL, *data = NULL;
    char err[768];
    int attempt, r;

    *result = NULL;
    if (cursor != NULL)
        *cursor = NULL;
    s->cf_status = 0;
    s->provider = "cloudflare";
    if ((r = load_token(s)) != 0)
        return r;
    url = jg_xasprintf("%s%s", s->cf_api_base, path);
    auth = jg_xasprintf("Authorization: Bearer %s", s->cf_token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    if (body != NULL && (data = json_dumps(body, JSON_COMPACT)) == NULL) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    for (attempt = 0; attempt < s->max_attempts; attempt++) {
        struct sync_http_req req = {.method = method, .url = url,
                                    .headers = h, .body = data,
                                    .body_len = data != NULL ? strlen(data)
                                                             : 0};
        int64_t wait;

        jg_sync_http_resp_clear(&resp);
        r = jg_sync_http_do(s, &req, &resp);
        if (r == JG_ERR_IO) {
            char tmp[SYNC_ERR_MAX + 64];

            snprintf(tmp, sizeof(tmp), "Cloudflare %s", s->err);
            jg_sync_seterr(s, "%s", tmp);
            jg_sync_sleep_ms(jg_sync_backoff_ms(attempt, s->backoff_base_ms,
                                                s->backoff_cap_ms));
            continue;
        }
        if (r != 0)
            goto out;
        s->cf_status = resp.status;
        if (resp.status == 429 || resp.status >= 500) {
            jg_sync_seterr(s, "Cloudflare %s %s: HTTP %ld", method, path,
                           resp.status);
            wait = jg_sync_backoff_ms(attempt, s->backoff_base_ms,
                                      s->backoff_cap_ms);
            if (resp.status == 429 && resp.retry_after >= 0)
                wait = (resp.retry_after > RETRY_AFTER_MAX ? RETRY_AFTER_MAX
                                                           : resp.retry_after) *
                       1000;
            jg_debug("%s; retrying in %lld ms", s->err, (long long)wait);
            jg_sync_sleep_ms(wait);
            r = JG_ERR_IO;
            continue;
        }
        r = jg_sync_cf_parse_envelope(resp.body, resp.len, result, cursor,
                                      err, sizeof(err));
        if (r == 0 && (resp.status < 200 || resp.status > 299)) {
            json_decref(*result);
            *result = NULL;
            snprintf(err, sizeof(err), "success true with HTTP status");
            r = JG_ERR_INVALID;
        }
        if (r == JG_ERR_DENIED)
            jg_sync_seterr(s, "Cloudflare %s %s: HTTP %ld: %s", method, path,
                           resp.status, err);
        else if (r != 0)
            jg_sync_seterr(s, "Cloudflare %s %s: HTTP %ld: malformed "
                           "answer: %s", method, path, resp.status, err);
        goto out;
    }
    {
        char tmp[SYNC_ERR_MAX + 64];

        snprintf(tmp, sizeof(tmp), "%s (gave up after %d attempts)", s->err,
                 s->max_attempts);
        jg_sync_seterr(s, "%s", tmp);
    }
    r = JG_ERR_IO;
out:
    jg_sync_http_resp_clear(&resp);
    curl_slist_free_all(h);
    explicit_bzero(auth, strlen(auth));
    free(auth);
    free(data);
    free(url);
    return r;
}
