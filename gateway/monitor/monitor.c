/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/monitor.c - the per-connection monitor: forks the worker,
 * serves its requests through a table gated by authentication state,
 * enforces the login grace time and ends the session when its permission
 * lapses or a reload revokes it. */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "gateway/monitor/internal.h"

struct mon_req {
    uint8_t type;
    unsigned states;   /* JG_GW_MS_* in which the request is allowed */
    int (*handler)(struct jg_gw_mon *m, struct jg_gw_msg *q);
};

/* Anything not here, or out of its states, ends the connection. */
static const struct mon_req mon_reqs[] = {
    {JG_GW_REQ_AUTH_PUBKEY, JG_GW_MS_PREAUTH, jg_gw_mon_auth_pubkey},
    {JG_GW_REQ_KBDINT_START, JG_GW_MS_PARTIAL, jg_gw_mon_kbdint_start},
    /* JG_GW_REQ_KBDINT_RESPOND is only read inside a PAM conversation. */
    {JG_GW_REQ_DECIDE, JG_GW_MS_AUTHED, jg_gw_mon_decide},
    {JG_GW_REQ_CONNECT, JG_GW_MS_AUTHED, jg_gw_mon_connect},
    {JG_GW_REQ_HOSTKEY, JG_GW_MS_AUTHED, jg_gw_mon_hostkey},
    {JG_GW_REQ_AGENT, JG_GW_MS_AUTHED, jg_gw_mon_agent},
    {JG_GW_REQ_TARGETS, JG_GW_MS_AUTHED, jg_gw_mon_targets},
    {JG_GW_REQ_FORWARD, JG_GW_MS_AUTHED, jg_gw_mon_forward},
    {JG_GW_REQ_REC_OPEN, JG_GW_MS_AUTHED, jg_gw_mon_rec_open},
    {JG_GW_REQ_REC_TAP, JG_GW_MS_AUTHED, jg_gw_mon_rec_tap},
    {JG_GW_REQ_REC_EXIT, JG_GW_MS_AUTHED, jg_gw_mon_rec_exit},
    {JG_GW_REQ_CHAN_END, JG_GW_MS_AUTHED, jg_gw_mon_chan_end},
    {JG_GW_REQ_CHAN_STATE, JG_GW_MS_AUTHED, jg_gw_mon_chan_state},
    {JG_GW_REQ_BYTES, JG_GW_MS_AUTHED, jg_gw_mon_bytes},
    {JG_GW_REQ_LOGIN_FAILED, JG_GW_MS_AUTHED, jg_gw_mon_login_failed},
    {JG_GW_REQ_CHAN_REFUSED, JG_GW_MS_AUTHED, jg_gw_mon_chan_refused},
    {JG_GW_REQ_SFTP_START, JG_GW_MS_AUTHED, jg_gw_mon_sftp_start},
    {JG_GW_REQ_SFTP_EVENT, JG_GW_MS_AUTHED, jg_gw_mon_sftp_event},
    {JG_GW_REQ_SFTP_END, JG_GW_MS_AUTHED, jg_gw_mon_sftp_end},
    {JG_GW_REQ_DB_CA, JG_GW_MS_AUTHED, jg_gw_mon_db_ca},
    {JG_GW_REQ_DB_AUTH, JG_GW_MS_AUTHED, jg_gw_mon_db_auth},
    {JG_GW_REQ_DB_EVENT, JG_GW_MS_AUTHED, jg_gw_mon_db_event},
    {JG_GW_REQ_DB_END, JG_GW_MS_AUTHED, jg_gw_mon_db_end},
};

/* Logs a worker that did not end by itself (ours: the signal was the
 * monitor's own SIGKILL), and makes it the reason the sessions end. */
