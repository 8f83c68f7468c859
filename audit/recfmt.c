/* SPDX-License-Identifier: Apache-2.0 */
/* audit/recfmt.c - the pieces of the .jgr recording format that
 * its writer, reader and verifier share: frame heads, varints, record
 * kinds, and reading a whole piece at an offset. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/internal.h"

static void
put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

void
jg_audit_frame_pack(const struct jg_rec_frame *f, uint8_t out[JG_REC_FRAME_LEN])
{
    out[0] = f->type;
    out[1] = f->flags;
    out[2] = out[3] = 0;
    put_le32(out + 4, f->stored);
    put_le32(out + 8, f->raw);
}

int
jg_audit_frame_unpack(const uint8_t in[JG_REC_FRAME_LEN],
                      struct jg_rec_frame *f, char *err, size_t errn)
{
    f->type = in[0];
    f->flags = in[1];
    f->stored = get_le32(in + 4);
    f->raw = get_le32(in + 8);
    if (in[2] != 0 || in[3] != 0) {
        snprintf(err, errn, "frame head has non-zero reserved bytes");
        return JG_ERR_INVALID;
    }
    switch (f->type) {
    case JG_REC_DATA:
        if ((f->flags & ~JG_REC_F_ZSTD) != 0) {
            snprintf(err, errn, "data frame has unknown flags 0x%02x",
                     f->flags);
            return JG_ERR_INVALID;
        }
        if (f->raw == 0 || f->raw > JG_AUDIT_REC_BLOCK) {
            snprintf(err, errn,
                     "data frame expands to %u bytes (1 to %u allowed)",
                     f->raw, JG_AUDIT_REC_BLOCK);
            return JG_ERR_INVALID;
        }
        if ((f->flags & JG_REC_F_ZSTD) ? f->stored == 0 || f->stored >= f->raw
                                       : f->stored != f->raw) {
            snprintf(err, errn, "data frame stores %u bytes for %u%s",
                     f->stored, f->raw,
                     (f->flags & JG_REC_F_ZSTD) ? " (compressed, must be "
                                                  "fewer)"
                                                : " (must be equal)");
            return JG_ERR_INVALID;
        }
        return 0;
    case JG_REC_HEADER:
    case JG_REC_SEAL:
        if (f->flags != 0 || f->stored != f->raw || f->stored == 0 ||
            f->stored > JG_REC_META_MAX) {
            snprintf(err, errn,
                     "%s frame of %u bytes (flags 0x%02x; 1 to %u bytes, "
                     "no flags allowed)",
                     f->type == JG_REC_HEADER ? "header" : "seal", f->stored,
                     f->flags, JG_REC_META_MAX);
            return JG_ERR_INVALID;
        }
        return 0;
    default:
        snprintf(err, errn, "unknown frame type 0x%02x", f->type);
        return JG_ERR_INVALID;
    }
}

size_t
jg_audit_varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int
jg_audit_varint_get(const uint8_t *p, size_t n, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    unsigned shift = 0;
    size_t i = *pos;

    for (;;) {
        if (i >= n || shift > 63)
            return -1;
        /* The tenth byte may hold only the top bit. */
        if (shift == 63 && (p[i] & 0x7e) != 0)
            return -1;
        r |= (uint64_t)(p[i] & 0x7f) << shift;
        if ((p[i++] & 0x80) == 0)
            break;
        shift += 7;
    }
    *pos = i;
    *v = r;
    return 0;
}

bool
jg_audit_record_kind_ok(uint8_t kind)
{
    return kind == 'o' || kind == 'e' || kind == 'i' || kind == 'r' ||
           kind == 'x' || kind == 'm';
}

int
jg_audit_pread(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    ssize_t got;

    while (len > 0) {
        got = pread(fd, p, len, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return JG_ERR_IO;
        if (got == 0)
            return 0;
        p += got;
        off += (uint64_t)got;
        len -= (size_t)got;
    }
    return 1;
}
