/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/jg_gw_wk_chan.c - the worker's channels: session channels (pty,
 * env allowlist, shell, exec, sftp) carried to the target named in the
 * login, and direct-tcpip channels to targets the monitor connects. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>

#include "audit/audit.h"
#include "gateway/gateway.h"

/* Text into a buffer headed for the client (stdout or stderr). */
static void
buf_put(struct jg_gw_buf *b, const char *text)
{
    jg_gw_buf_put(b, text, strlen(text));
}

void
jg_gw_chan_say(struct jg_gw_chan *ch, const char *text)
{
    if (ch->c != NULL && ssh_channel_is_open(ch->c))
        ssh_channel_write_stderr(ch->c, text, (uint32_t)strlen(text));
}

/* Ends a session channel locally with a message and an exit status. */
static void
local_end(struct jg_gw_chan *ch, bool to_stdout, const char *text, int status)
{
    buf_put(to_stdout ? &ch->u2c : &ch->u2c_err, text);
    ch->local_only = true;
    ch->exit_status = status;
    ch->exit_status_set = true;
}

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
    if (ch->rec && !ch->w->monitor_gone) {
        struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));
        jg_gw_msg_init(q, JG_GW_REQ_REC_RESIZE);
        jg_gw_msg_put_u32(q, ch->id);
        jg_gw_msg_put_u32(q, ch->cols > 10000 ? 10000 : ch->cols);
        jg_gw_msg_put_u32(q, ch->rows > 10000 ? 10000 : ch->rows);
        jg_gw_wk_send(ch->w, q);
        free(q);
    }
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
on_exit_status(ssh_session s, ssh_channel c, int status, void *arg)
{
    struct jg_gw_chan *ch = arg;

    ch->exit_status = status;
    ch->exit_status_set = true;
    ch->w->pending = true;
}

/* libssh reads packets inside ssh_channel_read_nonblocking() and the
 * flush of a write, so data, EOF or close for one stream or channel can
 * arrive while the relay reads another, after that one was looked at. The
 * worker then goes round once more instead of sleeping in poll() with the
 * bytes already in libssh's buffer (a keystroke held for a second). The
 * data stays where it is (0 bytes taken). */
static int
on_data(ssh_session s, ssh_channel c, void *data, uint32_t len, int is_stderr,
        void *arg)
{
    struct jg_gw_chan *ch = arg;

    ch->w->pending = true;
    return 0;
}

static void
on_eof_or_close(ssh_session s, ssh_channel c, void *arg)
{
    struct jg_gw_chan *ch = arg;

    ch->w->pending = true;
}

static void
on_close(ssh_session s, ssh_channel c, void *arg)
{
    struct jg_gw_chan *ch = arg;

    if (c == ch->c)
        ch->c_closed = true;
    ch->w->pending = true;
}

static void
watch_channel(struct ssh_channel_callbacks_struct *cb)
{
    cb->channel_data_function = on_data;
    cb->channel_eof_function = on_eof_or_close;
    cb->channel_close_function = on_close;
}

static void
on_exit_signal(ssh_session s, ssh_channel c, const char *sig, int core,
               const char *errmsg, const char *lang, void *arg)
{
    struct jg_gw_chan *ch = arg;

    jg_strlcpy(ch->exit_signal, sig ? sig : "KILL", sizeof(ch->exit_signal));
    ch->core = core != 0;
    ch->exit_signal_set = true;
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
        local_end(ch, false, "jumpgate: internal error\r\n", 1);
        goto out;
    }
    text = jg_xasprintf("jumpgate: no target given. Targets you may use now:\n"
                        "%s"
                        "Connect with: ssh %s:TARGET@<gateway> or "
                        "ssh %s:LOGIN@TARGET@<gateway>\n",
                        list, w->name.user, w->name.user);
    local_end(ch, true, text, 1);
    free(text);
out:
    free(list);
    free(q);
    free(a);
}

/* Opens the upstream channel and replays pty, env and the request. */
static int
open_upstream(struct jg_gw_chan *ch, const char *command, char *err,
              size_t errn)
{
    ssh_session us = ch->up->s;
    ssh_channel u;
    size_t i;
    int rc = SSH_ERROR;

    ssh_set_blocking(us, 1);
    if ((u = ssh_channel_new(us)) == NULL)
        goto out;
    ch->u = u;
    memset(&ch->ucb, 0, sizeof(ch->ucb));
    ch->ucb.userdata = ch;
    ch->ucb.channel_exit_status_function = on_exit_status;
    ch->ucb.channel_exit_signal_function = on_exit_signal;
    watch_channel(&ch->ucb);
    ssh_callbacks_init(&ch->ucb);
    ssh_set_channel_callbacks(u, &ch->ucb);
    if (ssh_channel_open_session(u) != SSH_OK)
        goto out;
    if (ch->pty && ssh_channel_request_pty_size(u, ch->term, (int)ch->cols,
                                                (int)ch->rows) != SSH_OK)
        goto out;
    for (i = 0; i < ch->n_env; i++) {
        char *eq = strchr(ch->env[i], '=');
        *eq = '\0';
        /* A target that refuses a variable is not an error (AcceptEnv). */
        ssh_channel_request_env(u, ch->env[i], eq + 1);
        *eq = '=';
    }
    if (ch->action == JG_ACT_SHELL)
        rc = ssh_channel_request_shell(u);
    else if (ch->action == JG_ACT_EXEC)
        rc = ssh_channel_request_exec(u, command);
    else
        rc = ssh_channel_request_subsystem(u, "sftp");
out:
    if (rc != SSH_OK)
        snprintf(err, errn, "target %s refused the session: %s", ch->target,
                 ssh_get_error(us));
    ssh_set_blocking(us, 0);
    return rc == SSH_OK ? 0 : JG_ERR_DENIED;
}

