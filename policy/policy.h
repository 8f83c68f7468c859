/* SPDX-License-Identifier: Apache-2.0 */
/* policy/policy.h - libjgpolicy: loads and validates policy.yaml plus
 * policy.d/NAME.yaml files into an immutable policy, answers "may this user do this
 * action on this target, from here, now, and until when?" (decide), computes
 * the source sets of exposure entries, and writes, revokes and prunes grant
 * files. See docs/jumpgate-policy.5.
 *
 * Ownership: a struct jg_policy is immutable once loaded and may be shared
 * between threads for reading. Every pointer handed out by the accessors
 * below is borrowed and valid until jg_policy_free(). Nothing here does
 * network I/O. */
#ifndef JG_POLICY_H
#define JG_POLICY_H

#include "common/common.h"

struct jg_policy;

/* ---- actions ---------------------------------------------------------- */

enum jg_action {
    JG_ACT_SHELL = 1u << 0,
    JG_ACT_EXEC = 1u << 1,
    JG_ACT_SFTP = 1u << 2,
    JG_ACT_FORWARD = 1u << 3,
    JG_ACT_JUMP = 1u << 4,
};
#define JG_ACT_ALL 0x1fu

/* "shell" -> JG_ACT_SHELL; 0 when unknown. */
unsigned jg_policy_action_parse(const char *s);
/* Name of one action bit; "?" when not exactly one known bit. */
const char *jg_policy_action_name(unsigned action);
/* "shell,exec,sftp" for a mask, into buf. */
void jg_policy_actions_format(unsigned mask, char *buf, size_t n);
/* Actions that need a login on the target (shell, exec, sftp). */
#define JG_ACT_NEEDS_LOGIN (JG_ACT_SHELL | JG_ACT_EXEC | JG_ACT_SFTP)

/* ---- the policy's parts (read-only views) ----------------------------- */

enum jg_target_kind { JG_TARGET_SSH, JG_TARGET_TCP };

/* How the gateway logs in to an SSH target: JG_AUTH_DEFAULT is a
 * certificate when upstream.ca is set and the static upstream.identity
 * otherwise; "auth: key" and "auth: cert" in the policy pick one. */
enum jg_target_auth { JG_AUTH_DEFAULT, JG_AUTH_KEY, JG_AUTH_CERT };

struct jg_label {
    const char *key, *value;
};

struct jg_user {
    const char *name;
    const char *const *keys;      /* "ssh-ed25519 AAAA... comment", n_keys */
    size_t n_keys;
    const char *const *groups;    /* n_groups */
    size_t n_groups;
    const struct jg_cidr *from;   /* canonical; n_from >= 1 */
    size_t n_from;
    bool mfa;
    int64_t expires;              /* JG_TIME_NEVER when it does not expire */
    unsigned max_sessions;        /* connections at once; 0: no limit */
};

struct jg_target {
    const char *name;             /* members: "ecs-prod/i-0abc..." */
    enum jg_target_kind kind;
    const char *host;             /* NULL for discovering targets */
    uint16_t port;                /* discovering targets: discover.port */
    const char *address;          /* as written, "host:port"; may be NULL */
    const char *ecs_cluster;      /* discover: {ecs_cluster: ...}; or NULL */
    const char *protocol;         /* "mysql", ...; or NULL */
    enum jg_target_auth auth;     /* kind ssh; members: the parent's */
    /* protocol mysql with auth: the gateway speaks MySQL on the tunnel */
    bool db_tls;                  /* tls: {ca: FILE}; false for tls: false */
    const char *db_tls_ca;        /* that CA bundle, or NULL */
    const char *db_password_file; /* auth: {password_file: FILE}, or NULL */
    const char *db_iam_region;    /* auth: {iam: {region: R}}, or NULL */
    const struct jg_label *labels;
    size_t n_labels;
    const char *parent;           /* members: the discovering target; or NULL */
    const char *alias;            /* members: the short name after the '/' */
};

struct jg_grant {
    const char *id;
    const char *user;
    const char *const *targets;   /* as written */
    size_t n_targets;
    unsigned allow;               /* JG_ACT_* mask */
    const char *const *logins;    /* may be empty */
    size_t n_logins;
    const struct jg_cidr *from;   /* empty: the user's own from */
    size_t n_from;
    int64_t until;
    int64_t created;              /* 0 when not recorded */
    const char *reason;
    const char *author;           /* who wrote it; NULL when not recorded */
    const char *file;             /* where it was defined */
    int line;
};

struct jg_cloudflare_exposure {
    const char *list;             /* account IP list name */
    const char *zone_id;
    const char *host;
    const char *path_prefix;
};

