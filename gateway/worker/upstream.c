/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/upstream.c - the upstream leg: a libssh client session to
 * the target over the socket the monitor connected, host key checked by
 * the monitor against upstream.known_hosts (or a host certificate),
 * logged in through the monitor's one-shot SSH agent with the gateway's
 * upstream identity or with a certificate made for this one login. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/worker/internal.h"

/* AES-GCM first: faster than chacha20 where the CPU has AES-NI. */
static const char up_ciphers[] =
    "aes256-gcm@openssh.com,aes128-gcm@openssh.com,"
    "chacha20-poly1305@openssh.com,aes256-ctr,aes128-ctr";
/* Post-quantum hybrids first, as on the client leg; then what older
 * targets have. */
static const char up_kex[] =
    "mlkem768x25519-sha256,"
    "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,"
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "diffie-hellman-group16-sha512,diffie-hellman-group14-sha256";
/* Host certificates first, as OpenSSH's client orders them: the monitor
 * checks a certificate against the @cert-authority lines of
 * upstream.known_hosts and otherwise its key as a plain key
 * (gateway/monitor/hostcert.c). libssh offers certificate names only with
 * deps/libssh-patches/client-host-certificates.patch. */
static const char up_hostkeys[] =
    "ssh-ed25519-cert-v01@openssh.com,"
    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
    "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
    "rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,"
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256";

/* Logs in to the target through the monitor's agent: the worker never
 * holds the upstream key, and the monitor signs only this login. */
static int
agent_login(struct jg_gw_wk *w, ssh_session s, uint32_t grant,
            const char *target, const char *login, bool *own, char *err,
            size_t errn)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    uint64_t serial = 0;
    uint8_t ok = 0;
    int r = JG_ERR_IO, rc;

    jg_gw_msg_init(q, JG_GW_REQ_AGENT);
    jg_gw_msg_put_u32(q, grant);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_AGENT) != 0 ||
        jg_gw_msg_get_u8(a, &ok) != 0 ||
        jg_gw_msg_get_str(a, err, errn) != 0 ||
        jg_gw_msg_get_u64(a, &serial) != 0) {
        w->monitor_gone = true;
        snprintf(err, errn, "internal error");
        goto out;
    }
    if (!ok || a->fd < 0)
        goto out;
    /* The session owns the agent socket from here on. */
    if (ssh_set_agent_socket(s, a->fd) != SSH_OK) {
        close(a->fd);
        a->fd = -1;
        snprintf(err, errn, "internal error");
        goto out;
    }
    a->fd = -1;
    *own = serial != 0;
    rc = ssh_userauth_agent(s, NULL);
    if (rc != SSH_AUTH_SUCCESS) {
        /* One try, with what the monitor gave: no other identity. */
        jg_gw_msg_init(q, JG_GW_REQ_LOGIN_FAILED);
        jg_gw_msg_put_u32(q, grant);
        /* libssh's error may carry the target's text, up to 1 KiB. */
        snprintf(err, errn, "%.200s", rc == SSH_AUTH_DENIED
                                          ? "the target did not accept it"
                                          : ssh_get_error(s));
        jg_gw_msg_put_str(q, err);
        jg_gw_wk_send(w, q);
        if (serial != 0)
            snprintf(err, errn, "target %s refused the gateway's certificate "
                     "login as %s (serial %llu); the target must trust the "
                     "gateway's user CA (TrustedUserCAKeys) and accept "
                     "principal %s", target, login,
                     (unsigned long long)serial, login);
        else
            snprintf(err, errn, "target %s refused the gateway's login as %s",
                     target, login);
        r = JG_ERR_DENIED;
        goto out;
    }
    r = 0;
out:
    if (a->fd >= 0)
        close(a->fd);
    free(q);
    free(a);
    return r;
}

static int
connect_fd(struct jg_gw_wk *w, uint32_t grant, int *fd, char *err,
           size_t errn)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    uint8_t ok = 0;
    int r = JG_ERR_IO;

    *fd = -1;
    jg_gw_msg_init(q, JG_GW_REQ_CONNECT);
    jg_gw_msg_put_u32(q, grant);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_CONNECT) != 0 ||
        jg_gw_msg_get_u8(a, &ok) != 0 ||
        jg_gw_msg_get_str(a, err, errn) != 0) {
        w->monitor_gone = true;
        snprintf(err, errn, "internal error");
    } else if (ok && a->fd >= 0) {
        *fd = a->fd;
        a->fd = -1;
        r = 0;
    }
    if (a->fd >= 0)
        close(a->fd);
    free(q);
    free(a);
    return r;
}

