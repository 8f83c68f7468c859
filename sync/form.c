/* SPDX-License-Identifier: Apache-2.0 */
/* sync/form.c - application/x-www-form-urlencoded bodies for the EC2 Query
 * API, percent-encoded the way SigV4 canonicalises them (RFC 3986), and the
 * same encoding for S3 object keys and query values. */
#include <stdarg.h>
#include <stdlib.h>

#include "sync/internal.h"

void
jg_sync_uri_encode(GString *f, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
            *p == '~' || (keep_slash && *p == '/')) {
            g_string_append_c(f, (char)*p);
        } else {
            g_string_append_c(f, '%');
            g_string_append_c(f, hex[*p >> 4]);
            g_string_append_c(f, hex[*p & 15]);
        }
    }
}

void
jg_sync_form_add(GString *f, const char *name, const char *value)
{
    if (f->len > 0)
        g_string_append_c(f, '&');
    jg_sync_uri_encode(f, name, false);
    g_string_append_c(f, '=');
    jg_sync_uri_encode(f, value, false);
}

void
jg_sync_form_addf(GString *f, const char *name, const char *fmt, ...)
{
    va_list ap;
    char *v = NULL;

    va_start(ap, fmt);
    if (vasprintf(&v, fmt, ap) < 0)
        v = NULL;
    va_end(ap);
    if (v == NULL)
        abort();
    jg_sync_form_add(f, name, v);
    free(v);
}
