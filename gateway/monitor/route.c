/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/route.c - the monitor's answers once a user is in:
 * policy decisions, connections to targets (the socket goes back by
 * SCM_RIGHTS), host key checks and the target list. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "gateway/monitor/internal.h"

static int
send_free(struct jg_gw_mon *m, struct jg_gw_msg *a, int fd)
{
    int r = jg_gw_msg_send(m->sock, a, fd) == 0 ? 0 : JG_ERR_IO;

    free(a);
    return r;
}

static struct jg_gw_msg *
answer(uint8_t req)
{
    struct jg_gw_msg *a = jg_xmalloc(sizeof(*a));

    jg_gw_msg_init(a, JG_GW_ANS | req);
    return a;
}

/* Decides and, when allowed, remembers the grant. *id is the grant's
 * index or UINT32_MAX. */
static void
decide(struct jg_gw_mon *m, const char *target, unsigned action,
       const char *login, struct jg_decision *dec, uint32_t *id)
{
    struct jg_request req = {.user = m->user, .from = m->conn->peer,
                             .target = target, .action = action,
                             .login = login, .at = jg_now()};
    char esc[160], tbuf[JG_TIME_STRLEN];
    struct jg_gw_grant *g = NULL;
    size_t i;

    *id = UINT32_MAX;
    jg_gw_escape(target, esc, sizeof(esc));
    if (m->lapsed) {
        memset(dec, 0, sizeof(*dec));
        dec->effect = JG_DENY;
        jg_strlcpy(dec->reason, m->lapse_text[0] ? m->lapse_text
                                                 : "the session is ending",
                   sizeof(dec->reason));
        return;
    }
    jg_policy_decide(m->d->pol, &req, dec);
    for (i = 0; i < JG_GW_MAX_GRANTS && g == NULL; i++)
        if (!m->grants[i].used)
            g = &m->grants[i];
    if (dec->effect == JG_ALLOW && (g == NULL || m->next_grant == UINT32_MAX)) {
        dec->effect = JG_DENY;
        snprintf(dec->reason, sizeof(dec->reason),
                 "too many channels open in one connection (at most %d)",
                 JG_GW_MAX_GRANTS);
        jg_gw_mon_report_decision(m, action, "error", NULL);
    } else if (dec->effect != JG_ALLOW) {
        jg_gw_mon_report_decision(m, action, "denied", dec->by_name);
    }
    if (dec->effect != JG_ALLOW) {
        jg_info("policy deny: %s from %s: %s on %s%s%s: %s", m->user,
                m->conn->peer, jg_policy_action_name(action), esc,
                login ? " as " : "", login ? login : "", dec->reason);
        jg_gw_mon_event(m, "policy.deny", NULL, m->user, target, login,
                        jg_policy_action_name(action),
                        dec->by_name[0] ? dec->by_name : NULL, dec->reason,
                        NULL);
        return;
    }
    memset(g, 0, sizeof(*g));
    g->used = true;
    g->id = m->next_grant++;
    jg_strlcpy(g->target, target, sizeof(g->target));
    g->action = action;
    jg_strlcpy(g->login, dec->login, sizeof(g->login));
    g->started = req.at;
    g->max_session = dec->max_session;
    g->until = dec->until;
    g->active = true;
    jg_strlcpy(g->rule, dec->by_name, sizeof(g->rule));
    g->record_input = dec->record_input;
    *id = g->id;
    jg_time_format(dec->until, tbuf, sizeof(tbuf));
    jg_info("policy allow: %s from %s: %s on %s%s%s by %s until %s", m->user,
            m->conn->peer, jg_policy_action_name(action), esc,
            dec->login[0] ? " as " : "", dec->login,
            dec->by_name[0] ? dec->by_name : "policy", tbuf);
}

