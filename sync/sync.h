/* SPDX-License-Identifier: Apache-2.0 */
/* sync/sync.h - keeps the cloud firewalls in step with the policy
 *: an AWS client on libcurl (SigV4, credential chain,
 * endpoint overrides, retries), the EC2 security-group reconciler, the
 * Cloudflare IP-list and WAF-rule reconciler, and the parsers of what those
 * services answer.
 *
 * Ownership: struct jg_sync is one client, used by one thread at a time; it
 * owns its curl handle and credentials. A struct jg_sync_plan is owned by
 * the caller and freed with jg_sync_plan_free(). Error texts are borrowed
 * until the next call on the same client. Secrets (keys, tokens) never
 * appear in error texts or logs. */
#ifndef JG_SYNC_H
#define JG_SYNC_H

#include <jansson.h>

#include "common/common.h"
#include "policy/policy.h"

struct jg_sync;

/* ---- the client (sync.c) ---------------------------------------------- */

/* A client for cfg's sync settings. Nothing is contacted yet: credentials
 * are looked up on the first AWS call. Caller frees *out. */
int jg_sync_new(const struct jg_config *cfg, struct jg_sync **out);
void jg_sync_free(struct jg_sync *s);
/* The last error, one line naming the request and what went wrong ("" when
 * none). Borrowed until the next call on s. */
const char *jg_sync_error(const struct jg_sync *s);

/* ---- AWS credentials (aws_creds.c, aws_imds.c) ------------------------- */

struct jg_sync_creds {
    char *key_id;
    char *secret;       /* cleared with explicit_bzero when freed */
    char *token;        /* session token, or NULL */
    int64_t expires;    /* JG_TIME_NEVER for long-term keys */
    const char *source; /* "environment", "shared-credentials-file", "imds" */
};

/* Fills *c from the chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
 * AWS_SESSION_TOKEN; then the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE
 * or "default"); then IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT, default
 * http://169.254.169.254; skipped when AWS_EC2_METADATA_DISABLED=true).
 * JG_ERR_NOTFOUND when no source has credentials. Caller clears *c. */
int jg_sync_creds_resolve(struct jg_sync *s, struct jg_sync_creds *c);
void jg_sync_creds_clear(struct jg_sync_creds *c);
/* Parses a shared credentials file's text for profile. JG_ERR_NOTFOUND
 * when the profile or its keys are absent; JG_ERR_INVALID (with a message
 * in err, never a value) when a line is malformed. */
int jg_sync_creds_parse_file(const char *text, size_t len, const char *profile,
                             struct jg_sync_creds *c, char *err, size_t errlen);
/* Parses the IMDS role-credentials JSON document. */
int jg_sync_creds_parse_imds(const char *text, size_t len,
                             struct jg_sync_creds *c, char *err,
                             size_t errlen);

/* ---- RDS IAM authentication (rds_token.c) ------------------------------ */

/* An RDS IAM authentication token for user on the database at host:port
 * in region, made at now (Unix seconds) and valid 15 minutes: the
 * presigned SigV4 "connect" request of service rds-db without its scheme,
 * byte for byte what AWS's SDKs make (generate_db_auth_token); the
 * session token, when c has one, is signed in. *out (caller frees) is a
 * secret: send it only over TLS. JG_ERR_INVALID for a missing argument. */
int jg_sync_rds_token(const struct jg_sync_creds *c, const char *host,
                      uint16_t port, const char *user, const char *region,
                      int64_t now, char **out);

/* ---- backoff (backoff.c) ---------------------------------------------- */

/* Full-jitter exponential backoff: a random delay in [0, min(cap_ms,
 * base_ms * 2^attempt)] milliseconds (attempt counts from 0). */
int64_t jg_sync_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms);

/* ---- EC2 (ec2_xml.c): parsers of EC2 Query API answers ------------------ */

#define JG_SYNC_XML_MAX (8u << 20)

