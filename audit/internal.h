/* SPDX-License-Identifier: Apache-2.0 */
/* audit/internal.h - helpers shared by the files of audit/ only: verified
 * folder fds, whole writes, a bounded line reader, hex and base64. */
#ifndef JG_AUDIT_INTERNAL_H
#define JG_AUDIT_INTERNAL_H

#include <sys/types.h>

#include "audit/audit.h"

#define JG_AUDIT_DIR_MODE 0750
#define JG_AUDIT_FILE_MODE 0640

/* Opens path as a folder (following symlinks in the configured path itself)
 * and checks it: a folder, owned by us or root, not world-writable. */
int jg_audit_dir_open(const char *path, int *fd);
/* Opens (creating with JG_AUDIT_DIR_MODE when create) folder name below
 * dfd with O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC and checks it the same way. */
int jg_audit_subdir(int dfd, const char *name, bool create, int *fd);
/* write(2) until all of buf is written; a short write is JG_ERR_IO. */
int jg_audit_write_all(int fd, const void *buf, size_t len);
/* Reads a whole file below dfd (at most max bytes: JG_ERR_TOOBIG). Caller
 * frees *data (NUL-terminated). */
int jg_audit_read_at(int dfd, const char *name, size_t max, char **data,
                     size_t *len);
void jg_audit_hex(const uint8_t *b, size_t n, char *out);
/* Base64 (standard, padded) of n bytes into out (4*((n+2)/3)+1 bytes). */
void jg_audit_b64(const uint8_t *b, size_t n, char *out);
/* Decodes strict padded base64; returns the byte count or -1. */
ssize_t jg_audit_unb64(const char *s, size_t len, uint8_t *out, size_t outn);

/* A writer thread for one recording (wq.c): jobs run in queue
 * order beside the caller; at most max_bytes wait (the caller blocks
 * beyond that). The first failure is kept: every later call returns it,
 * and no job queued after it runs. */
struct jg_audit_wq;
int jg_audit_wq_start(size_t max_bytes, struct jg_audit_wq **out);
/* Queues a job: fn(ctx, buf, len) runs in the thread; its non-zero result
 * is the queue's failure. buf (NULL, malloc'ed, or a block when pooled) is
 * taken and freed, or given back to the pool, after the call; it counts
 * len bytes against max_bytes (1 when 0), a block its whole size. */
typedef int (*jg_audit_wq_fn)(void *ctx, char *buf, size_t len);
int jg_audit_wq_run(struct jg_audit_wq *q, jg_audit_wq_fn fn, void *ctx,
                    char *buf, size_t len, bool pooled);
/* Blocks: buffers of JG_AUDIT_WQ_BLOCK bytes that go back to a pool of
 * the queue once their job ran. jg_audit_wq_block() hands one out (NULL
 * when out of memory); jg_audit_wq_trim() frees the pool (an idle
 * recording). */
#define JG_AUDIT_WQ_BLOCK JG_AUDIT_REC_BLOCK
char *jg_audit_wq_block(struct jg_audit_wq *q);
void jg_audit_wq_trim(struct jg_audit_wq *q);
int jg_audit_wq_error(struct jg_audit_wq *q);
/* Runs what waits, stops the thread, frees q; the first failure or 0. */
int jg_audit_wq_finish(struct jg_audit_wq *q);

/* Writes the JSON string literal (quotes included) of the n bytes of valid
 * UTF-8 at s into out; returns its length (no NUL). Only ASCII bytes are
 * escaped (to at most six bytes each), every other byte is copied, so out
 * needs 2 + 6 per ASCII byte + 1 per other byte: 6 * n + 2 always does.
 * The escapes are those of jansson's compact dump. */
size_t jg_audit_json_quote(const char *s, size_t n, char *out);
/* How many of the n bytes at p, from the start, are ASCII (below 0x80). */
size_t jg_audit_ascii_run(const uint8_t *p, size_t n);
/* json_string of a cleaned (valid UTF-8) copy of s, or json_null for NULL;
 * NULL when out of memory. */
json_t *jg_audit_jstr(const char *s);
/* Compact, order-preserving dump of j followed by '\n', reals with 15
 * significant digits. Caller frees. NULL when out of memory. */
char *jg_audit_dump_line(const json_t *j, size_t *len);

