/* SPDX-License-Identifier: Apache-2.0 */
/* sync/internal.h - the client's state and the helpers shared by the files
 * of sync/ only (the public view is sync.h). */
#ifndef JG_SYNC_INTERNAL_H
#define JG_SYNC_INTERNAL_H

#include <curl/curl.h>
#include <glib.h>

#include "sync/sync.h"

#define SYNC_ERR_MAX 1024
#define SYNC_BODY_MAX (16u << 20)

struct jg_sync {
    CURL *curl;
    char *region;
    bool aws_configured;      /* the configuration has sync.aws */
    char *ec2_endpoint;       /* "https://ec2.REGION.amazonaws.com/" */
    char *ecs_endpoint;
    char *s3_endpoint;        /* AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL
                                 ("...\/"), or NULL: AWS itself */
    char *s3_region;
    uint64_t s3_part_size;
    char *cf_account_id;
    char *cf_api_base;
    char *cf_token_file;
    char *cf_token;           /* loaded on first use; cleared when freed */
    struct jg_sync_creds creds;
    bool have_creds;
    int max_attempts;         /* per request */
    int64_t backoff_base_ms, backoff_cap_ms;
    long timeout_ms, connect_timeout_ms;
    char aws_code[128];       /* last AWS error code ("" when none) */
    long cf_status;           /* HTTP status of the last Cloudflare call */
    const char *provider;     /* "aws"/"cloudflare" of the last call */
    jg_sync_observer_fn observer;
    void *observer_arg;
    char err[SYNC_ERR_MAX];
};

/* Tells the observer (if any) that change c was carried out. */
void jg_sync_report(struct jg_sync *s, const struct jg_sync_change *c,
                    const char *provider, const char *resource, bool already);

/* Sets the client's error text. */
void jg_sync_seterr(struct jg_sync *s, const char *fmt, ...) JG_PRINTF(2, 3);

/* ---- HTTP (http.c) ----------------------------------------------------- */

struct sync_http_req {
    const char *method;       /* "GET", "POST", "PUT" */
    const char *url;
    const struct curl_slist *headers;
    const char *body;         /* NULL: none */
    size_t body_len;
    const char *sigv4;        /* "aws:amz:REGION:SERVICE", or NULL */
    const char *key_id, *secret; /* with sigv4 */
};

struct sync_http_resp {
    long status;
    char *body;               /* NUL-terminated; caller frees */
    size_t len;
    int64_t retry_after;      /* seconds from Retry-After, or -1 */
    bool timed_out;           /* transport timeout */
    char etag[80];            /* ETag header, quotes removed, or "" */
    char request_id[128];     /* x-amz-request-id, or "" */
    char sse[32];             /* x-amz-server-side-encryption, or "" */
};

/* Performs one request. JG_ERR_IO with s->err set when the transport
 * fails (resp->timed_out tells a timeout). HTTP errors are not failures
 * here: the caller reads resp->status. */
int jg_sync_http_do(struct jg_sync *s, const struct sync_http_req *req,
                    struct sync_http_resp *resp);
void jg_sync_http_resp_clear(struct sync_http_resp *resp);
/* Sleeps ms milliseconds. */
void jg_sync_sleep_ms(int64_t ms);

/* ---- forms (form.c) ---------------------------------------------------- */

/* Appends "&name=value" (percent-encoded as SigV4 wants) to f. */
void jg_sync_form_add(GString *f, const char *name, const char *value);
void jg_sync_form_addf(GString *f, const char *name, const char *fmt, ...)
    JG_PRINTF(3, 4);

/* Appends s percent-encoded as SigV4 canonicalises it (RFC 3986
 * unreserved characters kept; "/" kept too when keep_slash). */
void jg_sync_uri_encode(GString *f, const char *s, bool keep_slash);

/* ---- AWS calls (aws_call.c) -------------------------------------------- */

/* Makes sure the client holds credentials that are not about to expire
 * (resolved through the chain on first use). */
