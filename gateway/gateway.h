/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/gateway.h - jumpgated internals shared by its files: the daemon
 * context, the monitor protocol (DESIGN.md section 7), the monitor, the
 * worker, the upstream leg and the relay.
 *
 * Processes: the master (root) listens and forks, per connection, a monitor
 * (root) that forks the worker. The worker runs libssh as the unprivileged
 * user in an empty chroot and asks the monitor, over a SOCK_SEQPACKET
 * socketpair, for every privileged act. Messages are {u8 type, payload};
 * integers are big-endian, strings are u32 length + bytes. */
#ifndef JG_GATEWAY_H
#define JG_GATEWAY_H

#include <sys/types.h>
#include <poll.h>

#include <libssh/libssh.h>
#include <libssh/callbacks.h>
#include <libssh/server.h>

#include <jansson.h>

#include "common/common.h"
#include "policy/policy.h"

#define JG_GW_PROG "jumpgated"
#define JG_GW_MAX_TRIES 6          /* authentication failures per connection */
#define JG_GW_CONNECT_TIMEOUT 10   /* seconds, TCP connect and SSH set-up */
#define JG_GW_LAPSE_GRACE 5        /* seconds between notice and kill */
#define JG_GW_END_WAIT_MS 2000     /* for the request of a new channel when
                                      the session ends */
#define JG_GW_MSG_MAX 32768        /* largest monitor message */
#define JG_GW_LOGIN_MAX 256        /* longest SSH user name we look at */
#define JG_GW_MAX_GRANTS 256       /* permissions held at once per connection
                                      (a closed channel gives its back) */
#define JG_GW_MAX_CHANNELS 64      /* channels open at once per connection */
#define JG_GW_MAX_RECS 64          /* open recordings per connection */
#define JG_GW_REC_CHUNK (JG_GW_MSG_MAX - 64) /* largest tap payload per message */
#define JG_GW_TAP_SNDBUF (1024 * 1024) /* worker -> monitor bytes in flight */
#define JG_GW_WORKER_NOFILE (JG_GW_MAX_GRANTS + 32) /* worker descriptors */
#define JG_GW_CHROOT "/run/jumpgated/empty"
#define JG_GW_UNPRIV_USER "jumpgate"

/* ---- daemon context (jg_gw_daemon.c) ---------------------------------- */

struct jg_gw_daemon {
    struct jg_config *cfg;   /* owned */
    struct jg_policy *pol;   /* owned */
    ssh_bind bind;           /* owned; holds the host keys */
    uid_t uid;               /* of JG_GW_UNPRIV_USER */
    gid_t gid;
    bool foreground;
};

/* Loads config, policy and host keys from path into d (fields owned by d).
 * Diagnostics go to d_out. Returns 0 or a negative JG_ERR_*. */
int jg_gw_daemon_load(const char *path, struct jg_gw_daemon *d,
                      struct jg_diags *diags);
/* Loads a fresh config and policy (for SIGHUP); on success replaces those
 * of d, else keeps them. Host keys are not reloaded. check: also check the
 * files the config names (the master; a monitor reloads after it). */
int jg_gw_daemon_reload(struct jg_gw_daemon *d, bool check,
                        struct jg_diags *diags);
void jg_gw_daemon_clear(struct jg_gw_daemon *d);

/* ---- one connection --------------------------------------------------- */

struct jg_gw_conn {
    int fd;            /* the client's socket */
    char peer[64];     /* source address as text */
    uint16_t peer_port;
    int master_fd;     /* SOCK_SEQPACKET to the master, or -1 */
};

/* ==== the master's view: monitor reports, live sessions, limits =========
 * (jg_gw_report.c, jg_gw_wk_report.c, jg_gw_mchild.c, jg_gw_limits.c,
 * jg_gw_control.c, jg_gw_watch.c, jg_gw_mmetrics.c, jg_gw_event.c)
 *
 * Each monitor has a SOCK_SEQPACKET socketpair to the master and reports
 * what the master counts and lists: {u8 type, payload} as jg_gw_msg. The
 * master treats them as untrusted: lengths and counts are bounded, and a
 * malformed or out-of-order message drops that child's channel (the child
 * runs on; it is no longer listed or counted). */

struct jg_gw_mon;
struct jg_gw_msg;
struct jg_gw_wk;
struct jg_gw_chan;
struct jg_audit_log;

enum jg_gw_report_type {
    /* worker -> monitor (no answer) */
    JG_GW_REQ_CHAN_STATE = 0x30, /* u32 grant id, u8 JG_GW_CHAN_* */
    JG_GW_REQ_BYTES,             /* u64 to target, u64 to client (since the
                                    last report), [u32 channel: all of it
                                    that channel's] */
    /* monitor -> master */
    JG_GW_MM_HELLO = 0x40,       /* s connection id (UUIDv7) */
    JG_GW_MM_AUTH,               /* s method, s result */
    JG_GW_MM_AUTHED,             /* s user */
    JG_GW_MM_DECISION,           /* u32 action, s result, s rule ("" none) */
    JG_GW_MM_OPEN,               /* u32 chan, u32 action, s target, s login,
                                    u64 started, u64 until, s session id
                                    ("" none) */
    JG_GW_MM_UNTIL,              /* u32 chan, u64 until */
    JG_GW_MM_CLOSE,              /* u32 chan */
    JG_GW_MM_BYTES,              /* u64 to target, u64 to client */
    JG_GW_MM_AUDIT_ERROR,        /* (empty) */
    JG_GW_MM_TARGET_ERROR,       /* s target, s error (JG_GW_TARGET_ERRORS) */
    JG_GW_MM_CHAN_BYTES,         /* u32 chan, u64 to target, u64 to client
                                    (all so far) */
    /* master -> monitor */
    JG_GW_MM_KILL = 0x60,        /* s reason */
};

