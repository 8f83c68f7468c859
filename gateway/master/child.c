/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/child.c - the master's side of the report channel: reads
 * what each monitor reports into the live-session table, the metrics and
 * the ban table, and sends it the kill order. Reports are checked as
 * untrusted input: bounded strings, known names only, states in order. A
 * malformed report drops that child's channel, never the master. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/master/master.h"

#define BURST 64   /* reports read from one child per wake-up */

static bool
one_of(const char *s, const char *const *v)
{
    for (; *v != NULL; v++)
        if (strcmp(s, *v) == 0)
            return true;
    return false;
}

/* Printable ASCII without quotes or backslashes (names, ids, rules). */
static bool
plain(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

static bool
valid_id(const char *s)
{
    size_t i;

    if (strlen(s) != 36)
        return false;
    for (i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-'
                 : !((s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

static bool
one_action(uint32_t a)
{
    return a != 0 && (a & ~JG_ACT_ALL) == 0 && (a & (a - 1)) == 0;
}

static struct jg_gw_mchan *
find_chan(struct jg_gw_child *k, uint32_t id)
{
    size_t i;

    for (i = 0; i < k->n_chans; i++)
        if (k->chans[i].id == id)
            return &k->chans[i];
    return NULL;
}

void
jg_gw_auth_failed(struct jg_gw_master *m, const char *src)
{
    int64_t until;
    char tbuf[JG_TIME_STRLEN];

    if (!jg_gw_bans_fail(m->bans, src, jg_now(), &until))
        return;
    jg_time_format(until, tbuf, sizeof(tbuf));
    jg_warn("ban of %s started: %d authentication failures within %llds; "
            "connections refused until %s", src, m->d->cfg->auth_fail_max,
            (long long)m->d->cfg->auth_fail_window, tbuf);
    jg_metrics_add(m->metrics, "jumpgate_auth_bans_total", 1, NULL);
}

/* A user's connections beyond the policy's max_sessions are ended (the
 * newest one), with a message to the user. */
static void
session_cap(struct jg_gw_master *m, struct jg_gw_child *k)
{
    const struct jg_user *u = jg_policy_user(m->d->pol, k->user);
    char why[128];
    size_t i, n = 0;

    if (u == NULL || u->max_sessions == 0)
        return;
    for (i = 0; i < m->n_kids; i++)
        n += m->kids[i].authed && m->kids[i].sock >= 0 &&
             !m->kids[i].ending &&
             strcmp(m->kids[i].user, k->user) == 0;
    if (n <= u->max_sessions)
        return;
    snprintf(why, sizeof(why), "%s has %u session(s) open already "
             "(max_sessions)", k->user, u->max_sessions);
    jg_warn("connection of %s from %s ended: %s", k->user, k->peer, why);
    jg_gw_master_child_kill(m, k, why);
}

static int
on_auth(struct jg_gw_master *m, struct jg_gw_child *k, struct jg_gw_msg *q)
{
    static const char *const methods[] = {"publickey", "keyboard-interactive",
                                          "none", NULL};
    static const char *const results[] = {"success", "partial", "failure",
                                          NULL};
    char method[32], result[16];

    if (jg_gw_msg_get_str(q, method, sizeof(method)) != 0 ||
        jg_gw_msg_get_str(q, result, sizeof(result)) != 0 ||
        !one_of(method, methods) || !one_of(result, results))
        return JG_ERR_INVALID;
    jg_metrics_add(m->metrics, "jumpgate_auth_attempts_total", 1, "method",
                   method, "result", result, NULL);
    if (strcmp(result, "failure") == 0)
        jg_gw_auth_failed(m, k->peer);
    return 0;
}

static int
on_decision(struct jg_gw_master *m, struct jg_gw_msg *q)
{
    static const char *const results[] = {"allowed", "denied", "error", NULL};
    char result[16], rule[128];
    uint32_t action;

    if (jg_gw_msg_get_u32(q, &action) != 0 ||
        jg_gw_msg_get_str(q, result, sizeof(result)) != 0 ||
        jg_gw_msg_get_str(q, rule, sizeof(rule)) != 0 ||
        !one_action(action) || !one_of(result, results) || !plain(rule))
        return JG_ERR_INVALID;
    jg_metrics_add(m->metrics, "jumpgate_sessions_total", 1, "action",
                   jg_policy_action_name(action), "result", result, NULL);
    if (strcmp(result, "denied") == 0)
        jg_metrics_add(m->metrics, "jumpgate_policy_denials_total", 1,
                       "rule", rule[0] ? rule : "default", NULL);
    return 0;
}

static int
on_open(struct jg_gw_master *m, struct jg_gw_child *k, struct jg_gw_msg *q)
{
    struct jg_gw_mchan c;
    uint64_t started, until;

    memset(&c, 0, sizeof(c));
    if (jg_gw_msg_get_u32(q, &c.id) != 0 ||
        jg_gw_msg_get_u32(q, &c.action) != 0 ||
        jg_gw_msg_get_str(q, c.target, sizeof(c.target)) != 0 ||
        jg_gw_msg_get_str(q, c.login, sizeof(c.login)) != 0 ||
        jg_gw_msg_get_u64(q, &started) != 0 ||
        jg_gw_msg_get_u64(q, &until) != 0 ||
        jg_gw_msg_get_str(q, c.session, sizeof(c.session)) != 0 ||
        (c.session[0] != '\0' && !valid_id(c.session)) ||
        !one_action(c.action) ||
        !plain(c.target) || !plain(c.login) ||
        c.target[0] == '\0' || started > INT64_MAX || until > INT64_MAX ||
        !k->authed || find_chan(k, c.id) != NULL)
        return JG_ERR_INVALID;
    c.started = (int64_t)started;
    c.until = (int64_t)until;
    if (c.action == JG_ACT_FORWARD || c.action == JG_ACT_JUMP)
        jg_metrics_add(m->metrics, "jumpgate_forward_channels_total", 1,
                       "target", c.target, NULL);
    /* Counted either way; listed while there is room. */
    if (k->n_chans < JG_GW_CHILD_CHANS)
        k->chans[k->n_chans++] = c;
    return 0;
}

static int
on_until(struct jg_gw_child *k, struct jg_gw_msg *q)
{
    struct jg_gw_mchan *c;
    uint64_t until;
    uint32_t id;

    if (jg_gw_msg_get_u32(q, &id) != 0 || jg_gw_msg_get_u64(q, &until) != 0 ||
        until > INT64_MAX)
        return JG_ERR_INVALID;
    if ((c = find_chan(k, id)) != NULL)
        c->until = (int64_t)until;
    return 0;
}

static int
on_close(struct jg_gw_child *k, struct jg_gw_msg *q)
{
    struct jg_gw_mchan *c;
    uint32_t id;

    if (jg_gw_msg_get_u32(q, &id) != 0)
        return JG_ERR_INVALID;
    if ((c = find_chan(k, id)) != NULL)
        *c = k->chans[--k->n_chans];
    return 0;
}

/* A failed connection to a target: counted by target (one the policy
 * names, so the series stay bounded) and error class. */
static int
on_target_error(struct jg_gw_master *m, struct jg_gw_child *k,
                struct jg_gw_msg *q)
{
    static const char *const errors[] = {JG_GW_TARGET_ERRORS, NULL};
    char target[128], error[32];

    if (jg_gw_msg_get_str(q, target, sizeof(target)) != 0 ||
        jg_gw_msg_get_str(q, error, sizeof(error)) != 0 || !k->authed ||
        !plain(target) || !one_of(error, errors) ||
        jg_policy_target(m->d->pol, target) == NULL)
        return JG_ERR_INVALID;
    jg_metrics_add(m->metrics, "jumpgate_target_errors_total", 1, "target",
                   target, "error", error, NULL);
    return 0;
}

/* A channel's bytes so far: kept for its end event should its monitor
 * die (totals only grow). */
static int
on_chan_bytes(struct jg_gw_child *k, struct jg_gw_msg *q)
{
    struct jg_gw_mchan *c;
    uint64_t to_target, to_client;
    uint32_t id;

    if (jg_gw_msg_get_u32(q, &id) != 0 ||
        jg_gw_msg_get_u64(q, &to_target) != 0 ||
        jg_gw_msg_get_u64(q, &to_client) != 0 ||
        to_target > (UINT64_C(1) << 60) || to_client > (UINT64_C(1) << 60))
        return JG_ERR_INVALID;
    if ((c = find_chan(k, id)) != NULL) {
        if (to_target > c->bytes_in)
            c->bytes_in = to_target;
        if (to_client > c->bytes_out)
            c->bytes_out = to_client;
    }
    return 0;
}

static int
on_bytes(struct jg_gw_master *m, struct jg_gw_msg *q)
{
    uint64_t to_target, to_client;

    if (jg_gw_msg_get_u64(q, &to_target) != 0 ||
        jg_gw_msg_get_u64(q, &to_client) != 0 ||
        to_target > (UINT64_C(1) << 50) || to_client > (UINT64_C(1) << 50))
        return JG_ERR_INVALID;
    jg_metrics_add(m->metrics, "jumpgate_bytes_total", (double)to_target,
                   "direction", "to_target", NULL);
    jg_metrics_add(m->metrics, "jumpgate_bytes_total", (double)to_client,
                   "direction", "to_client", NULL);
    return 0;
}

static int
handle(struct jg_gw_master *m, struct jg_gw_child *k, struct jg_gw_msg *q)
{
    char user[64];
    int r;

    if (q->fd >= 0)
        return JG_ERR_INVALID;
    /* Nothing before hello. */
    if (!k->listed && q->type != JG_GW_MM_HELLO)
        return JG_ERR_INVALID;
    switch (q->type) {
    case JG_GW_MM_HELLO:
        if (k->listed ||
            jg_gw_msg_get_str(q, k->conn_id, sizeof(k->conn_id)) != 0 ||
            !valid_id(k->conn_id))
            return JG_ERR_INVALID;
        k->listed = true;
        r = 0;
        break;
    case JG_GW_MM_AUTH:
        r = on_auth(m, k, q);
        break;
    case JG_GW_MM_AUTHED:
        if (k->authed || jg_gw_msg_get_str(q, user, sizeof(user)) != 0 ||
            !jg_gw_valid_user(user))
            return JG_ERR_INVALID;
        jg_strlcpy(k->user, user, sizeof(k->user));
        k->authed = true;
        session_cap(m, k);
        r = 0;
        break;
    case JG_GW_MM_DECISION:
        r = on_decision(m, q);
        break;
    case JG_GW_MM_OPEN:
        r = on_open(m, k, q);
        break;
    case JG_GW_MM_UNTIL:
        r = on_until(k, q);
        break;
    case JG_GW_MM_CLOSE:
        r = on_close(k, q);
        break;
    case JG_GW_MM_BYTES:
        r = on_bytes(m, q);
        break;
    case JG_GW_MM_CHAN_BYTES:
        r = on_chan_bytes(k, q);
        break;
    case JG_GW_MM_AUDIT_ERROR:
        jg_metrics_add(m->metrics, "jumpgate_audit_write_errors_total", 1,
                       NULL);
        jg_gw_audit_failed(m);
        r = 0;
        break;
    case JG_GW_MM_TARGET_ERROR:
        r = on_target_error(m, k, q);
        break;
    default:
        return JG_ERR_INVALID;
    }
    /* Trailing bytes are as wrong as missing ones. */
    if (r == 0 && (q->bad || q->pos != q->len))
        r = JG_ERR_INVALID;
    return r;
}

/* Stops listening to k: it is no longer listed; the process runs on.
 * At end of file its open channels are kept until it is reaped: if it was
 * killed, they get their end events from the master. */
static void
drop(struct jg_gw_master *m, struct jg_gw_child *k, bool eof)
{
    close(k->sock);
    k->sock = -1;
    k->listed = false;
    if (!eof)
        k->n_chans = 0;
}

void
jg_gw_master_child_input(struct jg_gw_master *m, struct jg_gw_child *k)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));
    int i, r = 0;

    for (i = 0; i < BURST && k->sock >= 0; i++) {
        r = jg_gw_msg_recv(k->sock, q, 0);
        if (r == JG_ERR_NOTFOUND)
            break;
        if (r == JG_ERR_IO) {
            /* The monitor is ending; it is reaped on SIGCHLD. */
            drop(m, k, true);
            break;
        }
        if (r != 0 || (r = handle(m, k, q)) != 0) {
            jg_error("monitor %d for %s sent a malformed report (type %u); "
                     "it is no longer listed or counted", (int)k->pid,
                     k->peer, q->type);
            if (q->fd >= 0)
                close(q->fd);
            drop(m, k, false);
            break;
        }
    }
    free(q);
}

void
jg_gw_master_child_lost(struct jg_gw_master *m, struct jg_gw_child *k,
                        int sig)
{
    char reason[96];
    size_t i;

    if (m->log == NULL)
        return;
    snprintf(reason, sizeof(reason),
             "the connection's monitor was killed by signal %d", sig);
    for (i = 0; i < k->n_chans; i++) {
        const struct jg_gw_mchan *c = &k->chans[i];
        bool fwd = c->action == JG_ACT_FORWARD || c->action == JG_ACT_JUMP;
        json_t *extra = NULL;
        int r;

        /* A recorded channel's bytes, as far as they were reported. */
        if ((c->action == JG_ACT_SHELL || c->action == JG_ACT_EXEC) &&
            c->session[0] != '\0')
            extra = json_pack("{s:I,s:I}", "bytes_in",
                              (json_int_t)c->bytes_in, "bytes_out",
                              (json_int_t)c->bytes_out);
        r = jg_gw_event_append(m->log, fwd ? "forward.close" : "session.end",
                               c->session[0] ? c->session : NULL,
                               k->conn_id, k->user, k->peer, c->target,
                               c->login[0] ? c->login : NULL,
                               jg_policy_action_name(c->action), NULL, reason,
                               extra);
        json_decref(extra);
        if (r != 0) {
            jg_error("audit: cannot append the end of a lost session: %s",
                     jg_strerror(r));
            jg_gw_audit_failed(m);
        }
    }
}

void
jg_gw_master_child_gone(struct jg_gw_master *m, struct jg_gw_child *k)
{
    (void)m;
    if (k->sock >= 0)
        close(k->sock);
    k->sock = -1;
    k->listed = false;
    k->n_chans = 0;
}

int
jg_gw_master_child_kill(struct jg_gw_master *m, struct jg_gw_child *k,
                        const char *reason)
{
    struct jg_gw_msg *q;
    int r;

    (void)m;
    if (k->sock < 0)
        return JG_ERR_NOTFOUND;
    k->ending = true;
    q = jg_xmalloc(sizeof(*q));
    jg_gw_msg_init(q, JG_GW_MM_KILL);
    jg_gw_msg_put_str(q, reason);
    r = jg_gw_msg_send(k->sock, q, -1);
    free(q);
    if (r != 0) {
        /* Its queue is full or it is gone: end it the hard way. */
        jg_warn("monitor %d for %s does not take the kill order; "
                "terminating it", (int)k->pid, k->peer);
        kill(k->pid, SIGTERM);
    }
    return 0;
}
