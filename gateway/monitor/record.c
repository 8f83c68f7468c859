/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/record.c - session recordings, fed by what the worker
 * taps (JG_GW_REQ_REC_*), and the end events of recorded and forwarded
 * channels.
 *
 * The recordings and the signing key live in the monitor (root); the
 * chrooted worker only sends what crossed it, so a compromised worker can
 * lie about its own session but cannot touch any other record or the
 * key. */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "gateway/monitor/internal.h"

static struct jg_gw_mon_rec *
find_rec(struct jg_gw_mon *m, uint32_t chan)
{
    size_t i;

    for (i = 0; i < JG_GW_MAX_RECS; i++)
        if (m->recs[i].used && m->recs[i].chan == chan)
            return &m->recs[i];
    return NULL;
}

/* A recording write failed: with on_failure refuse the session ends with a
 * message to the user; otherwise the recording stops (and says so in the
 * log). */
static void
rec_failed(struct jg_gw_mon *m, struct jg_gw_mon_rec *x, int err)
{
    char msg[512];

    jg_error("audit: writing the recording %s of %s failed: %s", x->id,
             m->user, jg_strerror(err));
    jg_audit_rec_free(x->r);
    x->r = NULL;
    jg_gw_mon_report_audit_error(m);
    if (m->d->cfg->audit_on_failure == JG_ON_FAILURE_REFUSE) {
        snprintf(msg, sizeof(msg),
                 "the session recording could not be written (%s)",
                 jg_strerror(err));
        jg_gw_mon_lapse(m, msg);
    }
}

static int
send_answer(struct jg_gw_mon *m, bool ok, const char *text, bool rin)
{
    struct jg_gw_msg *a = jg_xmalloc(sizeof(*a));
    int r;

    jg_gw_msg_init(a, JG_GW_ANS | JG_GW_REQ_REC_OPEN);
    jg_gw_msg_put_u8(a, ok);
    jg_gw_msg_put_str(a, text);
    jg_gw_msg_put_u8(a, rin);
    r = jg_gw_msg_send(m->sock, a, -1) == 0 ? 0 : JG_ERR_IO;
    free(a);
    return r;
}

/* A discovered member asked for by its alias: the member it is now
 * (ecs-prod/i-0abc...) and its address, for the record; NULL for any
 * other target. */
static void
member_of(struct jg_gw_mon *m, const struct jg_gw_grant *g,
          const char **id, const char **address)
{
    const struct jg_target *t = jg_policy_target(m->d->pol, g->target);

    *id = *address = NULL;
    if (t == NULL || t->parent == NULL)
        return;
    if (strcmp(t->name, g->target) != 0)
        *id = t->name;
    *address = t->address;
}