struct jg_sync_sg_rule {
    char *rule_id;       /* sgr-... */
    char *group_id;      /* sg-... */
    bool egress;
    char *protocol;      /* "tcp", "-1", ... */
    int from_port, to_port;
    bool has_cidr;       /* false: the rule names a prefix list or group */
    struct jg_cidr cidr;
    char *description;   /* or NULL */
    char *exposure;      /* tag jumpgate-exposure, or NULL */
    bool managed;        /* tag managed-by=jumpgate */
};

void jg_sync_sg_rules_free(struct jg_sync_sg_rule *v, size_t n);

/* The <Response><Errors><Error> envelope: code and message of the first
 * error. JG_ERR_INVALID when buf is not such a document. */
int jg_sync_ec2_parse_error(const char *buf, size_t len, char *code,
                            size_t codelen, char *msg, size_t msglen);
/* A DescribeSecurityGroupRulesResponse: appends its rules to *v (grown;
 * caller frees with jg_sync_sg_rules_free) and sets *next_token (caller
 * frees; NULL on the last page). JG_ERR_INVALID with err naming the field
 * when the document is not of that shape. */
int jg_sync_ec2_parse_sg_rules(const char *buf, size_t len,
                               struct jg_sync_sg_rule **v, size_t *n,
                               char **next_token, char *err, size_t errlen);
/* An answer whose <return> must be "true" (Authorize/Revoke). */
int jg_sync_ec2_parse_return(const char *buf, size_t len, const char *root,
                             char *err, size_t errlen);

struct jg_sync_instance {
    char *instance_id;
    char *private_ip;    /* or NULL */
    char *state;         /* instanceState/name ("running", ...), or NULL */
    char *name_tag;      /* the value of tag Name, or NULL */
};
void jg_sync_instances_free(struct jg_sync_instance *v, size_t n);
/* A DescribeInstancesResponse: appends its instances to *v. */
int jg_sync_ec2_parse_instances(const char *buf, size_t len,
                                struct jg_sync_instance **v, size_t *n,
                                char **next_token, char *err, size_t errlen);

/* ---- ECS (ecs_json.c): parsers of ECS JSON 1.1 answers ------------------ */

/* A ListContainerInstances answer: appends its containerInstanceArns to
 * *arns (grown; caller frees each and the vector) and sets *next_token
 * (caller frees; NULL on the last page). JG_ERR_INVALID with err naming
 * the field when the document is not of that shape. */
int jg_sync_ecs_parse_list(const char *buf, size_t len, char ***arns,
                           size_t *n, char **next_token, char *err,
                           size_t errlen);

struct jg_sync_container_instance {
    char *arn;
    char *instance_id;   /* ec2InstanceId: "i-" and 8 or 17 hex digits */
    char *status;        /* "ACTIVE", "DRAINING", ... */
};
void jg_sync_container_instances_free(struct jg_sync_container_instance *v,
                                      size_t n);
/* A DescribeContainerInstances answer: appends its containerInstances to
 * *v; *n_failures (may be NULL) gets the number of its failures entries
 * (instances ECS no longer knows). */
int jg_sync_ecs_parse_describe(const char *buf, size_t len,
                               struct jg_sync_container_instance **v,
                               size_t *n, size_t *n_failures, char *err,
                               size_t errlen);
/* Whether s is an EC2 instance id ("i-" and 8 or 17 lowercase hex). */
bool jg_sync_instance_id_ok(const char *s);

/* ---- ECS discovery (ecs_discover.c, discovered_file.c) ----------------- */

struct jg_sync_member {
    char *instance_id;
    char *alias;         /* see jg_sync_members_alias() */
    char *address;       /* "PRIVATE-IP:PORT" ("[IPv6]:PORT") */
    char *name_tag;      /* EC2 tag Name, or NULL */
};
void jg_sync_members_free(struct jg_sync_member *v, size_t n);