static int
check_hostkey(struct jg_gw_wk *w, ssh_session s, uint32_t grant, char *err,
              size_t errn)
{
    struct jg_gw_msg *q = NULL, *a = NULL;
    ssh_key key = NULL;
    char *b64 = NULL;
    uint8_t ok = 0;
    int r = JG_ERR_DENIED;

    if (ssh_get_server_publickey(s, &key) != SSH_OK ||
        ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
        snprintf(err, errn, "no host key from the target");
        goto out;
    }
    q = jg_xmalloc(sizeof(*q));
    a = jg_xmalloc(sizeof(*a));
    jg_gw_msg_init(q, JG_GW_REQ_HOSTKEY);
    jg_gw_msg_put_u32(q, grant);
    jg_gw_msg_put_str(q, ssh_key_type_to_char(ssh_key_type(key)));
    jg_gw_msg_put_str(q, b64);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_HOSTKEY) != 0 ||
        jg_gw_msg_get_u8(a, &ok) != 0 ||
        jg_gw_msg_get_str(a, err, errn) != 0) {
        w->monitor_gone = true;
        snprintf(err, errn, "internal error");
        goto out;
    }
    if (ok)
        r = 0;
out:
    ssh_string_free_char(b64);
    ssh_key_free(key);
    free(q);
    free(a);
    return r;
}

int
jg_gw_upstream_get(struct jg_gw_wk *w, uint32_t grant, const char *target,
                   const char *login, struct jg_gw_upstream **out, char *err,
                   size_t errn)
{
    struct jg_gw_upstream *u;
    ssh_session s = NULL;
    long timeout = JG_GW_CONNECT_TIMEOUT;
    int fd = -1, r = JG_ERR_IO;
    bool no = false, own = false;
    char host[128], *slash;

    *out = NULL;
    for (u = w->ups; u != NULL; u = u->next) {
        if (!u->dead && !u->own && strcmp(u->target, target) == 0 &&
            strcmp(u->login, login) == 0 && ssh_is_connected(u->s)) {
            *out = u;
            return 0;
        }
    }
    if ((r = connect_fd(w, grant, &fd, err, errn)) != 0)
        goto out;
    r = JG_ERR_IO;
    if ((s = ssh_new()) == NULL)
        goto out;
    /* Only a name for libssh (the socket is already connected), which
     * refuses a '/' in it: "ecs-prod/i-0abc" becomes "ecs-prod.i-0abc". */
    jg_strlcpy(host, target, sizeof(host));
    while ((slash = strchr(host, '/')) != NULL)
        *slash = '.';
    if (ssh_options_set(s, SSH_OPTIONS_FD, &fd) < 0 ||
        ssh_options_set(s, SSH_OPTIONS_HOST, host) < 0 ||
        ssh_options_set(s, SSH_OPTIONS_USER, login) < 0 ||
        ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
        ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
        ssh_options_set(s, SSH_OPTIONS_SSH_DIR, "/") < 0 ||
        ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/nonexistent") < 0 ||
        ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/nonexistent") < 0 ||
        ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, up_ciphers) < 0 ||
        ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, up_ciphers) < 0 ||
        ssh_options_set(s, SSH_OPTIONS_KEY_EXCHANGE, up_kex) < 0 ||
        ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, up_hostkeys) < 0) {
        snprintf(err, errn, "cannot set up the session to %s: %s", target,
                 ssh_get_error(s));
        goto out;
    }
    fd = -1; /* the session owns it now */
    if (ssh_connect(s) != SSH_OK) {
        snprintf(err, errn, "cannot set up SSH with target %s: %s", target,
                 ssh_get_error(s));
        goto out;
    }
    if ((r = check_hostkey(w, s, grant, err, errn)) != 0)
        goto out;
    if ((r = agent_login(w, s, grant, target, login, &own, err, errn)) != 0)
        goto out;
    u = jg_xcalloc(1, sizeof(*u));
    u->own = own;
    u->s = s;
    s = NULL;
    jg_strlcpy(u->target, target, sizeof(u->target));
    jg_strlcpy(u->login, login, sizeof(u->login));
    u->ev = ssh_event_new();
    if (u->ev == NULL || ssh_event_add_session(u->ev, u->s) != SSH_OK) {
        jg_gw_upstream_free(u);
        snprintf(err, errn, "internal error");
        r = JG_ERR_NOMEM;
        goto out;
    }
    ssh_set_blocking(u->s, 0);
    u->next = w->ups;
    w->ups = u;
    *out = u;
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    if (s != NULL) {
        int sfd = ssh_get_fd(s);
        ssh_disconnect(s);
        ssh_free(s);
        if (sfd >= 0)
            close(sfd);
    }
    return r;
}

void
jg_gw_upstream_free(struct jg_gw_upstream *u)
{
    if (u == NULL)
        return;
    if (u->ev != NULL) {
        ssh_event_remove_session(u->ev, u->s);
        ssh_event_free(u->ev);
    }
    if (u->s != NULL) {
        /* libssh leaves a socket given by SSH_OPTIONS_FD open. */
        int fd = ssh_get_fd(u->s);
        ssh_disconnect(u->s);
        ssh_free(u->s);
        if (fd >= 0)
            close(fd);
    }
    free(u);
}