int
jg_gw_mon_rec_open(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_config *cfg = m->d->cfg;
    struct jg_audit_rec_info info = {0};
    struct jg_gw_mon_rec *x = NULL;
    struct jg_gw_grant *g;
    char term[64], *command = NULL, why[256] = "";
    uint32_t chan, grant, cols, rows;
    const char *action, *tid, *addr;
    json_t *extra;
    size_t i;
    int r;

    if (jg_gw_msg_get_u32(q, &chan) != 0 || jg_gw_msg_get_u32(q, &grant) != 0 ||
        jg_gw_msg_get_strdup(q, &command) != 0 ||
        jg_gw_msg_get_str(q, term, sizeof(term)) != 0 ||
        jg_gw_msg_get_u32(q, &cols) != 0 || jg_gw_msg_get_u32(q, &rows) != 0 ||
        (g = jg_gw_mon_grant(m, grant)) == NULL ||
        find_rec(m, chan) != NULL || cols > 10000 || rows > 10000) {
        free(command);
        return JG_ERR_INVALID;
    }
    if (g->action != JG_ACT_SHELL && g->action != JG_ACT_EXEC) {
        free(command);
        return JG_ERR_INVALID;
    }
    action = jg_policy_action_name(g->action);
    member_of(m, g, &tid, &addr);
    for (i = 0; i < JG_GW_MAX_RECS && x == NULL; i++)
        if (!m->recs[i].used)
            x = &m->recs[i];
    if (!g->active) {
        jg_strlcpy(why, "the permission has ended", sizeof(why));
    } else if (x == NULL) {
        jg_strlcpy(why, "too many recorded channels", sizeof(why));
    } else if (m->audit_key == NULL || cfg->audit_dir == NULL) {
        jg_strlcpy(why, "session recording is not configured", sizeof(why));
    } else if ((r = jg_audit_uuid7(x->id)) != 0) {
        jg_strlcpy(why, "no recording id", sizeof(why));
    } else {
        info.session = x->id;
        info.connection = m->conn_id[0] ? m->conn_id : NULL;
        info.user = m->user;
        info.target = g->target;
        info.target_id = tid;
        info.address = addr;
        info.login = g->login;
        info.from = m->conn->peer;
        info.rule = g->rule[0] ? g->rule : NULL;
        info.action = action;
        info.command = g->action == JG_ACT_EXEC ? command : NULL;
        info.term = term[0] ? term : NULL;
        info.width = cols;
        info.height = rows;
        info.record_input = g->record_input;
        if ((r = jg_audit_rec_open(cfg->audit_dir, &info, m->audit_key,
                                   jg_audit_now_us(), &x->r)) != 0) {
            x->r = NULL;
            snprintf(why, sizeof(why), "cannot create the recording: %s",
                     jg_strerror(r));
        }
    }
    if (why[0] != '\0') {
        jg_error("audit: %s on %s for %s: %s", action, g->target, m->user, why);
        free(command);
        if (cfg->audit_on_failure == JG_ON_FAILURE_REFUSE)
            return send_answer(m, false, why, false);
        /* Unrecorded, but the login certificate still fits the channel. */
        jg_gw_mon_agent_plan(m, g, m->conn_id, term[0] != '\0', NULL);
        return send_answer(m, true, "", false);
    }
    x->used = true;
    x->chan = chan;
    x->grant = grant;
    x->exit_status = -1;
    x->rec_in = x->rec_out = x->wk_in = x->wk_out = 0;
    x->sent_in = x->sent_out = 0;
    m->n_recs++;
    extra = json_object();
    if (g->action == JG_ACT_EXEC)
        json_object_set_new(extra, "command", json_string(command));
    if (tid != NULL)
        json_object_set_new(extra, "target_id", json_string(tid));
    if (addr != NULL)
        json_object_set_new(extra, "address", json_string(addr));
    if (term[0] != '\0') {
        json_object_set_new(extra, "term", json_string(term));
        json_object_set_new(extra, "width", json_integer(cols));
        json_object_set_new(extra, "height", json_integer(rows));
    }
    json_object_set_new(extra, "recording",
                        json_string(jg_audit_rec_path(x->r)));
    json_object_set_new(extra, "record_input", json_boolean(g->record_input));
    jg_gw_mon_agent_plan(m, g, x->id, term[0] != '\0', extra);
    jg_gw_mon_event(m, "session.start", x->id, m->user, g->target, g->login,
                    action, g->rule, NULL, extra);
    if (g->action == JG_ACT_EXEC) {
        json_t *e = json_object();
        json_object_set_new(e, "command", json_string(command));
        jg_gw_mon_event(m, "exec", x->id, m->user, g->target, g->login,
                        action, g->rule, NULL, e);
        json_decref(e);
    }
    json_decref(extra);
    free(command);
    return send_answer(m, true, x->id, g->record_input);
}

/* One record of the tap ring: output, stderr or input bytes (in one or
 * two pieces), or a window size. */
