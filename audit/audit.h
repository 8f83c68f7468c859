/* SPDX-License-Identifier: Apache-2.0 */
/* audit/audit.h - the audit library: the hash-chained
 * event log, session recordings (.jgr, and the asciicast v2 recordings of
 * earlier versions), Ed25519 seals over both, and the readers, views and
 * verifiers the auditor's `jumpgate audit` uses.
 *
 * Conventions (common/common.h): functions return 0 or a negative JG_ERR_*
 * code; results go out through pointers; every *_free(NULL) is a no-op.
 * Times are int64_t microseconds since the Unix epoch ("_us"), always UTC;
 * writers take the time from the caller so tests can drive them.
 *
 * Files (all below audit.dir):
 *   events/YYYY-MM-DD.jsonl          event log, one file per UTC day
 *   sessions/YYYY-MM-DD/ID.jgr       one recording per session channel,
 *                                    its seals inside (jumpgate-recording(5))
 *   sessions/YYYY-MM-DD/ID.cast(.seal) recordings of earlier versions (read)
 * Folders are created 0750, files 0640; every file is opened with openat()
 * on a folder fd that was opened O_DIRECTORY|O_NOFOLLOW and checked (a
 * folder, ours or root's, not world-writable), with O_NOFOLLOW|O_CLOEXEC.
 * A short write is an error (JG_ERR_IO, errno EIO when the kernel gave no
 * reason).
 *
 * fsync policy: every event line is handed to the kernel with one write(2)
 * when it happens (no user-space buffering), and the event log is
 * fdatasync()ed after every seal line. A recording's blocks and seals are
 * written by its writer thread in order; the file is fdatasync()ed before
 * a seal at most once a second and always before the final one, and
 * write-back is started every 8 MiB (see the recorder section). A crash
 * thus loses at most an unsealed tail, which verify reports as unsealed; a
 * power loss can also lose what was written in the last second, which
 * verify reports as a missing tail (never as intact). */
#ifndef JG_AUDIT_H
#define JG_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <regex.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/common.h"

/* ---- time and ids (time.c, uuid.c) -------------------------------------- */

/* Now, in microseconds since the epoch (CLOCK_REALTIME). */
int64_t jg_audit_now_us(void);

#define JG_AUDIT_TIME_STRLEN 32
/* "2026-11-27T18:00:00.123456Z". */
void jg_audit_time_format(int64_t us, char *buf, size_t n);
/* RFC 3339 with optional fraction (up to 9 digits, kept to the µs) and a
 * Z or +hh:mm offset. 0 or JG_ERR_INVALID. */
int jg_audit_time_parse(const char *s, int64_t *us);
#define JG_AUDIT_DAY_STRLEN 11
/* "2026-11-27", the UTC day of us. */
void jg_audit_day_format(int64_t us, char *buf, size_t n);

#define JG_AUDIT_ID_STRLEN 37
/* A new UUIDv7 (RFC 9562) for now: 48 bits of Unix milliseconds, then a
 * 12-bit counter that keeps ids made by one process strictly increasing
 * within a millisecond, then 62 random bits. out receives 36 characters and a
 * NUL. */
int jg_audit_uuid7(char out[JG_AUDIT_ID_STRLEN]);
/* The same for a given time and counter/random bits (deterministic; for
 * tests). rnd holds 8 bytes, of which 62 bits are used. */
void jg_audit_uuid7_make(int64_t unix_ms, uint16_t counter,
                         const uint8_t rnd[8], char out[JG_AUDIT_ID_STRLEN]);
/* True when s is a lower-case UUID (8-4-4-4-12 hex) of version 7. */
bool jg_audit_id_valid(const char *s);
/* Unix milliseconds in a UUIDv7 (no validation beyond hex digits). */
int64_t jg_audit_uuid7_ms(const char *id);

/* ---- keys (key.c) ------------------------------------------------------- */

/* An Ed25519 key: private (can sign and verify) or public (verify only). */
struct jg_audit_key;

/* Makes a new key pair: priv_path receives the private key (PEM PKCS#8, mode
 * 0600, created; an existing file is JG_ERR_EXISTS unless force), and
 * priv_path".pub" the public key (PEM SubjectPublicKeyInfo, 0644). Both are
 * written to a temporary name, fsynced and renamed into place. */
int jg_audit_keygen(const char *priv_path, bool force);
/* Writes len bytes to path through path".tmp" (created with mode, fsynced,
 * then linked or, with force, renamed into place): all or nothing. An
 * existing path is JG_ERR_EXISTS unless force; JG_ERR_IO with errno. */
int jg_audit_write_file(const char *path, const char *data, size_t len,
                        mode_t mode, bool force);
/* Loads a private key (PEM PKCS#8 Ed25519). Caller frees *out. */
int jg_audit_key_load_private(const char *path, struct jg_audit_key **out);
/* Loads a public key (PEM); a private key file is accepted too. */
int jg_audit_key_load_public(const char *path, struct jg_audit_key **out);
/* Parses a PEM key from memory (private when want_private). */
int jg_audit_key_parse(const char *pem, size_t len, bool want_private,
                       struct jg_audit_key **out);
void jg_audit_key_free(struct jg_audit_key *k);
/* "<path>.pub": the public half beside a private key. Caller frees. */
char *jg_audit_key_pub_path(const char *priv_path);
/* Hex SHA-256 of the raw 32-byte public key, first 16 bytes (32 chars):
 * written into every seal as "key". Borrowed from k. */
const char *jg_audit_key_id(const struct jg_audit_key *k);
bool jg_audit_key_is_private(const struct jg_audit_key *k);

/* ---- event log writer (log.c, append.c) --------------------------------- */

/* The writer also runs inside pam_jumpgate.so, in other programs: what it
 * calls (jg_audit_log_open/append/seal, jg_audit_key_load_private,
 * jg_audit_sign, jg_audit_jstr, jg_audit_last_line) allocates with plain
 * malloc and returns JG_ERR_NOMEM when memory runs out, never aborting the
 * host process; it keeps no global state, and every fd it opens is
 * close-on-exec. Appends from several threads or processes are safe: each
 * call opens its own fd of the day file and holds the flock on it. */

/* One event. Every line of the log has, in this order: seq, time, type,
 * session, user, from, target, login, action, rule, reason (null when not
 * given), then the members of extra in their order, then prev (and sig on
 * seal lines). Strings are made valid UTF-8 (U+FFFD) before they go in. */
struct jg_audit_event {
    const char *type;    /* required: "session.start", "grant.add", ... */
    const char *session; /* the session channel's id (a recording's ID) */
    const char *user, *from, *target, *login, *action, *rule, *reason;
    json_t *extra;       /* borrowed; an object of type-specific members
                            ("connection", "command", "path", "bytes_in",
                            "grant", ...) or NULL. The fixed names above,
                            seq, time, prev and sig are refused. */
};

/* Seal the log after this many unsealed events (default). */
#define JG_AUDIT_SEAL_EVERY 64

struct jg_audit_log;

/* Checks audit_dir, and its events/ and sessions/ where they exist, by the
 * rules every audit writer applies: folders owned by root (or the caller)
 * that no other user can write to. 0, or a negative JG_ERR_* with a
 * message naming the folder and what is wrong in why (n bytes). */
int jg_audit_dir_check(const char *audit_dir, char *why, size_t n);

/* Opens the event log of audit_dir (events/ is created when missing; the
 * folder audit_dir must exist). key (borrowed, may be NULL: no seals are
 * written) must outlive the log. seal_every 0 means JG_AUDIT_SEAL_EVERY.
 * Caller frees *out. Nothing is kept open between appends except the
 * folder fd, so day rollover needs no call. */
int jg_audit_log_open(const char *audit_dir, const struct jg_audit_key *key,
                      unsigned seal_every, struct jg_audit_log **out);