/* Asks the monitor to record this channel. 0 when it records it (or need
 * not); else a message for the user in err. */
static int
rec_open(struct jg_gw_chan *ch, uint32_t grant, const char *command,
         char *err, size_t errn)
{
    struct jg_gw_wk *w = ch->w;
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q)), *a = jg_xmalloc(sizeof(*a));
    char text[512];
    uint8_t ok = 0, rin = 0;
    int r = JG_ERR_DENIED;

    ch->id = w->next_chan_id++;
    jg_gw_msg_init(q, JG_GW_REQ_REC_OPEN);
    jg_gw_msg_put_u32(q, ch->id);
    jg_gw_msg_put_u32(q, grant);
    jg_gw_msg_put_str(q, command ? command : "");
    jg_gw_msg_put_str(q, ch->pty ? ch->term : "");
    jg_gw_msg_put_u32(q, ch->pty ? ch->cols : 0);
    jg_gw_msg_put_u32(q, ch->pty ? ch->rows : 0);
    if (q->bad) {
        snprintf(err, errn, "the command is too long to record");
    } else if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_REC_OPEN) != 0 ||
               jg_gw_msg_get_u8(a, &ok) != 0 ||
               jg_gw_msg_get_str(a, text, sizeof(text)) != 0 ||
               jg_gw_msg_get_u8(a, &rin) != 0) {
        w->monitor_gone = true;
        snprintf(err, errn, "internal error");
    } else if (!ok) {
        snprintf(err, errn, "the session cannot be recorded: %s", text);
    } else {
        ch->rec = text[0] != '\0';
        ch->record_input = rin != 0;
        r = 0;
    }
    free(q);
    free(a);
    return r;
}

void
jg_gw_chan_local_end(struct jg_gw_chan *ch, bool to_stdout, const char *text,
                     int status)
{
    local_end(ch, to_stdout, text, status);
}

void
jg_gw_chan_connect(struct jg_gw_chan *ch, const char *command,
                   const char *target, const char *login_asked)
{
    struct jg_gw_wk *w = ch->w;
    unsigned action = ch->action;
    struct jg_gw_msg *q = NULL, *a = NULL;
    char login[128], reason[512], err[600], *text;
    uint32_t id = 0;
    uint64_t until = 0;
    uint8_t allow = 0;

    jg_strlcpy(ch->target, target, sizeof(ch->target));
    q = jg_xmalloc(sizeof(*q));
    a = jg_xmalloc(sizeof(*a));
    jg_gw_msg_init(q, JG_GW_REQ_DECIDE);
    jg_gw_msg_put_str(q, ch->target);
    jg_gw_msg_put_u32(q, action);
    jg_gw_msg_put_str(q, login_asked);
    if (jg_gw_wk_call(w, q, a, JG_GW_ANS | JG_GW_REQ_DECIDE) != 0 ||
        jg_gw_msg_get_u32(a, &id) != 0 || jg_gw_msg_get_u8(a, &allow) != 0 ||
        jg_gw_msg_get_str(a, login, sizeof(login)) != 0 ||
        jg_gw_msg_get_str(a, reason, sizeof(reason)) != 0 ||
        jg_gw_msg_get_u64(a, &until) != 0) {
        w->monitor_gone = true;
        local_end(ch, false, "jumpgate: internal error\r\n", 1);
        goto out;
    }
    if (allow)
        jg_gw_wk_chan_granted(ch, id);
    if (!allow) {
        text = jg_xasprintf("jumpgate: %s on %s denied: %s\r\n",
                            jg_action_name(action), ch->target, reason);
        local_end(ch, false, text, 1);
        free(text);
        goto out;
    }
    /* The recording (or the SFTP log) first: with audit.on_failure
     * refuse, nothing reaches the target unless it is recorded. */
    if ((action == JG_ACT_SHELL || action == JG_ACT_EXEC
             ? rec_open(ch, id, command, err, sizeof(err))
             : jg_gw_wk_sftp_open(ch, id, err, sizeof(err))) != 0) {
        jg_gw_wk_grant_state(w, id, JG_GW_CHAN_FAILED);
        text = jg_xasprintf("jumpgate: %s; the session is refused\r\n", err);
        local_end(ch, false, text, 1);
        free(text);
        jg_warn("%s from %s: %s", w->name.user, w->peer, err);
        goto out;
    }
    /* A target that cannot be reached ends the channel; its recording
     * (header and seals only) ends with it. */
    if (jg_gw_upstream_get(w, id, ch->target, login, &ch->up, err,
                           sizeof(err)) != 0 ||
        open_upstream(ch, command, err, sizeof(err)) != 0) {
        jg_gw_wk_grant_state(w, id, JG_GW_CHAN_FAILED);
        text = jg_xasprintf("jumpgate: %s\r\n", err);
        local_end(ch, false, text, 1);
        free(text);
        jg_warn("%s from %s: %s", w->name.user, w->peer, err);
        goto out;
    }
    ch->rep_state = JG_GW_CHAN_RUNNING;
    jg_gw_wk_grant_state(w, id, JG_GW_CHAN_RUNNING);
    jg_info("session start: %s from %s: %s on %s as %s%s%s", w->name.user,
            w->peer, jg_action_name(action), ch->target, login,
            ch->pty ? " (pty)" : "", "");
out:
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
        local_end(ch, false, text, 1);
        free(text);
        return 0;
    }
    if (w->name.bad_target) {
        jg_gw_escape(w->raw_user, esc, sizeof(esc));
        text = jg_xasprintf("jumpgate: '%s' does not name a valid target "
                            "(use USER:TARGET or USER:LOGIN@TARGET)\r\n", esc);
        local_end(ch, false, text, 1);
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
    if (ch->rec && !ch->w->monitor_gone) {
        struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));
        jg_gw_msg_init(q, JG_GW_REQ_REC_RESIZE);
        jg_gw_msg_put_u32(q, ch->id);
        jg_gw_msg_put_u32(q, ch->cols > 10000 ? 10000 : ch->cols);
        jg_gw_msg_put_u32(q, ch->rows > 10000 ? 10000 : ch->rows);
        jg_gw_wk_send(ch->w, q);
        free(q);
    }
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
    watch_channel(&ch->ccb);
    ssh_callbacks_init(&ch->ccb);
    ssh_set_channel_callbacks(c, &ch->ccb);
}