static void
worker_status(struct jg_gw_mon *m, int st, bool ours)
{
    char why[128];

    if (!WIFSIGNALED(st) || (ours && WTERMSIG(st) == SIGKILL))
        return;
    if (WTERMSIG(st) == SIGSYS)
        snprintf(why, sizeof(why), "the worker was killed by the seccomp "
                 "filter (signal %d): it made a forbidden system call",
                 SIGSYS);
    else
        snprintf(why, sizeof(why), "the worker was killed by signal %d",
                 WTERMSIG(st));
    jg_error("connection of %s from %s: %s", m->user[0] ? m->user : "-",
             m->conn->peer, why);
    if (m->rep.end_reason[0] == '\0')
        jg_strlcpy(m->rep.end_reason, why, sizeof(m->rep.end_reason));
}

/* Requests without an answer, served after the worker is gone. */
static bool
no_answer(uint8_t type)
{
    return (type >= JG_GW_REQ_REC_TAP && type <= JG_GW_REQ_CHAN_END) ||
           type == JG_GW_REQ_CHAN_STATE || type == JG_GW_REQ_BYTES ||
           type == JG_GW_REQ_CHAN_REFUSED;
}

static void __attribute__((noreturn))
mon_exit(struct jg_gw_mon *m, int status, bool worker_eof)
{
    pid_t r;
    int st, i;

    if (m->worker > 0) {
        /* It may be dying already (its socket closes first): give it a
         * moment, so that its own end is what is logged, not our
         * SIGKILL. */
        r = waitpid(m->worker, &st, WNOHANG);
        for (i = 0; r == 0 && worker_eof && i < 100; i++) {
            nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
            r = waitpid(m->worker, &st, WNOHANG);
        }
        if (r == m->worker) {
            worker_status(m, st, false);
        } else {
            kill(m->worker, SIGKILL);
            if (waitpid(m->worker, &st, 0) == m->worker)
                worker_status(m, st, true);
        }
    }
    /* What the worker left in the ring was passed on: it is recorded (the
     * worker is gone, so one read takes all of it). */
    if (m->state == JG_GW_MS_AUTHED)
        (void)jg_gw_mon_tap_drain(m);
    jg_gw_mon_sftp_finish(m);
    jg_gw_mon_rec_finish(m);
    jg_gw_mon_event_close(m);
    jg_gw_mon_agent_clear(m);
    _exit(status);
}

/* Reads what the master sent (a kill). Returns JG_ERR_IO when the master
 * is gone or broke the protocol; the monitor then stops listening to it. */
static int
jg_gw_mon_from_master(struct jg_gw_mon *m)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));
    char reason[128];
    int r;

    while ((r = jg_gw_msg_recv(m->conn->master_fd, q, 0)) == 0) {
        if (q->fd >= 0 || q->type != JG_GW_MM_KILL ||
            jg_gw_msg_get_str(q, reason, sizeof(reason)) != 0) {
            r = JG_ERR_INVALID;
            break;
        }
        if (m->lapsed)
            continue;
        jg_strlcpy(m->rep.end_reason, reason, sizeof(m->rep.end_reason));
        jg_info("session of %s from %s: %s", m->user[0] ? m->user : "?",
                m->conn->peer, reason);
        /* Recorded channels get session.end with the reason when they
         * close; a connection without any gets one of its own. */
        if (m->n_recs == 0)
            jg_gw_mon_event(m, "session.end", NULL, m->user[0] ? m->user
                                                               : NULL,
                            NULL, NULL, NULL, NULL, reason, NULL);
        jg_gw_mon_lapse(m, reason);
    }
    if (q->fd >= 0)
        close(q->fd);
    free(q);
    if (r == JG_ERR_NOTFOUND)
        return 0;
    close(m->conn->master_fd);
    m->conn->master_fd = -1;
    return JG_ERR_IO;
}

static int64_t
next_deadline(const struct jg_gw_mon *m)
{
    int64_t t = JG_TIME_NEVER;
    size_t i;

    if (m->state != JG_GW_MS_AUTHED)
        t = m->grace_deadline;
    if (m->kill_deadline != 0 && m->kill_deadline < t)
        t = m->kill_deadline;
    for (i = 0; i < JG_GW_MAX_GRANTS && !m->lapsed; i++)
        if (m->grants[i].used && m->grants[i].active &&
            m->grants[i].until < t)
            t = m->grants[i].until;
    return t;
}

