/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/master.c - the master: listens, refuses banned and
 * penalised sources and sources with too many unauthenticated connections
 * (limits.per_source_startups), drops unauthenticated connections early
 * (limits.max_startups), forks one
 * monitor per connection with a report channel to it, reaps them, reloads
 * on SIGHUP and on policy file changes, drains on SIGTERM, and polls the
 * metrics server, the control socket and the file watch. It never parses
 * SSH traffic and never blocks on a client. */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "gateway/master/master.h"

#define MAX_LISTEN 16

static void
peer_text(const struct sockaddr_storage *ss, char *buf, size_t n,
          uint16_t *port)
{
    struct jg_addr a;
    char tmp[64];

    *port = 0;
    jg_strlcpy(buf, "?", n);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const void *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, tmp, sizeof(tmp));
        *port = ntohs(s4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, tmp, sizeof(tmp));
        *port = ntohs(s6->sin6_port);
    } else {
        return;
    }
    /* ::ffff:a.b.c.d becomes a.b.c.d */
    if (jg_addr_parse(tmp, &a) == 0)
        jg_addr_format(&a, buf, n);
    else
        jg_strlcpy(buf, tmp, n);
}

/* Unauthenticated connections: all of them (peer NULL) or from peer. */
static size_t
unauthenticated(const struct jg_gw_master *m, const char *peer)
{
    size_t i, n = 0;

    for (i = 0; i < m->n_kids; i++)
        if (!m->kids[i].authed &&
            (peer == NULL || strcmp(m->kids[i].peer, peer) == 0))
            n++;
    return n;
}

