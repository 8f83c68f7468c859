/* SPDX-License-Identifier: Apache-2.0 */
/* audit/utf8.c - incremental UTF-8 decoding for recordings: keeps
 * a sequence split across writes for the next one, and replaces bytes that
 * can never form a character with U+FFFD. */
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"

static const char fffd[3] = {(char)0xef, (char)0xbf, (char)0xbd};

/* Length of the valid sequence at p (n bytes available): >0 valid length,
 * 0 a valid but incomplete prefix, -1 invalid first byte(s) (one byte to
 * replace). Follows the Unicode "maximal subpart" rules: overlongs,
 * surrogates and values above U+10FFFF are invalid. */
static int
seq_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xbf;
    int need, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c >= 0xe0 && c <= 0xef)
        need = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 4;
    else
        return -1;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    for (i = 1; i < need; i++) {
        if ((size_t)i >= n)
            return 0;
        if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
            return -1;
    }
    return need;
}

/* Appends the decoding of p (n bytes) to out; returns how many bytes at the
 * end form an incomplete prefix (not consumed) unless final. */
static size_t
decode(const uint8_t *p, size_t n, bool final, char *out, size_t *o,
       uint64_t *replaced)
{
    size_t i = 0;
    int l;

    while (i < n) {
        /* ASCII, most of any terminal's output: copied a run at a time. */
        size_t run = jg_audit_ascii_run(p + i, n - i);

        if (run > 0) {
            memcpy(out + *o, p + i, run);
            *o += run;
            i += run;
            continue;
        }
        l = seq_len(p + i, n - i);
        if (l == 0 && !final)
            return n - i;
        if (l <= 0) {
            /* An incomplete sequence at the very end (final) is one
             * replacement for the whole subpart, as Python does. */
            size_t skip = 1;

            if (l == 0)
                skip = n - i;
            memcpy(out + *o, fffd, 3);
            *o += 3;
            *replaced += skip;
            i += skip;
            continue;
        }
        memcpy(out + *o, p + i, (size_t)l);
        *o += (size_t)l;
        i += (size_t)l;
    }
    return 0;
}

size_t
jg_audit_utf8_feed_into(struct jg_audit_utf8 *st, const uint8_t *data,
                        size_t len, bool final, char *out)
{
    size_t total = st->n_tail + len, o = 0, keep;
    uint8_t *joined = NULL;
    const uint8_t *src = data;

    if (st->n_tail > 0) {
        joined = jg_xmalloc(total);
        memcpy(joined, st->tail, st->n_tail);
        if (len > 0)
            memcpy(joined + st->n_tail, data, len);
        src = joined;
    }
    keep = decode(src, total, final, out, &o, &st->replaced);
    /* keep <= 3: a valid prefix is shorter than the longest sequence. */
    if (keep > 0)
        memcpy(st->tail, src + total - keep, keep);
    st->n_tail = keep;
    out[o] = '\0';
    free(joined);
    return o;
}

void
jg_audit_utf8_feed(struct jg_audit_utf8 *st, const uint8_t *data, size_t len,
                   bool final, char **out, size_t *out_len)
{
    /* Each input byte becomes at most 3 output bytes. */
    char *buf = jg_xmalloc(JG_AUDIT_UTF8_OUT(st->n_tail + len));

    *out_len = jg_audit_utf8_feed_into(st, data, len, final, buf);
    *out = buf;
}

char *
jg_audit_utf8_clean(const char *s, size_t len)
{
    uint64_t replaced = 0;
    char *out;
    size_t n = 0;

    /* Plain malloc: the event-log writer runs inside pam_jumpgate.so. */
    if (len > (SIZE_MAX - 1) / 3 || (out = malloc(len * 3 + 1)) == NULL)
        return NULL;
    decode((const uint8_t *)s, len, true, out, &n, &replaced);
    out[n] = '\0';
    /* A NUL would cut the C string short: it becomes a space. */
    for (size_t i = 0; i < n; i++)
        if (out[i] == '\0')
            out[i] = ' ';
    return out;
}
