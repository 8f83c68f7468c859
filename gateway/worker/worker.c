/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/worker.c - the worker: takes the client socket, drops to
 * the unprivileged user in the empty chroot before reading a byte, runs
 * the SSH key exchange and authentication, then relays channels until the
 * client leaves or the monitor ends the session. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>

#include "audit/audit.h"
#include <openssl/ssl.h>

#include "gateway/worker/internal.h"

#define MAX_POLL 512
#define DOPOLL_BURST 16      /* session polls per round of the loop */

/* The request that closes the channel's recording or logs its forward. */
static void
chan_end_event(struct jg_gw_wk *w, struct jg_gw_chan *ch)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));
    int64_t ms;

    jg_gw_msg_init(q, JG_GW_REQ_CHAN_END);
    /* a forward is named by its grant (the monitor keeps its session) */
    jg_gw_msg_put_u32(q, ch->kind == JG_GW_CH_FORWARD ? ch->grant : ch->id);
    jg_gw_msg_put_u8(q, ch->kind == JG_GW_CH_FORWARD);
    jg_gw_msg_put_str(q, ch->target);
    jg_gw_msg_put_u64(q, ch->bytes_in);
    jg_gw_msg_put_u64(q, ch->bytes_out);
    ms = ch->opened_us > 0 ? (jg_audit_now_us() - ch->opened_us) / 1000 : 0;
    jg_gw_msg_put_u64(q, ms > 0 ? (uint64_t)ms : 0);
    if (w->end_reason != NULL)
        jg_gw_msg_put_str(q, w->end_reason);
    jg_gw_wk_send(w, q);
    free(q);
}

/* Tells the monitor a recorded or forward channel ended (it closes the
 * recording and logs session.end / forward.close), and only then that the
 * channel is no longer running: the master keeps a channel listed until
 * that second message, so a monitor killed in between still leaves the
 * channel with an end event (the master's). */
static void
chan_end(struct jg_gw_wk *w, struct jg_gw_chan *ch)
{
    jg_gw_wk_sftp_end(w, ch);
    jg_gw_wk_mysql_end(ch, NULL);   /* db.session.end before forward.close */
    if (!w->monitor_gone &&
        (ch->rec || (ch->kind == JG_GW_CH_FORWARD && ch->fd >= 0)))
        chan_end_event(w, ch);
    jg_gw_wk_report_chan_end(w, ch);
}

static void __attribute__((noreturn))
worker_exit(struct jg_gw_wk *w, const char *why)
{
    struct jg_gw_chan *ch, *nch;
    struct jg_gw_upstream *u, *nu;

    /* Channels first: ssh_disconnect() frees the session's channels, and
     * ours must not outlive them. */
    for (ch = w->chans; ch != NULL; ch = nch) {
        nch = ch->next;
        chan_end(w, ch);
        jg_gw_chan_free(ch);
    }
    w->chans = NULL;
    if (w->s != NULL && ssh_is_connected(w->s)) {
        int i;
        if (why != NULL)
            ssh_session_set_disconnect_message(w->s, why);
        /* Flush, then poll once more: libssh writes the disconnect message
         * at once only when it has just seen the socket writable. */
        for (i = 0; w->ev != NULL && i < 20 &&
                    (ssh_get_poll_flags(w->s) & SSH_WRITE_PENDING);
             i++)
            ssh_event_dopoll(w->ev, 100);
        if (w->ev != NULL)
            ssh_event_dopoll(w->ev, 50);
        ssh_disconnect(w->s);
    }
    for (u = w->ups; u != NULL; u = nu) {
        nu = u->next;
        jg_gw_upstream_free(u);
    }
    if (w->ev != NULL) {
        ssh_event_remove_session(w->ev, w->s);
        ssh_event_free(w->ev);
    }
    if (w->s != NULL)
        ssh_free(w->s);
    free(w->lapse);
    _exit(0);
}

/* A session channel is open whose request (shell, exec, subsystem) has
 * not come yet, or none is open yet (the client's may be on its way). */