/* In a new monitor: nothing of the master's stays open. */
static void
child_setup(struct jg_gw_master *m)
{
    sigset_t none;
    size_t i;

    for (i = 0; i < m->n_lfd; i++)
        close(m->lfd[i]);
    for (i = 0; i < m->n_kids; i++)
        if (m->kids[i].sock >= 0)
            close(m->kids[i].sock);
    close(m->sfd);
    jg_metrics_server_forget(m->msrv);
    jg_gw_control_close(m);
    jg_gw_watch_close(m);
    jg_audit_log_free(m->log);
    m->log = NULL;
    signal(SIGCHLD, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
ban_ended(const char *src, void *arg)
{
    (void)arg;
    jg_info("ban of %s ended", src);
}

static void
penalty_ended(const char *src, void *arg)
{
    (void)arg;
    jg_info("penalty of %s ended", src);
}

/* Ends bans and penalties that are over; returns the next moment one
 * ends. */
static int64_t
expire_bans(struct jg_gw_master *m)
{
    int64_t next, pnext, now = jg_now();

    jg_gw_bans_expire(m->bans, now, ban_ended, m, &next);
    jg_gw_penalties_expire(m->pen, now, penalty_ended, m, &pnext);
    return pnext < next ? pnext : next;
}

/* A connection ended without authenticating: its source's penalty grows
 * (limits.penalties). */
static void
penalise(struct jg_gw_master *m, const struct jg_gw_child *k, int st)
{
    const struct jg_config *cfg = m->d->cfg;
    bool grace = WIFEXITED(st) && WEXITSTATUS(st) == JG_GW_EXIT_GRACE;
    char tbuf[JG_TIME_STRLEN];
    int64_t until;

    if (k->authed || m->draining)
        return;
    if (!jg_gw_penalties_add(m->pen, k->peer,
                             grace ? cfg->pen_grace : cfg->pen_noauth,
                             jg_now(), &until))
        return;
    jg_time_format(until, tbuf, sizeof(tbuf));
    jg_warn("penalty of %s started: its connections %s without logging "
            "in; connections refused until %s (limits.penalties)", k->peer,
            grace ? "held on" : "ended", tbuf);
    jg_metrics_add(m->metrics, "jumpgate_source_penalties_total", 1,
                   "reason", grace ? "grace_exceeded" : "noauth", NULL);
}

static void
count_connection(struct jg_gw_master *m, const char *result)
{
    jg_metrics_add(m->metrics, "jumpgate_connections_total", 1, "result",
                   result, NULL);
}

/* Refuses a connection before any SSH byte but one line saying why. */
static void
refuse(int fd, const char *line)
{
    ssize_t w;

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    w = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    close(fd);
}

static void
accept_one(struct jg_gw_master *m, int lfd)
{
    const struct jg_config *cfg = m->d->cfg;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct jg_gw_conn conn;
    struct jg_gw_child *k;
    char tbuf[JG_TIME_STRLEN];
    uint32_t rnd = 0;
    int64_t until;
    size_t unauth;
    int fd, sv[2];
    pid_t pid;

    fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    /* Small packets (an SFTP status, an echo) leave at once instead of
     * waiting for the client's delayed ACK; the upstream socket does the
     * same (monitor/connect.c). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    memset(&conn, 0, sizeof(conn));
    peer_text(&ss, conn.peer, sizeof(conn.peer), &conn.peer_port);
    if (m->draining) {
        close(fd);
        return;
    }
    expire_bans(m);
    if (jg_gw_bans_banned(m->bans, conn.peer, jg_now())) {
        jg_info("connection from %s refused: banned after authentication "
                "failures (limits.auth_failures)", conn.peer);
        count_connection(m, "banned");
        refuse(fd, "jumpgate: too many authentication failures from your "
                   "address; try again later\r\n");
        return;
    }
    if (jg_gw_penalties_refused(m->pen, conn.peer, jg_now(), &until)) {
        jg_time_format(until, tbuf, sizeof(tbuf));
        jg_info("connection from %s refused: penalised until %s after "
                "connections that did not log in (limits.penalties)",
                conn.peer, tbuf);
        count_connection(m, "penalised");
        refuse(fd, "jumpgate: too many connections from your address did "
                   "not log in; try again later\r\n");
        return;
    }
    if (jg_gw_audit_refusing(m)) {
        jg_warn("connection from %s refused: the audit record cannot be "
                "written (audit.on_failure: refuse)", conn.peer);
        count_connection(m, "audit_refused");
        refuse(fd, "jumpgate: the audit record cannot be written; new "
                   "sessions are refused until it can\r\n");
        return;
    }
    unauth = unauthenticated(m, conn.peer);
    if (unauth >= (size_t)cfg->per_source_startups) {
        jg_warn("connection from %s refused: %zu unauthenticated "
                "connections from it (limits.per_source_startups %d)",
                conn.peer, unauth, cfg->per_source_startups);
        count_connection(m, "source_startups");
        refuse(fd, "jumpgate: too many unauthenticated connections from "
                   "your address; try again later\r\n");
        return;
    }
    unauth = unauthenticated(m, NULL);
    jg_random(&rnd, sizeof(rnd));
    if (jg_gw_startups_drop(cfg->startups_begin, cfg->startups_rate,
                            cfg->startups_full, unauth, rnd)) {
        jg_warn("connection from %s dropped: %zu unauthenticated "
                "connections (limits.max_startups %d:%d:%d)", conn.peer,
                unauth, cfg->startups_begin, cfg->startups_rate,
                cfg->startups_full);
        count_connection(m, "startups_dropped");
        close(fd);
        return;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        jg_error("socketpair: %s", strerror(errno));
        close(fd);
        return;
    }
    pid = fork();
    if (pid < 0) {
        jg_error("fork: %s", strerror(errno));
        close(fd);
        close(sv[0]);
        close(sv[1]);
        return;
    }
    if (pid == 0) {
        close(sv[0]);
        child_setup(m);
        conn.fd = fd;
        conn.master_fd = sv[1];
        jg_gw_monitor_run(m->d, &conn, jg_gw_worker_run);
    }
    close(fd);
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    if (m->n_kids == m->cap_kids) {
        m->cap_kids = m->cap_kids ? m->cap_kids * 2 : 16;
        m->kids = jg_xrealloc(m->kids, m->cap_kids, sizeof(*m->kids));
    }
    k = &m->kids[m->n_kids++];
    memset(k, 0, sizeof(*k));
    k->pid = pid;
    k->sock = sv[0];
    k->connected = jg_now();
    jg_strlcpy(k->peer, conn.peer, sizeof(k->peer));
    count_connection(m, "accepted");
    jg_debug("connection from %s port %u: monitor %d", conn.peer,
             conn.peer_port, (int)pid);
}

static void
reap(struct jg_gw_master *m)
{
    size_t i;
    pid_t pid;
    int st;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (jg_gw_seal_reaped(m, pid, st))
            continue;
        for (i = 0; i < m->n_kids; i++) {
            struct jg_gw_child *k = &m->kids[i];

            if (k->pid != pid)
                continue;
            if (WIFSIGNALED(st))
                jg_warn("monitor %d for %s ended by signal %d", (int)pid,
                        k->peer, WTERMSIG(st));
            /* What it said last still counts. */
            if (k->sock >= 0)
                jg_gw_master_child_input(m, k);
            if (WIFSIGNALED(st))
                jg_gw_master_child_lost(m, k, WTERMSIG(st));
            penalise(m, k, st);
            jg_gw_master_child_gone(m, k);
            m->kids[i] = m->kids[--m->n_kids];
            break;
        }
    }
}

