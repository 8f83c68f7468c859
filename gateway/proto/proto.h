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
 *   REC_DATA, REC_RESIZE, REC_EXIT, CHAN_END
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
 *
 * Requests without an answer that arrive after the worker is gone (the
 * last output of a recording, a channel's end) are still served, so that
 * the record is complete.
 *
 * The monitor sends, unasked, only JG_GW_NOTE_LAPSE: the session must end
 * (its permission ended, an operator ended it, or the audit cannot be
 * written); the worker tells the user and ends within JG_GW_LAPSE_GRACE
 * seconds, or is killed. */
#ifndef JG_GW_PROTO_H
#define JG_GW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define JG_GW_MSG_MAX 32768        /* largest message */
#define JG_GW_MAX_TRIES 6          /* authentication failures per connection */
#define JG_GW_MAX_GRANTS 256       /* permissions held at once per connection
                                      (a closed channel gives its back) */
#define JG_GW_REC_CHUNK (JG_GW_MSG_MAX - 64) /* largest tap payload per message */
#define JG_GW_TAP_SNDBUF (1024 * 1024) /* worker -> monitor bytes in flight */
#define JG_GW_MENU_MAX 512         /* menu entries in a TARGETS answer */
#define JG_GW_LAPSE_GRACE 5        /* seconds between notice and kill */

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
                                   and an SSH agent socket (fd) */
    JG_GW_REQ_TARGETS,          /* (empty); answer s text list, u32 n and
                                   n x (s target, s login): the targets and
                                   logins the user may open a shell on now,
                                   in policy order */
    JG_GW_REQ_FORWARD,          /* s host, u32 port */
    /* session recording and the event log */
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
    /* what the worker reports for the master's session list and metrics
     * (no answer) */
    JG_GW_REQ_CHAN_STATE = 0x30, /* u32 grant id, u8 JG_GW_CHAN_* */
    JG_GW_REQ_BYTES,             /* u64 to target, u64 to client (since the
                                    last report), [u32 channel: all of it
                                    that channel's] */
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
    /* monitor -> worker answers: request type | 0x80 */
    JG_GW_ANS = 0x80,
    JG_GW_ANS_KBDINT_PROMPTS = 0xa0, /* s instruction, u32 n, n x (s, u8 echo) */
    JG_GW_ANS_KBDINT_RESULT,         /* u8 ok */
    JG_GW_NOTE_LAPSE = 0xb0,         /* s message: the session must end */
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
/* Sends m as if jg_gw_msg_put_bytes(m, p, n) had been its last put, without
 * copying p into it (the recorded bytes of a channel). */
int jg_gw_msg_send_bytes(int sock, const struct jg_gw_msg *m, const void *p,
                         size_t n);
/* Receives one message; timeout_ms < 0 waits for ever. JG_ERR_IO on EOF
 * or error, JG_ERR_NOTFOUND on time-out, JG_ERR_INVALID when malformed. */
int jg_gw_msg_recv(int sock, struct jg_gw_msg *m, int timeout_ms);

#endif