struct jg_exposure {
    const char *name;
    uint16_t port;                /* 0 when not given (Cloudflare only) */
    const char *sources;          /* as written: "users", "group:ops", ... */
    const char *aws_security_group; /* or NULL */
    const struct jg_cloudflare_exposure *cloudflare; /* or NULL */
};

/* ---- loading ---------------------------------------------------------- */

#define JG_POLICY_NO_FILES 0x1u /* do not read keys_file nor policy.d (fuzzing) */

/* Loads path and every policy.d/NAME.yaml files beside it (sorted by name),
 * and, for each discovering target T, the members that `jumpgate sync`
 * found, from policy.d/T.discovered.json when it exists (no file: no
 * members). That file is JSON: {"target": T, "cluster": NAME, "refreshed":
 * RFC3339, "members": [{"name": "T/ID", "alias": ALIAS, "address":
 * "HOST:PORT", "labels": {K: V, ...}}, ...]}; a malformed one is an error
 * of the policy like a malformed drop-in (one written for another cluster
 * than the policy's is ignored, with a warning in the log).
 * Returns 0; JG_ERR_IO when path or the policy.d folder cannot be read
 * (errno set, and one diagnostic naming the path); JG_ERR_INVALID when the
 * policy is not valid: then every error found is in d, as FILE:LINE:COL,
 * and *out is NULL (a policy is never half-loaded). Caller frees *out. */
int jg_policy_load(const char *path, struct jg_policy **out, struct jg_diags *d);
/* The same from memory, as if read from file name (no policy.d, no
 * keys_file when flags has JG_POLICY_NO_FILES). */
int jg_policy_load_mem(const char *name, const char *data, size_t len,
                       unsigned flags, struct jg_policy **out,
                       struct jg_diags *d);
void jg_policy_free(struct jg_policy *p);

/* Counts and lookups. Lookups return NULL when absent. */
size_t jg_policy_n_users(const struct jg_policy *p);
size_t jg_policy_n_targets(const struct jg_policy *p);
size_t jg_policy_n_rules(const struct jg_policy *p);
size_t jg_policy_n_grants(const struct jg_policy *p);
size_t jg_policy_n_exposures(const struct jg_policy *p);
const struct jg_user *jg_policy_user(const struct jg_policy *p, const char *name);
const struct jg_user *jg_policy_user_at(const struct jg_policy *p, size_t i);
/* A target by name. "ecs-prod/i-0abc" and "ecs-prod/ALIAS" give that
 * member of discovering target "ecs-prod" (with its own address and
 * labels; rules and grants naming "ecs-prod" or its labels cover it); a
 * member that discovery did not find is unknown (NULL). */
const struct jg_target *jg_policy_target(const struct jg_policy *p, const char *name);
/* The targets of the policy files, in order (discovering ones included,
 * members not). */
const struct jg_target *jg_policy_target_at(const struct jg_policy *p, size_t i);
/* The members of every discovering target, in file order. */
size_t jg_policy_n_members(const struct jg_policy *p);
const struct jg_target *jg_policy_member_at(const struct jg_policy *p, size_t i);
/* "DIR/policy.d/TARGET.discovered.json" beside policy_path. Caller frees. */
char *jg_policy_discovered_path(const char *policy_path, const char *target);
#define JG_POLICY_DISCOVERED_SUFFIX ".discovered.json"
#define JG_POLICY_DISCOVERED_MAX (8u << 20) /* bytes */
#define JG_POLICY_MEMBERS_MAX 10000         /* per discovering target */
const struct jg_grant *jg_policy_grant_at(const struct jg_policy *p, size_t i);
const struct jg_exposure *jg_policy_exposure_at(const struct jg_policy *p, size_t i);
/* An entry of the auditors section: the accounts that sign in to the web
 * console as this auditor (see jg_policy_auditor_sees for what it sees). */
struct jg_auditor {
    const char *name;
    const char *const *accounts;
    size_t n_accounts;
    const char *file;             /* where it is written */
    int line, col;
};
size_t jg_policy_n_auditors(const struct jg_policy *p);
const struct jg_auditor *jg_policy_auditor_at(const struct jg_policy *p,
                                              size_t i);
/* The auditor entry that names account, or NULL: not an auditor. */
const struct jg_auditor *jg_policy_auditor(const struct jg_policy *p,
                                           const char *account);
/* May auditor a see a session of user on target (as recorded: a member
 * "T/ID" counts as its target T, even once discovery no longer lists it)?
 * A user the policy no longer knows is seen only under sees.users "*", a
 * target it no longer knows only when sees.targets is left out; a NULL
 * user or target likewise. */