/* Appends ev at now_us to the day file of now_us under an exclusive flock:
 * reads the last line (of this day, else of the newest earlier day) for seq
 * and prev, writes the line with one write(2), and appends a seal line when
 * seal_every events of this log are unsealed. When the day changed and the
 * previous day file does not end with a seal, that file is sealed first
 * (its day-end seal).
 *
 * All or nothing: a write that fails part way (ENOSPC, EFBIG) is cut back
 * to where the file ended, under the lock. When a file still ends with an
 * incomplete line (that cut failed too, or a writer crashed mid-write),
 * the next writer cuts it off and appends an "audit.gap" event with its
 * "file", "offset", "bytes" and "sha256" before anything else, so the
 * chain goes on from the last whole line and the loss is on record
 * (verify reports it as a recorded gap, not as tampering). */
int jg_audit_log_append(struct jg_audit_log *log, const struct jg_audit_event *ev,
                        int64_t now_us);
/* Appends a seal line when the newest day file does not end with one, and
 * fdatasyncs. A no-op without a key. Call it before jg_audit_log_free() and
 * once in a while (e.g. every minute) from a long-lived writer. */
int jg_audit_log_seal(struct jg_audit_log *log, int64_t now_us);
/* Appends a seal line to today's file whether or not the log ends with one,
 * with "next_within": the writer's promise to write its next timed seal
 * within that many seconds (0: no more timed seals, the writer stops).
 * The daemon's master calls it every audit.seal_interval, so that events
 * cut off the end of the log show as missing time. A no-op without a key. */
int jg_audit_log_seal_timed(struct jg_audit_log *log, int64_t now_us,
                            unsigned next_within);
void jg_audit_log_free(struct jg_audit_log *log);

/* One-shot append for short-lived programs (`jumpgate policy grant`, sync):
 * loads the configuration at config_path, and, when its audit.dir exists,
 * appends ev at now_us and seals the log with audit.signing_key when that
 * key can be read (otherwise the event is chained but left for the daemon's
 * next seal). JG_ERR_NOTFOUND, with nothing written, when audit.dir does
 * not exist; other errors when the event could not be written. */
int jg_audit_append_event(const char *config_path,
                          const struct jg_audit_event *ev, int64_t now_us);

/* ---- session recorder (rec.c, recw.c) -----------------------------------
 * One recording per session channel: sessions/DAY/ID.jgr, in the format
 * of jumpgate-recording(5). Every byte is kept as it crossed the gateway
 * (pty output, exec stdout and stderr apart, input when the rule says so),
 * with window changes, markers and the exit status, timed to the µs.
 * Records are encoded into blocks of up to JG_AUDIT_REC_BLOCK bytes, which
 * go to the writer when full, before a seal, or JG_AUDIT_REC_FLUSH_US after
 * their first record; the recording's writer thread compresses each block
 * with zstd (level 1; a block that does not shrink is stored as it is, and
 * after a large one that did not, the next few are stored without trying), keeps a running SHA-256
 * over every byte of the file, and writes a seal: an Ed25519-signed
 * checkpoint of that hash, the offset and the session id. Seals follow
 * whenever JG_AUDIT_SEAL_INTERVAL_US has passed with data unsealed and
 * before JG_AUDIT_REC_SEAL_BYTES of record bytes would be unsealed, at
 * open and, "final", at close. */

/* What the recording header says about a session channel. Strings are
 * borrowed for the call. */
struct jg_audit_rec_info {
    const char *session;    /* required: the recording's UUIDv7 (its ID) */
    const char *connection; /* the SSH connection's id, or NULL */
    const char *user, *target, *login, *from, *rule;
    /* A discovered member asked for by its alias (ecs-prod/web-a): the
     * member it resolved to (ecs-prod/i-0abc...) and its address, which
     * stay true when tags change or are reused; NULL otherwise. */
    const char *target_id, *address;
    const char *action;     /* "shell", "exec", "sftp"... */
    const char *command;    /* exec: the command; otherwise NULL */
    const char *term;       /* TERM of the pty-req, or NULL ("xterm") */
    unsigned width, height; /* of the pty-req; 0 means 80x24 */
    bool record_input;      /* the rule's record_input: "i" records kept */
};

/* Checkpoint at least this often while data flows, and over at most this
 * many bytes of records (uncompressed). */
#define JG_AUDIT_SEAL_INTERVAL_US 1000000
#define JG_AUDIT_REC_SEAL_BYTES (1024u * 1024)
/* Largest block of records (uncompressed); readers refuse larger ones. */
#define JG_AUDIT_REC_BLOCK (256u * 1024)

struct jg_audit_rec;

/* Creates sessions/DAY/ID.jgr below audit_dir (DAY the UTC day of
 * start_us; folders made as needed; an existing file is JG_ERR_EXISTS),
 * writes the header and checkpoint 1 over it and syncs. key (borrowed,
 * private) must outlive the recorder. Caller ends it with
 * jg_audit_rec_close() (or jg_audit_rec_free()). On error nothing is
 * returned; a file already created stays (and verify will say so). */
int jg_audit_rec_open(const char *audit_dir, const struct jg_audit_rec_info *info,
                      const struct jg_audit_key *key, int64_t start_us,
                      struct jg_audit_rec **out);
/* Output the session showed (pty output, exec stdout): 'o' records. */
int jg_audit_rec_output(struct jg_audit_rec *r, int64_t now_us,
                        const void *data, size_t len);
/* exec stderr: 'e' records. */
int jg_audit_rec_stderr(struct jg_audit_rec *r, int64_t now_us,
                        const void *data, size_t len);
/* Input ('i'): recorded only when info.record_input; otherwise 0 and
 * nothing written. */
int jg_audit_rec_input(struct jg_audit_rec *r, int64_t now_us,
                       const void *data, size_t len);
/* A window change: 'r' record "COLSxROWS". */
int jg_audit_rec_resize(struct jg_audit_rec *r, int64_t now_us, unsigned cols,
                        unsigned rows);
/* A marker ('m') with a label, e.g. "exit-signal TERM" (control characters
 * become spaces, invalid UTF-8 U+FFFD). */
int jg_audit_rec_marker(struct jg_audit_rec *r, int64_t now_us,
                        const char *label);
/* The exit status ('x' record, decimal). */
int jg_audit_rec_exit_status(struct jg_audit_rec *r, int64_t now_us, int status);
/* Queues the block of records encoded so far for writing once it has
 * waited JG_AUDIT_REC_FLUSH_US (or is full), and a checkpoint when records
 * are unsealed and the last one is JG_AUDIT_SEAL_INTERVAL_US old; call it
 * after each burst of records, at least once a second, and at least every
 * JG_AUDIT_REC_FLUSH_US while jg_audit_rec_waiting(). */
#define JG_AUDIT_REC_FLUSH_US 250000
int jg_audit_rec_tick(struct jg_audit_rec *r, int64_t now_us);
/* True while records wait in a block that has not gone to the writer. */
bool jg_audit_rec_waiting(const struct jg_audit_rec *r);
/* Writes the final checkpoint, syncs and frees r (also on error). */
int jg_audit_rec_close(struct jg_audit_rec *r, int64_t now_us);
/* Frees r without a final checkpoint: what a crash right after the last
 * write leaves behind (the records are written, not sealed). */
void jg_audit_rec_free(struct jg_audit_rec *r);
/* Bytes of records (uncompressed) so far; the file's path (borrowed). */
uint64_t jg_audit_rec_size(const struct jg_audit_rec *r);
const char *jg_audit_rec_path(const struct jg_audit_rec *r);

/* ---- UTF-8 (utf8.c) ----------------------------------------------------- */

/* Incremental decoder state of one stream. */
struct jg_audit_utf8 {
    uint8_t tail[4];
    size_t n_tail;
    uint64_t replaced; /* bytes replaced by U+FFFD so far */
};

/* Decodes data (after what waits in st) into valid UTF-8 in *out (caller
 * frees; may be empty), keeping an incomplete sequence at the end in st
 * unless final. */
void jg_audit_utf8_feed(struct jg_audit_utf8 *st, const uint8_t *data,
                        size_t len, bool final, char **out, size_t *out_len);
/* The same into out, which holds JG_AUDIT_UTF8_OUT(st->n_tail + len)
 * bytes (each byte becomes at most three, plus a NUL); returns the length
 * written before the NUL. */