/* ---- the recording format (recfmt.c) -------------------------------------
 * ID.jgr, described for readers in jumpgate-recording(5):
 *   file   = magic frame*
 *   magic  = "JGREC1\n\0"
 *   frame  = type u8, flags u8, 0 u16, stored u32le, raw u32le,
 *            stored bytes of payload
 * 'H' the header (JSON), first and once; 'D' a block of records, zstd
 * when flags has JG_REC_F_ZSTD (raw: its size decompressed); 'S' a seal
 * (a checkpoint line over every byte before the frame). A block's raw
 * payload is a varint base time (µs since the start) and records:
 *   record = kind u8, varint µs since the previous record (the first:
 *            since the base), varint length, data. */
#define JG_REC_MAGIC "JGREC1\n"
#define JG_REC_MAGIC_LEN 8u  /* the string above and its NUL */
#define JG_REC_FRAME_LEN 12u
#define JG_REC_HEADER 'H'
#define JG_REC_DATA 'D'
#define JG_REC_SEAL 'S'
#define JG_REC_F_ZSTD 0x01u
/* Largest header or seal payload a reader accepts. */
#define JG_REC_META_MAX (64u * 1024)
/* A record's head: kind, and two varints of at most 10 bytes. */
#define JG_REC_RECORD_HEAD 21u

struct jg_rec_frame {
    uint8_t type, flags;
    uint32_t stored, raw;
};
void jg_audit_frame_pack(const struct jg_rec_frame *f,
                         uint8_t out[JG_REC_FRAME_LEN]);
/* Unpacks and checks a frame head: a known type, no unknown flags, the
 * size limits (a block expands to at most JG_AUDIT_REC_BLOCK bytes and is
 * stored in no more; header and seal at most JG_REC_META_MAX, stored as
 * they are). JG_ERR_INVALID with the reason in err. */
int jg_audit_frame_unpack(const uint8_t in[JG_REC_FRAME_LEN],
                          struct jg_rec_frame *f, char *err, size_t errn);
/* LEB128: writes v (at most 10 bytes) and returns the count; reads one at
 * p[*pos..n) into *v, advancing *pos: 0, or -1 when cut short or longer
 * than 64 bits. */
size_t jg_audit_varint_put(uint8_t *p, uint64_t v);
int jg_audit_varint_get(const uint8_t *p, size_t n, size_t *pos, uint64_t *v);
/* True for a record kind of the format ('o','e','i','r','x','m'). */
bool jg_audit_record_kind_ok(uint8_t kind);
/* Reads exactly len bytes at offset off of fd: 1, 0 when the file ends
 * first (a frame still being written, or cut short), JG_ERR_IO. */
int jg_audit_pread(int fd, void *buf, size_t len, uint64_t off);

/* The writing side of one recording (recw.c): frames, zstd, the
 * running SHA-256 and the seals. After jg_audit_recw_start() (magic, header,
 * first seal, synced; called before the writer thread starts) only the
 * writer thread touches it, through the jobs below. */
struct jg_rec_w;
int jg_audit_recw_start(int fd, const char *id, const struct jg_audit_key *key,
                        const char *header, size_t header_len, int64_t now_us,
                        struct jg_rec_w **out);
void jg_audit_recw_free(struct jg_rec_w *w);
/* Jobs (jg_audit_wq_fn, ctx the struct jg_rec_w): a block of len bytes of
 * records becomes a data frame; a seal request (struct jg_rec_seal_req,
 * malloc'ed) a seal frame; trim frees the compression context of an idle
 * recording. */
struct jg_rec_seal_req {
    int64_t time_us;
    bool final, sync;   /* sync: fdatasync before the seal is written */
};
int jg_audit_recw_block(void *w, char *block, size_t len);
int jg_audit_recw_seal(void *w, char *req, size_t len);
int jg_audit_recw_trim(void *w, char *unused, size_t len);


/* An event-log line (parsed) of session id for its evidence: it names
 * the session and is not the console's (verify_evidence.c). */
bool jg_audit_evidence_line(json_t *o, const char *id);

/* ---- MySQL packet fields (mysql_wire.c) ------------------------------- */

/* A packet being read; bad once a read ran past its end (then every
 * later read gives 0). */
struct jg_my_rd {
    const uint8_t *p;
    size_t n;
    bool bad;
};
/* k (at most 8) little-endian bytes. */
uint64_t jg_my_le(struct jg_my_rd *r, size_t k);
void jg_my_skip(struct jg_my_rd *r, size_t k);
/* A length-encoded integer (0xfb and 0xff make r bad). */
uint64_t jg_my_lenenc(struct jg_my_rd *r);

#endif