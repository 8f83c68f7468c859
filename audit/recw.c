/* SPDX-License-Identifier: Apache-2.0 */
/* audit/recw.c - the writing side of a recording (.jgr): turns
 * blocks of records into frames (zstd-compressed when that shrinks them),
 * keeps the running SHA-256 of every byte of the file, and writes and
 * syncs the signed seals. It runs in the recording's writer thread
 * (wq.c), beside the monitor that encodes the records. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "audit/internal.h"

/* zstd's fastest standard level: measured against lz4 and zstd's
 * negative levels in jumpgate-recording(5). */
#define REC_ZSTD_LEVEL 1
/* After a block that did not shrink, this many (doubling up to the most)
 * are stored without trying: random bytes cost no compression. Only
 * blocks of SKIP_JUDGE bytes or more count (a keystroke's echo never
 * shrinks, and says nothing of what follows); blocks below TINY are
 * stored as they are. */
#define SKIP_FIRST 1u
#define SKIP_MOST 64u
#define SKIP_JUDGE (16u * 1024)
#define TINY 64u
/* Write-back starts every this many bytes, so a sync finds little to do;
 * what was written back a kick ago leaves the page cache then (a
 * recording is written once and seldom read soon: kept, it would push out
 * what the host needs). */
#define KICK_BYTES (2u * 1024 * 1024)

struct jg_rec_w {
    int fd;
    char id[JG_AUDIT_ID_STRLEN];
    const struct jg_audit_key *key;
    EVP_MD_CTX *sha;        /* over every byte written so far */
    uint64_t offset;        /* bytes written */
    uint64_t raw;           /* record bytes written */
    uint64_t seq;           /* seals written */
    ZSTD_CCtx *z;           /* made when needed, freed when idle */
    uint8_t *zbuf;
    unsigned skip, skip_next;
    uint64_t unkicked;
    uint64_t kicked;        /* offset of the last kick */
    uint64_t dropped;       /* bytes before it left the page cache */
};

/* Writes one frame (head and payload with one writev) and hashes it. */
static int
put_frame(struct jg_rec_w *w, uint8_t type, uint8_t flags, const void *p,
          uint32_t stored, uint32_t raw)
{
    struct jg_rec_frame f = {.type = type, .flags = flags, .stored = stored,
                             .raw = raw};
    uint8_t head[JG_REC_FRAME_LEN];
    struct iovec iov[2];
    size_t left = JG_REC_FRAME_LEN + (size_t)stored;
    ssize_t n;
    int i = 0;

    jg_audit_frame_pack(&f, head);
    if (EVP_DigestUpdate(w->sha, head, sizeof(head)) != 1 ||
        EVP_DigestUpdate(w->sha, p, stored) != 1)
        return JG_ERR_INTERNAL;
    iov[0].iov_base = head;
    iov[0].iov_len = sizeof(head);
    iov[1].iov_base = (void *)p;
    iov[1].iov_len = stored;
    while (i < 2) {
        n = writev(w->fd, iov + i, 2 - i);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return JG_ERR_IO;
        }
        /* A short write: go on from where it stopped. */
        while (i < 2 && (size_t)n >= iov[i].iov_len) {
            n -= (ssize_t)iov[i].iov_len;
            i++;
        }
        if (i < 2) {
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
            iov[i].iov_len -= (size_t)n;
        }
    }
    w->offset += left;
    /* Only a start, and only a hint: an error shows in the next sync. */
    if ((w->unkicked += left) >= KICK_BYTES) {
        sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        /* Only clean pages go; dirty ones stay until their write-back. */
        if (w->kicked > w->dropped) {
            posix_fadvise(w->fd, (off_t)w->dropped,
                          (off_t)(w->kicked - w->dropped), POSIX_FADV_DONTNEED);
            w->dropped = w->kicked;
        }
        w->kicked = w->offset;
        w->unkicked = 0;
    }
    return 0;
}

int
jg_audit_recw_block(void *ctx, char *block, size_t len)
{
    struct jg_rec_w *w = ctx;
    size_t zn;

    if (len == 0)
        return 0;
    if (len > JG_AUDIT_REC_BLOCK)
        return JG_ERR_INTERNAL;
    w->raw += len;
    if (len < TINY)
        return put_frame(w, JG_REC_DATA, 0, block, (uint32_t)len,
                         (uint32_t)len);
    if (w->skip > 0 && len >= SKIP_JUDGE) {
        w->skip--;
        return put_frame(w, JG_REC_DATA, 0, block, (uint32_t)len,
                         (uint32_t)len);
    }
    if (w->z == NULL) {
        if ((w->z = ZSTD_createCCtx()) == NULL)
            return JG_ERR_NOMEM;
        if (ZSTD_isError(ZSTD_CCtx_setParameter(w->z, ZSTD_c_compressionLevel,
                                                REC_ZSTD_LEVEL)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->z, ZSTD_c_checksumFlag,
                                                0)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->z, ZSTD_c_contentSizeFlag,
                                                1)))
            return JG_ERR_INTERNAL;
    }
    if (w->zbuf == NULL &&
        (w->zbuf = malloc(ZSTD_compressBound(JG_AUDIT_REC_BLOCK))) == NULL)
        return JG_ERR_NOMEM;
    zn = ZSTD_compress2(w->z, w->zbuf, ZSTD_compressBound(JG_AUDIT_REC_BLOCK),
                        block, len);
    if (!ZSTD_isError(zn) && zn < len - len / 32) {
        w->skip_next = 0;
        return put_frame(w, JG_REC_DATA, JG_REC_F_ZSTD, w->zbuf, (uint32_t)zn,
                         (uint32_t)len);
    }
    /* Did not shrink (by 1/32 at least): raw, and, for a large block, skip
     * the next few large ones. */
    if (len >= SKIP_JUDGE) {
        w->skip_next = w->skip_next == 0 ? SKIP_FIRST
                       : w->skip_next >= SKIP_MOST ? SKIP_MOST
                                                   : 2 * w->skip_next;
        w->skip = w->skip_next;
    }
    return put_frame(w, JG_REC_DATA, 0, block, (uint32_t)len, (uint32_t)len);
}