/* What a channel's permission became (JG_GW_REQ_CHAN_STATE). */
enum jg_gw_chan_state {
    JG_GW_CHAN_NONE = 0,
    JG_GW_CHAN_RUNNING,   /* the session or forward is up */
    JG_GW_CHAN_FAILED,    /* allowed, but the target could not be reached */
    JG_GW_CHAN_ENDED,
};

#define JG_GW_KILL_TEXT "session ended by an operator"

/* The monitor's side (jg_gw_report.c); every report is best effort and
 * never blocks (the socket is non-blocking). */
struct jg_gw_mon_rep {
    char end_reason[128];            /* why the session ends ("" none) */
};

void jg_gw_mon_report_hello(struct jg_gw_mon *m);
/* method: publickey | keyboard-interactive | none; result: success |
 * partial | failure. */
void jg_gw_mon_report_auth(struct jg_gw_mon *m, const char *method,
                           const char *result);
void jg_gw_mon_report_authed(struct jg_gw_mon *m);
/* result: allowed | denied | error; rule: the deciding deny rule, "" for
 * the default deny (or for no rule at all). */
void jg_gw_mon_report_decision(struct jg_gw_mon *m, unsigned action,
                               const char *result, const char *rule);
/* The channel of grant id is up (forwards: the monitor connected it). */
void jg_gw_mon_report_open(struct jg_gw_mon *m, uint32_t id);
/* After a re-decision: tells the master of grants whose lapse moved. */
void jg_gw_mon_report_untils(struct jg_gw_mon *m);
void jg_gw_mon_report_audit_error(struct jg_gw_mon *m);
/* A connection to target failed; error is one of JG_GW_TARGET_ERRORS. */
void jg_gw_mon_report_target_error(struct jg_gw_mon *m, const char *target,
                                   const char *error);
/* What a failed connection to a target is called in target.error events
 * and in jumpgate_target_errors_total. */
#define JG_GW_TARGET_ERRORS                                                   \
    "refused", "timeout", "unreachable", "unresolved", "host_key_unknown",   \
        "host_key_changed", "host_key_error"
/* Worker requests JG_GW_REQ_CHAN_STATE and JG_GW_REQ_BYTES. */
int jg_gw_mon_chan_state(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_bytes(struct jg_gw_mon *m, struct jg_gw_msg *q);
struct jg_gw_mon_rec;
/* The bytes of a recorded channel as far as its monitor knows them: what
 * it recorded or the worker reported, whichever is more. */
void jg_gw_mon_rec_bytes(const struct jg_gw_mon_rec *x, uint64_t *in,
                         uint64_t *out);
/* Reads what the master sent (a kill). Returns JG_ERR_IO when the master
 * is gone or broke the protocol; the monitor then stops listening to it. */
int jg_gw_mon_from_master(struct jg_gw_mon *m);

/* The worker's side (jg_gw_wk_report.c). */
/* Tells the monitor what became of the permission of grant id. */
void jg_gw_wk_grant_state(struct jg_gw_wk *w, uint32_t id, uint8_t state);
/* Marks ch as carrying grant id (after an allow decision). */
void jg_gw_wk_chan_granted(struct jg_gw_chan *ch, uint32_t id);
/* Sends the bytes moved since the last report, at most once a second
 * unless force. */
void jg_gw_wk_report_bytes(struct jg_gw_wk *w, bool force);
/* ch is about to be freed: its last bytes, and the end of its grant. */
void jg_gw_wk_report_chan_end(struct jg_gw_wk *w, struct jg_gw_chan *ch);

/* Event log appends shared by the monitors and the master
 * (jg_gw_event.c): ev fields as jg_audit_event; conn_id ("" or NULL:
 * none) goes in extra as "connection". Returns 0 or a JG_ERR_*. extra is
 * borrowed. */
int jg_gw_event_append(struct jg_audit_log *log, const char *type,
                       const char *session, const char *conn_id,
                       const char *user, const char *from,
                       const char *target, const char *login,
                       const char *action, const char *rule,
                       const char *reason, json_t *extra);

/* Limits (jg_gw_limits.c, pure). */
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

/* Per-source penalties (jg_gw_penalty.c): a connection that ends without
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

/* A monitor's exit status when its connection did not authenticate within
 * limits.login_grace. */
#define JG_GW_EXIT_GRACE 3

/* The master (jg_gw_master.c and the files below). */
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
    /* audit.on_failure: refuse (jg_gw_audit_hold.c) */
    int64_t audit_down_us;            /* first failed write; 0: all well */
    int64_t audit_probe_ms;           /* next probe */
    uint64_t audit_refused;           /* connections refused meanwhile */
};

/* Monitor messages (jg_gw_mchild.c): reads what k sent; a malformed
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
/* An event of the master in the event log (when audit.dir is set). */
void jg_gw_master_event(struct jg_gw_master *m, const char *type,
                        const char *reason, json_t *extra);
/* Reloads the configuration and the policy now (trigger: "signal", "file
 * change", "control"; by: who asked, or NULL), with its log lines, metric
 * and policy.reload event. Returns 0, or JG_ERR_INVALID with the first
 * error in err (the old configuration and policy are kept). */