static bool
awaiting_request(const struct jg_gw_wk *w)
{
    const struct jg_gw_chan *ch;

    if (w->authed && w->chans == NULL)
        return true;
    for (ch = w->chans; ch != NULL; ch = ch->next)
        if (ch->kind == JG_GW_CH_SESSION && !ch->started && ch->c != NULL &&
            ssh_channel_is_open(ch->c))
            return true;
    return false;
}

/* A session channel the client has not closed yet. */
static bool
client_closing(const struct jg_gw_wk *w)
{
    const struct jg_gw_chan *ch;

    for (ch = w->chans; ch != NULL; ch = ch->next)
        if (ch->kind == JG_GW_CH_SESSION && ch->c != NULL && !ch->c_closed)
            return true;
    return false;
}

/* The monitor said the permission ended: tell the user, close, leave. */
static void __attribute__((noreturn))
end_session(struct jg_gw_wk *w)
{
    struct jg_gw_chan *ch;
    struct jg_gw_upstream *u;
    char *text = jg_xasprintf("\r\njumpgate: %s\r\n", w->lapse);
    int64_t until = jg_gw_now_ms() + JG_GW_END_WAIT_MS;
    bool moved = true;
    int i;

    /* What the target already sent still reaches the user (bounded), and a
     * session channel opened just now gets its request answered with the
     * reason (the client shows that, and an exit status, where it would
     * show only a refused or vanished channel). */
    for (i = 0; (i < 50 && moved) ||
                (awaiting_request(w) && jg_gw_now_ms() < until);
         i++) {
        moved = false;
        for (u = w->ups; u != NULL; u = u->next)
            ssh_event_dopoll(u->ev, 0);
        for (ch = w->chans; ch != NULL; ch = ch->next)
            moved |= ch->my != NULL ? jg_gw_wk_mysql_pump(ch)
                                    : jg_gw_relay_pump(ch);
        ssh_event_dopoll(w->ev, moved ? 0 : 10);
    }
    for (ch = w->chans; ch != NULL; ch = ch->next) {
        if (ch->kind == JG_GW_CH_SESSION && ch->c != NULL &&
            ssh_channel_is_open(ch->c) && !ch->c_eof_sent) {
            jg_gw_chan_say(ch, text);
            ssh_channel_request_send_exit_status(ch->c, 1);
            ssh_channel_send_eof(ch->c);
        }
        if (ch->c != NULL && ssh_channel_is_open(ch->c))
            ssh_channel_close(ch->c);
    }
    /* The disconnect waits for the client's close of its session channels
     * (bounded): a client that reads the disconnect first ends at once,
     * with status 255, before the exit status and the message it got. */
    until = jg_gw_now_ms() + JG_GW_END_WAIT_MS;
    while (client_closing(w) && jg_gw_now_ms() < until &&
           ssh_is_connected(w->s))
        if (ssh_event_dopoll(w->ev, 10) == SSH_ERROR)
            break;
    free(text);
    jg_info("session of %s from %s closed: %s", w->name.user, w->peer,
            w->lapse);
    worker_exit(w, w->lapse);
}

static void
reap(struct jg_gw_wk *w)
{
    struct jg_gw_chan **pp = &w->chans, *ch;
    struct jg_gw_upstream **up = &w->ups, *u;

    while ((ch = *pp) != NULL) {
        if (!ch->dead) {
            pp = &ch->next;
            continue;
        }
        if (ch->started && !ch->local_only)
            jg_info("channel end: %s from %s: %s %s, %llu bytes in, %llu "
                    "out%s%s", w->name.user, w->peer,
                    ch->kind == JG_GW_CH_FORWARD ? "forward to"
                                                 : jg_policy_action_name(ch->action),
                    ch->target, (unsigned long long)ch->bytes_in,
                    (unsigned long long)ch->bytes_out,
                    ch->exit_signal_set ? ", signal " : "",
                    ch->exit_signal_set ? ch->exit_signal : "");
        else if (ch->kind == JG_GW_CH_FORWARD)
            jg_info("forward close: %s from %s: %s, %llu bytes in, %llu out",
                    w->name.user, w->peer, ch->target,
                    (unsigned long long)ch->bytes_in,
                    (unsigned long long)ch->bytes_out);
        chan_end(w, ch);
        w->io_gone += ch->bytes_in + ch->bytes_out;
        *pp = ch->next;
        jg_gw_chan_free(ch);
    }
    /* Upstream sessions that died, or that no channel uses any more. */
    while ((u = *up) != NULL) {
        bool used = false;
        for (ch = w->chans; ch != NULL && !used; ch = ch->next)
            used = ch->up == u;
        if (ssh_is_connected(u->s) && used) {
            up = &u->next;
            continue;
        }
        for (ch = w->chans; ch != NULL; ch = ch->next) {
            if (ch->up == u) {
                /* The target went away under a live channel. */
                if (ch->u != NULL) {
                    ssh_remove_channel_callbacks(ch->u, &ch->ucb);
                    ssh_channel_free(ch->u);
                    ch->u = NULL;
                }
                ch->up = NULL;
                ch->local_only = true;
                if (!ch->exit_status_set && !ch->exit_signal_set) {
                    ch->exit_status = 255;
                    ch->exit_status_set = true;
                }
            }
        }
        *up = u->next;
        jg_gw_upstream_free(u);
    }
}

