/* SPDX-License-Identifier: Apache-2.0 */
/* pam/jg_pam_module.c - the PAM entry points of pam_jumpgate.so: account
 * (and auth) apply the jumpgate policy and log the decision to syslog. */
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

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
    const char *act = jg_action_name(a->action);
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

/* Applies the policy for the stack being run; deny is the code returned
 * for a "no" (PAM_PERM_DENIED for account, PAM_AUTH_ERR for auth). */
static int
jg_pam_run(pam_handle_t *pamh, int argc, const char **argv, int deny)
{
    struct jg_pam_args a;
    struct jg_pam_result r;
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

    jg_pam_check(&a, user, rhost, jg_now(), &r);
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
    jg_pam_event_append(&a, service, user, rhost, &r);
    return rc;
}

JG_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return jg_pam_run(pamh, argc, argv, PAM_PERM_DENIED);
}

JG_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return jg_pam_run(pamh, argc, argv, PAM_AUTH_ERR);
}

/* No credentials to set: the auth half only decides. */
JG_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return PAM_SUCCESS;
}
