/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/daemon/event.c - one append to the hash-chained event log
 * (audit/), shared by the monitors (their connection's
 * events) and the master (policy.reload, bans). */
#include "audit/audit.h"
#include "gateway/daemon/daemon.h"

int
jg_gw_event_append(struct jg_audit_log *log, const char *type,
                   const char *session, const char *conn_id,
                   const char *user, const char *from, const char *target,
                   const char *login, const char *action, const char *rule,
                   const char *reason, json_t *extra)
{
    struct jg_audit_event ev = {
        .type = type, .session = session, .user = user, .from = from,
        .target = target, .login = login, .action = action, .rule = rule,
        .reason = reason};
    json_t *x;
    int r;

    if (log == NULL)
        return 0;
    x = extra != NULL ? json_copy(extra) : json_object();
    if (x == NULL)
        return JG_ERR_NOMEM;
    if (conn_id != NULL && conn_id[0] != '\0')
        json_object_set_new(x, "connection", json_string(conn_id));
    ev.extra = x;
    r = jg_audit_log_append(log, &ev, jg_audit_now_us());
    json_decref(x);
    return r;
}
