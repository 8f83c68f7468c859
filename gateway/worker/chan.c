/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/chan.c - the worker's channels: session channels (pty,
 * env allowlist, shell, exec, sftp) carried to the target named in the
 * login, and direct-tcpip channels to targets the monitor connects. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/ssh2.h>

#include "audit/audit.h"
#include "gateway/worker/internal.h"

static int
on_pty(ssh_session s, ssh_channel c, const char *term, int cols, int rows,
       int pxw, int pxh, void *arg)
{
    struct jg_gw_chan *ch = arg;

    if (ch->started || cols < 0 || rows < 0 || pxw < 0 || pxh < 0)
        return -1;
    ch->pty = true;
    jg_strlcpy(ch->term, term ? term : "vt100", sizeof(ch->term));
    ch->cols = (uint32_t)cols;
    ch->rows = (uint32_t)rows;
    jg_gw_wk_rec_resize(ch);
    ch->pxw = (uint32_t)pxw;
    ch->pxh = (uint32_t)pxh;
    return 0;
}

static bool
env_allowed(const char *name)
{
    return strcmp(name, "LANG") == 0 || strcmp(name, "TERM") == 0 ||
           strncmp(name, "LC_", 3) == 0;
}

static int
on_env(ssh_session s, ssh_channel c, const char *name, const char *value,
       void *arg)
{
    struct jg_gw_chan *ch = arg;
    size_t i;

    if (ch->started || name == NULL || value == NULL || !env_allowed(name) ||
        strlen(name) > 64 || strlen(value) > 256 ||
        strpbrk(name, "=") != NULL)
        return -1;
    for (i = 0; i < ch->n_env; i++) {
        if (strncmp(ch->env[i], name, strlen(name)) == 0 &&
            ch->env[i][strlen(name)] == '=') {
            free(ch->env[i]);
            ch->env[i] = jg_xasprintf("%s=%s", name, value);
            return 0;
        }
    }
    if (ch->n_env == sizeof(ch->env) / sizeof(ch->env[0]))
        return -1;
    ch->env[ch->n_env++] = jg_xasprintf("%s=%s", name, value);
    return 0;
}

static void
list_targets(struct jg_gw_chan *ch)
{
    struct jg_gw_wk *w = ch->w;
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    char *list = NULL, *text;

    jg_gw_msg_init(q, JG_GW_REQ_TARGETS);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_TARGETS) != 0 ||
        jg_gw_msg_get_strdup(a, &list) != 0) {
        w->monitor_gone = true;
        jg_gw_chan_local_end(ch, false, "jumpgate: internal error\r\n", 1);
        goto out;
    }
    text = jg_xasprintf("jumpgate: no target given. Targets you may use now:\n"
                        "%s"
                        "Connect with: ssh %s:TARGET@<gateway> or "
                        "ssh %s:LOGIN@TARGET@<gateway>\n",
                        list, w->name.user, w->name.user);
    jg_gw_chan_local_end(ch, true, text, 1);
    free(text);
out:
    free(list);
    free(q);
    free(a);
}

static int
start(struct jg_gw_chan *ch, unsigned action, const char *command)
{
    struct jg_gw_wk *w = ch->w;
    char esc[300], *text;

    if (ch->started)
        return -1;
    ch->started = true;
    ch->action = action;
    if (w->lapse != NULL) {
        /* The monitor said why; the user hears it. */
        text = jg_xasprintf("jumpgate: %s\r\n", w->lapse);
        jg_gw_chan_local_end(ch, false, text, 1);
        free(text);
        return 0;
    }
    if (w->name.bad_target) {
        jg_gw_escape(w->raw_user, esc, sizeof(esc));
        text = jg_xasprintf("jumpgate: '%s' does not name a valid target "
                            "(use USER:TARGET or USER:LOGIN@TARGET)\r\n", esc);
        jg_gw_chan_local_end(ch, false, text, 1);
        free(text);
        return 0;
    }
    if (w->name.target[0] == '\0') {
        /* An interactive shell gets the menu; anything else the list. */
        if (action == JG_ACT_SHELL && ch->pty)
            jg_gw_wk_menu_open(ch);
        else
            list_targets(ch);
        return 0;
    }
    jg_gw_chan_connect(ch, command, w->name.target, w->name.login);
    return 0;
}