int jg_gw_master_reload(struct jg_gw_master *m, const char *trigger,
                        const char *by, char *err, size_t errn);
/* Brings jumpgate_policy_info up to date with the running policy. */
void jg_gw_metrics_policy(struct jg_gw_master *m);

/* audit.on_failure: refuse (jg_gw_audit_hold.c): a failed audit write
 * refuses new connections until a probe of the audit folder succeeds and
 * an audit.gap event is logged. */
void jg_gw_audit_failed(struct jg_gw_master *m);
/* True (and counted) while connections are refused. */
bool jg_gw_audit_refusing(struct jg_gw_master *m);
/* Probes the audit folder when one is due. */
void jg_gw_audit_probe(struct jg_gw_master *m);

/* Timed seals (jg_gw_mseal.c): a seal every audit.seal_interval promising
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

/* Metrics (jg_gw_mmetrics.c): declares the jumpgated families (values
 * start at 0) and starts the server when metrics.listen is set. */
int jg_gw_metrics_start(struct jg_gw_master *m);
void jg_gw_metrics_stop(struct jg_gw_master *m);

/* The control socket (jg_gw_control.c): `jumpgate session list/kill`,
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

/* Policy file watching (jg_gw_watch.c): inotify on the policy's folder
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
/* Monotonic milliseconds. */
int64_t jg_gw_now_ms(void);

/* ==== end of the master's view ======================================= */

/* ---- the master (jg_gw_master.c) -------------------------------------- */

/* Listens on cfg->listen and serves until SIGTERM and all sessions ended.
 * Returns the process exit status. */
int jg_gw_master_run(struct jg_gw_daemon *d);

/* ---- monitor messages (jg_gw_msg.c) ----------------------------------- */

enum jg_gw_type {
    /* worker -> monitor */
    JG_GW_REQ_AUTH_PUBKEY = 1,  /* s user, s keytype, s key b64, u8 signed */
    JG_GW_REQ_KBDINT_START,     /* s user */
    JG_GW_REQ_KBDINT_RESPOND,   /* u8 abort, u32 n, n x s answer */
    JG_GW_REQ_DECIDE,           /* s target, u32 action, s login ("": default) */
    JG_GW_REQ_CONNECT,          /* u32 grant id */
    JG_GW_REQ_HOSTKEY,          /* u32 grant id, s keytype, s key b64 */
    JG_GW_REQ_AGENT,            /* u32 grant id; answer u8 ok, s message,
                                   and an SSH agent socket (fd) */
    JG_GW_REQ_TARGETS,          /* (empty) */
    JG_GW_REQ_FORWARD,          /* s host, u32 port */
    /* session recording and the event log (jg_gw_mon_audit.c) */
    JG_GW_REQ_REC_OPEN,         /* u32 chan, u32 grant id, s command,
                                   s term ("": no pty), u32 cols, u32 rows;
                                   answer u8 ok, s id ("": not recorded)
                                   or message, u8 record input */
    JG_GW_REQ_REC_DATA,         /* u32 chan, u8 'o'/'e'/'i', b bytes (no
                                   answer) */
    JG_GW_REQ_REC_RESIZE,       /* u32 chan, u32 cols, u32 rows (no answer) */
    JG_GW_REQ_REC_EXIT,         /* u32 chan, u8 signal, u32 status,
                                   s signal name (no answer) */
    JG_GW_REQ_CHAN_END,         /* u32 chan, u8 forward, s target,
                                   u64 bytes in, u64 bytes out, u64 duration
                                   in ms (no answer) */
    JG_GW_REQ_MAX,
    /* monitor -> worker answers: request type | 0x80 */
    JG_GW_ANS = 0x80,
    JG_GW_ANS_KBDINT_PROMPTS = 0xa0, /* s instruction, u32 n, n x (s, u8 echo) */
    JG_GW_ANS_KBDINT_RESULT,         /* u8 ok */
    JG_GW_NOTE_LAPSE = 0xb0,         /* s message: the session must end */
};

struct jg_gw_msg {
    uint8_t type;
    bool bad;             /* a get ran past the end or a put overflowed */
    size_t len, pos;
    int fd;               /* received descriptor, or -1; receiver owns it */
    uint8_t data[JG_GW_MSG_MAX];
};

void jg_gw_msg_init(struct jg_gw_msg *m, uint8_t type);
void jg_gw_msg_put_u8(struct jg_gw_msg *m, uint8_t v);
void jg_gw_msg_put_u32(struct jg_gw_msg *m, uint32_t v);
void jg_gw_msg_put_u64(struct jg_gw_msg *m, uint64_t v);
void jg_gw_msg_put_str(struct jg_gw_msg *m, const char *s);
/* Bytes that may hold NULs: u32 length + bytes. */
void jg_gw_msg_put_bytes(struct jg_gw_msg *m, const void *p, size_t n);
int jg_gw_msg_get_u8(struct jg_gw_msg *m, uint8_t *v);
int jg_gw_msg_get_u32(struct jg_gw_msg *m, uint32_t *v);
int jg_gw_msg_get_u64(struct jg_gw_msg *m, uint64_t *v);
/* Copies a string of at most n-1 bytes without NUL bytes into buf;
 * JG_ERR_INVALID when longer or when it holds a NUL. */
