/* SPDX-License-Identifier: Apache-2.0 */
/* audit/mysql_text.c - the words of the MySQL query audit: command and
 * outcome names, and a db.query event's members for the event log
 * (audit.h). */
#include <jansson.h>

#include "audit/internal.h"

static const char *const commands[JG_AUDIT_MYSQL_KIND_MAX] = {
    [JG_AUDIT_MYSQL_QUERY] = "query",
    [JG_AUDIT_MYSQL_PREPARE] = "prepare",
    [JG_AUDIT_MYSQL_EXECUTE] = "execute",
    [JG_AUDIT_MYSQL_INIT_DB] = "init_db",
    [JG_AUDIT_MYSQL_KILL] = "kill",
};

const char *
jg_audit_mysql_command(enum jg_audit_mysql_kind kind)
{
    return (unsigned)kind < JG_AUDIT_MYSQL_KIND_MAX ? commands[kind] : NULL;
}

const char *
jg_audit_mysql_status_text(enum jg_audit_mysql_status st)
{
    switch (st) {
    case JG_AUDIT_MYSQL_ST_OK: return "ok";
    case JG_AUDIT_MYSQL_ST_ERROR: return "error";
    case JG_AUDIT_MYSQL_ST_NO_REPLY: return "no_reply";
    default: return "unknown";
    }
}

/* JSON integers are signed: counts past that are capped. */
static json_t *
count(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

json_t *
jg_audit_mysql_event_json(const struct jg_audit_mysql_event *ev)
{
    json_t *o = json_object();
    const char *cmd = jg_audit_mysql_command(ev->kind);

    if (ev->kind == JG_AUDIT_MYSQL_ERROR || cmd == NULL)
        return o;
    json_object_set_new(o, "command", json_string(cmd));
    json_object_set_new(o, "statement", jg_audit_jstr(ev->text));
    if (ev->truncated)
        json_object_set_new(o, "truncated", json_true());
    if (ev->kind == JG_AUDIT_MYSQL_PREPARE ||
        ev->kind == JG_AUDIT_MYSQL_EXECUTE)
        json_object_set_new(o, "stmt_id", json_integer(ev->stmt_id));
    if (ev->kind == JG_AUDIT_MYSQL_PREPARE)
        json_object_set_new(o, "param_count", count(ev->n_params));
    if (ev->kind == JG_AUDIT_MYSQL_EXECUTE) {
        json_t *a = json_array();

        for (size_t i = 0; i < ev->n_params; i++) {
            json_t *q = json_object();

            json_object_set_new(q, "type", jg_audit_jstr(ev->params[i].type));
            json_object_set_new(q, "value",
                                ev->params[i].value != NULL
                                    ? jg_audit_jstr(ev->params[i].value)
                                    : json_null());
            if (ev->params[i].truncated)
                json_object_set_new(q, "truncated", json_true());
            json_array_append_new(a, q);
        }
        json_object_set_new(o, "params", a);
        if (ev->params_truncated)
            json_object_set_new(o, "params_truncated", json_true());
    }
    json_object_set_new(o, "status",
                        json_string(jg_audit_mysql_status_text(ev->status)));
    if (ev->status == JG_AUDIT_MYSQL_ST_ERROR) {
        json_object_set_new(o, "error_code", json_integer(ev->err_code));
        json_object_set_new(o, "sqlstate", jg_audit_jstr(ev->sqlstate));
        json_object_set_new(o, "error_message", jg_audit_jstr(ev->err_msg));
    } else if (ev->status == JG_AUDIT_MYSQL_ST_OK) {
        json_object_set_new(o, "rows", count(ev->rows));
        json_object_set_new(o, "affected", count(ev->affected));
        if (ev->insert_id != 0)
            json_object_set_new(o, "insert_id", count(ev->insert_id));
        json_object_set_new(o, "warnings", json_integer(ev->warnings));
    }
    json_object_set_new(o, "duration_ms",
                        json_real((double)ev->duration_us / 1000.0));
    return o;
}