/* The running, ACTIVE container instances of discovering target t's
 * cluster (ListContainerInstances with paging, DescribeContainerInstances
 * by 100, EC2 DescribeInstances), sorted by instance id, aliases set.
 * Instances without a private address are left out. Caller frees *out. On
 * failure nothing is returned and the error says which call failed. */
int jg_sync_discover(struct jg_sync *s, const struct jg_target *t,
                     struct jg_sync_member **out, size_t *n);
/* Gives every member a short alias, unique within v: its Name tag when
 * that is a valid target name, does not start with "i-" and no other
 * member has the same Name tag; otherwise the last 8 characters of its
 * instance id (more while another member's id ends the same way or a tag
 * took that name, up to the whole id). */
void jg_sync_members_alias(struct jg_sync_member *v, size_t n);
/* Writes policy.d/T.discovered.json beside policy_path (the format is in
 * policy.h): temporary file, fsync, rename, folder fsync; mode 0644.
 * Members get t's labels plus instance-id. JG_ERR_IO with err set. */
int jg_sync_discovered_write(const char *policy_path,
                             const struct jg_target *t,
                             const struct jg_sync_member *v, size_t n,
                             int64_t now, char *err, size_t errlen);

/* ---- Cloudflare (cf_json.c): the v4 envelope --------------------------- */

#define JG_SYNC_JSON_MAX (8u << 20)

/* Parses a v4 answer {"success":..,"errors":[{code,message}],"result":..}.
 * On success *result is a new reference to "result" (may be JSON null) and
 * *cursor (may be NULL; caller frees) the result_info cursor, if any. When
 * success is false returns JG_ERR_DENIED with "CODE: message[; ...]" in
 * err. JG_ERR_INVALID, err naming the field, when the shape is wrong. */
int jg_sync_cf_parse_envelope(const char *buf, size_t len, json_t **result,
                              char **cursor, char *err, size_t errlen);

/* ---- plan and apply (plan.c, plan_print.c, apply.c) -------------------- */

enum jg_sync_where { JG_SYNC_AWS_SG, JG_SYNC_CF_LIST, JG_SYNC_CF_RULE };

struct jg_sync_change {
    enum jg_sync_where where;
    char op;             /* '+' add, '-' remove */
    char *exposure;
    char *target;        /* sg-... or the list name */
    uint16_t port;       /* security groups */
    struct jg_cidr cidr; /* SG and list changes */
    char *rule_id;       /* removals: sgr-...; CF rule: its description */
    char *description;   /* additions: who the source belongs to */
};

struct jg_sync_cf_state;

struct jg_sync_plan {
    struct jg_sync_change *v;
    size_t n;
    size_t n_removals;   /* managed SG rules or list items to remove */
    struct jg_sync_cf_state *cf; /* Cloudflare desired sets and ids */
    size_t n_cf;
    char **notes;        /* things left alone on purpose, one line each */
    size_t n_notes;
};

/* Reads the actual state and compares it with the policy at time at.
 * Only reads. Managed rules (tag managed-by=jumpgate) of security groups
 * that no exposure names any more are removals too (looked for when the
 * configuration has sync.aws or an exposure names a group); Cloudflare
 * lists jumpgate created that no exposure names are left alone and listed
 * in notes. Caller frees *out. */
int jg_sync_plan_build(struct jg_sync *s, const struct jg_policy *p,
                       int64_t at, struct jg_sync_plan **out);
void jg_sync_plan_free(struct jg_sync_plan *plan);
/* Terraform-like text: one "+"/"-" line per change, grouped by exposure,
 * and a summary line. */
void jg_sync_plan_print(const struct jg_sync_plan *plan, FILE *out);
/* {"changes":[{...}], "add":N, "remove":N}; a new reference. */
json_t *jg_sync_plan_json(const struct jg_sync_plan *plan);

