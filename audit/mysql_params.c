/* SPDX-License-Identifier: Apache-2.0 */
/* audit/mysql_params.c - the bound parameters of a MySQL COM_STMT_EXECUTE
 * decoded from the binary protocol into text for the query audit: the
 * NULL bitmap, the types (bound now or at an earlier execute), and each
 * value by its type; values sent before with COM_STMT_SEND_LONG_DATA are
 * not in the packet: their kept heads are shown (audit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/internal.h"

/* Column types (include/mysql_com.h, enum_field_types). */
#define T_DECIMAL 0
#define T_TINY 1
#define T_SHORT 2
#define T_LONG 3
#define T_FLOAT 4
#define T_DOUBLE 5
#define T_NULL 6
#define T_TIMESTAMP 7
#define T_LONGLONG 8
#define T_INT24 9
#define T_DATE 10
#define T_TIME 11
#define T_DATETIME 12
#define T_YEAR 13
#define T_VARCHAR 15
#define T_BIT 16
#define T_JSON 245
#define T_NEWDECIMAL 246
#define T_ENUM 247
#define T_SET 248
#define T_TINY_BLOB 249
#define T_MEDIUM_BLOB 250
#define T_LONG_BLOB 251
#define T_BLOB 252
#define T_VAR_STRING 253
#define T_STRING 254
#define T_GEOMETRY 255

#define UNSIGNED_FLAG 0x80

static const char *
type_name(uint8_t t, bool uns)
{
    switch (t) {
    case T_TINY: return uns ? "unsigned tiny" : "tiny";
    case T_SHORT: return uns ? "unsigned short" : "short";
    case T_LONG: return uns ? "unsigned long" : "long";
    case T_INT24: return uns ? "unsigned int24" : "int24";
    case T_LONGLONG: return uns ? "unsigned longlong" : "longlong";
    case T_YEAR: return "year";
    case T_FLOAT: return "float";
    case T_DOUBLE: return "double";
    case T_NULL: return "null";
    case T_TIMESTAMP: return "timestamp";
    case T_DATE: return "date";
    case T_DATETIME: return "datetime";
    case T_TIME: return "time";
    case T_DECIMAL: case T_NEWDECIMAL: return "decimal";
    case T_VARCHAR: case T_VAR_STRING: case T_STRING: return "string";
    case T_BIT: return "bit";
    case T_JSON: return "json";
    case T_ENUM: return "enum";
    case T_SET: return "set";
    case T_TINY_BLOB: case T_MEDIUM_BLOB: case T_LONG_BLOB:
    case T_BLOB: return "blob";
    case T_GEOMETRY: return "geometry";
    default: return NULL;
    }
}

struct rd {
    const uint8_t *p;
    size_t n;
};

/* k little-endian bytes into *v; false when fewer are left. */
static bool
take(struct rd *r, size_t k, uint64_t *v)
{
    if (r->n < k)
        return false;
    *v = 0;
    for (size_t i = 0; i < k; i++)
        *v |= (uint64_t)r->p[i] << (8 * i);
    r->p += k;
    r->n -= k;
    return true;
}

/* Length of the UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
    size_t k;
    uint32_t c;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        k = 2, c = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        k = 3, c = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        k = 4, c = s[0] & 0x07;
    else
        return 0;
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
        (k == 4 && (c < 0x10000 || c > 0x10ffff)))
        return 0;
    return k;
}

/* Bytes as text: valid UTF-8 as it is, a NUL and invalid bytes as \xNN,
 * a backslash doubled; cut at JG_AUDIT_MYSQL_PARAM_MAX bytes of input. */
static char *
bytes_text(const uint8_t *s, size_t n, bool *cut)
{
    size_t m = n > JG_AUDIT_MYSQL_PARAM_MAX ? JG_AUDIT_MYSQL_PARAM_MAX : n;
    char *out = malloc(4 * m + 1), *o = out;

    if (out == NULL)
        return NULL;
    *cut = m < n;
    for (size_t i = 0; i < m;) {
        size_t k = s[i] != 0 ? utf8_len(s + i, m - i) : 0;

        if (k == 0) {
            *o++ = '\\';
            *o++ = 'x';
            jg_audit_hex(s + i, 1, o);
            o += 2;
            i++;
        } else if (s[i] == '\\') {
            *o++ = '\\';
            *o++ = '\\';
            i++;
        } else {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        }
    }
    *o = '\0';
    return out;
}

