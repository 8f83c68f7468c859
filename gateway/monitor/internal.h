/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/internal.h - the monitor's own declarations, shared by
 * the files of gateway/monitor/ only: the per-connection state (grants,
 * recordings, SFTP logs, the upstream agent), the request handlers that
 * proto/proto.h lists, and the reports to the master.
 *
 * Files, bottom up (a file calls only files before it in this list):
 * grant.c, report.c, lapse.c, event.c, wire.c, cert.c, knownhosts.c,
 * hostcert.c, pam.c, connect.c,
 * menu.c, refuse.c, agent.c, auth.c, record.c, route.c, sftp.c, db.c, and
 * monitor.c, the loop and the request table
 * (make check-rooms fails on any circle between files). */
#ifndef JG_GW_MONITOR_INTERNAL_H
#define JG_GW_MONITOR_INTERNAL_H

#ifndef JG_GW_ROOM_MONITOR
#error "gateway/monitor/internal.h is the monitor's own"
#endif

#include <openssl/types.h>

#include "gateway/monitor/monitor.h"

#define JG_GW_MAX_RECS 64          /* open recordings per connection */
#define JG_GW_MAX_SFTP 64          /* logged SFTP channels per connection */

struct jg_gw_mon;
struct jg_gw_mon_rec;

/* ---- reports to the master (report.c); best effort, never blocking ---- */

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
/* Worker requests JG_GW_REQ_CHAN_STATE and JG_GW_REQ_BYTES. */
int jg_gw_mon_chan_state(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_bytes(struct jg_gw_mon *m, struct jg_gw_msg *q);
struct jg_gw_mon_rec;
/* The bytes of a recorded channel as far as its monitor knows them: what
 * it recorded or the worker reported, whichever is more. */
void jg_gw_mon_rec_bytes(const struct jg_gw_mon_rec *x, uint64_t *in,
                         uint64_t *out);

/* ---- the connection's state ------------------------------------------- */

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
    /* the certificate of this channel's upstream login (serial 0: the
     * static identity), chosen when the session starts */
    uint64_t cert_serial;
    char cert_key_id[200];
    bool cert_pty;
    /* a forward's session id in the audit (forward.open/close), or "" */
    char fwd_session[37];
    /* a MySQL-aware forward (db.c) */
    bool db;
    unsigned db_auths;   /* DB_AUTH requests served */
    bool db_ended;
    uint64_t db_statements;
};

struct jg_audit_key;
struct jg_audit_log;
struct jg_audit_rec;

/* One open recording of a session channel (record.c). */
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
    struct jg_gw_tap *tap;       /* recorded bytes from the worker */
    uint64_t tap_pos;            /* read up to here (ours, not the ring's) */
    pid_t worker;
    unsigned state;
    char user[64];               /* proven user ("" before) */
    int failures;
    int64_t grace_deadline;      /* until authenticated */
    int64_t kill_deadline;       /* after a lapse notice; 0 none */
    struct jg_gw_grant grants[JG_GW_MAX_GRANTS];
    uint32_t next_grant;         /* the id of the next grant */
    /* the upstream identity and the user CA, used only here (agent.c);
     * agent_use is what the agent socket offers: the identity, or this
     * login's certificate and key (agent_cert, freed after its login) */
    struct jg_gw_agent_key *agent_key, *agent_ca, *agent_cert;
    struct jg_gw_agent_key *agent_use;
    int agent_fd;                /* the agent socket of the worker, or -1 */
    char agent_login[128];       /* the login its one signature is for */
    /* the target host key the monitor last accepted (route.c), and for
     * which grant: a host-bound login signs it, and must sign this one */
    uint8_t *up_hostkey;
    size_t up_hostkey_len;
    uint32_t up_hostkey_grant;
    uint8_t *agent_hostkey;      /* the login's target host key, or NULL */
    size_t agent_hostkey_len;
    uint64_t agent_serial;       /* of its certificate, for the log */
    char agent_key_id[200];
    uint8_t agent_buf[16384];
    size_t agent_len;
    bool pam_open;               /* a PAM transaction is in progress */
    bool lapsed;                 /* the session was told to end */
    char lapse_text[160];        /* why, for later decisions */
    /* audit (event.c, record.c); loaded after the worker is forked, so the
     * signing key never exists in the worker's memory */
    struct jg_audit_key *audit_key;
    struct jg_audit_log *audit_log;
    char conn_id[37];            /* this connection's UUIDv7 */
    struct jg_gw_mon_rec recs[JG_GW_MAX_RECS];
    size_t n_recs;               /* open ones */
    struct jg_gw_mon_rep rep;    /* what the master was told */
    struct jg_gw_mon_sftp *sftp; /* logged SFTP channels (sftp.c) */
};