static void
on_timer(struct jg_gw_mon *m)
{
    int64_t now = jg_now();

    if (m->state != JG_GW_MS_AUTHED && now >= m->grace_deadline) {
        jg_info("connection from %s: login grace time exceeded",
                m->conn->peer);
        mon_exit(m, JG_GW_EXIT_GRACE, false);
    }
    if (m->kill_deadline != 0 && now >= m->kill_deadline) {
        jg_info("session of %s from %s: worker did not end; killed",
                m->user, m->conn->peer);
        mon_exit(m, 0, false);
    }
    jg_gw_mon_redecide(m);
}

static const struct mon_req *
find_req(const struct jg_gw_mon *m, uint8_t type)
{
    size_t i;

    for (i = 0; i < sizeof(mon_reqs) / sizeof(mon_reqs[0]); i++)
        if (mon_reqs[i].type == type && (mon_reqs[i].states & m->state) != 0)
            return &mon_reqs[i];
    return NULL;
}

/* The worker is gone: serve what it sent last (a channel's end, the last
 * output of a recording) so the record is complete, then stop. Only the
 * requests that need no answer are served. */
static void
drain(struct jg_gw_mon *m)
{
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));
    const struct mon_req *e;

    while (jg_gw_msg_recv(m->sock, q, 0) == 0) {
        if (q->fd >= 0) {
            close(q->fd);
            break;
        }
        if (m->state == JG_GW_MS_AUTHED && jg_gw_mon_tap_drain(m) != 0)
            break;
        if ((!no_answer(q->type) && !jg_gw_mon_sftp_drainable(q->type)) ||
            (e = find_req(m, q->type)) == NULL || e->handler(m, q) != 0)
            break;
    }
    free(q);
}

static void
on_signal(struct jg_gw_mon *m, int sfd)
{
    struct signalfd_siginfo si;
    struct jg_diags diags = {0};

    while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            mon_exit(m, 0, false);
        } else if (si.ssi_signo == SIGHUP) {
            /* The master checked the files (the upstream key among them,
             * which takes a child process to check): load our own copy. */
            if (jg_gw_daemon_reload(m->d, NULL, &diags) != 0)
                jg_warn("monitor: reload failed; keeping the old policy");
            jg_diags_clear(&diags);
            if (m->state == JG_GW_MS_AUTHED)
                jg_gw_mon_redecide(m);
        } else if (si.ssi_signo == SIGCHLD) {
            int st;
            if (waitpid(m->worker, &st, WNOHANG) == m->worker) {
                m->worker = 0;
                worker_status(m, st, false);
                drain(m);
                mon_exit(m, 0, false);
            }
        }
    }
}

/* Serves one request; false when none was waiting. */
static bool
serve_one(struct jg_gw_mon *m, struct jg_gw_msg *q)
{
    const struct mon_req *e = NULL;
    size_t i;
    int r;

    r = jg_gw_msg_recv(m->sock, q, 0);
    if (r == JG_ERR_NOTFOUND)
        return false;
    if (r == JG_ERR_IO)
        mon_exit(m, 0, true); /* the worker is gone */
    if (r != 0 || q->fd >= 0) {
        jg_error("monitor: malformed request from the worker of %s",
                 m->conn->peer);
        mon_exit(m, 1, false);
    }
    for (i = 0; i < sizeof(mon_reqs) / sizeof(mon_reqs[0]); i++)
        if (mon_reqs[i].type == q->type)
            e = &mon_reqs[i];
    if (e == NULL || (e->states & m->state) == 0) {
        jg_error("monitor: unpermitted request %u in state %u from the "
                 "worker of %s; ending the connection",
                 q->type, m->state, m->conn->peer);
        mon_exit(m, 1, false);
    }
    /* What the worker wrote to the ring before this request comes first
     * (a channel's last output before its end). */
    if ((r = jg_gw_mon_tap_drain(m)) != 0 || (r = e->handler(m, q)) != 0) {
        jg_error("monitor: request %u from the worker of %s failed (%s); "
                 "ending the connection", q->type, m->conn->peer,
                 jg_strerror(r));
        mon_exit(m, 1, false);
    }
    return true;
}

