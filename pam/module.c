/* SPDX-License-Identifier: Apache-2.0 */
/* pam/module.c - the PAM entry points of pam_jumpgate.so: account
 * (and auth) apply the jumpgate policy, log the decision to syslog and
 * append it to the audit event log. */
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "audit/audit.h"
#include "pam/pam_jumpgate.h"

/* Copies s into buf (size n) for a log line, each byte that is not
 * printable ASCII (and a space too unless spaces) replaced by '?': user
 * names and PAM_RHOST come from the other side of the connection. */
static const char *
clean(const char *s, bool spaces, char *buf, size_t n)
{
    size_t i;

    if (s == NULL)
        s = "(null)";
    for (i = 0; s[i] != '\0' && i + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];

        buf[i] = (c > 0x20 && c < 0x7f) || (spaces && c == ' ') ? (char)c : '?';
    }
    buf[i] = '\0';
    return buf;
}

static void
log_result(pam_handle_t *pamh, const struct jg_pam_args *a, const char *user,
           const char *rhost, const struct jg_pam_result *r, int rc)
{
    char u[72], h[72], why[600], until[JG_TIME_STRLEN], by[140];
    const char *act = jg_policy_action_name(a->action);
    const struct jg_decision *dec = &r->dec;

    clean(user, false, u, sizeof(u));
    if (rhost == NULL || *rhost == '\0')
        snprintf(h, sizeof(h), "(none:%s)", JG_PAM_LOCAL_SOURCE);
    else
        clean(rhost, false, h, sizeof(h));
    if (dec->by == JG_BY_RULE)
        snprintf(by, sizeof(by), "rule=%s", dec->by_name);
    else if (dec->by == JG_BY_GRANT)
        snprintf(by, sizeof(by), "grant=%s", dec->by_name);
    else
        snprintf(by, sizeof(by), "rule=(none)");

    switch (r->verdict) {
    case JG_PAM_ALLOW:
        jg_time_format(dec->until, until, sizeof(until));
        pam_syslog(pamh, LOG_INFO,
                   "allow user=%s rhost=%s target=%s action=%s %s until=%s: %s",
                   u, h, a->target, act, by, until,
                   clean(dec->reason, true, why, sizeof(why)));
        break;
    case JG_PAM_DENY:
        pam_syslog(pamh, LOG_NOTICE,
                   "deny user=%s rhost=%s target=%s action=%s %s: %s", u, h,
                   a->target, act, by,
                   clean(dec->reason, true, why, sizeof(why)));
        break;
    case JG_PAM_USER_UNKNOWN:
        pam_syslog(pamh, LOG_NOTICE,
                   "deny user=%s rhost=%s target=%s action=%s rule=(none): "
                   "user unknown: not in the policy", u, h, a->target, act);
        break;
    case JG_PAM_ERROR:
        pam_syslog(pamh, LOG_ERR,
                   "error user=%s rhost=%s target=%s action=%s: %s%s; %s", u,
                   h, a->target, act, clean(r->error, true, why, sizeof(why)),
                   r->n_errors > 1 ? " (and more errors)" : "",
                   rc == PAM_IGNORE ? "ignored (on_error=ignore)" : "denying");
        break;
    }
}

/* Appends the decision to the event log of cfg. The answer rc stands when
 * the event is written (or the host keeps no event log); when it cannot be
 * written an allow becomes what on_error= says (deny by default: nothing
 * is let through unrecorded), and a "no" stays a "no". Returns the answer. */
static int
record(pam_handle_t *pamh, const struct jg_config *cfg,
       const struct jg_pam_args *a, const char *type, const char *service,
       const char *user, const char *rhost, const struct jg_pam_result *r,
       int rc, int deny)
{
    const struct jg_decision *dec = &r->dec;
    struct jg_pam_event e;
    char why[640], clean_why[640], u[72];
    bool sealed = false;
    int er;

    memset(&e, 0, sizeof(e));
    e.type = type;
    e.user = user;
    e.from = rhost != NULL && *rhost != '\0' ? rhost : NULL;
    e.service = service;
    e.target = a->target;
    e.action = jg_policy_action_name(a->action);
    e.result = rc == PAM_SUCCESS ? "allow" : rc == PAM_IGNORE ? "ignore"
                                                              : "deny";
    e.rule = dec->by_name[0] != '\0' ? dec->by_name : NULL;
    e.reason = r->verdict == JG_PAM_ERROR ? r->error : dec->reason;
    er = jg_pam_event_append(cfg, &e, jg_audit_now_us(), &sealed, why,
                             sizeof(why));
    if (er == 0 || er == JG_ERR_NOTFOUND) {
        if (er == 0 && !sealed && why[0] != '\0')
            pam_syslog(pamh, LOG_INFO,
                       "%s event of user=%s left unsealed (%s); the next "
                       "writer with the signing key seals it", type,
                       clean(user, false, u, sizeof(u)),
                       clean(why, true, clean_why, sizeof(clean_why)));
        return rc;
    }
    if (rc == PAM_SUCCESS)
        rc = a->on_error_ignore ? PAM_IGNORE : deny;
    pam_syslog(pamh, LOG_ERR,
               "error user=%s: the event log did not take the %s event: %s; "
               "%s", clean(user, false, u, sizeof(u)), type,
               clean(why, true, clean_why, sizeof(clean_why)),
               rc == PAM_IGNORE ? "ignored (on_error=ignore)" : "denying");
    return rc;
}

/* Applies the policy for the stack being run; deny is the code returned
 * for a "no" (PAM_PERM_DENIED for account, PAM_AUTH_ERR for auth), type
 * the event type ("pam.account", "pam.auth"). */
static int
jg_pam_run(pam_handle_t *pamh, int argc, const char **argv, int deny,
           const char *type)
{
    struct jg_pam_args a;
    struct jg_pam_result r;
    struct jg_config *cfg = NULL;
    const void *item = NULL;
    const char *user = NULL, *rhost = NULL, *service = NULL;
    char why[256], u[72];
    int rc;

    if (jg_pam_args_parse(argc, argv, &a, why, sizeof(why)) != 0) {
        pam_syslog(pamh, LOG_ERR, "bad module arguments: %s; denying",
                   clean(why, true, u, sizeof(u)));
        return deny;
    }
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL ||
        *user == '\0') {
        pam_syslog(pamh, LOG_NOTICE, "deny: no user name");
        return PAM_USER_UNKNOWN;
    }
    if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS)
        rhost = item;
    item = NULL;
    if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
        service = item;

    jg_pam_check(&a, user, rhost, jg_now(), &r, &cfg);
    switch (r.verdict) {
    case JG_PAM_ALLOW:
        rc = PAM_SUCCESS;
        break;
    case JG_PAM_USER_UNKNOWN:
        rc = PAM_USER_UNKNOWN;
        break;
    case JG_PAM_ERROR:
        rc = a.on_error_ignore ? PAM_IGNORE : deny;
        break;
    case JG_PAM_DENY:
    default:
        rc = deny;
        break;
    }
    log_result(pamh, &a, user, rhost, &r, rc);
    rc = record(pamh, cfg, &a, type, service, user, rhost, &r, rc, deny);
    jg_config_free(cfg);
    return rc;
}

JG_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return jg_pam_run(pamh, argc, argv, PAM_PERM_DENIED, "pam.account");
}

JG_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return jg_pam_run(pamh, argc, argv, PAM_AUTH_ERR, "pam.auth");
}

/* No credentials to set: the auth half only decides. */
JG_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return PAM_SUCCESS;
}
