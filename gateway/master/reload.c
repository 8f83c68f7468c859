/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/reload.c - reloads the configuration and the policy (on
 * SIGHUP, a change of the policy files or a control request): refused with
 * the first error and the old ones kept, or applied to the limits, the
 * metrics and, by SIGHUP, every monitor. */
#include <signal.h>
#include <stdio.h>

#include "gateway/master/master.h"

int
jg_gw_master_reload(struct jg_gw_master *m, const char *trigger,
                    const char *by, char *err, size_t errn)
{
    struct jg_diags diags = {0};
    const struct jg_config *cfg;
    char first[512] = "";
    json_t *x;
    size_t i;

    if (errn > 0)
        err[0] = '\0';
    if (jg_gw_daemon_reload(m->d, jg_gw_master_check, &diags) != 0) {
        for (i = 0; i < diags.n; i++)
            jg_error("reload refused (%s), keeping the old configuration: "
                     "%s:%d:%d: %s", trigger, diags.v[i].file,
                     diags.v[i].line, diags.v[i].col, diags.v[i].msg);
        if (diags.n == 0)
            jg_error("reload refused (%s), keeping the old configuration",
                     trigger);
        else
            snprintf(first, sizeof(first), "%s:%d:%d: %s", diags.v[0].file,
                     diags.v[0].line, diags.v[0].col, diags.v[0].msg);
        jg_metrics_add(m->metrics, "jumpgate_policy_reloads_total", 1,
                       "result", "failure", NULL);
        x = json_pack("{s:s,s:s,s:I}", "result", "failure", "trigger",
                      trigger, "errors", (json_int_t)diags.n);
        if (by != NULL)
            json_object_set_new(x, "by", json_string(by));
        jg_gw_master_event(m, "policy.reload",
                           first[0] ? first : "refused", x);
        json_decref(x);
        jg_diags_clear(&diags);
        jg_strlcpy(err, first[0] ? first : "refused", errn);
        return JG_ERR_INVALID;
    }
    jg_diags_clear(&diags);
    m->policy_loaded = jg_now();
    jg_gw_metrics_policy(m);
    cfg = m->d->cfg;
    jg_gw_bans_set(m->bans, cfg->auth_fail_max, cfg->auth_fail_window,
                   cfg->auth_fail_ban);
    jg_gw_penalties_set(m->pen, cfg->pen_min, cfg->pen_max);
    jg_info("configuration and policy reloaded (%s%s%s); policy sha256:%s; "
            "re-deciding %zu session(s)", trigger, by != NULL ? " by " : "",
            by != NULL ? by : "", jg_policy_digest(m->d->pol), m->n_kids);
    jg_metrics_add(m->metrics, "jumpgate_policy_reloads_total", 1, "result",
                   "success", NULL);
    x = json_pack("{s:s,s:s,s:s}", "result", "success", "trigger", trigger,
                  "digest", jg_policy_digest(m->d->pol));
    if (by != NULL)
        json_object_set_new(x, "by", json_string(by));
    jg_gw_master_event(m, "policy.reload", NULL, x);
    json_decref(x);
    for (i = 0; i < m->n_kids; i++)
        kill(m->kids[i].pid, SIGHUP);
    return 0;
}

