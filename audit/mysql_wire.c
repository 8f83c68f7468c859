/* SPDX-License-Identifier: Apache-2.0 */
/* audit/mysql_wire.c - reading MySQL packet fields for the parsers of
 * mysql.c and mysql_hello.c: little-endian integers, length-encoded
 * integers and skips, each refusing to run past the packet (internal.h). */
#include "audit/internal.h"

uint64_t
jg_my_le(struct jg_my_rd *r, size_t k)
{
    uint64_t v = 0;

    if (r->bad || k > 8 || r->n < k) {
        r->bad = true;
        return 0;
    }
    for (size_t i = 0; i < k; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += k;
    r->n -= k;
    return v;
}

void
jg_my_skip(struct jg_my_rd *r, size_t k)
{
    if (r->bad || r->n < k) {
        r->bad = true;
        return;
    }
    r->p += k;
    r->n -= k;
}

uint64_t
jg_my_lenenc(struct jg_my_rd *r)
{
    uint8_t b = (uint8_t)jg_my_le(r, 1);

    if (r->bad)
        return 0;
    if (b < 0xfb)
        return b;
    if (b == 0xfc)
        return jg_my_le(r, 2);
    if (b == 0xfd)
        return jg_my_le(r, 3);
    if (b == 0xfe)
        return jg_my_le(r, 8);
    r->bad = true;     /* 0xfb (NULL) and 0xff are no length */
    return 0;
}
