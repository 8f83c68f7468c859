/* SPDX-License-Identifier: Apache-2.0 */
/* audit/append.c - one-shot event append for short-lived programs
 * (`jumpgate policy grant`, sync): config, log, seal, done. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit/internal.h"

int
jg_audit_append_event(const char *config_path, const struct jg_audit_event *ev,
                      int64_t now_us)
{
    struct jg_config *cfg = NULL;
    struct jg_audit_key *key = NULL;
    struct jg_audit_log *log = NULL;
    struct jg_diags d = {0};
    int r;

    if ((r = jg_config_load(config_path, &cfg, &d)) != 0)
        goto out;
    if (cfg->audit_dir == NULL || access(cfg->audit_dir, F_OK) != 0) {
        r = JG_ERR_NOTFOUND;
        goto out;
    }
    /* Without the signing key (an operator who may not read it) the event
     * is chained and the daemon's next seal covers it. */
    if (cfg->audit_signing_key != NULL &&
        jg_audit_key_load_private(cfg->audit_signing_key, &key) != 0)
        key = NULL;
    if ((r = jg_audit_log_open(cfg->audit_dir, key, 1, &log)) != 0 ||
        (r = jg_audit_log_append(log, ev, now_us)) != 0)
        goto out;
    r = 0;
out:
    jg_audit_log_free(log);
    jg_audit_key_free(key);
    jg_config_free(cfg);
    jg_diags_clear(&d);
    return r;
}