/* Lapses (lapse.c). Sends the lapse notice to the worker and arms the kill
 * timer. */
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
/* The upstream identity as an SSH agent (agent.c). */
int jg_gw_mon_agent(struct jg_gw_mon *m, struct jg_gw_msg *q);
void jg_gw_mon_agent_serve(struct jg_gw_mon *m);
void jg_gw_mon_agent_clear(struct jg_gw_mon *m);
/* JG_GW_REQ_LOGIN_FAILED: a target.error event saying why. */
int jg_gw_mon_login_failed(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* JG_GW_REQ_CHAN_REFUSED: a policy.deny event for a channel the worker
 * refused by its cap (refuse.c). */
int jg_gw_mon_chan_refused(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* A key the agent signs with. */
struct jg_gw_agent_key {
    EVP_PKEY *pkey;
    enum ssh_keytypes_e type;
    uint8_t *blob;              /* public key blob, or the certificate */
    size_t blob_len;
    bool cert;                  /* blob is an Ed25519 certificate */
};
/* Loads the upstream identity (what: "upstream.identity") or the user CA
 * ("upstream.ca": Ed25519, readable by its owner only) for signing; a
 * message naming the file in err on failure. */
int jg_gw_agent_key_load(const char *path, const char *what,
                         struct jg_gw_agent_key **out, char *err, size_t errn);
/* Does grant g's target log in with a certificate? */
bool jg_gw_mon_uses_cert(const struct jg_gw_mon *m, const struct jg_gw_grant *g);
/* At session.start: when g's target logs in with a certificate, picks its
 * serial and key id (jumpgate:USER:SESSION) and adds them to extra (if
 * not NULL) as cert_serial and cert_key_id; pty: the channel asked for a
 * terminal. */
void jg_gw_mon_agent_plan(struct jg_gw_mon *m, struct jg_gw_grant *g,
                          const char *session, bool pty, json_t *extra);
void jg_gw_agent_key_free(struct jg_gw_agent_key *k);
/* The target of an active grant that may log in to an ssh target, or
 * NULL. */
const struct jg_target *jg_gw_mon_grant_target(struct jg_gw_mon *m,
                                               uint32_t id,
                                               struct jg_gw_grant **gout);
/* Refusals and target failures (refuse.c). */
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
/* Grants (grant.c). The grant called id, or NULL when there is none. */
struct jg_gw_grant *jg_gw_mon_grant(struct jg_gw_mon *m, uint32_t id);
/* Frees grant id when its channel is over (ended or failed) and no
 * recording or SFTP log of the connection refers to it. */
void jg_gw_mon_grant_release(struct jg_gw_mon *m, uint32_t id);
int jg_gw_mon_targets(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_forward(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_rec_open(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* The REC_TAP nudge; the ring itself is read by jg_gw_mon_tap_drain(),
 * before every request and whenever the monitor wakes. */
int jg_gw_mon_rec_tap(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* Reads the tap ring (at most a ring's worth) into the recordings;
 * JG_ERR_INVALID when the worker broke its rules (the connection ends). */
int jg_gw_mon_tap_drain(struct jg_gw_mon *m);
int jg_gw_mon_rec_exit(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* The MySQL-aware tunnel (db.c). */
int jg_gw_mon_db_ca(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_db_auth(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_db_event(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_db_end(struct jg_gw_mon *m, struct jg_gw_msg *q);
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
/* At the monitor's exit: the recordings still open end with what is known
 * of them (record.c); then the event log's last seal (event.c). */
void jg_gw_mon_rec_finish(struct jg_gw_mon *m);
void jg_gw_mon_event_close(struct jg_gw_mon *m);

/* PAM keyboard-interactive (pam.c): runs the whole PAM
 * conversation with the worker for m->user. *ok is true on success. */
int jg_gw_mon_pam(struct jg_gw_mon *m, bool *ok);

/* Known hosts (knownhosts.c). Checks the key of host:port against
 * the file. Returns 0 when it matches, JG_ERR_NOTFOUND when the host is
 * not in the file, JG_ERR_DENIED when it is with other keys; then known
 * (caller frees) names the fingerprints found. */
int jg_gw_knownhosts_check(const char *file, const char *host, uint16_t port,
                           const ssh_key key, char **known);
struct jg_gw_cert;
/* Does a @cert-authority line of the file match host:port? */
bool jg_gw_knownhosts_has_ca(const char *file, const char *host,
                             uint16_t port);
/* A host certificate c (parsed from blob, signature checked) of host:port:
 * 0 when a @cert-authority line for the host names its CA, it is a host
 * certificate, valid at now, naming host (as OpenSSH's client wants: the
 * target's address, not its policy name, which a certificate made for
 * another host could carry), with no critical options and nothing of it
 * revoked (CA, key or certificate). Otherwise why, and JG_ERR_DENIED when
 * something of it is revoked, JG_ERR_NOTFOUND when it is only not vouched
 * for (or the error of reading the file). */
int jg_gw_knownhosts_cert_ok(const char *file, const char *host,
                             uint16_t port, const struct jg_gw_cert *c, const uint8_t *blob,
                             size_t len, int64_t now, char *why, size_t whyn);
/* "SHA256:..." of key into buf. */
void jg_gw_fingerprint(const ssh_key key, char *buf, size_t n);

/* The SSH wire encoding (wire.c). A reader remembers its first overrun in
 * bad and then returns zeros and NULLs. */
struct jg_gw_rd {
    const uint8_t *p;
    size_t n;
    bool bad;
};
struct jg_gw_wr {
    uint8_t *p;
    size_t n, cap;
};
uint8_t jg_gw_rd_u8(struct jg_gw_rd *r);
uint32_t jg_gw_rd_u32(struct jg_gw_rd *r);
uint64_t jg_gw_rd_u64(struct jg_gw_rd *r);
/* A string: a borrowed view of its bytes and their count. */
const uint8_t *jg_gw_rd_str(struct jg_gw_rd *r, size_t *len);
bool jg_gw_rd_str_is(struct jg_gw_rd *r, const void *want, size_t wlen);
void jg_gw_wr_put(struct jg_gw_wr *w, const void *p, size_t n);
void jg_gw_wr_u32(struct jg_gw_wr *w, uint32_t v);
void jg_gw_wr_u64(struct jg_gw_wr *w, uint64_t v);
void jg_gw_wr_str(struct jg_gw_wr *w, const void *p, size_t n);
void jg_gw_wr_cstr(struct jg_gw_wr *w, const char *s);
/* An mpint from unsigned big-endian bytes. */
void jg_gw_wr_mpint(struct jg_gw_wr *w, const uint8_t *p, size_t n);
/* Decodes n bytes of base64 (no line breaks) into out (room for n bytes):
 * the length, or -1. */
int jg_gw_unb64(const uint8_t *in, size_t n, uint8_t *out);
/* Base64 of n bytes (caller frees). */
char *jg_gw_b64(const uint8_t *p, size_t n);

/* OpenSSH certificates (cert.c). */
#define JG_GW_CERT_USER 1
#define JG_GW_CERT_HOST 2
#define JG_GW_CERT_SUFFIX "-cert-v01@openssh.com"   /* of certificate types */
#define JG_GW_ED25519_CERT "ssh-ed25519" JG_GW_CERT_SUFFIX
struct jg_gw_cert_spec {
    uint64_t serial;
    const char *key_id;
    const char *principal;
    uint64_t valid_after, valid_before;   /* seconds since the epoch */
    const char *source_address;           /* "CIDR,..." or NULL */
    bool permit_pty;
};
/* An ssh-ed25519-cert-v01@openssh.com user certificate for the Ed25519
 * public key pub, signed by the Ed25519 key ca whose public blob is
 * ca_blob; *out gets the certificate blob (caller frees out->p). */
int jg_gw_cert_make(EVP_PKEY *ca, const uint8_t *ca_blob, size_t ca_len,
                    const uint8_t pub[32], const struct jg_gw_cert_spec *s,
                    struct jg_gw_wr *out);
/* A parsed certificate. principals and ca point into the parsed blob. */
struct jg_gw_cert {
    char key_type[48];           /* of the certified key: "ssh-ed25519" */
    struct jg_gw_wr plain;       /* the certified key as a plain key blob */
    uint64_t serial;
    uint32_t type;               /* JG_GW_CERT_USER or _HOST */
    char key_id[256];            /* as shown: escaped, cut to fit */
    const uint8_t *principals;   /* packed strings */
    size_t principals_len;
    uint64_t valid_after, valid_before;
    size_t n_critical;           /* bytes of critical options */
    const uint8_t *ca;           /* the signature key's blob */
    size_t ca_len;
};
/* Parses an OpenSSH certificate of an Ed25519, ECDSA or RSA key and
 * checks its CA's signature (Ed25519, ECDSA, rsa-sha2-256/512); on failure
 * JG_ERR_INVALID and why. jg_gw_cert_clear() frees it. */
int jg_gw_cert_parse(const uint8_t *blob, size_t len, struct jg_gw_cert *c,
                     char *why, size_t whyn);
void jg_gw_cert_clear(struct jg_gw_cert *c);
/* Does the certificate list name as a principal? */
bool jg_gw_cert_names(const struct jg_gw_cert *c, const char *name);
/* Does sig (string alg, string signature) by the key in key (a public key
 * blob) verify over data? */
bool jg_gw_sig_verify(const uint8_t *key, size_t key_len, const uint8_t *sig,
                      size_t sig_len, const uint8_t *data, size_t n);

/* Host certificates (hostcert.c). Is type a certificate's key type? */
bool jg_gw_hostcert_is_cert(const char *type);
/* The host certificate blob (len bytes) that the target showed in the key
 * exchange, which proved it holds the certified key: 0 when
 * jg_gw_knownhosts_cert_ok() accepts it. Otherwise why, and
 * JG_ERR_DENIED when it must be refused (not a valid certificate, or
 * something of it revoked), JG_ERR_NOTFOUND when no trusted CA vouches for
 * it; then *plain (caller frees) is the certified key, to be checked as a
 * plain host key, as OpenSSH's client does. */
int jg_gw_hostcert_check(const char *file, const char *host, uint16_t port,
                         const uint8_t *blob, size_t len, ssh_key *plain,
                         char *why, size_t whyn);

/* Target connections (connect.c). */
/* Connects to host:port within timeout_s seconds; *fd on success, else a
 * message in err and JG_ERR_NOTFOUND (the name does not resolve) or
 * JG_ERR_IO with errno saying why (ETIMEDOUT at the time-out). */
int jg_gw_connect(const char *host, uint16_t port, int timeout_s, int *fd,
                  char *err, size_t errn);

/* ---- the SFTP audit (sftp.c) ----------------------------------------- */

/* One logged SFTP channel, in the monitor. */
struct jg_gw_mon_sftp {
    bool used;
    uint32_t chan;
    uint32_t grant;
    char id[37];                 /* the session's UUIDv7 */
    int64_t start_us;
};


int jg_gw_mon_sftp_start(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_sftp_event(struct jg_gw_mon *m, struct jg_gw_msg *q);
int jg_gw_mon_sftp_end(struct jg_gw_mon *m, struct jg_gw_msg *q);
/* Monitor exit: session.end for the channels still open. */
void jg_gw_mon_sftp_finish(struct jg_gw_mon *m);
/* Requests without an answer that the monitor still serves after the
 * worker is gone. */
bool jg_gw_mon_sftp_drainable(uint8_t type);

/* ---- the target menu's entries (menu.c) ------------------------------- */

/* Appends to a, the answer to JG_GW_REQ_TARGETS, u32 n and n x (s target,
 * s login): the targets and logins m->user may open a shell on now. */
void jg_gw_mon_menu_entries(struct jg_gw_mon *m, struct jg_gw_msg *a);

#endif