static int
on_shell(ssh_session s, ssh_channel c, void *arg)
{
    return start(arg, JG_ACT_SHELL, NULL);
}

static int
on_exec(ssh_session s, ssh_channel c, const char *command, void *arg)
{
    return start(arg, JG_ACT_EXEC, command ? command : "");
}

static int
on_subsystem(ssh_session s, ssh_channel c, const char *name, void *arg)
{
    if (name == NULL || strcmp(name, "sftp") != 0)
        return -1;
    return start(arg, JG_ACT_SFTP, NULL);
}

static int
on_window(ssh_session s, ssh_channel c, int cols, int rows, int pxw, int pxh,
          void *arg)
{
    struct jg_gw_chan *ch = arg;

    if (cols < 0 || rows < 0)
        return -1;
    ch->cols = (uint32_t)cols;
    ch->rows = (uint32_t)rows;
    jg_gw_wk_rec_resize(ch);
    if (ch->u != NULL && ssh_channel_is_open(ch->u))
        ssh_channel_change_pty_size(ch->u, cols, rows);
    return 0;
}

static void
on_signal(ssh_session s, ssh_channel c, const char *sig, void *arg)
{
    struct jg_gw_chan *ch = arg;

    if (ch->u != NULL && sig != NULL && ssh_channel_is_open(ch->u))
        ssh_channel_request_send_signal(ch->u, sig);
}

static struct jg_gw_chan *
chan_new(struct jg_gw_wk *w, enum jg_gw_chan_kind kind)
{
    struct jg_gw_chan *ch = jg_xcalloc(1, sizeof(*ch));

    ch->w = w;
    ch->kind = kind;
    ch->fd = -1;
    ch->next = w->chans;
    w->chans = ch;
    return ch;
}

static void
open_session(struct jg_gw_wk *w, ssh_message msg)
{
    struct jg_gw_chan *ch;
    ssh_channel c = ssh_message_channel_request_open_reply_accept(msg);

    if (c == NULL)
        return;
    ch = chan_new(w, JG_GW_CH_SESSION);
    ch->c = c;
    ch->ccb.userdata = ch;
    ch->ccb.channel_pty_request_function = on_pty;
    ch->ccb.channel_env_request_function = on_env;
    ch->ccb.channel_shell_request_function = on_shell;
    ch->ccb.channel_exec_request_function = on_exec;
    ch->ccb.channel_subsystem_request_function = on_subsystem;
    ch->ccb.channel_pty_window_change_function = on_window;
    ch->ccb.channel_signal_function = on_signal;
    jg_gw_chan_watch(&ch->ccb);
    ssh_callbacks_init(&ch->ccb);
    ssh_set_channel_callbacks(c, &ch->ccb);
}

/* Refuses a channel open and tells the client why, in the refusal's
 * description (libssh's ssh_message_reply_default leaves it empty; the
 * function comes from deps/libssh-patches/). OpenSSH's client prints it:
 * "open failed: administratively prohibited: jumpgate: ...". */
static void
refused(ssh_message msg, const char *what, const char *why)
{
    char *text = jg_xasprintf("jumpgate: %s refused: %s", what, why);

    /* A send that fails breaks the session, which the worker's loop sees. */
    (void)ssh_message_channel_request_open_reply_failure(
        msg, SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED, text);
    free(text);
}