int
jg_gw_mon_decide(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_decision dec;
    struct jg_gw_msg *a;
    char target[128], login[64];
    uint32_t action, id;

    if (jg_gw_msg_get_str(q, target, sizeof(target)) != 0 ||
        jg_gw_msg_get_u32(q, &action) != 0 ||
        jg_gw_msg_get_str(q, login, sizeof(login)) != 0)
        return JG_ERR_INVALID;
    if ((action & JG_ACT_NEEDS_LOGIN) == 0 ||
        (action & (action - 1)) != 0)
        return JG_ERR_INVALID;
    decide(m, target, action, login[0] ? login : NULL, &dec, &id);
    a = answer(JG_GW_REQ_DECIDE);
    jg_gw_msg_put_u32(a, id);
    jg_gw_msg_put_u8(a, dec.effect == JG_ALLOW);
    jg_gw_msg_put_str(a, dec.login);
    jg_gw_msg_put_str(a, dec.reason);
    jg_gw_msg_put_u64(a, (uint64_t)dec.until);
    return send_free(m, a, -1);
}

int
jg_gw_mon_connect(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t;
    struct jg_gw_grant *g;
    struct jg_gw_msg *a;
    char err[256] = "";
    uint32_t id;
    int fd = -1, r;

    if (jg_gw_msg_get_u32(q, &id) != 0)
        return JG_ERR_INVALID;
    a = answer(JG_GW_REQ_CONNECT);
    if ((t = jg_gw_mon_grant_target(m, id, &g)) == NULL) {
        jg_strlcpy(err, "no permission for this target", sizeof(err));
    } else if ((r = jg_gw_connect(t->host, t->port, JG_GW_CONNECT_TIMEOUT,
                                  &fd, err, sizeof(err))) != 0) {
        jg_gw_mon_target_error(m, t, g->action,
                               jg_gw_connect_error(r, errno), err);
    }
    jg_gw_msg_put_u8(a, fd >= 0);
    jg_gw_msg_put_str(a, err);
    r = send_free(m, a, fd);
    if (fd >= 0)
        close(fd);
    return r;
}

#define HOSTCERT_REFUSED 1   /* a refused host certificate, beside JG_ERR_* */

/* Cuts s to at most max bytes, on a UTF-8 character boundary. */
static void
cut_utf8(char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    s[max] = '\0';
}

/* The host key the target proved it holds (type, blob), checked against
 * upstream.known_hosts: 0, JG_ERR_NOTFOUND (not known), JG_ERR_DENIED
 * (another key is pinned, or it is revoked; then *known names what is
 * known), HOSTCERT_REFUSED with msg, or an error reading the file. A host
 * certificate is accepted when a trusted CA vouches for it; otherwise
 * its key is checked as a plain key, as OpenSSH's client does (fp then
 * becomes that key's fingerprint), and a refusal says why the certificate
 * did not count when a CA is trusted for the host. */
static int
check_key(struct jg_gw_mon *m, const struct jg_target *t, const char *type,
          const uint8_t *blob, size_t len, const ssh_key key, char **known,
          char *fp, size_t fpn, char *msg, size_t msgn)
{
    const char *file = m->d->cfg->upstream_known_hosts;
    char why[600] = "";
    ssh_key plain = NULL;
    int k;

    if (!jg_gw_hostcert_is_cert(type))
        return jg_gw_knownhosts_check(file, t->host, t->port, key, known);
    k = jg_gw_hostcert_check(file, t->host, t->port, blob, len, &plain, why,
                             sizeof(why));
    if (k == 0)
        return 0;
    if (k == JG_ERR_NOTFOUND) {
        jg_gw_fingerprint(plain, fp, fpn);
        k = jg_gw_knownhosts_check(file, t->host, t->port, plain, known);
        ssh_key_free(plain);
        if (k == JG_ERR_NOTFOUND && !jg_gw_knownhosts_has_ca(file, t->host,
                                                             t->port))
            return k;   /* no CA is trusted for it: simply not known */
        if (k == 0) {
            jg_info("target %s (%s port %u): its host certificate does not "
                    "count (%s); its key is pinned in %s; accepted", t->name,
                    t->host, t->port, why, file);
            return 0;
        }
        /* A changed pinned key stays a changed key, so that the alarm is
         * not lost; an unknown one is refused for its certificate. */
        if (k != JG_ERR_NOTFOUND)
            return k;
    } else if (k != JG_ERR_DENIED) {
        snprintf(why, sizeof(why), "cannot read %s", file);
    }
    jg_error("target %s (%s port %u): host certificate refused: %s", t->name,
             t->host, t->port, why);
    snprintf(msg, msgn, "the host certificate of target %s was refused: %s",
             t->name, why);
    return HOSTCERT_REFUSED;
}