/* Tells the client why a channel was refused. libssh 0.10 refuses a
 * channel open only with "administratively prohibited" and an empty
 * description, so the reason goes in a debug message (ssh -v shows it). */
static void
refused(struct jg_gw_wk *w, const char *what, const char *why)
{
    char *text = jg_xasprintf("jumpgate: %s refused: %s", what, why);

    ssh_send_debug(w->s, text, 1);
    free(text);
}

static int
open_forward(struct jg_gw_wk *w, ssh_message msg)
{
    const char *dest = ssh_message_channel_request_open_destination(msg);
    int port = ssh_message_channel_request_open_destination_port(msg);
    struct jg_gw_msg *q = NULL, *a = NULL;
    struct jg_gw_chan *ch;
    char err[512] = "", esc[300];
    uint32_t id;
    uint8_t ok = 0;
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
        jg_gw_msg_get_str(a, err, sizeof(err)) != 0) {
        w->monitor_gone = true;
        goto out;
    }
    if (!ok || a->fd < 0) {
        char *what = jg_xasprintf("forward to %s port %d", esc, port);
        refused(w, what, err[0] ? err : "no reason given");
        free(what);
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
    watch_channel(&ch->ccb);
    ssh_callbacks_init(&ch->ccb);
    ssh_set_channel_callbacks(c, &ch->ccb);
    ch->fd = a->fd;
    a->fd = -1;
    fcntl(ch->fd, F_SETFL, fcntl(ch->fd, F_GETFL) | O_NONBLOCK);
    jg_strlcpy(ch->target, dest, sizeof(ch->target));
    ch->opened_us = jg_audit_now_us();
    rc = 0;
out:
    if (a != NULL && a->fd >= 0)
        close(a->fd);
    free(q);
    free(a);
    return rc;
}

/* libssh 0.10 hands over a channel request it does not know without its
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

    if (type == SSH_REQUEST_AUTH) {
        if (sub == SSH_AUTH_METHOD_INTERACTIVE)
            return jg_gw_wk_auth_kbdint(w, msg);
        return 1; /* "none" and the rest: the list of methods */
    }
    if (type == SSH_REQUEST_CHANNEL_OPEN && w->authed) {
        const struct jg_gw_chan *ch;
        size_t open = 0;
        for (ch = w->chans; ch != NULL; ch = ch->next)
            open += !ch->dead;
        if (open >= JG_GW_MAX_CHANNELS) {
            jg_warn("%s from %s: channel refused: %d channels are open "
                    "already", w->name.user, w->peer, JG_GW_MAX_CHANNELS);
            refused(w, "channel", "too many channels are open at once");
            return 1;   /* refused: administratively prohibited */
        }
        /* When the session is ending a session channel still opens, to
         * hear why (start()); anything else is refused with the reason. */
        if (w->lapse != NULL && sub != SSH_CHANNEL_SESSION) {
            refused(w, "channel", w->lapse);
            return 1;
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