bool jg_policy_auditor_sees(const struct jg_policy *p,
                            const struct jg_auditor *a, const char *user,
                            const char *target);
/* Files the policy was loaded from (main file first). */
size_t jg_policy_n_files(const struct jg_policy *p);
const char *jg_policy_file_at(const struct jg_policy *p, size_t i);
/* The SHA-256 (64 lowercase hex digits) of the bytes of the policy files,
 * main file first then policy.d/NAME.yaml in load order, as if
 * concatenated (`cat policy.yaml policy.d/\*.yaml | sha256sum` in the C
 * locale). Discovered members and keys_file are not in it. */
const char *jg_policy_digest(const struct jg_policy *p);

/* ---- decisions -------------------------------------------------------- */

struct jg_request {
    const char *user;
    const char *from;     /* source address, IPv4 or IPv6 text */
    const char *target;   /* target name, or "discovering-target/member" */
    unsigned action;      /* exactly one JG_ACT_* */
    const char *login;    /* account on the target; NULL: the default one */
    int64_t at;           /* unix seconds */
    bool db_login;        /* a forward's database login (protocol: mysql):
                             checked against the logins of rules and grants
                             as for actions that log in */
};

enum jg_effect { JG_DENY = 0, JG_ALLOW = 1 };
enum jg_decided_by { JG_BY_DEFAULT, JG_BY_RULE, JG_BY_GRANT, JG_BY_USER };

struct jg_decision {
    enum jg_effect effect;
    enum jg_decided_by by;   /* DEFAULT: no rule applied; USER: unknown,
                                expired or bad request */
    char by_name[128];       /* the rule's name or the grant's id, or "" */
    char login[128];         /* the login allowed (the default when the
                                request named none); "" for forward/jump */
    char reason[512];        /* one human sentence */
    int64_t until;           /* allow: when the permission lapses (earliest
                                of grant end, user expiry, end of the time
                                window, at + max_session, start of a deny
                                window); JG_TIME_NEVER if it does not */
    int64_t max_session;     /* seconds, 0 when the rule sets none */
    bool record_input;
};

/* Decides a request. Never fails open: anything odd denies, with a reason.
 * Returns 0 (the answer is in *out) or JG_ERR_INVALID for a malformed
 * request (then *out is a deny too). */
int jg_policy_decide(const struct jg_policy *p, const struct jg_request *req,
                     struct jg_decision *out);

/* The logins the user may use for action on target at time at from the
 * source address, in rule order, without duplicates; the first is the
 * default. Returns the count (up to max) written to out (borrowed). */
size_t jg_policy_logins(const struct jg_policy *p, const struct jg_request *req,
                        const char **out, size_t max);

/* ---- exposure --------------------------------------------------------- */

/* The canonical, deduplicated source CIDRs of exposure entry i at time at:
 * the from of every unexpired user its sources name, and of every unexpired
 * grant of those users. Caller frees *out with free(). */
int jg_policy_exposure_sources(const struct jg_policy *p, size_t i, int64_t at,
                               struct jg_cidr **out, size_t *n);

/* ---- grants (drop-in files in policy.d/) ------------------------------ */

struct jg_grant_spec {
    const char *user;
    const char *const *targets;
    size_t n_targets;
    unsigned allow;
    const char *const *logins;
    size_t n_logins;
    const char *const *from;   /* CIDR strings; may be empty */
    size_t n_from;
    int64_t until;
    const char *reason;
    const char *author;        /* who grants it (one printable line); or NULL */
};

/* Writes a new grant as policy.d/grant-ID.yaml beside policy_path, after
 * checking that the policy with it loads (errors in d). The file is written
 * to a temporary name, fsynced, linked into place without replacing
 * anything, and the folder fsynced; concurrent calls never lose a grant.
 * id_out receives "g-" and 8 hex digits. */
int jg_policy_grant_write(const char *policy_path,
                          const struct jg_grant_spec *spec, int64_t now,
                          char *id_out, size_t id_size, struct jg_diags *d);
/* Removes the grant file of id. JG_ERR_NOTFOUND when no grant file in
 * policy.d holds it; JG_ERR_INVALID when it is defined elsewhere (a
 * diagnostic says where: such grants are edited by hand). */
int jg_policy_grant_revoke(const char *policy_path, const char *id,
                           struct jg_diags *d);
/* Removes the grant files in policy.d whose grants have all ended at now.
 * Calls cb (may be NULL) for each grant removed. Returns the count or a
 * negative JG_ERR_*. */
int jg_policy_grant_prune(const char *policy_path, int64_t now,
                          void (*cb)(const char *id, const char *user,
                                     int64_t until, void *arg),
                          void *arg, struct jg_diags *d);

#endif
