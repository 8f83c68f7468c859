/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/sftp.c - the monitor's side of the SFTP audit: gives
 * each sftp channel a session id, checks every event the (untrusted)
 * worker parsed and appends it to the event log as sftp.* with the user,
 * target, login and rule of the channel's grant, and logs session.start
 * and session.end around them. */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "gateway/monitor/internal.h"

_Static_assert(JG_GW_SFTP_PATH_MAX == 3 * JG_AUDIT_SFTP_PATH_MAX,
               "a cleaned path is at most three times as long");
_Static_assert(JG_GW_SFTP_NAME_MAX == 3 * JG_AUDIT_SFTP_NAME_MAX,
               "a cleaned request name is at most three times as long");

bool
jg_gw_mon_sftp_drainable(uint8_t type)
{
    return type == JG_GW_REQ_SFTP_EVENT || type == JG_GW_REQ_SFTP_END;
}

static struct jg_gw_mon_sftp *
find(struct jg_gw_mon *m, uint32_t chan)
{
    size_t i;

    for (i = 0; m->sftp != NULL && i < JG_GW_MAX_SFTP; i++)
        if (m->sftp[i].used && m->sftp[i].chan == chan)
            return &m->sftp[i];
    return NULL;
}

static int
answer(struct jg_gw_mon *m, bool ok, const char *text)
{
    struct jg_gw_msg *a = jg_xmalloc(sizeof(*a));
    int r;

    jg_gw_msg_init(a, JG_GW_ANS | JG_GW_REQ_SFTP_START);
    jg_gw_msg_put_u8(a, ok);
    jg_gw_msg_put_str(a, text);
    r = jg_gw_msg_send(m->sock, a, -1) == 0 ? 0 : JG_ERR_IO;
    free(a);
    return r;
}

int
jg_gw_mon_sftp_start(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_gw_mon_sftp *x = NULL;
    struct jg_gw_grant *g;
    uint32_t chan, grant;
    const char *why = NULL;
    json_t *extra;
    size_t i;

    if (jg_gw_msg_get_u32(q, &chan) != 0 ||
        jg_gw_msg_get_u32(q, &grant) != 0 ||
        (g = jg_gw_mon_grant(m, grant)) == NULL || find(m, chan) != NULL)
        return JG_ERR_INVALID;
    if (g->action != JG_ACT_SFTP)
        return JG_ERR_INVALID;
    if (m->sftp == NULL)
        m->sftp = jg_xcalloc(JG_GW_MAX_SFTP, sizeof(*m->sftp));
    for (i = 0; i < JG_GW_MAX_SFTP && x == NULL; i++)
        if (!m->sftp[i].used)
            x = &m->sftp[i];
    if (!g->active)
        why = "the permission has ended";
    else if (x == NULL)
        why = "too many sftp channels";
    else if (m->audit_log == NULL)
        why = "the event log is not available";
    else if (jg_audit_uuid7(x->id) != 0)
        why = "no session id";
    if (why != NULL) {
        jg_error("audit: sftp on %s for %s: %s", g->target, m->user, why);
        if (m->d->cfg->audit_on_failure == JG_ON_FAILURE_REFUSE)
            return answer(m, false, why);
        return answer(m, true, "");
    }
    x->used = true;
    x->chan = chan;
    x->grant = grant;
    x->start_us = jg_audit_now_us();
    extra = json_object();
    json_object_set_new(extra, "recording", json_null());
    jg_gw_mon_agent_plan(m, g, x->id, false, extra);
    jg_gw_mon_event(m, "session.start", x->id, m->user, g->target, g->login,
                    jg_policy_action_name(g->action), g->rule[0] ? g->rule : NULL,
                    NULL, extra);
    json_decref(extra);
    return answer(m, true, x->id);
}

/* An optional string of at most max bytes: *out NULL when absent. */
static int
get_opt(struct jg_gw_msg *q, size_t max, char **out)
{
    uint8_t has;
    int r;

    *out = NULL;
    if ((r = jg_gw_msg_get_u8(q, &has)) != 0 ||
        (r = jg_gw_msg_get_strdup(q, out)) != 0)
        return r;
    if (has > 1 || strlen(*out) > max || (!has && (*out)[0] != '\0')) {
        free(*out);
        *out = NULL;
        return JG_ERR_INVALID;
    }
    if (!has) {
        free(*out);
        *out = NULL;
    }
    return 0;
}

