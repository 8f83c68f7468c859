/* SPDX-License-Identifier: Apache-2.0 */
/* sync/sync.c - the sync client: settings from the configuration and the
 * AWS_ENDPOINT_URL* overrides, its curl handle, its error text and the
 * observer of the changes it makes. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

void
jg_sync_seterr(struct jg_sync *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
}

const char *
jg_sync_error(const struct jg_sync *s)
{
    return s->err;
}

const char *
jg_sync_error_provider(const struct jg_sync *s)
{
    return s->err[0] != '\0' ? s->provider : NULL;
}

void
jg_sync_set_observer(struct jg_sync *s, jg_sync_observer_fn cb, void *arg)
{
    s->observer = cb;
    s->observer_arg = arg;
}

void
jg_sync_report(struct jg_sync *s, const struct jg_sync_change *c,
               const char *provider, const char *resource, bool already)
{
    struct jg_sync_done d = {.change = c, .provider = provider,
                             .resource = resource, .already = already};

    if (s->observer != NULL)
        s->observer(&d, s->observer_arg);
}

/* The endpoint of service: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
 * or the regional default; always ending in "/". */
static char *
endpoint(const char *svc_env, const char *svc, const char *region)
{
    const char *e = getenv(svc_env);
    size_t n;

    if (e == NULL || *e == '\0')
        e = getenv("AWS_ENDPOINT_URL");
    if (e == NULL || *e == '\0')
        return jg_xasprintf("https://%s.%s.amazonaws.com/", svc, region);
    n = strlen(e);
    return jg_xasprintf("%s%s", e, e[n - 1] == '/' ? "" : "/");
}

/* S3's endpoint override, or NULL (AWS, virtual-hosted addressing). */
static char *
s3_endpoint(void)
{
    const char *e = getenv("AWS_ENDPOINT_URL_S3");
    size_t n;

    if (e == NULL || *e == '\0')
        e = getenv("AWS_ENDPOINT_URL");
    if (e == NULL || *e == '\0')
        return NULL;
    n = strlen(e);
    return jg_xasprintf("%s%s", e, e[n - 1] == '/' ? "" : "/");
}

static const char *
env_region(void)
{
    const char *r = getenv("AWS_REGION");

    if (r == NULL || *r == '\0')
        r = getenv("AWS_DEFAULT_REGION");
    return r != NULL && *r != '\0' ? r : NULL;
}

int
jg_sync_new(const struct jg_config *cfg, struct jg_sync **out)
{
    struct jg_sync *s = NULL;
    const char *region;
    int r = JG_ERR_INTERNAL;

    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto out;
    s = jg_xcalloc(1, sizeof(*s));
    if ((s->curl = curl_easy_init()) == NULL) {
        r = JG_ERR_NOMEM;
        goto out;
    }
    s->aws_configured = cfg->aws_region != NULL;
    region = cfg->aws_region != NULL ? cfg->aws_region : env_region();
    s->region = jg_xstrdup(region != NULL ? region : "us-east-1");
    s->ec2_endpoint = endpoint("AWS_ENDPOINT_URL_EC2", "ec2", s->region);
    s->ecs_endpoint = endpoint("AWS_ENDPOINT_URL_ECS", "ecs", s->region);
    s->s3_endpoint = s3_endpoint();
    region = cfg->s3_region != NULL ? cfg->s3_region : s->region;
    s->s3_region = jg_xstrdup(region);
    s->s3_part_size = (uint64_t)(cfg->s3_part_size_mib > 0
                                     ? cfg->s3_part_size_mib : 8) << 20;
    if (cfg->cf_account_id != NULL)
        s->cf_account_id = jg_xstrdup(cfg->cf_account_id);
    if (cfg->cf_api_token_file != NULL)
        s->cf_token_file = jg_xstrdup(cfg->cf_api_token_file);
    s->cf_api_base = jg_xstrdup(cfg->cf_api_base != NULL
                                    ? cfg->cf_api_base
                                    : "https://api.cloudflare.com/client/v4");
    s->max_attempts = 6;
    s->backoff_base_ms = 100;
    s->backoff_cap_ms = 5000;
    s->timeout_ms = 30000;
    s->connect_timeout_ms = 5000;
    *out = s;
    s = NULL;
    r = 0;
out:
    jg_sync_free(s);
    return r;
}

void
jg_sync_free(struct jg_sync *s)
{
    if (s == NULL)
        return;
    if (s->curl != NULL)
        curl_easy_cleanup(s->curl);
    jg_sync_creds_clear(&s->creds);
    free(s->region);
    free(s->ec2_endpoint);
    free(s->ecs_endpoint);
    free(s->s3_endpoint);
    free(s->s3_region);
    free(s->cf_account_id);
    free(s->cf_api_base);
    free(s->cf_token_file);
    if (s->cf_token != NULL) {
        explicit_bzero(s->cf_token, strlen(s->cf_token));
        free(s->cf_token);
    }
    free(s);
}
