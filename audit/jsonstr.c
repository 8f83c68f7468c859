/* SPDX-License-Identifier: Apache-2.0 */
/* audit/jsonstr.c - the JSON string literal of recorded output in
 * one pass: the escapes jansson's compact dump writes, without a printf
 * per control character (a stream of NULs was ten times slower), and the
 * byte scans behind it that look at eight bytes at a time. */
#include <string.h>

#include "audit/internal.h"

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static uint64_t
load64(const uint8_t *p)
{
    uint64_t w;

    memcpy(&w, p, sizeof(w));
    return w;
}

/* Non-zero when a byte of w is below n (n <= 128); bytes of 0x80 and above
 * never count. */
static uint64_t
has_less(uint64_t w, uint8_t n)
{
    return (w - ONES * n) & ~w & HIGHS;
}

/* Non-zero when a byte of w equals c. */
static uint64_t
has_byte(uint64_t w, uint8_t c)
{
    return has_less(w ^ (ONES * c), 1);
}

size_t
jg_audit_ascii_run(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i + 8 <= n && (load64(p + i) & HIGHS) == 0)
        i += 8;
    while (i < n && p[i] < 0x80)
        i++;
    return i;
}

/* How many bytes at p, from the start, JSON writes as they are. */
static size_t
plain_run(const uint8_t *p, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t w = load64(p + i);

        if (has_less(w, 0x20) | has_byte(w, '"') | has_byte(w, '\\'))
            break;
    }
    while (i < n && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}

size_t
jg_audit_json_quote(const char *s, size_t n, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    char *o = out;
    size_t i;

    *o++ = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = p[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            size_t run = plain_run(p + i, n - i);

            memcpy(o, p + i, run);
            o += run;
            i += run - 1;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    return (size_t)(o - out);
}