int
jg_gw_mon_hostkey(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t;
    struct jg_gw_grant *g;
    struct jg_gw_msg *a;
    char type[64], *b64 = NULL, *known = NULL, fp[128], msg[1024] = "";
    uint8_t *blob = NULL;
    ssh_key key = NULL;
    uint32_t id;
    int r = JG_ERR_INVALID, k, len = 0;

    if (jg_gw_msg_get_u32(q, &id) != 0 ||
        jg_gw_msg_get_str(q, type, sizeof(type)) != 0 ||
        jg_gw_msg_get_strdup(q, &b64) != 0)
        goto out;
    a = answer(JG_GW_REQ_HOSTKEY);
    if ((t = jg_gw_mon_grant_target(m, id, &g)) == NULL) {
        jg_strlcpy(msg, "no permission for this target", sizeof(msg));
        k = JG_ERR_DENIED;
    } else if ((blob = jg_xmalloc(strlen(b64) + 1),
                len = jg_gw_unb64((const uint8_t *)b64, strlen(b64), blob)) <=
                   0 ||
               ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type),
                                            &key) != SSH_OK) {
        snprintf(msg, sizeof(msg), "target %s sent an unreadable host key",
                 t->name);
        k = JG_ERR_INVALID;
    } else {
        jg_gw_fingerprint(key, fp, sizeof(fp));
        k = check_key(m, t, type, blob, (size_t)len, key, &known, fp,
                      sizeof(fp), msg, sizeof(msg));
        if (k == JG_ERR_NOTFOUND) {
            bool ca = jg_gw_knownhosts_has_ca(m->d->cfg->upstream_known_hosts,
                                              t->host, t->port);
            snprintf(msg, sizeof(msg),
                     "the host key of target %s is not known to the gateway%s; "
                     "refused", t->name,
                     ca ? " and it shows no host certificate" : "");
            jg_error("target %s (%s port %u): host key %s %s is not in %s "
                     "(known: none%s); refused", t->name, t->host, t->port,
                     type, fp, m->d->cfg->upstream_known_hosts,
                     ca ? "; no host certificate shown" : "");
        } else if (k == JG_ERR_DENIED) {
            snprintf(msg, sizeof(msg),
                     "the host key of target %s has CHANGED; refused (it may "
                     "be an attack; tell the administrators)", t->name);
            jg_error("target %s (%s port %u): host key CHANGED: offered %s "
                     "%s, known %s; refused", t->name, t->host, t->port,
                     type, fp, known);
        } else if (k != 0 && k != HOSTCERT_REFUSED) {
            snprintf(msg, sizeof(msg), "the gateway cannot check the host key "
                     "of target %s", t->name);
            jg_error("cannot read %s", m->d->cfg->upstream_known_hosts);
        }
    }
    free(m->up_hostkey);
    m->up_hostkey = NULL;
    m->up_hostkey_len = 0;
    if (k == 0) {
        /* What the agent binds a host-bound login to (a certificate too). */
        m->up_hostkey = blob;
        m->up_hostkey_len = (size_t)len;
        m->up_hostkey_grant = id;
        blob = NULL;
    }
    if (t != NULL && k != 0)
        jg_gw_mon_target_error(m, t, g->action,
                               k == JG_ERR_NOTFOUND ? "host_key_unknown"
                               : k == JG_ERR_DENIED ? "host_key_changed"
                               : k == HOSTCERT_REFUSED ? "host_cert_refused"
                                                    : "host_key_error",
                               msg);
    jg_gw_msg_put_u8(a, k == 0);
    cut_utf8(msg, JG_GW_USER_MSG_MAX);
    jg_gw_msg_put_str(a, msg);
    r = send_free(m, a, -1);
