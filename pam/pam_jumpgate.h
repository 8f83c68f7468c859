/* SPDX-License-Identifier: Apache-2.0 */
/* pam/pam_jumpgate.h - the parts of pam_jumpgate.so that do not need libpam:
 * module arguments, the policy check, and the event-log hook (DESIGN.md
 * section 9; docs/pam_jumpgate.8).
 *
 * Everything here is reentrant: no global state, every call loads what it
 * needs and frees it before returning, so the module may run in several
 * threads of someone else's process at once. */
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
 * JG_PAM_LOCAL_SOURCE) at now, logging in as user. The answer is in *out;
 * nothing is kept after the call. */
void jg_pam_check(const struct jg_pam_args *a, const char *user,
                  const char *rhost, int64_t now, struct jg_pam_result *out);

/* Where the decision will be appended to the audit event log once audit/
 * exists (DESIGN.md section 8); today it does nothing. */
void jg_pam_event_append(const struct jg_pam_args *a, const char *service,
                         const char *user, const char *rhost,
                         const struct jg_pam_result *r);

#endif
