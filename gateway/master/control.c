/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/control.c - the master's control socket for `jumpgate
 * session list`, `jumpgate session kill ID`, `jumpgate policy status` and
 * the reload that `jumpgate policy grant/revoke` ask for: a unix stream
 * socket, mode 0600, that answers root only (SO_PEERCRED). One request
 * line ("list", "kill ID", "status", "reload", or a JSON object {"req":
 * "kill"|"reload", "id": ID, "by": WHO, "reason": TEXT}, or {"req":
 * "auth-failure"|"banned", "from": ADDRESS, "by": WHO} from the auditors'
 * console, whose failed sign-ins share the gateway's bans), one JSON
 * answer, then the master closes. Every client socket is non-blocking and has a
 * deadline: the master never waits on one. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/master/master.h"

#define CTL_DEADLINE 5   /* seconds a client may take */

/* Is somebody answering on path? */
static bool
in_use(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool used;

    if (fd < 0)
        return false;
    used = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    close(fd);
    return used;
}

int
jg_gw_control_open(struct jg_gw_master *m)
{
    const char *path = m->d->cfg->control_socket;
    struct sockaddr_un sa;
    struct stat st;
    mode_t old;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (path == NULL || strlen(path) >= sizeof(sa.sun_path)) {
        jg_error("control_socket: no usable path");
        return JG_ERR_INVALID;
    }
    jg_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            jg_error("control_socket %s exists and is not a socket", path);
            return JG_ERR_EXISTS;
        }
        if (in_use(&sa)) {
            /* A second jumpgated on this host (staging beside production)
             * needs a socket of its own. */
            jg_error("control_socket %s: another jumpgated answers there; "
                     "to run a second one on this host, set control_socket "
                     "in %s to a path of its own (and point jumpgate at that "
                     "configuration with -c)", path, m->d->cfg->path);
            return JG_ERR_EXISTS;
        }
        unlink(path);   /* left by a daemon that is gone */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        jg_error("control_socket: %s", strerror(errno));
        return JG_ERR_IO;
    }
    old = umask(077);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        chmod(path, 0600) != 0 || listen(fd, 8) != 0) {
        jg_error("control_socket %s: %s", path, strerror(errno));
        umask(old);
        close(fd);
        return JG_ERR_IO;
    }
    umask(old);
    m->ctl_fd = fd;
    m->ctl_path = jg_xstrdup(path);
    jg_info("control socket %s", path);
    return 0;
}

static void
client_close(struct jg_gw_ctl_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

void
jg_gw_control_close(struct jg_gw_master *m)
{
    size_t i;

    for (i = 0; i < JG_GW_CTL_CLIENTS; i++)
        if (m->ctl[i].fd >= 0 || m->ctl[i].out != NULL)
            client_close(&m->ctl[i]);
    if (m->ctl_fd >= 0)
        close(m->ctl_fd);
    m->ctl_fd = -1;
    free(m->ctl_path);
    m->ctl_path = NULL;
}

/* The answer: one JSON object and a newline. */
static void
answer(struct jg_gw_ctl_client *c, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);

    json_decref(j);
    free(c->out);
    c->out = jg_xasprintf("%s\n", text != NULL ? text : "{}");
    free(text);
    c->out_len = strlen(c->out);
    c->out_off = 0;
}

static json_t *
time_json(int64_t t)
{
    char buf[JG_TIME_STRLEN];

    if (t == JG_TIME_NEVER)
        return json_null();
    jg_time_format(t, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *
list(const struct jg_gw_master *m)
{
    json_t *all = json_array();
    size_t i, j;

    for (i = 0; i < m->n_kids; i++) {
        const struct jg_gw_child *k = &m->kids[i];
        json_t *s, *chans;

        if (!k->listed || !k->authed)
            continue;
        chans = json_array();
        for (j = 0; j < k->n_chans; j++) {
            const struct jg_gw_mchan *c = &k->chans[j];
            json_array_append_new(
                chans, json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "target",
                                 c->target, "login", c->login, "action",
                                 jg_policy_action_name(c->action), "started",
                                 time_json(c->started), "lapses",
                                 time_json(c->until), "session",
                                 c->session[0] ? json_string(c->session)
                                               : json_null()));
        }
        s = json_pack("{s:s,s:s,s:s,s:o,s:I,s:o}", "id", k->conn_id, "user",
                      k->user, "from", k->peer, "connected",
                      time_json(k->connected), "pid", (json_int_t)k->pid,
                      "channels", chans);
        json_array_append_new(all, s);
    }
    return json_pack("{s:o}", "sessions", all);
}

/* "session ended by an operator: REASON", cut to what a monitor takes
 * (127 bytes) without splitting a UTF-8 character. */
static void
kill_text(const char *reason, char *buf, size_t n)
{
    size_t l;

    if (reason == NULL || reason[0] == '\0') {
        jg_strlcpy(buf, JG_GW_KILL_TEXT, n);
        return;
    }
    if (snprintf(buf, n, "%s: %s", JG_GW_KILL_TEXT, reason) < 0)
        buf[0] = '\0';
    l = strlen(buf);
    if (l + 1 == n) {
        /* cut: drop a last character that lost some of its bytes */
        size_t i = l, want;
        unsigned char lead;

        while (i > 0 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80)
            i--;
        if (i == 0)
            return;
        lead = (unsigned char)buf[i - 1];
        want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (l - (i - 1) < want)
            buf[i - 1] = '\0';
    }
}

static json_t *
kill_one(struct jg_gw_master *m, const char *id, const char *by,
         const char *reason)
{
    char text[128];
    size_t i;
    int r;

    for (i = 0; i < m->n_kids; i++) {
        struct jg_gw_child *k = &m->kids[i];
        json_t *x;

        if (!k->listed || !k->authed || k->sock < 0 ||
            strcmp(k->conn_id, id) != 0)
            continue;
        jg_info("session %s of %s from %s: ended by an operator (%s)%s%s", id,
                k->user, k->peer, by != NULL ? by : "?",
                reason != NULL ? ": " : "", reason != NULL ? reason : "");
        /* Who ended it, and why, before it ends. */
        x = json_pack("{s:s}", "by", by != NULL ? by : "?");
        if (m->log != NULL &&
            (r = jg_gw_event_append(m->log, "session.kill", NULL, k->conn_id,
                                    k->user, k->peer, NULL, NULL, NULL, NULL,
                                    reason != NULL ? reason : JG_GW_KILL_TEXT,
                                    x)) != 0) {
            jg_error("audit: cannot append session.kill to the event log: %s",
                     jg_strerror(r));
            jg_metrics_add(m->metrics, "jumpgate_audit_write_errors_total", 1,
                           NULL);
            jg_gw_audit_failed(m);
        }
        json_decref(x);
        kill_text(reason, text, sizeof(text));
        jg_gw_master_child_kill(m, k, text);
        return json_pack("{s:b,s:s}", "ok", 1, "killed", id);
    }
    return json_pack("{s:s}", "error", "no such session");
}

static json_t *
status(const struct jg_gw_master *m)
{
    return json_pack("{s:s,s:s,s:o,s:s,s:I}", "digest",
                     jg_policy_digest(m->d->pol), "policy", m->d->cfg->policy,
                     "loaded", time_json(m->policy_loaded), "watch",
                     m->watch_poll ? "poll" : "inotify", "files",
                     (json_int_t)jg_policy_n_files(m->d->pol));
}

static json_t *
reload_now(struct jg_gw_master *m, const char *by)
{
    char err[512];

    m->reload_at_ms = 0;
    if (jg_gw_master_reload(m, "control", by, err, sizeof(err)) != 0)
        return json_pack("{s:s}", "error", err);
    return json_pack("{s:b,s:s}", "ok", 1, "digest",
                     jg_policy_digest(m->d->pol));
}

/* The sources' bans shared with the auditors' console: its failed
 * sign-ins count as the gateway's authentication failures do, and it asks
 * whether a source is banned before it tries PAM. */
static json_t *
source(struct jg_gw_master *m, const struct jg_gw_ctl_req *r)
{
    if (r->kind == JG_GW_CTL_AUTH_FAILURE) {
        jg_info("authentication failure of %s reported by %s", r->from,
                r->by[0] ? r->by : "the control socket");
        jg_gw_auth_failed(m, r->from);
    }
    return json_pack("{s:b}", "banned",
                     jg_gw_bans_banned(m->bans, r->from, jg_now()));
}

/* Carries out a request jg_gw_ctl_parse() read. */
static json_t *
carry_out(struct jg_gw_master *m, const struct jg_gw_ctl_req *r)
{
    const char *by = r->by[0] ? r->by : NULL;

    switch (r->kind) {
    case JG_GW_CTL_LIST:
        return list(m);
    case JG_GW_CTL_STATUS:
        return status(m);
    case JG_GW_CTL_RELOAD:
        return reload_now(m, by);
    case JG_GW_CTL_KILL:
        return kill_one(m, r->id, by, r->reason[0] ? r->reason : NULL);
    case JG_GW_CTL_AUTH_FAILURE:
    case JG_GW_CTL_BANNED:
        return source(m, r);
    }
    return json_pack("{s:s}", "error", "unknown request");
}

static void
request(struct jg_gw_master *m, struct jg_gw_ctl_client *c)
{
    char *nl = memchr(c->in, '\n', c->in_len);

    if (nl == NULL) {
        if (c->in_len == sizeof(c->in))
            answer(c, json_pack("{s:s}", "error", "request too long"));
        return;
    }
    *nl = '\0';
    if (c->refused) {
        answer(c, json_pack("{s:s}", "error", "permission denied: root only"));
    } else {
        struct jg_gw_ctl_req r;
        char err[128];

        answer(c, jg_gw_ctl_parse(c->in, &r, err, sizeof(err)) == 0
                      ? carry_out(m, &r)
                      : json_pack("{s:s}", "error", err));
    }
}

static void
accept_client(struct jg_gw_master *m)
{
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    struct jg_gw_ctl_client *c = NULL;
    size_t i;
    int fd;

    fd = accept4(m->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (i = 0; i < JG_GW_CTL_CLIENTS && c == NULL; i++)
        if (m->ctl[i].fd < 0)
            c = &m->ctl[i];
    if (c == NULL) {
        close(fd);      /* busy; the client sees the socket close */
        return;
    }
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->deadline = jg_now() + CTL_DEADLINE;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
        cred.uid != 0) {
        jg_warn("control socket: refused a client of uid %d (root only)",
                cl == sizeof(cred) ? (int)cred.uid : -1);
        c->refused = true;      /* answered once its request is read */
    }
}

size_t
jg_gw_control_pollfds(struct jg_gw_master *m, struct pollfd *pfd)
{
    size_t i, n = 0;

    pfd[n++] = (struct pollfd){.fd = m->ctl_fd, .events = POLLIN};
    for (i = 0; i < JG_GW_CTL_CLIENTS; i++)
        pfd[n++] = (struct pollfd){
            .fd = m->ctl[i].fd,
            .events = m->ctl[i].out != NULL ? POLLOUT : POLLIN};
    return n;
}

void
jg_gw_control_run(struct jg_gw_master *m, const struct pollfd *pfd, size_t n)
{
    int64_t now = jg_now();
    size_t i;

    for (i = 0; i < JG_GW_CTL_CLIENTS && i + 1 < n; i++) {
        struct jg_gw_ctl_client *c = &m->ctl[i];
        short re = pfd[i + 1].revents;
        ssize_t got;

        if (c->fd < 0)
            continue;
        if (now > c->deadline) {
            client_close(c);
            continue;
        }
        if (c->out == NULL && (re & (POLLIN | POLLHUP | POLLERR))) {
            got = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
            if (got <= 0 && !(got < 0 && errno == EAGAIN)) {
                client_close(c);
                continue;
            }
            if (got > 0) {
                c->in_len += (size_t)got;
                request(m, c);
            }
        }
        if (c->out != NULL && (re & (POLLOUT | POLLIN)) != 0) {
            got = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
            if (got < 0 && errno != EAGAIN) {
                client_close(c);
                continue;
            }
            if (got > 0)
                c->out_off += (size_t)got;
            if (c->out_off == c->out_len)
                client_close(c);
        } else if (c->out != NULL && (re & (POLLERR | POLLHUP))) {
            client_close(c);
        }
    }
    if (n > 0 && (pfd[0].revents & POLLIN))
        accept_client(m);
}
