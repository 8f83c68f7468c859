/* SPDX-License-Identifier: Apache-2.0 */
/* audit/jg_audit_jsonstr.c - the JSON string literal of recorded output in
 * one pass: the escapes jansson's compact dump writes, without a printf
 * per control character (a stream of NULs was ten times slower). */
#include "audit/internal.h"

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
            *o++ = (char)c;
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
