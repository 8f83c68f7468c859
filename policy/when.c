/* SPDX-License-Identifier: Apache-2.0 */
/* policy/when.c - time windows "DAYS [HH:MM-HH:MM] [ZONE]" in IANA time
 * zones (glib's GTimeZone reads the system's tz database), evaluated in
 * local time so that DST changes move the window with the wall clock. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "policy/internal.h"

#define DAY 86400
#define LOOKAHEAD (9 * (int64_t)DAY)

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int
day_index(const char *s, size_t l)
{
    int i;

    if (l != 3)
        return -1;
    for (i = 0; i < 7; i++) {
        if (strncasecmp(s, day_names[i], 3) == 0)
            return i;
    }
    return -1;
}

/* "Mon-Fri", "Sat,Sun", "Fri-Mon", "daily". */
static bool
parse_days(const char *s, uint8_t *out)
{
    uint8_t days = 0;
    const char *p = s;

    if (strcasecmp(s, "daily") == 0) {
        *out = 0x7f;
        return true;
    }
    while (*p != '\0') {
        const char *e = p, *dash;
        int a, b;

        while (*e != '\0' && *e != ',')
            e++;
        dash = memchr(p, '-', (size_t)(e - p));
        if (dash == NULL) {
            if ((a = day_index(p, (size_t)(e - p))) < 0)
                return false;
            b = a;
        } else {
            if ((a = day_index(p, (size_t)(dash - p))) < 0 ||
                (b = day_index(dash + 1, (size_t)(e - dash - 1))) < 0)
                return false;
        }
        for (int d = a;; d = (d + 1) % 7) {
            days |= (uint8_t)(1u << d);
            if (d == b)
                break;
        }
        p = *e == ',' ? e + 1 : e;
        if (*e == ',' && *p == '\0')
            return false;
    }
    *out = days;
    return days != 0;
}

static int
hhmm(const char *s, bool end_ok)
{
    int h, m;

    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        s[2] != ':' || !isdigit((unsigned char)s[3]) ||
        !isdigit((unsigned char)s[4]))
        return -1;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end_ok)))
        return -1;
    return h * 60 + m;
}

static bool
looks_like_times(const char *t)
{
    return strlen(t) == 11 && t[5] == '-' && isdigit((unsigned char)t[0]);
}