static int
open_forward(struct jg_gw_wk *w, ssh_message msg)
{
    const char *dest = ssh_message_channel_request_open_destination(msg);
    int port = ssh_message_channel_request_open_destination_port(msg);
    struct jg_gw_msg *q = NULL, *a = NULL;
    struct jg_gw_chan *ch;
    char err[512] = "", esc[300], host[256];
    uint32_t id;
    uint8_t ok = 0, db = 0, tls = 0;
    ssh_channel c;
    int rc = 1;

    jg_gw_escape(dest != NULL ? dest : "", esc, sizeof(esc));
    /* Every destination goes to the monitor, which refuses what is not a
     * target (and logs the refusal); one too long to be a name goes as
     * its escaped start, a port out of range as 0. */
    if (dest == NULL || strlen(dest) > 255) {
        esc[255] = '\0';
        dest = esc;
    }
    if (port <= 0 || port > 65535)
        port = 0;
    q = jg_xmalloc(sizeof(*q));
    a = jg_xmalloc(sizeof(*a));
    jg_gw_msg_init(q, JG_GW_REQ_FORWARD);
    jg_gw_msg_put_str(q, dest);
    jg_gw_msg_put_u32(q, (uint32_t)port);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_FORWARD) != 0 ||
        jg_gw_msg_get_u32(a, &id) != 0 || jg_gw_msg_get_u8(a, &ok) != 0 ||
        jg_gw_msg_get_str(a, err, sizeof(err)) != 0 ||
        jg_gw_msg_get_u8(a, &db) != 0 || jg_gw_msg_get_u8(a, &tls) != 0 ||
        jg_gw_msg_get_str(a, host, sizeof(host)) != 0) {
        w->monitor_gone = true;
        goto out;
    }
    if (!ok && db && a->fd < 0) {
        /* Allowed, but the database cannot be reached: a MySQL client
         * reads why as an error packet. */
        if ((c = ssh_message_channel_request_open_reply_accept(msg)) != NULL) {
            ch = chan_new(w, JG_GW_CH_FORWARD);
            ch->c = c;
            memset(&ch->ccb, 0, sizeof(ch->ccb));
            ch->ccb.userdata = ch;
            jg_gw_chan_watch(&ch->ccb);
            ssh_callbacks_init(&ch->ccb);
            ssh_set_channel_callbacks(c, &ch->ccb);
            jg_strlcpy(ch->target, dest, sizeof(ch->target));
            jg_gw_wk_mysql_unreachable(ch, err);
        }
        rc = 0;
        goto out;
    }
    if (!ok || a->fd < 0) {
        char *what = jg_xasprintf("forward to %s port %d", esc, port);
        refused(msg, what, err[0] ? err : "no reason given");
        free(what);
        rc = 0;
        goto out;
    }
    if ((c = ssh_message_channel_request_open_reply_accept(msg)) == NULL) {
        jg_gw_wk_grant_state(w, id, JG_GW_CHAN_ENDED);
        goto out;
    }
    ch = chan_new(w, JG_GW_CH_FORWARD);
    jg_gw_wk_chan_granted(ch, id);
    ch->rep_state = JG_GW_CHAN_RUNNING;   /* the monitor connected it */
    ch->c = c;
    memset(&ch->ccb, 0, sizeof(ch->ccb));
    ch->ccb.userdata = ch;
    jg_gw_chan_watch(&ch->ccb);
    ssh_callbacks_init(&ch->ccb);
    ssh_set_channel_callbacks(c, &ch->ccb);
    ch->fd = a->fd;
    a->fd = -1;
    fcntl(ch->fd, F_SETFL, fcntl(ch->fd, F_GETFL) | O_NONBLOCK);
    jg_strlcpy(ch->target, dest, sizeof(ch->target));
    ch->opened_us = jg_audit_now_us();
    /* A MySQL target with auth: the worker speaks MySQL (mysql.c). */
    if (db)
        jg_gw_wk_mysql_open(ch, id, tls != 0, host);
    rc = 0;
out:
    if (a != NULL && a->fd >= 0)
        close(a->fd);
    free(q);
    free(a);
    return rc;
}

