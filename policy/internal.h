/* SPDX-License-Identifier: Apache-2.0 */
/* policy/internal.h - the policy's in-memory form, shared by the files of
 * policy/ only (the public view is policy.h). */
#ifndef JG_POLICY_INTERNAL_H
#define JG_POLICY_INTERNAL_H

#include <glib.h>

#include "policy/policy.h"

/* One "DAYS [HH:MM-HH:MM] [ZONE]" window. Minutes of the local day;
 * start > end means overnight into the next day. */
struct pol_window {
    uint8_t days;    /* bit 0 = Monday ... bit 6 = Sunday */
    int start, end;  /* 0..1440 */
    GTimeZone *tz;   /* owned reference */
};

struct pol_when {
    struct pol_window *w;
    size_t n;        /* 0: always */
};

struct pol_user {
    struct jg_user pub;
    unsigned *rules;     /* indexes of rules naming the user or a group */
    size_t n_rules;
    unsigned *grants;    /* indexes of the user's grants */
    size_t n_grants;
};

struct pol_target {
    struct jg_target pub;
};

/* A member of a discovering target (policy.d/T.discovered.json). */
struct pol_member {
    struct jg_target pub;
    unsigned parent;         /* index of the discovering target */
};

/* A compiled list of target patterns: a bitmap over the targets. */
struct pol_targets {
    uint64_t *bits;      /* NULL: every target */
};

struct pol_rule {
    const char *name;
    bool deny;
    const char *const *users;
    size_t n_users;
    const char *const *groups;
    size_t n_groups;
    const char *const *targets;
    size_t n_targets;
    unsigned allow;          /* JG_ACT_* mask; deny rules: 0 = all */
    const char *const *logins;
    size_t n_logins;
    struct pol_when when;
    int64_t max_session;
    bool record_input;
    struct pol_targets tset;
    const char *file;
    int line, col;
};

struct pol_grant {
    struct jg_grant pub;
    struct pol_targets tset;
};

struct pol_exposure {
    struct jg_exposure pub;
    struct jg_cloudflare_exposure cf;
    const char *file;
    bool all_users;
    const char *const *src_users;   /* user:NAME */
    size_t n_src_users;
    const char *const *src_groups;  /* group:NAME */
    size_t n_src_groups;
};

/* An auditors entry: who signs in, and whose sessions they see. */
struct pol_auditor {
    struct jg_auditor pub;
    bool all_users;                 /* sees.users: ["*"] */
    const char *const *users;       /* sees.users */
    size_t n_users;
    const char *const *groups;      /* sees.groups */
    size_t n_groups;
    const char *const *targets;     /* sees.targets; none: every target */
    size_t n_targets;
    struct pol_targets tset;
};

struct jg_policy {
    GStringChunk *strs;      /* every string of the policy */
    GPtrArray *allocs;       /* every other block, freed with the policy */
    GArray *users;           /* struct pol_user */
    GArray *targets;         /* struct pol_target */
    GArray *rules;           /* struct pol_rule */
    GArray *grants;          /* struct pol_grant */
    GArray *exposures;       /* struct pol_exposure */
    GArray *auditors;        /* struct pol_auditor */
    GArray *members;         /* struct pol_member */
    GHashTable *user_idx;    /* name -> index + 1 */
    GHashTable *target_idx;  /* name -> index + 1 */
    GHashTable *member_idx;  /* "T/ID" and "T/ALIAS" -> member index + 1 */
    GHashTable *groups;      /* group name -> 1 */
    unsigned *global_rules;  /* deny rules that name no user or group */
    size_t n_global_rules;
    GPtrArray *files;        /* char *, owned by strs */
    size_t tset_words;       /* uint64_t words in a target bitmap */
    char digest[65];         /* SHA-256 (hex) of the files' bytes in order */
};

/* Load context: the policy being built and where errors go. */
struct pol_ctx {
    struct jg_policy *p;
    struct jg_diags *d;
    const char *file;        /* file being read (in p->strs) */
    unsigned flags;
    /* positions for cross-checks after everything is read */
    GArray *rule_nodes;      /* const struct jg_ynode * of each rule */
    GArray *grant_nodes;
    GArray *exposure_nodes;
    GArray *auditor_nodes;
};