int jg_gw_msg_get_str(struct jg_gw_msg *m, char *buf, size_t n);
/* A borrowed view of bytes put by jg_gw_msg_put_bytes() (NULs allowed). */
int jg_gw_msg_get_bytes(struct jg_gw_msg *m, const uint8_t **p, size_t *n);
/* The same into a new allocation; caller frees *out. */
int jg_gw_msg_get_strdup(struct jg_gw_msg *m, char **out);
/* Sends m (with fd when fd >= 0; the caller keeps its fd). */
int jg_gw_msg_send(int sock, const struct jg_gw_msg *m, int fd);
/* Sends m as if jg_gw_msg_put_bytes(m, p, n) had been its last put, without
 * copying p into it (the recorded bytes of a channel). */
int jg_gw_msg_send_bytes(int sock, const struct jg_gw_msg *m, const void *p,
                         size_t n);
/* Receives one message; timeout_ms < 0 waits for ever. JG_ERR_IO on EOF
 * or error, JG_ERR_NOTFOUND on time-out, JG_ERR_INVALID when malformed. */
int jg_gw_msg_recv(int sock, struct jg_gw_msg *m, int timeout_ms);

/* ---- the monitor (jg_gw_monitor.c, jg_gw_mon_*.c) --------------------- */

enum jg_gw_mon_state {
    JG_GW_MS_PREAUTH = 1u << 0,  /* nothing proven yet */
    JG_GW_MS_PARTIAL = 1u << 1,  /* key accepted, keyboard-interactive due */
    JG_GW_MS_AUTHED = 1u << 2,
};

/* One allowed channel's permission, from the decision until the channel
 * is over: its state was ended or failed and no recording or SFTP log
 * refers to it any more. Ids are never reused within a connection. */
struct jg_gw_grant {
    bool used;           /* the slot holds a grant */
    uint32_t id;         /* what the worker and the master call it */
    uint8_t chan;        /* JG_GW_CHAN_* the master was told */
    int64_t rep_until;   /* the lapse time last reported */
    char target[128];
    unsigned action;
    char login[128];
    int64_t started;     /* first decision */
    int64_t max_session; /* seconds or 0 */
    int64_t until;
    bool active;
    char rule[128];      /* the deciding rule or grant, for the audit */
    bool record_input;
};

struct jg_audit_key;
struct jg_audit_log;
struct jg_audit_rec;

/* One open recording of a session channel (jg_gw_mon_audit.c). */
struct jg_gw_mon_rec {
    bool used;
    uint32_t chan;               /* the worker's channel id */
    uint32_t grant;
    struct jg_audit_rec *r;      /* NULL after a write failure (continue) */
    char id[37];                 /* the recording's UUIDv7 */
    int exit_status;             /* -1 none */
    /* bytes to the target and to the client: recorded, reported by the
     * worker, and last reported to the master */
    uint64_t rec_in, rec_out, wk_in, wk_out, sent_in, sent_out;
};

struct jg_gw_mon {
    struct jg_gw_daemon *d;
    struct jg_gw_conn *conn;
    int sock;                    /* to the worker */
    pid_t worker;
    unsigned state;
    char user[64];               /* proven user ("" before) */
    int failures;
    int64_t grace_deadline;      /* until authenticated */
    int64_t kill_deadline;       /* after a lapse notice; 0 none */
    struct jg_gw_grant grants[JG_GW_MAX_GRANTS];
    uint32_t next_grant;         /* the id of the next grant */
    /* the upstream identity, used only here (jg_gw_mon_agent.c) */
    struct jg_gw_agent_key *agent_key;
    int agent_fd;                /* the agent socket of the worker, or -1 */
    char agent_login[128];       /* the login its one signature is for */
    uint8_t agent_buf[16384];
    size_t agent_len;
    bool pam_open;               /* a PAM transaction is in progress */
    bool lapsed;                 /* the session was told to end */
    char lapse_text[160];        /* why, for later decisions */
    /* audit (jg_gw_mon_audit.c); loaded after the worker is forked, so the
     * signing key never exists in the worker's memory */
    struct jg_audit_key *audit_key;
    struct jg_audit_log *audit_log;
    char conn_id[37];            /* this connection's UUIDv7 */
    struct jg_gw_mon_rec recs[JG_GW_MAX_RECS];
    size_t n_recs;               /* open ones */
    struct jg_gw_mon_rep rep;    /* what the master was told */
    struct jg_gw_mon_sftp *sftp; /* logged SFTP channels (jg_gw_mon_sftp.c) */
};

/* Runs the monitor of one connection: forks the worker and serves it.
 * Never returns. */
void jg_gw_monitor_run(struct jg_gw_daemon *d, struct jg_gw_conn *c)
    __attribute__((noreturn));
/* Sends the lapse notice to the worker and arms the kill timer. */
void jg_gw_mon_lapse(struct jg_gw_mon *m, const char *msg);
/* Re-decides every live grant (after a policy reload or at a lapse). */
void jg_gw_mon_redecide(struct jg_gw_mon *m);

/* Request handlers: each parses q, acts, and sends its answer. A negative
 * return ends the connection (the worker broke the protocol). */
