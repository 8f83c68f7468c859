/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/master.h - the master's own declarations, shared by the
 * files of gateway/master/ only. The master (root) listens, forks a monitor
 * per connection (monitor/monitor.h) and hands it the worker's entry point
 * (worker/worker.h); it keeps the live-session table from the monitors'
 * reports, the limits (startups, bans, penalties), the control socket,
 * policy watching and reloads, timed seals and the metrics.
 *
 * Files, bottom up (a file calls only files before it in this list):
 * limits.c, penalty.c, audit.c, check.c, metrics.c, child.c, reload.c,
 * ctlreq.c, control.c, listen.c, seal.c, watch.c, chroot.c, master.c (the loop)
 * and main.c
 * (make check-rooms fails on any circle between files). */
#ifndef JG_GW_MASTER_H
#define JG_GW_MASTER_H

#ifndef JG_GW_ROOM_MASTER
#error "gateway/master/master.h is the master's own"
#endif

#include <poll.h>

#include "gateway/monitor/monitor.h"
#include "gateway/worker/worker.h"

/* Listens on cfg->listen and serves until SIGTERM and all sessions ended.
 * Returns the process exit status (master.c). */
int jg_gw_master_run(struct jg_gw_daemon *d);

/* The daemon's files: listen addresses, host keys, the upstream identity
 * and known hosts, the audit folder and key (check.c); the check passed to
 * jg_gw_daemon_load() and jg_gw_daemon_reload(). */
int jg_gw_master_check(const struct jg_config *cfg, struct jg_diags *diags);

/* A listening socket for "host:port"; *fd on success (listen.c). */
int jg_gw_listen(const char *hostport, int *fd);
/* Makes JG_GW_CHROOT if missing and checks it is root-owned and empty
 * (chroot.c). */
int jg_gw_prepare_chroot(void);

struct jg_audit_log;

/* Limits (limits.c, pure). */
/* Percent chance that a new connection is dropped with n unauthenticated
 * connections, sshd's MaxStartups start:rate:full: 0 below start, rate at
 * start, rising linearly to 100 at full. */
int jg_gw_startups_drop_pct(int start, int rate, int full, size_t n);
/* The drop decision for a random number rnd. */
bool jg_gw_startups_drop(int start, int rate, int full, size_t n,
                         uint32_t rnd);

/* Per-source authentication failures and bans: max failures within window
 * seconds (counted from the first) ban the source for ban seconds. At
 * most JG_GW_BANS_MAX sources are tracked; when full, the oldest source
 * that is not banned is forgotten. */
#define JG_GW_BANS_MAX 4096
struct jg_gw_bans;
struct jg_gw_bans *jg_gw_bans_new(int max, int64_t window, int64_t ban);
void jg_gw_bans_set(struct jg_gw_bans *b, int max, int64_t window,
                    int64_t ban);
void jg_gw_bans_free(struct jg_gw_bans *b);
/* One failure of src at now; true when it starts a ban (until in *until). */
bool jg_gw_bans_fail(struct jg_gw_bans *b, const char *src, int64_t now,
                     int64_t *until);
/* Is src banned at now? */
bool jg_gw_bans_banned(const struct jg_gw_bans *b, const char *src,
                       int64_t now);
/* Ends the bans that are over and forgets failures out of their window:
 * ended(src, arg) for each ended ban. *next: the next moment something
 * ends (JG_TIME_NEVER: none). */
void jg_gw_bans_expire(struct jg_gw_bans *b, int64_t now,
                       void (*ended)(const char *src, void *arg), void *arg,
                       int64_t *next);
size_t jg_gw_bans_active(const struct jg_gw_bans *b, int64_t now);
/* A request of the control socket (ctlreq.c). */
enum jg_gw_ctl_kind {
    JG_GW_CTL_LIST = 1,
    JG_GW_CTL_STATUS,
    JG_GW_CTL_RELOAD,
    JG_GW_CTL_KILL,
    JG_GW_CTL_AUTH_FAILURE,      /* the console's failed sign-in */
    JG_GW_CTL_BANNED,            /* the console asks */
};
struct jg_gw_ctl_req {
    enum jg_gw_ctl_kind kind;
    char id[65];                 /* kill: the connection's id */
    char by[65];                 /* who asks ("": not said) */
    char reason[513];            /* kill ("": none) */
    char from[64];               /* auth-failure, banned: an IP address */
};
/* Reads one request line (no newline): 0, or JG_ERR_INVALID with the
 * answer's error text in err. */
int jg_gw_ctl_parse(const char *line, struct jg_gw_ctl_req *r, char *err,
                    size_t n);