out:
    free(b64);
    free(blob);
    free(known);
    ssh_key_free(key);
    return r;
}

static void
append(char **text, const char *fmt, ...) JG_PRINTF(2, 3);

static void
append(char **text, const char *fmt, ...)
{
    char line[512], *n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    n = jg_xasprintf("%s%s", *text ? *text : "", line);
    free(*text);
    *text = n;
}

/* One line of the target list for t, when the user may use it now. */
static size_t
list_target(struct jg_gw_mon *m, const struct jg_target *t, char **text)
{
    const struct jg_policy *p = m->d->pol;
    struct jg_request req = {.user = m->user, .from = m->conn->peer,
                             .target = t->name, .at = jg_now()};
    const char *logins[16];
    char acts[64] = "", lst[256] = "";
    size_t k, nl = 0;
    unsigned mask = 0, bit;

    for (bit = JG_ACT_SHELL; bit <= JG_ACT_JUMP; bit <<= 1) {
        struct jg_decision dec;
        if ((t->kind == JG_TARGET_TCP) != (bit == JG_ACT_FORWARD))
            continue;
        req.action = bit;
        if (jg_policy_decide(p, &req, &dec) == 0 && dec.effect == JG_ALLOW)
            mask |= bit;
    }
    if (mask == 0 || t->host == NULL)
        return 0;
    jg_policy_actions_format(mask, acts, sizeof(acts));
    if (mask & JG_ACT_NEEDS_LOGIN) {
        req.action = mask & JG_ACT_SHELL   ? JG_ACT_SHELL
                     : mask & JG_ACT_EXEC ? JG_ACT_EXEC
                                          : JG_ACT_SFTP;
        nl = jg_policy_logins(p, &req, logins, 16);
        for (k = 0; k < nl; k++) {
            size_t have = strlen(lst);
            snprintf(lst + have, sizeof(lst) - have, "%s%s",
                     k ? ", " : " as ", logins[k]);
        }
    }
    if (t->kind == JG_TARGET_TCP) {
        append(text, "  %-20s %s (ssh -L %u:%s:%u)\n", t->name, acts,
               t->port, t->name, t->port);
    } else if (t->parent != NULL && t->alias != NULL &&
               strcmp(t->alias, t->name + strlen(t->parent) + 1) != 0) {
        /* A member by its alias, with what it is now (both name it). */
        char both[300];
        snprintf(both, sizeof(both), "%s/%s (%s)", t->parent, t->alias,
                 t->name);
        append(text, "  %-20s %s%s\n", both, acts, lst);
    } else {
        append(text, "  %-20s %s%s\n", t->name, acts, lst);
    }
    return 1;
}

/* The targets the user may use now; a discovering target is listed as
 * its members. */
int
jg_gw_mon_targets(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_policy *p = m->d->pol;
    struct jg_gw_msg *a;
    char *text = NULL;
    size_t i, n = 0;
    int r;

    (void)q;
    for (i = 0; i < jg_policy_n_targets(p); i++)
        n += list_target(m, jg_policy_target_at(p, i), &text);
    for (i = 0; i < jg_policy_n_members(p); i++)
        n += list_target(m, jg_policy_member_at(p, i), &text);
    if (n == 0)
        append(&text, "  (none right now)\n");
    a = answer(JG_GW_REQ_TARGETS);
    jg_gw_msg_put_str(a, text);
    jg_gw_mon_menu_entries(m, a);
    free(text);
    r = send_free(m, a, -1);
    return r;
}