#define JG_AUDIT_UTF8_OUT(n) (3 * (n) + 1)
size_t jg_audit_utf8_feed_into(struct jg_audit_utf8 *st, const uint8_t *data,
                               size_t len, bool final, char *out);
/* A NUL-terminated valid UTF-8 copy of s (len bytes; a NUL becomes a
 * space). Caller frees. NULL when out of memory (never aborts). */
char *jg_audit_utf8_clean(const char *s, size_t len);

/* ---- seals (seal.c) ----------------------------------------------------- */

/* One checkpoint of a recording: a seal frame of a .jgr, or a line of an
 * asciicast recording's ID.cast.seal:
 * {"seq":n,"session":ID,"offset":bytes,"sha256":hex,"time":RFC3339,
 *  "final":bool,"raw":n,"replaced":n,"key":keyid,"sig":base64}
 * sha256 is the SHA-256 of the file's first offset bytes; raw counts the
 * bytes recorded; replaced those an asciicast recording stored as U+FFFD
 * (0 in a .jgr, which replaces nothing). */
struct jg_audit_checkpoint {
    uint64_t seq;
    char session[JG_AUDIT_ID_STRLEN];
    uint64_t offset;
    char sha256[65];
    int64_t time_us;
    bool final;
    uint64_t raw, replaced;
    char key[33];
};

/* The compact line for cp signed with key over domain (one of
 * JG_AUDIT_DOMAIN_*; ends with '\n'). Caller frees *line. */
int jg_audit_checkpoint_format(const struct jg_audit_checkpoint *cp,
                               const struct jg_audit_key *key,
                               const char *domain, char **line, size_t *len);
/* Parses one checkpoint line (without its newline) into *cp and checks the
 * signature over domain with key (NULL: no signature check).
 * JG_ERR_INVALID with a reason in err (n bytes) when malformed or not
 * validly signed. */
int jg_audit_checkpoint_parse(const char *line, size_t len,
                              const struct jg_audit_key *key,
                              const char *domain,
                              struct jg_audit_checkpoint *cp, char *err,
                              size_t errn);
/* The bytes of a seal line covered by its signature: everything before
 * ,"sig":" (the line must end with ,"sig":"BASE64"}). Returns the prefix
 * length and the base64 in *b64 / *b64_len, or 0 when there is none. */
size_t jg_audit_sealed_prefix(const char *line, size_t len, const char **b64,
                              size_t *b64_len);
/* Signs / checks domain || msg. Signature is base64 (NUL-terminated). */
int jg_audit_sign(const struct jg_audit_key *k, const char *domain,
                  const void *msg, size_t len, char *b64, size_t b64n);
bool jg_audit_sig_ok(const struct jg_audit_key *k, const char *domain,
                     const void *msg, size_t len, const char *b64,
                     size_t b64_len);
#define JG_AUDIT_DOMAIN_CAST "jumpgate-audit-seal-v1 cast\n"
#define JG_AUDIT_DOMAIN_EVENTS "jumpgate-audit-seal-v1 events\n"
#define JG_AUDIT_DOMAIN_JGR "jumpgate-audit-seal-v1 jgr\n"
/* Lower-case hex SHA-256 of data into hex (65 bytes). */
void jg_audit_sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- readers (cast.c, evread.c) ----------------------------------------- */

/* Longest line the readers accept (a recording event, an event). */
#define JG_AUDIT_MAX_LINE (16u << 20)

/* The last line of fd (without newline; a file that does not end with a
 * newline gives its last partial line and *complete false). *line NULL for
 * an empty file. Caller frees *line. */
int jg_audit_last_line(int fd, char **line, size_t *len, bool *complete);

/* A line reader over an fd with a cap on line length. */
struct jg_audit_lr {
    int fd;
    char *buf;
    size_t cap, start, end;
    uint64_t offset;  /* file offset of the line returned last */
    uint64_t pos;     /* file offset of the next line */
    size_t lineno;    /* its 1-based number */
    bool eof;
};
void jg_audit_lr_init(struct jg_audit_lr *lr, int fd);
/* Next line: 1 and *line, *len (without newline, borrowed until the next
 * call; *nl says whether it ended with one), 0 at end of file,
 * JG_ERR_TOOBIG for a line longer than JG_AUDIT_MAX_LINE (the rest of it
 * is skipped), JG_ERR_IO. */
int jg_audit_lr_next(struct jg_audit_lr *lr, const char **line, size_t *len,
                     bool *nl);
void jg_audit_lr_clear(struct jg_audit_lr *lr);

/* What a recording header holds. Strings allocated; free with
 * jg_audit_cast_header_clear(). */
struct jg_audit_cast_header {
    unsigned width, height;
    int64_t timestamp;        /* Unix seconds */
    char *title, *term;
    char *session, *connection, *user, *target, *login, *from, *rule,
        *action, *command;
    char *target_id, *address; /* a discovered member's (or NULL) */
    bool record_input;
};

/* Parses a header line (no newline). JG_ERR_INVALID with err when it is not
 * an asciicast v2 header (width and height 1..10000 and integers). */
int jg_audit_cast_header_parse(const char *line, size_t len,
                               struct jg_audit_cast_header *h, char *err,
                               size_t errn);
void jg_audit_cast_header_clear(struct jg_audit_cast_header *h);

/* One event line [time, code, data]. data points into a buffer owned by
 * the caller of the parse (*data allocated; caller frees). */
struct jg_audit_cast_event {
    double time;  /* seconds since the start */
    char code;    /* 'o', 'i', 'r', 'm' (others are refused) */
    char *data;
    size_t len;
};
int jg_audit_cast_event_parse(const char *line, size_t len,
                              struct jg_audit_cast_event *ev, char *err,
                              size_t errn);

/* Parses one event-log line (no newline) into a JSON object (caller
 * decrefs *out): it must be an object with seq (integer >= 1), time (RFC
 * 3339), type (string) and prev (64 hex digits). */
int jg_audit_event_parse(const char *line, size_t len, json_t **out,
                         char *err, size_t errn);

/* Calls cb for every event of every day file of audit_dir, oldest first,
 * with the parsed object (borrowed for the call), the file name
 * ("events/DAY.jsonl") and line. Lines that do not parse are counted in
 * *bad (may be NULL) and skipped. cb returns false to stop. */
typedef bool (*jg_audit_event_cb)(json_t *ev, const char *file, size_t line,
                                  void *arg);
int jg_audit_events_each(const char *audit_dir, jg_audit_event_cb cb,
                         void *arg, size_t *bad);

/* ---- reading a recording (recr.c) ---------------------------------------
 * One reader for both formats: ID.jgr, and ID.cast (asciicast v2, what
 * jumpgate wrote before the .jgr) so that older archives stay readable. It
 * checks structure, not seals (that is verify's work); it never holds more
 * than a block and a compressed block in memory. */
struct jg_audit_recr;

/* One record: the time since the start in µs, the kind ('o' output or
 * stdout, 'e' stderr, 'i' input, 'r' "COLSxROWS", 'x' exit status in
 * decimal, 'm' a marker label), and its bytes, borrowed until the next
 * call. An asciicast recording gives 'o', 'i', 'r' and 'm' (its exit
 * status is the marker "exit-status N"), its data as stored (UTF-8). */
struct jg_audit_recr_ev {
    int64_t time_us;
    char kind;
    const uint8_t *data;
    size_t len;
};

/* Opens the recording at path (by its name: .jgr or .cast) and reads its
 * header. JG_ERR_INVALID with the reason (naming the file and offset or
 * line) in err, JG_ERR_NOTFOUND / JG_ERR_IO when it cannot be opened. */
int jg_audit_recr_open(const char *path, struct jg_audit_recr **out,
                       char *err, size_t errn);
/* The header (the asciicast v2 header's members); borrowed. */
const struct jg_audit_cast_header *
jg_audit_recr_header(const struct jg_audit_recr *r);
/* A .jgr's header as stored (an asciicast v2 header line without its
 * newline); NULL for an asciicast recording. */
const char *jg_audit_recr_header_line(const struct jg_audit_recr *r,
                                      size_t *len);
/* The start in µs since the epoch (an asciicast recording: its whole
 * second). */
