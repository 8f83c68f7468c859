/* SPDX-License-Identifier: Apache-2.0 */
/* audit/filter.c - keeps terminal strings that could retitle the
 * auditor's window, set its clipboard or answer queries out of replay. */
#include "audit/audit.h"

enum {
    F_TEXT,       /* ordinary output */
    F_ESC,        /* saw ESC */
    F_C2,         /* saw 0xC2: maybe a C1 control U+0080..U+009F */
    F_STR,        /* inside OSC/DCS/SOS/PM/APC: dropped */
    F_STR_ESC,    /* ESC inside such a string (ESC \ ends it) */
    F_STR_C2,     /* 0xC2 inside such a string (C1 ST ends it) */
};

/* ESC ] (OSC), P (DCS), X (SOS), ^ (PM), _ (APC). */
static bool
starts_string(unsigned char c)
{
    return c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_';
}

size_t
jg_audit_filter_feed(struct jg_audit_filter *f, const char *data, size_t len,
                     char *out)
{
    size_t i, o = 0;
    unsigned char c;

    for (i = 0; i < len; i++) {
        c = (unsigned char)data[i];
        switch (f->state) {
        case F_TEXT:
            if (c == 0x1b)
                f->state = F_ESC;
            else if (c == 0xc2)
                f->state = F_C2;
            else
                out[o++] = (char)c;
            break;
        case F_ESC:
            if (starts_string(c)) {
                f->state = F_STR;
            } else if (c == 0x1b) {
                out[o++] = 0x1b; /* the first ESC stands alone */
            } else {
                out[o++] = 0x1b;
                out[o++] = (char)c;
                f->state = F_TEXT;
            }
            break;
        case F_C2:
            if (c >= 0x80 && c <= 0x9f) {
                /* C1: OSC, DCS, SOS, PM, APC open a string; the rest
                 * (CSI 0x9b included) is dropped. */
                f->state = (c == 0x9d || c == 0x90 || c == 0x98 ||
                            c == 0x9e || c == 0x9f)
                               ? F_STR
                               : F_TEXT;
            } else {
                out[o++] = (char)0xc2;
                if (c == 0x1b) {
                    f->state = F_ESC;
                } else {
                    out[o++] = (char)c;
                    f->state = F_TEXT;
                }
            }
            break;
        case F_STR:
            if (c == 0x07)
                f->state = F_TEXT;
            else if (c == 0x1b)
                f->state = F_STR_ESC;
            else if (c == 0xc2)
                f->state = F_STR_C2;
            break;
        case F_STR_ESC:
            f->state = c == '\\' ? F_TEXT : (c == 0x1b ? F_STR_ESC : F_STR);
            break;
        case F_STR_C2:
            f->state = c == 0x9c ? F_TEXT : F_STR;
            break;
        default:
            f->state = F_TEXT;
            break;
        }
    }
    return o;
}