int
jg_gw_mon_sftp_event(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_audit_sftp_event ev = {0};
    struct jg_gw_mon_sftp *x;
    struct jg_gw_grant *g;
    char *path = NULL, *to = NULL, *request = NULL, error[256];
    uint32_t chan, status;
    uint8_t kind, trunc;
    json_t *extra;
    int r = JG_ERR_INVALID;

    if (jg_gw_msg_get_u32(q, &chan) != 0 || jg_gw_msg_get_u8(q, &kind) != 0 ||
        get_opt(q, JG_GW_SFTP_PATH_MAX, &path) != 0 ||
        get_opt(q, JG_GW_SFTP_PATH_MAX, &to) != 0 ||
        get_opt(q, JG_GW_SFTP_NAME_MAX, &request) != 0 ||
        jg_gw_msg_get_u8(q, &trunc) != 0 ||
        jg_gw_msg_get_u32(q, &ev.pflags) != 0 ||
        jg_gw_msg_get_u32(q, &ev.attrs.flags) != 0 ||
        jg_gw_msg_get_u64(q, &ev.attrs.size) != 0 ||
        jg_gw_msg_get_u32(q, &ev.attrs.uid) != 0 ||
        jg_gw_msg_get_u32(q, &ev.attrs.gid) != 0 ||
        jg_gw_msg_get_u32(q, &ev.attrs.perm) != 0 ||
        jg_gw_msg_get_u32(q, &ev.attrs.atime) != 0 ||
        jg_gw_msg_get_u32(q, &ev.attrs.mtime) != 0 ||
        jg_gw_msg_get_u64(q, &ev.bytes_read) != 0 ||
        jg_gw_msg_get_u64(q, &ev.bytes_written) != 0 ||
        jg_gw_msg_get_u64(q, &ev.length) != 0 ||
        jg_gw_msg_get_u32(q, &status) != 0 ||
        jg_gw_msg_get_str(q, error, sizeof(error)) != 0)
        goto out;
    /* The worker is not trusted: only what the parser can say passes. */
    ev.kind = (enum jg_audit_sftp_kind)kind;
    ev.status = (int32_t)status;
    if ((x = find(m, chan)) == NULL || jg_audit_sftp_type(ev.kind) == NULL ||
        trunc > 1 || ev.status < JG_AUDIT_SFTP_ST_UNKNOWN ||
        (ev.kind == JG_AUDIT_SFTP_ERROR) != (error[0] != '\0') ||
        (ev.kind != JG_AUDIT_SFTP_EXTENDED && request != NULL) ||
        (ev.attrs.flags & ~0xfu) != 0)
        goto out;
    ev.path = path;
    ev.to = to;
    ev.request = request;
    ev.truncated = trunc != 0;
    ev.error = ev.kind == JG_AUDIT_SFTP_ERROR ? error : NULL;
    g = jg_gw_mon_grant(m, x->grant);
    extra = jg_audit_sftp_event_json(&ev);
    jg_gw_mon_event(m, jg_audit_sftp_type(ev.kind), x->id, m->user, g->target,
                    g->login, jg_policy_action_name(g->action),
                    g->rule[0] ? g->rule : NULL, ev.error, extra);
    json_decref(extra);
    r = 0;
out:
    free(path);
    free(to);
    free(request);
    return r;
}

static void
end(struct jg_gw_mon *m, struct jg_gw_mon_sftp *x, json_t *extra)
{
    struct jg_gw_grant *g = jg_gw_mon_grant(m, x->grant);
    int64_t ms = (jg_audit_now_us() - x->start_us) / 1000;

    json_object_set_new(extra, "duration_ms", json_integer(ms < 0 ? 0 : ms));
    jg_gw_mon_event(m, "session.end", x->id, m->user, g->target, g->login,
                    jg_policy_action_name(g->action), g->rule[0] ? g->rule : NULL,
                    m->rep.end_reason[0] ? m->rep.end_reason : NULL, extra);
    x->used = false;
    jg_gw_mon_grant_release(m, x->grant);
}

static json_int_t
count(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

int
jg_gw_mon_sftp_end(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_gw_mon_sftp *x;
    uint64_t in, out, dreq, dhandle;
    uint32_t chan;
    json_t *extra;

    if (jg_gw_msg_get_u32(q, &chan) != 0 || jg_gw_msg_get_u64(q, &in) != 0 ||
        jg_gw_msg_get_u64(q, &out) != 0 || jg_gw_msg_get_u64(q, &dreq) != 0 ||
        jg_gw_msg_get_u64(q, &dhandle) != 0 || (x = find(m, chan)) == NULL)
        return JG_ERR_INVALID;
    extra = json_object();
    json_object_set_new(extra, "bytes_in", json_integer(count(in)));
    json_object_set_new(extra, "bytes_out", json_integer(count(out)));
    /* What the parser's bounds cost, when they cost anything. */
    if (dreq > 0)
        json_object_set_new(extra, "sftp_dropped_requests",
                            json_integer(count(dreq)));
    if (dhandle > 0)
        json_object_set_new(extra, "sftp_dropped_handles",
                            json_integer(count(dhandle)));
    end(m, x, extra);
    json_decref(extra);
    return 0;
}

void
jg_gw_mon_sftp_finish(struct jg_gw_mon *m)
{
    size_t i;

    for (i = 0; m->sftp != NULL && i < JG_GW_MAX_SFTP; i++) {
        if (m->sftp[i].used) {
            json_t *extra = json_object();
            end(m, &m->sftp[i], extra);
            json_decref(extra);
        }
    }
    free(m->sftp);
    m->sftp = NULL;
}