/* What apply reports for each change it carried out: the change, the
 * provider ("aws", "cloudflare"), the resource changed (sg-..., the
 * Cloudflare list id or WAF rule id) and whether it was already so. */
struct jg_sync_done {
    const struct jg_sync_change *change;
    const char *provider;
    const char *resource;
    bool already;
};
typedef void (*jg_sync_observer_fn)(const struct jg_sync_done *d, void *arg);
/* Calls cb (NULL: nobody) for every change apply carries out on s. */
void jg_sync_set_observer(struct jg_sync *s, jg_sync_observer_fn cb,
                          void *arg);
/* "aws" or "cloudflare": whose call (or setting) the last error is
 * about; NULL when none failed. */
const char *jg_sync_error_provider(const struct jg_sync *s);

/* Carries the plan out. Refuses (JG_ERR_DENIED, message in the error)
 * when it would remove more than max_removals rules, unless force. Stops at
 * the first failing change (the next run converges). *done (may be NULL)
 * counts the changes made. */
int jg_sync_plan_apply(struct jg_sync *s, const struct jg_sync_plan *plan,
                       int max_removals, bool force, size_t *done);

/* ---- S3 (s3.c, s3_xml.c) ---------------------------------------------- *
 * Objects are PUT with SigV4 (service "s3"): every request carries
 * x-amz-content-sha256 and Content-MD5 of its body, both signed, so S3
 * refuses a body that was changed in transit. Addressing is path-style
 * ENDPOINT/BUCKET/KEY against AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, and
 * virtual-hosted https://BUCKET.s3.REGION.amazonaws.com/KEY against AWS
 * (path-style there too for a bucket name with a dot, which TLS cannot
 * match). The region is audit.s3.region, else sync.aws.region, else
 * AWS_REGION. 5xx, SlowDown, InternalError, RequestTimeout and transport
 * failures are retried with full-jitter backoff. */

/* The <Error> envelope of S3: code, message and request id. */
struct jg_sync_s3_error {
    char code[64];
    char message[256];
    char request_id[128];
};

/* Parses an S3 <Error> document into *e. JG_ERR_INVALID when buf is not
 * one (a missing or empty <Code>). */
int jg_sync_s3_parse_error(const char *buf, size_t len,
                           struct jg_sync_s3_error *e);
/* <InitiateMultipartUploadResult>: *upload_id (caller frees). JG_ERR_INVALID
 * with err when the document is not of that shape. */
int jg_sync_s3_parse_initiate(const char *buf, size_t len, char **upload_id,
                              char *err, size_t errlen);
/* <CompleteMultipartUploadResult>: its ETag (quotes removed) in etag. S3
 * may answer 200 with an <Error> document: then JG_ERR_DENIED and *e.
 * JG_ERR_INVALID with err for anything else. */
int jg_sync_s3_parse_complete(const char *buf, size_t len, char *etag,
                              size_t etaglen, struct jg_sync_s3_error *e,
                              char *err, size_t errlen);

#define JG_SYNC_S3_MIN_PART (5u << 20) /* what AWS S3 accepts */

/* What an upload did. */
struct jg_sync_s3_put {
    uint64_t size;
    char sha256[65];   /* hex SHA-256 of the bytes sent */
    char etag[80];     /* the object's ETag, quotes removed */
    unsigned parts;    /* 0: one PutObject; else the multipart part count */
};

/* Part size of multipart uploads, also the threshold: a file larger than
 * one part goes multipart (CreateMultipartUpload, UploadPart...,
 * CompleteMultipartUpload; AbortMultipartUpload when a step fails). */
void jg_sync_s3_set_part_size(struct jg_sync *s, uint64_t bytes);
/* True when S3 is AWS itself (no endpoint override). */
bool jg_sync_s3_is_aws(const struct jg_sync *s);
/* The URL of bucket/key (key percent-encoded as SigV4 canonicalises it,
 * "/" kept). Caller frees. */
