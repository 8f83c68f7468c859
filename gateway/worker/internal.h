/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/internal.h - the worker's own declarations, shared by the
 * files of gateway/worker/ only: the connection, its channels and upstream
 * legs, the relay and its buffers, the calls to the monitor, the SFTP
 * parser's side, the target menu and the sandbox.
 *
 * Files, bottom up (a file calls only files before it in this list):
 * ipc.c, buf.c, report.c, sftp.c, upstream.c, watch.c, connect.c,
 * relay.c, mysql.c, screen.c, auth.c, menu.c, chan.c, privsep.c,
 * seccomp.c, and
 * worker.c, the loop
 * (make check-rooms fails on any circle between files). */
#ifndef JG_GW_WORKER_INTERNAL_H
#define JG_GW_WORKER_INTERNAL_H

#ifndef JG_GW_ROOM_WORKER
#error "gateway/worker/internal.h is the worker's own"
#endif

#include <libssh/callbacks.h>

#include "gateway/proto/proto.h"
#include "gateway/worker/worker.h"

#define JG_GW_END_WAIT_MS 2000     /* for the request of a new channel when
                                      the session ends */
#define JG_GW_WORKER_NOFILE (JG_GW_MAX_GRANTS + 32) /* worker descriptors */

/* A relay buffer (buf.c): data[off, off+len) of cap bytes; NULL
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
struct jg_gw_mysql;
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
    /* reports to the monitor (report.c) */
    bool granted;                  /* grant holds the monitor's grant id */
    uint32_t grant;
    uint8_t rep_state;             /* JG_GW_CHAN_* last reported */
    uint64_t rep_in, rep_out;      /* bytes reported so far */
    struct jg_audit_sftp *sftp;    /* SFTP parser (sftp.c) or NULL */
    int64_t opened_us;             /* forward: when it opened */
    struct jg_gw_menu *menu;       /* the target menu while it is shown */
    struct jg_gw_mysql *my;        /* the MySQL-aware tunnel (mysql.c) */
};

struct jg_gw_upstream {
    struct jg_gw_upstream *next;
    ssh_session s;
    ssh_event ev;
    char target[128];
    char login[64];
    bool dead;
    bool own;           /* logged in with its channel's own certificate:
                           never shared with another channel */
};

struct jg_gw_wk {
    struct jg_gw_daemon *d;
    ssh_session s;
    ssh_event ev;
    int mon;                       /* socket to the monitor */
    struct jg_gw_tap *tap;         /* recorded bytes go here */
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
    int64_t rep_at_ms;             /* last byte report (report.c) */
    /* idle timeout (worker.c) */
    uint64_t io_seen;              /* bytes counted at the last look */
    uint64_t io_gone;              /* bytes of channels already freed */
    uint64_t io_menu;              /* bytes the menus read and wrote */
    int64_t idle_since;            /* monotonic seconds of the last byte */
    const char *end_reason;        /* static; for session.end, or NULL */
};

/* Drops to the unprivileged user in the empty chroot (privsep.c). */
int jg_gw_drop_privileges(uid_t uid, gid_t gid);
/* Resource limits and the seccomp allowlist of the worker
 * (seccomp.c); after the drop, before any client byte. */
int jg_gw_sandbox(void);

/* Sends req to the monitor and waits for the answer of type want (or one of
 * the keyboard-interactive answers when want is 0). Lapse notices that
 * arrive meanwhile are kept in w->lapse. (ipc.c) */
int jg_gw_wk_call(struct jg_gw_wk *w, const struct jg_gw_msg *req,
                  struct jg_gw_msg *ans, uint8_t want);
/* Sends a request that has no answer; on failure marks the monitor gone. */
void jg_gw_wk_send(struct jg_gw_wk *w, const struct jg_gw_msg *req);
/* Reads pending notices from the monitor without blocking. */
int jg_gw_wk_poll_monitor(struct jg_gw_wk *w);

/* The worker's side (report.c). */
/* Tells the monitor what became of the permission of grant id. */
void jg_gw_wk_grant_state(struct jg_gw_wk *w, uint32_t id, uint8_t state);
/* Marks ch as carrying grant id (after an allow decision). */
void jg_gw_wk_chan_granted(struct jg_gw_chan *ch, uint32_t id);
/* Sends the bytes moved since the last report, at most once a second
 * unless force. */