static void
reload(struct jg_gw_master *m, const char *trigger)
{
    char err[512];

    jg_gw_master_reload(m, trigger, NULL, err, sizeof(err));
}

static void
stop_listening(struct jg_gw_master *m)
{
    size_t i;

    for (i = 0; i < m->n_lfd; i++)
        close(m->lfd[i]);
    m->n_lfd = 0;
}

static void
on_signal(struct jg_gw_master *m)
{
    struct signalfd_siginfo si;
    size_t i;

    while (read(m->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            reap(m);
            break;
        case SIGHUP:
            m->reload_at_ms = 0;
            reload(m, "signal");
            break;
        case SIGTERM:
        case SIGINT:
            if (m->terms++ == 0) {
                jg_info("stopping: no new connections, %zu session(s) to "
                        "drain", m->n_kids);
                m->draining = true;
                stop_listening(m);
            } else {
                jg_info("stopping now: ending %zu session(s)", m->n_kids);
                for (i = 0; i < m->n_kids; i++)
                    kill(m->kids[i].pid, SIGTERM);
            }
            break;
        default:
            break;
        }
    }
}

/* The poll time-out: the next debounced reload, ban end, or a second
 * while the metrics server or control clients may need attention. */
static int
poll_timeout(const struct jg_gw_master *m, int64_t ban_next)
{
    int64_t now = jg_gw_now_ms(), t = -1;
    size_t i;

    if (m->reload_at_ms != 0)
        t = m->reload_at_ms > now ? m->reload_at_ms - now : 0;
    if (m->watch_poll) {
        int64_t p = m->poll_at_ms > now ? m->poll_at_ms - now : 0;
        if (t < 0 || p < t)
            t = p;
    }
    if (ban_next != JG_TIME_NEVER) {
        int64_t b = (ban_next - jg_now()) * 1000;
        if (b < 0)
            b = 0;
        if (t < 0 || b < t)
            t = b;
    }
    if ((m->msrv != NULL || m->audit_down_us != 0) && (t < 0 || t > 1000))
        t = 1000;
    if (jg_gw_seal_due_ms(m) >= 0) {
        int64_t sl = jg_gw_seal_due_ms(m) > now ? jg_gw_seal_due_ms(m) - now
                                                : 0;
        if (t < 0 || sl < t)
            t = sl;
    }
    for (i = 0; i < JG_GW_CTL_CLIENTS; i++)
        if (m->ctl[i].fd >= 0 && (t < 0 || t > 1000))
            t = 1000;
    if (t > 3600000)
        t = 3600000;
    return (int)t;
}