int64_t jg_audit_recr_start_us(const struct jg_audit_recr *r);
/* The next record: 1 and *ev; 0 at the end of what the file holds now (a
 * frame not yet whole is left for a later call, so a reader can follow a
 * recording being written); JG_ERR_INVALID when the file cannot be read on
 * (the reason in jg_audit_recr_error()), JG_ERR_IO. */
int jg_audit_recr_next(struct jg_audit_recr *r, struct jg_audit_recr_ev *ev);
/* When the recording ended, in µs since the epoch: the time of its last
 * seal (a .jgr; found by reading only frame heads and seals) or of its
 * last event (an asciicast recording); *final: a .jgr ends with its final
 * seal (nothing will be written to it again; never for an asciicast
 * recording, whose seals are in another file). Does not move the reader. */
int jg_audit_recr_tail(struct jg_audit_recr *r, int64_t *end_us, bool *final);
/* True once the final seal was read (a .jgr) or the end was reached (an
 * asciicast recording, which is read whole). */
bool jg_audit_recr_final(const struct jg_audit_recr *r);
/* "FILE: offset N: why" of the last error. */
const char *jg_audit_recr_error(const struct jg_audit_recr *r);
/* True for an asciicast (.cast) recording. */
bool jg_audit_recr_is_cast(const struct jg_audit_recr *r);
void jg_audit_recr_free(struct jg_audit_recr *r);

/* ---- views (view.c) ------------------------------------------------------ */

/* Writes the asciicast v2 view of the .jgr r, from its start, to fd: its
 * header line, then an event per record ('o' and 'e' as "o", 'i', 'r',
 * 'm', and the exit status as the marker "exit-status N"), with each
 * stream's bytes decoded as UTF-8 (invalid bytes become U+FFFD, in this
 * view only). Returns 0, JG_ERR_INVALID (the reader's error in err) or
 * JG_ERR_IO (writing failed). */
int jg_audit_view_cast(struct jg_audit_recr *r, int fd, char *err,
                       size_t errn);

/* ---- verifiers (verify_cast.c, verify_log.c) ---------------------------- */

/* What was established about a recording. */
struct jg_audit_cast_status {
    uint64_t size;        /* bytes in the .cast */
    uint64_t sealed;      /* bytes covered by the last valid checkpoint */
    size_t checkpoints;   /* valid ones */
    bool final;           /* the last one says final */
    bool seal_missing;
};

/* Verifies cast_path against seal_path for recording id with the public
 * key. Returns 0 only when every byte is covered by a valid checkpoint and
 * the last one is final; JG_ERR_INVALID when anything is altered, missing
 * or unproven (each problem in d, with file:line or byte offsets);
 * JG_ERR_IO/NOTFOUND when the .cast cannot be read. */
int jg_audit_verify_cast(const char *cast_path, const char *seal_path,
                         const char *id, const struct jg_audit_key *key,
                         struct jg_audit_cast_status *st, struct jg_diags *d);
/* The same for a .jgr recording, whose seals are inside it: every frame is
 * hashed and read (blocks decompressed, records checked), every seal's
 * signature, sequence, session, offset and hash checked. Bytes after the
 * last seal are reported as an unsealed tail, anything after the final
 * seal as appended. */
int jg_audit_verify_jgr(const char *path, const char *id,
                        const struct jg_audit_key *key,
                        struct jg_audit_cast_status *st, struct jg_diags *d);
/* Either, by the file's name (ID.jgr, or ID.cast with ID.cast.seal). */
int jg_audit_verify_rec(const char *path, const char *id,
                        const struct jg_audit_key *key,
                        struct jg_audit_cast_status *st, struct jg_diags *d);

struct jg_audit_log_status {
    size_t files, lines, seals;
    size_t unsealed;      /* events after the last seal */
    size_t gaps;          /* audit.gap events: losses the writers recorded */
    size_t missing_time;  /* timed seals that came late or not at all */
    /* The newest timed seal (see jg_audit_log_seal_timed()): when it was
     * made, what it promised, by when the next is due (0: none due), and
     * where it is. */
    int64_t promised_at_us, promised_within, promise_us;
    char promise_file[40];
    size_t promise_line;
    bool gap_since_promise; /* an audit.gap came after it */
};

/* A timed seal promising the next within N seconds is late when the next
 * comes more than 2 N + JG_AUDIT_SEAL_SLACK_S seconds after it. */
#define JG_AUDIT_SEAL_SLACK_S 5

/* Verifies every day file of audit_dir/events in order: JSON, seq +1,
 * prev = SHA-256 of the previous line (across days; 64 zeros first), and
 * every seal's signature. Returns 0 when all is intact and the newest line
 * is a seal; JG_ERR_INVALID otherwise (problems in d as file:line). */
int jg_audit_verify_log(const char *audit_dir, const struct jg_audit_key *key,
                        struct jg_audit_log_status *st, struct jg_diags *d);
/* The same, and notes (may be NULL; caller clears) on what is not
 * tampering but an auditor must know, as file:line: each audit.gap event
 * (a "recorded gap": what the writer lost, and why), and missing time: a
 * timed seal that came late after the one before promised it ("next_within"
 * N > 0, late after 2 N + JG_AUDIT_SEAL_SLACK_S s) with no audit.gap in
 * between to account for it, and, when now_us > 0,
 * the newest timed seal's promise running out by now_us. Notes do not make
 * the result non-zero. */
int jg_audit_verify_log_notes(const char *audit_dir,
                              const struct jg_audit_key *key, int64_t now_us,
                              struct jg_audit_log_status *st,
                              struct jg_diags *d, struct jg_diags *notes);
/* The same for a slice of the chain (an evidence archive's): its first
 * line carries first_prev and seq first_seq (NULL and 1: the whole log). */
int jg_audit_verify_log_from(const char *audit_dir,
                             const struct jg_audit_key *key, int64_t now_us,
                             const char *first_prev, uint64_t first_seq,
                             struct jg_audit_log_status *st,
                             struct jg_diags *d, struct jg_diags *notes);
/* The same over one day file held in memory, chained from prev (64 hex;
 * NULL: zeros), seq after last_seq; on return prev/last_seq (and the
 * promise in st) are updated. name is used in messages; notes may be NULL.
 * For the verifier and fuzzing. */
int jg_audit_verify_log_mem(const char *name, const char *data, size_t len,
                            const struct jg_audit_key *key, char prev[65],
                            uint64_t *last_seq, struct jg_audit_log_status *st,
                            struct jg_diags *d, struct jg_diags *notes);

/* Cross-checks recordings named by the event log (verify_named.c):
 * every event whose "recording" member is a string (session.start of a
 * recorded channel) must have its recording, found by its session id with
 * jg_audit_find_rec(); an event whose "recording" is null or absent (no
 * recording was made, and the event says so) is not checked. Each missing
 * one is a problem in d at the event's file:line. *named and *missing
 * count the events checked and the recordings not found. 0, JG_ERR_INVALID
 * when any is missing, or the error that stopped the reading. */
int jg_audit_verify_named(const char *audit_dir, size_t *named,
                          size_t *missing, struct jg_diags *d);

/* ---- finding things (find.c) -------------------------------------------- */

/* The recording id below audit_dir: sessions/DAY/ID.jgr, or an older
 * ID.cast (DAY taken from the id's time, then searched). Caller frees
 * *path. JG_ERR_INVALID when id is not a UUIDv7, JG_ERR_NOTFOUND when
 * absent. */
int jg_audit_find_rec(const char *audit_dir, const char *id, char **path);
/* Every recording id below audit_dir, sorted (so by start time). Caller
 * frees with jg_strv_free(); *n the count. */
int jg_audit_list_ids(const char *audit_dir, char ***ids, size_t *n);
/* Every day file name of audit_dir/events ("YYYY-MM-DD.jsonl"), sorted. */
int jg_audit_list_days(const char *audit_dir, char ***days, size_t *n);

/* ---- the sessions of an audit folder (sessions.c) ----------------------- */

/* One session: from its recording, or from its session.start event (an
 * SFTP session) or forward.open event (a port forward). */