int jg_gw_mon_auth_pubkey(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_kbdint_start(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_decide(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_connect(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_hostkey(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* The upstream identity as an SSH agent (jg_gw_mon_agent.c). */
int jg_gw_mon_agent(struct jg_gw_mon *m, struct jg_gw_msg *q);
void jg_gw_mon_agent_serve(struct jg_gw_mon *m);
void jg_gw_mon_agent_clear(struct jg_gw_mon *m);
struct jg_gw_agent_key;
/* Loads the upstream identity for signing; a message in err on failure. */
int jg_gw_agent_key_load(const char *path, struct jg_gw_agent_key **out,
                         char *err, size_t errn);
void jg_gw_agent_key_free(struct jg_gw_agent_key *k);
/* Checks that the identity loads, in a child process so that its bytes
 * never reach the caller's memory. */
int jg_gw_agent_key_check(const char *path, char *err, size_t errn);
/* The target of an active grant that may log in to an ssh target, or
 * NULL (jg_gw_mon_route.c). */
const struct jg_target *jg_gw_mon_grant_target(struct jg_gw_mon *m,
                                               uint32_t id,
                                               struct jg_gw_grant **gout);
/* Refusals and target failures (jg_gw_mon_refuse.c). */
/* The error class of a failed jg_gw_connect() that returned r with errno
 * err (one of JG_GW_TARGET_ERRORS). */
const char *jg_gw_connect_error(int r, int err);
/* A forward refused before any decision (host is not a target, or port is
 * not its port): a policy.deny event, a log line, a denial counted. host is
 * escaped for logs. */
void jg_gw_mon_forward_refused(struct jg_gw_mon *m, unsigned action,
                               const char *host, uint32_t port,
                               const char *reason);
/* A connection to target t for action failed: a target.error event with
 * error (one of JG_GW_TARGET_ERRORS) and reason, a log line, a count. */
void jg_gw_mon_target_error(struct jg_gw_mon *m, const struct jg_target *t,
                            unsigned action, const char *error,
                            const char *reason);
/* The grant called id, or NULL when there is none (jg_gw_mon_route.c). */
struct jg_gw_grant *jg_gw_mon_grant(struct jg_gw_mon *m, uint32_t id);
/* Frees grant id when its channel is over (ended or failed) and no
 * recording or SFTP log of the connection refers to it. */
void jg_gw_mon_grant_release(struct jg_gw_mon *m, uint32_t id);
int jg_gw_mon_targets(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_forward(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_rec_open(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_rec_data(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_rec_resize(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_rec_exit(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_chan_end(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* Opens the event log and loads the signing key (in the monitor, after the
 * worker is forked). Failures are logged; recording then follows
 * audit.on_failure. */
void jg_gw_mon_audit_init(struct jg_gw_mon *m);
/* Appends one event of this connection (NULL fields are omitted). extra is
 * borrowed. */
void jg_gw_mon_event(struct jg_gw_mon *m, const char *type,
                     const char *session, const char *user, const char *target,
                     const char *login, const char *action, const char *rule,
                     const char *reason, json_t *extra);
/* About once a second, and after each burst: blocks and checkpoints of
 * open recordings. */
void jg_gw_mon_audit_tick(struct jg_gw_mon *m);
/* True while a recording holds records not yet handed to its writer (the
 * monitor then ticks within JG_AUDIT_REC_FLUSH_US). */
bool jg_gw_mon_audit_waiting(const struct jg_gw_mon *m);
/* Final seals of every open recording and of the event log. */
void jg_gw_mon_audit_finish(struct jg_gw_mon *m);
/* Checks audit.dir and audit.signing_key at start-up and -t. */
int jg_gw_audit_check(const struct jg_config *cfg, struct jg_diags *diags);
/* Marks the connection authenticated (tells the master). */
void jg_gw_mon_authenticated(struct jg_gw_mon *m);

/* PAM keyboard-interactive (jg_gw_mon_pam.c): runs the whole PAM
 * conversation with the worker for m->user. *ok is true on success. */
int jg_gw_mon_pam(struct jg_gw_mon *m, bool *ok);

/* Known hosts (jg_gw_knownhosts.c). Checks the key of host:port against
 * the file. Returns 0 when it matches, JG_ERR_NOTFOUND when the host is
 * not in the file, JG_ERR_DENIED when it is with other keys; then known
 * (caller frees) names the fingerprints found. */
int jg_gw_knownhosts_check(const char *file, const char *host, uint16_t port,
                           const ssh_key key, char **known);
/* "SHA256:..." of key into buf. */
void jg_gw_fingerprint(const ssh_key key, char *buf, size_t n);

/* Networking (jg_gw_net.c). */
/* A listening socket for "host:port"; *fd on success. */
int jg_gw_listen(const char *hostport, int *fd);
/* Connects to host:port within timeout_s seconds; *fd on success, else a
 * message in err and JG_ERR_NOTFOUND (the name does not resolve) or
 * JG_ERR_IO with errno saying why (ETIMEDOUT at the time-out). */
int jg_gw_connect(const char *host, uint16_t port, int timeout_s, int *fd,
                  char *err, size_t errn);

/* ---- login names (jg_gw_login.c) -------------------------------------- */

struct jg_gw_login {
    char user[64];     /* policy user name */
    char target[128];  /* "" when none was named */
    char login[64];    /* "" when none was named */
    bool bad_target;   /* a target part was given but is not a valid name */
};

/* Splits "alice", "alice:web-1" or "alice:deploy@web-1". Returns 0, or
 * JG_ERR_INVALID when the user part is not a valid user name (then the
 * connection is treated as an unknown user). */
int jg_gw_login_parse(const char *s, struct jg_gw_login *out);
bool jg_gw_valid_user(const char *s);
bool jg_gw_valid_target(const char *s);
/* Copies s into buf with control and non-ASCII bytes as \xNN, for logs;
 * truncates. */
void jg_gw_escape(const char *s, char *buf, size_t n);

/* ---- the worker (jg_gw_worker.c and friends) -------------------------- */

/* A relay buffer (jg_gw_buf.c): data[off, off+len) of cap bytes; NULL
 * until first used. */
#define JG_GW_BUF_INIT (64u * 1024)
#define JG_GW_BUF_MAX (4u * 1024 * 1024)
struct jg_gw_buf {
    size_t off, len, cap;
    uint8_t *data;
};

/* Free space after the data (allocating or compacting it first). */
size_t jg_gw_buf_room(struct jg_gw_buf *b);
/* Makes room for n more bytes, growing up to JG_GW_BUF_MAX; false when
 * they cannot fit before some data is consumed. */
bool jg_gw_buf_reserve(struct jg_gw_buf *b, size_t n);
uint8_t *jg_gw_buf_tail(struct jg_gw_buf *b);
/* Appends what fits of p; returns how much. */
size_t jg_gw_buf_put(struct jg_gw_buf *b, const void *p, size_t n);
void jg_gw_buf_consumed(struct jg_gw_buf *b, size_t n);
void jg_gw_buf_clear(struct jg_gw_buf *b);
void jg_gw_buf_free(struct jg_gw_buf *b);

enum jg_gw_chan_kind { JG_GW_CH_SESSION, JG_GW_CH_FORWARD };

struct jg_gw_upstream;
struct jg_audit_sftp;
struct jg_gw_menu;

struct jg_gw_chan {
    struct jg_gw_chan *next;
    struct jg_gw_wk *w;
    enum jg_gw_chan_kind kind;
    ssh_channel c;                 /* client side */
    ssh_channel u;                 /* upstream side (session) or NULL */
    struct jg_gw_upstream *up;     /* borrowed */
    int fd;                        /* forward socket or -1 */
    struct ssh_channel_callbacks_struct ccb, ucb;
    struct jg_gw_buf c2u, u2c, u2c_err;
    /* session set-up */
    bool pty;
    char term[64];
    uint32_t cols, rows, pxw, pxh;
    char *env[16];                 /* "NAME=value", allowlisted */
    size_t n_env;
    bool started;                  /* shell/exec/subsystem running */
    unsigned action;
    char target[128];
    /* ends */
    bool c_eof_sent, u_eof_sent, fd_eof, fd_wr_shut;
    bool c_closed;                 /* the client closed the channel */
    bool exit_status_set, exit_signal_set, status_sent;
    int exit_status;
    char exit_signal[32];
    bool core;
    bool local_only;               /* message-only session (list, denial) */
    uint64_t bytes_in, bytes_out;  /* counted at the tap */
    uint32_t id;                   /* unique within the connection */
    bool rec;                      /* the monitor records it */
    bool record_input;
    bool dead;
    /* reports to the monitor (jg_gw_wk_report.c) */
    bool granted;                  /* grant holds the monitor's grant id */
    uint32_t grant;
    uint8_t rep_state;             /* JG_GW_CHAN_* last reported */
    uint64_t rep_in, rep_out;      /* bytes reported so far */
    struct jg_audit_sftp *sftp;    /* SFTP parser (jg_gw_wk_sftp.c) or NULL */
    int64_t opened_us;             /* forward: when it opened */
    struct jg_gw_menu *menu;       /* the target menu while it is shown */
};

struct jg_gw_upstream {
    struct jg_gw_upstream *next;
    ssh_session s;
    ssh_event ev;
    char target[128];
    char login[64];
    bool dead;
};

struct jg_gw_wk {
    struct jg_gw_daemon *d;
    ssh_session s;
    ssh_event ev;
    int mon;                       /* socket to the monitor */
    char peer[64];
    struct jg_gw_login name;       /* parsed from the first user name */
    char raw_user[JG_GW_LOGIN_MAX];
    bool name_ok;
    bool authed, partial, kbdint_active;
    bool too_many;                 /* JG_GW_MAX_TRIES failures reached */
    bool monitor_gone;             /* the monitor broke off: end now */
    bool pending;                  /* libssh buffered channel data, EOF or
                                      close since the pump began */
    int failures;
    char *lapse;                   /* set by a lapse notice */
    bool lapse_done;
    struct jg_gw_chan *chans;
    uint32_t next_chan_id;
    struct jg_gw_upstream *ups;
    struct ssh_server_callbacks_struct scb;
    int64_t rep_at_ms;             /* last byte report (jg_gw_wk_report.c) */
    /* idle timeout (jg_gw_worker.c) */
    uint64_t io_seen;              /* bytes counted at the last look */
    uint64_t io_gone;              /* bytes of channels already freed */
    uint64_t io_menu;              /* bytes the menus read and wrote */
    int64_t idle_since;            /* monotonic seconds of the last byte */
    const char *end_reason;        /* static; for session.end, or NULL */
};

/* Runs one SSH connection as the worker. Never returns. */
void jg_gw_worker_run(struct jg_gw_daemon *d, int client_fd, int mon_fd,
                      const char *peer) __attribute__((noreturn));

/* Drops to the unprivileged user in the empty chroot (jg_gw_privsep.c). */
int jg_gw_drop_privileges(uid_t uid, gid_t gid);
/* Resource limits and the seccomp allowlist of the worker
 * (jg_gw_seccomp.c); after the drop, before any client byte. */
int jg_gw_sandbox(void);
/* Makes JG_GW_CHROOT if missing and checks it is root-owned and empty. */
int jg_gw_prepare_chroot(void);

/* Sends req to the monitor and waits for the answer of type want (or one of
 * the keyboard-interactive answers when want is 0). Lapse notices that
 * arrive meanwhile are kept in w->lapse. (jg_gw_wk_ipc.c) */
int jg_gw_wk_call(struct jg_gw_wk *w, const struct jg_gw_msg *req,
                  struct jg_gw_msg *ans, uint8_t want);
/* Sends a request that has no answer; on failure marks the monitor gone. */
void jg_gw_wk_send(struct jg_gw_wk *w, const struct jg_gw_msg *req);
/* The same with n bytes of p as its last field (jg_gw_msg_send_bytes). */
void jg_gw_wk_send_bytes(struct jg_gw_wk *w, const struct jg_gw_msg *req,
                         const void *p, size_t n);
/* Reads pending notices from the monitor without blocking. */
int jg_gw_wk_poll_monitor(struct jg_gw_wk *w);

/* Authentication (jg_gw_wk_auth.c). */
void jg_gw_wk_auth_setup(struct jg_gw_wk *w);
int jg_gw_wk_auth_kbdint(struct jg_gw_wk *w, ssh_message msg);

/* Channels (jg_gw_wk_chan.c): the message callback for channel opens and
 * the client channel requests. */
int jg_gw_wk_message(ssh_session s, ssh_message msg, void *arg);
void jg_gw_chan_free(struct jg_gw_chan *ch);
/* Writes text to the client channel's stderr (best effort). */
void jg_gw_chan_say(struct jg_gw_chan *ch, const char *text);

/* Upstream leg (jg_gw_upstream.c): the connected, authenticated session to
 * the target of grant id for login, made or reused. On failure a message
 * for the user is in err. */
int jg_gw_upstream_get(struct jg_gw_wk *w, uint32_t grant, const char *target,
                       const char *login, struct jg_gw_upstream **out,
                       char *err, size_t errn);
void jg_gw_upstream_free(struct jg_gw_upstream *u);

/* The byte path (jg_gw_relay.c): moves what it can between the two ends of
 * ch, respecting buffers and windows, and handles EOF and close. Returns
 * true when it moved anything or changed state. */
bool jg_gw_relay_pump(struct jg_gw_chan *ch);
/* What libssh holds unread on one stream of c (0 at EOF, -1 on error). */
int jg_gw_relay_held(ssh_channel c, int is_stderr);
/* Reads and drops everything held on that stream; true if there was any. */
bool jg_gw_relay_discard(ssh_channel c, int is_stderr);
/* Every byte that crosses the gateway passes here; dir is "i" (client to
 * target), "o" (target to client) or "e" (target stderr). The audit
 * recorder attaches here. False when the bytes must not pass: the SFTP
 * audit of the channel lost the stream and the channel is being ended. */
bool jg_gw_relay_tap(struct jg_gw_chan *ch, const char *dir,
                     const uint8_t *data, size_t len);

/* ---- SFTP audit (jg_gw_wk_sftp.c, jg_gw_mon_sftp.c) -------------------
 * The worker parses the SFTP packets it relays on sftp channels (it never
 * alters them) and sends each parsed event to the monitor, which checks it
 * and appends it to the event log as sftp.* with the session, user, target
 * and login of the channel. The request types live outside enum
 * jg_gw_type (answers are type | JG_GW_ANS as there). */

enum jg_gw_sftp_type {
    JG_GW_REQ_SFTP_START = 0x40, /* u32 chan, u32 grant id; answer u8 ok,
                                    s session id ("": not logged) or why
                                    not */
    JG_GW_REQ_SFTP_EVENT,        /* u32 chan, u8 kind, u8 has path, s path,
                                    u8 has to, s to, u8 has request,
                                    s request, u8 truncated,
                                    u32 pflags, u32 attr flags, u64 size,
                                    u32 uid, u32 gid, u32 perm, u32 atime,
                                    u32 mtime, u64 bytes read, u64 bytes
                                    written, u64 length, u32 status
                                    (int32), s error (no answer) */
    JG_GW_REQ_SFTP_END,          /* u32 chan, u64 bytes in, u64 bytes out,
                                    u64 dropped requests, u64 dropped
                                    handles (no answer) */
};

#define JG_GW_MAX_SFTP 64  /* logged SFTP channels per connection */
/* Longest path in an event: JG_AUDIT_SFTP_PATH_MAX bytes, each of which
 * may have become a 3-byte U+FFFD. */
#define JG_GW_SFTP_PATH_MAX (3 * 4096)
/* Longest extended request name in an event, likewise. */
#define JG_GW_SFTP_NAME_MAX (3 * 256)

/* One logged SFTP channel, in the monitor. */
struct jg_gw_mon_sftp {
    bool used;
    uint32_t chan;
    uint32_t grant;
    char id[37];                 /* the session's UUIDv7 */
    int64_t start_us;
};

/* Worker: asks the monitor to log sftp channel ch (of grant) and, when it
 * does, attaches a parser to ch. 0, or JG_ERR_DENIED with a message for
 * the user in err when audit.on_failure refuses the session. */
int jg_gw_wk_sftp_open(struct jg_gw_chan *ch, uint32_t grant, char *err,
                       size_t errn);
/* Worker: bytes that cross ch (jg_gw_relay_tap's dir). False once the
 * parser cannot follow the stream: then these bytes and all later ones
 * must not pass, and ch is set to end locally (stderr message, exit
 * status 1, close; the target's channel closed). */
bool jg_gw_wk_sftp_tap(struct jg_gw_chan *ch, const char *dir,
                       const uint8_t *data, size_t len);
/* Worker: ch ended; what the parser still holds is flushed to the monitor,
 * then the end, and the parser is freed. */
void jg_gw_wk_sftp_end(struct jg_gw_wk *w, struct jg_gw_chan *ch);

int jg_gw_mon_sftp_start(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_sftp_event(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_sftp_end(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* Monitor exit: session.end for the channels still open. */
void jg_gw_mon_sftp_finish(struct jg_gw_mon *m);
/* Requests without an answer that the monitor still serves after the
 * worker is gone. */
bool jg_gw_mon_sftp_drainable(uint8_t type);
/* ---- the target menu, breaks and the idle timeout ----------------------
 * (jg_gw_menu.c: keys and screen, pure; jg_gw_wk_menu.c: the channel side)
 *
 * JG_GW_REQ_TARGETS answers, after the text list, u32 n and n x (s target,
 * s login): the targets and logins the user may open a shell on now, in
 * policy order (jg_gw_mon_menu.c). */

#define JG_GW_MENU_MAX 512          /* menu entries at most */
#define JG_GW_MENU_EXIT_QUIT 1      /* exit status after q or Ctrl-D */
#define JG_GW_MENU_EXIT_INTR 130    /* after Ctrl-C, as a shell's 128+SIGINT */
#define JG_GW_BREAK_MS 1000         /* break length passed on (OpenSSH's ~B) */

enum jg_gw_key {
    JG_GW_KEY_NONE,      /* nothing complete yet, or a byte to ignore */
    JG_GW_KEY_UP,        /* Up, k, Ctrl-P */
    JG_GW_KEY_DOWN,      /* Down, j, Ctrl-N */
    JG_GW_KEY_PGUP,
    JG_GW_KEY_PGDN,
    JG_GW_KEY_HOME,
    JG_GW_KEY_END,
    JG_GW_KEY_ENTER,     /* CR, LF or CR LF */
    JG_GW_KEY_DIGIT,
    JG_GW_KEY_BACKSPACE, /* DEL or Ctrl-H */
    JG_GW_KEY_QUIT,      /* q */
    JG_GW_KEY_INTR,      /* Ctrl-C */
    JG_GW_KEY_EOF,       /* Ctrl-D */
};

/* Decoder state between reads: an escape sequence may arrive split. */
struct jg_gw_keydec {
    uint8_t seq[16];     /* ESC ... so far */
    size_t len;
    bool after_cr;       /* a LF right after CR is the same Enter */
};

/* Feeds one byte from the client to the decoder; returns the key it
 * completes, or JG_GW_KEY_NONE (inside an escape sequence, the LF of CR LF,
 * unknown sequences and other bytes). *digit is set for JG_GW_KEY_DIGIT. */
enum jg_gw_key jg_gw_key_feed(struct jg_gw_keydec *d, uint8_t c, int *digit);

struct jg_gw_menu_entry {
    char *target;        /* owned */
    char *login;         /* owned */
};

enum jg_gw_menu_res {
    JG_GW_MENU_MORE,     /* keep showing */
    JG_GW_MENU_PICK,     /* entry sel was chosen */
    JG_GW_MENU_QUIT,     /* q or Ctrl-D */
    JG_GW_MENU_INTR,     /* Ctrl-C */
};

struct jg_gw_menu {
    struct jg_gw_menu_entry *v;   /* owned */
    size_t n;
    size_t sel, top;              /* chosen and first shown entry */
    char num[8];                  /* digits typed so far */
    char note[96];                /* one line of feedback, or "" */
    char user[64];
    unsigned cols, rows;          /* the client's terminal (0: unknown) */
    struct jg_gw_keydec dec;
    bool dirty;                   /* to be drawn again (jg_gw_wk_menu.c) */
};

/* Takes ownership of v[0..n). Caller frees with jg_gw_menu_free(). */
struct jg_gw_menu *jg_gw_menu_new(const char *user,
                                  struct jg_gw_menu_entry *v, size_t n);
void jg_gw_menu_free(struct jg_gw_menu *m);
/* Applies one key. */
enum jg_gw_menu_res jg_gw_menu_key(struct jg_gw_menu *m, enum jg_gw_key k,
                                   int digit);
/* The terminal changed size. */
void jg_gw_menu_resize(struct jg_gw_menu *m, unsigned cols, unsigned rows);
/* The whole screen (clear, header, the entries that fit, a status line),
 * names escaped; caller frees *out. */
void jg_gw_menu_render(struct jg_gw_menu *m, char **out, size_t *len);

/* The channel side (jg_gw_wk_menu.c). Shows the menu on a pty shell
 * channel that named no target (or ends the channel with a message when
 * nothing is allowed). */
void jg_gw_wk_menu_open(struct jg_gw_chan *ch);
/* Reads keys, redraws, and on a pick connects like USER:LOGIN@TARGET.
 * Returns true when it moved anything. */
bool jg_gw_wk_menu_pump(struct jg_gw_chan *ch);

/* Connects session channel ch (started, action set) to target as login
 * ("": the default) for command (exec) - the decision, the upstream leg,
 * the recording; on failure the channel ends with the reason
 * (jg_gw_wk_chan.c). */
void jg_gw_chan_connect(struct jg_gw_chan *ch, const char *command,
                        const char *target, const char *login);
/* Ends a session channel locally with text and exit status. */
void jg_gw_chan_local_end(struct jg_gw_chan *ch, bool to_stdout,
                          const char *text, int status);

/* The menu entries of the answer to JG_GW_REQ_TARGETS (jg_gw_mon_menu.c). */
void jg_gw_mon_menu_entries(struct jg_gw_mon *m, struct jg_gw_msg *a);

/* Monotonic seconds, for the idle timeout. */
int64_t jg_gw_mono(void);

#endif