/* One authentication failure of src (a connection of the gateway, or a
 * sign-in of the auditors' console told over the control socket): logs
 * and counts the ban it starts (child.c). */
struct jg_gw_master;
void jg_gw_auth_failed(struct jg_gw_master *m, const char *src);

/* Per-source penalties (penalty.c): a connection that ends without
 * authenticating adds seconds to its source's penalty, which runs out
 * that much later (never more than max seconds from now); once at least
 * min seconds are left, the source is refused until it runs out. At most
 * JG_GW_PENALTIES_MAX sources are tracked; when full, the one that is not
 * refused and runs out first is forgotten, and when all are refused a new
 * penalty is not recorded. */
#define JG_GW_PENALTIES_MAX 4096
struct jg_gw_penalties;
struct jg_gw_penalties *jg_gw_penalties_new(int64_t min, int64_t max);
void jg_gw_penalties_set(struct jg_gw_penalties *p, int64_t min,
                         int64_t max);
void jg_gw_penalties_free(struct jg_gw_penalties *p);
/* Adds secs (<= 0: nothing) to src's penalty at now; true when this makes
 * the source refused (until in *until). */
bool jg_gw_penalties_add(struct jg_gw_penalties *p, const char *src,
                         int64_t secs, int64_t now, int64_t *until);
/* Is src refused at now? (until in *until, may be NULL) */
bool jg_gw_penalties_refused(const struct jg_gw_penalties *p,
                             const char *src, int64_t now, int64_t *until);
/* Forgets penalties that ran out: ended(src, arg) for each refused
 * source among them. *next: when the next refusal ends (JG_TIME_NEVER:
 * none). */
void jg_gw_penalties_expire(struct jg_gw_penalties *p, int64_t now,
                            void (*ended)(const char *src, void *arg),
                            void *arg, int64_t *next);
size_t jg_gw_penalties_active(const struct jg_gw_penalties *p, int64_t now);

#define JG_GW_CHILD_CHANS 32   /* live channels listed per connection */
#define JG_GW_CTL_CLIENTS 8    /* control socket clients at once */

struct jg_gw_mchan {
    uint32_t id;               /* the monitor's grant id */
    unsigned action;
    char target[128], login[128];
    char session[37];          /* its recording or sftp id; "" none */
    int64_t started, until;
    uint64_t bytes_in, bytes_out;  /* as last reported */
};

struct jg_gw_child {
    pid_t pid;
    int sock;                  /* to its monitor; -1 once dropped */
    bool authed;               /* unauthenticated ones count for startups */
    bool listed;               /* said hello: listed and counted */
    bool ending;               /* told to end: no longer one of the user's
                                * sessions for max_sessions */
    char conn_id[37];
    char user[64];
    char peer[64];
    int64_t connected;
    struct jg_gw_mchan chans[JG_GW_CHILD_CHANS];
    size_t n_chans;
};

struct jg_gw_ctl_client {
    int fd;                    /* -1: free slot */
    char in[4096];
    size_t in_len;
    char *out;                 /* the answer being written */
    size_t out_len, out_off;
    int64_t deadline;          /* seconds; dropped after */
    bool refused;              /* not root: every request gets an error */
};

struct jg_gw_master {
    struct jg_gw_daemon *d;
    int lfd[16];
    size_t n_lfd;
    int sfd;                   /* signalfd */
    struct jg_gw_child *kids;
    size_t n_kids, cap_kids;
    bool draining;
    int terms;
    struct jg_metrics *metrics;
    struct jg_metrics_server *msrv;   /* NULL: no metrics.listen */
    struct jg_gw_bans *bans;
    struct jg_gw_penalties *pen;      /* limits.penalties */
    struct jg_audit_log *log;         /* NULL: no audit.dir */
    int64_t seal_at_ms;               /* next timed seal */
    pid_t sealer;                     /* writing a timed seal; 0 none */
    int ctl_fd;                       /* control socket, or -1 */
    char *ctl_path;                   /* what ctl_fd is bound to */
    struct jg_gw_ctl_client ctl[JG_GW_CTL_CLIENTS];
    int ino_fd;                       /* inotify, or -1 */
    int wd_dir, wd_drop;              /* policy folder, policy.d */
    int64_t reload_at_ms;             /* debounced reload; 0 none */
    bool watch_poll;                  /* no inotify: the files are polled */
    int64_t poll_at_ms;               /* next poll of the files */
    char poll_sig[65];                /* what the last poll saw */
    int64_t policy_loaded;            /* when the running policy was loaded */
    /* audit.on_failure: refuse (audit.c) */
    int64_t audit_down_us;            /* first failed write; 0: all well */
    int64_t audit_probe_ms;           /* next probe */
    uint64_t audit_refused;           /* connections refused meanwhile */
};