struct jg_audit_session {
    char id[JG_AUDIT_ID_STRLEN];
    int64_t start_us, end_us;   /* end_us 0: unknown */
    char *user, *target, *login, *action, *from, *rule, *command; /* or NULL */
    char *target_id, *address;  /* a discovered member's, or NULL */
    char *path;                 /* the recording, or NULL: none was made */
    uint64_t size;              /* of the recording */
    bool ended;                 /* a session.end was read */
    bool rec_missing;           /* its session.start names a recording that
                                   is not there (deleted, or moved away) */
    int exit_status;            /* from session.end; -1: none */
};

struct jg_audit_sessions {
    struct jg_audit_session *v;  /* sorted by id, so by start time */
    size_t n;
    size_t bad_recs;             /* recordings that could not be read */
    size_t bad_events;           /* event-log lines that could not be read */
    bool events_unreadable;      /* the event log could not be read at all */
};

/* Every session below audit_dir: each recording (its header and end) and
 * each session.start without one and each forward.open, with the end and
 * exit status of session.end or forward.close.
 * JG_ERR_NOTFOUND when audit_dir does not exist, JG_ERR_IO (errno); what
 * could not be read is counted in *out. Free with jg_audit_sessions_free. */
int jg_audit_sessions_load(const char *audit_dir, struct jg_audit_sessions *out);
void jg_audit_sessions_free(struct jg_audit_sessions *s);

/* ---- the evidence archive of a session (evidence.c) --------------------- */

struct jg_audit_evidence {
    const char *audit_dir;
    const char *id;             /* the session */
    const char *pub_path;       /* the public key that goes in */
    const char *by;             /* who made it (for the note), or NULL */
    /* The slice of the event log's chain that proves the session's lines:
     * other users' events are in it, so only for who may see them all. */
    bool whole_log;
};

/* Writes the evidence archive of x->id to fd: a gzip'd tar of
 * jumpgate-evidence-ID/ with EVIDENCE (JSON: what it holds), NOTE.txt
 * (how to verify it offline), audit-signing.pub, the recording as it is
 * under sessions/DAY/, the session's event-log lines
 * (session-events.jsonl) and, with whole_log, events/DAY.jsonl: the chain
 * from the first of them to the seal after the last. `audit verify --dir`
 * proves the unpacked folder. 0, or a JG_ERR_* with why in err:
 * JG_ERR_NOTFOUND when the session has neither recording nor events. */
int jg_audit_evidence_write(const struct jg_audit_evidence *x, int fd,
                            char *err, size_t errn);

/* What an unpacked evidence archive's EVIDENCE says (verify_evidence.c). */
struct jg_audit_evidence_info {
    char session[JG_AUDIT_ID_STRLEN];
    char made[JG_AUDIT_TIME_STRLEN];
    char by[128];
    bool has_events;            /* events/ holds a slice of the chain */
    uint64_t seq;               /* its first line's seq and prev */
    char prev[65];
};
/* Parses an EVIDENCE manifest (name for messages): 0, or JG_ERR_INVALID
 * with why in err (name:line:col for JSON that does not parse). */
int jg_audit_evidence_parse(const char *data, size_t len, const char *name,
                            struct jg_audit_evidence_info *e, char *err,
                            size_t errn);
/* Reads dir/EVIDENCE: 0; JG_ERR_NOTFOUND when dir is not an evidence
 * folder; JG_ERR_INVALID or JG_ERR_TOOBIG with why in err when the
 * manifest is malformed or too large. */
int jg_audit_evidence_read(const char *dir, struct jg_audit_evidence_info *e,
                           char *err, size_t errn);
/* Every line of dir/session-events.jsonl must be a line of session id in
 * the chain under dir/events/, and every such line must be there: 0, or
 * JG_ERR_INVALID with each problem in d; *lines counts the excerpt. */
int jg_audit_evidence_excerpt(const char *dir, const char *id, size_t *lines,
                              struct jg_diags *d);

/* ---- searching an audit folder (search.c) ------------------------------- */

/* A match: the session (user and target may be NULL), seconds from its
 * start, where it was found ("": a line the person saw; "exec": the
 * recording's command; "TYPE FIELD": a field of an event, such as
 * "sftp.open path") and the text that matched (borrowed for the call). */
struct jg_audit_hit {
    const char *id, *user, *target;
    int64_t start_us;
    double offset;
    const char *what;
    const char *text;
};

struct jg_audit_search {
    const regex_t *re;
    /* Is the session of user on target, started at start_us, searched?
     * NULL: every one. Asked once per recording, and per event of a
     * session that has none. */
    bool (*want)(const char *user, const char *target, int64_t start_us,
                 void *arg);
    /* Each hit, in recording order then event-log order; false stops. */
    bool (*hit)(const struct jg_audit_hit *h, void *arg);
    /* A recording that cannot be read (may be NULL). */
    void (*warn)(const char *msg, void *arg);
    void *arg;
};

struct jg_audit_search_stats {
    size_t bad_recs, bad_events;
    bool events_unreadable;
    bool stopped;               /* hit() asked to stop */
};

/* Searches audit_dir's recordings and event log for q->re. 0, or
 * JG_ERR_NOTFOUND / JG_ERR_IO (errno) when audit_dir cannot be listed;
 * what could not be read is counted in *st. */
int jg_audit_search(const char *audit_dir, const struct jg_audit_search *q,
                    struct jg_audit_search_stats *st);

/* ---- terminal text (text.c, filter.c) ----------------------------------- */

/* Rebuilds the lines a person saw from output: escape sequences dropped,
 * CR, BS, cursor left/right and erase-in-line applied, lines kept across
 * event boundaries. Each finished line goes to cb with the time of the
 * event where it began. */
struct jg_audit_text;
typedef void (*jg_audit_line_cb)(const char *line, size_t len, double t,
                                 void *arg);
struct jg_audit_text *jg_audit_text_new(jg_audit_line_cb cb, void *arg);
void jg_audit_text_feed(struct jg_audit_text *x, const char *data, size_t len,
                        double t);
/* Emits the unfinished line, if any. */
void jg_audit_text_flush(struct jg_audit_text *x);
void jg_audit_text_free(struct jg_audit_text *x);

/* A filter for what replay writes to the auditor's terminal: OSC (titles,
 * clipboard OSC 52, hyperlinks, colour queries), DCS, SOS, PM and APC
 * strings and C1 controls are dropped, across event boundaries; everything
 * else (text, CSI, SGR) passes. State is kept in *f (zero it first). */
struct jg_audit_filter {
    int state;
};
/* Writes the filtered bytes of data to out (room for len + 2); returns
 * their count. */
size_t jg_audit_filter_feed(struct jg_audit_filter *f, const char *data,
                            size_t len, char *out);

/* ---- SFTP v3 (sftp.c, sftp_text.c) --------------------------------------
 * A streaming parser of the SFTP protocol version 3
 * (draft-ietf-secsh-filexfer-02) as it crosses the gateway: it is fed the
 * bytes of both directions in arbitrary chunks (a packet may be split
 * across any number of chunks, several packets may share one), never
 * alters them, pairs requests with replies by id and reports what the
 * client did to the target's files as events.
 *
 * It follows what OpenSSH's sftp-server accepts: a repeated INIT (each
 * answered by a VERSION) and its extended requests. Requests that change
 * the target's files are reported (OPEN, SETSTAT, FSETSTAT, REMOVE,
 * MKDIR, RMDIR, RENAME, SYMLINK, posix-rename@openssh.com,
 * lsetstat@openssh.com, hardlink@openssh.com, copy-data; WRITEs are
 * counted into the CLOSE), as are extended requests of any other name;
 * those that only read (STAT, READDIR, READLINK, REALPATH, statvfs,
 * fsync, limits, expand-path, home-directory, users-groups-by-id...) are
 * not.
 *
 * Memory is bounded: of each packet only its head is kept (at most
 * JG_AUDIT_SFTP_KEEP bytes; the data of WRITE and DATA packets is skipped
 * unbuffered, only its length counted), paths are cut at
 * JG_AUDIT_SFTP_PATH_MAX bytes and request names at
 * JG_AUDIT_SFTP_NAME_MAX ("truncated" in the event), and at most
 * JG_AUDIT_SFTP_MAX_REQS outstanding requests and JG_AUDIT_SFTP_MAX_HANDLES
 * open handles are tracked; past that the oldest is dropped and counted,
 * and its event given at once with JG_AUDIT_SFTP_ST_UNKNOWN.
 * Lengths are never trusted: a packet shorter than 5 or longer than
 * JG_AUDIT_SFTP_MAX_PACKET bytes, a string running past its packet, a
 * stream that does not start with INIT / VERSION 3, a VERSION that answers
 * no INIT or a handle longer than 256 bytes gives one JG_AUDIT_SFTP_ERROR
 * event, after which the parser ignores everything fed to it: the caller
 * must then stop relaying the channel (jg_audit_sftp_failed()), since
 * what follows would pass unrecorded. */