/* limits.idle_timeout: no byte in either direction on any channel (the
 * menu's keys and screens count too) for that long ends the connection. */
static void
check_idle(struct jg_gw_wk *w)
{
    int64_t limit = w->d->cfg->idle_timeout, now = jg_gw_mono();
    uint64_t total = w->io_gone + w->io_menu;
    struct jg_gw_chan *ch;
    char dur[32];

    for (ch = w->chans; ch != NULL; ch = ch->next)
        total += ch->bytes_in + ch->bytes_out;
    if (total != w->io_seen || !w->authed) {
        w->io_seen = total;
        w->idle_since = now;
        return;
    }
    if (limit <= 0 || now - w->idle_since < limit || w->lapse != NULL)
        return;
    jg_duration_format(limit, dur, sizeof(dur));
    w->lapse = jg_xasprintf("idle for %s, closing", dur);
    w->end_reason = "idle";
}

static void __attribute__((noreturn))
run(struct jg_gw_wk *w)
{
    struct pollfd pfd[MAX_POLL];
    bool moved = false;
    int k;

    for (;;) {
        struct jg_gw_upstream *u;
        struct jg_gw_chan *ch;
        size_t n = 0;
        int pr;

        if (w->monitor_gone)
            worker_exit(w, "internal error");
        if (w->too_many) {
            jg_info("connection from %s: too many authentication failures",
                    w->peer);
            worker_exit(w, "Too many authentication failures");
        }
        if (w->lapse != NULL)
            end_session(w);
        pfd[n++] = (struct pollfd){.fd = w->mon, .events = POLLIN};
        pfd[n++] = (struct pollfd){
            .fd = ssh_get_fd(w->s),
            .events = (short)(POLLIN | ((ssh_get_poll_flags(w->s) &
                                         SSH_WRITE_PENDING)
                                            ? POLLOUT : 0))};
        for (u = w->ups; u != NULL && n < MAX_POLL; u = u->next)
            pfd[n++] = (struct pollfd){
                .fd = ssh_get_fd(u->s),
                .events = (short)(POLLIN | ((ssh_get_poll_flags(u->s) &
                                             SSH_WRITE_PENDING)
                                                ? POLLOUT : 0))};
        for (ch = w->chans; ch != NULL && n < MAX_POLL; ch = ch->next) {
            if (ch->fd < 0)
                continue;
            pfd[n++] = (struct pollfd){
                .fd = ch->fd,
                .events = (short)((!ch->fd_eof ? POLLIN : 0) |
                                  (ch->c2u.len > 0 ? POLLOUT : 0))};
        }
        /* Whatever waits in the tap ring is the monitor's before the worker
         * sleeps. */
        if (!moved && jg_gw_tap_flush(w->tap, w->mon) != 0)
            w->monitor_gone = true;
        pr = poll(pfd, n, moved ? 0 : 1000);
        if (pr < 0 && errno != EINTR)
            worker_exit(w, NULL);
        if (pr > 0 && pfd[0].revents != 0 && jg_gw_wk_poll_monitor(w) != 0)
            worker_exit(w, "internal error");
        /* libssh reads at most 4 KiB per poll of a session: take up to
         * DOPOLL_BURST of them per round, so that a fast sender is not held
         * to one small read per pass of the loop. What is read stays within
         * the channel windows. */
        for (k = 0; k < DOPOLL_BURST && ssh_event_dopoll(w->ev, 0) == SSH_OK;
             k++)
            ;
        for (u = w->ups; u != NULL; u = u->next)
            for (k = 0;
                 k < DOPOLL_BURST && ssh_event_dopoll(u->ev, 0) == SSH_OK; k++)
                ;
        if (!ssh_is_connected(w->s))
            worker_exit(w, NULL);
        /* libssh stops reading a connection after a fatal error (a packet
         * over its 256 KiB limit, one that does not decrypt) but keeps it
         * open: end it, saying why, instead of waiting on it for ever. */
        if ((ssh_get_status(w->s) & SSH_CLOSED_ERROR) != 0 ||
            ssh_get_error_code(w->s) == SSH_FATAL) {
            char esc[300];
            jg_gw_escape(ssh_get_error(w->s), esc, sizeof(esc));
            jg_warn("connection from %s (%s): protocol error%s%s; "
                    "disconnecting", w->peer,
                    w->authed ? w->name.user : "not authenticated",
                    esc[0] ? ": " : "", esc);
            w->end_reason = "protocol error";
            worker_exit(w, "protocol error: the client sent a packet the "
                           "gateway cannot read");
        }
        moved = false;
        w->pending = false;
        for (ch = w->chans; ch != NULL; ch = ch->next)
            moved |= ch->menu != NULL ? jg_gw_wk_menu_pump(ch)
                      : ch->my != NULL ? jg_gw_wk_mysql_pump(ch)
                                       : jg_gw_relay_pump(ch);
        /* Something libssh took in during the pump goes out next round. */
        moved |= w->pending;
        reap(w);
        jg_gw_wk_report_bytes(w, false);
        check_idle(w);
    }
}