static int
tap_one(struct jg_gw_mon *m, const struct jg_gw_tap_rec *t)
{
    struct jg_gw_mon_rec *x;
    uint32_t cols, rows;
    int64_t now;
    int r = 0, k;

    if ((x = find_rec(m, t->chan)) == NULL)
        return JG_ERR_INVALID;
    now = jg_audit_now_us();
    if (t->kind == 'r') {
        uint8_t b[8];
        /* Copied once, then checked: the ring is the worker's to scribble
         * on. (jg_gw_tap_next() made len 8.) */
        memcpy(b, t->p[0], t->n[0]);
        if (t->n[1] > 0)
            memcpy(b + t->n[0], t->p[1], t->n[1]);
        memcpy(&cols, b, 4);
        memcpy(&rows, b + 4, 4);
        if (cols > 10000 || rows > 10000)
            return JG_ERR_INVALID;
        if (x->r != NULL && (r = jg_audit_rec_resize(x->r, now, cols, rows)) != 0)
            rec_failed(m, x, r);
        return 0;
    }
    if (t->kind == 'i')
        x->rec_in += t->len;
    else
        x->rec_out += t->len;
    /* stdout and stderr are kept apart. The recorder copies the bytes
     * before the ring space is given back. */
    for (k = 0; k < 2 && x->r != NULL && r == 0; k++) {
        if (t->n[k] == 0)
            continue;
        r = t->kind == 'i'   ? jg_audit_rec_input(x->r, now, t->p[k], t->n[k])
            : t->kind == 'e' ? jg_audit_rec_stderr(x->r, now, t->p[k], t->n[k])
                             : jg_audit_rec_output(x->r, now, t->p[k], t->n[k]);
    }
    if (r != 0)
        rec_failed(m, x, r);
    return 0;
}

int
jg_gw_mon_tap_drain(struct jg_gw_mon *m)
{
    struct jg_gw_tap_rec t;
    uint64_t head, start = m->tap_pos;
    int r;

    head = jg_gw_tap_head(m->tap);
    /* At most one ring's worth per call: the timers run between. */
    while (m->tap_pos - start < JG_GW_TAP_SIZE &&
           (r = jg_gw_tap_next(m->tap, &m->tap_pos, head, &t)) != JG_ERR_NOTFOUND) {
        if (r != 0 || (r = tap_one(m, &t)) != 0) {
            jg_error("monitor: the tap ring of the worker of %s is broken "
                     "(at byte %llu)", m->conn->peer,
                     (unsigned long long)m->tap_pos);
            return JG_ERR_INVALID;
        }
        jg_gw_tap_release(m->tap, m->tap_pos);
        if (m->tap_pos == head)
            head = jg_gw_tap_head(m->tap);
    }
    return 0;
}

int
jg_gw_mon_rec_tap(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    /* The ring was read before this nudge was served (monitor.c). */
    return q->len == 0 ? 0 : JG_ERR_INVALID;
}

int
jg_gw_mon_rec_exit(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_gw_mon_rec *x;
    char sig[32], label[64];
    uint32_t chan, status;
    uint8_t is_sig;
    int r;

    if (jg_gw_msg_get_u32(q, &chan) != 0 || jg_gw_msg_get_u8(q, &is_sig) != 0 ||
        jg_gw_msg_get_u32(q, &status) != 0 ||
        jg_gw_msg_get_str(q, sig, sizeof(sig)) != 0 || status > 255)
        return JG_ERR_INVALID;
    if ((x = find_rec(m, chan)) == NULL)
        return JG_ERR_INVALID;
    if (x->r == NULL)
        return 0;
    if (is_sig) {
        snprintf(label, sizeof(label), "exit-signal %s", sig);
        r = jg_audit_rec_marker(x->r, jg_audit_now_us(), label);
    } else {
        x->exit_status = (int)status;
        r = jg_audit_rec_exit_status(x->r, jg_audit_now_us(), (int)status);
    }
    if (r != 0)
        rec_failed(m, x, r);
    return 0;
}

static void
rec_end(struct jg_gw_mon *m, struct jg_gw_mon_rec *x, uint64_t in,
        uint64_t out, const char *reason)
{
    struct jg_gw_grant *g = jg_gw_mon_grant(m, x->grant);
    json_t *extra = json_object();
    int r;

    if (x->r != NULL &&
        (r = jg_audit_rec_close(x->r, jg_audit_now_us())) != 0) {
        jg_error("audit: closing the recording %s failed: %s", x->id,
                 jg_strerror(r));
        jg_gw_mon_report_audit_error(m);
    }
    x->r = NULL;
    json_object_set_new(extra, "bytes_in", json_integer((json_int_t)in));
    json_object_set_new(extra, "bytes_out", json_integer((json_int_t)out));
    if (x->exit_status >= 0)
        json_object_set_new(extra, "exit_status",
                            json_integer(x->exit_status));
    jg_gw_mon_event(m, "session.end", x->id, m->user, g->target, g->login,
                    jg_policy_action_name(g->action), g->rule,
                    reason != NULL ? reason
                    : m->rep.end_reason[0] ? m->rep.end_reason : NULL, extra);
    json_decref(extra);
    x->used = false;
    m->n_recs--;
    jg_gw_mon_grant_release(m, x->grant);
}