#define JG_AUDIT_SFTP_MAX_PACKET (1u << 20)
#define JG_AUDIT_SFTP_PATH_MAX 4096u
#define JG_AUDIT_SFTP_KEEP (2u * JG_AUDIT_SFTP_PATH_MAX + 1024u)
#define JG_AUDIT_SFTP_HANDLE_MAX 256u
#define JG_AUDIT_SFTP_NAME_MAX 256u
#define JG_AUDIT_SFTP_MAX_REQS 256u
#define JG_AUDIT_SFTP_MAX_HANDLES 64u

/* What an event reports; jg_audit_sftp_type() names them. */
enum jg_audit_sftp_kind {
    JG_AUDIT_SFTP_OPEN = 1, /* OPEN: path, flags, mode when given; once the
                               HANDLE or STATUS reply came */
    JG_AUDIT_SFTP_CLOSE,    /* CLOSE of a file handle: path, bytes_read (DATA
                               replies), bytes_written (WRITEs answered OK) */
    JG_AUDIT_SFTP_REMOVE,   /* path */
    JG_AUDIT_SFTP_RENAME,   /* path, to (RENAME, posix-rename@openssh.com) */
    JG_AUDIT_SFTP_MKDIR,    /* path, mode when given */
    JG_AUDIT_SFTP_RMDIR,    /* path */
    JG_AUDIT_SFTP_SETSTAT,  /* path (FSETSTAT: of the handle), attributes
                               (SETSTAT, FSETSTAT, lsetstat@openssh.com) */
    JG_AUDIT_SFTP_OPENDIR,  /* path */
    JG_AUDIT_SFTP_ERROR,    /* error: why parsing stopped */
    JG_AUDIT_SFTP_SYMLINK,  /* path: the link made, to: what it points to
                               (SYMLINK, whose arguments OpenSSH takes as
                               target first, then link) */
    JG_AUDIT_SFTP_LINK,     /* path: the hard link made, to: the existing
                               file (hardlink@openssh.com) */
    JG_AUDIT_SFTP_COPY,     /* path: the file read, to: the file written
                               (their handles' paths), length (0: to the
                               end) (copy-data) */
    JG_AUDIT_SFTP_EXTENDED, /* request: the name of an extended request
                               the parser does not know */
    JG_AUDIT_SFTP_KIND_MAX
};

/* Status of an event: an SSH_FX_* code (0 ok, 2 no such file, ...) from
 * the server's reply, or one of these. */
#define JG_AUDIT_SFTP_ST_NO_REPLY (-1) /* the channel ended first */
#define JG_AUDIT_SFTP_ST_UNCLOSED (-2) /* a handle open at the end */
#define JG_AUDIT_SFTP_ST_UNKNOWN (-3)  /* parsing stopped before the reply,
                                          or the request or handle was
                                          dropped from its full table */

/* SFTP v3 file attributes (only the members named in flags are set). */
#define JG_AUDIT_SFTP_ATTR_SIZE 0x1u
#define JG_AUDIT_SFTP_ATTR_UIDGID 0x2u
#define JG_AUDIT_SFTP_ATTR_PERMISSIONS 0x4u
#define JG_AUDIT_SFTP_ATTR_ACMODTIME 0x8u
struct jg_audit_sftp_attrs {
    uint32_t flags;
    uint64_t size;
    uint32_t uid, gid, perm, atime, mtime;
};

/* One event; strings are valid UTF-8 (see jg_audit_utf8_clean), borrowed
 * for the callback only. */
struct jg_audit_sftp_event {
    enum jg_audit_sftp_kind kind;
    const char *path;        /* NULL when unknown (e.g. an evicted handle) */
    const char *to;          /* RENAME: the new path; SYMLINK, LINK: the
                                target; COPY: the file written */
    const char *request;     /* EXTENDED: the request's name */
    bool truncated;          /* a path or name was longer than kept */
    uint32_t pflags;         /* OPEN: SSH_FXF_* bits */
    struct jg_audit_sftp_attrs attrs; /* OPEN, MKDIR, SETSTAT */
    uint64_t bytes_read, bytes_written; /* CLOSE */
    uint64_t length;         /* COPY: bytes asked for, 0: to the end */
    int32_t status;          /* SSH_FX_* or JG_AUDIT_SFTP_ST_* */
    const char *error;       /* ERROR: the reason */
};

/* Counters of what the bounds cost. */
struct jg_audit_sftp_stats {
    uint64_t packets_in, packets_out;  /* client to server, and back */
    uint64_t dropped_requests;         /* evicted before their reply */
    uint64_t dropped_handles;          /* evicted before their CLOSE */
};

typedef void (*jg_audit_sftp_cb)(const struct jg_audit_sftp_event *ev,
                                 void *arg);
struct jg_audit_sftp;

/* A parser for one SFTP channel that calls cb(ev, arg) for each event.
 * Caller frees with jg_audit_sftp_free(). */
struct jg_audit_sftp *jg_audit_sftp_new(jg_audit_sftp_cb cb, void *arg);
/* Bytes of the channel: from_client true for what the client sent (its
 * requests), false for what the server sent. Events go to cb during the
 * call. */
void jg_audit_sftp_feed(struct jg_audit_sftp *p, bool from_client,
                        const void *data, size_t len);
/* The channel ended: requests still waiting for a reply are reported with
 * JG_AUDIT_SFTP_ST_NO_REPLY, file handles still open as CLOSE with
 * JG_AUDIT_SFTP_ST_UNCLOSED and their counts (JG_AUDIT_SFTP_ST_UNKNOWN for
 * both when parsing had stopped). Later feeds and finishes do nothing. */
void jg_audit_sftp_finish(struct jg_audit_sftp *p);
/* True once the stream could not be parsed (an ERROR event was given). */
bool jg_audit_sftp_failed(const struct jg_audit_sftp *p);
/* The reason of that ERROR event, or NULL; valid until p is freed. */
const char *jg_audit_sftp_error(const struct jg_audit_sftp *p);
/* Borrowed, valid until p is freed. */
const struct jg_audit_sftp_stats *jg_audit_sftp_stats(const struct jg_audit_sftp *p);
void jg_audit_sftp_free(struct jg_audit_sftp *p);

/* "sftp.open", "sftp.close", ...; NULL for a kind out of range. */
const char *jg_audit_sftp_type(enum jg_audit_sftp_kind kind);
/* Open flags as text: "read,write,append,creat,trunc,excl" (those set, in
 * that order, then unknown bits as "0x..."; "none" for 0). */
void jg_audit_sftp_flags_text(uint32_t pflags, char *buf, size_t n);
/* "ok", "eof", "no_such_file", "permission_denied", "failure",
 * "bad_message", "no_connection", "connection_lost", "op_unsupported",
 * "status_N" for other codes, "no_reply", "unclosed", "unknown". */
void jg_audit_sftp_status_text(int32_t status, char *buf, size_t n);
/* The type-specific members of ev for the event log (struct
 * jg_audit_event.extra): path, to, request, truncated, flags, mode (4
 * octal digits), size, uid, gid, atime, mtime, bytes_read, bytes_written,
 * length, status. The
 * error text is the event's reason, not a member. Caller decrefs. */