/* An IANA zone name: a file of the system's tz database. */
static bool
tz_name_ok(const char *t)
{
    char path[256];
    struct stat st;
    const char *c;

    if (!isalpha((unsigned char)t[0]) || strstr(t, "..") != NULL ||
        strcmp(t, "localtime") == 0 || strcmp(t, "posixrules") == 0 ||
        strncmp(t, "posix/", 6) == 0 || strncmp(t, "right/", 6) == 0 ||
        strlen(t) > 64)
        return false;
    for (c = t; *c; c++) {
        if (!isalnum((unsigned char)*c) && strchr("/_+-", *c) == NULL)
            return false;
    }
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", t);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* One window; message into why on error. */
static bool
parse_window(const char *text, struct pol_window *w, char *why, size_t n)
{
    char *copy = jg_xstrdup(text), *tok[4], *save = NULL, *t;
    size_t k = 0;
    bool ok = false;

    memset(w, 0, sizeof(*w));
    for (t = strtok_r(copy, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
        if (k == 3) {
            snprintf(why, n, "too many parts (DAYS [HH:MM-HH:MM] [ZONE])");
            goto out;
        }
        tok[k++] = t;
    }
    if (k == 0) {
        snprintf(why, n, "empty time window");
        goto out;
    }
    if (!parse_days(tok[0], &w->days)) {
        snprintf(why, n, "bad days '%s' (Mon..Sun, ranges like Mon-Fri, commas, "
                         "or daily)", tok[0]);
        goto out;
    }
    w->start = 0;
    w->end = 1440;
    k--;
    t = k > 0 ? tok[1] : NULL;
    if (t != NULL && (looks_like_times(t) || isdigit((unsigned char)t[0]))) {
        if (!looks_like_times(t) || (w->start = hhmm(t, false)) < 0 ||
            (w->end = hhmm(t + 6, true)) < 0) {
            snprintf(why, n, "bad hours '%s' (HH:MM-HH:MM, 00:00 to 24:00)", t);
            goto out;
        }
        if (w->start == w->end) {
            snprintf(why, n, "empty hours '%s' (start equals end)", t);
            goto out;
        }
        t = k > 1 ? tok[2] : NULL;
    } else if (k > 1) {
        snprintf(why, n, "bad hours '%s' (HH:MM-HH:MM)", t);
        goto out;
    }
    if (t == NULL) {
        w->tz = g_time_zone_new_utc();
    } else {
        /* glib also takes POSIX TZ strings ("UTC+1" is UTC-1 there):
         * only names of the tz database are accepted */
        if (!tz_name_ok(t) || (w->tz = g_time_zone_new_identifier(t)) == NULL) {
            snprintf(why, n, "unknown time zone '%s' (use an IANA name such "
                             "as Europe/Madrid, or UTC)", t);
            goto out;
        }
    }
    ok = true;
out:
    free(copy);
    return ok;
}

bool
jg_policy_when_parse(struct pol_ctx *x, const struct jg_ynode *n,
                     struct pol_when *out)
{
    char **sv = NULL;
    size_t cnt = 0, i, k = 0;
    bool ok = true;

    memset(out, 0, sizeof(*out));
    if (!jg_y_strv(n, x->file, "when", &sv, &cnt, x->d))
        return false;
    if (cnt == 0) {
        jg_diags_add(x->d, x->file, n->line, n->col, "when is empty");
        jg_strv_free(sv);
        return false;
    }
    out->w = g_new0(struct pol_window, cnt);
    for (i = 0; i < cnt; i++) {
        char why[256];
        const struct jg_ynode *at = n->type == JG_Y_SEQ ? n->kids[i] : n;
        if (!parse_window(sv[i], &out->w[k], why, sizeof(why))) {
            jg_diags_add(x->d, x->file, at->line, at->col, "when '%s': %s",
                         sv[i], why);
            ok = false;
            continue;
        }
        k++;
    }
    out->n = k;
    jg_strv_free(sv);
    return ok;
}

void
jg_policy_when_free(struct pol_when *w)
{
    size_t i;

    for (i = 0; i < w->n; i++) {
        if (w->w[i].tz != NULL)
            g_time_zone_unref(w->w[i].tz);
    }
    g_free(w->w);
    w->w = NULL;
    w->n = 0;
}

/* Local wall-clock seconds for instant t. */
static int64_t
to_local(GTimeZone *tz, int64_t t)
{
    gint iv = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, t);

    return t + (iv >= 0 ? g_time_zone_get_offset(tz, iv) : 0);
}

/* The instant at which the local wall clock shows l (a time skipped by a
 * DST change is moved to the end of the gap). */
static int64_t
to_utc_as(GTimeZone *tz, int64_t l, GTimeType type)
{
    gint64 v = l;
    gint iv = g_time_zone_adjust_time(tz, type, &v);

    return v - (iv >= 0 ? g_time_zone_get_offset(tz, iv) : 0);
}

/* The first instant after `after` at which the wall clock shows l. When
 * the clock goes back a wall-clock time happens twice, and the earlier one
 * still to come counts; a time skipped by the clock going forward is the
 * end of the gap. */
static int64_t
to_utc(GTimeZone *tz, int64_t l, int64_t after)
{
    int64_t a = to_utc_as(tz, l, G_TIME_TYPE_STANDARD);
    int64_t b = to_utc_as(tz, l, G_TIME_TYPE_DAYLIGHT);
    bool a_ok = to_local(tz, a) == l && a > after;
    bool b_ok = to_local(tz, b) == l && b > after;

    if (a_ok && b_ok)
        return a < b ? a : b;
    if (a_ok)
        return a;
    if (b_ok)
        return b;
    return a > b ? a : b;
}

static int64_t
floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Monday = 0; 1970-01-01 was a Thursday. */
static int
weekday(int64_t localday)
{
    return (int)(((localday + 3) % 7 + 7) % 7);
}

static bool
has_day(const struct pol_window *w, int64_t localday)
{
    return (w->days >> weekday(localday)) & 1u;
}

/* Whether t is inside w; if so, *end is the local time the stretch ends. */
static bool
window_at(const struct pol_window *w, int64_t t, int64_t *end_local)
{
    int64_t l = to_local(w->tz, t), day = floordiv(l, DAY), sod = l - day * DAY;

    if (w->start < w->end) {
        if (has_day(w, day) && sod >= w->start * 60 && sod < w->end * 60) {
            *end_local = day * DAY + w->end * 60;
            return true;
        }
        return false;
    }
    /* overnight: from start on a listed day to end on the next day */
    if (has_day(w, day) && sod >= w->start * 60) {
        *end_local = (day + 1) * DAY + w->end * 60;
        return true;
    }
    if (has_day(w, day - 1) && sod < w->end * 60) {
        *end_local = day * DAY + w->end * 60;
        return true;
    }
    return false;
}

bool
jg_policy_when_contains(const struct pol_when *w, int64_t t)
{
    size_t i;
    int64_t e;

    if (w->n == 0)
        return true;
    for (i = 0; i < w->n; i++) {
        if (window_at(&w->w[i], t, &e))
            return true;
    }
    return false;
}

int64_t
jg_policy_when_end(const struct pol_when *w, int64_t t)
{
    int64_t cur = t;
    int guard;

    if (w->n == 0)
        return JG_TIME_NEVER;
    for (guard = 0; guard < 1000; guard++) {
        int64_t best = cur, e;
        size_t i;
        bool in = false;

        for (i = 0; i < w->n; i++) {
            if (window_at(&w->w[i], cur, &e)) {
                int64_t u = to_utc(w->w[i].tz, e, cur);
                if (u > best)
                    best = u;
                in = true;
            }
        }
        if (!in || best <= cur)
            return cur;
        cur = best;
        if (cur - t > LOOKAHEAD)
            return JG_TIME_NEVER;
    }
    return cur;
}

int64_t
jg_policy_when_next_start(const struct pol_when *w, int64_t t)
{
    int64_t best = JG_TIME_NEVER;
    size_t i;

    for (i = 0; i < w->n; i++) {
        const struct pol_window *win = &w->w[i];
        int64_t day = floordiv(to_local(win->tz, t), DAY), k;

        for (k = -1; k <= 8; k++) {
            int64_t u;
            if (!has_day(win, day + k))
                continue;
            u = to_utc(win->tz, (day + k) * DAY + win->start * 60, t);
            if (u > t) {
                if (u < best)
                    best = u;
                break;
            }
        }
    }
    return best;
}
