/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/wire.c - the SSH wire encoding (RFC 4251 section 5) as
 * the monitor's agent and certificates need it: a bounded reader that
 * remembers the first overrun instead of reading past its input, a
 * growing writer, and base64 without line breaks. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gateway/monitor/internal.h"

uint32_t
jg_gw_rd_u32(struct jg_gw_rd *r)
{
    uint32_t v;

    if (r->bad || r->n < 4) {
        r->bad = true;
        return 0;
    }
    v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
        (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->n -= 4;
    return v;
}

uint64_t
jg_gw_rd_u64(struct jg_gw_rd *r)
{
    uint64_t hi = jg_gw_rd_u32(r);

    return hi << 32 | jg_gw_rd_u32(r);
}

uint8_t
jg_gw_rd_u8(struct jg_gw_rd *r)
{
    uint8_t v;

    if (r->bad || r->n < 1) {
        r->bad = true;
        return 0;
    }
    v = r->p[0];
    r->p++;
    r->n--;
    return v;
}

const uint8_t *
jg_gw_rd_str(struct jg_gw_rd *r, size_t *len)
{
    uint32_t l = jg_gw_rd_u32(r);
    const uint8_t *p;

    if (r->bad || l > r->n) {
        r->bad = true;
        *len = 0;
        return NULL;
    }
    p = r->p;
    r->p += l;
    r->n -= l;
    *len = l;
    return p;
}

bool
jg_gw_rd_str_is(struct jg_gw_rd *r, const void *want, size_t wlen)
{
    size_t len;
    const uint8_t *p = jg_gw_rd_str(r, &len);

    return p != NULL && len == wlen && memcmp(p, want, len) == 0;
}

void
jg_gw_wr_put(struct jg_gw_wr *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->p = jg_xrealloc(w->p, w->cap, 1);
    }
    if (n > 0)
        memcpy(w->p + w->n, p, n);
    w->n += n;
}

void
jg_gw_wr_u32(struct jg_gw_wr *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};

    jg_gw_wr_put(w, b, 4);
}

void
jg_gw_wr_u64(struct jg_gw_wr *w, uint64_t v)
{
    jg_gw_wr_u32(w, (uint32_t)(v >> 32));
    jg_gw_wr_u32(w, (uint32_t)v);
}

void
jg_gw_wr_str(struct jg_gw_wr *w, const void *p, size_t n)
{
    jg_gw_wr_u32(w, (uint32_t)n);
    jg_gw_wr_put(w, p, n);
}

void
jg_gw_wr_cstr(struct jg_gw_wr *w, const char *s)
{
    jg_gw_wr_str(w, s, strlen(s));
}

void
jg_gw_wr_mpint(struct jg_gw_wr *w, const uint8_t *p, size_t n)
{
    while (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    if (n > 0 && (p[0] & 0x80) != 0) {
        jg_gw_wr_u32(w, (uint32_t)n + 1);
        jg_gw_wr_put(w, "", 1);
        jg_gw_wr_put(w, p, n);
    } else {
        jg_gw_wr_str(w, p, n);
    }
}

int
jg_gw_unb64(const uint8_t *in, size_t n, uint8_t *out)
{
    int len = EVP_DecodeBlock(out, in, (int)n);

    for (; len > 0 && n > 0 && in[n - 1] == '='; n--)
        len--;
    return len;
}

char *
jg_gw_b64(const uint8_t *p, size_t n)
{
    char *out = jg_xmalloc(4 * ((n + 2) / 3) + 1);

    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}
