/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/jg_gw_master.c - the master: listens, limits unauthenticated
 * connections, forks one monitor per connection, reaps them, reloads on
 * SIGHUP and drains on SIGTERM. It never parses SSH traffic. */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gateway.h"

#define MAX_LISTEN 16

struct child {
    pid_t pid;
    int notify;        /* read end; monitor writes 'A' once authenticated */
    bool authed;
    char peer[64];
};

struct master {
    struct jg_gw_daemon *d;
    int lfd[MAX_LISTEN];
    size_t n_lfd;
    int sfd;           /* signalfd */
    struct child *kids;
    size_t n_kids, cap_kids;
    bool draining;
    int terms;
};

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

static size_t
unauthenticated(const struct master *m)
{
    size_t i, n = 0;

    for (i = 0; i < m->n_kids; i++)
        if (!m->kids[i].authed)
            n++;
    return n;
}

static void
child_setup(struct master *m, int keep)
{
    sigset_t none;
    size_t i;

    for (i = 0; i < m->n_lfd; i++)
        close(m->lfd[i]);
    for (i = 0; i < m->n_kids; i++)
        close(m->kids[i].notify);
    close(m->sfd);
    (void)keep;
    signal(SIGCHLD, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
accept_one(struct master *m, int lfd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct jg_gw_conn conn;
    int fd, pfd[2];
    pid_t pid;

    fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    memset(&conn, 0, sizeof(conn));
    peer_text(&ss, conn.peer, sizeof(conn.peer), &conn.peer_port);
    if (m->draining) {
        close(fd);
        return;
    }
    if (unauthenticated(m) >= (size_t)m->d->cfg->max_startups) {
        jg_warn("connection from %s refused: %zu unauthenticated connections "
                "(limits.max_startups)", conn.peer, unauthenticated(m));
        close(fd);
        return;
    }
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        jg_error("pipe: %s", strerror(errno));
        close(fd);
        return;
    }
    pid = fork();
    if (pid < 0) {
        jg_error("fork: %s", strerror(errno));
        close(fd);
        close(pfd[0]);
        close(pfd[1]);
        return;
    }
    if (pid == 0) {
        close(pfd[0]);
        child_setup(m, fd);
        conn.fd = fd;
        conn.notify_fd = pfd[1];
        jg_gw_monitor_run(m->d, &conn);
    }
    close(fd);
    close(pfd[1]);
    if (m->n_kids == m->cap_kids) {
        m->cap_kids = m->cap_kids ? m->cap_kids * 2 : 16;
        m->kids = jg_xrealloc(m->kids, m->cap_kids, sizeof(*m->kids));
    }
    m->kids[m->n_kids].pid = pid;
    m->kids[m->n_kids].notify = pfd[0];
    m->kids[m->n_kids].authed = false;
    jg_strlcpy(m->kids[m->n_kids].peer, conn.peer, sizeof(conn.peer));
    m->n_kids++;
    jg_debug("connection from %s port %u: monitor %d", conn.peer,
             conn.peer_port, (int)pid);
}

static void
reap(struct master *m)
{
    size_t i;
    pid_t pid;
    int st;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (i = 0; i < m->n_kids; i++) {
            if (m->kids[i].pid != pid)
                continue;
            if (WIFSIGNALED(st))
                jg_warn("monitor %d for %s ended by signal %d", (int)pid,
                        m->kids[i].peer, WTERMSIG(st));
            close(m->kids[i].notify);
            m->kids[i] = m->kids[--m->n_kids];
            break;
        }
    }
}

static void
reload(struct master *m)
{
    struct jg_diags diags = {0};
    size_t i;

    if (jg_gw_daemon_reload(m->d, &diags) != 0) {
        for (i = 0; i < diags.n; i++)
            jg_error("reload refused, keeping the old configuration: %s:%d:%d: "
                     "%s", diags.v[i].file, diags.v[i].line, diags.v[i].col,
                     diags.v[i].msg);
        if (diags.n == 0)
            jg_error("reload refused, keeping the old configuration");
        jg_diags_clear(&diags);
        return;
    }
    jg_diags_clear(&diags);
    jg_info("configuration and policy reloaded; re-deciding %zu session(s)",
            m->n_kids);
    for (i = 0; i < m->n_kids; i++)
        kill(m->kids[i].pid, SIGHUP);
}

static void
stop_listening(struct master *m)
{
    size_t i;

    for (i = 0; i < m->n_lfd; i++)
        close(m->lfd[i]);
    m->n_lfd = 0;
}

static void
on_signal(struct master *m)
{
    struct signalfd_siginfo si;
    size_t i;

    while (read(m->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            reap(m);
            break;
        case SIGHUP:
            reload(m);
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

static void
on_notify(struct child *k)
{
    char buf[16];
    ssize_t n = read(k->notify, buf, sizeof(buf));

    /* 'A': authenticated; end of file: the monitor is ending (reaped on
     * SIGCHLD), stop polling it either way. */
    if (n == 0 || (n > 0 && memchr(buf, 'A', (size_t)n) != NULL))
        k->authed = true;
}

int
jg_gw_master_run(struct jg_gw_daemon *d)
{
    struct master m;
    struct pollfd *pfd = NULL;
    sigset_t set;
    size_t i, n;
    int r = 2;

    memset(&m, 0, sizeof(m));
    m.d = d;
    m.sfd = -1;
    for (i = 0; i < d->cfg->n_listen && i < MAX_LISTEN; i++) {
        if (jg_gw_listen(d->cfg->listen[i], &m.lfd[m.n_lfd]) != 0)
            goto out;
        m.n_lfd++;
    }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if ((m.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        jg_error("signalfd: %s", strerror(errno));
        goto out;
    }
    for (i = 0; i < d->cfg->n_listen; i++)
        jg_info("listening on %s", d->cfg->listen[i]);
    for (;;) {
        if (m.draining && m.n_kids == 0)
            break;
        pfd = jg_xrealloc(pfd, 1 + m.n_lfd + m.n_kids, sizeof(*pfd));
        n = 0;
        pfd[n++] = (struct pollfd){.fd = m.sfd, .events = POLLIN};
        for (i = 0; i < m.n_lfd; i++)
            pfd[n++] = (struct pollfd){.fd = m.lfd[i], .events = POLLIN};
        for (i = 0; i < m.n_kids; i++)
            pfd[n++] = (struct pollfd){
                .fd = m.kids[i].authed ? -1 : m.kids[i].notify,
                .events = POLLIN};
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            jg_error("poll: %s", strerror(errno));
            goto out;
        }
        /* Children first: indices shift when the signal handler reaps. */
        for (i = 0; i < m.n_kids; i++)
            if (pfd[1 + m.n_lfd + i].revents != 0)
                on_notify(&m.kids[i]);
        for (i = 0; i < m.n_lfd; i++)
            if (pfd[1 + i].revents & POLLIN)
                accept_one(&m, m.lfd[i]);
        if (pfd[0].revents & POLLIN)
            on_signal(&m);
    }
    jg_info("all sessions ended; exiting");
    r = 0;
out:
    free(pfd);
    stop_listening(&m);
    for (i = 0; i < m.n_kids; i++)
        close(m.kids[i].notify);
    free(m.kids);
    if (m.sfd >= 0)
        close(m.sfd);
    return r;
}
