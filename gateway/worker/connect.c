/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/connect.c - carries a started session channel to its
 * target: the monitor's decision, the recording or SFTP log first, then
 * the upstream leg and the replayed pty, env and request; or ends the
 * channel locally with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/worker/internal.h"

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
    jg_gw_chan_watch_exit(&ch->ucb);
    jg_gw_chan_watch(&ch->ucb);
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
                            jg_policy_action_name(action), ch->target, reason);
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
            w->peer, jg_policy_action_name(action), ch->target, login,
            ch->pty ? " (pty)" : "", "");
out:
    free(q);
    free(a);
}