void jg_gw_wk_report_bytes(struct jg_gw_wk *w, bool force);
/* ch is about to be freed: its last bytes, and the end of its grant. */
void jg_gw_wk_report_chan_end(struct jg_gw_wk *w, struct jg_gw_chan *ch);


/* Channel callbacks (watch.c): data, EOF and close set w->pending. */
void jg_gw_chan_watch(struct ssh_channel_callbacks_struct *cb);
/* The target's exit status and signal into ch (the upstream channel). */
void jg_gw_chan_watch_exit(struct ssh_channel_callbacks_struct *cb);

/* Authentication (auth.c): libssh's public key and keyboard-interactive
 * callbacks. */
void jg_gw_wk_auth_setup(struct jg_gw_wk *w);

/* Channels (chan.c): the message callback for channel opens and
 * the client channel requests. */
int jg_gw_wk_message(ssh_session s, ssh_message msg, void *arg);
void jg_gw_chan_free(struct jg_gw_chan *ch);

/* Upstream leg (upstream.c): the connected, authenticated session to
 * the target of grant id for login, made or reused. On failure a message
 * for the user is in err. */
int jg_gw_upstream_get(struct jg_gw_wk *w, uint32_t grant, const char *target,
                       const char *login, struct jg_gw_upstream **out,
                       char *err, size_t errn);
void jg_gw_upstream_free(struct jg_gw_upstream *u);

/* The byte path (relay.c): moves what it can between the two ends of
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
/* A recorded channel's new window size, into the tap ring in its place
 * among the bytes. */
void jg_gw_wk_rec_resize(struct jg_gw_chan *ch);

/* ---- the SFTP audit's worker side (sftp.c) --------------------------- */

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

/* ---- the target menu, breaks and the idle timeout ----------------------
 * (screen.c: keys and screen, pure; menu.c: the channel side) */


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
    char *label;         /* owned; how it is shown, NULL: the target */
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
    bool dirty;                   /* to be drawn again (menu.c) */
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

/* The channel side (menu.c). Shows the menu on a pty shell
 * channel that named no target (or ends the channel with a message when
 * nothing is allowed). */
void jg_gw_wk_menu_open(struct jg_gw_chan *ch);
/* Reads keys, redraws, and on a pick connects like USER:LOGIN@TARGET.
 * Returns true when it moved anything. */
bool jg_gw_wk_menu_pump(struct jg_gw_chan *ch);

/* Connects session channel ch (started, action set) to target as login
 * ("": the default) for command (exec) - the decision, the upstream leg,
 * the recording; on failure the channel ends with the reason
 * (connect.c). */
void jg_gw_chan_connect(struct jg_gw_chan *ch, const char *command,
                        const char *target, const char *login);
/* Ends a session channel locally with text and exit status. */
void jg_gw_chan_local_end(struct jg_gw_chan *ch, bool to_stdout,
                          const char *text, int status);
/* Writes text to the client channel's stderr (best effort). */
void jg_gw_chan_say(struct jg_gw_chan *ch, const char *text);

/* The MySQL-aware tunnel (mysql.c), for a forward to a protocol: mysql
 * target with auth: reads the database's greeting and greets the client
 * (on failure the client reads an ERR packet and the channel ends). */
int jg_gw_wk_mysql_open(struct jg_gw_chan *ch, uint32_t grant, bool tls,
                        const char *host);
/* Its byte path, instead of jg_gw_relay_pump(): the client's login, the
 * sign-in, then the command phase through the query audit. */
bool jg_gw_wk_mysql_pump(struct jg_gw_chan *ch);
/* Tells the monitor the tunnel ended (once), with why when it was ended. */
void jg_gw_wk_mysql_end(struct jg_gw_chan *ch, const char *why);
void jg_gw_wk_mysql_free(struct jg_gw_chan *ch);
/* A forward allowed to a MySQL target that could not be reached: the
 * client reads why in an error packet, then the channel ends. */
void jg_gw_wk_mysql_unreachable(struct jg_gw_chan *ch, const char *why);

#endif