/* One value of type t at r into *text; 0, 1 when it runs past the bytes
 * (which may only be a kept head), -1 when the type is unknown or the
 * value malformed. */
static int
value(struct rd *r, uint8_t t, bool uns, char **text, bool *cut,
      const char **why)
{
    char buf[96];
    uint64_t v = 0, len;
    int k = 0;

    *cut = false;
    switch (t) {
    case T_NULL:
        *text = NULL;
        return 0;
    case T_TINY: k = 1; break;
    case T_SHORT: case T_YEAR: k = 2; break;
    case T_LONG: case T_INT24: k = 4; break;
    case T_LONGLONG: k = 8; break;
    case T_FLOAT: {
        float f;
        uint32_t u;

        if (!take(r, 4, &v))
            return 1;
        u = (uint32_t)v;
        memcpy(&f, &u, 4);
        snprintf(buf, sizeof(buf), "%.9g", (double)f);
        *text = strdup(buf);
        return 0;
    }
    case T_DOUBLE: {
        double d;

        if (!take(r, 8, &v))
            return 1;
        memcpy(&d, &v, 8);
        snprintf(buf, sizeof(buf), "%.17g", d);
        *text = strdup(buf);
        return 0;
    }
    case T_DATE: case T_DATETIME: case T_TIMESTAMP: {
        uint64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, us = 0;

        if (!take(r, 1, &len))
            return 1;
        if (len != 0 && len != 4 && len != 7 && len != 11) {
            *why = "a date of a length other than 0, 4, 7 or 11";
            return -1;
        }
        if (r->n < len)
            return 1;
        if (len >= 4)
            take(r, 2, &y), take(r, 1, &mo), take(r, 1, &d);
        if (len >= 7)
            take(r, 1, &h), take(r, 1, &mi), take(r, 1, &sec);
        if (len == 11)
            take(r, 4, &us);
        if (t == T_DATE)
            snprintf(buf, sizeof(buf), "%04u-%02u-%02u", (unsigned)y,
                     (unsigned)mo, (unsigned)d);
        else
            snprintf(buf, sizeof(buf), "%04u-%02u-%02u %02u:%02u:%02u.%06u",
                     (unsigned)y, (unsigned)mo, (unsigned)d, (unsigned)h,
                     (unsigned)mi, (unsigned)sec, (unsigned)us);
        *text = strdup(buf);
        return 0;
    }
    case T_TIME: {
        uint64_t neg = 0, days = 0, h = 0, mi = 0, sec = 0, us = 0;

        if (!take(r, 1, &len))
            return 1;
        if (len != 0 && len != 8 && len != 12) {
            *why = "a time of a length other than 0, 8 or 12";
            return -1;
        }
        if (r->n < len)
            return 1;
        if (len >= 8)
            take(r, 1, &neg), take(r, 4, &days), take(r, 1, &h),
                take(r, 1, &mi), take(r, 1, &sec);
        if (len == 12)
            take(r, 4, &us);
        snprintf(buf, sizeof(buf), "%s%llu:%02u:%02u.%06u", neg ? "-" : "",
                 (unsigned long long)(days * 24 + h), (unsigned)mi,
                 (unsigned)sec, (unsigned)us);
        *text = strdup(buf);
        return 0;
    }
    default: {
        uint8_t b;
        uint64_t have;

        if (type_name(t, false) == NULL) {
            *why = "a parameter of an unknown type";
            return -1;
        }
        /* A length-encoded string. */
        if (!take(r, 1, &v))
            return 1;
        b = (uint8_t)v;
        if (b < 0xfb)
            len = b;
        else if (b == 0xfc || b == 0xfd || b == 0xfe) {
            if (!take(r, b == 0xfc ? 2 : b == 0xfd ? 3 : 8, &len))
                return 1;
        } else {
            *why = "a string parameter with an invalid length";
            return -1;
        }
        have = len < r->n ? len : r->n;
        *text = bytes_text(r->p, (size_t)have, cut);
        if (have < len) {
            *cut = true;
            r->p += r->n;
            r->n = 0;
            return *text != NULL ? 2 : 1;
        }
        r->p += len;
        r->n -= len;
        return 0;
    }
    }
    if (!take(r, (size_t)k, &v))
        return 1;
    if (uns || t == T_YEAR) {
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    } else {
        int64_t sv = k == 1   ? (int8_t)v
                     : k == 2 ? (int16_t)v
                     : k == 4 ? (int32_t)v
                              : (int64_t)v;
        snprintf(buf, sizeof(buf), "%lld", (long long)sv);
    }
    *text = strdup(buf);
    return 0;
}