void
jg_gw_worker_run(struct jg_gw_daemon *d, int client_fd, int mon_fd,
                 struct jg_gw_tap *tap, const char *peer)
{
    struct jg_gw_wk *w = jg_xcalloc(1, sizeof(*w));
    /* The monitor enforces the login grace; this only bounds libssh's
     * blocking key exchange a little beyond it. */
    long grace = (d->cfg->login_grace > 0 ? d->cfg->login_grace : 30) + 5;

    w->d = d;
    w->mon = mon_fd;
    w->tap = tap;
    jg_strlcpy(w->peer, peer, sizeof(w->peer));
    signal(SIGPIPE, SIG_IGN);
    if ((w->s = ssh_new()) == NULL ||
        ssh_bind_accept_fd(d->bind, w->s, client_fd) != SSH_OK) {
        jg_error("worker: cannot take the connection from %s", peer);
        _exit(1);
    }
    /* Nothing from the client has been read yet. */
    /* TLS to MySQL targets (mysql.c): OpenSSL's configuration is read
     * now, before the sandbox forbids opening files. */
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, NULL);
    if (jg_gw_drop_privileges(d->uid, d->gid) != 0 || jg_gw_sandbox() != 0)
        _exit(1);
    /* The worker needs neither the policy nor the host key files. */
    jg_policy_free(d->pol);
    d->pol = NULL;
    ssh_options_set(w->s, SSH_OPTIONS_TIMEOUT, &grace);
    jg_gw_wk_auth_setup(w);
    ssh_set_message_callback(w->s, jg_gw_wk_message, w);
    if (ssh_handle_key_exchange(w->s) != SSH_OK) {
        jg_info("connection from %s: key exchange failed: %s", peer,
                ssh_get_error(w->s));
        worker_exit(w, NULL);
    }
    ssh_set_blocking(w->s, 0);
    w->idle_since = jg_gw_mono();
    if ((w->ev = ssh_event_new()) == NULL ||
        ssh_event_add_session(w->ev, w->s) != SSH_OK)
        worker_exit(w, NULL);
    run(w);
}
