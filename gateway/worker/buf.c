/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/buf.c - the byte buffers of a relayed channel: allocated
 * on first use at JG_GW_BUF_INIT, grown on demand up to JG_GW_BUF_MAX (the
 * relay takes everything libssh holds for a channel at once, see
 * relay.c), compacted in place. */
#include <stdlib.h>
#include <string.h>

#include "gateway/worker/internal.h"

/* Contiguous free space after the data, with the data moved to the front
 * when that makes more. */
size_t
jg_gw_buf_room(struct jg_gw_buf *b)
{
    if (b->data == NULL) {
        b->data = jg_xmalloc(JG_GW_BUF_INIT);
        b->cap = JG_GW_BUF_INIT;
        b->off = b->len = 0;
    }
    if (b->len == 0) {
        b->off = 0;
    } else if (b->off > 0 && b->off + b->len == b->cap) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
    return b->cap - b->off - b->len;
}

bool
jg_gw_buf_reserve(struct jg_gw_buf *b, size_t n)
{
    size_t cap;

    if (jg_gw_buf_room(b) >= n)
        return true;
    if (b->len > JG_GW_BUF_MAX || n > JG_GW_BUF_MAX - b->len)
        return false;
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
    if (b->cap - b->len >= n)
        return true;
    for (cap = b->cap; cap - b->len < n; cap *= 2)
        ;
    if (cap > JG_GW_BUF_MAX)
        cap = JG_GW_BUF_MAX;
    b->data = jg_xrealloc(b->data, cap, 1);
    b->cap = cap;
    return true;
}

uint8_t *
jg_gw_buf_tail(struct jg_gw_buf *b)
{
    return b->data + b->off + b->len;
}

size_t
jg_gw_buf_put(struct jg_gw_buf *b, const void *p, size_t n)
{
    if (!jg_gw_buf_reserve(b, n))
        n = jg_gw_buf_room(b);
    memcpy(jg_gw_buf_tail(b), p, n);
    b->len += n;
    return n;
}

void
jg_gw_buf_consumed(struct jg_gw_buf *b, size_t n)
{
    b->off += n;
    b->len -= n;
    if (b->len == 0)
        b->off = 0;
}

void
jg_gw_buf_clear(struct jg_gw_buf *b)
{
    b->off = b->len = 0;
}

void
jg_gw_buf_free(struct jg_gw_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}