json_t *jg_audit_sftp_event_json(const struct jg_audit_sftp_event *ev);

/* ---- MySQL (mysql.c, mysql_params.c, mysql_text.c, mysql_hello.c) ------
 * A streaming parser of the MySQL client/server protocol's command phase
 * (after the handshake; no compression, no TLS inside) as it crosses the
 * gateway's MySQL-aware tunnel: it is fed the bytes of both directions in
 * arbitrary chunks, never alters them, frames packets (a payload of
 * 0xffffff bytes continues in the next packet: packets of over 16 MiB),
 * pairs each command with the server's answer, in order (a client may
 * send several before the first answer), and reports each statement as an
 * event: COM_QUERY with its text, COM_STMT_PREPARE with its text,
 * COM_STMT_EXECUTE with the prepared text and the bound parameters
 * decoded from the binary protocol, COM_INIT_DB with the schema and
 * COM_PROCESS_KILL; with the answer: rows returned (text or binary
 * result sets, all of a multi-result answer), rows affected, last insert
 * id, warnings, or the error's code, SQL state and message, and the time
 * from the command's first byte to the answer's last. Pings, statistics,
 * option and reset commands, field lists, cursor fetches and statement
 * closes are followed but not reported. Result rows are counted, never
 * kept.
 *
 * Memory is bounded: of a client packet at most
 * JG_AUDIT_MYSQL_TEXT_MAX bytes of statement text are kept ("truncated"
 * past that), of a server packet its head; each parameter's value is cut
 * at JG_AUDIT_MYSQL_PARAM_MAX bytes and at most JG_AUDIT_MYSQL_PARAMS are
 * shown; JG_AUDIT_MYSQL_MAX_STMTS prepared statements and
 * JG_AUDIT_MYSQL_MAX_PENDING unanswered commands are tracked.
 * What it cannot follow gives one JG_AUDIT_MYSQL_ERROR event, after
 * which the parser ignores everything fed to it and the caller must stop
 * relaying the channel (jg_audit_mysql_failed()): a sequence id out of
 * order, a packet over JG_AUDIT_MYSQL_MAX_PACKET bytes, an answer no
 * command asked for, an unknown or refused command (COM_CHANGE_USER,
 * which would sign in again past the gateway; replication and debug
 * commands), a LOCAL INFILE request, a malformed OK, ERR, EOF or
 * prepare answer, an EXECUTE of a statement never prepared, or more
 * than the tables hold. */

#define JG_AUDIT_MYSQL_MAX_PACKET (1u << 30)
#define JG_AUDIT_MYSQL_TEXT_MAX (64u << 10)
#define JG_AUDIT_MYSQL_PARAM_MAX 1024u
#define JG_AUDIT_MYSQL_PARAMS 64u
#define JG_AUDIT_MYSQL_MAX_STMTS 256u
#define JG_AUDIT_MYSQL_MAX_PENDING 64u

/* Capability flags the parser and the handshake read. */
#define JG_MYSQL_CLIENT_LONG_PASSWORD 0x00000001u
#define JG_MYSQL_CLIENT_FOUND_ROWS 0x00000002u
#define JG_MYSQL_CLIENT_LONG_FLAG 0x00000004u
#define JG_MYSQL_CLIENT_CONNECT_WITH_DB 0x00000008u
#define JG_MYSQL_CLIENT_COMPRESS 0x00000020u
#define JG_MYSQL_CLIENT_LOCAL_FILES 0x00000080u
#define JG_MYSQL_CLIENT_PROTOCOL_41 0x00000200u
#define JG_MYSQL_CLIENT_INTERACTIVE 0x00000400u
#define JG_MYSQL_CLIENT_SSL 0x00000800u
#define JG_MYSQL_CLIENT_TRANSACTIONS 0x00002000u
#define JG_MYSQL_CLIENT_SECURE_CONNECTION 0x00008000u
#define JG_MYSQL_CLIENT_MULTI_STATEMENTS 0x00010000u
#define JG_MYSQL_CLIENT_MULTI_RESULTS 0x00020000u
#define JG_MYSQL_CLIENT_PS_MULTI_RESULTS 0x00040000u
#define JG_MYSQL_CLIENT_PLUGIN_AUTH 0x00080000u
#define JG_MYSQL_CLIENT_CONNECT_ATTRS 0x00100000u
#define JG_MYSQL_CLIENT_PLUGIN_AUTH_LENENC 0x00200000u
#define JG_MYSQL_CLIENT_SESSION_TRACK 0x00800000u
#define JG_MYSQL_CLIENT_DEPRECATE_EOF 0x01000000u

/* What an event reports. */
enum jg_audit_mysql_kind {
    JG_AUDIT_MYSQL_QUERY = 1, /* COM_QUERY: text */
    JG_AUDIT_MYSQL_PREPARE,   /* COM_STMT_PREPARE: text; params: how many
                                 placeholders the server counted */
    JG_AUDIT_MYSQL_EXECUTE,   /* COM_STMT_EXECUTE: the prepared text and
                                 the parameters */
    JG_AUDIT_MYSQL_INIT_DB,   /* COM_INIT_DB: text is the schema */
    JG_AUDIT_MYSQL_KILL,      /* COM_PROCESS_KILL: text "KILL <id>" */
    JG_AUDIT_MYSQL_ERROR,     /* error: why parsing stopped */
    JG_AUDIT_MYSQL_KIND_MAX
};

/* How a command ended. */
enum jg_audit_mysql_status {
    JG_AUDIT_MYSQL_ST_OK = 1,   /* OK, EOF or a whole result set */
    JG_AUDIT_MYSQL_ST_ERROR,    /* an ERR packet: code, sqlstate, message */
    JG_AUDIT_MYSQL_ST_NO_REPLY, /* the connection ended first */
    JG_AUDIT_MYSQL_ST_UNKNOWN   /* parsing stopped before the answer */
};

/* One bound parameter: its type ("tiny", "long", "double", "string",
 * "datetime", ...; "unsigned long" for unsigned integers) and value as
 * text (integers and floats in decimal, dates as 'YYYY-MM-DD
 * hh:mm:ss.ffffff', strings as valid UTF-8, other bytes as \xNN). */
struct jg_audit_mysql_param {
    const char *type;
    const char *value;  /* NULL for SQL NULL */
    bool truncated;     /* cut at JG_AUDIT_MYSQL_PARAM_MAX bytes */
};

/* One event; strings are valid UTF-8, borrowed for the callback only. */
struct jg_audit_mysql_event {
    enum jg_audit_mysql_kind kind;
    const char *text;           /* statement text, schema, "KILL n" */
    bool truncated;             /* text longer than kept */
    uint32_t stmt_id;           /* PREPARE (once answered), EXECUTE */
    const struct jg_audit_mysql_param *params; /* EXECUTE */
    size_t n_params;            /* EXECUTE: shown; PREPARE: counted */
    bool params_truncated;      /* more parameters than shown, or values
                                   past the kept packet head */
    enum jg_audit_mysql_status status;
    uint64_t rows;              /* rows returned (all result sets) */
    uint64_t affected;          /* rows affected (the OK packets) */
    uint64_t insert_id;
    uint32_t warnings;
    uint16_t err_code;          /* ST_ERROR */
    const char *sqlstate;       /* ST_ERROR: five characters, or "" */
    const char *err_msg;        /* ST_ERROR */
    uint64_t duration_us;       /* first byte of the command to last of the
                                   answer, by the feeds' clocks */
    const char *error;          /* ERROR: the reason */
};

/* Counters of a connection. */
struct jg_audit_mysql_stats {
    uint64_t commands;          /* every command the client sent */
    uint64_t statements;        /* those reported as events */
    uint64_t errors;            /* answered with ERR */
    uint64_t rows;              /* rows returned */
    uint64_t packets_in, packets_out; /* client to server, and back */
};

typedef void (*jg_audit_mysql_cb)(const struct jg_audit_mysql_event *ev,
                                  void *arg);
struct jg_audit_mysql;

/* A parser for one connection whose handshake settled caps (the
 * capability flags both sides use: CLIENT_PROTOCOL_41 is required,
 * CLIENT_DEPRECATE_EOF changes how result sets end); it calls cb(ev, arg)
 * for each event. Caller frees with jg_audit_mysql_free(). */