int
jg_audit_mysql_params(const uint8_t *p, size_t n, size_t total,
                      uint16_t n_params, uint8_t *types,
                      const uint8_t *long_data,
                      const struct jg_audit_mysql_long *longs,
                      struct jg_audit_mysql_param *out, size_t max,
                      size_t *shown, bool *cut, char *why, size_t whyn)
{
    struct rd r = {p, n};
    const uint8_t *nulls;
    size_t nb = ((size_t)n_params + 7) / 8;
    uint64_t bound = 0, skip;
    bool whole = n == total;

    *shown = 0;
    *cut = false;
    if (n_params == 0)
        return 0;
    /* command, statement id, flags, iteration count */
    if (!take(&r, 1, &skip) || !take(&r, 4, &skip) || !take(&r, 1, &skip) ||
        !take(&r, 4, &skip) || r.n < nb + 1) {
        if (whole) {
            snprintf(why, whyn, "the packet is too short for %u parameters",
                     n_params);
            return JG_ERR_INVALID;
        }
        *cut = true;
        return 0;
    }
    nulls = r.p;
    r.p += nb;
    r.n -= nb;
    take(&r, 1, &bound);
    if (bound > 1) {
        snprintf(why, whyn, "new-params-bound flag %u", (unsigned)bound);
        return JG_ERR_INVALID;
    }
    if (bound) {
        if (r.n < 2u * n_params) {
            if (whole) {
                snprintf(why, whyn, "the packet is too short for the types "
                         "of %u parameters", n_params);
                return JG_ERR_INVALID;
            }
            *cut = true;
            return 0;
        }
        memcpy(types, r.p, 2u * n_params);
        types[2u * n_params] = 1;
        r.p += 2u * n_params;
        r.n -= 2u * n_params;
    } else if (types[2u * n_params] == 0) {
        snprintf(why, whyn, "no parameter types were ever bound");
        return JG_ERR_INVALID;
    }
    for (size_t i = 0; i < n_params; i++) {
        uint8_t t = types[2 * i];
        bool uns = (types[2 * i + 1] & UNSIGNED_FLAG) != 0;
        const char *name = type_name(t, uns), *bad = NULL;
        struct jg_audit_mysql_param dummy = {0}, *q;
        char *text = NULL;
        bool vcut = false;
        int rv;

        if (name == NULL) {
            snprintf(why, whyn, "parameter %zu has unknown type %u", i + 1, t);
            return JG_ERR_INVALID;
        }
        q = *shown < max ? &out[*shown] : &dummy;
        q->type = name;
        if (nulls[i / 8] & (1u << (i % 8))) {
            q->value = NULL;
        } else if (long_data != NULL && (long_data[i / 8] & (1u << (i % 8)))) {
            const struct jg_audit_mysql_long *l =
                longs != NULL && i < max ? &longs[i] : NULL;

            q->value = l != NULL ? bytes_text(l->head, l->kept, &vcut)
                                 : strdup("");
            q->truncated = vcut || (l != NULL && l->cut);
        } else {
            rv = value(&r, t, uns, &text, &vcut, &bad);
            if (rv < 0) {
                snprintf(why, whyn, "parameter %zu: %s", i + 1, bad);
                return JG_ERR_INVALID;
            }
            if (rv == 1 && whole) {
                snprintf(why, whyn, "parameter %zu runs past the packet",
                         i + 1);
                return JG_ERR_INVALID;
            }
            if (rv == 2 && whole) {
                free(text);
                snprintf(why, whyn, "parameter %zu runs past the packet",
                         i + 1);
                return JG_ERR_INVALID;
            }
            if (rv == 1) {      /* past the kept head */
                *cut = true;
                return 0;
            }
            q->value = text;
            q->truncated = vcut;
            if (rv == 2) {      /* the rest of its value was not kept */
                *cut = true;
                if (q != &dummy)
                    (*shown)++;
                else
                    free(text);
                return 0;
            }
        }
        if (q == &dummy) {
            free((char *)dummy.value);
            *cut = true;
        } else {
            (*shown)++;
        }
    }
    return 0;
}

void
jg_audit_mysql_params_free(struct jg_audit_mysql_param *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)ps[i].value);
        ps[i].value = NULL;
    }
}