int
jg_audit_recw_seal(void *ctx, char *arg, size_t len)
{
    struct jg_rec_w *w = ctx;
    const struct jg_rec_seal_req *q = (const void *)arg;
    struct jg_audit_checkpoint cp = {0};
    EVP_MD_CTX *snap = NULL;
    uint8_t md[32];
    unsigned int mdlen = 0;
    char *line = NULL;
    size_t ll = 0;
    int e = JG_ERR_INTERNAL;

    if (q == NULL || len != sizeof(*q))
        return JG_ERR_INTERNAL;
    /* What a seal claims is on disk before the seal is. */
    if (q->sync && fdatasync(w->fd) != 0)
        return JG_ERR_IO;
    if ((snap = EVP_MD_CTX_new()) == NULL ||
        EVP_MD_CTX_copy_ex(snap, w->sha) != 1 ||
        EVP_DigestFinal_ex(snap, md, &mdlen) != 1 || mdlen != 32)
        goto out;
    cp.seq = w->seq + 1;
    jg_strlcpy(cp.session, w->id, sizeof(cp.session));
    cp.offset = w->offset;
    jg_audit_hex(md, 32, cp.sha256);
    cp.time_us = q->time_us;
    cp.final = q->final;
    cp.raw = w->raw;
    if ((e = jg_audit_checkpoint_format(&cp, w->key, JG_AUDIT_DOMAIN_JGR,
                                        &line, &ll)) != 0)
        goto out;
    /* The frame holds the line without its newline. */
    if ((e = put_frame(w, JG_REC_SEAL, 0, line, (uint32_t)(ll - 1),
                       (uint32_t)(ll - 1))) != 0)
        goto out;
    w->seq++;
    if (q->final && fdatasync(w->fd) != 0)
        e = JG_ERR_IO;
out:
    EVP_MD_CTX_free(snap);
    free(line);
    return e;
}

int
jg_audit_recw_trim(void *ctx, char *unused, size_t len)
{
    struct jg_rec_w *w = ctx;

    (void)unused;
    (void)len;
    ZSTD_freeCCtx(w->z);
    w->z = NULL;
    free(w->zbuf);
    w->zbuf = NULL;
    return 0;
}

void
jg_audit_recw_free(struct jg_rec_w *w)
{
    if (w == NULL)
        return;
    jg_audit_recw_trim(w, NULL, 0);
    EVP_MD_CTX_free(w->sha);
    free(w);
}

int
jg_audit_recw_start(int fd, const char *id, const struct jg_audit_key *key,
                    const char *header, size_t header_len, int64_t now_us,
                    struct jg_rec_w **out)
{
    struct jg_rec_w *w = calloc(1, sizeof(*w));
    struct jg_rec_seal_req q = {.time_us = now_us, .sync = true};
    static const char magic[JG_REC_MAGIC_LEN] = JG_REC_MAGIC;
    int e;

    *out = NULL;
    if (w == NULL)
        return JG_ERR_NOMEM;
    w->fd = fd;
    w->key = key;
    jg_strlcpy(w->id, id, sizeof(w->id));
    if (header_len == 0 || header_len > JG_REC_META_MAX ||
        (w->sha = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(w->sha, magic, sizeof(magic)) != 1) {
        e = JG_ERR_INTERNAL;
        goto fail;
    }
    if ((e = jg_audit_write_all(fd, magic, sizeof(magic))) != 0)
        goto fail;
    w->offset = sizeof(magic);
    if ((e = put_frame(w, JG_REC_HEADER, 0, header, (uint32_t)header_len,
                       (uint32_t)header_len)) != 0 ||
        (e = jg_audit_recw_seal(w, (char *)&q, sizeof(q))) != 0)
        goto fail;
    if (fdatasync(fd) != 0) {
        e = JG_ERR_IO;
        goto fail;
    }
    *out = w;
    return 0;
fail:
    jg_audit_recw_free(w);
    return e;
}
