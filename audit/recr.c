/* SPDX-License-Identifier: Apache-2.0 */
/* audit/recr.c - reads a recording, record by record, in either
 * format: a .jgr (frames; blocks decompressed one at a time, each capped
 * at JG_AUDIT_REC_BLOCK) or an older asciicast v2 .cast (lines). Every
 * length is checked before it is used; a frame that is not whole yet is
 * left for a later call, so `audit watch` can follow a live recording. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "audit/internal.h"

/* Records are at most this far from the start (about 31 years): time
 * arithmetic never overflows. */
#define TIME_MAX_US ((int64_t)1 << 50)

struct jg_audit_recr {
    int fd;
    char *path;
    bool cast, final;
    struct jg_audit_cast_header hdr;
    char *hdr_line;         /* .jgr: the header as stored */
    size_t hdr_len;
    int64_t start_us;
    char err[512];
    /* .jgr */
    uint64_t pos;           /* offset of the next frame */
    ZSTD_DCtx *dz;
    uint8_t *raw, *stored;  /* the current block, decompressed / as read */
    size_t raw_len, raw_pos;
    int64_t t;              /* time of the last record */
    /* .cast */
    struct jg_audit_lr lr;
    struct jg_audit_cast_event ev;
};

static int fail(struct jg_audit_recr *r, uint64_t off, const char *fmt, ...)
    JG_PRINTF(3, 4);