/* libssh (0.12 too) hands over a channel request it does not know without its
 * name, want-reply flag or payload (SSH_CHANNEL_REQUEST_UNKNOWN). On a
 * session channel the OpenSSH client sends only "break" (RFC 4335, its ~B
 * escape) that way, and "eow@openssh.com" after its own output failed; so
 * on a running pty session it is passed on as a break of OpenSSH's length.
 * The client gets the default reply (failure, when it asked for one). */
static void
unnamed_request(struct jg_gw_wk *w, ssh_message msg)
{
    ssh_channel c = ssh_message_channel_request_channel(msg);
    struct jg_gw_chan *ch;

    for (ch = w->chans; ch != NULL; ch = ch->next) {
        if (ch->c != c || ch->kind != JG_GW_CH_SESSION)
            continue;
        if (ch->pty && ch->menu == NULL && ch->u != NULL &&
            ssh_channel_is_open(ch->u) &&
            ssh_channel_request_send_break(ch->u, JG_GW_BREAK_MS) == SSH_OK)
            jg_info("break: %s from %s: passed on to %s", w->name.user,
                    w->peer, ch->target);
        return;
    }
}

int
jg_gw_wk_message(ssh_session s, ssh_message msg, void *arg)
{
    struct jg_gw_wk *w = arg;
    int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);

    if (type == SSH_REQUEST_AUTH)
        return 1; /* "none" and the rest: the list of methods (public key
                   * and keyboard-interactive have callbacks: auth.c) */
    if (type == SSH_REQUEST_CHANNEL_OPEN && w->authed) {
        const struct jg_gw_chan *ch;
        size_t open = 0;
        for (ch = w->chans; ch != NULL; ch = ch->next)
            open += !ch->dead;
        if (open >= JG_GW_MAX_CHANNELS) {
            struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));

            jg_warn("%s from %s: channel refused: %d channels are open "
                    "already", w->name.user, w->peer, JG_GW_MAX_CHANNELS);
            refused(msg, "channel", "too many channels are open at once");
            /* The event is the monitor's; a failed send ends the loop. */
            jg_gw_msg_init(q, JG_GW_REQ_CHAN_REFUSED);
            jg_gw_msg_put_u8(q, sub == SSH_CHANNEL_SESSION
                                    ? JG_GW_REFUSED_SESSION_CAP
                                    : JG_GW_REFUSED_FORWARD_CAP);
            jg_gw_wk_send(w, q);
            free(q);
            return 0;
        }
        /* When the session is ending a session channel still opens, to
         * hear why (start()); anything else is refused with the reason. */
        if (w->lapse != NULL && sub != SSH_CHANNEL_SESSION) {
            refused(msg, "channel", w->lapse);
            return 0;
        }
        if (sub == SSH_CHANNEL_SESSION) {
            open_session(w, msg);
            return 0;
        }
        if (sub == SSH_CHANNEL_DIRECT_TCPIP)
            return open_forward(w, msg);
    }
    if (type == SSH_REQUEST_CHANNEL && sub == SSH_CHANNEL_REQUEST_UNKNOWN &&
        w->authed)
        unnamed_request(w, msg);
    return 1;
}

void
jg_gw_chan_free(struct jg_gw_chan *ch)
{
    size_t i;

    if (ch == NULL)
        return;
    if (ch->u != NULL) {
        ssh_remove_channel_callbacks(ch->u, &ch->ucb);
        ssh_channel_free(ch->u);
    }
    if (ch->c != NULL) {
        ssh_remove_channel_callbacks(ch->c, &ch->ccb);
        ssh_channel_free(ch->c);
    }
    jg_gw_wk_mysql_free(ch);
    if (ch->fd >= 0)
        close(ch->fd);
    jg_gw_buf_free(&ch->c2u);
    jg_gw_buf_free(&ch->u2c);
    jg_gw_buf_free(&ch->u2c_err);
    for (i = 0; i < ch->n_env; i++)
        free(ch->env[i]);
    jg_gw_menu_free(ch->menu);
    free(ch);
}
