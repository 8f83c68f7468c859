/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/proto/proto.h - the privilege boundary of jumpgated: every
 * message between a connection's worker (unprivileged, chrooted, under
 * seccomp, facing the client) and its monitor (root), and what the monitor
 * checks before it answers. Reviewing this file and the monitor's request
 * table (gateway/monitor/monitor.c) is reviewing the boundary.
 *
 * Transport: one SOCK_SEQPACKET socketpair per connection, made by the
 * monitor before it forks the worker. A message is {u8 type, payload} of
 * at most JG_GW_MSG_MAX bytes; integers are big-endian, strings are u32
 * length + bytes (no NUL inside, bounded by the receiver), "b" is u32
 * length + bytes that may hold NULs. A descriptor may ride along
 * (SCM_RIGHTS), only monitor -> worker.
 *
 * The worker asks, the monitor acts. The worker never holds the upstream
 * key, the audit signing key, the policy's secrets or a socket it did not
 * get from the monitor; it cannot open files or connect anywhere (seccomp).
 * The monitor treats every request as hostile: lengths and counts are
 * bounded, ids must name its own grants, recordings and SFTP logs, and
 * anything malformed, unknown or sent in the wrong authentication state
 * ends the connection (the monitor kills the worker and closes the
 * session's records).
 *
 * Requests, the state they are allowed in (JG_GW_MS_*), and what the
 * monitor checks:
 *
 *   AUTH_PUBKEY     PREAUTH  the user name is valid and in the policy, not
 *                            expired, the source address is in its from:,
 *                            the key is one of its keys (the same work for
 *                            unknown names); at most JG_GW_MAX_TRIES
 *                            failures. A signed success makes the state
 *                            AUTHED, or PARTIAL when the user needs a
 *                            second factor. libssh in the worker verifies
 *                            the signature; the monitor decides the rest.
 *   KBDINT_START    PARTIAL  runs PAM (pam_unix, pam_oath, ...) for the
 *                            user the key proved; KBDINT_RESPOND is only
 *                            read inside that conversation.
 *   DECIDE          AUTHED   the policy decision for the proven user, its
 *                            source address and now; an allow makes a grant
 *                            (at most JG_GW_MAX_GRANTS live ones) whose id
 *                            the worker quotes in later requests.
 *   CONNECT         AUTHED   the grant is active and its target is an SSH
 *                            target; the monitor makes the TCP connection
 *                            and passes the socket.
 *   HOSTKEY         AUTHED   the target's host key against the known hosts
 *                            file, for the grant's target.
 *   AGENT           AUTHED   the grant is active and may log in: an agent
 *                            socket that signs exactly one SSH user-auth
 *                            request, for the grant's login (the key stays
 *                            in the monitor).
 *   TARGETS         AUTHED   the targets and logins the proven user may
 *                            use now (text list, then JG_GW_MENU_MAX
 *                            entries at most).
 *   FORWARD         AUTHED   the host is a target and the port its port,
 *                            then the decision as DECIDE; the monitor
 *                            connects and passes the socket.
 *   REC_OPEN        AUTHED   the grant exists and is a shell or exec grant,
 *                            the channel id is new, sizes are bounded; the
 *                            answer refuses (with the reason) a lapsed
 *                            grant, a JG_GW_MAX_RECS+1st recording, or no
 *                            recording configured.
 *   REC_TAP         AUTHED   (a nudge: there is new data in the tap ring)
 *                            every record in the ring is read as below.
 *                            No answer.
 *   REC_EXIT, CHAN_END
 *                   AUTHED   the channel is an open recording of this
 *                            connection; sizes bounded. No answer.
 *   CHAN_STATE      AUTHED   the grant exists and moves none -> running or
 *                            failed (channels that log in), running ->
 *                            ended; nothing else. No answer.
 *   BYTES           AUTHED   counts bounded (2^50 per report). No answer.
 *   SFTP_START      AUTHED   the grant exists and is an sftp grant, the
 *                            channel id is new; the answer refuses (with
 *                            the reason) a lapsed grant or a
 *                            JG_GW_MAX_SFTP+1st logged channel.
 *   SFTP_EVENT, SFTP_END
 *                   AUTHED   the channel is a logged SFTP channel; paths
 *                            and names bounded. No answer.
 *   DB_CA           AUTHED   the grant is a forward to a MySQL target with
 *                            auth and tls: {ca}; the monitor opens it.
 *   DB_AUTH         AUTHED   such a grant, at most 3 times (a login and
 *                            its auth switches, one login); the login is
 *                            one the policy gives the user for forwards on
 *                            the target (else a policy.deny event); the
 *                            response is made from the root-only password
 *                            file or an IAM token, in clear only over TLS.
 *   DB_EVENT, DB_END
 *                   AUTHED   such a grant, signed in; kinds, statuses and
 *                            sizes bounded; one DB_END. No answer.
 *
 * Recorded bytes do not travel as messages: the worker writes them into
 * the tap ring, a shared-memory ring per connection (tap.c, below) that
 * the monitor maps before it forks the worker. Each ring record is a
 * channel's output, stderr, input or window size; the monitor copies it
 * out once and then checks it as a request: the channel is an open
 * recording of this connection, the kind is known, the length fits both
 * JG_GW_TAP_REC_MAX and what the worker says it wrote. The worker can
 * scribble on the ring at any time, so the monitor reads each length once,
 * keeps its own read position (never the one in shared memory) and copies
 * the payload before it uses it; anything out of bounds ends the
 * connection. The ring is read before every message is served (so that a
 * channel's end comes after its last output) and whenever the monitor
 * wakes.
 *
 * Requests without an answer that arrive after the worker is gone (the
 * last output of a recording, a channel's end) are still served, and the
 * ring is read to its end, so that the record is complete.
 *
 * The monitor sends, unasked, only JG_GW_NOTE_LAPSE: the session must end
 * (its permission ended, an operator ended it, or the audit cannot be
 * written); the worker tells the user and ends within JG_GW_LAPSE_GRACE
 * seconds, or is killed. */
#ifndef JG_GW_PROTO_H
#define JG_GW_PROTO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define JG_GW_MSG_MAX 32768        /* largest message */
#define JG_GW_MAX_TRIES 6          /* authentication failures per connection */
#define JG_GW_MAX_CHANNELS 64      /* channels open at once per connection */
#define JG_GW_MAX_GRANTS 256       /* permissions held at once per connection
                                      (a closed channel gives its back) */
#define JG_GW_MENU_MAX 512         /* menu entries in a TARGETS answer */
#define JG_GW_LAPSE_GRACE 5        /* seconds between notice and kill */
#define JG_GW_USER_MSG_MAX 511     /* bytes of a refusal text in an answer;
                                      the worker reads it into 512 or more */

/* Authentication states of a connection, as the monitor knows them. */
enum jg_gw_mon_state {
    JG_GW_MS_PREAUTH = 1u << 0,  /* nothing proven yet */
    JG_GW_MS_PARTIAL = 1u << 1,  /* key accepted, keyboard-interactive due */
    JG_GW_MS_AUTHED = 1u << 2,
};

enum jg_gw_type {
    /* worker -> monitor */
    JG_GW_REQ_AUTH_PUBKEY = 1,  /* s user, s keytype, s key b64, u8 signed;
                                   answer u8 ok, u8 second factor due */
    JG_GW_REQ_KBDINT_START,     /* s user */
    JG_GW_REQ_KBDINT_RESPOND,   /* u8 abort, u32 n, n x s answer */
    JG_GW_REQ_DECIDE,           /* s target, u32 action, s login ("": default);
                                   answer u32 grant id, u8 allow, s login,
                                   s reason, u64 until */
    JG_GW_REQ_CONNECT,          /* u32 grant id */
    JG_GW_REQ_HOSTKEY,          /* u32 grant id, s keytype, s key b64 */
    JG_GW_REQ_AGENT,            /* u32 grant id; answer u8 ok, s message,
                                   u64 certificate serial (0: the static
                                   identity), and an SSH agent socket (fd) */
    JG_GW_REQ_TARGETS,          /* (empty); answer s text list, u32 n and
                                   n x (s target, s login, s label: how the
                                   menu shows it, "" the target): the
                                   targets and logins the user may open a
                                   shell on now, in policy order */
    JG_GW_REQ_FORWARD,          /* s host, u32 port; answer u32 grant id,
                                   u8 ok, s why, u8 MySQL-aware, u8 tls,
                                   s host to verify, and the socket */
    /* session recording and the event log */
    JG_GW_REQ_REC_OPEN,         /* u32 chan, u32 grant id, s command,
                                   s term ("": no pty), u32 cols, u32 rows;
                                   answer u8 ok, s id ("": not recorded)
                                   or message, u8 record input */
    JG_GW_REQ_REC_TAP,          /* (empty): the tap ring has new records
                                   and the monitor said it would sleep (no
                                   answer) */
    JG_GW_REQ_REC_EXIT,         /* u32 chan, u8 signal, u32 status,
                                   s signal name (no answer) */
    JG_GW_REQ_CHAN_END,         /* u32 chan (a forward: its grant id),
                                   u8 forward, s target,
                                   u64 bytes in, u64 bytes out, u64 duration
                                   in ms (no answer) */
    JG_GW_REQ_MAX,
    /* what the worker reports for the master's session list and metrics
     * (no answer) */
    JG_GW_REQ_CHAN_STATE = 0x30, /* u32 grant id, u8 JG_GW_CHAN_* */
    JG_GW_REQ_BYTES,             /* u64 to target, u64 to client (since the
                                    last report), [u32 channel: all of it
                                    that channel's] */
    JG_GW_REQ_LOGIN_FAILED,      /* u32 grant id, s why: the target refused
                                    the login the agent offered */
    JG_GW_REQ_CHAN_REFUSED,      /* u8 JG_GW_REFUSED_*: the worker refused a
                                    channel by its own rule (the monitor
                                    writes the event and its reason) */
    /* the SFTP audit: the worker parses the SFTP packets it relays on sftp
     * channels (it never alters them) and sends each parsed event; the
     * monitor checks it and appends it to the event log as sftp.* */
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
    /* the MySQL-aware tunnel of protocol: mysql targets with auth: the
     * worker speaks MySQL on both sides of the forward, verifies the
     * database with the CA bundle the monitor opens, asks the monitor for
     * each auth response (the password or IAM token stays here unless the
     * database asks for it in clear over TLS) and reports each statement
     * its parser saw; the monitor writes db.* events */
    JG_GW_REQ_DB_CA = 0x50,      /* u32 grant id; answer u8 ok, s why, and
                                    the CA bundle's descriptor */
    JG_GW_REQ_DB_AUTH,           /* u32 grant id, s login, s schema,
                                    s plugin, b scramble (20), u8 tls;
                                    answer u8 ok, s why, s plugin,
                                    b auth response */
    JG_GW_REQ_DB_EVENT,          /* u32 grant id, u8 kind, s text,
                                    u8 truncated, u32 stmt id, u32 n,
                                    n x (s type, u8 null, s value,
                                    u8 truncated), u8 params truncated,
                                    u8 status, u64 rows, u64 affected,
                                    u64 insert id, u32 warnings,
                                    u32 error code, s sqlstate,
                                    s error message, u64 duration us
                                    (no answer) */
    JG_GW_REQ_DB_END,            /* u32 grant id, u64 statements,
                                    u64 errors, u64 rows, s why ("": the
                                    client ended it) (no answer) */
    /* monitor -> worker answers: request type | 0x80 */
    JG_GW_ANS = 0x80,
    JG_GW_ANS_KBDINT_PROMPTS = 0xa0, /* s instruction, u32 n, n x (s, u8 echo) */
    JG_GW_ANS_KBDINT_RESULT,         /* u8 ok */
    JG_GW_NOTE_LAPSE = 0xb0,         /* s message: the session must end */
};

/* Why the worker refused a channel (JG_GW_REQ_CHAN_REFUSED). */
enum jg_gw_refused {
    JG_GW_REFUSED_SESSION_CAP = 1, /* a session channel beyond
                                      JG_GW_MAX_CHANNELS */
    JG_GW_REFUSED_FORWARD_CAP,     /* a direct-tcpip channel beyond it */
};

/* What a channel's permission became (JG_GW_REQ_CHAN_STATE). */
enum jg_gw_chan_state {
    JG_GW_CHAN_NONE = 0,
    JG_GW_CHAN_RUNNING,   /* the session or forward is up */
    JG_GW_CHAN_FAILED,    /* allowed, but the target could not be reached */
    JG_GW_CHAN_ENDED,
};

/* Longest path in an SFTP event: JG_AUDIT_SFTP_PATH_MAX bytes, each of
 * which may have become a 3-byte U+FFFD. */
#define JG_GW_SFTP_PATH_MAX (3 * 4096)
/* Longest extended request name in an SFTP event, likewise. */
#define JG_GW_SFTP_NAME_MAX (3 * 256)
/* Longest statement text and parameter value in a DB_EVENT: the worker
 * cuts them (truncated) so that an event fits one message. */
#define JG_GW_DB_TEXT_MAX 16384
#define JG_GW_DB_VALUE_MAX 256

/* ---- messages (msg.c); also the framing of monitor -> master reports -- */

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
/* Receives one message; timeout_ms < 0 waits for ever. JG_ERR_IO on EOF
 * or error, JG_ERR_NOTFOUND on time-out, JG_ERR_INVALID when malformed. */
int jg_gw_msg_recv(int sock, struct jg_gw_msg *m, int timeout_ms);

/* ---- the tap ring (tap.c): recorded bytes, worker -> monitor ----------
 *
 * One writer (the worker), one reader (the monitor), in a shared anonymous
 * mapping made before the fork. Positions count bytes for ever (they
 * never wrap; the ring index is the position modulo JG_GW_TAP_SIZE). A
 * record is a JG_GW_TAP_HEAD-byte head {u32 length, u32 channel, u8 kind,
 * 7 zero bytes} (host byte order: both sides are one program on one
 * machine) and its payload, padded to a multiple of JG_GW_TAP_HEAD; a
 * head never wraps, a payload may. Kinds: 'o' output, 'e' stderr, 'i'
 * input, 'r' window size (u32 cols, u32 rows). The writer publishes
 * head after the bytes, the reader tail after it copied them (release
 * and acquire); each side says when it is about to sleep (mon_sleeps,
 * wk_sleeps) so that the other wakes it, in batches: the worker with a
 * REC_TAP message once a quarter of the ring waits or before it waits
 * itself, the monitor with a futex wake on room once half the ring is
 * free. */
#define JG_GW_TAP_SIZE (1024 * 1024)   /* ring bytes per connection */
#define JG_GW_TAP_HEAD 16u
#define JG_GW_TAP_REC_MAX (128 * 1024) /* payload bytes per record */

struct jg_gw_tap {
    _Atomic uint64_t head;        /* written by the worker */
    uint8_t pad0[56];
    _Atomic uint64_t tail;        /* written by the monitor */
    _Atomic uint32_t room;        /* futex word, bumped as tail moves */
    _Atomic uint32_t wk_sleeps;   /* the worker waits for room */
    _Atomic uint32_t mon_sleeps;  /* the monitor is about to poll */
    uint8_t pad1[44];
    uint8_t data[JG_GW_TAP_SIZE];
};

/* A record as the reader sees it: its payload in one or two pieces (the
 * second when it wraps), pointing into the shared ring. */
struct jg_gw_tap_rec {
    uint32_t chan;
    uint8_t kind;
    const uint8_t *p[2];
    size_t n[2];
    size_t len;                   /* n[0] + n[1] */
};

/* Maps a new, empty ring (shared with children forked later); NULL with
 * errno on failure. */
struct jg_gw_tap *jg_gw_tap_new(void);
void jg_gw_tap_free(struct jg_gw_tap *t);
/* Worker: appends n bytes of kind for chan, as records of at most
 * JG_GW_TAP_REC_MAX bytes; waits while the ring is full. sock is the
 * monitor's socket: the REC_TAP nudge goes there, and its hang-up ends a
 * wait. JG_ERR_IO when the monitor is gone. */
int jg_gw_tap_put(struct jg_gw_tap *t, int sock, uint32_t chan, uint8_t kind,
                  const void *p, size_t n);
/* Worker, before it waits for anything: nudges a sleeping monitor if
 * records are waiting for it. JG_ERR_IO when the monitor is gone. */
int jg_gw_tap_flush(struct jg_gw_tap *t, int sock);
/* Monitor: the next record at *pos (the monitor's own copy of tail),
 * given head as loaded by jg_gw_tap_head(); advances *pos past it.
 * JG_ERR_NOTFOUND when *pos == head; JG_ERR_INVALID when the ring breaks
 * its rules (head behind *pos or more than a ring ahead, a length beyond
 * JG_GW_TAP_REC_MAX or beyond head, an unknown kind). */
int jg_gw_tap_next(const struct jg_gw_tap *t, uint64_t *pos, uint64_t head,
                   struct jg_gw_tap_rec *r);
uint64_t jg_gw_tap_head(const struct jg_gw_tap *t);
/* Monitor: everything before pos is copied; wakes a waiting worker. */
void jg_gw_tap_release(struct jg_gw_tap *t, uint64_t pos);
/* Monitor, before it polls: true when it may sleep (nothing is waiting
 * beyond pos, and the worker will nudge it when something comes). */
bool jg_gw_tap_may_sleep(struct jg_gw_tap *t, uint64_t pos);

#endif
