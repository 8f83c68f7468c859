/* SPDX-License-Identifier: Apache-2.0 */
/* common/time.c - durations ("1h30m") and RFC 3339 timestamps. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "common/common.h"

#define DURATION_MAX ((int64_t)100 * 365 * 86400) /* a century */

int
jg_duration_parse(const char *s, int64_t *secs)
{
    int64_t total = 0;
    const char *p = s;

    if (s == NULL || *s == '\0')
        return JG_ERR_INVALID;
    while (*p != '\0') {
        int64_t v = 0, mul;
        const char *start = p;

        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p - '0');
            if (v > DURATION_MAX)
                return JG_ERR_INVALID;
            p++;
        }
        if (p == start)
            return JG_ERR_INVALID;
        switch (*p) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        case 'w': mul = 7 * 86400; break;
        default: return JG_ERR_INVALID;
        }
        p++;
        if (v > DURATION_MAX / mul)
            return JG_ERR_INVALID;
        total += v * mul;
        if (total > DURATION_MAX)
            return JG_ERR_INVALID;
    }
    if (total <= 0)
        return JG_ERR_INVALID;
    *secs = total;
    return 0;
}

void
jg_duration_format(int64_t secs, char *buf, size_t n)
{
    static const struct { int64_t s; char u; } units[] = {
        {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    size_t used = 0, i;

    if (secs <= 0) {
        snprintf(buf, n, "0s");
        return;
    }
    buf[0] = '\0';
    for (i = 0; i < sizeof(units) / sizeof(units[0]) && used < n; i++) {
        if (secs >= units[i].s) {
            int w = snprintf(buf + used, n - used, "%lld%c",
                             (long long)(secs / units[i].s), units[i].u);
            if (w < 0)
                return;
            used += (size_t)w;
            secs %= units[i].s;
        }
    }
}

static int
digits(const char **p, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int
days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int
jg_time_parse(const char *s, int64_t *t)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, sign = 0;

    if (s == NULL || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
        *p++ != '-' || digits(&p, 2, &d))
        return JG_ERR_INVALID;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || y < 1970)
        return JG_ERR_INVALID;
    if (*p != '\0') {
        if ((*p != 'T' && *p != 't' && *p != ' ') ||
            (p++, digits(&p, 2, &h)) || *p++ != ':' || digits(&p, 2, &mi) ||
            *p++ != ':' || digits(&p, 2, &se))
            return JG_ERR_INVALID;
        if (h > 23 || mi > 59 || se > 60)
            return JG_ERR_INVALID;
        if (se == 60)
            se = 59; /* a leap second counts as the second before */
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return JG_ERR_INVALID;
            while (isdigit((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p++ == '+' ? 1 : -1;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
                oh > 23 || om > 59)
                return JG_ERR_INVALID;
        } else {
            return JG_ERR_INVALID; /* a time needs its offset */
        }
        if (*p != '\0')
            return JG_ERR_INVALID;
    }
    *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
         sign * (oh * 3600 + om * 60);
    return 0;
}

void
jg_time_format(int64_t t, char *buf, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (t == JG_TIME_NEVER) {
        snprintf(buf, n, "never");
        return;
    }
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, n, "@%lld", (long long)t);
}

int64_t
jg_now(void)
{
    return (int64_t)time(NULL);
}