int
jg_gw_mon_forward(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t;
    struct jg_gw_grant *g = NULL;
    struct jg_decision dec;
    struct jg_gw_msg *a;
    char host[256], err[512] = "", esc[300];
    uint32_t port, id = UINT32_MAX;
    unsigned action;
    bool unreached = false;
    int fd = -1, r;

    if (jg_gw_msg_get_str(q, host, sizeof(host)) != 0 ||
        jg_gw_msg_get_u32(q, &port) != 0)
        return JG_ERR_INVALID;
    jg_gw_escape(host, esc, sizeof(esc));
    t = jg_gw_valid_target(host) ? jg_policy_target(m->d->pol, host) : NULL;
    action = t != NULL && t->kind == JG_TARGET_SSH ? JG_ACT_JUMP
                                                   : JG_ACT_FORWARD;
    if (t == NULL || t->host == NULL) {
        snprintf(err, sizeof(err), "'%s' is not a target", esc);
        jg_gw_mon_forward_refused(m, action, esc, port, err);
    } else if (port != t->port) {
        snprintf(err, sizeof(err), "port %u is not the port of target %s "
                 "(%u)", port, t->name, t->port);
        jg_gw_mon_forward_refused(m, action, t->name, port, err);
    } else {
        decide(m, t->name, action, NULL, &dec, &id);
        g = jg_gw_mon_grant(m, id);
        if (dec.effect != JG_ALLOW || g == NULL) {
            jg_strlcpy(err, dec.reason, sizeof(err));
        } else if ((r = jg_gw_connect(t->host, t->port, JG_GW_CONNECT_TIMEOUT,
                                      &fd, err, sizeof(err))) != 0) {
            unreached = true;
            jg_gw_mon_target_error(m, t, action,
                                   jg_gw_connect_error(r, errno), err);
            jg_gw_mon_report_decision(m, action, "error", NULL);
            g->chan = JG_GW_CHAN_FAILED;
            jg_gw_mon_grant_release(m, id);
        } else {
            json_t *x = json_pack("{s:s,s:i}", "host", t->host, "port",
                                  (int)t->port);
            /* The forward's own session id: its open and close events
             * carry it, and the auditors list it as a session. */
            if (jg_audit_uuid7(g->fwd_session) != 0)
                g->fwd_session[0] = '\0';
            jg_gw_mon_report_open(m, id);
            jg_info("forward open: %s from %s to %s (%s port %u)", m->user,
                    m->conn->peer, t->name, t->host, t->port);
            jg_gw_mon_event(m, "forward.open",
                            g->fwd_session[0] ? g->fwd_session : NULL,
                            m->user, t->name, NULL,
                            jg_policy_action_name(action),
                            g->rule[0] ? g->rule : NULL, NULL, x);
            json_decref(x);
        }
    }
    a = answer(JG_GW_REQ_FORWARD);
    jg_gw_msg_put_u32(a, id);
    jg_gw_msg_put_u8(a, fd >= 0);
    jg_gw_msg_put_str(a, err);
    /* A MySQL target with auth: the worker speaks MySQL on it (db.c), and
     * says in MySQL's words when the database cannot be reached. */
    {
        bool db = (fd >= 0 || unreached) && t != NULL &&
                  t->protocol != NULL && strcmp(t->protocol, "mysql") == 0 &&
                  (t->db_password_file != NULL || t->db_iam_region != NULL);

        if (db && fd >= 0)
            g->db = true;
        jg_gw_msg_put_u8(a, db);
        jg_gw_msg_put_u8(a, db && t->db_tls);
        jg_gw_msg_put_str(a, db ? t->host : "");
    }
    r = send_free(m, a, fd);
    if (fd >= 0)
        close(fd);
    return r;
}
