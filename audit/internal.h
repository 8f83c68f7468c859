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

/* A writer thread for one recording (jg_audit_wq.c): writes and syncs run
 * in queue order beside the caller; at most max_bytes wait (the caller
 * blocks beyond that). The first failure is kept: every later call returns
 * it, and nothing queued after it is written. */
struct jg_audit_wq;
int jg_audit_wq_start(size_t max_bytes, struct jg_audit_wq **out);
/* Queues a write of len bytes of buf to fd; buf (malloc'ed) is taken. */
int jg_audit_wq_write(struct jg_audit_wq *q, int fd, char *buf, size_t len);
/* Blocks: buffers of JG_AUDIT_WQ_BLOCK bytes that go back to a pool of
 * the queue once written. jg_audit_wq_block() hands one out (NULL when out
 * of memory); jg_audit_wq_write_block() queues len bytes of it and takes
 * it, counting the whole block against max_bytes; jg_audit_wq_trim() frees
 * the pool (an idle recording). */
#define JG_AUDIT_WQ_BLOCK (256u * 1024)
char *jg_audit_wq_block(struct jg_audit_wq *q);
int jg_audit_wq_write_block(struct jg_audit_wq *q, int fd, char *block,
                            size_t len);
void jg_audit_wq_trim(struct jg_audit_wq *q);
/* Queues an fdatasync(fd). */
int jg_audit_wq_sync(struct jg_audit_wq *q, int fd);
int jg_audit_wq_error(struct jg_audit_wq *q);
/* Writes what waits, stops the thread, frees q; the first failure or 0. */
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
/* Compact, order-preserving dump of j followed by '\n'. Caller frees. NULL
 * when out of memory. */
char *jg_audit_dump_line(const json_t *j, size_t *len);

#endif