/* policy.c: allocation inside a policy */
const char *jg_policy_str(struct jg_policy *p, const char *s);
void *jg_policy_alloc(struct jg_policy *p, size_t n);
const char *const *jg_policy_strv(struct jg_policy *p, char **v, size_t n);
struct jg_policy *jg_policy_new(void);

/* load_users.c, load_rules.c: sections of a file */
void jg_policy_load_users(struct pol_ctx *x, const struct jg_ynode *n);
void jg_policy_load_targets(struct pol_ctx *x, const struct jg_ynode *n);
void jg_policy_load_rules(struct pol_ctx *x, const struct jg_ynode *n);
void jg_policy_load_grants(struct pol_ctx *x, const struct jg_ynode *n);
void jg_policy_load_exposure(struct pol_ctx *x, const struct jg_ynode *n);
/* load_auditors.c */
void jg_policy_load_auditors(struct pol_ctx *x, const struct jg_ynode *n);
/* helpers shared by the loaders */
/* A scalar or list of names into the policy; NULL node: empty list. */
const char *const *jg_policy_names(struct pol_ctx *x, const struct jg_ynode *n,
                                   const char *what, size_t *cnt);
bool jg_policy_name_ok(const char *s, bool user);
unsigned jg_policy_actions(struct pol_ctx *x, const struct jg_ynode *n,
                           bool *ok);
bool jg_policy_cidrs(struct pol_ctx *x, const struct jg_ynode *n,
                     const char *what, struct jg_cidr **out, size_t *count);

/* discovered.c: the members of discovering targets, from
 * policy.d/T.discovered.json beside policy_path (after jg_policy_index). */
void jg_policy_load_discovered(struct pol_ctx *x, const char *policy_path);
/* One such file's text, for target index ti; errors name file. */
void jg_policy_parse_discovered(struct pol_ctx *x, unsigned ti,
                                const char *file, const char *data,
                                size_t len);

/* keys.c: OpenSSH public key lines */
bool jg_policy_key_ok(const char *line, char *why, size_t why_size);

/* when.c: time windows */
bool jg_policy_when_parse(struct pol_ctx *x, const struct jg_ynode *n,
                          struct pol_when *out);
void jg_policy_when_free(struct pol_when *w);
bool jg_policy_when_contains(const struct pol_when *w, int64_t t);
/* End of the allowed period that contains t (joined across adjacent
 * windows); JG_TIME_NEVER when it does not end within a week. */
int64_t jg_policy_when_end(const struct pol_when *w, int64_t t);
/* First instant after t at which a window starts; JG_TIME_NEVER if none. */
int64_t jg_policy_when_next_start(const struct pol_when *w, int64_t t);

/* index.c: cross-references and indexes, after every file is read */
void jg_policy_index(struct pol_ctx *x);
bool jg_policy_tset_has(const struct jg_policy *p, const struct pol_targets *s,
                        unsigned target);
int jg_policy_target_index(const struct jg_policy *p, const char *name);
int jg_policy_user_index(const struct jg_policy *p, const char *name);
bool jg_policy_user_in_group(const struct jg_user *u, const char *group);

#define POL_RULE(p, i) (&g_array_index((p)->rules, struct pol_rule, (i)))
#define POL_USER(p, i) (&g_array_index((p)->users, struct pol_user, (i)))
#define POL_TARGET(p, i) (&g_array_index((p)->targets, struct pol_target, (i)))
#define POL_GRANT(p, i) (&g_array_index((p)->grants, struct pol_grant, (i)))
#define POL_MEMBER(p, i) (&g_array_index((p)->members, struct pol_member, (i)))
#define POL_EXPOSURE(p, i) (&g_array_index((p)->exposures, struct pol_exposure, (i)))
#define POL_AUDITOR(p, i) (&g_array_index((p)->auditors, struct pol_auditor, (i)))

#endif
