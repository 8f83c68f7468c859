/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/auth.c - the monitor's answers to authentication
 * requests: public keys against the policy (source address first), and
 * keyboard-interactive through PAM for users with mfa. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/monitor/internal.h"

/* Does key match one of the user's OpenSSH key lines? */
static bool
key_listed(const struct jg_user *u, const ssh_key key)
{
    size_t i;

    for (i = 0; u != NULL && i < u->n_keys; i++) {
        char type[64], b64[16384];
        ssh_key k = NULL;
        bool hit;

        if (sscanf(u->keys[i], "%63s %16383s", type, b64) != 2)
            continue;
        if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type),
                                         &k) != SSH_OK)
            continue;
        hit = ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0;
        ssh_key_free(k);
        if (hit)
            return true;
    }
    return false;
}

static bool
from_ok(const struct jg_user *u, const char *peer)
{
    struct jg_addr a;
    size_t i;

    if (u == NULL || jg_addr_parse(peer, &a) != 0)
        return false;
    for (i = 0; i < u->n_from; i++)
        if (jg_cidr_contains(&u->from[i], &a))
            return true;
    return false;
}

/* The connection is authenticated: the master is told. */
static void
jg_gw_mon_authenticated(struct jg_gw_mon *m)
{
    m->state = JG_GW_MS_AUTHED;
    jg_gw_mon_report_authed(m);
}


int
jg_gw_mon_auth_pubkey(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    struct jg_gw_msg *a = NULL;
    const struct jg_user *u = NULL;
    char user[64], type[64], fp[128], *b64 = NULL;
    const char *why = NULL;
    ssh_key key = NULL;
    uint8_t is_signed;
    bool ok = false;
    int r = JG_ERR_INVALID;

    if (jg_gw_msg_get_str(q, user, sizeof(user)) != 0 ||
        jg_gw_msg_get_str(q, type, sizeof(type)) != 0 ||
        jg_gw_msg_get_strdup(q, &b64) != 0 ||
        jg_gw_msg_get_u8(q, &is_signed) != 0)
        goto out;
    if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type),
                                     &key) != SSH_OK) {
        why = "unreadable key";
    } else {
        /* The same work for every name, known or not. */
        if (jg_gw_valid_user(user))
            u = jg_policy_user(m->d->pol, user);
        if (u == NULL)
            why = "unknown user";
        else if (u->expires != JG_TIME_NEVER && u->expires <= jg_now())
            why = "user expired";
        else if (!from_ok(u, m->conn->peer))
            why = "source address not in the user's from";
        else if (!key_listed(u, key))
            why = "key not listed for the user";
        else
            ok = true;
    }
    if (!ok) {
        char esc[128];
        m->failures++;
        jg_gw_mon_report_auth(m, "publickey", "failure");
        jg_gw_escape(user, esc, sizeof(esc));
        jg_info("auth failure: publickey for '%s' from %s: %s (%d/%d)", esc,
                m->conn->peer, why, m->failures, JG_GW_MAX_TRIES);
        {
            json_t *x = json_pack("{s:s}", "method", "publickey");
            jg_gw_mon_event(m, "auth.failure", NULL, user, NULL, NULL, NULL,
                            NULL, why, x);
            json_decref(x);
        }
    } else if (is_signed) {
        jg_gw_fingerprint(key, fp, sizeof(fp));
        jg_strlcpy(m->user, user, sizeof(m->user));
        jg_gw_mon_report_auth(m, "publickey", u->mfa ? "partial" : "success");
        if (u->mfa) {
            m->state = JG_GW_MS_PARTIAL;
            jg_info("auth partial: publickey %s for %s from %s; "
                    "keyboard-interactive next", fp, user, m->conn->peer);
        } else {
            json_t *x = json_pack("{s:s,s:s}", "method", "publickey", "key",
                                  fp);
            jg_info("auth success: publickey %s for %s from %s", fp, user,
                    m->conn->peer);
            jg_gw_mon_event(m, "auth.success", NULL, user, NULL, NULL, NULL,
                            NULL, NULL, x);
            json_decref(x);
            jg_gw_mon_authenticated(m);
        }
    }
    a = jg_xmalloc(sizeof(*a));
    jg_gw_msg_init(a, JG_GW_ANS | JG_GW_REQ_AUTH_PUBKEY);
    jg_gw_msg_put_u8(a, ok);
    jg_gw_msg_put_u8(a, ok && u->mfa);
    r = jg_gw_msg_send(m->sock, a, -1) == 0 ? 0 : JG_ERR_IO;
    if (r == 0 && m->failures > JG_GW_MAX_TRIES)
        r = JG_ERR_DENIED; /* the worker should have given up */
out:
    free(a);
    free(b64);
    ssh_key_free(key);
    return r;
}

int
jg_gw_mon_kbdint_start(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    char user[64];
    bool ok = false;
    int r;

    if (jg_gw_msg_get_str(q, user, sizeof(user)) != 0)
        return JG_ERR_INVALID;
    if (strcmp(user, m->user) != 0) {
        jg_error("monitor: keyboard-interactive for another user");
        return JG_ERR_INVALID;
    }
    if ((r = jg_gw_mon_pam(m, &ok)) != 0)
        return r;
    jg_gw_mon_report_auth(m, "keyboard-interactive",
                          ok ? "success" : "failure");
    if (ok) {
        jg_info("auth success: publickey+keyboard-interactive (PAM %s) for %s "
                "from %s", m->d->cfg->pam_service, m->user, m->conn->peer);
        json_t *x = json_pack("{s:s}", "method",
                              "publickey+keyboard-interactive");
        jg_gw_mon_event(m, "auth.success", NULL, m->user, NULL, NULL, NULL,
                        NULL, NULL, x);
        json_decref(x);
        jg_gw_mon_authenticated(m);
    } else {
        m->failures++;
        jg_info("auth failure: keyboard-interactive for %s from %s (%d/%d)",
                m->user, m->conn->peer, m->failures, JG_GW_MAX_TRIES);
        json_t *x = json_pack("{s:s}", "method", "keyboard-interactive");
        jg_gw_mon_event(m, "auth.failure", NULL, m->user, NULL, NULL, NULL,
                        NULL, "keyboard-interactive failed", x);
        json_decref(x);
        if (m->failures > JG_GW_MAX_TRIES)
            return JG_ERR_DENIED;
    }
    return 0;
}