/* Monitor messages (child.c): reads what k sent; a malformed
 * message or a closed socket drops k's channel. */
void jg_gw_master_child_input(struct jg_gw_master *m, struct jg_gw_child *k);
/* k's monitor was killed by signal sig: the channels it left open get a
 * session.end (or forward.close) event from the master, with the
 * connection id, so that no session lacks its end. */
void jg_gw_master_child_lost(struct jg_gw_master *m, struct jg_gw_child *k,
                             int sig);
/* k ended (reaped or dropped): its channels leave the gauges. */
void jg_gw_master_child_gone(struct jg_gw_master *m, struct jg_gw_child *k);
/* Tells k's monitor to end the session. */
int jg_gw_master_child_kill(struct jg_gw_master *m, struct jg_gw_child *k,
                            const char *reason);
/* An event of the master in the event log (when audit.dir is set); a
 * failed write counts and holds connections as audit.on_failure says
 * (audit.c). */
void jg_gw_master_event(struct jg_gw_master *m, const char *type,
                        const char *reason, json_t *extra);
/* Reloads the configuration and the policy now (reload.c; trigger:
 * "signal", "file change", "control"; by: who asked, or NULL), with its log lines, metric
 * and policy.reload event. Returns 0, or JG_ERR_INVALID with the first
 * error in err (the old configuration and policy are kept). */
int jg_gw_master_reload(struct jg_gw_master *m, const char *trigger,
                        const char *by, char *err, size_t errn);
/* Brings jumpgate_policy_info up to date with the running policy. */
void jg_gw_metrics_policy(struct jg_gw_master *m);

/* audit.on_failure: refuse (audit.c): a failed audit write
 * refuses new connections until a probe of the audit folder succeeds and
 * an audit.gap event is logged. */
void jg_gw_audit_failed(struct jg_gw_master *m);
/* True (and counted) while connections are refused. */
bool jg_gw_audit_refusing(struct jg_gw_master *m);
/* Probes the audit folder when one is due. */
void jg_gw_audit_probe(struct jg_gw_master *m);

/* Timed seals (seal.c): a seal every audit.seal_interval promising
 * the next (jg_audit_log_seal_timed()), the first at once, each written by
 * a short-lived child that loads the signing key (the master never does);
 * at close a last one promising none, waited for. */
void jg_gw_seal_open(struct jg_gw_master *m);
/* When the next timed seal is due (jg_gw_now_ms() clock), -1 for none
 * (no key, or one is being written). */
int64_t jg_gw_seal_due_ms(const struct jg_gw_master *m);
void jg_gw_seal_tick(struct jg_gw_master *m);
/* True when pid was the sealer (a failed seal is a failed audit write). */
bool jg_gw_seal_reaped(struct jg_gw_master *m, pid_t pid, int status);
void jg_gw_seal_close(struct jg_gw_master *m);

/* Metrics (metrics.c): declares the jumpgated families (values
 * start at 0) and starts the server when metrics.listen is set. */
int jg_gw_metrics_start(struct jg_gw_master *m);
void jg_gw_metrics_stop(struct jg_gw_master *m);

/* The control socket (control.c): `jumpgate session list/kill`,
 * `jumpgate policy status` and the reload after `policy grant/revoke`.
 * Requests are one line ("list", "kill ID", "status", "reload", or a JSON
 * object {"req": "kill"|"reload", "id", "by", "reason"}), answers one JSON
 * object. */
int jg_gw_control_open(struct jg_gw_master *m);
void jg_gw_control_close(struct jg_gw_master *m);
/* Fills pfd (at most 1 + JG_GW_CTL_CLIENTS) and returns how many. */
size_t jg_gw_control_pollfds(struct jg_gw_master *m, struct pollfd *pfd);
/* Serves what pfd (as filled above) reports. */
void jg_gw_control_run(struct jg_gw_master *m, const struct pollfd *pfd,
                       size_t n);

/* Policy file watching (watch.c): inotify on the policy's folder
 * and policy.d/; a change arms a reload about a second later. Without
 * inotify (no instance or watch left for this user) the files are polled
 * every JG_GW_POLL_MS instead. */
#define JG_GW_POLL_MS 2000
/* Starts watching (inotify, else polling, which is logged). Returns 0. */
int jg_gw_watch_open(struct jg_gw_master *m);
/* Polls the files when polling is due; arms a reload on a change. */
void jg_gw_watch_poll(struct jg_gw_master *m);
void jg_gw_watch_close(struct jg_gw_master *m);
/* Reads the inotify events; arms m->reload_at_ms when they concern the
 * policy. */
void jg_gw_watch_input(struct jg_gw_master *m);


#endif