char *jg_sync_s3_url(const struct jg_sync *s, const char *bucket,
                     const char *key);
/* Uploads the first size bytes of fd (read with pread) to bucket/key with
 * content_type. Checks each answer's ETag against the MD5 of what was sent
 * (unless S3 says the object is SSE-KMS encrypted, where the ETag is no
 * MD5). JG_ERR_IO when the store could not be reached or kept failing,
 * JG_ERR_DENIED when it refused ("S3 PutObject KEY: CODE: message (request
 * ID, HTTP n)" in the error), JG_ERR_NOTFOUND when there are no
 * credentials, JG_ERR_INVALID when fd gave fewer bytes than size. */
int jg_sync_s3_put_file(struct jg_sync *s, const char *bucket, const char *key,
                        int fd, uint64_t size, const char *content_type,
                        struct jg_sync_s3_put *out);

/* PUTs len bytes of buf as one object (small ones: no multipart). */
int jg_sync_s3_put_buf(struct jg_sync *s, const char *bucket, const char *key,
                       const char *buf, size_t len, const char *content_type,
                       struct jg_sync_s3_put *out);
/* GETs an object of at most max bytes: 0 with *found and *buf (caller
 * frees; NUL-terminated) and *len, or 0 with *found false when the store
 * has no such object; JG_ERR_TOOBIG, JG_ERR_DENIED, JG_ERR_IO, JG_ERR_NOTFOUND
 * (no credentials) with jg_sync_error(). */
int jg_sync_s3_get(struct jg_sync *s, const char *bucket, const char *key,
                   size_t max, bool *found, char **buf, size_t *len);

/* ---- shipping audit files to S3 (ship.c, ship_state.c) ---------------- */

/* What landed: one line of audit.dir/ship/state. */
struct jg_sync_ship_entry {
    char *file;          /* below audit.dir: "sessions/DAY/ID.cast" */
    char *key;           /* the object key it landed under */
    uint64_t size;
    char sha256[65];
    char etag[80];
    int64_t time_us;     /* when it landed */
    int64_t mtime_ns, ctime_ns;
    uint64_t ino;
};

/* The ship state: for each file, the last entry recorded for it. */
struct jg_sync_ship_state;

/* Parses state text (JSON lines). A last line without a newline (a crash
 * in the middle of an append) is ignored and counted in *torn (may be
 * NULL); any other line that is not an entry is JG_ERR_INVALID with
 * "line N: ..." in err. Caller frees *out. */
int jg_sync_ship_state_parse(const char *buf, size_t len,
                             struct jg_sync_ship_state **out, size_t *torn,
                             char *err, size_t errlen);
/* Opens audit_dir/ship/state (folder 0750 and file 0640 created as needed,
 * O_NOFOLLOW), takes an exclusive flock held until freed, loads it, and
 * cuts off a torn last line. JG_ERR_INVALID/IO with err. */
int jg_sync_ship_state_open(const char *audit_dir,
                            struct jg_sync_ship_state **out, char *err,
                            size_t errlen);
/* The last entry of file, or NULL. Borrowed until the next record. */
const struct jg_sync_ship_entry *
jg_sync_ship_state_get(const struct jg_sync_ship_state *st, const char *file);
size_t jg_sync_ship_state_count(const struct jg_sync_ship_state *st);
/* One state line for e, with its newline. Caller frees. */
char *jg_sync_ship_entry_line(const struct jg_sync_ship_entry *e, size_t *len);
/* Records e (copied): appended with one write(2) and fdatasync()ed when st
 * came from a file, then kept in memory. */
int jg_sync_ship_state_record(struct jg_sync_ship_state *st,
                              const struct jg_sync_ship_entry *e);
void jg_sync_ship_state_free(struct jg_sync_ship_state *st);