struct jg_audit_mysql *jg_audit_mysql_new(uint32_t caps, jg_audit_mysql_cb cb,
                                          void *arg);
/* Bytes of the connection: from_client true for what the client sent,
 * false for the server's; now_us is a monotonic clock in microseconds,
 * for durations. Events go to cb during the call. */
void jg_audit_mysql_feed(struct jg_audit_mysql *p, bool from_client,
                         const void *data, size_t len, uint64_t now_us);
/* The connection ended: commands still waiting for their answer are
 * reported with JG_AUDIT_MYSQL_ST_NO_REPLY (ST_UNKNOWN when parsing had
 * stopped). Later feeds and finishes do nothing. */
void jg_audit_mysql_finish(struct jg_audit_mysql *p);
/* True once the stream could not be followed (an ERROR event was given). */
bool jg_audit_mysql_failed(const struct jg_audit_mysql *p);
/* The reason of that ERROR event, or NULL; valid until p is freed. */
const char *jg_audit_mysql_error(const struct jg_audit_mysql *p);
/* Borrowed, valid until p is freed. */
const struct jg_audit_mysql_stats *
jg_audit_mysql_stats(const struct jg_audit_mysql *p);
void jg_audit_mysql_free(struct jg_audit_mysql *p);

/* "query", "prepare", "execute", "init_db", "kill"; NULL otherwise. */
const char *jg_audit_mysql_command(enum jg_audit_mysql_kind kind);
/* "ok", "error", "no_reply", "unknown". */
const char *jg_audit_mysql_status_text(enum jg_audit_mysql_status st);
/* The members of a db.query event for the event log (struct
 * jg_audit_event.extra): command, statement, truncated, stmt_id, params
 * (an array of {type, value}; value null for NULL), params_truncated,
 * status, rows, affected, insert_id, warnings, error_code, sqlstate,
 * error_message, duration_ms. Caller decrefs. */
json_t *jg_audit_mysql_event_json(const struct jg_audit_mysql_event *ev);

/* A parameter's value sent with COM_STMT_SEND_LONG_DATA (in one part or
 * more) before an execute: its first JG_AUDIT_MYSQL_PARAM_MAX bytes, and
 * whether more came. */
struct jg_audit_mysql_long {
    size_t kept;
    bool cut;
    uint8_t head[JG_AUDIT_MYSQL_PARAM_MAX];
};

/* Decodes the bound parameters of a COM_STMT_EXECUTE payload p (n bytes
 * kept of a packet of total bytes; p[0] is the command byte; no query
 * attributes: the gateway does not offer CLIENT_QUERY_ATTRIBUTES) for a
 * statement of n_params placeholders. types holds 2 * n_params + 1
 * bytes: the types an earlier execute bound, and a last byte set once
 * they were bound; this one's new types go there. long_data (a bit per
 * parameter, or NULL) marks those sent with COM_STMT_SEND_LONG_DATA,
 * which are not in the packet; longs (NULL, or one for each of the
 * first max parameters) holds what they sent, shown as their values.
 * Fills out[] (at most max; values
 * allocated, freed with jg_audit_mysql_params_free()) and *shown, and
 * sets *cut when some were not shown. JG_ERR_INVALID with why when the
 * packet does not hold what it says. */
int jg_audit_mysql_params(const uint8_t *p, size_t n, size_t total,
                          uint16_t n_params, uint8_t *types,
                          const uint8_t *long_data,
                          const struct jg_audit_mysql_long *longs,
                          struct jg_audit_mysql_param *out, size_t max,
                          size_t *shown, bool *cut, char *why, size_t whyn);
void jg_audit_mysql_params_free(struct jg_audit_mysql_param *ps, size_t n);

/* ---- the MySQL handshake (mysql_hello.c) ---------------------------------
 * The packets of the connection phase that the gateway reads and writes
 * on both sides of a MySQL-aware tunnel: the server's greeting (Protocol
 * HandshakeV10), the client's HandshakeResponse41 and SSLRequest, OK and
 * ERR, and the auth responses of mysql_native_password and
 * caching_sha2_password. Payloads only (the caller frames them); what
 * is parsed is untrusted: every length is checked, strings are cut to
 * their fields and must hold no NUL. */

#define JG_MYSQL_SCRAMBLE_LEN 20
#define JG_MYSQL_NAME_MAX 256      /* user, schema, plugin */
#define JG_MYSQL_AUTH_MAX 4096     /* an auth response: an IAM token fits */

struct jg_mysql_greeting {
    char version[64];
    uint32_t conn_id;
    uint8_t scramble[JG_MYSQL_SCRAMBLE_LEN];
    uint32_t caps;               /* the low and high capability words */
    uint8_t charset;
    uint16_t status;
    char plugin[64];             /* "" when the server names none */
};
/* Parses a greeting; JG_ERR_INVALID with why (an ERR packet instead of a
 * greeting says its message). */
int jg_mysql_greeting_parse(const uint8_t *p, size_t n,
                            struct jg_mysql_greeting *g, char *why,
                            size_t whyn);
/* Writes g as a greeting payload into out (cap bytes, 128 do); its
 * length. */
size_t jg_mysql_greeting_build(const struct jg_mysql_greeting *g,
                               uint8_t *out, size_t cap);

struct jg_mysql_login {
    uint32_t caps;
    uint32_t max_packet;
    uint8_t charset;
    bool ssl_request;            /* parsed: an SSLRequest (32 bytes with
                                    CLIENT_SSL), nothing more follows */
    char user[JG_MYSQL_NAME_MAX];
    uint8_t auth[JG_MYSQL_AUTH_MAX];
    size_t auth_len;
    char schema[JG_MYSQL_NAME_MAX]; /* with CLIENT_CONNECT_WITH_DB */
    char plugin[64];             /* with CLIENT_PLUGIN_AUTH */
};
/* Parses a HandshakeResponse41 or an SSLRequest (client attributes are
 * skipped); JG_ERR_INVALID with why, also for the pre-4.1 protocol. */
int jg_mysql_login_parse(const uint8_t *p, size_t n, struct jg_mysql_login *l,
                         char *why, size_t whyn);
/* Writes l as a HandshakeResponse41 payload (an SSLRequest when
 * l->ssl_request) into out (cap bytes, 1024 do); its length, 0 when it
 * does not fit. */
size_t jg_mysql_login_build(const struct jg_mysql_login *l, uint8_t *out,
                            size_t cap);
/* An ERR payload with the SQL state (5 characters) and message (cut to
 * fit); its length. */
size_t jg_mysql_err_build(uint16_t code, const char *sqlstate,
                          const char *msg, uint8_t *out, size_t cap);
/* The message of an ERR payload (p[0] == 0xff; with or without the
 * '#' and SQL state) into out (cap bytes, at least 1), bytes outside
 * printable ASCII shown as '?'; its code, 0 when p is too short. */
uint16_t jg_mysql_err_text(const uint8_t *p, size_t n, char *out, size_t cap);
/* An OK payload with no rows and status; its length (7). */
size_t jg_mysql_ok_build(uint16_t status, uint8_t *out, size_t cap);
/* The auth response of mysql_native_password for password and the
 * server's scramble: SHA1(pw) XOR SHA1(scramble || SHA1(SHA1(pw))). */
void jg_mysql_native_auth(const char *password,
                          const uint8_t scramble[JG_MYSQL_SCRAMBLE_LEN],
                          uint8_t out[20]);
/* The fast auth response of caching_sha2_password: SHA256(pw) XOR
 * SHA256(SHA256(SHA256(pw)) || scramble). */
void jg_mysql_sha2_auth(const char *password,
                        const uint8_t scramble[JG_MYSQL_SCRAMBLE_LEN],
                        uint8_t out[32]);
/* Frames payload (n bytes, at most 0xffffff) as one packet with sequence
 * id seq into out (n + 4 bytes). */
void jg_mysql_frame(uint8_t seq, const uint8_t *payload, size_t n,
                    uint8_t *out);

#endif