static int
fail(struct jg_audit_recr *r, uint64_t off, const char *fmt, ...)
{
    char why[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (r->cast)
        snprintf(r->err, sizeof(r->err), "%s:%zu: %s", r->path,
                 r->lr.lineno, why);
    else
        snprintf(r->err, sizeof(r->err), "%s: offset %" PRIu64 ": %s",
                 r->path, off, why);
    return JG_ERR_INVALID;
}

const char *
jg_audit_recr_error(const struct jg_audit_recr *r)
{
    return r->err;
}

const struct jg_audit_cast_header *
jg_audit_recr_header(const struct jg_audit_recr *r)
{
    return &r->hdr;
}

int64_t
jg_audit_recr_start_us(const struct jg_audit_recr *r)
{
    return r->start_us;
}

bool
jg_audit_recr_final(const struct jg_audit_recr *r)
{
    return r->final;
}

bool
jg_audit_recr_is_cast(const struct jg_audit_recr *r)
{
    return r->cast;
}

void
jg_audit_recr_free(struct jg_audit_recr *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        close(r->fd);
    if (r->cast)
        jg_audit_lr_clear(&r->lr);
    free(r->ev.data);
    jg_audit_cast_header_clear(&r->hdr);
    ZSTD_freeDCtx(r->dz);
    free(r->raw);
    free(r->stored);
    free(r->hdr_line);
    free(r->path);
    free(r);
}

const char *
jg_audit_recr_header_line(const struct jg_audit_recr *r, size_t *len)
{
    *len = r->hdr_len;
    return r->hdr_line;
}

/* Reads the frame head at r->pos: 1 and *f, 0 when not whole yet. */
static int
frame_head(struct jg_audit_recr *r, struct jg_rec_frame *f)
{
    uint8_t head[JG_REC_FRAME_LEN];
    char why[256];
    int e = jg_audit_pread(r->fd, head, sizeof(head), r->pos);

    if (e <= 0)
        return e == 0 ? 0 : fail(r, r->pos, "%s", strerror(errno));
    if (jg_audit_frame_unpack(head, f, why, sizeof(why)) != 0)
        return fail(r, r->pos, "%s", why);
    return 1;
}

/* Reads the payload of frame f at r->pos into buf: 1, or 0 when not whole
 * yet. */
static int
frame_body(struct jg_audit_recr *r, const struct jg_rec_frame *f, void *buf)
{
    int e = jg_audit_pread(r->fd, buf, f->stored, r->pos + JG_REC_FRAME_LEN);

    if (e < 0)
        return fail(r, r->pos, "%s", strerror(errno));
    return e;
}

static int
open_jgr(struct jg_audit_recr *r)
{
    uint8_t magic[JG_REC_MAGIC_LEN];
    struct jg_rec_frame f;
    json_t *o = NULL, *jg;
    char why[256], *line = NULL;
    int e;

    if ((e = jg_audit_pread(r->fd, magic, sizeof(magic), 0)) < 0)
        return fail(r, 0, "%s", strerror(errno));
    if (e == 0 || memcmp(magic, JG_REC_MAGIC, sizeof(magic)) != 0)
        return fail(r, 0, "not a jumpgate recording (no JGREC1 magic)");
    r->pos = sizeof(magic);
    if ((e = frame_head(r, &f)) <= 0)
        return e == 0 ? fail(r, r->pos, "no header (file cut short)") : e;
    if (f.type != JG_REC_HEADER)
        return fail(r, r->pos, "the first frame is not the header");
    line = jg_xmalloc(f.stored + 1);
    if ((e = frame_body(r, &f, line)) <= 0) {
        free(line);
        return e == 0 ? fail(r, r->pos, "header cut short") : e;
    }
    line[f.stored] = '\0';
    if (jg_audit_cast_header_parse(line, f.stored, &r->hdr, why,
                                   sizeof(why)) != 0) {
        free(line);
        return fail(r, r->pos + JG_REC_FRAME_LEN, "header: %s", why);
    }
    o = json_loadb(line, f.stored, 0, NULL);
    r->hdr_line = line;
    r->hdr_len = f.stored;
    jg = json_object_get(o, "jumpgate");
    if (!json_is_integer(json_object_get(jg, "start_us"))) {
        json_decref(o);
        return fail(r, r->pos + JG_REC_FRAME_LEN,
                    "header: jumpgate.start_us missing");
    }
    r->start_us = (int64_t)json_integer_value(json_object_get(jg, "start_us"));
    json_decref(o);
    r->pos += JG_REC_FRAME_LEN + f.stored;
    r->raw = jg_xmalloc(JG_AUDIT_REC_BLOCK);
    r->stored = jg_xmalloc(JG_AUDIT_REC_BLOCK);
    if ((r->dz = ZSTD_createDCtx()) == NULL)
        return JG_ERR_NOMEM;
    /* A zstd frame may not ask for a window larger than a block. */
    ZSTD_DCtx_setParameter(r->dz, ZSTD_d_windowLogMax, 18);
    return 0;
}

static int
open_cast(struct jg_audit_recr *r)
{
    const char *line;
    size_t len;
    bool nl;
    char why[256];
    int e;

    jg_audit_lr_init(&r->lr, r->fd);
    e = jg_audit_lr_next(&r->lr, &line, &len, &nl);
    if (e != 1)
        return fail(r, 0, "no header line");
    if (jg_audit_cast_header_parse(line, len, &r->hdr, why, sizeof(why)) != 0)
        return fail(r, 0, "%s", why);
    r->start_us = r->hdr.timestamp * 1000000;
    return 0;
}

int
jg_audit_recr_open(const char *path, struct jg_audit_recr **out, char *err,
                   size_t errn)
{
    struct jg_audit_recr *r = jg_xcalloc(1, sizeof(*r));
    size_t n = strlen(path);
    int e;

    *out = NULL;
    r->path = jg_xstrdup(path);
    r->cast = n > 5 && strcmp(path + n - 5, ".cast") == 0;
    if ((r->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        e = errno == ENOENT ? JG_ERR_NOTFOUND : JG_ERR_IO;
        snprintf(err, errn, "%s: %s", path, strerror(errno));
        jg_audit_recr_free(r);
        return e;
    }
    e = r->cast ? open_cast(r) : open_jgr(r);
    if (e != 0) {
        snprintf(err, errn, "%s", r->err[0] ? r->err : "out of memory");
        jg_audit_recr_free(r);
        return e;
    }
    *out = r;
    return 0;
}

static int
next_cast(struct jg_audit_recr *r, struct jg_audit_recr_ev *ev)
{
    const char *line;
    size_t len;
    bool nl;
    char why[256];
    int e;

    free(r->ev.data);
    r->ev.data = NULL;
    for (;;) {
        e = jg_audit_lr_next(&r->lr, &line, &len, &nl);
        if (e == 0) {
            r->final = true;
            return 0;
        }
        if (e == JG_ERR_TOOBIG)
            return fail(r, 0, "line too long");
        if (e < 0)
            return fail(r, 0, "%s", strerror(errno));
        if (!nl) /* cut short by a crash: not an event */
            continue;
        if (jg_audit_cast_event_parse(line, len, &r->ev, why, sizeof(why)) !=
            0)
            return fail(r, 0, "%s", why);
        ev->time_us = (int64_t)llround(r->ev.time * 1e6);
        ev->kind = r->ev.code;
        ev->data = (const uint8_t *)r->ev.data;
        ev->len = r->ev.len;
        return 1;
    }
}

/* Loads the data frame f at r->pos as the current block. */
static int
load_block(struct jg_audit_recr *r, const struct jg_rec_frame *f)
{
    uint64_t base;
    size_t n;
    int e;

    if ((e = frame_body(r, f, (f->flags & JG_REC_F_ZSTD) ? r->stored
                                                          : r->raw)) <= 0)
        return e;
    if (f->flags & JG_REC_F_ZSTD) {
        /* The frame must say how much it expands to, and that must be
         * exactly what the frame head promised: no bomb gets further. */
        unsigned long long want =
            ZSTD_getFrameContentSize(r->stored, f->stored);

        if (want != f->raw)
            return fail(r, r->pos, "compressed block claims %llu bytes, the "
                        "frame %u",
                        want, f->raw);
        n = ZSTD_decompressDCtx(r->dz, r->raw, f->raw, r->stored, f->stored);
        if (ZSTD_isError(n) || n != f->raw)
            return fail(r, r->pos, "block does not decompress: %s",
                        ZSTD_isError(n) ? ZSTD_getErrorName(n)
                                        : "wrong size");
    }
    r->raw_len = f->raw;
    r->raw_pos = 0;
    if (jg_audit_varint_get(r->raw, r->raw_len, &r->raw_pos, &base) != 0 ||
        base > (uint64_t)TIME_MAX_US)
        return fail(r, r->pos, "block has no valid base time");
    r->t = (int64_t)base;
    return 1;
}

/* The next record of the current block into ev: 1, 0 at its end. */
static int
block_record(struct jg_audit_recr *r, struct jg_audit_recr_ev *ev,
             uint64_t at)
{
    uint64_t dt, len;
    uint8_t kind;

    if (r->raw_pos >= r->raw_len)
        return 0;
    kind = r->raw[r->raw_pos++];
    if (!jg_audit_record_kind_ok(kind))
        return fail(r, at, "record of unknown kind 0x%02x at byte %zu of "
                    "the block", kind, r->raw_pos - 1);
    if (jg_audit_varint_get(r->raw, r->raw_len, &r->raw_pos, &dt) != 0 ||
        jg_audit_varint_get(r->raw, r->raw_len, &r->raw_pos, &len) != 0)
        return fail(r, at, "record cut short at byte %zu of the block",
                    r->raw_pos);
    if (dt > (uint64_t)(TIME_MAX_US - r->t))
        return fail(r, at, "record time out of range");
    if (len > r->raw_len - r->raw_pos)
        return fail(r, at, "record of %" PRIu64 " bytes runs past its "
                    "block", len);
    r->t += (int64_t)dt;
    ev->time_us = r->t;
    ev->kind = (char)kind;
    ev->data = r->raw + r->raw_pos;
    ev->len = (size_t)len;
    r->raw_pos += (size_t)len;
    return 1;
}

int
jg_audit_recr_next(struct jg_audit_recr *r, struct jg_audit_recr_ev *ev)
{
    struct jg_rec_frame f;
    char *line;
    struct jg_audit_checkpoint cp;
    char why[256];
    int e;

    if (r->cast)
        return next_cast(r, ev);
    for (;;) {
        if (r->raw_len > 0) {
            /* The frame the current block came from is behind pos. */
            if ((e = block_record(r, ev, r->pos)) != 0)
                return e;
            r->raw_len = 0;
        }
        if (r->final) {
            return 0;
        }
        if ((e = frame_head(r, &f)) <= 0)
            return e;
        switch (f.type) {
        case JG_REC_DATA:
            if ((e = load_block(r, &f)) <= 0)
                return e;
            r->pos += JG_REC_FRAME_LEN + f.stored;
            break;
        case JG_REC_SEAL:
            line = jg_xmalloc(f.stored);
            if ((e = frame_body(r, &f, line)) == 1 &&
                jg_audit_checkpoint_parse(line, f.stored, NULL, NULL, &cp, why,
                                          sizeof(why)) != 0)
                e = fail(r, r->pos, "seal: %s", why);
            free(line);
            if (e <= 0)
                return e;
            r->final = cp.final;
            r->pos += JG_REC_FRAME_LEN + f.stored;
            break;
        default:
            return fail(r, r->pos, "a second header");
        }
    }
}

int
jg_audit_recr_tail(struct jg_audit_recr *r, int64_t *end_us, bool *final)
{
    struct jg_audit_checkpoint cp;
    struct jg_audit_cast_event ev;
    struct jg_rec_frame f;
    uint64_t keep = r->pos;
    char *line = NULL, why[256];
    size_t len = 0;
    bool complete;
    int e;

    bool last_final = false;

    *end_us = r->start_us;
    *final = false;
    if (r->cast) {
        if (jg_audit_last_line(r->fd, &line, &len, &complete) == 0 &&
            line != NULL &&
            jg_audit_cast_event_parse(line, len, &ev, why, sizeof(why)) == 0) {
            *end_us = r->start_us + (int64_t)llround(ev.time * 1e6);
            free(ev.data);
        }
        free(line);
        return 0;
    }
    while ((e = frame_head(r, &f)) == 1) {
        last_final = false;
        if (f.type == JG_REC_SEAL) {
            line = jg_xmalloc(f.stored);
            if (frame_body(r, &f, line) == 1 &&
                jg_audit_checkpoint_parse(line, f.stored, NULL, NULL, &cp, why,
                                          sizeof(why)) == 0) {
                *end_us = cp.time_us;
                last_final = cp.final;
            }
            free(line);
        }
        r->pos += JG_REC_FRAME_LEN + f.stored;
    }
    /* Final only when the final seal is the last byte of the file. */
    if (e == 0 && last_final) {
        uint8_t one;

        *final = jg_audit_pread(r->fd, &one, 1, r->pos) == 0;
    }
    r->pos = keep;
    return e < 0 ? e : 0;
}
