/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/db.c - the monitor's side of the MySQL-aware tunnel
 * (protocol: mysql targets with auth): the CA bundle the worker verifies
 * the database with, the sign-in (the database login checked against the
 * policy, the auth response made here from the root-only password file or
 * an RDS IAM token, so that the worker never holds a password it does not
 * send), and the db.* events from what the worker's parser reports. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "gateway/monitor/internal.h"
#include "sync/sync.h"

#define DB_AUTH_TRIES 3      /* a login and its auth switches */
#define PW_FILE_MAX (64u << 10)

static struct jg_gw_msg *
answer(uint8_t type)
{
    struct jg_gw_msg *a = jg_xmalloc(sizeof(*a));

    jg_gw_msg_init(a, JG_GW_ANS | type);
    return a;
}

static int
send_free(struct jg_gw_mon *m, struct jg_gw_msg *a, int fd)
{
    int r = jg_gw_msg_send(m->sock, a, fd);

    free(a);
    return r;
}

/* The grant of a MySQL-aware forward, or NULL. */
static struct jg_gw_grant *
db_grant(struct jg_gw_mon *m, uint32_t id, const struct jg_target **t)
{
    struct jg_gw_grant *g = jg_gw_mon_grant(m, id);

    if (g == NULL || g->action != JG_ACT_FORWARD || !g->db)
        return NULL;
    *t = jg_policy_target(m->d->pol, g->target);
    if (*t == NULL || (*t)->protocol == NULL ||
        ((*t)->db_password_file == NULL && (*t)->db_iam_region == NULL))
        return NULL;
    return g;
}