static int
setup(struct jg_gw_master *m, struct jg_gw_daemon *d)
{
    const struct jg_config *cfg = d->cfg;
    sigset_t set;
    size_t i;
    int r;

    m->d = d;
    m->sfd = -1;
    m->ctl_fd = -1;
    m->ino_fd = -1;
    m->wd_dir = m->wd_drop = -1;
    for (i = 0; i < JG_GW_CTL_CLIENTS; i++)
        m->ctl[i].fd = -1;
    m->bans = jg_gw_bans_new(cfg->auth_fail_max, cfg->auth_fail_window,
                             cfg->auth_fail_ban);
    jg_gw_seal_open(m);   /* its first seal before anyone can connect */
    m->pen = jg_gw_penalties_new(cfg->pen_min, cfg->pen_max);
    for (i = 0; i < cfg->n_listen && i < MAX_LISTEN; i++) {
        if (jg_gw_listen(cfg->listen[i], &m->lfd[m->n_lfd]) != 0)
            return JG_ERR_IO;
        m->n_lfd++;
    }
    if ((r = jg_gw_metrics_start(m)) != 0)
        return r;
    if ((r = jg_gw_control_open(m)) != 0)
        return r;
    m->policy_loaded = jg_now();
    jg_gw_metrics_policy(m);
    jg_gw_watch_open(m);
    if (cfg->audit_dir != NULL &&
        (r = jg_audit_log_open(cfg->audit_dir, NULL, 0, &m->log)) != 0) {
        jg_warn("audit: the master cannot open the event log in %s: %s",
                cfg->audit_dir, jg_strerror(r));
        m->log = NULL;
    }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if ((m->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        jg_error("signalfd: %s", strerror(errno));
        return JG_ERR_IO;
    }
    for (i = 0; i < cfg->n_listen; i++)
        jg_info("listening on %s", cfg->listen[i]);
    return 0;
}

static void
teardown(struct jg_gw_master *m)
{
    size_t i;

    stop_listening(m);
    for (i = 0; i < m->n_kids; i++)
        if (m->kids[i].sock >= 0)
            close(m->kids[i].sock);
    free(m->kids);
    if (m->sfd >= 0)
        close(m->sfd);
    if (m->ctl_path != NULL)
        unlink(m->ctl_path);
    jg_gw_control_close(m);
    jg_gw_watch_close(m);
    jg_gw_metrics_stop(m);
    jg_gw_bans_free(m->bans);
    jg_gw_seal_close(m);
    jg_gw_penalties_free(m->pen);
    jg_audit_log_free(m->log);
}

int
jg_gw_master_run(struct jg_gw_daemon *d)
{
    struct jg_gw_master m;
    struct pollfd *pfd = NULL;
    size_t i, n, nk, nl, at_kids, at_misc, nctl;
    int r = 2, mfd;

    memset(&m, 0, sizeof(m));
    if (setup(&m, d) != 0)
        goto out;
    for (;;) {
        int64_t ban_next;

        if (m.draining && m.n_kids == 0)
            break;
        ban_next = expire_bans(&m);
        pfd = jg_xrealloc(pfd, 4 + MAX_LISTEN + m.n_kids + JG_GW_CTL_CLIENTS,
                          sizeof(*pfd));
        n = 0;
        pfd[n++] = (struct pollfd){.fd = m.sfd, .events = POLLIN};
        nl = m.n_lfd;
        for (i = 0; i < nl; i++)
            pfd[n++] = (struct pollfd){.fd = m.lfd[i], .events = POLLIN};
        at_kids = n;
        nk = m.n_kids;
        for (i = 0; i < nk; i++)
            pfd[n++] = (struct pollfd){.fd = m.kids[i].sock, .events = POLLIN};
        at_misc = n;
        mfd = m.msrv != NULL ? jg_metrics_server_fd(m.msrv) : -1;
        pfd[n++] = (struct pollfd){.fd = mfd, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = m.ino_fd, .events = POLLIN};
        nctl = jg_gw_control_pollfds(&m, pfd + n);
        n += nctl;
        if (poll(pfd, n, poll_timeout(&m, ban_next)) < 0) {
            if (errno == EINTR)
                continue;
            jg_error("poll: %s", strerror(errno));
            goto out;
        }
        /* Children first: indices shift when the signal handler reaps. */
        for (i = 0; i < nk; i++)
            if (pfd[at_kids + i].revents != 0 && m.kids[i].sock >= 0)
                jg_gw_master_child_input(&m, &m.kids[i]);
        for (i = 0; i < nl; i++)
            if (pfd[1 + i].revents & POLLIN)
                accept_one(&m, m.lfd[i]);
        if (m.msrv != NULL)
            jg_metrics_server_run(m.msrv);
        if (pfd[at_misc + 1].revents != 0)
            jg_gw_watch_input(&m);
        jg_gw_control_run(&m, pfd + at_misc + 2, nctl);
        if (pfd[0].revents & POLLIN)
            on_signal(&m);
        jg_gw_audit_probe(&m);
        jg_gw_watch_poll(&m);
        jg_gw_seal_tick(&m);
        if (m.reload_at_ms != 0 && jg_gw_now_ms() >= m.reload_at_ms) {
            m.reload_at_ms = 0;
            reload(&m, "file change");
        }
    }
    jg_info("all sessions ended; exiting");
    r = 0;
out:
    free(pfd);
    teardown(&m);
    return r;
}
