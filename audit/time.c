/* SPDX-License-Identifier: Apache-2.0 */
/* audit/time.c - microsecond UTC timestamps in RFC 3339 and the
 * UTC day names of the audit files. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"

int64_t
jg_audit_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Splits us into whole seconds and a non-negative µs remainder. */
static void
split(int64_t us, time_t *secs, long *frac)
{
    int64_t s = us / 1000000, f = us % 1000000;

    if (f < 0) {
        f += 1000000;
        s -= 1;
    }
    *secs = (time_t)s;
    *frac = (long)f;
}

void
jg_audit_time_format(int64_t us, char *buf, size_t n)
{
    struct tm tm;
    time_t secs;
    long frac;

    split(us, &secs, &frac);
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, n, "?");
        return;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void
jg_audit_day_format(int64_t us, char *buf, size_t n)
{
    struct tm tm;
    time_t secs;
    long frac;

    split(us, &secs, &frac);
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, n, "0000-00-00");
        return;
    }
    snprintf(buf, n, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday);
}

int
jg_audit_time_parse(const char *s, int64_t *us)
{
    char whole[64];
    const char *p, *frac_end;
    int64_t secs, frac = 0, scale = 100000;
    size_t lead;

    /* The seconds part goes to jg_time_parse() without the fraction. */
    p = strchr(s, 'T');
    if (p == NULL) {
        if (jg_time_parse(s, &secs) != 0)
            return JG_ERR_INVALID;
        *us = secs * 1000000;
        return 0;
    }
    if (strlen(p) < 9)
        return JG_ERR_INVALID;
    p += 9; /* "Thh:mm:ss" */
    lead = (size_t)(p - s);
    frac_end = p;
    if (*p == '.') {
        frac_end = p + 1;
        while (isdigit((unsigned char)*frac_end)) {
            if (frac_end - p > 9)
                return JG_ERR_INVALID;
            if (scale > 0) {
                frac += (*frac_end - '0') * scale;
                scale /= 10;
            }
            frac_end++;
        }
        if (frac_end == p + 1)
            return JG_ERR_INVALID;
    }
    if (lead + strlen(frac_end) + 1 > sizeof(whole))
        return JG_ERR_INVALID;
    memcpy(whole, s, lead);
    memcpy(whole + lead, frac_end, strlen(frac_end) + 1);
    if (jg_time_parse(whole, &secs) != 0)
        return JG_ERR_INVALID;
    if (secs > INT64_MAX / 1000000 - 1 || secs < INT64_MIN / 1000000 + 1)
        return JG_ERR_INVALID;
    *us = secs * 1000000 + frac;
    return 0;
}