int
jg_gw_mon_db_ca(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t = NULL;
    struct jg_gw_grant *g;
    struct jg_gw_msg *a;
    char why[512] = "";
    uint32_t id;
    int fd = -1, r;

    if (jg_gw_msg_get_u32(q, &id) != 0 || (g = db_grant(m, id, &t)) == NULL ||
        !t->db_tls)
        return JG_ERR_INVALID;
    if ((fd = open(t->db_tls_ca, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        snprintf(why, sizeof(why), "the gateway cannot read the CA bundle of "
                 "target %s (%s: %s)", t->name, t->db_tls_ca, strerror(errno));
        jg_error("%s", why);
    }
    a = answer(JG_GW_REQ_DB_CA);
    jg_gw_msg_put_u8(a, fd >= 0);
    jg_gw_msg_put_str(a, why);
    r = send_free(m, a, fd);
    if (fd >= 0)
        close(fd);
    return r;
}

/* The password of login in the target's root-only password file
 * ("login:password" lines); NULL with why. */
static char *
password(const struct jg_target *t, const char *login, char *why, size_t whyn)
{
    char *data = NULL, *line, *save = NULL, *pw = NULL;
    size_t len = 0;
    struct stat st;
    int fd, r;

    if ((fd = open(t->db_password_file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 ||
        fstat(fd, &st) != 0) {
        snprintf(why, whyn, "cannot read %s: %s", t->db_password_file,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (st.st_uid != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        snprintf(why, whyn, "%s must belong to root and be readable by root "
                 "only (chmod 600)", t->db_password_file);
        return NULL;
    }
    close(fd);
    if ((r = jg_read_file(t->db_password_file, PW_FILE_MAX, &data, &len)) !=
        0) {
        snprintf(why, whyn, "cannot read %s: %s", t->db_password_file,
                 jg_read_strerror(r));
        return NULL;
    }
    for (line = strtok_r(data, "\n", &save); line != NULL && pw == NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        size_t n;

        if (line[0] == '#' || colon == NULL)
            continue;
        if ((size_t)(colon - line) == strlen(login) &&
            memcmp(line, login, strlen(login)) == 0) {
            n = strlen(colon + 1);
            if (n > 0 && colon[n] == '\r')
                colon[n] = '\0';
            pw = jg_xstrdup(colon + 1);
        }
    }
    explicit_bzero(data, len);
    free(data);
    if (pw == NULL)
        snprintf(why, whyn, "%s has no password for database login %s",
                 t->db_password_file, login);
    return pw;
}

/* May the user sign in to the target as database login? The policy's
 * reason when not. */
static bool
login_allowed(struct jg_gw_mon *m, const struct jg_target *t,
              const char *login, char *why, size_t whyn)
{
    struct jg_request req = {.user = m->user, .from = m->conn->peer,
                             .target = t->name, .action = JG_ACT_FORWARD,
                             .login = login, .at = jg_now(), .db_login = true};
    struct jg_decision d;

    if (jg_policy_decide(m->d->pol, &req, &d) == 0 && d.effect == JG_ALLOW)
        return true;
    snprintf(why, whyn, "%s", d.reason[0] ? d.reason : "denied by the policy");
    return false;
}

/* The secret for the database (the password or an IAM token); NULL with
 * why. */
static char *
secret(struct jg_gw_mon *m, const struct jg_target *t, const char *login,
       char *why, size_t whyn)
{
    struct jg_sync_creds c = {0};
    struct jg_sync *s;
    char *tok = NULL;

    if (t->db_password_file != NULL)
        return password(t, login, why, whyn);
    if (jg_sync_new(m->d->cfg, &s) != 0) {
        snprintf(why, whyn, "cannot set up the AWS client");
        return NULL;
    }
    if (jg_sync_creds_resolve(s, &c) != 0) {
        snprintf(why, whyn, "no AWS credentials for the IAM token: %s",
                 jg_sync_error(s));
    } else if (jg_sync_rds_token(&c, t->host, t->port, login,
                                 t->db_iam_region, jg_now(),
                                 &tok) != 0) {
        snprintf(why, whyn, "cannot make the IAM token");
    }
    jg_sync_creds_clear(&c);
    jg_sync_free(s);
    return tok;
}

int
jg_gw_mon_db_auth(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t = NULL;
    struct jg_gw_grant *g;
    struct jg_gw_msg *a;
    char login[JG_MYSQL_NAME_MAX], schema[JG_MYSQL_NAME_MAX], plugin[64];
    char why[600] = "", *pw = NULL, esc[300];
    uint8_t resp[JG_MYSQL_AUTH_MAX], tls;
    const uint8_t *scramble = NULL;
    size_t slen = 0, rlen = 0;
    uint32_t id;
    bool ok = false;
    int r;

    if (jg_gw_msg_get_u32(q, &id) != 0 ||
        jg_gw_msg_get_str(q, login, sizeof(login)) != 0 ||
        jg_gw_msg_get_str(q, schema, sizeof(schema)) != 0 ||
        jg_gw_msg_get_str(q, plugin, sizeof(plugin)) != 0 ||
        jg_gw_msg_get_bytes(q, &scramble, &slen) != 0 ||
        jg_gw_msg_get_u8(q, &tls) != 0 ||
        (g = db_grant(m, id, &t)) == NULL || tls > 1 ||
        slen != JG_MYSQL_SCRAMBLE_LEN || g->db_auths >= DB_AUTH_TRIES)
        return JG_ERR_INVALID;
    /* Only the first try names the login; a switch keeps it. */
    if (g->db_auths++ > 0 && strcmp(login, g->login) != 0)
        return JG_ERR_INVALID;
    jg_gw_escape(login, esc, sizeof(esc));
    if (!g->active) {
        snprintf(why, sizeof(why), "the permission has ended");
    } else if (!login_allowed(m, t, login, why, sizeof(why))) {
        jg_info("policy deny: %s from %s: database login %s on %s: %s",
                m->user, m->conn->peer, esc, t->name, why);
        jg_gw_mon_event(m, "policy.deny", g->fwd_session[0] ? g->fwd_session
                                                             : NULL,
                        m->user, t->name, esc, "forward", NULL, why, NULL);
    } else if ((pw = secret(m, t, login, why, sizeof(why))) == NULL) {
        jg_error("target %s: database login %s: %s", t->name, esc, why);
    } else if (strcmp(plugin, "mysql_native_password") == 0 &&
               t->db_password_file != NULL) {
        jg_mysql_native_auth(pw, scramble, resp);
        rlen = 20;
        ok = true;
    } else if (strcmp(plugin, "caching_sha2_password") == 0 &&
               t->db_password_file != NULL) {
        jg_mysql_sha2_auth(pw, scramble, resp);
        rlen = 32;
        ok = true;
    } else if (!tls || !t->db_tls) {
        /* The worker's word that its upstream leg is TLS is not enough:
         * the policy must also say so, or the secret stays here. */
        snprintf(why, sizeof(why), "the database asks for %s, which would send "
                 "the %s in the clear without TLS", plugin,
                 t->db_iam_region != NULL ? "IAM token" : "password");
    } else if (strlen(pw) + 1 > sizeof(resp)) {
        snprintf(why, sizeof(why), "the secret is too long");
    } else {
        /* mysql_clear_password (RDS IAM), or the full exchange of
         * caching_sha2_password, over TLS: the secret with its NUL. */
        jg_strlcpy(plugin, "mysql_clear_password", sizeof(plugin));
        rlen = strlen(pw) + 1;
        memcpy(resp, pw, rlen);
        ok = true;
    }
    if (pw != NULL) {
        explicit_bzero(pw, strlen(pw));
        free(pw);
    }
    if (ok && g->db_auths == 1) {
        json_t *x = json_pack("{s:s,s:s?,s:b,s:s}", "db_login", login,
                              "schema", schema[0] ? schema : NULL, "tls",
                              (int)tls, "sign_in",
                              t->db_iam_region != NULL ? "iam" : "password");
        jg_strlcpy(g->login, login, sizeof(g->login));
        jg_gw_mon_event(m, "db.session.start",
                        g->fwd_session[0] ? g->fwd_session : NULL, m->user,
                        t->name, login, "forward", g->rule[0] ? g->rule : NULL,
                        NULL, x);
        json_decref(x);
    }
    a = answer(JG_GW_REQ_DB_AUTH);
    jg_gw_msg_put_u8(a, ok);
    jg_gw_msg_put_str(a, ok ? "" : why);
    jg_gw_msg_put_str(a, plugin);
    jg_gw_msg_put_bytes(a, resp, rlen);
    explicit_bzero(resp, sizeof(resp));
    r = jg_gw_msg_send(m->sock, a, -1);
    explicit_bzero(a, sizeof(*a));     /* it held the answer to the scramble */
    free(a);
    return r;
}

int
jg_gw_mon_db_event(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t = NULL;
    struct jg_audit_mysql_event ev = {0};
    struct jg_audit_mysql_param ps[JG_AUDIT_MYSQL_PARAMS];
    char types[JG_AUDIT_MYSQL_PARAMS][32];
    struct jg_gw_grant *g;
    char *text = NULL, *vals[JG_AUDIT_MYSQL_PARAMS] = {0};
    char sqlstate[8], msg[600];
    uint32_t id, np, code;
    uint8_t kind, trunc, ptrunc, status;
    json_t *x;
    int r = JG_ERR_INVALID;

    if (jg_gw_msg_get_u32(q, &id) != 0 || jg_gw_msg_get_u8(q, &kind) != 0 ||
        jg_gw_msg_get_strdup(q, &text) != 0 ||
        jg_gw_msg_get_u8(q, &trunc) != 0 ||
        jg_gw_msg_get_u32(q, &ev.stmt_id) != 0 ||
        jg_gw_msg_get_u32(q, &np) != 0 || np > JG_AUDIT_MYSQL_PARAMS ||
        (g = db_grant(m, id, &t)) == NULL || g->db_auths == 0)
        goto out;
    for (uint32_t i = 0; i < np; i++) {
        uint8_t null, vt;

        if (jg_gw_msg_get_str(q, types[i], sizeof(types[i])) != 0 ||
            jg_gw_msg_get_u8(q, &null) != 0 ||
            jg_gw_msg_get_strdup(q, &vals[i]) != 0 ||
            jg_gw_msg_get_u8(q, &vt) != 0 || null > 1 || vt > 1)
            goto out;
        ps[i].type = types[i];
        ps[i].value = null ? NULL : vals[i];
        ps[i].truncated = vt != 0;
    }
    if (jg_gw_msg_get_u8(q, &ptrunc) != 0 ||
        jg_gw_msg_get_u8(q, &status) != 0 ||
        jg_gw_msg_get_u64(q, &ev.rows) != 0 ||
        jg_gw_msg_get_u64(q, &ev.affected) != 0 ||
        jg_gw_msg_get_u64(q, &ev.insert_id) != 0 ||
        jg_gw_msg_get_u32(q, &ev.warnings) != 0 ||
        jg_gw_msg_get_u32(q, &code) != 0 ||
        jg_gw_msg_get_str(q, sqlstate, sizeof(sqlstate)) != 0 ||
        jg_gw_msg_get_str(q, msg, sizeof(msg)) != 0 ||
        jg_gw_msg_get_u64(q, &ev.duration_us) != 0)
        goto out;
    /* The worker is not trusted: only what the parser can say passes. */
    ev.kind = (enum jg_audit_mysql_kind)kind;
    ev.status = (enum jg_audit_mysql_status)status;
    if (jg_audit_mysql_command(ev.kind) == NULL || trunc > 1 || ptrunc > 1 ||
        status < JG_AUDIT_MYSQL_ST_OK || status > JG_AUDIT_MYSQL_ST_UNKNOWN ||
        code > 0xffff || strlen(text) > JG_GW_DB_TEXT_MAX ||
        (np > 0 && ev.kind != JG_AUDIT_MYSQL_EXECUTE))
        goto out;
    for (uint32_t i = 0; i < np; i++)
        if (vals[i] != NULL && strlen(vals[i]) > JG_GW_DB_VALUE_MAX)
            goto out;
    ev.text = text;
    ev.truncated = trunc != 0;
    ev.params = ps;
    ev.n_params = np;
    ev.params_truncated = ptrunc != 0;
    ev.err_code = (uint16_t)code;
    ev.sqlstate = sqlstate;
    ev.err_msg = msg;
    x = jg_audit_mysql_event_json(&ev);
    jg_gw_mon_event(m, "db.query", g->fwd_session[0] ? g->fwd_session : NULL,
                    m->user, g->target, g->login, "forward",
                    g->rule[0] ? g->rule : NULL, NULL, x);
    json_decref(x);
    g->db_statements++;
    r = 0;
out:
    free(text);
    for (size_t i = 0; i < JG_AUDIT_MYSQL_PARAMS; i++)
        free(vals[i]);
    return r;
}

int
jg_gw_mon_db_end(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct jg_target *t = NULL;
    struct jg_gw_grant *g;
    uint64_t statements, errors, rows;
    char why[512];
    json_t *x;

    uint32_t id;

    if (jg_gw_msg_get_u32(q, &id) != 0 ||
        jg_gw_msg_get_u64(q, &statements) != 0 ||
        jg_gw_msg_get_u64(q, &errors) != 0 ||
        jg_gw_msg_get_u64(q, &rows) != 0 ||
        jg_gw_msg_get_str(q, why, sizeof(why)) != 0 ||
        (g = db_grant(m, id, &t)) == NULL || g->db_ended)
        return JG_ERR_INVALID;
    g->db_ended = true;
    x = json_pack("{s:I,s:I,s:I}", "statements",
                  (json_int_t)(statements > INT64_MAX ? INT64_MAX : statements),
                  "errors", (json_int_t)(errors > INT64_MAX ? INT64_MAX : errors),
                  "rows", (json_int_t)(rows > INT64_MAX ? INT64_MAX : rows));
    jg_gw_mon_event(m, "db.session.end",
                    g->fwd_session[0] ? g->fwd_session : NULL, m->user,
                    g->target, g->login[0] ? g->login : NULL, "forward",
                    g->rule[0] ? g->rule : NULL, why[0] ? why : NULL, x);
    json_decref(x);
    return 0;
}
