/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/auth.c - the worker's side of authentication: offers
 * publickey, then keyboard-interactive to users with mfa; every verdict
 * comes from the monitor; at most JG_GW_MAX_TRIES failures. */
#include <stdlib.h>
#include <string.h>

#include <libssh/callbacks.h>

#include "gateway/worker/internal.h"

static void
failed(struct jg_gw_wk *w)
{
    if (++w->failures >= JG_GW_MAX_TRIES)
        w->too_many = true;
}

/* The first user name of the connection sticks, as in OpenSSH. */
static bool
same_name(struct jg_gw_wk *w, const char *user)
{
    if (user == NULL || strlen(user) >= sizeof(w->raw_user))
        return false;
    if (w->raw_user[0] == '\0') {
        jg_strlcpy(w->raw_user, user, sizeof(w->raw_user));
        w->name_ok = jg_gw_login_parse(user, &w->name) == 0;
        return true;
    }
    return strcmp(w->raw_user, user) == 0;
}

static int
auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *key,
            char state, void *arg)
{
    struct jg_gw_wk *w = arg;
    struct jg_gw_msg *q = NULL, *a = NULL;
    char *b64 = NULL;
    uint8_t ok = 0, mfa = 0;
    int rc = SSH_AUTH_DENIED;

    if (w->authed || w->partial || w->too_many)
        return SSH_AUTH_DENIED;
    if (state == SSH_PUBLICKEY_STATE_WRONG || !same_name(w, user) ||
        ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
        failed(w);
        goto out;
    }
    q = jg_xmalloc(sizeof(*q));
    a = jg_xmalloc(sizeof(*a));
    jg_gw_msg_init(q, JG_GW_REQ_AUTH_PUBKEY);
    jg_gw_msg_put_str(q, w->name_ok ? w->name.user : "");
    jg_gw_msg_put_str(q, ssh_key_type_to_char(ssh_key_type(key)));
    jg_gw_msg_put_str(q, b64);
    jg_gw_msg_put_u8(q, state == SSH_PUBLICKEY_STATE_VALID);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_AUTH_PUBKEY) != 0 ||
        jg_gw_msg_get_u8(a, &ok) != 0 || jg_gw_msg_get_u8(a, &mfa) != 0) {
        w->monitor_gone = true;
        goto out;
    }
    if (!ok) {
        failed(w);
        goto out;
    }
    if (state == SSH_PUBLICKEY_STATE_NONE) {
        rc = SSH_AUTH_SUCCESS; /* "this key would do" */
    } else if (mfa) {
        w->partial = true;
        ssh_set_auth_methods(s, SSH_AUTH_METHOD_INTERACTIVE);
        rc = SSH_AUTH_PARTIAL;
    } else {
        w->authed = true;
        rc = SSH_AUTH_SUCCESS;
    }
out:
    ssh_string_free_char(b64);
    free(q);
    free(a);
    return rc;
}

/* Sends the answers (or an abort) and reads the monitor's next word. */
static int
respond(struct jg_gw_wk *w, bool abort_, struct jg_gw_msg *q,
        struct jg_gw_msg *a)
{
    int i, n = abort_ ? 0 : ssh_userauth_kbdint_getnanswers(w->s);

    jg_gw_msg_init(q, JG_GW_REQ_KBDINT_RESPOND);
    jg_gw_msg_put_u8(q, abort_);
    jg_gw_msg_put_u32(q, n < 0 ? 0 : (uint32_t)n);
    for (i = 0; i < n; i++) {
        const char *ans = ssh_userauth_kbdint_getanswer(w->s, (unsigned)i);
        jg_gw_msg_put_str(q, ans ? ans : "");
    }
    i = jg_gw_wk_call(w, q, a, 0);
    explicit_bzero(q->data, q->len);
    return i;
}

/* Ends a conversation the client walked away from. */
static int
abort_kbdint(struct jg_gw_wk *w, struct jg_gw_msg *q, struct jg_gw_msg *a)
{
    int r;

    do {
        if ((r = respond(w, true, q, a)) != 0)
            return r;
    } while (a->type == JG_GW_ANS_KBDINT_PROMPTS);
    w->kbdint_active = false;
    return 0;
}

static int
show_prompts(struct jg_gw_wk *w, ssh_message msg, struct jg_gw_msg *a)
{
    char *instr = NULL, *prompts[32] = {NULL}, echo[32];
    uint32_t n = 0, i;
    uint8_t e;
    int r = JG_ERR_INVALID;

    if (jg_gw_msg_get_strdup(a, &instr) != 0 ||
        jg_gw_msg_get_u32(a, &n) != 0 || n > 32)
        goto out;
    for (i = 0; i < n; i++) {
        if (jg_gw_msg_get_strdup(a, &prompts[i]) != 0 ||
            jg_gw_msg_get_u8(a, &e) != 0)
            goto out;
        echo[i] = (char)(e != 0);
    }
    ssh_message_auth_interactive_request(msg, "", instr, n,
                                         (const char **)prompts, echo);
    w->kbdint_active = true;
    r = 0;
out:
    free(instr);
    for (i = 0; i < 32; i++)
        free(prompts[i]);
    return r;
}

/* libssh's keyboard-interactive callback: the monitor runs PAM, the worker
 * carries its prompts and answers. SSH_AUTH_INFO after sending prompts;
 * on SSH_AUTH_SUCCESS libssh sends success, on SSH_AUTH_DENIED failure. */
static int
auth_kbdint(ssh_message msg, ssh_session s, void *arg)
{
    struct jg_gw_wk *w = arg;
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    bool response = ssh_message_auth_kbdint_is_response(msg) != 0;
    uint8_t ok = 0;
    int r = 0, rc = SSH_AUTH_DENIED;

    (void)s;
    /* Info responses carry no user name; requests must keep the first. */
    if (!w->partial || w->authed || w->too_many ||
        (!response && !same_name(w, ssh_message_auth_user(msg)))) {
        failed(w);
        goto out;
    }
    if (response && w->kbdint_active) {
        r = respond(w, false, q, a);
    } else {
        if (w->kbdint_active && (r = abort_kbdint(w, q, a)) != 0)
            goto out;
        if (w->too_many)
            goto out;
        jg_gw_msg_init(q, JG_GW_REQ_KBDINT_START);
        jg_gw_msg_put_str(q, w->name.user);
        r = jg_gw_wk_call(w, q, a, 0);
    }
    if (r != 0)
        goto out;
    if (a->type == JG_GW_ANS_KBDINT_PROMPTS) {
        if ((r = show_prompts(w, msg, a)) == 0)
            rc = SSH_AUTH_INFO;
        goto out;
    }
    w->kbdint_active = false;
    if (jg_gw_msg_get_u8(a, &ok) != 0) {
        r = JG_ERR_INVALID;
        goto out;
    }
    if (ok) {
        w->authed = true;
        rc = SSH_AUTH_SUCCESS;
    } else {
        failed(w);
    }
out:
    if (r != 0)
        w->monitor_gone = true;
    explicit_bzero(q, sizeof(*q));
    free(q);
    free(a);
    return rc;
}

void
jg_gw_wk_auth_setup(struct jg_gw_wk *w)
{
    memset(&w->scb, 0, sizeof(w->scb));
    w->scb.userdata = w;
    w->scb.auth_pubkey_function = auth_pubkey;
    w->scb.auth_kbdint_function = auth_kbdint;
    ssh_callbacks_init(&w->scb);
    ssh_set_server_callbacks(w->s, &w->scb);
    ssh_set_auth_methods(w->s, SSH_AUTH_METHOD_PUBLICKEY);
}
