/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/daemon/escape.c - makes untrusted text (names users typed,
 * what targets and their certificates say) safe to log and to show: every
 * control, non-ASCII and backslash byte becomes \xNN. */
#include "gateway/daemon/daemon.h"

void
jg_gw_escape(const char *s, char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (n == 0)
        return;
    for (; s != NULL && *s != '\0' && o + 1 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            buf[o++] = (char)c;
        } else {
            if (o + 5 >= n)
                break;
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    buf[o] = '\0';
}