void
jg_gw_monitor_run(struct jg_gw_daemon *d, struct jg_gw_conn *c,
                  jg_gw_worker_fn run_worker)
{
    struct jg_gw_mon *m = jg_xcalloc(1, sizeof(*m));
    struct jg_gw_msg *q = jg_xmalloc(sizeof(*q));
    sigset_t set;
    int sv[2], sfd;
    pid_t pid;

    m->d = d;
    m->conn = c;
    m->state = JG_GW_MS_PREAUTH;
    m->agent_fd = -1;
    m->grace_deadline = jg_now() + (d->cfg->login_grace > 0
                                        ? d->cfg->login_grace : 30);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        jg_error("socketpair: %s", strerror(errno));
        _exit(1);
    }
    /* Recorded bytes come through shared memory (proto.h); its pages are
     * only touched once something is recorded. */
    if ((m->tap = jg_gw_tap_new()) == NULL) {
        jg_error("the tap ring: %s", strerror(errno));
        _exit(1);
    }
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        jg_error("signalfd: %s", strerror(errno));
        _exit(1);
    }
    pid = fork();
    if (pid < 0) {
        jg_error("fork: %s", strerror(errno));
        _exit(1);
    }
    if (pid == 0) {
        sigset_t none;
        close(sv[0]);
        close(sfd);
        if (c->master_fd >= 0)
            close(c->master_fd);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        run_worker(d, c->fd, sv[1], m->tap, c->peer);
    }
    m->worker = pid;
    m->sock = sv[0];
    jg_gw_mon_audit_init(m);
    if (c->master_fd >= 0)
        fcntl(c->master_fd, F_SETFL, fcntl(c->master_fd, F_GETFL) | O_NONBLOCK);
    jg_gw_mon_report_hello(m);
    close(sv[1]);
    close(c->fd);
    c->fd = -1;
    for (;;) {
        struct pollfd pfd[4] = {{.fd = m->sock, .events = POLLIN},
                                {.fd = sfd, .events = POLLIN},
                                {.fd = m->agent_fd, .events = POLLIN},
                                {.fd = c->master_fd, .events = POLLIN}};
        int64_t dl = next_deadline(m), now = jg_now();
        int tmo = -1, pr;

        if (dl != JG_TIME_NEVER)
            tmo = dl <= now ? 0 : (dl - now > 3600 ? 3600000
                                                   : (int)(dl - now) * 1000);
        /* Recordings are checkpointed about once a second, and a block
         * of records waits at most JG_AUDIT_REC_FLUSH_US for the file. */
        if (m->n_recs > 0 && (tmo < 0 || tmo > 1000))
            tmo = 1000;
        if (tmo > JG_AUDIT_REC_FLUSH_US / 1000 && jg_gw_mon_audit_waiting(m))
            tmo = JG_AUDIT_REC_FLUSH_US / 1000;
        /* The ring is read before the monitor sleeps; the worker nudges
         * it (REC_TAP) when it writes to a ring the monitor sleeps on. */
        if (m->state == JG_GW_MS_AUTHED) {
            if (jg_gw_mon_tap_drain(m) != 0)
                mon_exit(m, 1, false);
            if (!jg_gw_tap_may_sleep(m->tap, m->tap_pos))
                tmo = 0;
        }
        pr = poll(pfd, 4, tmo);
        if (pr < 0 && errno != EINTR) {
            jg_error("monitor poll: %s", strerror(errno));
            mon_exit(m, 1, false);
        }
        if (pr > 0 && (pfd[1].revents & POLLIN))
            on_signal(m, sfd);
        if (pr > 0 && pfd[2].revents != 0)
            jg_gw_mon_agent_serve(m);
        /* The master gone (or broken) is no reason to end the session. */
        if (pr > 0 && pfd[3].revents != 0)
            jg_gw_mon_from_master(m);
        /* A burst of recording data is served in one go; the timers run
         * between bursts. */
        if (pr > 0 && pfd[0].revents != 0)
            for (int k = 0; k < 64 && serve_one(m, q); k++)
                ;
        jg_gw_mon_audit_tick(m);
        on_timer(m);
    }
}