enum jg_sync_ship_what {
    JG_SYNC_SHIP_SHIPPED,  /* landed now */
    JG_SYNC_SHIP_CHANGED,  /* differs from what landed before; shipped
                              again under key (when it landed) */
    JG_SYNC_SHIP_FAILED,   /* could not be shipped; left for the next pass */
    JG_SYNC_SHIP_WAITING,  /* not finished yet */
    JG_SYNC_SHIP_SEALS,    /* a day's seal lines uploaded (size: how many) */
};

/* One outcome, borrowed for the callback. */
struct jg_sync_ship_item {
    enum jg_sync_ship_what what;
    const char *file;        /* below audit.dir */
    const char *key;         /* object key (not for WAITING) */
    uint64_t size;
    const char *sha256;      /* of the file now (SHIPPED, CHANGED) */
    unsigned parts;
    bool landed;             /* CHANGED: the new copy landed */
    const char *reason;      /* FAILED, WAITING: why; CHANGED: a failure */
    const struct jg_sync_ship_entry *was; /* CHANGED: what had landed */
};
typedef void (*jg_sync_ship_cb)(const struct jg_sync_ship_item *it,
                                void *arg);

struct jg_sync_ship_totals {
    size_t shipped, unchanged, waiting, failed, changed, event_failures;
    size_t seals;            /* days whose seal lines were uploaded */
};

struct jg_audit_key;

/* Seal lines in S3 (ship_seals.c). Each pass also uploads, for every day
 * of the event log (today's too) with seal lines the last upload did not
 * hold, the day's seal lines byte for byte and in order as the object
 * PREFIX"seals/YYYY-MM-DD.jsonl" (replaced as the day grows; what went up
 * last is kept in audit.dir/ship/seals), without an audit.ship event. */

/* The seal lines (each with its newline) of events/DAY.jsonl below the
 * folder audit_dfd: *out (caller frees), *len bytes, *count lines.
 * JG_ERR_NOTFOUND when the day file does not exist. */
int jg_sync_seal_lines(int audit_dfd, const char *day, char **out,
                       size_t *len, size_t *count);
/* PREFIX (audit.s3.prefix, may be NULL) + "seals/DAY.jsonl". */
char *jg_sync_seals_key(const char *prefix, const char *day);
/* `audit verify --against-s3`: fetches the seal lines shipped for every
 * local day and each later day up to now_us's, and checks that each is a
 * seal made with pub (when not NULL) and that the local day holds them,
 * the same lines in the same order. Problems go to d (the local file, or
 * the object and its line); *days_checked and *lines_checked count the
 * objects and lines found. 0 when the store answered (whatever d says);
 * an error with jg_sync_error() when it could not be read. */
int jg_sync_seals_check(struct jg_sync *s, const struct jg_config *cfg,
                        const struct jg_audit_key *pub, int64_t now_us,
                        struct jg_diags *d, size_t *days_checked,
                        size_t *lines_checked);

/* One shipping pass over cfg's audit.dir to audit.s3: finished recordings
 * (the last line of ID.cast.seal is a final checkpoint of that session
 * covering every byte of ID.cast) with their seals, and event-log days
 * before now_us's UTC day that are complete (their last line is a seal, a
 * later day exists, or there is no signing key to seal them). Each landed
 * file is recorded in audit.dir/ship/state and logged as an audit.ship
 * event; a file that differs from what landed is reported, logged as
 * audit.ship.changed and shipped under "KEY.changed-SHA256[:16]", leaving
 * the first copy. cb (may be NULL) hears every outcome but "unchanged".
 * Stops early when the store cannot be reached (the rest is left for the
 * next pass). Returns 0 when the pass ran (see *t), or an error that
 * stops every pass (configuration, state, credentials) with the message
 * in jg_sync_error(). */
int jg_sync_ship_pass(struct jg_sync *s, const struct jg_config *cfg,
                      int64_t now_us, jg_sync_ship_cb cb, void *arg,
                      struct jg_sync_ship_totals *t);

#endif