int jg_sync_aws_creds(struct jg_sync *s);

/* An EC2 Query API call: Action, Version 2016-11-15 and params (a form
 * built with jg_sync_form_add, may be empty). Signed, retried with full-jitter
 * backoff on throttling, 5xx and timeouts. On an AWS error returns
 * JG_ERR_DENIED with s->aws_code set and s->err "EC2 ACTION: CODE: message".
 * *body (caller frees) is the answer. */
int jg_sync_ec2_call(struct jg_sync *s, const char *action,
                     const GString *params, char **body, size_t *len);
/* An ECS JSON 1.1 call (X-Amz-Target AmazonEC2ContainerServiceV20141113.
 * ACTION) with request body req. Same conventions; *body (caller frees) is
 * the answer. */
int jg_sync_ecs_call(struct jg_sync *s, const char *action, json_t *req,
                     char **body, size_t *len);

/* ---- security groups (ec2_sg.c) --------------------------------------- */

/* The rules of group (NULL: of every group) tagged managed-by=jumpgate,
 * every page. Caller frees *out with jg_sync_sg_rules_free. */
int jg_sync_sg_describe(struct jg_sync *s, const char *group,
                        struct jg_sync_sg_rule **out, size_t *n);
/* Adds one tagged tcp ingress rule; *already when EC2 says it exists. */
int jg_sync_sg_authorize(struct jg_sync *s, const char *group,
                         const char *exposure, uint16_t port,
                         const struct jg_cidr *cidr, const char *description,
                         bool *already);
/* Removes one rule by id; *already when EC2 says it is gone. */
int jg_sync_sg_revoke(struct jg_sync *s, const char *group, const char *rule_id,
                      bool *already);

/* ---- plans (plan.c, cf_plan.c) ---------------------------------------- */

/* Appends a change (strings copied). */
void jg_sync_plan_add(struct jg_sync_plan *plan, enum jg_sync_where where,
                      char op, const char *exposure, const char *target,
                      uint16_t port, const struct jg_cidr *cidr,
                      const char *rule_id, const char *description);
/* Appends a note (a thing left alone on purpose) to the plan. */
void jg_sync_plan_note(struct jg_sync_plan *plan, const char *fmt, ...)
    JG_PRINTF(2, 3);
/* "jumpgate: alice, g-7f3a" for CIDR c of exposure ei; caller g_frees. */
char *jg_sync_describe_cidr(const struct jg_policy *p, size_t ei, int64_t at,
                            const struct jg_cidr *c);
/* Adds the Cloudflare changes of every exposure with cloudflare, and
 * keeps what apply needs in plan->cf. */
int jg_sync_cf_plan(struct jg_sync *s, const struct jg_policy *p, int64_t at,
                    struct jg_sync_plan *plan);
/* Applies plan->cf: list contents (one bulk replace each) and rules. */
int jg_sync_cf_apply(struct jg_sync *s, const struct jg_sync_plan *plan,
                     size_t *done);
void jg_sync_cf_state_free(struct jg_sync_cf_state *v, size_t n);

/* ---- Cloudflare calls (cf_call.c) -------------------------------------- */

/* One v4 API call: method, path below api_base, an optional JSON body.
 * 429 waits for retry-after; 5xx and timeouts are retried. *result is the
 * envelope's result (new reference). */
int jg_sync_cf_call(struct jg_sync *s, const char *method, const char *path,
                    json_t *body, json_t **result, char **cursor);

/* Uploads the seal lines of the given days ("YYYY-MM-DD.jsonl" names of
 * events/) that changed since their last upload (ship_seals.c); outcomes
 * to cb and t. An error that ends the pass (no credentials, the state file
 * cannot be written) is returned with jg_sync_seterr(). */
int jg_sync_ship_seals(struct jg_sync *s, const struct jg_config *cfg,
                       int dfd, char **days, size_t n_days, jg_sync_ship_cb cb,
                       void *arg, struct jg_sync_ship_totals *t);

#endif
