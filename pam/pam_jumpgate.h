/* SPDX-License-Identifier: Apache-2.0 */
/* pam/pam_jumpgate.h - the parts of pam_jumpgate.so that do not need libpam:
 * module arguments, the policy check, and the decision's event in the
 * audit event log (docs/pam_jumpgate.8).
 *
 * Everything here is reentrant: no global state, every call loads what it
 * needs and frees it before returning, every fd it opens is close-on-exec
 * and closed before it returns, so the module may run in several threads
 * of someone else's process at once. */
#ifndef JG_PAM_JUMPGATE_H
#define JG_PAM_JUMPGATE_H

#include "common/common.h"
#include "policy/policy.h"

/* Source address used when PAM_RHOST is unset or empty (console, su, sudo):
 * such a request is allowed only where the user's from (or a grant's)
 * contains the loopback address. */
#define JG_PAM_LOCAL_SOURCE "127.0.0.1"

/* Module arguments. Strings are borrowed from the argv PAM passed in. */
struct jg_pam_args {
    const char *config;     /* config=, default JG_CONFIG_DEFAULT */
    const char *target;     /* target= (required) */
    unsigned action;        /* action=, one JG_ACT_*; default JG_ACT_SHELL */
    bool on_error_ignore;   /* on_error=ignore (default deny) */
};

/* Parses argv into *out. Returns 0, or JG_ERR_INVALID with one sentence in
 * why (size n) for an unknown, repeated, empty or bad argument or a missing
 * target=. */
int jg_pam_args_parse(int argc, const char *const *argv,
                      struct jg_pam_args *out, char *why, size_t n);

enum jg_pam_verdict {
    JG_PAM_ALLOW,
    JG_PAM_DENY,
    JG_PAM_USER_UNKNOWN,    /* no such user in the policy */
    JG_PAM_ERROR,           /* config or policy unreadable or not valid */
};

struct jg_pam_result {
    enum jg_pam_verdict verdict;
    struct jg_decision dec; /* for ALLOW and DENY */
    char error[512];        /* for ERROR: what went wrong (first problem) */
    size_t n_errors;        /* for ERROR: how many diagnostics there were */
};

/* Loads the configuration a->config and the policy it names, and decides
 * whether user may do a->action on a->target from rhost (NULL or "" means
 * JG_PAM_LOCAL_SOURCE) at now, logging in as user. The answer is in *out.
 * When cfg is not NULL, *cfg receives the configuration (caller frees with
 * jg_config_free()), or NULL when it could not be loaded; nothing else is
 * kept after the call. */
void jg_pam_check(const struct jg_pam_args *a, const char *user,
                  const char *rhost, int64_t now, struct jg_pam_result *out,
                  struct jg_config **cfg);

/* One decision of the module, as its event in the audit event log. Strings
 * are borrowed for the call; NULL ones are written as null. */
struct jg_pam_event {
    const char *type;    /* "pam.account" or "pam.auth" */
    const char *user;
    const char *from;    /* PAM_RHOST as given (NULL when unset) */
    const char *service; /* PAM_SERVICE */
    const char *target, *action;
    const char *result;  /* what the module answers: "allow", "deny",
                            "ignore" (on_error=ignore) */
    const char *rule;    /* the deciding rule or grant id */
    const char *reason;
};

/* Appends e at now_us to the event log of cfg (audit.dir/events), under the
 * log's exclusive flock, and seals the log after it with audit.signing_key
 * as `jumpgate policy grant` does. A process that cannot read the key
 * (not root) appends the event chained but unsealed: `jumpgate audit
 * verify` reports it as the unsealed tail until the next sealing writer;
 * *sealed says which happened, and why (n bytes) says why a configured key
 * was not used. Returns 0; JG_ERR_NOTFOUND, with nothing written, when cfg
 * is NULL or audit.dir does not exist (this host keeps no event log); any
 * other error when the event could not be written (why says what failed).
 * Never aborts on allocation failure (JG_ERR_NOMEM). */
int jg_pam_event_append(const struct jg_config *cfg,
                        const struct jg_pam_event *e, int64_t now_us,
                        bool *sealed, char *why, size_t n);

#endif
