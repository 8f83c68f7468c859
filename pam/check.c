/* SPDX-License-Identifier: Apache-2.0 */
/* pam/check.c - loads jumpgate.yaml and its policy afresh and
 * decides one PAM request with jg_policy_decide(); keeps nothing. */
#include <errno.h>
#include <string.h>

#include "pam/pam_jumpgate.h"

/* Records the first problem of a failed load in out: the first diagnostic
 * as FILE:LINE:COL: message, or what for the error r. */
static void
set_error(struct jg_pam_result *out, const char *what, const char *path,
          int r, int err, const struct jg_diags *d)
{
    char ebuf[128];

    out->verdict = JG_PAM_ERROR;
    out->n_errors = d->n;
    if (d->n > 0) {
        const struct jg_diag *g = &d->v[0];

        if (g->line > 0)
            snprintf(out->error, sizeof(out->error), "%s: %s:%d:%d: %s", what,
                     g->file != NULL ? g->file : path, g->line, g->col, g->msg);
        else
            snprintf(out->error, sizeof(out->error), "%s: %s: %s", what,
                     g->file != NULL ? g->file : path, g->msg);
    } else if (r == JG_ERR_IO) {
        snprintf(out->error, sizeof(out->error), "%s: %s: %s", what, path,
                 strerror_r(err, ebuf, sizeof(ebuf)));
    } else {
        snprintf(out->error, sizeof(out->error), "%s: %s: %s", what, path,
                 jg_strerror(r));
    }
}

void
jg_pam_check(const struct jg_pam_args *a, const char *user,
             const char *rhost, int64_t now, struct jg_pam_result *out,
             struct jg_config **cfg_out)
{
    struct jg_config *cfg = NULL;
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    struct jg_request req;
    int r;

    memset(out, 0, sizeof(*out));
    out->verdict = JG_PAM_DENY;
    if (cfg_out != NULL)
        *cfg_out = NULL;

    errno = 0;
    if ((r = jg_config_load(a->config, &cfg, &d)) != 0) {
        set_error(out, "cannot load the configuration", a->config, r, errno,
                  &d);
        goto out;
    }
    errno = 0;
    if ((r = jg_policy_load(cfg->policy, &p, &d)) != 0) {
        set_error(out, "cannot load the policy", cfg->policy, r, errno, &d);
        goto out;
    }
    if (user == NULL || jg_policy_user(p, user) == NULL) {
        out->verdict = JG_PAM_USER_UNKNOWN;
        snprintf(out->dec.reason, sizeof(out->dec.reason),
                 "user is not in the policy");
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.user = user;
    req.from = rhost != NULL && *rhost != '\0' ? rhost : JG_PAM_LOCAL_SOURCE;
    req.target = a->target;
    req.action = a->action;
    req.login = user;
    req.at = now;
    /* A malformed request (e.g. PAM_RHOST not an address) is a deny too. */
    (void)jg_policy_decide(p, &req, &out->dec);
    out->verdict = out->dec.effect == JG_ALLOW ? JG_PAM_ALLOW : JG_PAM_DENY;
out:
    jg_policy_free(p);
    if (cfg_out != NULL)
        *cfg_out = cfg;
    else
        jg_config_free(cfg);
    jg_diags_clear(&d);
}
