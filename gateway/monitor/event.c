/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/event.c - the events of this connection in the
 * hash-chained event log, and the signing key the monitor seals with.
 *
 * The key lives in the monitor (root), loaded after the worker is forked,
 * so it never exists in the worker's memory.
 *
 * One writer for the chain: each monitor appends itself through
 * jg_audit_log_append(), which takes the exclusive flock on the day file
 * for the whole read-last-line/append step (the same lock `jumpgate policy
 * grant` and sync take), so appends from many monitors are serialized and
 * the chain stays linear. This keeps the master free of audit I/O. */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "gateway/monitor/internal.h"

int
jg_gw_audit_check(const struct jg_config *cfg, struct jg_diags *diags)
{
    struct jg_audit_key *k = NULL;
    struct stat st;
    char why[4200];
    int r = 0, kr;
    bool refuse = cfg->audit_on_failure == JG_ON_FAILURE_REFUSE;

    if (cfg->audit_dir == NULL || stat(cfg->audit_dir, &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
        if (refuse) {
            jg_diags_add(diags, cfg->path, 0, 0,
                         "audit.dir: '%s' is not a folder; sessions cannot be "
                         "recorded (create it, or set audit.on_failure: "
                         "continue)", cfg->audit_dir ? cfg->audit_dir : "(unset)");
            r = JG_ERR_INVALID;
        } else {
            jg_warn("audit.dir '%s' is not a folder: sessions are not "
                    "recorded and no events are logged",
                    cfg->audit_dir ? cfg->audit_dir : "(unset)");
        }
    } else if (jg_audit_dir_check(cfg->audit_dir, why, sizeof(why)) != 0) {
        /* The writers' own rules, so that what passes here is what the
         * monitors can write to. */
        if (refuse) {
            jg_diags_add(diags, cfg->path, 0, 0, "audit.dir: %s", why);
            r = JG_ERR_INVALID;
        } else {
            jg_warn("audit.dir: %s: sessions are not recorded and no events "
                    "are logged", why);
        }
    }
    if (cfg->audit_signing_key == NULL) {
        if (refuse) {
            jg_diags_add(diags, cfg->path, 0, 0,
                         "audit.signing_key is not set; sessions cannot be "
                         "recorded (run 'jumpgate audit keygen', or set "
                         "audit.on_failure: continue)");
            r = JG_ERR_INVALID;
        } else {
            jg_warn("audit.signing_key is not set: sessions are not recorded "
                    "and the event log is not sealed");
        }
    } else if ((kr = jg_audit_key_load_private(cfg->audit_signing_key, &k)) != 0) {
        jg_diags_add(diags, cfg->path, 0, 0,
                     "audit.signing_key: cannot load the private key '%s': %s",
                     cfg->audit_signing_key,
                     kr == JG_ERR_IO || kr == JG_ERR_NOTFOUND ? strerror(errno)
                                                               : jg_strerror(kr));
        r = JG_ERR_INVALID;
    }
    jg_audit_key_free(k);
    return r;
}


void
jg_gw_mon_audit_init(struct jg_gw_mon *m)
{
    const struct jg_config *cfg = m->d->cfg;
    int r;

    if (jg_audit_uuid7(m->conn_id) != 0)
        m->conn_id[0] = '\0';
    if (cfg->audit_signing_key != NULL &&
        (r = jg_audit_key_load_private(cfg->audit_signing_key,
                                       &m->audit_key)) != 0) {
        jg_error("audit: cannot load %s: %s", cfg->audit_signing_key,
                 jg_strerror(r));
        m->audit_key = NULL;
    }
    if (cfg->audit_dir != NULL &&
        (r = jg_audit_log_open(cfg->audit_dir, m->audit_key, 0,
                               &m->audit_log)) != 0) {
        char why[4200];
        if (jg_audit_dir_check(cfg->audit_dir, why, sizeof(why)) != 0)
            jg_error("audit: cannot open the event log: audit.dir: %s", why);
        else
            jg_error("audit: cannot open the event log in %s: %s",
                     cfg->audit_dir, jg_strerror(r));
        m->audit_log = NULL;
    }
}


void
jg_gw_mon_event(struct jg_gw_mon *m, const char *type, const char *session,
                const char *user, const char *target, const char *login,
                const char *action, const char *rule, const char *reason,
                json_t *extra)
{
    int r;

    /* A log that could not be opened is a failed write, not silence. */
    if (m->audit_log == NULL && m->d->cfg->audit_dir == NULL)
        return;
    r = m->audit_log == NULL
            ? JG_ERR_IO
            : jg_gw_event_append(m->audit_log, type, session, m->conn_id, user,
                                 m->conn->peer, target, login, action, rule,
                                 reason, extra);
    if (r != 0) {
        jg_error("audit: cannot append %s to the event log: %s", type,
                 jg_strerror(r));
        jg_gw_mon_report_audit_error(m);
        /* Nothing is lost quietly: the session ends with the record. */
        if (m->d->cfg->audit_on_failure == JG_ON_FAILURE_REFUSE && !m->lapsed)
            jg_gw_mon_lapse(m, "the audit event log could not be written");
    }
}


void
jg_gw_mon_event_close(struct jg_gw_mon *m)
{
    if (m->audit_log != NULL) {
        jg_audit_log_seal(m->audit_log, jg_audit_now_us());
        jg_audit_log_free(m->audit_log);
        m->audit_log = NULL;
    }
    jg_audit_key_free(m->audit_key);
    m->audit_key = NULL;
}
