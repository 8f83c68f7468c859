/* SPDX-License-Identifier: Apache-2.0 */
/* audit/util.c - hex, base64, SHA-256 and compact JSON lines for
 * the audit writers and readers. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit/internal.h"

void
jg_audit_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void
jg_audit_sha256_hex(const void *data, size_t len, char hex[65])
{
    uint8_t md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32)
        memset(md, 0, sizeof(md));
    jg_audit_hex(md, 32, hex);
}

void
jg_audit_b64(const uint8_t *b, size_t n, char *out)
{
    int w = EVP_EncodeBlock((unsigned char *)out, b, (int)n);

    out[w < 0 ? 0 : w] = '\0';
}

ssize_t
jg_audit_unb64(const char *s, size_t len, uint8_t *out, size_t outn)
{
    uint8_t tmp[512];
    int w;
    size_t pad = 0, i;

    if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(tmp))
        return -1;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c == '=') {
            if (i < len - 2)
                return -1;
            pad++;
        } else if (pad > 0 ||
                   !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9') || c == '+' || c == '/')) {
            return -1;
        }
    }
    w = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len);
    if (w < 0 || (size_t)w < pad || (size_t)w - pad > outn)
        return -1;
    memcpy(out, tmp, (size_t)w - pad);
    return (ssize_t)((size_t)w - pad);
}

json_t *
jg_audit_jstr(const char *s)
{
    char *c;
    json_t *j;

    if (s == NULL)
        return json_null();
    if ((c = jg_audit_utf8_clean(s, strlen(s))) == NULL)
        return NULL;
    j = json_string(c);
    free(c);
    return j;
}

char *
jg_audit_dump_line(const json_t *j, size_t *len)
{
    /* Reals (durations) with 15 significant digits: 0.288, not the
     * 0.28799999999999998 that all 17 give. */
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    char *more;
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    if ((more = realloc(s, n + 2)) == NULL) {
        free(s);
        return NULL;
    }
    s = more;
    s[n] = '\n';
    s[n + 1] = '\0';
    *len = n + 1;
    return s;
}
