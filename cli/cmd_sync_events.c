/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_sync_events.c - what a `jumpgate sync` round leaves behind: a
 * sync.apply event per change and a sync.error event per failure in the
 * audit event log (one writer at a time, under the log's flock), and the
 * matching counters when "sync run" serves metrics. Error texts of the
 * sync client never hold secrets. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "sync/sync.h"

/* Opens the event log once per round; false when there is none (no
 * audit.dir, or it does not exist) or it cannot be opened. */
static bool
log_ready(struct jg_cli_sync_ctx *x)
{
    int r;

    if (x->log_opened)
        return x->log != NULL;
    x->log_opened = true;
    if (x->cfg->audit_dir == NULL || access(x->cfg->audit_dir, F_OK) != 0)
        return false;
    /* Without the signing key (an operator who may not read it) events
     * are chained and the daemon's next seal covers them. */
    if (x->cfg->audit_signing_key != NULL &&
        jg_audit_key_load_private(x->cfg->audit_signing_key, &x->key) != 0)
        x->key = NULL;
    if ((r = jg_audit_log_open(x->cfg->audit_dir, x->key, 0, &x->log)) != 0) {
        jg_error("cannot open the audit event log in %s: %s",
                 x->cfg->audit_dir,
                 r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
        x->log = NULL;
        x->audit_failed = true;
        return false;
    }
    return true;
}

void
jg_cli_sync_event(struct jg_cli_sync_ctx *x, const char *type,
                  const char *reason, json_t *extra)
{
    struct jg_audit_event ev = {.type = type, .reason = reason,
                                .extra = extra};
    int r;

    if (!log_ready(x))
        return;
    if ((r = jg_audit_log_append(x->log, &ev, jg_audit_now_us())) != 0) {
        jg_error("the audit event log did not take the %s event: %s", type,
                 r == JG_ERR_IO ? strerror(errno) : jg_strerror(r));
        x->audit_failed = true;
    }
}

void
jg_cli_sync_failed(struct jg_cli_sync_ctx *x, const char *provider,
                   const char *what, const char *error)
{
    json_t *e = json_pack("{s:s?, s:s}", "provider", provider, "step", what);

    jg_cli_sync_event(x, "sync.error", error, e);
    json_decref(e);
    if (x->metrics != NULL && provider != NULL)
        jg_metrics_add(x->metrics, "jumpgate_sync_errors_total", 1,
                       "provider", provider, NULL);
}

static const char *
op_name(const struct jg_sync_change *c)
{
    if (c->op == '-')
        return "remove";
    return c->where == JG_SYNC_CF_RULE && c->rule_id != NULL ? "update"
                                                              : "add";
}

static void
on_change(const struct jg_sync_done *d, void *arg)
{
    struct jg_cli_sync_ctx *x = arg;
    const struct jg_sync_change *c = d->change;
    char cs[JG_CIDR_STRLEN] = "";
    json_t *e;

    if (c->where != JG_SYNC_CF_RULE && c->cidr.a.family != 0)
        jg_cidr_format(&c->cidr, cs, sizeof(cs));
    e = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:s?, s:s?, s:b}",
                  "provider", d->provider, "resource", d->resource, "op",
                  op_name(c), "exposure", c->exposure, "cidr",
                  cs[0] != '\0' ? cs : NULL, "port",
                  c->where == JG_SYNC_AWS_SG ? json_integer(c->port)
                                             : json_null(),
                  "rule_id", c->rule_id, "description", c->description,
                  "already", d->already);
    jg_cli_sync_event(x, "sync.apply", NULL, e);
    json_decref(e);
    if (d->already)
        return;
    x->changes++;
    if (x->metrics != NULL)
        jg_metrics_add(x->metrics, "jumpgate_sync_changes_total", 1,
                       "provider", d->provider, "op",
                       c->op == '-' ? "remove" : "add", NULL);
}

void
jg_cli_sync_observe(struct jg_cli_sync_ctx *x, struct jg_sync *s)
{
    jg_sync_set_observer(s, on_change, x);
}

void
jg_cli_sync_ctx_close(struct jg_cli_sync_ctx *x)
{
    if (x->log != NULL &&
        jg_audit_log_seal(x->log, jg_audit_now_us()) != 0) {
        jg_error("cannot seal the audit event log: %s", strerror(errno));
        x->audit_failed = true;
    }
    jg_audit_log_free(x->log);
    jg_audit_key_free(x->key);
    x->log = NULL;
    x->key = NULL;
    x->log_opened = false;
}