int
jg_gw_mon_chan_end(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t;
    const struct jg_gw_grant *g;
    const char *sid;
    struct jg_gw_mon_rec *x;
    char target[128], reason[16] = "";
    uint64_t in, out, ms;
    uint32_t chan;
    uint8_t fwd;
    json_t *extra;

    if (jg_gw_msg_get_u32(q, &chan) != 0 || jg_gw_msg_get_u8(q, &fwd) != 0 ||
        jg_gw_msg_get_str(q, target, sizeof(target)) != 0 ||
        jg_gw_msg_get_u64(q, &in) != 0 || jg_gw_msg_get_u64(q, &out) != 0 ||
        jg_gw_msg_get_u64(q, &ms) != 0)
        return JG_ERR_INVALID;
    /* An optional reason; the worker may only say "idle" or "protocol
     * error". */
    if (q->pos < q->len &&
        (jg_gw_msg_get_str(q, reason, sizeof(reason)) != 0 ||
         (strcmp(reason, "idle") != 0 &&
          strcmp(reason, "protocol error") != 0)))
        return JG_ERR_INVALID;
    if (!fwd) {
        if ((x = find_rec(m, chan)) != NULL)
            rec_end(m, x, in, out, reason[0] ? reason : NULL);
        return 0;
    }
    t = jg_policy_target(m->d->pol, target);
    /* chan is the forward's grant: its session id, if it is one */
    g = jg_gw_mon_grant(m, chan);
    sid = g != NULL && g->fwd_session[0] != '\0' &&
                  strcmp(g->target, target) == 0
              ? g->fwd_session
              : NULL;
    extra = json_object();
    json_object_set_new(extra, "bytes_in", json_integer((json_int_t)in));
    json_object_set_new(extra, "bytes_out", json_integer((json_int_t)out));
    json_object_set_new(extra, "duration_ms",
                        json_integer(ms > INT64_MAX ? INT64_MAX
                                                    : (json_int_t)ms));
    jg_gw_mon_event(m, "forward.close", sid, m->user, target, NULL,
                    jg_policy_action_name(t != NULL && t->kind == JG_TARGET_SSH
                                       ? JG_ACT_JUMP : JG_ACT_FORWARD),
                    NULL, reason[0] ? reason : NULL, extra);
    json_decref(extra);
    return 0;
}

void
jg_gw_mon_audit_tick(struct jg_gw_mon *m)
{
    int64_t now;
    size_t i;
    int r;

    if (m->n_recs == 0)
        return;
    now = jg_audit_now_us();
    for (i = 0; i < JG_GW_MAX_RECS; i++) {
        struct jg_gw_mon_rec *x = &m->recs[i];
        if (x->used && x->r != NULL && (r = jg_audit_rec_tick(x->r, now)) != 0)
            rec_failed(m, x, r);
    }
}

bool
jg_gw_mon_audit_waiting(const struct jg_gw_mon *m)
{
    size_t i;

    for (i = 0; m->n_recs > 0 && i < JG_GW_MAX_RECS; i++)
        if (m->recs[i].used && m->recs[i].r != NULL &&
            jg_audit_rec_waiting(m->recs[i].r))
            return true;
    return false;
}

void
jg_gw_mon_rec_finish(struct jg_gw_mon *m)
{
    size_t i;

    /* Channels the worker did not end: what is known of them. */
    for (i = 0; i < JG_GW_MAX_RECS; i++) {
        uint64_t in, out;

        if (!m->recs[i].used)
            continue;
        jg_gw_mon_rec_bytes(&m->recs[i], &in, &out);
        rec_end(m, &m->recs[i], in, out, NULL);
    }
}
